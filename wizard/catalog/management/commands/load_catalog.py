from django.core.management.base import BaseCommand

from wizard.catalog.loader import load_catalog


class Command(BaseCommand):
    help = "Load or refresh the platform catalog from the data file (safe to run again)."

    def handle(self, *args, **options):
        created = load_catalog()
        self.stdout.write(f"catalog: {created} platforms added")
