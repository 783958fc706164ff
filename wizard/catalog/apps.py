from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "wizard.catalog"
    label = "catalog"
    verbose_name = "Platform catalog and instructions"
