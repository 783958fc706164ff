"""What the wizard does to a setup. Views call these; nothing here knows about requests or templates."""

import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import CharField, DateTimeField, Exists, F, OuterRef, Subquery, Value
from django.db.models.functions import Cast, Coalesce, Concat, Now
from django.utils import dateformat, timezone, translation
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.debug import sensitive_variables

from wizard.catalog.instructions import PORTAL_PATH, Step, TemplateError, render
from wizard.catalog.models import ROLE_KEY, ROLE_PASSWORD, ROLE_USERNAME, InstructionTemplate, Platform
from wizard.catalog.snippets import Part, SnippetError, parts, written_as
from wizard.catalog.templates import published_snippets, published_template
from wizard.clickatell import client
from wizard.clickatell.diagnoses import TRANSPORT, Diagnosis, by_key, for_setup
from wizard.clickatell.signatures import PORTAL_INTEGRATION_TYPES
from wizard.vault import store

from . import limits, steps
from .models import VAULT_OWNER_PREFIX, CredentialMistake, HandOnLink, HandOnOpen, Setup, TestAttempt

log = logging.getLogger(__name__)

SECRET_FIELDS = [steps.PASSWORD, steps.API_KEY]


def _setups():
    """Setups with their app, and until when the vault holds their API Key (None when it holds none).

    Every signature takes an API Key and a setup's secrets are saved together, so the key's expiry is
    the setup's: one subquery answers both "are the credentials still held?" and "until when?".
    """
    owner = Concat(Value(VAULT_OWNER_PREFIX), Cast(OuterRef("pk"), CharField()))
    api_key = store.live_secrets().filter(owner=owner, field=steps.API_KEY)
    # Whether any hand-on link still works, in the same statement: the instructions page lists them only
    # when there are some.
    live_links = HandOnLink.objects.filter(setup=OuterRef("pk"), revoked_at=None, expires_at__gt=Now())
    return Setup.objects.select_related("platform").annotate(
        secrets_expire_at=Subquery(api_key.values("expires_at")[:1]), has_hand_on_links=Exists(live_links)
    )


def find_setup(token: str) -> tuple[Setup, steps.Progress] | None:
    """The setup behind a customer's link, with its app and its progress; None when there is none."""
    try:
        return setup_and_progress(token=token)
    except Setup.DoesNotExist:
        return None


def setup_and_progress(**lookup) -> tuple[Setup, steps.Progress]:
    """The one setup ``lookup`` names (Setup.DoesNotExist when none), with its app and its progress."""
    setup = _setups().get(**lookup)
    return setup, steps.Progress(
        app_chosen=setup.app_chosen,
        signature=setup.signature,
        workaround_blocked=bool(setup.platform and setup.platform.blocks_workaround(setup.signature)),
        credentials_given=setup.credentials_saved_at is not None,
        secrets_held=setup.credentials_saved_at is not None and setup.secrets_expire_at is not None,
    )


def _save(setup: Setup, *fields: str) -> None:
    """Write only the named columns (and the time of the change): a request never writes back what it
    did not change, so it cannot undo another request's write to the same setup."""
    setup.save(update_fields=[*fields, "updated_at"])


def _first_reached(setup: Setup, fact: str, at=None) -> list[str]:
    """Note when the setup first got this far (one of the ``…_at`` facts the insights count), unless it
    already did: the columns to write with the answer, so it costs no statement of its own."""
    if getattr(setup, fact) is not None:
        return []
    setattr(setup, fact, at or timezone.now())
    return [fact]


def purge_old_setups(before) -> int:
    """Delete the setups nobody has touched since ``before``, with their tests and agents' notes; how
    many setups went. Their secrets expired long before (store.purge_expired deletes those)."""
    _, per_model = Setup.objects.filter(updated_at__lt=before).delete()
    return per_model.get("flow.Setup", 0)


