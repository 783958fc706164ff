from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone

from wizard.flow.models import RateCounter
from wizard.vault import store


class Command(BaseCommand):
    help = "Delete expired secrets, spent rate-limit counters and expired sessions (run from cron every few minutes)."

    def handle(self, *args, **options):
        secrets = store.purge_expired()
        counters, _ = RateCounter.objects.filter(expires_at__lte=timezone.now()).delete()
        call_command("clearsessions")
        self.stdout.write(f"purged: {secrets} expired secrets, {counters} spent rate-limit counters")
