"""The console's door: a password, then a code from an authenticator app; enrolment, recovery codes, limits."""

import html
import re
import time
from base64 import b32decode
from io import StringIO

import pytest
import requests
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from wizard.flow.models import Setup

from .conftest import all_at_once, sign_in_verified

pytestmark = pytest.mark.django_db

AGENT, AGENT_PASSWORD = "agent-ann", "agent-pw-for-tests-only"  # the conftest's agent
THROTTLED = re.compile(r"Too many sign-in attempts\. Try again in about \d+ minutes?\.")


def code_now(key: bytes) -> str:
    return f"{totp(key):06d}"


def error_text(response) -> str:
    found = re.search(r'<p class="error"[^>]*>(.*?)</p>', response.content.decode(), re.S)
    return html.unescape(found.group(1)).strip() if found else ""


def sign_in(browser: Client, username=AGENT, password=AGENT_PASSWORD, **extra):
    return browser.post("/console/login/", {"username": username, "password": password, **extra})


def enrol(browser: Client, next_path: str = "") -> list[str]:
    """Enrol from the page, as a person would: type a code computed from the secret shown as text."""
    page = browser.get("/console/login/enrol/", {"next": next_path} if next_path else {})
    assert page.status_code == 200
    shown = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page.content.decode()).group(1)
    response = browser.post(
        "/console/login/enrol/", {"code": code_now(b32decode(shown.replace(" ", ""))), "next": next_path}
    )
    assert response.status_code == 200 and "Save your recovery codes" in response.content.decode()
    return re.findall(r"<li><code>([a-z2-7]+)</code></li>", response.content.decode())


@pytest.fixture
def enrolled(agent):
    """The agent with an authenticator app whose key the test knows."""
    return TOTPDevice.objects.create(user=agent, name="Authenticator app")


def test_a_wrong_password_and_a_wrong_code_are_refused_with_the_same_message(enrolled):
    browser = Client()
    wrong_password = sign_in(browser, password="not-the-password")
    assert wrong_password.status_code == 200
    assert browser.get("/console/").status_code == 302  # not signed in

    assert sign_in(browser)["Location"] == "/console/login/code/"
    not_the_code = f"{(totp(enrolled.bin_key) + 1) % 10**6:06d}"
    wrong_code = browser.post("/console/login/code/", {"code": not_the_code})
    assert wrong_code.status_code == 200
    assert browser.get("/console/")["Location"].startswith("/console/login/")

    assert error_text(wrong_password) == error_text(wrong_code) != ""
    for word in ("password", "code", "username"):
        assert word not in error_text(wrong_password).lower()

    # django-otp makes the device wait a little after a wrong code: nothing is checked meanwhile.
    waiting = browser.post("/console/login/code/", {"code": code_now(enrolled.bin_key)})
    assert waiting.status_code == 429 and "Wait a moment, then try again." in waiting.content.decode()
    time.sleep(1.1)
    response = browser.post("/console/login/code/", {"code": code_now(enrolled.bin_key)})
    assert response["Location"] == "/console/"
    assert browser.get("/console/").status_code == 200


def test_an_agent_without_an_authenticator_is_sent_to_enrol_and_then_gets_in(agent):
    browser = Client()
    response = sign_in(browser)
    assert response["Location"] == "/console/login/code/"
    assert browser.get("/console/login/code/")["Location"] == "/console/login/enrol/"
    page = browser.get("/console/login/enrol/")
    body = page.content.decode()
    # The QR code is drawn here, as an image the page's CSP allows, and the secret is there to type.
    assert re.search(r'<img class="qr" src="data:image/svg\+xml[^"]+" alt="[^"]+"', body)
    assert "img-src 'self' data:" in page["Content-Security-Policy"]
    assert "no-store" in page["Cache-Control"]
    assert browser.get("/console/").status_code == 302  # enrolment isn't done yet

    codes = enrol(browser)
    assert len(codes) == 10 == len(set(codes))
    assert browser.get("/console/").status_code == 200
    assert TOTPDevice.objects.get(user=agent).confirmed


def test_a_wrong_code_does_not_enrol(agent):
    browser = Client()
    sign_in(browser)
    browser.get("/console/login/enrol/")
    response = browser.post("/console/login/enrol/", {"code": "000000"})  # the chance it is right: 1 in 10⁶·⅓
    assert response.status_code == 200 and "Set up your authenticator app" in response.content.decode()
    assert error_text(response) and not TOTPDevice.objects.filter(user=agent, confirmed=True).exists()
    assert browser.get("/console/").status_code == 302


