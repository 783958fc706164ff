from django.apps import AppConfig


class VaultConfig(AppConfig):
    name = "wizard.vault"
    label = "vault"
    verbose_name = "Secrets vault"

    def ready(self):
        from . import checks  # noqa: F401 - registers the deploy check
