from django.conf import settings
from django.db import models

from wizard.flow.models import Setup


class AgentNote(models.Model):
    setup = models.ForeignKey(Setup, on_delete=models.CASCADE, related_name="agent_notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    text = models.TextField(max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("use_console", "Can follow and help customers' setups in the support console")]

    def __str__(self):
        return f"{self.setup.reference}: {self.text[:40]}"


class SetupAccess(models.Model):
    """Audit: every time an agent opens, changes or creates a setup.

    Kept for PORTAL_AUDIT_RETENTION_DAYS, longer than setups are: the reference code says which setup
    it was after the setup itself is deleted."""

    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    setup = models.ForeignKey(
        Setup, null=True, blank=True, on_delete=models.SET_NULL, related_name="agent_accesses"
    )
    reference = models.CharField(max_length=9)
    action = models.CharField(max_length=40)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at"]
        verbose_name_plural = "setup accesses"

    def __str__(self):
        return f"{self.agent} {self.action} {self.reference} at {self.at:%Y-%m-%d %H:%M}"
