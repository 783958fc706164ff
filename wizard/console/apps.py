from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ConsoleConfig(AppConfig):
    name = "wizard.console"
    label = "console"
    verbose_name = "Support console"

    def ready(self):
        from . import signin  # noqa: F401  (connects note_when_signed_in to user_logged_in)


class VerifiedAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with a site that asks for a second factor (settings.INSTALLED_APPS names it)."""

    # Not a candidate when Django picks this module's config for "wizard.console": ConsoleConfig is.
    default = False
    default_site = "wizard.console.admin_site.VerifiedAdminSite"
