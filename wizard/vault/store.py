"""Keep customer secrets as briefly as possible: put, read (only the test send does), forget, purge."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from . import crypto
from .crypto import SecretUnavailable
from .models import StoredSecret

__all__ = [
    "SecretUnavailable",
    "expiry_of",
    "forget",
    "live_secrets",
    "purge_expired",
    "put",
    "read_secrets",
    "rotate_keys",
    "seal",
]

log = logging.getLogger(__name__)


def default_ttl() -> timedelta:
    return timedelta(minutes=settings.PORTAL_SECRET_TTL_MINUTES)


@sensitive_variables()
def seal(owner: str, values: dict[str, str], ttl: timedelta | None = None) -> list[StoredSecret]:
    """The owner's secrets encrypted, as rows to put(). Sealing is kept apart from writing so that a
    caller can encrypt before it opens a transaction (on SQLite, that holds the database's write lock)."""
    expires_at = timezone.now() + (ttl or default_ttl())
    rows = []
    for field, value in values.items():
        sealed = crypto.seal(value, owner, field)
        rows.append(
            StoredSecret(
                owner=owner,
                field=field,
                key_id=sealed.key_id,
                nonce=sealed.nonce,
                ciphertext=sealed.ciphertext,
                expires_at=expires_at,
            )
        )
    return rows


def put(rows: list[StoredSecret]) -> None:
    """Store sealed secrets: each replaces its owner's earlier value of that field, and its expiry
    starts again."""
    StoredSecret.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["owner", "field"],
        update_fields=["key_id", "nonce", "ciphertext", "created_at", "expires_at"],
    )


def live_secrets():
    """The secrets not yet expired: an expired one is never used, even before the purge deletes it."""
    return StoredSecret.objects.filter(expires_at__gt=timezone.now())


def _live(owner: str):
    return live_secrets().filter(owner=owner)


def expiry_of(owner: str) -> datetime | None:
    return _live(owner).order_by("expires_at").values_list("expires_at", flat=True).first()


@sensitive_variables()
def _unseal(row: StoredSecret) -> str:
    return crypto.unseal(
        crypto.Sealed(row.key_id, bytes(row.nonce), bytes(row.ciphertext)), row.owner, row.field
    )


@sensitive_variables()
def read_secrets(owner: str, fields: list[str]) -> dict[str, str]:
    """The plaintexts of the fields still held (absent or expired ones are left out), in one query.
    Raises SecretUnavailable when one cannot be read."""
    values = {}
    for row in _live(owner).filter(field__in=fields):
        try:
            values[row.field] = _unseal(row)
        except SecretUnavailable:
            log.warning("vault: could not decrypt %s %s (key %s)", owner, row.field, row.key_id)
            raise
    return values


def forget(owner: str) -> int:
    """Delete every secret the owner holds; how many there were."""
    deleted, _ = StoredSecret.objects.filter(owner=owner).delete()
    return deleted


def purge_expired(now: datetime | None = None) -> int:
    deleted, _ = StoredSecret.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted


def rotate_keys(batch_size: int = 500) -> tuple[int, int]:
    """Re-encrypt every secret not under the active key. Returns (rotated, unreadable)."""
    active = crypto.keyring().active_id
    rotated = unreadable = 0
    last_pk = 0
    while True:
        batch = list(
            StoredSecret.objects.filter(pk__gt=last_pk).exclude(key_id=active).order_by("pk")[:batch_size]
        )
        if not batch:
            return rotated, unreadable
        for row in batch:
            last_pk = row.pk
            outcome = rotate(row)
            rotated += outcome == ROTATED
            unreadable += outcome == UNREADABLE


ROTATED, UNREADABLE, CHANGED_MEANWHILE = "rotated", "unreadable", "changed meanwhile"


@sensitive_variables()
def rotate(row: StoredSecret) -> str:
    """Re-encrypt one secret as it was read under the active key.

    Written only if the row still holds what was read (the same nonce: every sealing draws a new one),
    so a customer who saves this field while the rotation runs keeps what they saved, whichever key
    their server sealed it with; the rotation's next run takes it if it is still on an old key.
    """
    try:
        value = _unseal(row)
    except SecretUnavailable:
        return UNREADABLE
    sealed = crypto.seal(value, row.owner, row.field)
    swapped = StoredSecret.objects.filter(pk=row.pk, key_id=row.key_id, nonce=bytes(row.nonce)).update(
        key_id=sealed.key_id, nonce=sealed.nonce, ciphertext=sealed.ciphertext
    )
    return ROTATED if swapped else CHANGED_MEANWHILE