def test_a_password_alone_cannot_replace_an_enrolled_authenticator(enrolled):
    browser = Client()
    sign_in(browser)
    assert browser.get("/console/login/enrol/")["Location"] == "/console/login/code/"
    assert browser.post("/console/login/enrol/", {"code": "123456"})["Location"] == "/console/login/code/"
    assert list(TOTPDevice.objects.filter(user=enrolled.user)) == [enrolled]


def test_console_pages_and_the_admin_refuse_a_signed_in_but_unverified_user(enrolled, django_user_model):
    agent = Client()
    sign_in(agent)
    for path in ("/console/", "/console/find/?code=ABCD-2345", "/console/s/ABCD-2345/"):
        response = agent.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/console/login/"), path
    assert agent.post("/console/new/")["Location"].startswith("/console/login/")

    django_user_model.objects.create_superuser("editor", "editor@example.com", "editor-pw-for-tests")
    staff = Client()
    staff.post("/console/login/", {"username": "editor", "password": "editor-pw-for-tests"})
    response = staff.get("/admin/", follow=True)
    # The admin sends them to the console's door, which takes a staff user without a device to enrolment.
    assert [url for url, _ in response.redirect_chain] == [
        "/admin/login/?next=/admin/",
        "/console/login/?next=/admin/",
        "/console/login/code/?next=%2Fadmin%2F",
        "/console/login/enrol/?next=%2Fadmin%2F",
    ]
    assert staff.get("/admin/catalog/platform/").status_code == 302
    # The admin's own sign-in form is not a second door.
    staff_login = Client().post("/admin/login/", {"username": "editor", "password": "editor-pw-for-tests"})
    assert staff_login.status_code == 302 and staff_login["Location"].startswith("/console/login/")

    codes = enrol(staff, next_path="/admin/")
    assert len(codes) == 10
    assert staff.get("/admin/").status_code == 200


def test_staff_see_no_one_s_key_or_recovery_codes_in_the_admin(agent, django_user_model):
    browser = Client()
    sign_in(browser)
    codes = enrol(browser)
    device = TOTPDevice.objects.get(user=agent)
    staff = Client()
    sign_in_verified(staff, django_user_model.objects.create_superuser("editor", "e@example.com", "pw-x"))
    pages = [
        staff.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/"),
        staff.get(f"/admin/otp_static/staticdevice/{StaticDevice.objects.get(user=agent).pk}/change/"),
        staff.get("/admin/otp_totp/totpdevice/"),
    ]
    assert all(page.status_code == 200 for page in pages)
    everything = "".join(page.content.decode() for page in pages)
    assert device.key not in everything and not any(code in everything for code in codes)


@pytest.mark.parametrize(
    "elsewhere", ["https://elsewhere.example/", "//elsewhere.example/", "/\\elsewhere.example"]
)
def test_next_leads_only_within_the_site(enrolled, elsewhere):
    browser = Client()
    # Each step's address carries "next" on, as a browser following the redirects would.
    code_page = sign_in(browser, next=elsewhere)["Location"]
    assert "elsewhere" not in code_page
    response = browser.post(code_page, {"code": code_now(enrolled.bin_key), "next": elsewhere})
    assert response["Location"] == "/console/"


def test_next_within_the_site_is_followed_through_every_step(enrolled):
    browser = Client()
    code_page = sign_in(browser, next="/console/find/?code=7KQ2")["Location"]
    response = browser.post(code_page, {"code": code_now(enrolled.bin_key)})
    assert response["Location"] == "/console/find/?code=7KQ2"


def test_sign_in_is_throttled_per_username_with_passwords_and_codes_alike(enrolled):
    attacker = Client(REMOTE_ADDR="10.0.0.1")
    for _ in range(8):
        assert sign_in(attacker, password="guess").status_code == 200
    # Someone with the password but not the phone: every code tried counts too.
    sign_in(attacker)
    assert attacker.post("/console/login/code/", {"code": "000000"}).status_code == 200
    refused = attacker.post("/console/login/code/", {"code": code_now(enrolled.bin_key)})
    assert refused.status_code == 429 and THROTTLED.search(refused.content.decode())
    assert attacker.get("/console/").status_code == 302

    # The right password from another network is refused too, with words that say nothing of it being right,
    # and the username typed stays in its box.
    elsewhere = Client(REMOTE_ADDR="10.0.0.2")
    response = sign_in(elsewhere, username=AGENT.upper())
    page = response.content.decode()
    assert response.status_code == 429 and THROTTLED.search(page)
    assert "didn't work" not in page and f'value="{AGENT.upper()}"' in page
    assert elsewhere.get("/console/login/code/")["Location"].startswith("/console/login/")  # not signed in
    # Another username from the attacker's network still gets its own tries.
    assert sign_in(attacker, username="someone-else", password="guess").status_code == 200


