"""Staff-written setup instructions in a deliberately tiny template language.

A template is plain text, one step per line; a line starting with "! " is a warning. The only
markup is a placeholder, ``{{ name }}``, for a fixed list of names. There are no tags, filters,
attribute lookups or HTML: Django's own template language is not safe for untrusted authors (it
reads any attribute of any context object), so staff get placeholders and nothing else. Values are
plain strings, and the page escapes everything when it renders the steps.
"""

import re
from dataclasses import dataclass

from django.utils.translation import gettext, gettext_noop

PORTAL_PATH = "My Workspace → API Integrations → select the API → API Details"

VARIABLES = {
    "app_name": "The app's name",
    "settings_path": "Where the app's Clickatell settings live",
    "portal_path": "Where the API Key is shown in the Clickatell Portal",
    "integration_type": "The Portal integration type the app needs (HTTP, REST or One API)",
    "key_label": "The app's label for the box that takes the API Key",
    "username_label": "The app's label for the username box",
    "password_label": "The app's label for the password box",
    "username": "The customer's Account username",
    "password_hint": "Names the Account Password without showing it",
    "api_key_hint": "Names the API Key by its last characters without showing it",
    "reference": "The setup's reference code",
}

# Staff's placeholder syntax, "{{ name }}", the same in instruction templates and snippets (snippets.py).
PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}")
PLACEHOLDER_NAME = re.compile(r"^\s*([a-z_]+)\s*$")
_FORBIDDEN = (
    ("{%", "tags ({% … %}) are not allowed"),
    ("{#", "comments ({# … #}) are not allowed"),
)
# A tag, a comment or a closing tag; "port < 1024" is plain text (and shown escaped, like every value).
_HTML = re.compile(r"<[A-Za-z!/?]")


class TemplateError(ValueError):
    pass


@dataclass(frozen=True)
class Step:
    text: str
    warning: bool = False


def validate(body: str) -> list[str]:
    """Every problem with a template, in words for the staff member who wrote it; [] means valid."""
    problems = [message for token, message in _FORBIDDEN if token in body]
    if _HTML.search(body):
        problems.append("HTML is not allowed; write plain text")
    for match in PLACEHOLDER.finditer(body):
        name = PLACEHOLDER_NAME.match(match.group(1))
        if not name:
            problems.append(
                f"“{match.group(0)}” is not a placeholder: use a plain name such as {{{{ app_name }}}}."
            )
        elif name.group(1) not in VARIABLES:
            problems.append(
                f"Unknown placeholder “{match.group(0)}”. Allowed: {', '.join(sorted(VARIABLES))}."
            )
    leftover = PLACEHOLDER.sub("", body)
    if "{{" in leftover or "}}" in leftover:
        problems.append("A placeholder is not closed: every “{{” needs a matching “}}”.")
    if not any(line.strip() for line in body.splitlines()):
        problems.append("The template has no steps.")
    return problems


def render(body: str, values: dict[str, str]) -> list[Step]:
    """The steps with placeholders filled in. Raises TemplateError for a template that fails validation."""
    problems = validate(body)
    if problems:
        raise TemplateError("; ".join(problems))
    missing = set(VARIABLES) - set(values)
    if missing:
        raise TemplateError(f"values missing for {', '.join(sorted(missing))}")
    steps = []
    for line in body.splitlines():
        line = line.strip()
        if not line:
            continue
        warning = line.startswith("! ")
        text = PLACEHOLDER.sub(lambda m: str(values[m.group(1).strip()]), line.removeprefix("! "))
        steps.append(Step(text=text, warning=warning))
    return steps


def sample_values(app_name: str = "Example App") -> dict[str, str]:
    """What a preview shows in place of a customer's values (in the active language, like the wizard's)."""
    return {
        "app_name": app_name,
        "settings_path": "Settings → SMS → Clickatell",
        "portal_path": PORTAL_PATH,
        "integration_type": "HTTP",
        "key_label": "API Key",
        "username_label": "Username",
        "password_label": "Password",
        "username": "jane.smith",
        "password_hint": gettext("your Account Password"),
        "api_key_hint": gettext("your API Key (ending …%(end)s)") % {"end": "Xy=="},
        "reference": "PS-ABCD-2345",
    }


# The default templates, one line (one step) at a time, so each line is translated on its own in the
# gettext catalogs; load_catalog publishes a version in every language (default_body under
# translation.override). Translators keep the {{ placeholders }} as they are.
_OPEN_SETTINGS = gettext_noop("Open {{ app_name }}'s Clickatell settings: {{ settings_path }}.")
_SAVE_AND_TRY = gettext_noop("Save the settings, then send a test message from {{ app_name }} itself.")
_LEGACY_BOXES = [
    gettext_noop("In “{{ username_label }}”, enter your Account username: {{ username }}."),
    gettext_noop("In “{{ password_label }}”, enter {{ password_hint }}."),
    gettext_noop(
        "In “{{ key_label }}”, paste {{ api_key_hint }}. Yes: the API Key goes in the API ID box. This is "
        "Clickatell's documented way for apps that only have an API ID box."
    ),
]

DEFAULT_LINES = {
    "platform": [
        gettext_noop(
            "In the Clickatell Portal, open {{ portal_path }} and check the integration's type is "
            "{{ integration_type }}."
        ),
        _OPEN_SETTINGS,
        gettext_noop(
            "In “{{ key_label }}”, paste {{ api_key_hint }}. Copy it from the Portal, whole, with no spaces."
        ),
        _SAVE_AND_TRY,
    ],
    "legacy_http": [
        _OPEN_SETTINGS,
        *_LEGACY_BOXES,
        _SAVE_AND_TRY,
        "! "
        + gettext_noop(
            "Your old API ID (a short number) does not work with Portal credentials: don't use it."
        ),
    ],
    "smtp": [
        _OPEN_SETTINGS,
        *_LEGACY_BOXES,
        _SAVE_AND_TRY,
        "! "
        + gettext_noop(
            "Your app sends its messages by e-mail. Our test checked the same credentials over Clickatell's "
            "HTTP gateway; if your app's own test fails, contact Clickatell support with reference "
            "{{ reference }}."
        ),
    ],
    "legacy_rest": [
        _OPEN_SETTINGS,
        gettext_noop("In “{{ key_label }}”, paste {{ api_key_hint }} in place of the old auth token."),
        _SAVE_AND_TRY,
        "! "
        + gettext_noop(
            "Clickatell's workaround for old apps does not cover auth tokens. If the test did not go through, "
            "upgrade the app to a version with an API Key box."
        ),
    ],
}


def default_body(signature: str) -> str:
    """The default template for a signature, in the active language."""
    kind = "platform" if signature in ("platform_http", "platform_rest", "one_api") else signature
    lines = []
    for line in DEFAULT_LINES[kind]:
        warning = line.startswith("! ")
        text = gettext(line.removeprefix("! "))
        lines.append(f"! {text}" if warning else text)
    return "\n".join(lines) + "\n"
