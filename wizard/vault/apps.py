from django.apps import AppConfig


class VaultConfig(AppConfig):
    name = "wizard.vault"
    label = "vault"
    verbose_name = "Secrets vault"