def move_to(setup: Setup, step: str) -> None:
    """The step the customer is looking at. The test step's form carries a send token: one is issued
    with the move when the setup has none."""
    changed = ["step"] if setup.step != step else []
    setup.step = step
    if step == steps.TEST and not setup.send_token:
        # Only while the setup still has none: a token another request issued since this one read the
        # setup stays valid, and this page's form carries it too.
        token = secrets.token_urlsafe(16)
        values = {name: getattr(setup, name) for name in changed}
        issued = Setup.objects.filter(pk=setup.pk, send_token="").update(
            send_token=token, updated_at=timezone.now(), **values
        )
        if issued:
            setup.send_token = token
            return
        setup.send_token = Setup.objects.values_list("send_token", flat=True).get(pk=setup.pk)
    if changed:
        _save(setup, *changed)


def send_customer_to(setup: Setup, step: str) -> None:
    """A support agent's request: the customer's next page load opens this step."""
    setup.agent_requested_step = step
    _save(setup, "agent_requested_step")


def take_agent_request(setup: Setup) -> str:
    """The step an agent asked for, once; '' when none is pending (or another request took it)."""
    step = setup.agent_requested_step
    if not step:
        return ""
    setup.agent_requested_step = ""
    taken = Setup.objects.filter(pk=setup.pk, agent_requested_step=step).update(agent_requested_step="")
    return step if taken else ""


def secrets_held_until(setup: Setup):
    """When the setup's secrets expire (a fact agents may see), or None when none are held."""
    return store.expiry_of(setup.vault_owner)


def find_platform_id(slug: str) -> int | None:
    """The catalog app's id (all choosing it needs), or None when there is no such app."""
    return Platform.objects.filter(slug=slug).values_list("pk", flat=True).first()


def start_setup(platform_id: int | None, language: str) -> Setup:
    """A new setup with its app chosen, in the language the customer is reading: it has no credentials
    or boxes to drop yet."""
    now = timezone.now()
    return Setup.objects.create(
        platform_id=platform_id,
        app_unlisted=platform_id is None,
        step=steps.FIELDS,
        language=language,
        created_at=now,
        app_chosen_at=now,
    )


def choose_language(setup: Setup, language: str) -> None:
    """The customer switched language: the setup's pages, resume link and test SMS follow."""
    if setup.language != language:
        setup.language = language
        _save(setup, "language")


# What an answer may change: it writes only these columns (the credential state only when it was dropped).
_CREDENTIAL_STATE = [
    "username",
    "api_key_hint",
    "credentials_saved_at",
    "test_passed_at",
    "delivery_confirmed",
]
_BOXES = ["app_fields", "portal_integration", "signature"]


def choose_app(setup: Setup, platform_id: int | None) -> None:
    changed = setup.platform_id != platform_id or setup.app_unlisted != (platform_id is None)
    setup.platform_id = platform_id
    setup.app_unlisted = platform_id is None
    setup.step = steps.FIELDS
    reached = _first_reached(setup, "app_chosen_at")
    if not changed:
        _save(setup, "step", *reached)
        return
    # Another app may use another signature: the boxes must be confirmed again.
    _drop_credentials(setup)
    setup.app_fields = setup.portal_integration = setup.signature = ""
    _save(setup, "platform", "app_unlisted", *_BOXES, *_CREDENTIAL_STATE, "step", *reached)


def choose_fields(setup: Setup, app_fields: str, portal_integration: str = "") -> bool:
    """Save the boxes the app shows and the signature they decide; False, with nothing saved, when the
    app showing these boxes can't be given a Portal API Key (catalog.Platform)."""
    catalog_signature = setup.platform.signature if setup.platform else ""
    signature = steps.signature_for(app_fields, catalog_signature, portal_integration)
    if setup.platform and setup.platform.blocks_workaround(signature):
        return False
    dropped = bool(setup.signature) and setup.signature != signature.value
    if dropped:
        _drop_credentials(setup)
    setup.app_fields = app_fields
    setup.portal_integration = portal_integration if signature.portal_native else ""
    setup.signature = signature.value
    setup.step = steps.CREDENTIALS
    reached = _first_reached(setup, "fields_confirmed_at")
    _save(setup, *_BOXES, *(_CREDENTIAL_STATE if dropped else []), "step", *reached)
    return True


