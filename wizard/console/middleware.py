from django.conf import settings
from django.contrib import auth, messages
from django.urls import reverse
from django.utils import translation

from . import signin


def staff_page(request) -> bool:
    """The support console's pages and the admin's: the only ones that use a session."""
    return request.path_info.startswith((reverse("console:list"), reverse("admin:index")))


def staff_pages_in_english(get_response):
    """The support console and the admin speak English, whatever language the agent's browser asks for:
    agents and staff share one vocabulary with each other and with the docs. (The customer's language is
    shown on the setup, not used for the page.)"""

    def middleware(request):
        if staff_page(request):
            translation.activate(settings.LANGUAGE_CODE)
            request.LANGUAGE_CODE = settings.LANGUAGE_CODE
        return get_response(request)

    return middleware


def agents_sessions_end(get_response):
    """An agent or staff member signs in again after PORTAL_AGENT_IDLE_MINUTES without a staff page (each
    one moves the session's expiry on), and PORTAL_AGENT_SIGNED_IN_HOURS after they signed in however busy
    they have been: a session left open on a shared computer, or a cookie taken from one, ends with the
    working day. Customers' pages leave sessions alone: they have none."""

    def middleware(request):
        if staff_page(request):
            ended = signin.sign_in_ended(request.session) if request.user.is_authenticated else ""
            if ended:
                auth.logout(request)
                messages.info(request, ended)
            # Saved, with a new expiry, unless it is empty. A setup page updating itself (its "live" part,
            # every few seconds) is not the agent doing something: it leaves the expiry where it is.
            if request.headers.get("HX-Target") != "live":
                request.session.modified = True
        return get_response(request)

    return middleware
