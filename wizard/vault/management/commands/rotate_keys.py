from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from wizard.vault import crypto, store


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret under the newest vault key (the first in PORTAL_VAULT_KEYS). "
        "Run it after putting a new key first; once it reports nothing left on old keys, retire them."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--new-key", metavar="ID", help="only print a new key entry with this id, and exit"
        )

    def handle(self, *args, new_key=None, **options):
        if new_key:
            if new_key != new_key.strip() or ":" in new_key or "," in new_key:
                # The keyring is "id:key,id:key": such an id would be read as another one, or as none.
                raise CommandError("a vault key id has no ':' or ',' in it and no spaces around it")
            spec = crypto.new_key_spec(new_key)
            try:
                crypto.parse_keyring(spec)  # an entry the keyring would refuse is never handed out
            except ImproperlyConfigured as refused:
                raise CommandError(str(refused)) from None
            self.stdout.write(spec)
            return
        rotated, unreadable = store.rotate_keys()
        self.stdout.write(f"vault: {rotated} secrets re-encrypted under key {crypto.keyring().active_id!r}")
        if unreadable:
            raise CommandError(
                f"{unreadable} secrets could not be decrypted with any configured key; they were left as they are"
            )