def workaround_blocked(setup: Setup, refused: bool = False) -> str:
    """Why the app can't take a Portal API Key, when the boxes in question can't: the catalog's (unless the
    customer said their app shows others), the ones saved, or (``refused``) the ones just refused. An app
    whose catalog boxes take a key may still be known to mangle one in its older versions' boxes."""
    platform = setup.platform
    if platform is None:
        return ""
    in_question = [setup.signature]
    if not steps.chose_other_boxes(setup.signature, platform.signature):
        in_question.append(platform.signature)
    if refused or any(platform.blocks_workaround(s) for s in in_question if s):
        return platform.workaround_blocked_in(setup.language)
    return ""


def _drop_credentials(setup: Setup) -> None:
    """Another signature needs other credentials: nothing typed for the old one carries over."""
    forget_credentials(setup)
    setup.credentials_saved_at = setup.test_passed_at = setup.delivery_confirmed = None
    setup.username = setup.api_key_hint = ""


@sensitive_variables()
def save_credentials(setup: Setup, cleaned: dict[str, str]) -> None:
    """Keep the secrets the setup's signature takes, and the facts about them agents may see.

    The form asks only for what the signature takes, so a secret it doesn't take is never given here, and
    none is held: a change of signature drops every secret (_drop_credentials).
    """
    # Encrypted before the transaction: on SQLite it holds the database's write lock.
    sealed = store.seal(setup.vault_owner, {name: cleaned[name] for name in SECRET_FIELDS if name in cleaned})
    setup.username = cleaned.get(steps.USERNAME, "")
    setup.api_key_hint = steps.key_hint(cleaned[steps.API_KEY])
    setup.password_has_reserved_chars = bool(set(cleaned.get(steps.PASSWORD, "")) & steps.URL_RESERVED)
    setup.credentials_saved_at = timezone.now()
    setup.test_passed_at = None
    setup.delivery_confirmed = None
    setup.step = steps.TEST
    reached = _first_reached(setup, "credentials_first_saved_at", setup.credentials_saved_at)
    with transaction.atomic():
        store.put(sealed)
        _save(setup, "password_has_reserved_chars", *_CREDENTIAL_STATE, "step", *reached)


def record_mistakes(setup: Setup, mistakes: list[str]) -> None:
    """The usual mistakes the credentials form just refused, by name only (steps.MISTAKES)."""
    if mistakes:
        CredentialMistake.objects.bulk_create([CredentialMistake(setup=setup, mistake=m) for m in mistakes])


def forget_credentials(setup: Setup) -> int:
    return store.forget(setup.vault_owner)


def test_message(setup: Setup) -> str:
    # Server-chosen text: the customer can't turn the test into a message of their own. In the setup's
    # language, and in every language within the GSM-7 alphabet, so a test costs one SMS part
    # (tests/test_i18n.py checks each translation).
    with translation.override(setup.language):
        return gettext("Portal Switch test (ref %(reference)s): your Clickatell credentials work.") % {
            "reference": setup.reference
        }


@sensitive_variables()
def _credentials(setup: Setup) -> client.Credentials | None:
    held = store.read_secrets(setup.vault_owner, SECRET_FIELDS)
    api_key = held.get(steps.API_KEY)
    if api_key is None:
        return None
    password = held.get(steps.PASSWORD, "")
    if setup.signature_enum.needs_account_login and not password:
        return None
    return client.Credentials(api_key=api_key, username=setup.username, password=password)


@dataclass(frozen=True)
class SendResult:
    attempt: TestAttempt | None = None
    refusal: limits.Refusal | None = None
    credentials_gone: bool = False
    credentials_unreadable: bool = False
    already_sent: bool = False


