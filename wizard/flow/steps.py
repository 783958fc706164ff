"""The wizard's rules in plain Python: which step comes next, what each needs, what the answers mean.

Nothing here touches HTTP or the database, so tests drive it directly.
"""

import re
import unicodedata
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.debug import sensitive_variables

from wizard.clickatell.signatures import Signature

APP, FIELDS, CREDENTIALS, TEST, INSTRUCTIONS = "app", "fields", "credentials", "test", "instructions"
ORDER = [APP, FIELDS, CREDENTIALS, TEST, INSTRUCTIONS]
TITLES = {
    APP: gettext_lazy("Your app"),
    FIELDS: gettext_lazy("Its boxes"),
    CREDENTIALS: gettext_lazy("Your credentials"),
    TEST: gettext_lazy("Test send"),
    INSTRUCTIONS: gettext_lazy("Instructions"),
}
STEP_CHOICES = [(step, TITLES[step]) for step in ORDER]

# What the customer's app shows for Clickatell.
API_KEY_BOX, API_ID_BOXES, AUTH_TOKEN_BOX = "api_key", "api_id", "auth_token"
APP_FIELD_CHOICES = [
    (API_KEY_BOX, gettext_lazy("An API Key box (it may be called API Token, Token, Auth token or Key)")),
    (API_ID_BOXES, gettext_lazy("Only Username, Password and API ID boxes")),
    (AUTH_TOKEN_BOX, gettext_lazy("An “auth token” for Clickatell's old REST API (Developer Central)")),
]
# Labels shown for an unlisted app, in the words apps commonly use.
COMMON_LABELS = {
    API_KEY_BOX: ["API Key", "API Token", "Auth token"],
    API_ID_BOXES: ["Username", "Password", "API ID"],
    AUTH_TOKEN_BOX: ["Auth token", "Access token"],
}
PORTAL_INTEGRATIONS = [Signature.PLATFORM_HTTP, Signature.PLATFORM_REST, Signature.ONE_API]

USERNAME, PASSWORD, API_KEY = "username", "password", "api_key"


def app_fields_of(signature: Signature) -> str:
    """What a catalog app's signature says its settings form shows."""
    if signature.portal_native:
        return API_KEY_BOX
    if signature is Signature.LEGACY_REST:
        return AUTH_TOKEN_BOX
    return API_ID_BOXES


def signature_for(app_fields: str, catalog_signature: str = "", portal_integration: str = "") -> Signature:
    """The signature the app will use, from the boxes it shows.

    Where the catalog knows the app and the customer confirms its boxes, the catalog's signature
    stands (it knows, say, that an app with an API Key box sends to the REST endpoint). Otherwise an
    API Key box means the Portal API the customer's integration was made for, and Username /
    Password / API ID boxes mean the old signature with the workaround.
    """
    if catalog_signature and app_fields_of(Signature(catalog_signature)) == app_fields:
        return Signature(catalog_signature)
    if app_fields == API_KEY_BOX:
        if portal_integration not in {s.value for s in PORTAL_INTEGRATIONS}:
            raise ValueError("an API Key app needs the Portal integration type")
        return Signature(portal_integration)
    if app_fields == AUTH_TOKEN_BOX:
        return Signature.LEGACY_REST
    if app_fields == API_ID_BOXES:
        return Signature.LEGACY_HTTP
    raise ValueError(f"unknown app fields {app_fields!r}")


def chose_other_boxes(signature: str, catalog_signature: str) -> bool:
    """Whether a catalog app's setup was said to show other boxes than the catalog's. Its boxes step then
    asks about the boxes chosen: confirming the catalog's would change the signature, and so drop the
    credentials and the test that passed with them."""
    return bool(signature and catalog_signature) and signature != catalog_signature


def fields_needed(signature: Signature) -> list[str]:
    if signature.needs_account_login:
        return [USERNAME, PASSWORD, API_KEY]
    return [API_KEY]


@dataclass(frozen=True)
class Progress:
    """What a setup has so far, as far as step order cares."""

    app_chosen: bool = False
    signature: str = ""
    # The app can't take a Portal API Key with this signature (the catalog knows its API ID box mangles
    # one): no credentials are asked for, so no test can wrongly pass and no instructions say it works.
    workaround_blocked: bool = False
    credentials_given: bool = False
    secrets_held: bool = False


