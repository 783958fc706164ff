from django.contrib import admin

from .models import SetupAccess


@admin.register(SetupAccess)
class SetupAccessAdmin(admin.ModelAdmin):
    """The audit log: read-only for staff."""

    list_display = ["at", "agent", "reference", "action"]
    list_filter = ["action"]
    search_fields = ["reference", "agent__username"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
