"""The only way the support console reads setups: plain records that carry no secret.

Agents see the username and the API Key's last four characters, never the password or the key. This
module does not import the vault, and hands views dataclasses, not model instances, so no console
view can reach a secret by construction.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.functional import cached_property

from wizard.clickatell.diagnoses import Diagnosis, by_key
from wizard.clickatell.signatures import Signature
from wizard.flow import services, steps
from wizard.flow.models import CredentialMistake, Setup, TestAttempt
from wizard.flow.references import normalise_reference

from .models import AgentNote, SetupAccess

PAGE_SIZE = 50
# A setup's last test, as the list's filter offers it.
OUTCOMES = (TestAttempt.PENDING, TestAttempt.ACCEPTED, TestAttempt.REJECTED, TestAttempt.FAILED)
# How the setup list's diagnosis filter names a mistake the credentials form caught (steps.MISTAKES).
FORM_MISTAKE = "form:"
# Counting every match of a broad filter over 100,000 setups costs more than the page itself: the list
# offers the newest LIST_LIMIT matches (narrow the filters, or find by code, for older ones).
LIST_LIMIT = 1000


class NewestPaginator(Paginator):
    @cached_property
    def matches(self) -> int:
        return self.object_list[: LIST_LIMIT + 1].count()

    @cached_property
    def count(self) -> int:
        return min(self.matches, LIST_LIMIT)

    @property
    def truncated(self) -> bool:
        return self.matches > LIST_LIMIT


@dataclass(frozen=True)
class AttemptRecord:
    started_at: datetime
    signature: str
    destination: str
    status: str
    message_id: str
    error_code: str
    http_status: int | None
    duration_ms: int | None
    delivery: str
    detail: str
    diagnosis: Diagnosis | None


@dataclass(frozen=True)
class SetupSummary:
    reference: str
    platform: str
    signature: str
    step: str
    last_outcome: str
    updated_at: datetime
    created_by_agent: str
    language: str  # the language the customer reads the wizard in, by its name


@dataclass(frozen=True)
class HandOnRecord:
    """A hand-on link the customer made, and when it was opened (never its address: whoever has that
    can read the instructions)."""

    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    opened: list[datetime]


@dataclass(frozen=True)
class SetupRecord:
    summary: SetupSummary
    app_fields: str
    username: str
    api_key_hint: str
    credentials_given: bool
    secrets_held_until: datetime | None
    test_passed_at: datetime | None
    delivery_confirmed: bool | None
    agent_requested_step: str
    instructions_shown: str  # the instruction template's version the customer last opened, or "" if none
    attempts: list[AttemptRecord]
    notes: list[tuple[datetime, str, str]]
    hand_on_links: list[HandOnRecord]


def _summary(setup: Setup) -> SetupSummary:
    return SetupSummary(
        reference=setup.reference,
        platform=setup.platform.name if setup.platform else ("Not listed" if setup.app_unlisted else "—"),
        signature=Signature(setup.signature).label if setup.signature else "—",
        step=steps.TITLES.get(setup.step, setup.step),
        last_outcome=setup.last_outcome,
        updated_at=setup.updated_at,
        created_by_agent=setup.created_by_agent,
        language=setup.get_language_display(),
    )


def recent_setups(
    *,
    platform: str = "",
    signature: str = "",
    step: str = "",
    outcome: str = "",
    diagnosis: str = "",
    met_between: tuple[datetime, datetime] | None = None,
    page: int | str = 1,
) -> Page:
    """The newest setups matching the filters; ``diagnosis`` with ``met_between`` (from the insights) the
    setups that met it in that time."""
    queryset: QuerySet = Setup.objects.select_related("platform").order_by("-updated_at", "-pk")
    if platform:
        queryset = (
            queryset.filter(platform__slug=platform)
            if platform != "unlisted"
            else queryset.filter(app_unlisted=True)
        )
    if signature:
        queryset = queryset.filter(signature=signature)
    if step:
        queryset = queryset.filter(step=step)
    if outcome:
        queryset = queryset.filter(last_outcome=outcome)
    if diagnosis.startswith(FORM_MISTAKE):
        # The insights' "what fails" links here: setups where the credentials form caught this mistake,
        met = CredentialMistake.objects.filter(
            setup=OuterRef("pk"), mistake=diagnosis.removeprefix(FORM_MISTAKE)
        )
        if met_between:
            met = met.filter(at__gte=met_between[0], at__lt=met_between[1])
        queryset = queryset.filter(Exists(met))
    elif diagnosis:
        # or where a test send met this diagnosis.
        met = TestAttempt.objects.filter(setup=OuterRef("pk"), diagnosis_key=diagnosis)
        if met_between:
            met = met.filter(started_at__gte=met_between[0], started_at__lt=met_between[1])
        queryset = queryset.filter(Exists(met))
    paginated = NewestPaginator(
        queryset.only(
            "reference",
            "platform__name",
            "app_unlisted",
            "signature",
            "step",
            "last_outcome",
            "updated_at",
            "created_by_agent",
            "language",
        ),
        PAGE_SIZE,
    )
    result = paginated.get_page(page)
    result.object_list = [_summary(setup) for setup in result.object_list]
    return result


def diagnosis_title(key: str) -> str:
    """What the setup list's diagnosis filter means, in words: a test send's diagnosis, or a mistake the
    credentials form caught; the key itself when it is neither."""
    if key.startswith(FORM_MISTAKE):
        return steps.MISTAKES.get(key.removeprefix(FORM_MISTAKE), key)
    diagnosis = by_key(key)
    return diagnosis.title if diagnosis else key


def find_reference(typed: str) -> str:
    """The reference of the setup the customer read out, forgiving case, spaces and look-alikes; '' if none."""
    reference = normalise_reference(typed)
    if reference and Setup.objects.filter(reference=reference).exists():
        return reference
    return ""


def _setup(reference: str) -> Setup:
    return Setup.objects.select_related("platform", "instructions_shown__platform").get(reference=reference)


def _audit(agent, setup: Setup, action: str) -> None:
    SetupAccess.objects.create(agent=agent, setup=setup, reference=setup.reference, action=action)


def purge_old_audit(before) -> int:
    """Delete the audit of agents' accesses older than ``before``; how many records went."""
    deleted, _ = SetupAccess.objects.filter(at__lt=before).delete()
    return deleted


