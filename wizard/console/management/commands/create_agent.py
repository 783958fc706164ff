import getpass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

GROUP = "Support agents"


def agents_group() -> Group:
    group, _ = Group.objects.get_or_create(name=GROUP)
    group.permissions.add(Permission.objects.get(codename="use_console", content_type__app_label="console"))
    return group


class Command(BaseCommand):
    help = "Create a support agent account (in the 'Support agents' group) for the console."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--password", help="omit to be asked (recommended: keeps it out of shell history)"
        )

    def handle(self, *args, username, email, password, **options):
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            raise CommandError(f"a user called {username!r} already exists")
        if password is None:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("the passwords differ")
        # The same rules as every other password here (AUTH_PASSWORD_VALIDATORS), said before anything is made.
        try:
            validate_password(password, User(username=username, email=email))
        except ValidationError as refused:
            raise CommandError(" ".join(refused.messages)) from None
        user = User.objects.create_user(username=username, email=email, password=password, is_staff=False)
        user.groups.add(agents_group())
        self.stdout.write(
            f"Agent {username!r} created. To enrol, sign in at /console/ with this password and scan the QR "
            "code shown with an authenticator app on your phone; then save the recovery codes shown once."
        )