@sensitive_variables()
def send_test(setup: Setup, send_token: str, phone_e164: str, client_ip: str) -> SendResult:
    """Send the test exactly as the customer's app will, once per form (``send_token``), if every limit
    allows it. A refused send leaves the form's token unspent, so the same form may try again later."""
    if not send_token or send_token != setup.send_token:
        return SendResult(already_sent=True)
    try:
        credentials = _credentials(setup)
    except store.SecretUnavailable:
        # Fail closed: nothing unreadable is ever sent; the customer types the credentials again.
        forget_credentials(setup)
        return SendResult(credentials_gone=True, credentials_unreadable=True)
    if credentials is None:
        return SendResult(credentials_gone=True)
    # A bounded number of sends wait on Clickatell at once, so a slow Clickatell can't take every thread.
    if not limits.send_slots.acquire(timeout=settings.PORTAL_SEND_SLOT_WAIT_SECONDS):
        return SendResult(refusal=limits.busy(setup.pk, client_ip))
    try:
        refusal = limits.check_send(
            setup_id=setup.pk,
            client_ip=client_ip,
            destination=phone_e164,
            api_key=credentials.api_key,
            username=setup.username,
            authenticated=lambda: credentials_authenticated(setup),
        )
        if refusal:
            return SendResult(refusal=refusal)
        attempt = _start(setup, send_token, phone_e164)
        if attempt is None:
            # The same form, posted twice at once: the other request spent the token first (this one
            # was charged to the per-setup, IP, number and key budgets, but nothing more is sent).
            return SendResult(already_sent=True)
        return SendResult(attempt=_send(setup, attempt, credentials, phone_e164, client_ip))
    finally:
        limits.send_slots.release()


# What a send's outcome fills in on its attempt.
_ATTEMPT_RESULT = [
    "status",
    "message_id",
    "error_code",
    "http_status",
    "diagnosis_key",
    "detail",
    "duration_ms",
    "delivery",
    "finished_at",
]


def _start(setup: Setup, send_token: str, phone_e164: str) -> TestAttempt | None:
    """Put the attempt on record, then spend the form's token, both before the call: a send that never
    returns still leaves its trace. The token is spent by a conditional UPDATE, which lets exactly one
    request through, across processes; the others take their attempt back and get None."""
    attempt = TestAttempt.objects.create(
        setup=setup, signature=setup.signature, destination_masked=steps.mask_number(phone_e164)
    )
    spent = Setup.objects.filter(pk=setup.pk, send_token=send_token).update(
        send_token="",
        last_outcome=TestAttempt.PENDING,
        updated_at=timezone.now(),
        # In the same statement: the first send's time stays, whichever request wrote it.
        first_test_sent_at=Coalesce(F("first_test_sent_at"), Value(attempt.started_at, DateTimeField())),
    )
    if not spent:
        attempt.delete()
        return None
    setup.send_token, setup.last_outcome = "", TestAttempt.PENDING
    setup.first_test_sent_at = setup.first_test_sent_at or attempt.started_at
    return attempt


@sensitive_variables()
def _send(
    setup: Setup, attempt: TestAttempt, credentials: client.Credentials, phone_e164: str, client_ip: str
) -> TestAttempt:
    outcome = client.send_test(
        setup.signature_enum,
        credentials,
        phone_e164,
        test_message(setup),
        session_flow=bool(setup.platform and setup.platform.uses_session_login),
    )
    attempt.status = outcome.status
    attempt.message_id = outcome.message_id
    attempt.error_code = outcome.error_code
    attempt.http_status = outcome.http_status
    attempt.diagnosis_key = outcome.diagnosis.key if outcome.diagnosis else ""
    attempt.detail = outcome.detail[:300]
    attempt.duration_ms = outcome.duration_ms
    attempt.delivery = "pending" if outcome.accepted else ""
    attempt.finished_at = timezone.now()
    setup.last_outcome = attempt.status
    # Only what this outcome changes is written: a failed send leaves alone what another request (a
    # send that passed meanwhile, the customer's answer to it) wrote since this one read the setup.
    passed = ["test_passed_at", "delivery_confirmed"] if outcome.accepted else []
    if outcome.accepted:
        setup.test_passed_at = attempt.finished_at
        setup.delivery_confirmed = None
        passed += _first_reached(setup, "first_accepted_at", attempt.finished_at)
    with transaction.atomic():
        attempt.save(update_fields=_ATTEMPT_RESULT)
        _save(setup, "last_outcome", *passed)
    # The global budget counts sends Clickatell authenticated; a refusal of the credentials counts for
    # the lockouts instead (limits.py).
    limits.record_outcome(
        setup_id=setup.pk,
        client_ip=client_ip,
        username=setup.username,
        api_key=credentials.api_key,
        auth_failed=attempt.diagnosis_key in limits.AUTH_FAILURES,
    )
    log.info(
        "setup %s test send: %s %s", setup.reference, attempt.status, attempt.error_code or attempt.message_id
    )
    return attempt