def _opened_lately(agent, setup: Setup) -> bool:
    since = timezone.now() - timedelta(minutes=settings.PORTAL_AGENT_IDLE_MINUTES)
    return SetupAccess.objects.filter(agent=agent, setup=setup, action="opened", at__gte=since).exists()


def open_setup(reference: str, agent, *, refresh: bool = False) -> SetupRecord:
    """The setup's record, audited as opened. A refresh (the open page's live part, every few seconds) is
    audited only when this agent has no opening of the setup recorded in the last PORTAL_AGENT_IDLE_MINUTES:
    only the request's headers say it is a refresh, and anyone can send those."""
    setup = _setup(reference)
    if not refresh or not _opened_lately(agent, setup):
        _audit(agent, setup, "opened")
    attempts = [
        AttemptRecord(
            started_at=a.started_at,
            signature=a.signature,
            destination=a.destination_masked,
            status=a.status,
            message_id=a.message_id,
            error_code=a.error_code,
            http_status=a.http_status,
            duration_ms=a.duration_ms,
            delivery=a.delivery,
            detail=a.detail,
            diagnosis=services.attempt_diagnosis(a),
        )
        for a in setup.attempts.order_by("-started_at", "-pk")[:50]
    ]
    return SetupRecord(
        summary=_summary(setup),
        app_fields=dict(steps.APP_FIELD_CHOICES).get(setup.app_fields, "—"),
        username=setup.username,
        api_key_hint=setup.api_key_hint,
        credentials_given=setup.credentials_saved_at is not None,
        secrets_held_until=services.secrets_held_until(setup),
        test_passed_at=setup.test_passed_at,
        delivery_confirmed=setup.delivery_confirmed,
        agent_requested_step=setup.agent_requested_step,
        instructions_shown=(
            str(setup.instructions_shown)
            if setup.instructions_shown
            else "opened; no version to name (none could be shown, or it was deleted from the catalog since)"
            if setup.instructions_opened_at
            else ""
        ),
        attempts=attempts,
        notes=[
            (n.created_at, n.author.get_username(), n.text)
            for n in setup.agent_notes.select_related("author")
        ],
        hand_on_links=[
            HandOnRecord(
                created_at=link.created_at,
                expires_at=link.expires_at,
                revoked_at=link.revoked_at,
                opened=[opening.at for opening in link.opens.all()],
            )
            for link in setup.hand_on_links.prefetch_related("opens")
        ],
    )


def add_note(reference: str, agent, text: str) -> None:
    setup = _setup(reference)
    AgentNote.objects.create(setup=setup, author=agent, text=text)
    _audit(agent, setup, "added a note")


def send_customer_to(reference: str, agent, step: str) -> str:
    """Ask for the customer's next page to be ``step``; when their setup can't show it yet, ask nothing and
    return the step it needs first."""
    setup, progress = services.setup_and_progress(reference=reference)
    missing = steps.requirement_missing(progress, step)
    if missing is None:
        services.send_customer_to(setup, step)
        _audit(agent, setup, f"sent to {step}")
    return missing or ""


def start_setup_for_customer(agent, language: str = settings.LANGUAGE_CODE) -> tuple[str, str]:
    """A new setup an agent starts on the phone, in the customer's language: its reference and the link
    to read out (it opens in that language)."""
    setup = Setup.objects.create(created_by_agent=agent.get_username(), language=language)
    _audit(agent, setup, "started")
    return setup.reference, f"/s/{setup.token}/app/"