def requirement_missing(progress: Progress, step: str) -> str | None:
    """The earliest step that must be done before ``step``, or None when ``step`` may be shown."""
    workable = progress.signature and not progress.workaround_blocked
    needs = {
        APP: None,
        FIELDS: APP if not progress.app_chosen else None,
        CREDENTIALS: FIELDS if not workable else None,
        TEST: CREDENTIALS if not (workable and progress.secrets_held) else None,
        INSTRUCTIONS: CREDENTIALS if not (workable and progress.credentials_given) else None,
    }
    missing = needs[step]
    if missing is None:
        return None
    return requirement_missing(progress, missing) or missing


def step_allowed(progress: Progress, step: str) -> str:
    """``step`` itself when it may be shown, else the step the customer must finish first."""
    return requirement_missing(progress, step) or step


def next_step(step: str) -> str:
    return ORDER[min(ORDER.index(step) + 1, len(ORDER) - 1)]


def reached(progress: Progress) -> list[str]:
    """The steps a customer may go back to, for the progress bar."""
    return [step for step in ORDER if requirement_missing(progress, step) is None]


# --- checking what the customer typed ---------------------------------------------------------------

_OLD_API_ID = re.compile(r"^\d{1,7}$")
_KEY_CHARACTERS = re.compile(r"^[A-Za-z0-9_\-+/]+=*$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SPACE = re.compile(r"\s")
# Characters an app that glues credentials into a URL without encoding will mangle.
URL_RESERVED = set("&#+%? ")


# The usual mistakes the credentials form catches, by a short name the insights count them under (never
# with what was typed), and as support reads them.
MISTAKES = {
    "username_empty": "No Account username given",
    "username_email": "An e-mail address as the username",
    "username_space": "A space inside the username",
    "username_is_key": "An API Key pasted as the username",
    "username_is_password": "The same text as username and password",
    "password_empty": "No Account password given",
    "password_is_key": "The API Key pasted as the password",
    "key_empty": "No API Key given",
    "key_space": "A space or line break inside the API Key",
    "key_old_api_id": "The old numeric API ID pasted as the API Key",
    "key_characters": "Characters no API Key has",
    "key_short": "An API Key cut short",
    "key_is_username": "The Account username pasted as the API Key",
    "key_is_password": "The Account password pasted as the API Key",
    "key_bearer": "“Bearer” pasted before the API Key",
}


@dataclass
class CredentialCheck:
    cleaned: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    mistakes: list[str] = field(default_factory=list)  # MISTAKES' names, one per error

    def refuse(self, name: str, mistake: str, message: str) -> None:
        self.errors[name] = message
        self.mistakes.append(mistake)

    @property
    def ok(self) -> bool:
        return not self.errors


@sensitive_variables()
def check_credentials(signature: Signature, values: dict[str, str]) -> CredentialCheck:
    """Catch the usual mistakes, each with a message that says what to do."""
    check = CredentialCheck()
    needed = fields_needed(signature)
    # Invisible marks copied along with a username or a key are not part of it; a password is taken
    # exactly as typed.
    username = without_invisible_marks(values.get(USERNAME, ""))
    key = without_invisible_marks(values.get(API_KEY, ""))
    password = values.get(PASSWORD, "")
    if USERNAME in needed:
        _check_username(username, check)
    if PASSWORD in needed:
        _check_password(password, key.strip(), check)
    if USERNAME in check.cleaned and check.cleaned[USERNAME] in (password, password.strip()):
        # One of the two boxes holds the other's text; which one can't be told, so the username box (the
        # first) says so, and the password never goes where a username is kept.
        del check.cleaned[USERNAME]
        check.refuse(
            USERNAME,
            "username_is_password",
            _(
                "The username and the password are the same. Enter your Account username here: the name you "
                "sign in to the Clickatell Portal with. The password goes in its own box."
            ),
        )
    _check_api_key(key, check, {USERNAME: username, PASSWORD: password} if USERNAME in needed else {})
    return check


def without_invisible_marks(text: str) -> str:
    """Text without format characters (a zero-width space, a byte-order mark, a direction mark), which a
    copy from a web page or a document brings along unseen."""
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


@sensitive_variables()
def _check_password(password: str, key: str, check: CredentialCheck) -> None:
    if not password:
        check.refuse(
            PASSWORD,
            "password_empty",
            _("Enter your Account password: the one you sign in to the Clickatell Portal with."),
        )
    elif password.strip() == key and _looks_like_a_key(key):
        check.refuse(
            PASSWORD,
            "password_is_key",
            _(
                "That is your API Key: it goes in its own box. Enter your Account password here: the one you "
                "sign in to the Clickatell Portal with."
            ),
        )
    else:
        check.cleaned[PASSWORD] = password


def _check_username(raw: str, check: CredentialCheck) -> None:
    username = raw.strip()
    if not username:
        check.refuse(
            USERNAME,
            "username_empty",
            _("Enter your Account username: the name you sign in to the Clickatell Portal with."),
        )
    elif _EMAIL.match(username):
        check.refuse(
            USERNAME,
            "username_email",
            _(
                "That is an e-mail address. Enter your Account username instead: in the Portal it is shown "
                "under your profile, and it has no “@”."
            ),
        )
    elif _looks_like_a_key(username):
        check.refuse(
            USERNAME,
            "username_is_key",
            _(
                "That looks like your API Key: it goes in its own box. Enter your Account username here: the "
                "name you sign in to the Clickatell Portal with."
            ),
        )
    elif _SPACE.search(username):
        check.refuse(
            USERNAME,
            "username_space",
            _("Usernames have no spaces. Check for a space in the middle and try again."),
        )
    else:
        check.cleaned[USERNAME] = username


def _looks_like_a_key(text: str) -> bool:
    """A Portal API Key's shape (about 24 key characters, ending with "="), which no username has."""
    return len(text) >= 20 and text.endswith("=") and bool(_KEY_CHARACTERS.match(text))


def _the_key_is() -> str:
    return _(
        "The API Key is a long code that usually ends with “==”: copy it from API Details in the Portal."
    )


@sensitive_variables()
def _check_api_key(raw: str, check: CredentialCheck, login: dict[str, str]) -> None:
    """``login``: the username and password typed on the same form, for an app that needs them."""
    key = raw.strip()
    password = login.get(PASSWORD) or ""
    if not key:
        check.refuse(
            API_KEY,
            "key_empty",
            _(
                "Enter your API Key. You find it in the Portal under My Workspace → API Integrations → "
                "select the API → API Details."
            ),
        )
        return
    if key == login.get(USERNAME, "").strip() and not _looks_like_a_key(key):
        # (A key pasted into both boxes: the username box says so, and this one is right.)
        said = _("That is your Account username.")
        check.refuse(API_KEY, "key_is_username", f"{said} {_the_key_is()}")
    elif password and key in (password, password.strip()) and not _looks_like_a_key(key):
        said = _("That is your Account password: it goes in its own box.")
        check.refuse(API_KEY, "key_is_password", f"{said} {_the_key_is()}")
    elif key.lower().startswith("bearer "):
        check.refuse(
            API_KEY,
            "key_bearer",
            _(
                "Leave out “Bearer” and the space after it: paste only the key itself, as the Portal shows it."
            ),
        )
    elif _SPACE.search(key):
        check.refuse(
            API_KEY,
            "key_space",
            _(
                "Your API Key has a space or line break in the middle. Copy it again from the Portal in one "
                "piece and paste it here."
            ),
        )
    elif _OLD_API_ID.match(key):
        check.refuse(
            API_KEY,
            "key_old_api_id",
            _(
                "That looks like your old API ID (a short number). The Portal gives you an API Key instead: "
                "a long code that usually ends with “==”. Copy it from API Details in the Portal."
            ),
        )
    elif not _KEY_CHARACTERS.match(key):
        check.refuse(
            API_KEY,
            "key_characters",
            _(
                "That doesn't look like an API Key: it has characters a key never contains. Copy the key "
                "again from API Details in the Portal."
            ),
        )
    elif len(key) < 20:
        check.refuse(
            API_KEY,
            "key_short",
            ngettext(
                "That is only %(length)d character; Portal API Keys are about 24. It looks cut short: copy "
                "the whole key, including the “==” at its end.",
                "That is only %(length)d characters; Portal API Keys are about 24. It looks cut short: copy "
                "the whole key, including the “==” at its end.",
                len(key),
            )
            % {"length": len(key)},
        )
    else:
        check.cleaned[API_KEY] = key
        if key != raw:
            check.notices.append(
                _(
                    "We removed spaces or line breaks from around your API Key. When you paste it into your "
                    "app, make sure none come along there either."
                )
            )


@sensitive_variables()
def key_hint(api_key: str) -> str:
    """What of the key may be shown again: its last four characters."""
    return api_key[-4:]


def mask_number(e164: str) -> str:
    """Enough for the customer and support to recognise the number, not enough to reuse it."""
    return f"{e164[:4]}…{e164[-3:]}" if len(e164) > 7 else "…"
