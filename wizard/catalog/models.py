from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from wizard.clickatell.signatures import Signature, choices

from .categories import category_name
from .snippets import FORMATS

# What a box in the app's settings form is for.
ROLE_KEY, ROLE_USERNAME, ROLE_PASSWORD, ROLE_OTHER = "key", "username", "password", "other"


class Platform(models.Model):
    """A real third-party app that sends SMS through Clickatell, in its own words."""

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=80)
    aliases = models.CharField(
        max_length=300, blank=True, help_text="Other names customers search for, comma-separated."
    )
    signature = models.CharField(max_length=20, choices=choices())
    field_labels = models.JSONField(
        default=list, help_text="The labels of the app's settings boxes, as shown."
    )
    key_field = models.CharField(max_length=200, help_text="The box that takes the Portal API Key.")
    what_to_enter = models.JSONField(default=dict, help_text="Box label → what goes in it.")
    settings_path = models.TextField(help_text="Where the settings live in the app.")
    endpoint = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    workaround_blocked = models.TextField(
        blank=True, help_text="Why the API Key cannot work in this app's API ID box, and what to do instead."
    )
    sends_credentials_unencoded = models.BooleanField(
        default=False, help_text="The app puts credentials into URLs without encoding them."
    )
    uses_session_login = models.BooleanField(
        default=False, help_text="The app logs in first (/http/auth) and then sends with a session id."
    )
    # The catalog's own words in the other languages (app names, box labels and menu paths are the app's own
    # and stay as it writes them): per language code, "what_to_enter" (box label → text) and
    # "workaround_blocked". What a language lacks is shown in English.
    translations = models.JSONField(
        default=dict,
        blank=True,
        help_text='Per language: {"fr": {"what_to_enter": {"Box label": "…"}, "workaround_blocked": "…"}}. '
        "What a language lacks is shown in English.",
    )
    source = models.TextField(blank=True)
    # When staff (or the loader) last changed the row.
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        """Staff type the JSON fields by hand in the admin: each must have the shape the wizard reads."""
        if self.translations is None:  # the admin's empty box
            self.translations = {}
        problems = {
            "field_labels": labels_problem(self.field_labels),
            "what_to_enter": texts_by_label_problem(self.what_to_enter),
            "translations": translations_problem(self.translations),
        }
        problems = {field: problem for field, problem in problems.items() if problem}
        if problems:
            raise ValidationError(problems)

    @property
    def category_name(self) -> str:
        """The category as customers read it, in the active language."""
        return category_name(self.category)

    @property
    def signature_enum(self) -> Signature:
        return Signature(self.signature)

    def field_roles(self, language: str = settings.LANGUAGE_CODE) -> list[tuple[str, str, str]]:
        """(label, role, what the catalog says goes in it, in ``language`` where it has that) for every box
        the app shows. The role is read from the English text."""
        roles = []
        labels = list(self.field_labels) + [k for k in self.what_to_enter if k not in self.field_labels]
        translated = self.translations.get(language, {}).get("what_to_enter", {})
        for label in labels:
            hint = self.what_to_enter.get(label, "")
            lowered = hint.lower()
            if "api key" in lowered or label == self.key_field:
                role = ROLE_KEY
            elif "account username" in lowered:
                role = ROLE_USERNAME
            elif "account password" in lowered:
                role = ROLE_PASSWORD
            else:
                role = ROLE_OTHER
            if hint or role != ROLE_OTHER:
                roles.append((label, role, translated.get(label, hint)))
        return roles

    def blocks_workaround(self, signature: str) -> bool:
        """Whether this app, sending with ``signature``, can't be given a Portal API Key: its API ID box
        mangles or refuses one (``workaround_blocked`` says how)."""
        return bool(self.workaround_blocked and signature and Signature(signature).needs_account_login)

    def workaround_blocked_in(self, language: str) -> str:
        return self.translations.get(language, {}).get("workaround_blocked") or self.workaround_blocked

    def untranslated_languages(self) -> list[str]:
        """The languages in which a text of ours that customers see (a box's "what goes in it", why the
        workaround cannot work) has no version, so is shown in English."""
        shown = [label for label, role, hint in self.field_roles() if role == ROLE_OTHER]
        missing = []
        for code, _ in settings.LANGUAGES:
            if code == settings.LANGUAGE_CODE:
                continue
            texts = self.translations.get(code, {})
            if any(label not in texts.get("what_to_enter", {}) for label in shown) or (
                self.workaround_blocked and not texts.get("workaround_blocked")
            ):
                missing.append(code)
        return missing

    def label_for(self, role: str, default: str) -> str:
        return next((label for label, r, _ in self.field_roles() if r == role), default)


def labels_problem(labels) -> str:
    if isinstance(labels, list) and all(isinstance(label, str) and label.strip() for label in labels):
        return ""
    return 'A list of the boxes\' labels, each in quotes: ["Username", "Password", "API ID"].'