def credentials_authenticated(setup: Setup) -> bool:
    """Whether Clickatell has accepted the setup's current credentials: a send since they were saved was
    answered by Clickatell with something other than a refusal of the credentials. (A transport failure
    says nothing either way.)"""
    if setup.credentials_saved_at is None:
        return False
    return (
        setup.attempts.filter(
            started_at__gte=setup.credentials_saved_at,
            status__in=[TestAttempt.ACCEPTED, TestAttempt.REJECTED],
        )
        .exclude(diagnosis_key__in=limits.AUTH_FAILURES)
        .exists()
    )


@sensitive_variables()
def check_delivery(setup: Setup, attempt: TestAttempt, client_ip: str) -> limits.Refusal | None:
    """Ask Clickatell how far an accepted test got. The question goes with the customer's credentials, so
    like a send it waits for a send slot and takes from budgets of its own; a refusal asks nothing."""
    try:
        credentials = _credentials(setup)
    except store.SecretUnavailable:
        credentials = None
    if credentials is None or not attempt.message_id:
        return None
    if not limits.send_slots.acquire(timeout=settings.PORTAL_SEND_SLOT_WAIT_SECONDS):
        return limits.busy(setup.pk, client_ip, "delivery check")
    try:
        refusal = limits.check_delivery_check(setup_id=setup.pk, client_ip=client_ip)
        if refusal:
            return refusal
        delivery = client.query_delivery(setup.signature_enum, credentials, attempt.message_id)
    finally:
        limits.send_slots.release()
    if delivery.state != "unknown" or not attempt.delivery:
        attempt.delivery = delivery.state
        attempt.save(update_fields=["delivery"])
    return None


def confirm_delivery(setup: Setup, arrived: bool) -> None:
    """The customer's answer to "did the SMS arrive?". Yes ends the test: the secrets go at once."""
    setup.delivery_confirmed = arrived
    if not arrived:
        _save(setup, "delivery_confirmed")
        return
    forget_credentials(setup)
    setup.step = steps.INSTRUCTIONS
    _save(setup, "delivery_confirmed", "step", *_first_reached(setup, "arrival_confirmed_at"))


def latest_attempt(setup: Setup) -> TestAttempt | None:
    return setup.attempts.order_by("-started_at", "-pk").first()


def sent_before_credentials(setup: Setup, attempt: TestAttempt) -> bool:
    """Whether the attempt was sent before the setup's credentials were saved (again): it tested the ones
    held then, so it says nothing about these (saving them clears the test's pass and the answer to it)."""
    return setup.credentials_saved_at is not None and attempt.started_at < setup.credentials_saved_at


def attempt_diagnosis(attempt: TestAttempt) -> Diagnosis | None:
    """What the customer reads about an attempt; a send that never finished is an honest "unknown"."""
    if attempt.status == TestAttempt.PENDING:
        stale_after = settings.CLICKATELL_CONNECT_TIMEOUT + settings.CLICKATELL_READ_TIMEOUT + 5
        if timezone.now() - attempt.started_at > timedelta(seconds=stale_after):
            return TRANSPORT["unknown"]
        return None
    diagnosis = by_key(attempt.diagnosis_key) if attempt.diagnosis_key else None
    if diagnosis is None:
        return None
    return for_setup(diagnosis, integration_chosen=bool(attempt.setup.portal_integration))


# --- the instructions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Box:
    label: str
    role: str
    shows: str
    highlight: bool


@dataclass(frozen=True)
class ShownSnippet:
    """A snippet as the page shows it: the username written in, each secret a slot the customer's
    browser fills in (static/wizard/snippets.js)."""

    title: str
    format: str
    parts: list[Part]

    @property
    def placeholders(self) -> list[str]:
        return list(dict.fromkeys(part.text for part in self.parts if part.slot))


