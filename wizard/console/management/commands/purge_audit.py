from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from wizard.console import access


class Command(BaseCommand):
    help = (
        "Delete the audit of agents' accesses older than PORTAL_AUDIT_RETENTION_DAYS (purge_expired runs it)."
    )

    def handle(self, *args, **options):
        days = settings.PORTAL_AUDIT_RETENTION_DAYS
        deleted = access.purge_old_audit(timezone.now() - timedelta(days=days))
        self.stdout.write(f"purged: {deleted} audit records older than {days} days")
