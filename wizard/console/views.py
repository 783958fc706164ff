"""The support console: find a customer's setup, follow it live, help. Reads only through access.py."""

from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect
from django_otp.decorators import otp_required

from wizard.catalog.models import Platform
from wizard.clickatell.signatures import choices as signature_choices
from wizard.flow import steps
from wizard.flow.limits import client_ip
from wizard.flow.models import Setup
from wizard.flow.references import normalise_reference

from . import access, insight_tables, insights, signin
from .forms import PERIOD_CHOICES, RANGE, InsightsForm

PERMISSION = "console.use_console"


def agent_required(view):
    """Anonymous visitors, and users who have not given their second factor, go to the sign-in page;
    verified users without the permission get 403."""

    @otp_required
    @never_cache
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.has_perm(PERMISSION):
            raise PermissionDenied("Only support agents may use the console.")
        return view(request, *args, **kwargs)

    @wraps(view)
    def whole_page_to_sign_in(request, *args, **kwargs):
        # A part of a page asking after the sign-in ended (a setup page updating itself) sends the whole
        # page to the sign-in, not the sign-in page into that part.
        if request.htmx and not request.user.is_verified():
            back_to = request.htmx.current_url_abs_path or reverse("console:list")
            return HttpResponseClientRedirect(_step("console:login", back_to))
        return wrapped(request, *args, **kwargs)

    return whole_page_to_sign_in


def _page(request, template: str, context: dict, partial: str = ""):
    name = (
        f"{template}#{partial}"
        if partial and request.htmx and not request.htmx.history_restore_request
        else template
    )
    return TemplateResponse(request, name, context)


# --- signing in: password, then a code (docs/console.md) -------------------------------------------------


class SignInForm(AuthenticationForm):
    error_messages = {**AuthenticationForm.error_messages, "invalid_login": signin.FAILED}


def _next(request) -> str:
    """A safe "next" address from the form or the address bar, carried through every step; else ""."""
    wanted = request.POST.get("next") or request.GET.get("next", "")
    if url_has_allowed_host_and_scheme(wanted, {request.get_host()}, require_https=request.is_secure()):
        return wanted
    return ""


def _home(user) -> str:
    if user.is_staff and not user.has_perm(PERMISSION):
        return reverse("admin:index")
    return reverse("console:list")


def _step(name: str, wanted: str) -> str:
    return f"{reverse(name)}?{urlencode({'next': wanted})}" if wanted else reverse(name)


def _status(problem: str) -> int:
    """A wrong password or code is an ordinary answer; a refusal to check one at all is 429."""
    ordinary = ("", signin.FAILED, signin.CODE_EMPTY, signin.CODE_SHAPE, signin.CODE_SHAPE_APP)
    return 200 if problem in ordinary else 429


@sensitive_post_parameters("password")
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def sign_in(request):
    wanted = _next(request)
    if request.method != "POST" and request.user.is_authenticated and not request.user.is_verified():
        return redirect(_step("console:code", wanted))
    form, refused = SignInForm(request), ""
    if request.method == "POST":
        username = request.POST.get("username", "")
        refused = signin.take_attempt(username, client_ip(request))
        if refused:
            form = SignInForm(request, initial={"username": username})  # kept; the password is not
        else:
            form = SignInForm(request, data=request.POST)
            if form.is_valid():
                # A password alone starts a sign-in afresh: it never keeps a code given earlier in this
                # browser, so it cannot move the 8 hours on without the second factor.
                if request.user.is_authenticated:
                    auth.logout(request)
                auth.login(request, form.get_user())
                return redirect(_step("console:code", wanted))
    context = {"form": form, "refused": refused, "next": wanted}
    return TemplateResponse(request, "console/login.html", context, status=429 if refused else 200)


