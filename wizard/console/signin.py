"""The console's door: a password, then a code from an authenticator app (or a recovery code).

Agents and staff enrol an authenticator app (TOTP, django-otp) the first time they sign in and get
single-use recovery codes. Every attempt, a password or a code submitted, is counted per typed username
and per client IP in the project's shared counters (flow/limits.py) before it is checked; past either
budget, sign-in is refused with a message that does not say which part was wrong.
"""

import logging
import math
import re
import time
from base64 import b32encode

import django_otp
import segno
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.dispatch import receiver
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from wizard.flow import limits

log = logging.getLogger(__name__)

# The same words for a wrong password and a wrong code: nobody learns which half they got right.
FAILED = "That didn't work. Check what you typed and try again."
# After a few wrong codes in a row, django-otp makes a device wait before it checks another.
WAIT = "Too many sign-in attempts. Wait a moment, then try again."
RECOVERY_CODES = 10
# A code in no shape a code has is named before it costs an attempt: every real code has one of these
# shapes, so the words say nothing about whether the password was right.
CODE_EMPTY = "Type the code your authenticator app shows."
CODE_SHAPE_APP = "A code is the 6 digits your authenticator app shows."
CODE_SHAPE = "A code is the 6 digits your authenticator app shows, or one of your 8-character recovery codes."
# The session's note of when its user signed in (seconds since the epoch).
SIGNED_IN_AT = "signed_in_at"


# --- limits on guessing ---------------------------------------------------------------------------------


def attempt_limits(username: str, client_ip: str) -> list[limits.Limit]:
    keys = {
        # Typed usernames are counted under a keyed hash, and "Ann" and "ann" share one budget.
        "username": f"signin:user:{limits.fingerprint(username.strip().lower())}",
        "ip": f"signin:ip:{client_ip}",
    }
    return [
        limits.Limit(name, f"{key}:{period}", allowed, period)
        for name, key in keys.items()
        for allowed, period in limits.parse(settings.PORTAL_SIGNIN_ATTEMPT_LIMITS[name])
    ]


def take_attempt(username: str, client_ip: str) -> str:
    """Take one attempt (a password or a code submitted) from the username's and the network's budgets,
    before anything is checked: one atomic step, so attempts sent all at once cannot all slip in under a
    budget. What to tell someone when either budget has no room, or "" to go on."""
    full = limits.counters().take(attempt_limits(username, client_ip), time.time())
    if full is None:
        return ""
    log.warning(
        "console sign-in refused: limit=%s ip=%s retry_after=%ss",
        full.limit.name,
        client_ip,
        full.retry_after,
    )
    minutes = math.ceil(full.retry_after / 60)
    return f"Too many sign-in attempts. Try again in about {minutes} minute{'' if minutes == 1 else 's'}."


# --- the second factor ----------------------------------------------------------------------------------


def has_authenticator(user) -> bool:
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).exists()


def enrolment_device(user) -> TOTPDevice:
    """The authenticator being enrolled: the same one on every reload, so a scanned code stays valid."""
    device = TOTPDevice.objects.devices_for_user(user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


def qr_code(device: TOTPDevice) -> str:
    """The otpauth:// address as an SVG data: URI, drawn here: the secret never leaves the server."""
    return segno.make(device.config_url, error="m").svg_data_uri(scale=5)


def secret(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, for people who type it into their app."""
    text = b32encode(device.bin_key).decode()
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def as_typed(code: str) -> str:
    """A code as the devices compare it: spaces typed or pasted inside it dropped, in lower case."""
    return "".join(code.split()).lower()


def is_app_code(code: str) -> bool:
    """Whether a code (as_typed) has the shape of an authenticator app's: six digits."""
    return code.isdigit() and len(code) == 6


def code_shape_problem(code: str, *, recovery: bool) -> str:
    """What is wrong with the code's shape (a recovery code also counts, with ``recovery``); "" if none."""
    code = as_typed(code)
    if not code:
        return CODE_EMPTY
    if is_app_code(code) or (recovery and re.fullmatch(r"[a-z2-7]{8}", code)):
        return ""
    return CODE_SHAPE if recovery else CODE_SHAPE_APP


def check_code(user, device, code: str):
    """(the device, "") if the code is right, else (None, what to tell the person): FAILED, or WAIT while
    the device's own back-off after wrong codes (django-otp's throttling) runs, when nothing is checked."""
    if device is None or not code:
        return None, FAILED
    allowed, _ = device.verify_is_allowed()
    if not allowed:
        return None, WAIT
    verified = django_otp.verify_token(user, device.persistent_id, code)
    return (verified, "") if verified is not None else (None, FAILED)


def confirm_enrolment(user, device: TOTPDevice, code: str):
    """((the confirmed device, new recovery codes), "") if the code is the app's, else (None, why not).
    The new recovery codes replace any old ones."""
    with transaction.atomic():
        # One enrolment at a time per user: a second tab waits on the user's row, then finds the first
        # tab's app confirmed, and so cannot replace the recovery codes that tab has just shown.
        get_user_model().objects.select_for_update().get(pk=user.pk)
        if has_authenticator(user):  # another tab finished enrolling first
            return None, FAILED
        verified, problem = check_code(user, device, as_typed(code))
        if verified is None:
            return None, problem
        verified.confirmed = True
        verified.save(update_fields=["confirmed"])
        StaticDevice.objects.filter(user=user).delete()
        recovery = StaticDevice.objects.create(user=user, name="Recovery codes")
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
        StaticToken.objects.bulk_create([StaticToken(device=recovery, token=code) for code in codes])
    return (verified, codes), ""


def verify(user, code: str):
    """(the device that accepts the code, "") or (None, why not), as check_code. The code is the app's six
    digits or a recovery code."""
    code = as_typed(code)
    # Each kind of code is tried on its own device only: a miss counts against that device's back-off.
    model = TOTPDevice if is_app_code(code) else StaticDevice
    return check_code(user, model.objects.devices_for_user(user, confirmed=True).first(), code)


def complete(request, device) -> None:
    """The user is verified from now on; a new session key marks the step up, and the 8 hours start."""
    request.session.cycle_key()
    django_otp.login(request, device)
    note_signed_in(request.session)


# --- how long a sign-in lasts ---------------------------------------------------------------------------


def note_signed_in(session) -> None:
    session[SIGNED_IN_AT] = int(time.time())


@receiver(user_logged_in)
def note_when_signed_in(sender, request, user, **kwargs):
    # The password alone: a half-done sign-in ends like any other; the code starts the 8 hours again.
    note_signed_in(request.session)


def sign_in_ended(session) -> str:
    """Why the session's sign-in has ended, once PORTAL_AGENT_SIGNED_IN_HOURS have passed since it (or
    when the session has no note of it); "" while it lasts. An idle session ends sooner, with its expiry
    (SESSION_COOKIE_AGE)."""
    hours = settings.PORTAL_AGENT_SIGNED_IN_HOURS
    signed_in_at = session.get(SIGNED_IN_AT)
    if signed_in_at is None:
        return "Your sign-in has ended: sign in again to go on."
    if time.time() - signed_in_at > hours * 60 * 60:
        return f"You have been signed in for {hours} hour{'' if hours == 1 else 's'}: sign in again to go on."
    return ""
