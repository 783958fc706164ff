"""Step pages remembered by what they show: a reload, a back button or a second tab costs one small query.

Showing a step reads the setup, whether its secrets are still held, its latest test, the catalog and the
published instructions, then renders a whole page; that was most of a request's time. A page's
*fingerprint* is one SQL statement over exactly those rows. A rendering is stored under the fingerprint
taken before the view read anything, so it can only be served while nothing it shows has changed: every
change to those rows (a customer's answer, an agent's request, staff editing the catalog, a secret
expiring) makes a new fingerprint, and the old rendering is never asked for again.

What differs per request is filled in on every response: the CSRF token and the CSP nonce are rendered
as placeholders. Pages carrying one-off messages, and anything but GET and HEAD, are never remembered.
Renderings hold no secrets (pages never show them), only what the customer's browser is shown anyway.

Renderings live in each worker's own memory (the "pages" cache), even when app servers share Redis: a
rendering under a fingerprint never changes, so nothing needs sharing, and a local hit beats a round trip.
"""

import functools
import hashlib
import secrets
import string

from django.conf import settings
from django.contrib import messages
from django.core.cache import caches
from django.http import HttpResponse
from django.middleware.csp import get_nonce
from django.middleware.csrf import get_token

from wizard import db
from wizard.catalog.models import InstructionTemplate, Platform

from .models import Setup, TestAttempt
from .sql import live_secrets, live_secrets_params

# Long enough to serve a customer's reloads, short enough that abandoned setups' pages leave the cache.
REMEMBER_SECONDS = 15 * 60


# Random per process, like the cache that holds the renderings: nothing a customer types can match them.
_PLACEHOLDERS = {name: f"ps-{name}-{secrets.token_hex(16)}" for name in ("csrf_token", "csp_nonce")}


def placeholders() -> dict[str, str]:
    """Template context that renders the per-request values as placeholders."""
    return _PLACEHOLDERS


@functools.cache
def _catalog_sql() -> str:
    platforms, templates = db.table(Platform), db.table(InstructionTemplate)
    published = f"FROM {templates} WHERE status = %s"
    return (
        f"(SELECT COUNT(*) FROM {platforms}), (SELECT MAX(updated_at) FROM {platforms}), "  # noqa: S608
        f"(SELECT COUNT(*) {published}), (SELECT MAX(published_at) {published})"
    )


@functools.cache
def _setup_sql() -> str:
    setups, attempts = db.table(Setup), db.table(TestAttempt)
    return (
        f"SELECT s.*, a.id, a.status, a.delivery, {live_secrets()}, {_catalog_sql()} "  # noqa: S608
        f"FROM {setups} s "
        f"LEFT JOIN {attempts} a ON a.id = (SELECT MAX(id) FROM {attempts} WHERE setup_id = s.id) "
        f"WHERE s.token = %s"
    )


def fingerprint(token: str | None) -> tuple | None:
    """Everything a step page shows, in one row; None when there is no such setup."""
    catalog = [InstructionTemplate.PUBLISHED] * 2
    if token is None:
        return db.execute(f"SELECT {_catalog_sql()}", catalog)[0]
    return db.execute(_setup_sql(), [*live_secrets_params(), *catalog, token])[0]


def fragment(request) -> str | None:
    """The template partial an htmx request swaps (the step, or the app search's list); None for a page."""
    if request.htmx and not request.htmx.history_restore_request:
        return "platform-list" if request.htmx.target == "platform-list" else "wizard"
    return None


def _messages_waiting(request) -> bool:
    return len(messages.get_messages(request)) > 0


def remembered(view):
    """Serve the stored rendering of this page when its fingerprint is unchanged, else let the view run."""

    @functools.wraps(view)
    def serve(request, token: str | None = None):
        if request.method not in ("GET", "HEAD") or _messages_waiting(request):
            return view(request, token)
        row = fingerprint(token)
        if row is None:
            return view(request, token)
        # The session is in the key because the test page shows the number this browser last typed.
        parts = [str(fragment(request)), request.get_full_path(), repr(row)]
        parts.append(request.COOKIES.get(settings.SESSION_COOKIE_NAME, ""))
        key = "page:" + hashlib.blake2b("\n".join(parts).encode(), digest_size=20).hexdigest()
        body = caches["pages"].get(key)
        if body is not None:
            return respond(request, body)
        request.page_key = key
        return view(request, token)

    return serve


# Django's CSRF alphabet: a masked token is a random mask, then the secret shifted by the mask.
_CSRF_CHARS = string.ascii_letters + string.digits


def csrf_token(request) -> str:
    """What Django's get_token() returns, with the mask drawn from the OS once instead of 32 times: each
    draw is a system call that hands Python's GIL to another thread, ~0.25 ms a page under load."""
    secret = request.META.get("CSRF_COOKIE")
    if secret is None:
        return get_token(request)  # a first visit: Django makes the secret and sends its cookie
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True  # as get_token(): the cookie's expiry is renewed
    mask = []
    while len(mask) < len(secret):
        # Bytes below 248 (4 x 62) map evenly onto the 62 characters; the rest are drawn again.
        mask += [byte % 62 for byte in secrets.token_bytes(48) if byte < 248]
    shifted = (_CSRF_CHARS[(_CSRF_CHARS.index(char) + m) % 62] for char, m in zip(secret, mask, strict=False))
    return "".join(_CSRF_CHARS[m] for m in mask[: len(secret)]) + "".join(shifted)


# What never_cache() sets, as constants: it parses and joins Cache-Control and formats a date on every
# response (~0.015 ms a request, more under load). A date in the past expires the response as "now" does.
_NO_STORE = "max-age=0, no-cache, no-store, must-revalidate, private"
_EXPIRED = "Thu, 01 Jan 1970 00:00:00 GMT"


def no_store(view):
    """never_cache(): the response must not be kept by the browser or any cache on the way."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Cache-Control"] = _NO_STORE
        response["Expires"] = _EXPIRED
        return response

    return wrapper


def respond(request, body: str, status: int = 200) -> HttpResponse:
    """The response for a rendering made with placeholders(); remembered when it may be."""
    key = getattr(request, "page_key", None)
    if key and status == 200 and not _messages_waiting(request):
        caches["pages"].set(key, body, REMEMBER_SECONDS)
    body = body.replace(_PLACEHOLDERS["csrf_token"], csrf_token(request)).replace(
        _PLACEHOLDERS["csp_nonce"], str(get_nonce(request))
    )
    response = HttpResponse(body, status=status)
    response["Vary"] = "HX-Request"
    if request.htmx and request.method == "GET":
        response["HX-Push-Url"] = request.get_full_path()
    return response