@sensitive_post_parameters("code")
@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def enter_code(request):
    wanted = _next(request)
    if request.user.is_verified():
        return redirect(wanted or _home(request.user))
    if not signin.has_authenticator(request.user):
        return redirect(_step("console:enrol", wanted))
    problem = ""
    if request.method == "POST":
        code = request.POST.get("code", "")
        problem = signin.code_shape_problem(code, recovery=True) or signin.take_attempt(
            request.user.get_username(), client_ip(request)
        )
        if not problem:
            device, problem = signin.verify(request.user, code)
            if device is not None:
                signin.complete(request, device)
                return redirect(wanted or _home(request.user))
    context = {"problem": problem, "next": wanted}
    return TemplateResponse(request, "console/code.html", context, status=_status(problem))


@sensitive_post_parameters("code")
@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def enrol(request):
    wanted = _next(request)
    if signin.has_authenticator(request.user):
        return redirect(_step("console:code", wanted))
    device = signin.enrolment_device(request.user)
    problem = ""
    if request.method == "POST":
        code = request.POST.get("code", "")
        problem = signin.code_shape_problem(code, recovery=False) or signin.take_attempt(
            request.user.get_username(), client_ip(request)
        )
        if not problem:
            confirmed, problem = signin.confirm_enrolment(request.user, device, code)
            if confirmed is not None:
                verified, codes = confirmed
                signin.complete(request, verified)
                # In this answer only: no later page shows them again.
                context = {"codes": codes, "next": wanted or _home(request.user)}
                return TemplateResponse(request, "console/recovery_codes.html", context)
    context = {
        "problem": problem,
        "next": wanted,
        "qr_code": signin.qr_code(device),
        "secret": signin.secret(device),
    }
    return TemplateResponse(request, "console/enrol.html", context, status=_status(problem))


# --- the console ---------------------------------------------------------------------------------------


def _met_between(request) -> tuple | None:
    """The insights' period a failure was met in, from its link; None when absent or not two times."""
    try:
        first, last = (parse_datetime(request.GET.get(name, "")) for name in ("met_from", "met_to"))
    except ValueError:
        return None
    return (first, last) if first and last and first.tzinfo and last.tzinfo else None


@agent_required
@require_http_methods(["GET", "HEAD"])
def setup_list(request):
    wanted = ("platform", "signature", "step", "outcome", "diagnosis")
    filters = {name: request.GET.get(name, "")[:40] for name in wanted}
    platforms = list(Platform.objects.order_by("name").values_list("slug", "name"))
    known = {
        "platform": ("app", {"unlisted", *(slug for slug, _ in platforms)}),
        "signature": ("signature", {value for value, _ in signature_choices()}),
        "step": ("step", set(steps.ORDER)),
        "outcome": ("last test", set(access.OUTCOMES)),
    }
    for name, (called, values) in known.items():
        # A bookmark from before an app was renamed, or an edited address: said, rather than no setups
        # under a filter the form shows as "Any".
        if filters[name] and filters[name] not in values:
            messages.warning(request, f"There is no {called} “{filters[name]}”: showing every {called}.")
            filters[name] = ""
    met_between = _met_between(request) if filters["diagnosis"] else None
    page = access.recent_setups(**filters, met_between=met_between, page=request.GET.get("page", 1))
    query = request.GET.copy()
    query.pop("page", None)
    return _page(
        request,
        "console/list.html",
        {
            "page": page,
            "filters": filters,
            "query": query.urlencode(),
            "platforms": platforms,
            "signatures": signature_choices(),
            "steps": steps.STEP_CHOICES,
            "outcomes": access.OUTCOMES,
            "languages": settings.LANGUAGES,
            "diagnosis": access.diagnosis_title(filters["diagnosis"]),
            "met_between": met_between,
        },
        partial="results",
    )


@agent_required
@require_http_methods(["GET", "HEAD"])
def find(request):
    typed = request.GET.get("code", "")
    if not typed.strip():
        messages.error(request, "Type the code the customer reads out from their page, e.g. 7KQ2 M9XD.")
        return redirect("console:list")
    reference = access.find_reference(typed)
    if not reference:
        messages.error(
            request, f"No setup has the code “{typed.strip()[:20]}”. Ask the customer to read it again."
        )
        # Back in the find box, to correct rather than type again.
        return redirect(f"{reverse('console:list')}?{urlencode({'code': typed.strip()[:40]})}")
    return redirect("console:setup", reference=reference)


