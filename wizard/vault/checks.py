from django.conf import settings
from django.core.checks import Error, Warning, register
from django.core.exceptions import ImproperlyConfigured

from . import crypto


@register("vault")
def vault_keys_readable(app_configs, **kwargs):
    """A keyring the vault can't read would fail every credential save: said when the server is checked
    (every manage.py command, migrate on deploy included), not at the first customer's save."""
    if not settings.PORTAL_VAULT_KEYS:
        return []
    try:
        crypto.parse_keyring(settings.PORTAL_VAULT_KEYS)
    except ImproperlyConfigured as problem:
        return [
            Error(
                f"PORTAL_VAULT_KEYS can't be read: {problem}.",
                hint="See docs/security.md, 'Key rotation'.",
                id="vault.E001",
            )
        ]
    return []


@register("vault", deploy=True)
def vault_keys_configured(app_configs, **kwargs):
    if settings.PORTAL_VAULT_KEYS:
        return []
    return [
        Warning(
            "The secrets vault uses a development key generated into a local file.",
            hint="Set PORTAL_VAULT_KEYS (see docs/operations.md) from your secret store.",
            id="vault.W001",
        )
    ]