def test_sign_in_is_throttled_per_ip(agent, settings):
    settings.PORTAL_SIGNIN_ATTEMPT_LIMITS = {"username": "10/900", "ip": "3/3600"}
    network = Client(REMOTE_ADDR="10.0.0.3")
    for name in ("amy", "bob", "cat"):
        assert sign_in(network, username=name, password="guess").status_code == 200
    response = sign_in(network)
    assert response.status_code == 429 and THROTTLED.search(response.content.decode())
    # The same agent from another network signs in.
    assert sign_in(Client(REMOTE_ADDR="10.0.0.4"))["Location"] == "/console/login/code/"


@pytest.mark.django_db(transaction=True)
def test_twenty_guesses_at_once_against_a_budget_of_five_check_five_passwords(live_server, agent, settings):
    # The attempt is taken from the budget before the password is checked, in one atomic step: guesses
    # sent together cannot all read "room left" before any of them is counted.
    settings.PORTAL_SIGNIN_ATTEMPT_LIMITS = {"username": "5/900", "ip": "100/3600"}
    browsers = []
    for _ in range(20):
        browser = requests.Session()
        page = browser.get(f"{live_server.url}/console/login/", timeout=10).text
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        browsers.append((browser, csrf))

    def guess(browser, csrf):
        response = browser.post(
            f"{live_server.url}/console/login/",
            data={"username": AGENT, "password": "guess", "csrfmiddlewaretoken": csrf},
            headers={"Referer": live_server.url},
            allow_redirects=False,
            timeout=60,
        )
        return response.status_code

    statuses = all_at_once(guess, browsers)
    assert sorted(statuses) == [200] * 5 + [429] * 15


def test_the_default_limits():
    from django.conf import settings

    assert settings.PORTAL_SIGNIN_ATTEMPT_LIMITS == {"username": "10/900", "ip": "40/3600"}


def test_a_recovery_code_works_once(agent):
    browser = Client()
    sign_in(browser)
    codes = enrol(browser)
    browser.post("/console/logout/")

    sign_in(browser)
    response = browser.post("/console/login/code/", {"code": f"  {codes[3].upper()} "})
    assert response["Location"] == "/console/"
    assert browser.get("/console/").status_code == 200
    browser.post("/console/logout/")

    sign_in(browser)
    again = browser.post("/console/login/code/", {"code": codes[3]})
    assert again.status_code == 200 and error_text(again)
    assert browser.get("/console/").status_code == 302
    time.sleep(1.1)  # django-otp's back-off after the wrong code
    assert browser.post("/console/login/code/", {"code": codes[4]})["Location"] == "/console/"


def signed_in_with_both_factors(enrolled) -> Client:
    browser = Client()
    sign_in(browser)
    assert (
        browser.post("/console/login/code/", {"code": code_now(enrolled.bin_key)})["Location"] == "/console/"
    )
    return browser


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("", "Type the code your authenticator app shows."),
        (
            "12 34 5",
            "A code is the 6 digits your authenticator app shows, or one of your 8-character recovery codes.",
        ),
        (
            "abcdef",
            "A code is the 6 digits your authenticator app shows, or one of your 8-character recovery codes.",
        ),
    ],
)
def test_a_code_in_no_shape_a_code_has_is_named_and_costs_no_attempt(enrolled, typed, says):
    browser = Client()
    sign_in(browser)  # one attempt of the username's ten
    for _ in range(12):
        response = browser.post("/console/login/code/", {"code": typed})
        assert response.status_code == 200 and error_text(response) == says
    assert (
        browser.post("/console/login/code/", {"code": code_now(enrolled.bin_key)})["Location"] == "/console/"
    )


def test_enrolment_names_a_code_that_is_not_six_digits(agent):
    browser = Client()
    sign_in(browser)
    response = browser.post("/console/login/enrol/", {"code": "abcdefgh"})
    assert error_text(response) == "A code is the 6 digits your authenticator app shows."


def test_an_agent_idle_for_half_an_hour_signs_in_again(enrolled):
    browser = signed_in_with_both_factors(enrolled)
    stored = Session.objects.filter(session_key=browser.session.session_key)
    # Each request moves the expiry on: half an hour from the latest one.
    stored.update(expire_date=timezone.now() + timezone.timedelta(minutes=1))
    assert browser.get("/console/").status_code == 200
    left = stored.get().expire_date - timezone.now()
    assert timezone.timedelta(minutes=29) < left <= timezone.timedelta(minutes=30)

    # A setup page left open updates itself every few seconds: that is not the agent doing something.
    reference = Setup.objects.create().reference
    stored.update(expire_date=timezone.now() + timezone.timedelta(minutes=1))
    live = {"HX-Request": "true", "HX-Target": "live"}
    assert browser.get(f"/console/s/{reference}/", headers=live).status_code == 200
    assert stored.get().expire_date - timezone.now() <= timezone.timedelta(minutes=1)

    stored.update(expire_date=timezone.now() - timezone.timedelta(seconds=1))  # 30 minutes of nothing
    response = browser.get("/console/")
    assert response.status_code == 302 and response["Location"].startswith("/console/login/")


