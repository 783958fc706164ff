"""Load the platform catalog (a data file in this repo) into the database. Safe to run again."""

import json
import re
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation

from wizard.clickatell.signatures import Signature

from . import instructions, snippets
from .instructions import default_body
from .models import InstructionTemplate, Platform, Snippet

DATA_FILE = Path(__file__).with_name("data") / "platforms.json"

# Names customers use that the catalog's own names don't contain.
ALIASES = {
    "home-assistant-clickatell": "hass, homeassistant, ha",
    "woocommerce-apg-sms-v3": "woo, wordpress, apg",
    "woocommerce-apg-sms-legacy": "woo, wordpress, apg, branded-sms, mezco",
    "wp-sms-pro": "wordpress, wp sms",
    "vtiger-smsnotifier-clickatell": "yetiforce, corebos, defalto, salesplatform, f-revocrm",
    "privacyidea-http-provider": "edumfa, privacy idea",
    "rapidpro-textit": "textit, rapid pro, temba",
    "nextcloud-twofactor-clickatell-portal": "owncloud, 2fa, two factor",
    "nextcloud-twofactor-clickatell-central": "owncloud, 2fa, two factor",
    "zabbix-sms-client": "zabbix alert script",
    "librenms": "observium, libre nms",
}


class CatalogError(ValueError):
    """The data file holds a text the admin would refuse; nothing of the file is loaded."""


_UNENCODED = re.compile(
    r"not URL-(encod|escap)|without URL-encod|not escaped|special characters in the password", re.IGNORECASE
)


def platform_fields(entry: dict) -> dict:
    text = f"{entry.get('notes', '')} {entry.get('endpoint', '')}"
    return {
        "name": entry["name"],
        "category": entry["category"],
        "signature": Signature(entry["signature"]).value,
        "field_labels": entry["field_labels"],
        "key_field": entry["key_field"],
        "what_to_enter": entry["what_to_enter"],
        "settings_path": entry["settings_path"],
        "endpoint": entry.get("endpoint", ""),
        "notes": entry.get("notes", ""),
        "workaround_blocked": entry.get("workaround_blocked", ""),
        "sends_credentials_unencoded": bool(_UNENCODED.search(text)),
        "uses_session_login": "/http/auth" in entry.get("endpoint", ""),
        "source": entry.get("source", ""),
        "translations": entry.get("translations", {}),
        "aliases": ALIASES.get(entry["slug"], ""),
    }


def entry_problems(entry: dict) -> list[str]:
    """What the admin would refuse in an entry's own instructions and snippets: a text published here is
    shown to customers as it is, with no draft or preview before it."""
    problems = []
    if entry.get("instructions"):  # without its own, the entry gets its signature's usual steps
        problems += [
            f"its instructions: {problem}" for problem in instructions.validate(entry["instructions"])
        ]
    for snippet in entry.get("snippets", []):
        problems += [
            f"its snippet “{snippet['title']}”: {problem}"
            for problem in snippets.validate(snippet["body"], snippet["format"])
        ]
    return [f"{entry['name']} ({entry['slug']}), {problem.rstrip('.')}." for problem in problems]


@transaction.atomic
def load_catalog(path: Path = DATA_FILE) -> int:
    """Add the file's platforms that are missing. Existing ones are left as staff edited them. Raises
    CatalogError, loading nothing, for a file with an entry the admin would refuse."""
    entries = json.loads(path.read_text())
    refused = [problem for entry in entries for problem in entry_problems(entry)]
    if refused:
        raise CatalogError(
            f"{path.name} was not loaded. Fix these entries first:\n" + "\n".join(f"- {p}" for p in refused)
        )
    created = 0
    for entry in entries:
        fields = platform_fields(entry)
        platform, was_created = Platform.objects.get_or_create(slug=entry["slug"], defaults=fields)
        created += was_created
        if not platform.translations and fields["translations"]:
            # A platform loaded before its texts had other languages gets them; staff's own are kept.
            platform.translations = fields["translations"]
            platform.save(update_fields=["translations", "updated_at"])
        # A platform whose boxes don't fit its signature's usual steps carries its own in the file (in
        # English only: the wizard falls back to it, with a note, and the admin lists what is missing).
        own = entry.get("instructions")
        for language in [settings.LANGUAGE_CODE] if own else _languages():
            if not platform.instruction_templates.filter(language=language).exists():
                with translation.override(language):
                    body = own or default_body(platform.signature)
                _publish_default(platform=platform, signature="", language=language, body=body)
        if not platform.snippets.exists():
            # Apps set up in a file, URL, DSN or command line carry their snippets in the file.
            for position, snippet in enumerate(entry.get("snippets", [])):
                Snippet.objects.create(
                    platform=platform,
                    position=position,
                    version=1,
                    status=Snippet.PUBLISHED,
                    published_at=timezone.now(),
                    created_by="catalog loader",
                    **snippet,
                )
    for signature in Signature:
        for language in _languages():
            generic = InstructionTemplate.objects.filter(
                platform=None, signature=signature.value, language=language
            )
            if not generic.exists():
                with translation.override(language):
                    body = default_body(signature.value)
                _publish_default(platform=None, signature=signature.value, language=language, body=body)
    return created


def _languages() -> list[str]:
    return [code for code, _ in settings.LANGUAGES]


def _publish_default(**fields) -> None:
    InstructionTemplate.objects.create(
        version=1,
        status=InstructionTemplate.PUBLISHED,
        published_at=timezone.now(),
        created_by="catalog loader",
        **fields,
    )