def _gone(request, reference: str, note: str = ""):
    """A setup that no longer exists (deleted after PORTAL_SETUP_RETENTION_DAYS untouched, or never
    existed), with the note the agent was saving, to copy."""
    context = {"reference": reference, "note": note, "retention_days": settings.PORTAL_SETUP_RETENTION_DAYS}
    return TemplateResponse(request, "console/gone.html", context, status=404)


@agent_required
@require_http_methods(["GET", "HEAD"])
def setup_detail(request, reference: str):
    written = normalise_reference(reference)
    if written and written != reference:  # an address typed by hand, in lower case or with look-alikes
        return redirect("console:setup", reference=written)
    polling = bool(request.htmx) and request.htmx.target == "live"
    try:
        record = access.open_setup(reference, request.user, refresh=polling)
    except Setup.DoesNotExist:
        return _gone(request, reference)
    return _page(
        request,
        "console/setup.html",
        {"record": record, "steps": steps.STEP_CHOICES},
        partial="live" if polling else "",
    )


@agent_required
@require_POST
def add_note(request, reference: str):
    text = request.POST.get("text", "").strip()
    if not text:
        messages.error(request, "Write the note before saving it.")
        return redirect("console:setup", reference=reference)
    try:
        access.add_note(reference, request.user, text[:2000])
    except Setup.DoesNotExist:
        return _gone(request, reference, note=text)
    return redirect("console:setup", reference=reference)


@agent_required
@require_POST
def send_to_step(request, reference: str):
    step = request.POST.get("step", "")
    if step not in steps.ORDER:
        messages.error(request, "Choose a step to send the customer to.")
        return redirect("console:setup", reference=reference)
    try:
        missing = access.send_customer_to(reference, request.user, step)
    except Setup.DoesNotExist:
        return _gone(request, reference)
    if missing:
        messages.error(
            request,
            f"The customer can't be on {steps.TITLES[step]} yet: their setup needs {steps.TITLES[missing]} "
            "first. Send them there instead.",
        )
    else:
        messages.success(request, f"The customer's next page will be: {steps.TITLES[step]}.")
    return redirect("console:setup", reference=reference)


@agent_required
@require_POST
def start_for_customer(request):
    language = request.POST.get("language", "")
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    reference, path = access.start_setup_for_customer(request.user, language)
    messages.success(
        request, f"New setup {reference}. Read the customer this link: {request.build_absolute_uri(path)}"
    )
    return redirect(reverse("console:setup", kwargs={"reference": reference}))


# --- insights: the whole, not one customer (docs/console.md) --------------------------------------------


def _question(request) -> dict:
    """The page's question as asked, for its links (sorting, CSV downloads)."""
    wanted = ("period", "start", "end", "platform", "signature", "language", "sort")
    return {name: request.GET[name] for name in wanted if request.GET.get(name)}


@agent_required
@require_http_methods(["GET", "HEAD"])
def insights_page(request):
    form = InsightsForm(request.GET)
    report = insights.insights(*form.question())
    question = _question(request)
    unsorted = {name: value for name, value in question.items() if name != "sort"}
    context = {
        "form": form,
        "report": report,
        "question": urlencode(question),
        "periods": PERIOD_CHOICES,
        "range": RANGE,
        "platforms": Platform.objects.order_by("name").values_list("slug", "name"),
        "signatures": signature_choices(),
        "languages": settings.LANGUAGES,
        **insight_tables.page(report, unsorted),
    }
    return TemplateResponse(request, "console/insights.html", context)


@agent_required
@require_http_methods(["GET", "HEAD"])
def insights_csv(request, table: str):
    if table not in insight_tables.TABLES:
        raise Http404("no such table")
    report = insights.insights(*InsightsForm(request.GET).question())
    chosen = insight_tables.tables(report, {})[table]
    response = HttpResponse(insight_tables.as_csv(chosen), content_type="text/csv; charset=utf-8")
    period = f"{report.period.start:%Y-%m-%d}-to-{report.period.end:%Y-%m-%d}"
    response["Content-Disposition"] = f'attachment; filename="portal-switch-{table}-{period}.csv"'
    return response