def test_after_eight_hours_signed_in_even_a_busy_agent_signs_in_again(enrolled):
    browser = signed_in_with_both_factors(enrolled)
    session = browser.session
    signed_in_at = session["signed_in_at"]
    assert abs(signed_in_at - time.time()) < 60  # noted at sign-in

    session["signed_in_at"] = time.time() - 8 * 60 * 60 + 60  # a minute to go
    session.save()
    assert browser.get("/console/").status_code == 200

    session["signed_in_at"] = time.time() - 8 * 60 * 60 - 1
    session.save()
    response = browser.get("/console/", follow=True)
    assert response.redirect_chain[0][0].startswith("/console/login/")
    assert "You have been signed in for 8 hours: sign in again to go on." in response.content.decode()
    assert not Session.objects.filter(session_key=session.session_key).exists()  # gone from the server
    assert browser.get("/admin/")["Location"].startswith("/admin/login/")

    # Signing in again starts a new working day.
    assert browser.post("/console/login/", {"username": AGENT, "password": AGENT_PASSWORD}).status_code == 302
    next_code = f"{totp(enrolled.bin_key, drift=1):06d}"  # django-otp takes each code once
    assert browser.post("/console/login/code/", {"code": next_code})["Location"] == "/console/"
    assert browser.get("/console/").status_code == 200


def test_signing_in_again_with_the_password_alone_asks_for_the_code_and_cannot_extend_the_8_hours(enrolled):
    browser = signed_in_with_both_factors(enrolled)
    session = browser.session
    session["signed_in_at"] = time.time() - 8 * 60 * 60 + 60  # a minute to go
    session.save()

    assert sign_in(browser)["Location"] == "/console/login/code/"
    response = browser.get("/console/")
    assert response.status_code == 302 and response["Location"].startswith("/console/login/")
    assert not Session.objects.filter(session_key=session.session_key).exists()  # the verified one is gone

    # The 8 hours start when the code is given, not at the password.
    half_done = browser.session
    half_done["signed_in_at"] = time.time() - 60 * 60
    half_done.save()
    next_code = f"{totp(enrolled.bin_key, drift=1):06d}"  # django-otp takes each code once
    assert browser.post("/console/login/code/", {"code": next_code})["Location"] == "/console/"
    assert abs(browser.session["signed_in_at"] - time.time()) < 60
    assert browser.get("/console/").status_code == 200


def test_a_page_updating_itself_after_the_sign_in_ended_takes_the_whole_page_to_sign_in(enrolled):
    browser = signed_in_with_both_factors(enrolled)
    reference = Setup.objects.create().reference
    session = browser.session
    session["signed_in_at"] = time.time() - 8 * 60 * 60 - 1
    session.save()
    live = {
        "HX-Request": "true",
        "HX-Target": "live",
        "HX-Current-URL": f"http://testserver/console/s/{reference}/",
    }
    response = browser.get(f"/console/s/{reference}/", headers=live)
    assert response.status_code == 200 and response["HX-Redirect"] == (
        f"/console/login/?next=%2Fconsole%2Fs%2F{reference}%2F"
    )
    assert "You have been signed in for 8 hours" in browser.get(response["HX-Redirect"]).content.decode()


def test_a_session_with_no_note_of_its_sign_in_ends_with_plain_words(enrolled):
    browser = signed_in_with_both_factors(enrolled)
    session = browser.session
    del session["signed_in_at"]  # signed in before sign-ins were noted
    session.save()
    response = browser.get("/console/", follow=True)
    assert "Your sign-in has ended: sign in again to go on." in response.content.decode()


def test_create_agent_says_how_to_enrol(db):
    out = StringIO()
    call_command("create_agent", "agent-bea", password="bea-pw-for-tests-only", stdout=out)
    said = out.getvalue()
    assert "/console/" in said and "QR code" in said and "authenticator app" in said
    assert "enrol" in said.lower()


@pytest.mark.parametrize(
    ("password", "says"),
    [("a", "too short"), ("password123", "too common"), ("agent-cal", "too similar to the username")],
)
def test_create_agent_refuses_a_weak_password_and_says_why(db, django_user_model, password, says):
    with pytest.raises(CommandError, match=says):
        call_command("create_agent", "agent-cal", password=password, stdout=StringIO())
    assert not django_user_model.objects.filter(username="agent-cal").exists()
