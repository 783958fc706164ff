from django.apps import AppConfig


class ClickatellConfig(AppConfig):
    name = "wizard.clickatell"
    label = "clickatell"
    verbose_name = "Clickatell client and sandbox"