@dataclass(frozen=True)
class Instructions:
    app_name: str
    settings_path: str
    steps: list[Step]
    boxes: list[Box]
    warnings: list[str]
    template_version: str
    snippets: list[ShownSnippet]
    # The app puts the password into a URL without encoding it: no snippet can make every password work.
    app_does_not_encode: bool
    # Said when the steps are the English version, for want of one in the setup's language.
    fallback_note: str = ""

    @property
    def snippet_slots(self) -> set[str]:
        """The secrets the snippets leave for the customer's browser to fill in."""
        return {part.slot for snippet in self.snippets for part in snippet.parts if part.slot}


def _catalog_boxes(setup: Setup) -> Platform | None:
    """The catalog app whose boxes the customer's app shows: None for an unlisted app, and for a catalog app
    the customer said shows other boxes (its signature is then another), whose boxes are the ones chosen."""
    platform = setup.platform
    return platform if platform is not None and platform.signature == setup.signature else None


def instruction_values(setup: Setup) -> dict[str, str]:
    platform = setup.platform
    known = _catalog_boxes(setup)
    signature = setup.signature_enum
    labels = steps.COMMON_LABELS[setup.app_fields or steps.app_fields_of(signature)]
    key_default = "API ID" if signature.needs_account_login else labels[0]
    return {
        "app_name": setup.app_name,
        "settings_path": platform.settings_path
        if platform
        else gettext("your app's SMS or Clickatell settings"),
        "portal_path": PORTAL_PATH,
        "integration_type": PORTAL_INTEGRATION_TYPES.get(signature, "HTTP"),
        "key_label": known.label_for(ROLE_KEY, key_default) if known else key_default,
        "username_label": known.label_for(ROLE_USERNAME, "Username") if known else "Username",
        "password_label": known.label_for(ROLE_PASSWORD, "Password") if known else "Password",
        "username": setup.username or gettext("your Account username"),
        "password_hint": gettext("your Account Password"),
        "api_key_hint": gettext("your API Key (ending …%(end)s)") % {"end": setup.api_key_hint}
        if setup.api_key_hint
        else gettext("your API Key"),
        "reference": setup.reference,
    }


def _boxes(setup: Setup, values: dict[str, str]) -> list[Box]:
    signature = setup.signature_enum
    shows = {
        ROLE_USERNAME: setup.username,
        ROLE_PASSWORD: values["password_hint"],
        ROLE_KEY: values["api_key_hint"],
    }
    known = _catalog_boxes(setup)
    if known:
        roles = known.field_roles(setup.language)
    else:
        roles = [(values["key_label"], ROLE_KEY, "")]
        if signature.needs_account_login:
            roles = [
                (values["username_label"], ROLE_USERNAME, ""),
                (values["password_label"], ROLE_PASSWORD, ""),
                *roles,
            ]
    return [
        Box(
            label=label,
            role=role,
            shows=shows.get(role, hint),
            highlight=role == ROLE_KEY and signature.needs_account_login,
        )
        for label, role, hint in roles
    ]


def _warnings(setup: Setup) -> list[str]:
    warning = encoding_warning(setup)
    return [warning] if warning else []


def encoding_warning(setup: Setup) -> str:
    """For apps that put credentials into URLs unencoded: what that means for this customer's password."""
    platform = setup.platform
    if not (platform and platform.sends_credentials_unencoded and setup.signature_enum.needs_account_login):
        return ""
    if setup.password_has_reserved_chars:
        return gettext(
            "%(app)s puts your password into a web address without encoding it. Your password "
            "contains a character such as & # + %% ? or a space, which will break the app's login even "
            "though our test passed. Change your Portal password to one without those characters."
        ) % {"app": platform.name}
    return gettext(
        "%(app)s puts your password into a web address without encoding it. Yours is fine; if you "
        "ever change it, avoid the characters & # + %% ? and spaces, or the app's login will break."
    ) % {"app": platform.name}


