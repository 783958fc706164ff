from django.core.management import call_command
from django.core.management.base import BaseCommand

from wizard.vault import store


class Command(BaseCommand):
    help = "Delete expired secrets and sessions (run from cron, e.g. every 5 minutes)."

    def handle(self, *args, **options):
        deleted = store.purge_expired()
        call_command("clearsessions")
        self.stdout.write(f"vault: {deleted} expired secrets deleted")
