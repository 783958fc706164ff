import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext

from wizard.catalog.models import InstructionTemplate, Platform
from wizard.clickatell.signatures import Signature, choices

from . import steps
from .references import new_reference

# Secrets in the vault belong to "setup:<id>" (services finds a setup's held secrets by that name too).
VAULT_OWNER_PREFIX = "setup:"


def new_token() -> str:
    return secrets.token_urlsafe(24)


class Setup(models.Model):
    """One customer's way through the wizard. Holds no secrets: those live, encrypted, in the vault."""

    # Unique by the constraints below, not unique=True: on PostgreSQL that adds a second index per field
    # for LIKE searches, which nothing here makes.
    token = models.CharField(max_length=64, default=new_token, editable=False)
    reference = models.CharField(max_length=9, default=new_reference, editable=False)
    platform = models.ForeignKey(Platform, null=True, blank=True, on_delete=models.SET_NULL, db_index=False)
    app_unlisted = models.BooleanField(default=False)
    app_fields = models.CharField(max_length=12, blank=True, choices=steps.APP_FIELD_CHOICES)
    portal_integration = models.CharField(max_length=20, blank=True)
    signature = models.CharField(max_length=20, blank=True, choices=choices())
    username = models.CharField(max_length=150, blank=True)
    api_key_hint = models.CharField(max_length=8, blank=True)
    password_has_reserved_chars = models.BooleanField(default=False)
    step = models.CharField(max_length=20, default=steps.APP, choices=steps.STEP_CHOICES)
    # Where a support agent asked the customer to go; the customer's next page load takes them there.
    agent_requested_step = models.CharField(max_length=20, blank=True, choices=steps.STEP_CHOICES)
    # The latest test send's status, kept here so the console can filter thousands of setups by it.
    last_outcome = models.CharField(max_length=10, blank=True)
    credentials_saved_at = models.DateTimeField(null=True, blank=True)
    test_passed_at = models.DateTimeField(null=True, blank=True)
    delivery_confirmed = models.BooleanField(null=True)
    # One test send per rendered form: a double-click or a replayed POST finds the token gone.
    send_token = models.CharField(max_length=64, blank=True)
    instructions_shown = models.ForeignKey(
        InstructionTemplate, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_by_agent = models.CharField(max_length=150, blank=True)
    # The language the customer reads the wizard in: their browser's when the setup started, then their
    # choice. The setup's pages, its resume link and its test SMS use it; the console shows it.
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE)
    # When each step of the way was first reached, for the console's insights (console/insights.py).
    # Set once and never cleared: the columns above say where a setup is now, these how far it ever got.
    app_chosen_at = models.DateTimeField(null=True, blank=True)
    fields_confirmed_at = models.DateTimeField(null=True, blank=True)
    credentials_first_saved_at = models.DateTimeField(null=True, blank=True)
    first_test_sent_at = models.DateTimeField(null=True, blank=True)
    first_accepted_at = models.DateTimeField(null=True, blank=True)
    arrival_confirmed_at = models.DateTimeField(null=True, blank=True)
    instructions_opened_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            models.UniqueConstraint(fields=["token"], name="setup_token_unique"),
            models.UniqueConstraint(fields=["reference"], name="setup_reference_unique"),
        ]
        # The console lists setups newest first under one filter at a time; each of these lets the
        # database walk the filter in date order and stop after a page, however many setups exist.
        # They are the only indexes on the filtered columns: every answer's UPDATE sets updated_at, so
        # it writes an entry in every index the table has.
        indexes = [
            models.Index(fields=["step", "-updated_at"], name="setup_step_recent"),
            models.Index(fields=["last_outcome", "-updated_at"], name="setup_outcome_recent"),
            models.Index(fields=["signature", "-updated_at"], name="setup_signature_recent"),
            models.Index(fields=["platform", "-updated_at"], name="setup_platform_recent"),
        ]

    def __str__(self):
        return self.reference

    @property
    def vault_owner(self) -> str:
        return f"{VAULT_OWNER_PREFIX}{self.pk}"

    @property
    def signature_enum(self) -> Signature | None:
        return Signature(self.signature) if self.signature else None

    @property
    def app_name(self) -> str:
        return self.platform.name if self.platform else gettext("your app")

    @property
    def app_chosen(self) -> bool:
        return self.platform_id is not None or self.app_unlisted


class TestAttempt(models.Model):
    """One live test send. Written before the call and again after it, so a crash leaves a trace."""

    PENDING, ACCEPTED, REJECTED, FAILED = "pending", "accepted", "rejected", "failed"
    __test__ = False  # a domain name, not a pytest class

    setup = models.ForeignKey(Setup, on_delete=models.CASCADE, related_name="attempts")
    signature = models.CharField(max_length=20, choices=choices())
    destination_masked = models.CharField(max_length=32)
    status = models.CharField(max_length=10, default=PENDING)
    message_id = models.CharField(max_length=64, blank=True)
    error_code = models.CharField(max_length=16, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    diagnosis_key = models.CharField(max_length=40, blank=True)
    detail = models.CharField(max_length=300, blank=True, help_text="Technical detail for support agents.")
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    delivery = models.CharField(max_length=12, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self):
        return f"{self.setup.reference} {self.signature} {self.status}"


class CredentialMistake(models.Model):
    """One usual mistake the credentials form caught (steps.MISTAKES), for the console's insights: which
    mistake and when, never what was typed."""

    setup = models.ForeignKey(Setup, on_delete=models.CASCADE, related_name="credential_mistakes")
    mistake = models.CharField(max_length=20, choices=list(steps.MISTAKES.items()))
    at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.setup.reference} {self.mistake}"


class RateCounter(models.Model):
    """One limit's count in one time window (see limits.py); rows expire with their window."""

    key = models.CharField(max_length=120)
    window = models.BigIntegerField()
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "window"], name="one_counter_per_window")]

    def __str__(self):
        return f"{self.key} @{self.window}: {self.count}"


class HandOnLink(models.Model):
    """A read-only link to a setup's instructions, for the colleague who configures the app. Whoever has
    it sees the steps and snippets (placeholders, never a secret) until it expires or is revoked; it
    cannot change the setup, send a test or reach the credentials."""

    setup = models.ForeignKey(Setup, on_delete=models.CASCADE, related_name="hand_on_links")
    # A bearer credential like the setup's own token: kept out of logs (vault/redaction.py).
    token = models.CharField(max_length=64, default=new_token, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["token"], name="hand_on_token_unique")]

    def __str__(self):
        return f"{self.setup.reference} hand-on link {self.pk}"

    def usable_at(self, now) -> bool:
        return self.revoked_at is None and now < self.expires_at


class HandOnOpen(models.Model):
    """One opening of a hand-on link, for the console: when, nothing about who."""

    link = models.ForeignKey(HandOnLink, on_delete=models.CASCADE, related_name="opens")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at"]

    def __str__(self):
        return f"{self.link} opened {self.at:%Y-%m-%d %H:%M}"