def _render_in_its_language(template, setup: Setup) -> list[Step]:
    """The template's steps with the setup's values in the template's language: an English version shown
    for want of a translation reads in English throughout (its note says why)."""
    with translation.override(template.language):
        return render(template.body, instruction_values(setup))


def instructions_for(setup: Setup, record: bool = True) -> Instructions:
    values = instruction_values(setup)
    template = published_template(setup.platform, setup.signature, setup.language)
    try:
        rendered = _render_in_its_language(template, setup) if template else []
    except TemplateError:
        log.warning("instruction template %s is invalid; showing the generic one", template.pk)
        template, rendered = _generic_steps(setup)
    if record:
        # The step, the template shown and the first opening go in one write; a setup shown the same
        # template again writes nothing.
        changed = _first_reached(setup, "instructions_opened_at")
        if setup.step != steps.INSTRUCTIONS:
            setup.step = steps.INSTRUCTIONS
            changed.append("step")
        # None when no steps could be shown: the record never names steps the customer no longer saw.
        if setup.instructions_shown_id != (template.pk if template else None):
            setup.instructions_shown = template
            changed.append("instructions_shown")
        if changed:
            _save(setup, *changed)
    return Instructions(
        app_name=values["app_name"],
        settings_path=values["settings_path"],
        steps=rendered,
        boxes=_boxes(setup, values),
        warnings=_warnings(setup),
        template_version=str(template) if template else "",
        snippets=_snippets(setup),
        app_does_not_encode=bool(
            setup.platform
            and setup.platform.sends_credentials_unencoded
            and setup.signature_enum.needs_account_login
        ),
        fallback_note=gettext(
            "These steps are not written in your language yet, so they are shown in English."
        )
        if template and template.language != setup.language
        else "",
    )


def _generic_steps(setup: Setup) -> tuple[InstructionTemplate | None, list[Step]]:
    """The generic steps for the setup's signature, when its app's own can't be shown. Without any that
    can be shown either, the page still gives the boxes (and the snippets), with no steps: staff's broken
    text never costs the customer their instructions."""
    template = published_template(None, setup.signature, setup.language)
    if template is None:
        return None, []
    try:
        return template, _render_in_its_language(template, setup)
    except TemplateError:
        log.warning("generic instruction template %s is invalid too; showing no steps", template.pk)
        return None, []


def _snippets(setup: Setup) -> list[ShownSnippet]:
    """The app's snippets, when the customer's app is set up the way the catalog knows it (one that
    shows different boxes gets the boxes only)."""
    if not _catalog_boxes(setup):
        return []
    shown = []
    for snippet in published_snippets(setup.platform):
        try:
            pieces = parts(snippet.body, snippet.format, setup.username or "YOUR_ACCOUNT_USERNAME")
        except SnippetError:
            log.warning("snippet %s is invalid; not shown", snippet.pk)
            continue
        # The page's encoders write the secrets as the snippet's values are written (a Nagios definition's too).
        shown.append(
            ShownSnippet(title=snippet.title, format=written_as(snippet.body, snippet.format), parts=pieces)
        )
    return shown


def _replace_words(placeholders: list[str]) -> str:
    """The download's line under a snippet naming its placeholders (which stay as the snippet writes them)."""
    if len(placeholders) == 1:
        return gettext("Replace %(placeholder)s, written as this file needs it.") % {
            "placeholder": placeholders[0]
        }
    return gettext("Replace %(first)s and %(last)s, written as this file needs them.") % {
        "first": ", ".join(placeholders[:-1]),
        "last": placeholders[-1],
    }


