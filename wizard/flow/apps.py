from django.apps import AppConfig


class FlowConfig(AppConfig):
    name = "wizard.flow"
    label = "flow"
    verbose_name = "Customer setups"
