from datetime import timedelta

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone

from wizard.flow import services
from wizard.flow.models import RateCounter
from wizard.vault import store


class Command(BaseCommand):
    help = (
        "Delete expired secrets, spent rate-limit counters, expired sessions, setups past their retention "
        "(with their tests, notes and hand-on links), hand-on links long expired "
        "and the audit of agents' accesses past its own (purge_audit). Run it "
        "from cron every few minutes."
    )

    def handle(self, *args, **options):
        now = timezone.now()
        secrets = store.purge_expired(now)
        counters, _ = RateCounter.objects.filter(expires_at__lte=now).delete()
        call_command("clearsessions")
        setups = services.purge_old_setups(now - timedelta(days=settings.PORTAL_SETUP_RETENTION_DAYS))
        links = services.purge_old_hand_on_links(now - timedelta(days=settings.PORTAL_HAND_ON_DAYS))
        self.stdout.write(
            f"purged: {secrets} expired secrets, {counters} spent rate-limit counters, {setups} setups "
            f"older than {settings.PORTAL_SETUP_RETENTION_DAYS} days, {links} hand-on links expired more "
            f"than {settings.PORTAL_HAND_ON_DAYS} days ago"
        )
        # The console keeps the audit; it is named here, not imported (the console depends on the flow).
        call_command("purge_audit", stdout=self.stdout)
