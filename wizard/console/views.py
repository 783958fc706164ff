"""The support console: find a customer's setup, follow it live, help. Reads only through access.py."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from wizard.catalog.models import Platform
from wizard.clickatell.signatures import choices as signature_choices
from wizard.flow import steps
from wizard.flow.models import Setup

from . import access

PERMISSION = "console.use_console"


def agent_required(view):
    """Anonymous visitors go to the login page; signed-in users without the permission get 403."""

    @login_required
    @never_cache
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.has_perm(PERMISSION):
            raise PermissionDenied("Only support agents may use the console.")
        return view(request, *args, **kwargs)

    return wrapped


def _page(request, template: str, context: dict, partial: str = ""):
    name = (
        f"{template}#{partial}"
        if partial and request.htmx and not request.htmx.history_restore_request
        else template
    )
    return TemplateResponse(request, name, context)


@agent_required
@require_http_methods(["GET", "HEAD"])
def setup_list(request):
    filters = {name: request.GET.get(name, "") for name in ("platform", "signature", "step", "outcome")}
    page = access.recent_setups(**filters, page=request.GET.get("page", 1))
    query = request.GET.copy()
    query.pop("page", None)
    return _page(
        request,
        "console/list.html",
        {
            "page": page,
            "filters": filters,
            "query": query.urlencode(),
            "platforms": Platform.objects.order_by("name").values_list("slug", "name"),
            "signatures": signature_choices(),
            "steps": steps.STEP_CHOICES,
            "outcomes": ["pending", "accepted", "rejected", "failed"],
        },
        partial="results",
    )


@agent_required
@require_http_methods(["GET", "HEAD"])
def find(request):
    typed = request.GET.get("code", "")
    reference = access.find_reference(typed)
    if not reference:
        messages.error(
            request, f"No setup has the code “{typed.strip()[:20]}”. Ask the customer to read it again."
        )
        return redirect("console:list")
    return redirect("console:setup", reference=reference)


@agent_required
@require_http_methods(["GET", "HEAD"])
def setup_detail(request, reference: str):
    polling = bool(request.htmx) and request.htmx.target == "live"
    try:
        record = access.open_setup(reference, request.user, audit=not polling)
    except Setup.DoesNotExist:
        raise Http404("no such setup") from None
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
    else:
        access.add_note(reference, request.user, text[:2000])
    return redirect("console:setup", reference=reference)


@agent_required
@require_POST
def send_to_step(request, reference: str):
    step = request.POST.get("step", "")
    if step not in steps.ORDER:
        messages.error(request, "Choose a step to send the customer to.")
    else:
        access.send_customer_to(reference, request.user, step)
        messages.success(request, f"The customer's next page will be: {steps.TITLES[step]}.")
    return redirect("console:setup", reference=reference)


@agent_required
@require_POST
def start_for_customer(request):
    reference, path = access.start_setup_for_customer(request.user)
    messages.success(
        request, f"New setup {reference}. Read the customer this link: {request.build_absolute_uri(path)}"
    )
    return redirect(reverse("console:setup", kwargs={"reference": reference}))