def instructions_text(setup: Setup) -> str:
    """A plain-text copy for download: the same steps, no secrets."""
    instructions = instructions_for(setup, record=False)
    lines = [
        "# " + gettext("Connect %(app)s to Clickatell") % {"app": instructions.app_name},
        "",
        gettext("Reference: %(reference)s") % {"reference": setup.reference},
        "",
    ]
    if instructions.fallback_note:
        lines += [instructions.fallback_note, ""]
    lines += [
        f"{n}. {step.text}" for n, step in enumerate((s for s in instructions.steps if not s.warning), 1)
    ]
    lines += ["", "## " + gettext("What goes in each box"), ""]
    lines += [f"- {box.label}: {box.shows}" for box in instructions.boxes]
    for snippet in instructions.snippets:
        # Placeholders, never a secret; four backticks, so no snippet can close the fence.
        lines += [
            "",
            f"## {snippet.title}",
            "",
            "````",
            "".join(p.text for p in snippet.parts).rstrip("\n"),
            "````",
        ]
        if snippet.placeholders:
            lines += ["", _replace_words(snippet.placeholders)]
    notes = [s.text for s in instructions.steps if s.warning] + instructions.warnings
    if notes:
        lines += ["", "## " + gettext("Watch out"), ""] + [f"- {note}" for note in notes]
    return "\n".join(lines) + "\n"


# --- hand-on links: the instructions, read-only, for a colleague ------------------------------------------


def hand_on_links(setup: Setup) -> list[HandOnLink]:
    """The setup's links that still work, newest first (the instructions page lists them to revoke). The
    setup is one find_setup returned, which knows whether it has any."""
    if not setup.has_hand_on_links:
        return []
    return list(setup.hand_on_links.filter(revoked_at=None, expires_at__gt=timezone.now()))


def create_hand_on_link(setup: Setup) -> HandOnLink:
    now = timezone.now()
    return HandOnLink.objects.create(
        setup=setup, created_at=now, expires_at=now + timedelta(days=settings.PORTAL_HAND_ON_DAYS)
    )


def revoke_hand_on_link(setup: Setup, link_id: int) -> bool:
    """Revoke one of the setup's links; False when it has no such link that still works."""
    return bool(setup.hand_on_links.filter(pk=link_id, revoked_at=None).update(revoked_at=timezone.now()))


def open_hand_on_link(token: str) -> HandOnLink | None:
    """The link behind a token, with its setup and app; an opening is recorded only while it works."""
    link = HandOnLink.objects.select_related("setup__platform").filter(token=token).first()
    if link is not None and link.usable_at(timezone.now()):
        HandOnOpen.objects.create(link=link)
    return link


# The e-mail is always this text, in the setup's language: the customer chooses only the address, so the
# form cannot carry a message of anyone's making.
HAND_ON_EMAIL_SUBJECT = gettext_lazy("Instructions to connect %(app)s to Clickatell")
HAND_ON_EMAIL_BODY = gettext_lazy(
    "Hello,\n"
    "\n"
    "Someone asked Portal Switch to send you the instructions to connect %(app)s to Clickatell:\n"
    "\n"
    "%(address)s\n"
    "\n"
    "The page shows the steps and what goes in each setting. It holds no password or API Key: ask the person\n"
    "who sent it for those. The link works until %(expires)s UTC.\n"
    "\n"
    "Portal Switch\n"
)


def working_hand_on_link(setup: Setup, link_id: int) -> HandOnLink | None:
    return setup.hand_on_links.filter(pk=link_id, revoked_at=None, expires_at__gt=timezone.now()).first()


def email_hand_on_link(setup: Setup, link: HandOnLink, address: str, recipient: str) -> bool:
    """E-mail the link in the fixed text above; False when the mail server would not take it."""
    with translation.override(setup.language):
        app_name = setup.platform.name if setup.platform else gettext("your app")
        # The link's end in UTC, its month's name in the language.
        expires = dateformat.format(link.expires_at.astimezone(UTC), "j M Y, H:i")
        subject = str(HAND_ON_EMAIL_SUBJECT) % {"app": app_name}
        body = str(HAND_ON_EMAIL_BODY) % {"app": app_name, "address": address, "expires": expires}
    try:
        send_mail(subject, body, None, [recipient])
    except OSError as error:  # smtplib's errors and a refused connection alike
        log.warning(
            "setup %s hand-on link %s not e-mailed: %s", setup.reference, link.pk, type(error).__name__
        )
        return False
    log.info("setup %s hand-on link %s e-mailed", setup.reference, link.pk)
    return True


def purge_old_hand_on_links(before) -> int:
    _, per_model = HandOnLink.objects.filter(expires_at__lt=before).delete()
    return per_model.get("flow.HandOnLink", 0)
