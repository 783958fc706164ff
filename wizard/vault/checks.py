from django.conf import settings
from django.core.checks import Warning, register


@register("vault", deploy=True)
def vault_keys_configured(app_configs, **kwargs):
    if settings.PORTAL_VAULT_KEYS:
        return []
    return [
        Warning(
            "The secrets vault uses a development key generated into a local file.",
            hint="Set PORTAL_VAULT_KEYS (see README: 'Production') from your secret store.",
            id="vault.W001",
        )
    ]
