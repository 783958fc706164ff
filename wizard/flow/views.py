"""Thin views: read the request, call one service, render the whole page or (for htmx) just the step."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
    HttpResponseServerError,
)
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django.views.i18n import set_language
from django_htmx.http import reselect, reswap, retarget

from wizard.catalog.models import Platform
from wizard.catalog.search import search_platforms

from . import limits, services, steps
from .forms import (
    AppFieldsForm,
    ConfirmFieldsForm,
    CredentialsForm,
    HandOnEmailForm,
    PhoneForm,
    could_be_a_number,
)
from .models import Setup


def step_url(setup: Setup, step: str) -> str:
    return reverse(f"flow:{step}", args=[setup.token])


def redirect_to(setup: Setup, step: str, query: str = "") -> HttpResponseRedirect:
    return redirect(step_url(setup, step) + query)


def _posted(request):
    """The POST data to bind a form to (even when empty, so missing answers are reported), or None."""
    return request.POST if request.method == "POST" else None


def _setup_or_404(request, token: str) -> tuple[Setup, steps.Progress]:
    found = services.find_setup(token)
    if found is None:
        raise Http404("No such setup.")
    # The link's token is a bearer credential and stays out of logs; the access log names the setup by
    # its reference instead (flow/middleware.py).
    request.setup_reference = found[0].reference
    # A setup's pages speak the setup's language, whatever the browser asks for: the resume link opens
    # in the language the customer chose.
    translation.activate(found[0].language)
    request.LANGUAGE_CODE = found[0].language
    return found


def _guard(setup: Setup, progress: steps.Progress, step: str):
    """Step order is enforced here, on the server: a skipped step sends the customer back to it."""
    allowed = steps.step_allowed(progress, step)
    if allowed == step:
        return None, None
    if step == steps.TEST and allowed == steps.CREDENTIALS:
        # Back to the test with the credentials gone: say why they went.
        if setup.delivery_confirmed:  # the customer said the test arrived: they went because it worked
            return (
                steps.INSTRUCTIONS,
                gettext(
                    "Your test message arrived, so we deleted your credentials: they're no longer needed. "
                    "To send another test, enter them again under “Your credentials”."
                ),
            )
        if setup.credentials_saved_at:
            return (
                allowed,
                gettext(
                    "Your credentials were deleted (we keep them only for a short time). Enter them again."
                ),
            )
    return allowed, None


def _render(
    request,
    template: str,
    context: dict,
    setup: Setup | None = None,
    status: int = 200,
    progress: steps.Progress | None = None,
):
    reached = steps.reached(progress) if setup else []
    current = context.get("current_step", steps.APP)
    context = {
        "setup": setup,
        # Where the language switch comes back to: this step's own address (this request may be a POST).
        "language_next": step_url(setup, current) if setup else reverse("flow:home"),
        "nav": [
            {
                "step": s,
                "title": steps.TITLES[s],
                "url": step_url(setup, s) if setup else "",
                "reachable": s in reached,
                "current": s == current,
            }
            for s in steps.ORDER
        ],
        **context,
    }
    # One template serves both: the whole page, or for htmx only the part it swaps.
    response = render(request, _template_or_partial(request, template), context, status=status)
    if request.htmx and request.method == "GET" and not _searching(request):
        # The search's list stays out of history (its hx-push-url="false"): htmx lets this header win.
        response["HX-Push-Url"] = request.get_full_path()
    if request.htmx and any(_has_field_errors(value) for value in context.values()):
        # A refusal opens at the first box to fix, as its autofocus does on a page load (forms.StepForm).
        reswap(response, "outerHTML show:.has-error:top")
    return response


def _has_field_errors(value) -> bool:
    return isinstance(value, forms.BaseForm) and any(name != NON_FIELD_ERRORS for name in value.errors)


def _searching(request) -> bool:
    """An htmx request from the app search: it swaps only the list of apps."""
    return bool(request.htmx) and request.htmx.target == "platform-list"


def _template_or_partial(request, template: str) -> str:
    """The template partial an htmx request swaps (the step, or the app search's list), else the page."""
    if request.htmx and not request.htmx.history_restore_request:
        part = "platform-list" if _searching(request) else "wizard"
        return f"{template}#{part}"
    return template


def wizard_page(view):
    """What every step page is: never cached on the way, and different for htmx than for a page load."""
    return never_cache(vary_on_headers("HX-Request")(view))


def _sent_by_agent(request, setup, progress, step: str) -> HttpResponseRedirect | None:
    """The step a support agent asked for (taken once, on a page load), when it is another one and the
    setup can show it; the agent's console checked that, but the customer may have gone back since. A
    search keystroke is no page load: it swaps only the list of apps, which another step has not got."""
    page_load = request.method == "GET" and not _searching(request)
    requested = services.take_agent_request(setup) if page_load else ""
    if not requested or requested == step or steps.requirement_missing(progress, requested):
        return None
    messages.info(
        request,
        gettext("Your support agent has taken you to this step: %(step)s.")
        % {"step": steps.TITLES[requested]},
    )
    return redirect_to(setup, requested)


def _guarded_step(request, token: str, step: str, move: bool = True):
    """The setup, its progress (read once per request), and a redirect when this step may not be shown.
    A GET moves the setup to the step, unless the view records that itself (``move=False``)."""
    setup, progress = _setup_or_404(request, token)
    sent = _sent_by_agent(request, setup, progress, step)
    if sent:
        return setup, progress, sent
    go_to, message = _guard(setup, progress, step)
    if go_to:
        if message:
            messages.warning(request, message)
        return setup, progress, redirect_to(setup, go_to)
    if request.method == "GET" and move:
        services.move_to(setup, step)
    return setup, progress, None


# --- step 1: which app ------------------------------------------------------------------------------


@wizard_page
@require_http_methods(["GET", "HEAD", "POST"])
def app_step(request, token: str | None = None):
    setup, progress = _setup_or_404(request, token) if token else (None, None)
    if request.method == "POST":
        slug = request.POST.get("platform", "")
        platform_id = None
        if slug != "unlisted":
            platform_id = services.find_platform_id(slug)
            if platform_id is None:
                messages.error(request, gettext("Choose your app from the list, or “My app isn't listed”."))
                return HttpResponseRedirect(step_url(setup, steps.APP) if setup else reverse("flow:home"))
        if setup is None:
            # Choosing the app starts a setup: a client may start only so many (agents start theirs
            # from the console, which this budget does not count).
            refusal = limits.check_new_setup(client_ip=limits.client_ip(request))
            if refusal:
                return _app_page(request, None, None, refusal=refusal, chosen=slug)
            setup = services.start_setup(platform_id, request.LANGUAGE_CODE)
        else:
            services.choose_app(setup, platform_id)
        return redirect_to(setup, steps.FIELDS)
    if setup:
        sent = _sent_by_agent(request, setup, progress, steps.APP)
        if sent:
            return sent
        services.move_to(setup, steps.APP)
    return _app_page(request, setup, progress)


def _app_page(request, setup, progress, refusal: limits.Refusal | None = None, chosen: str = ""):
    """The app step; after a refusal, with its message and the app chosen kept, ready to choose again."""
    query = request.GET.get("q", "").strip()[:100]
    platforms = search_platforms(query)
    again = ""
    if chosen == "unlisted":
        again = gettext("Continue: my app isn't listed")
    elif chosen:
        again = next(
            (gettext("Continue with %(app)s") % {"app": p.name} for p in platforms if p.slug == chosen), ""
        )
    response = _render(
        request,
        "flow/app.html",
        {
            "current_step": steps.APP,
            "query": query,
            "platforms": platforms,
            "choose_url": step_url(setup, steps.APP) if setup else reverse("flow:home"),
            "refusal": refusal,
            "chosen": chosen,
            "again": again,
        },
        setup,
        status=429 if refusal else 200,
        progress=progress,
    )
    if refusal:
        response["Retry-After"] = str(refusal.retry_after)
    return response


# --- step 2: which boxes the app shows ----------------------------------------------------------------


def _app_boxes(platform: Platform) -> list[tuple[str, str]]:
    """Every box the app shows, in its order, with what it is for."""
    roles = {label: role for label, role, _ in platform.field_roles()}  # the roles only: no text shown
    return [(label, roles.get(label, "other")) for label in platform.field_labels]


@wizard_page
@require_http_methods(["GET", "HEAD", "POST"])
def fields_step(request, token: str):
    setup, progress, go = _guarded_step(request, token, steps.FIELDS)
    if go:
        return go
    platform = setup.platform
    # On a page load the question is about the boxes the customer said their app shows; a posted form
    # answers the question it showed.
    answered_other = (
        request.method != "POST"
        and platform is not None
        and steps.chose_other_boxes(setup.signature, platform.signature)
    )
    different = (
        platform is None
        or answered_other
        or request.GET.get("different") == "1"
        or request.POST.get("different") == "1"
    )
    if different:
        form = AppFieldsForm(
            _posted(request),
            ask_integration=True,
            initial={"app_fields": setup.app_fields, "portal_integration": setup.portal_integration},
        )
    else:
        # "Yes" is the answer given before, unless those boxes have since been found unable to take a key.
        confirmed = setup.signature and not platform.blocks_workaround(setup.signature)
        form = ConfirmFieldsForm(_posted(request), initial={"confirm": "yes"} if confirmed else {})
    refused = False
    if request.method == "POST" and form.is_valid():
        if different:
            boxes = form.cleaned_data["app_fields"], form.cleaned_data.get("portal_integration", "")
        elif form.cleaned_data["confirm"] == "yes":
            boxes = steps.app_fields_of(platform.signature_enum), ""
        else:
            return redirect_to(setup, steps.FIELDS, "?different=1")
        if services.choose_fields(setup, *boxes):
            return redirect_to(setup, steps.CREDENTIALS)
        refused = True
        form.add_error(
            "app_fields" if different else "confirm",
            gettext("%(app)s can't take a Portal API Key in these boxes: see what you can do above.")
            % {"app": platform.name},
        )
    return _render(
        request,
        "flow/fields.html",
        {
            "current_step": steps.FIELDS,
            "form": form,
            "different": different,
            "platform": platform,
            "boxes": _app_boxes(platform) if platform else [],
            "common_labels": steps.COMMON_LABELS,
            "blocked": services.workaround_blocked(setup, refused),
        },
        setup,
        progress=progress,
    )


# --- step 3: credentials -------------------------------------------------------------------------------


@wizard_page
@sensitive_post_parameters("password", "api_key")
@require_http_methods(["GET", "HEAD", "POST"])
def credentials_step(request, token: str):
    setup, progress, go = _guarded_step(request, token, steps.CREDENTIALS)
    if go:
        return go
    remembered = _typed_username(request, setup)
    form = CredentialsForm(
        _posted(request),
        signature=setup.signature_enum,
        initial={"username": remembered or setup.username},
    )
    if request.method == "POST":
        if form.is_valid():
            services.save_credentials(setup, form.cleaned_data)
            for notice in form.notices:
                messages.info(request, notice)
            return _keep_typed_username(redirect_to(setup, steps.TEST), setup, form, remembered)
        services.record_mistakes(setup, form.mistakes)
    response = _render(
        request,
        "flow/credentials.html",
        {
            "current_step": steps.CREDENTIALS,
            "form": form,
            "signature": setup.signature_enum,
            "expires_at": setup.secrets_expire_at,
        },
        setup,
        progress=progress,
    )
    return _keep_typed_username(response, setup, form, remembered) if form.is_bound else response


# A username the credentials form refused is remembered in the customer's own browser (a signed cookie that
# only this setup's form reads), so that a reload or the language switch doesn't lose what they typed. The
# password and the API Key never are: they are typed again.
USERNAME_COOKIE_SALT = "portal-switch.username"
USERNAME_REMEMBERED_SECONDS = 60 * 60


def _username_salt(setup) -> str:
    """Signed for one setup: another setup's form, in the same browser, reads nothing."""
    return f"{USERNAME_COOKIE_SALT}:{setup.pk}"


def _typed_username(request, setup) -> str:
    return _remembered(
        request,
        settings.PORTAL_USERNAME_COOKIE_NAME,
        _username_salt(setup),
        USERNAME_REMEMBERED_SECONDS,
    )


@sensitive_variables()
def _keep_typed_username(response, setup, form: CredentialsForm, remembered: str):
    """After the credentials form: remember the username of a refused form when it passed its own checks and
    is not one of the secrets typed with it (a key pasted into the wrong box); otherwise forget the one
    remembered before, so that a reload shows what is saved."""
    username = "" if form.is_valid() or "username" in form.errors else form.cleaned_data.get("username", "")
    typed_secrets = {form.data.get(field, "").strip() for field in services.SECRET_FIELDS}
    if username and username.strip() not in typed_secrets:
        return _remember(
            response,
            settings.PORTAL_USERNAME_COOKIE_NAME,
            username,
            _username_salt(setup),
            USERNAME_REMEMBERED_SECONDS,
        )
    if remembered:
        response.delete_cookie(settings.PORTAL_USERNAME_COOKIE_NAME, samesite="Lax")
    return response


@require_POST
def forget(request, token: str):
    setup, _ = _setup_or_404(request, token)
    services.forget_credentials(setup)
    messages.success(request, gettext("Your password and API Key are deleted from Portal Switch."))
    # Back to the step the button was on (the instructions, for a customer who is done), else to the
    # credentials form; only a step's name is taken, so the form cannot send anyone elsewhere.
    back = request.POST.get("back_to", "")
    return redirect_to(setup, back if back in steps.ORDER else steps.CREDENTIALS)


# --- step 4: the live test send -------------------------------------------------------------------------


# The number a customer typed is remembered in their own browser (a signed cookie), for the next test's
# form: the server keeps only its masked form, on the attempt.
PHONE_COOKIE_SALT = "portal-switch.phone"
# Long enough for a customer who comes back to the test later the same day.
PHONE_REMEMBERED_SECONDS = 8 * 60 * 60


def _remembered_phone(request) -> str:
    return _remembered(
        request, settings.PORTAL_PHONE_COOKIE_NAME, PHONE_COOKIE_SALT, PHONE_REMEMBERED_SECONDS
    )


def _remember_phone(response, phone: str):
    return _remember(
        response, settings.PORTAL_PHONE_COOKIE_NAME, phone, PHONE_COOKIE_SALT, PHONE_REMEMBERED_SECONDS
    )


def _keep_typed_phone(response, form: PhoneForm):
    """A send that could not be made (the credentials went first) sends the customer elsewhere: the number
    they typed waits for the test's next form, as a sent one does, even one the form would refuse as long
    as it could be a number."""
    if not form.is_bound:
        return response
    phone = form.cleaned_data["phone"] if form.is_valid() else form.data.get("phone", "").strip()
    if not phone or not could_be_a_number(phone):
        return response
    return _remember_phone(response, phone[: form.fields["phone"].max_length])


def _remembered(request, name: str, salt: str, max_age: int) -> str:
    """What ``_remember`` put in the customer's browser under ``name`` and ``salt``, if not older than
    ``max_age`` seconds; "" when there is none, or it was altered, expired or signed for something else."""
    try:
        return str(signing.loads(request.COOKIES.get(name, ""), salt=salt, max_age=max_age))
    except signing.BadSignature:
        return ""


def _remember(response, name: str, value: str, salt: str, max_age: int):
    """Keep ``value`` in the customer's own browser, signed (``signing.dumps``: any text the customer typed
    becomes plain ASCII, as a header must be), out of scripts' reach."""
    response.set_cookie(
        name,
        signing.dumps(value, salt=salt),
        max_age=max_age,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


@wizard_page
@require_http_methods(["GET", "HEAD", "POST"])
def test_step(request, token: str):
    setup, progress, go = _guarded_step(request, token, steps.TEST)
    form = PhoneForm(_posted(request), initial={"phone": _remembered_phone(request)})
    if go:
        return _keep_typed_phone(go, form)
    refusal = None
    if request.method == "POST" and form.is_valid():
        phone = form.cleaned_data["phone"]
        result = services.send_test(
            setup, form.cleaned_data["attempt_token"], phone, limits.client_ip(request)
        )
        if result.already_sent:
            messages.info(request, gettext("That test was already sent: its result is below."))
            return _remember_phone(redirect_to(setup, steps.TEST), phone)
        if result.credentials_gone:
            messages.warning(
                request,
                gettext(
                    "We couldn't read your saved credentials, so nothing was sent. Please enter them again."
                )
                if result.credentials_unreadable
                else gettext(
                    "Your credentials were deleted (we keep them only for a short time). Enter them again."
                ),
            )
            return _keep_typed_phone(redirect_to(setup, steps.CREDENTIALS), form)
        if result.refusal is None:
            return _remember_phone(redirect_to(setup, steps.TEST), phone)
        refusal = result.refusal
    return _test_page(request, setup, progress, form, refusal)


def _test_page(request, setup, progress, form, refusal: limits.Refusal | None = None, attempt=None):
    """The test step with the latest attempt; after a refusal, with its message, HTTP 429 and
    Retry-After."""
    attempt = attempt or services.latest_attempt(setup)
    earlier_attempt = attempt is not None and services.sent_before_credentials(setup, attempt)
    if earlier_attempt:
        attempt = None  # not shown as this test's result: it was no test of these credentials
    services.move_to(setup, steps.TEST)  # a send spends the form's token: the page gets a new one
    form.initial["attempt_token"] = setup.send_token
    if form.is_bound:
        form.data = form.data.copy()
        form.data["attempt_token"] = form.initial["attempt_token"]
    diagnosis = services.attempt_diagnosis(attempt) if attempt else None
    fix_url = ""
    if diagnosis and diagnosis.step and diagnosis.step != steps.TEST:
        # A catalog app's boxes step asks "does it show these boxes?" first: the type question is on its
        # "different boxes" form, where the customer chose it.
        other_boxes = "?different=1" if diagnosis.step == steps.FIELDS and setup.platform else ""
        fix_url = (
            step_url(setup, diagnosis.step)
            + other_boxes
            + (f"#id_{diagnosis.field}" if diagnosis.field else "")
        )
    response = _render(
        request,
        "flow/test.html",
        {
            "current_step": steps.TEST,
            "form": form,
            "attempt": attempt,
            "earlier_attempt": earlier_attempt,
            "diagnosis": diagnosis,
            "fix_url": fix_url,
            "signature": setup.signature_enum,
            "refusal": refusal,
            "encoding_warning": services.encoding_warning(setup) if attempt and attempt.message_id else "",
            "sms_text": services.test_message(setup),
        },
        setup,
        status=429 if refusal else 200,
        progress=progress,
    )
    if refusal:
        response["Retry-After"] = str(refusal.retry_after)
    return response


@wizard_page
@require_POST
def check_delivery(request, token: str):
    setup, progress = _setup_or_404(request, token)
    attempt = services.latest_attempt(setup)
    if attempt is None or services.sent_before_credentials(setup, attempt):
        # No test of these credentials to follow (the test step says so).
        return redirect_to(setup, steps.TEST)
    if not attempt.message_id:
        # A button left on an older page (another tab sent a newer test, which failed or is on its way):
        # the test step shows where things are now.
        messages.info(request, gettext("A newer test has been sent since: its result is below."))
        return redirect_to(setup, steps.TEST)
    refusal = services.check_delivery(setup, attempt, limits.client_ip(request))
    if refusal is None:
        return redirect_to(setup, steps.TEST)
    form = PhoneForm(initial={"phone": _remembered_phone(request)})
    response = _test_page(request, setup, progress, form, refusal, attempt)
    if request.htmx:
        response["HX-Push-Url"] = step_url(setup, steps.TEST)  # the page shown is the test step's
    return response


@never_cache
@require_POST
def confirm_delivery(request, token: str):
    setup, _ = _setup_or_404(request, token)
    if setup.test_passed_at is None:
        return redirect_to(setup, steps.TEST)
    arrived = request.POST.get("arrived") == "yes"
    services.confirm_delivery(setup, arrived)
    if arrived:
        messages.success(
            request, gettext("Your test worked. We've deleted your password and API Key from Portal Switch.")
        )
        return redirect_to(setup, steps.INSTRUCTIONS)
    messages.info(
        request, gettext("Sorry it didn't arrive. Check the number, wait a minute, and send another test.")
    )
    return redirect_to(setup, steps.TEST)


# --- step 5: instructions ---------------------------------------------------------------------------------


@wizard_page
@require_http_methods(["GET", "HEAD"])
def instructions_step(request, token: str):
    # The move to this step is written with the instructions' own record (services.instructions_for).
    setup, progress, go = _guarded_step(request, token, steps.INSTRUCTIONS, move=False)
    if go:
        return go
    return _instructions_page(request, setup, progress)


def _hand_on_address(request, link) -> str:
    return request.build_absolute_uri(reverse("flow:hand_on", args=[link.token]))


def _email_form(link_id: int, data=None) -> HandOnEmailForm:
    # One form per link on the page: each needs its own ids.
    return HandOnEmailForm(data, auto_id=f"hand-on-{link_id}-%s")


def _instructions_page(request, setup, progress, bound_email=None, refusal=None, status=200):
    """The instructions step; after an e-mail form that failed, with that form (its address kept) and
    its message."""
    bound_email = bound_email or {}
    shown = list(messages.get_messages(request))
    about_links = [m for m in shown if _about_links(m)]
    response = _render(
        request,
        "flow/instructions.html",
        {
            "current_step": steps.INSTRUCTIONS,
            "instructions": services.instructions_for(setup),
            "secrets_held": progress.secrets_held,
            "hand_on_links": [
                (link, _hand_on_address(request, link), bound_email.get(link.pk) or _email_form(link.pk))
                for link in services.hand_on_links(setup)
            ],
            "hand_on_days": settings.PORTAL_HAND_ON_DAYS,
            "refusal": refusal,
            # What the hand-on forms say is shown in their section, where their answers open the page;
            # the step's other messages stay at its top (in place of the context processor's).
            "hand_on_messages": about_links,
            "messages": [m for m in shown if not _about_links(m)],
        },
        setup,
        status=status,
        progress=progress,
    )
    if refusal:
        response["Retry-After"] = str(refusal.retry_after)
    if request.htmx and request.method == "POST":
        # The page shown is the instructions step's, not the address its form posted to.
        response["HX-Push-Url"] = step_url(setup, steps.INSTRUCTIONS)
    if request.htmx:
        # The hand-on section is far below the step's top. Without JavaScript its forms' answers open there
        # ("#hand-on" in their addresses); htmx never sees a redirect's "#hand-on", so the answer says where.
        if any(_has_field_errors(form) for form in bound_email.values()):
            reswap(response, "outerHTML show:.has-error:top")
        elif refusal or about_links:
            reswap(response, "outerHTML show:#hand-on:top")
    return response


@never_cache
@require_http_methods(["GET", "HEAD"])
def instructions_download(request, token: str):
    setup, progress, go = _guarded_step(request, token, steps.INSTRUCTIONS)
    if go:
        return go
    response = HttpResponse(services.instructions_text(setup), content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="portal-switch-{setup.reference}.md"'
    return response


# --- the language switch (on every page, a plain form) ------------------------------------------------------


@require_POST
def switch_language(request, token: str | None = None):
    """Django's set_language (the choice in a cookie, then back to the page, ``next``), and for a setup's
    page the setup's language too, so its link opens in it from now on."""
    language = request.POST.get("language", "")
    if token and language in dict(settings.LANGUAGES):
        setup, _ = _setup_or_404(request, token)
        services.choose_language(setup, language)
    return set_language(request)


# --- hand-on links: the instructions, read-only, for a colleague ------------------------------------------


# The tag of messages about hand-on links: the instructions show them in the links' section.
HAND_ON = "hand-on"


def _to_hand_on(setup):
    """Back to the instructions' hand-on section, after one of its forms."""
    return redirect(step_url(setup, steps.INSTRUCTIONS) + "#hand-on")


def _say_about_links(request, level: int, message: str) -> None:
    messages.add_message(request, level, message, extra_tags=HAND_ON)


def _about_links(message) -> bool:
    return HAND_ON in (message.extra_tags or "").split()


@never_cache
@require_POST
def hand_on_create(request, token: str):
    setup, progress, go = _guarded_step(request, token, steps.INSTRUCTIONS)
    if go:
        return go
    services.create_hand_on_link(setup)
    _say_about_links(
        request, messages.SUCCESS, gettext("Your link is ready. Copy it below and send it to your colleague.")
    )
    return _to_hand_on(setup)


@never_cache
@require_POST
def hand_on_revoke(request, token: str, link_id: int):
    setup, _ = _setup_or_404(request, token)
    if services.revoke_hand_on_link(setup, link_id):
        _say_about_links(
            request, messages.SUCCESS, gettext("The link is revoked: it no longer opens the instructions.")
        )
    else:
        # Revoked already (from another tab, say): the answer still says so where the customer looks.
        _say_about_links(
            request,
            messages.INFO,
            gettext("That link was already revoked: it no longer opens the instructions."),
        )
    return _to_hand_on(setup)


@wizard_page
@require_POST
def hand_on_email(request, token: str, link_id: int):
    """E-mail a link to a colleague, in a fixed text; the customer chooses only the address."""
    setup, progress, go = _guarded_step(request, token, steps.INSTRUCTIONS)
    if go:
        return go
    link = services.working_hand_on_link(setup, link_id)
    if link is None:
        _say_about_links(request, messages.WARNING, gettext("That link no longer works. Make a new one."))
        return _to_hand_on(setup)
    form = _email_form(link_id, request.POST)
    if not form.is_valid():
        return _instructions_page(request, setup, progress, bound_email={link_id: form}, status=400)
    refusal = limits.check_hand_on_email(setup_id=setup.pk, client_ip=limits.client_ip(request))
    if refusal:
        return _instructions_page(request, setup, progress, {link_id: form}, refusal, status=429)
    if services.email_hand_on_link(setup, link, _hand_on_address(request, link), form.cleaned_data["email"]):
        _say_about_links(
            request,
            messages.SUCCESS,
            gettext("The link is on its way to %(address)s.") % {"address": form.cleaned_data["email"]},
        )
    else:
        _say_about_links(
            request,
            messages.WARNING,
            gettext("We couldn't send the e-mail just now. Copy the link and send it yourself."),
        )
    return _to_hand_on(setup)


@never_cache
@require_http_methods(["GET", "HEAD"])
def hand_on_page(request, token: str):
    """What a colleague sees: the instructions and snippets, with nothing that changes the setup."""
    link = services.open_hand_on_link(token)
    if link is None:
        raise Http404("No such link.")
    request.setup_reference = link.setup.reference  # the link's token stays out of the access log
    # The page speaks the setup's language, whatever the colleague's browser asks for.
    translation.activate(link.setup.language)
    request.LANGUAGE_CODE = link.setup.language
    if not link.usable_at(timezone.now()):
        return render(request, "flow/hand_on.html", {"link": link, "gone": True}, status=410)
    return render(
        request,
        "flow/hand_on.html",
        {"link": link, "instructions": services.instructions_for(link.setup, record=False)},
    )


# --- when something broke -------------------------------------------------------------------------------


def server_error(request):
    """Django's 500 page, with the setup's reference when the failing page had loaded it: the code that
    support asks for, where the customer can read it out. Rendered without the request's context, as
    Django's own: nothing that could fail again."""
    reference = getattr(request, "setup_reference", "")
    return HttpResponseServerError(render_to_string("500.html", {"reference": reference}))


def bad_request(request, exception):
    """Django's 400 page, for a request it refused before any view (a form far larger than ours): a page of
    its own, as Django's. The wizard's own 400s (an answer to correct) swap into the step; this one takes
    the whole page, as the other error pages do."""
    response = HttpResponseBadRequest(render_to_string("400.html"))
    patch_vary_headers(response, ["HX-Request"])
    if request.headers.get("HX-Request"):
        retarget(response, "#main")
        reselect(response, "#main > *")
        reswap(response, "innerHTML show:window:top")
    return response
