from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "wizard.console"
    label = "console"
    verbose_name = "Support console"
