import json
import signal
import threading
from pathlib import Path

from django.core.management.base import BaseCommand

from wizard.clickatell.sandbox import DEMO_FIXTURE, Sandbox


class Command(BaseCommand):
    help = "Run the stand-in Clickatell server on loopback (for offline demos and manual testing)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8025)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument(
            "--accounts",
            type=Path,
            default=DEMO_FIXTURE,
            help="JSON fixture of accounts and switches (default: the demo account)",
        )

    def handle(self, *args, port, host, accounts, **options):
        fixture = json.loads(accounts.read_text())
        sandbox = Sandbox(fixture, host=host, port=port).start()
        self.stdout.write(f"Clickatell sandbox listening on {sandbox.url}")
        self.stdout.write("Point the wizard at it with:")
        self.stdout.write(f"  CLICKATELL_PLATFORM_URL={sandbox.url} CLICKATELL_GATEWAY_URL={sandbox.url}")
        for account in fixture.get("accounts", []):
            kinds = ", ".join(f"{kind} key {key}" for key, kind in account["integrations"].items())
            self.stdout.write(
                f"  account {account['username']!r} / password {account['password']!r}: {kinds}"
            )
        done = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: done.set())
        try:
            done.wait()
        except KeyboardInterrupt:
            pass
        sandbox.stop()