def texts_by_label_problem(texts) -> str:
    if isinstance(texts, dict) and all(isinstance(text, str) for text in texts.values()):
        return ""
    return 'Each box\'s label and what goes in it, both in quotes: {"API ID": "API Key (workaround)"}.'


def translations_problem(translations) -> str:
    example = 'for example {"fr": {"what_to_enter": {"Sender": "…"}, "workaround_blocked": "…"}}'
    languages = [code for code, _ in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
    if not isinstance(translations, dict):
        return f"Texts per language, {example}."
    for code, texts in translations.items():
        if code not in languages:
            return f"“{code}” is not one of the site's other languages ({', '.join(languages)})."
        if not isinstance(texts, dict) or not set(texts) <= {"what_to_enter", "workaround_blocked"}:
            return f'“{code}” needs "what_to_enter", "workaround_blocked" or both, {example}.'
        problem = texts_by_label_problem(texts.get("what_to_enter", {}))
        if problem:
            return f"“{code}”: {problem}"
        if not isinstance(texts.get("workaround_blocked", ""), str):
            return f'“{code}”: "workaround_blocked" is one text, in quotes.'
    return ""


# The longest text a staff member can save: customers read these on a phone, and the catalog's own are a
# few hundred characters. The bound also keeps an edit's form within DATA_UPLOAD_MAX_MEMORY_SIZE (64 KiB)
# whatever its characters (at most nine bytes, percent-encoded, per character the box counts), so Django
# reads it.
LONGEST_TEXT = 7_000


class Versioned(models.Model):
    """Staff-written text that customers see, kept in numbered versions of one subject (what the text is
    for: see ``subject_filter``).

    Editing never changes a published version: saving a change makes a new draft version; publishing a
    draft makes it what customers see and retires the version it replaces (templates.py).
    """

    DRAFT, PUBLISHED, RETIRED = "draft", "published", "retired"

    version = models.PositiveIntegerField(default=1)
    status = models.CharField(
        max_length=10,
        default=DRAFT,
        choices=[(DRAFT, "Draft"), (PUBLISHED, "Published"), (RETIRED, "Retired")],
    )
    # Each kind declares its own ``body``: its help text says what the body is written in.
    created_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=150, blank=True)

    class Meta:
        abstract = True

    def subject_filter(self) -> dict:
        """The lookups that select every version of the same subject as this one."""
        raise NotImplementedError

    def versions(self) -> models.QuerySet:
        """Every version of this one's subject, this one included once it is saved."""
        return type(self).objects.filter(**self.subject_filter())


class InstructionTemplate(Versioned):
    """Staff-written setup steps: for one platform, or the generic text for a signature (unlisted apps).

    The wizard records which version each customer was shown.
    """

    platform = models.ForeignKey(
        Platform, null=True, blank=True, on_delete=models.CASCADE, related_name="instruction_templates"
    )
    signature = models.CharField(
        max_length=20,
        choices=choices(),
        blank=True,
        help_text="For a generic template (no platform): the signature it serves.",
    )
    # A version per language; the wizard falls back to English, with a note, where a language has none.
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE)
    body = models.TextField(
        max_length=LONGEST_TEXT, help_text="One step per line. Placeholders look like {{ app_name }}."
    )

    class Meta:
        ordering = ["platform__name", "signature", "language", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "signature", "language", "version"],
                name="one_version_number_per_language",
            ),
        ]

    def __str__(self):
        subject = self.platform.name if self.platform_id else f"generic {self.signature}"
        return f"{subject} [{self.language}] v{self.version} ({self.status})"

    def subject_filter(self) -> dict:
        """The same platform (or generic signature) and language."""
        if self.platform_id:
            return {"platform_id": self.platform_id, "language": self.language}
        return {"platform": None, "signature": self.signature, "language": self.language}


class Snippet(Versioned):
    """A staff-written, ready-to-paste piece of an app's configuration (a file, URL, DSN or command line)
    in the app's own syntax; its format decides how each placeholder's value is escaped (snippets.py).

    Its versions are those with the same platform and title.
    """

    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="snippets")
    title = models.CharField(
        max_length=120,
        help_text="Where it goes, as the app's docs name it: “.env”, “config.yml”, “Apprise URL”.",
    )
    format = models.CharField(max_length=12, choices=list(FORMATS.items()))
    position = models.PositiveSmallIntegerField(default=0, help_text="Order on the page (lowest first).")
    body = models.TextField(
        max_length=LONGEST_TEXT,
        help_text="The app's own syntax. Placeholders: {{ username }}, {{ password }}, {{ api_key }}.",
    )

    class Meta:
        ordering = ["platform__name", "position", "title", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "title", "version"], name="one_snippet_version_number"
            ),
        ]

    def __str__(self):
        return f"{self.platform.name}: {self.title} v{self.version} ({self.status})"

    def subject_filter(self) -> dict:
        return {"platform_id": self.platform_id, "title": self.title}
