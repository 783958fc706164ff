"""The flow's hand-written SQL that remembered pages and finding a setup share (see wizard/db.py for why
the hot paths skip the ORM).
"""

from django.db import connection
from django.utils import timezone

from wizard.db import table
from wizard.vault.models import StoredSecret

from .models import VAULT_OWNER_PREFIX


def live_secrets(one_field: bool = False) -> str:
    """A subquery: how many of setup ``s``'s secrets are unexpired (of one field, with ``one_field``).
    Its parameters come from live_secrets_params()."""
    of_field = " AND v.field = %s" if one_field else ""
    return (
        f"(SELECT COUNT(*) FROM {table(StoredSecret)} v "  # noqa: S608
        f"WHERE v.owner = %s || CAST(s.id AS VARCHAR(20)) AND v.expires_at > %s{of_field})"
    )


def live_secrets_params(field: str | None = None) -> list:
    """The parameters of live_secrets(), as of now; give the field when it was asked for one."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    return [VAULT_OWNER_PREFIX, now, *([field] if field else [])]
