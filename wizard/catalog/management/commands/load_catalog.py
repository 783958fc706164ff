from django.core.management.base import BaseCommand, CommandError

from wizard.catalog.loader import CatalogError, load_catalog


class Command(BaseCommand):
    help = "Load or refresh the platform catalog from the data file (safe to run again)."

    def handle(self, *args, **options):
        try:
            created = load_catalog()
        except CatalogError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"catalog: {created} platforms added")
