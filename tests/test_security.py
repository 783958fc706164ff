"""Secrets never leak, and the deployment is hardened: headers, cookies, CSRF, error reports, check --deploy."""

import json
import logging
import os
import re
import secrets
import subprocess
import sys
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core import signing
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.utils.cache import add_never_cache_headers

from wizard.flow.models import Setup
from wizard.flow.views import PHONE_COOKIE_SALT, USERNAME_COOKIE_SALT
from wizard.vault import crypto
from wizard.vault.redaction import RedactingReporterFilter, redact

from .conftest import MOBILE, PASSWORD, REST_KEY, SANDBOX_FIXTURE, USERNAME, dump_database
from .journeys import send_token, start, url

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


class RecordingClient(Client):
    """A test client that keeps every response, so a test can search all of them."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.seen: list[str] = []

    def request(self, **request):
        response = super().request(**request)
        body = b"" if getattr(response, "streaming", False) else response.content
        self.seen.append(f"{dict(response.items())}\n{response.cookies}\n{body.decode(errors='replace')}")
        return response


def test_canary_secrets_appear_nowhere_after_whole_journeys(sandbox, caplog, vault_keys):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="urllib3")
    password = f"Pw-{secrets.token_hex(6)}&# +%"
    legacy_key = f"Ck{secrets.token_urlsafe(16)[:20]}=="
    rest_key = f"Rk{secrets.token_urlsafe(16)[:20]}=="
    account = {
        **SANDBOX_FIXTURE["accounts"][0],
        "username": "canary-user",
        "password": password,
        "integrations": {legacy_key: "rest", rest_key: "rest"},
    }
    sandbox.reset({**SANDBOX_FIXTURE, "accounts": [account]})
    client = RecordingClient()

    # The old-signature journey, with a bad input, a failed test, then success and delivery.
    setup = start(client, "zabbix-sms-client")
    client.post(url(setup, "fields"), {"confirm": "yes"})
    client.post(
        url(setup, "credentials"), {"username": "x@y.example", "password": password, "api_key": legacy_key}
    )
    client.post(
        url(setup, "credentials"),
        {"username": "canary-user", "password": "W" + password, "api_key": legacy_key},
    )
    client.post(url(setup, "test"), {"phone": MOBILE, "attempt_token": send_token(client, setup)})
    client.post(
        url(setup, "credentials"), {"username": "canary-user", "password": password, "api_key": legacy_key}
    )
    client.post(url(setup, "test"), {"phone": MOBILE, "attempt_token": send_token(client, setup)})
    client.get(url(setup, "test"))
    client.post(f"/s/{setup.token}/test/delivery/")
    client.get(url(setup, "instructions"))
    client.get(f"/s/{setup.token}/instructions.md")
    client.post(f"/s/{setup.token}/test/confirm/", {"arrived": "yes"})
    client.get(url(setup, "instructions"))

    # The API-Key journey, left with its secret still held (abandoned).
    other = start(client, "novu")
    client.post(url(other, "fields"), {"confirm": "yes"})
    client.post(url(other, "credentials"), {"api_key": rest_key})
    client.post(url(other, "test"), {"phone": MOBILE, "attempt_token": send_token(client, other)})
    client.get(url(other, "test"))
    client.get(url(other, "credentials"), headers={"HX-Request": "true", "HX-Target": "wizard"})

    assert any("Clickatell accepted the test message" in page for page in client.seen)
    canaries = [password, legacy_key, rest_key, password.replace("&", "%26")]
    places = {
        "responses": "\n".join(client.seen),
        "logs": "\n".join(f"{r.getMessage()} {r.args}" for r in caplog.records),
        "database": dump_database(),
        "sessions": "\n".join(json.dumps(s.get_decoded()) for s in Session.objects.all()),
    }
    for place, text in places.items():
        for canary in canaries:
            assert canary not in text, f"a secret leaked into {place}"
    assert "canary-user" in places["responses"]  # the username is not a secret: it is shown


@pytest.mark.parametrize("step", ["fields", "credentials"])
def test_pages_carry_the_security_headers(client, step):
    setup = start(client, "novu")
    client.post(url(setup, "fields"), {"confirm": "yes"})
    response = client.get(url(setup, step))
    assert "'nonce-" in response["Content-Security-Policy"]  # its scripts run by the policy's nonce
    assert_security_headers(response)
    assert_never_cached(response)


@pytest.mark.parametrize(
    "shown, status",
    [
        ("/", 200),
        ("/s/no-such-setup/fields/", 404),
        ("/h/no-such-link/", 404),
        ("/console/login/", 200),
        ("a refused new setup", 429),
        ("a refused form", 403),
        ("a form too large to read", 400),
    ],
)
def test_every_kind_of_page_carries_the_security_headers(client, settings, shown, status):
    if shown == "a refused new setup":
        settings.PORTAL_LIMIT_NEW_SETUPS_PER_IP = "0/3600"
        response = client.post("/", {"platform": "novu"})
    elif shown == "a refused form":
        response = Client(enforce_csrf_checks=True).post("/", {"platform": "novu"})
    elif shown == "a form too large to read":
        response = client.post("/", {"platform": "novu", "q": "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE})
        assert "We could not read what was sent" in response.content.decode()
    else:
        response = client.get(shown)
    assert response.status_code == status
    assert_security_headers(response)


def test_a_form_too_large_to_read_takes_the_whole_page_under_htmx_too(client, settings):
    """htmx swaps a step's own 400 (an answer to correct) into the step: Django's 400, from before any view,
    says in its headers to replace the main content instead, as its other error pages do."""
    too_large = {"platform": "novu", "q": "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE}
    by_htmx = client.post("/", too_large, headers={"HX-Request": "true", "HX-Target": "wizard"})
    assert by_htmx.status_code == 400 and "We could not read what was sent" in by_htmx.content.decode()
    assert (by_htmx["HX-Retarget"], by_htmx["HX-Reselect"]) == ("#main", "#main > *")
    assert by_htmx["HX-Reswap"] == "innerHTML show:window:top"
    assert "HX-Request" in by_htmx["Vary"]
    plain = client.post("/", too_large)
    assert plain.status_code == 400 and "HX-Retarget" not in plain


def assert_security_headers(response):
    csp = response["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp and "base-uri 'none'" in csp
    html = response.content.decode()
    scripts = re.findall(r"<script[^>]*>", html)
    if scripts:  # the policy names a nonce only when the page used one (the error page has no script)
        nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
        assert all(f'nonce="{nonce}"' in tag for tag in scripts)
    assert "<style" not in html and " style=" not in html  # no inline style for the CSP to block
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def assert_never_cached(response):
    """The headers Django's never_cache() sets."""
    reference = HttpResponse()
    add_never_cache_headers(reference)
    assert response["Cache-Control"] == reference["Cache-Control"]
    assert parsedate_to_datetime(response["Expires"]) <= parsedate_to_datetime(reference["Expires"])


def test_answers_and_redirects_are_never_cached_either(client):
    assert_never_cached(client.post("/", {"platform": "novu"}))
    setup = start(client, "novu")
    assert_never_cached(client.post(url(setup, "fields"), {"confirm": "yes"}))
    assert_never_cached(client.get(url(setup, "instructions")))  # sent back to a step not done yet


def test_the_number_typed_is_remembered_only_in_the_customers_browser_signed(client, sandbox):
    setup = start(client, "novu")
    client.post(url(setup, "fields"), {"confirm": "yes"})
    client.post(url(setup, "credentials"), {"api_key": "RestKeyAbCdEfGhIjKlMnOp=="})
    client.post(url(setup, "test"), {"phone": MOBILE, "attempt_token": send_token(client, setup)})
    cookie = client.cookies[settings.PORTAL_PHONE_COOKIE_NAME]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert MOBILE in client.get(url(setup, "test")).content.decode()  # the next form is filled in
    assert MOBILE not in dump_database() and not Session.objects.exists()  # the server keeps it masked only

    assert signing.loads(cookie.value, salt=PHONE_COOKIE_SALT) == MOBILE  # signed: the number, no more

    other = Client()
    other.cookies[settings.PORTAL_PHONE_COOKIE_NAME] = signing.dumps(
        "+27831234567", salt=PHONE_COOKIE_SALT, key="not the server's key"
    )
    assert "+27831234567" not in other.get(url(setup, "test")).content.decode()  # a forged cookie is ignored
    other.cookies[settings.PORTAL_PHONE_COOKIE_NAME] = signing.dumps("+27831234567", salt=PHONE_COOKIE_SALT)
    assert "+27831234567" in other.get(url(setup, "test")).content.decode()  # as the server signs it


def refuse_credentials(client, setup, username: str, password: str = PASSWORD, api_key: str = "3456789"):
    """The credentials form, refused (by default for the old numeric API ID in the API Key box)."""
    refused = client.post(
        url(setup, "credentials"), {"username": username, "password": password, "api_key": api_key}
    )
    assert refused.status_code == 200
    return refused


def username_box(client, setup) -> str:
    page = client.get(url(setup, "credentials")).content.decode()
    return re.search(r'<input[^>]*name="username"[^>]*>', page).group(0)


def test_a_refused_username_is_remembered_only_in_the_customers_browser_signed_for_its_setup(client):
    setup = start(client, "cerb-clickatell")
    client.post(url(setup, "fields"), {"confirm": "yes"})
    refuse_credentials(client, setup, USERNAME)
    cookie = client.cookies[settings.PORTAL_USERNAME_COOKIE_NAME]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    salt = f"{USERNAME_COOKIE_SALT}:{setup.pk}"
    assert signing.loads(cookie.value, salt=salt) == USERNAME  # the username alone, never the secrets
    assert f'value="{USERNAME}"' in username_box(client, setup)  # a reload keeps it
    assert Setup.objects.get(pk=setup.pk).username == ""  # nothing of it on the server

    another = start(client, "cerb-clickatell")  # the same browser, another setup: it reads nothing
    client.post(url(another, "fields"), {"confirm": "yes"})
    assert USERNAME not in username_box(client, another)
    forged = Client()
    forged.cookies[settings.PORTAL_USERNAME_COOKIE_NAME] = signing.dumps(
        "mallory", salt=salt, key="not the server's key"
    )
    assert "mallory" not in username_box(forged, setup)

    saved = client.post(
        url(setup, "credentials"), {"username": USERNAME, "password": PASSWORD, "api_key": REST_KEY}
    )
    assert saved.status_code == 302
    # Saved: the browser forgets it.
    assert saved.cookies[settings.PORTAL_USERNAME_COOKIE_NAME]["max-age"] == 0


@pytest.mark.parametrize(
    "typed",
    [
        {"username": REST_KEY, "api_key": REST_KEY},  # the key pasted into both boxes
        {"username": REST_KEY, "api_key": ""},  # the key in the username box, the key's own left empty
        {"username": "Hunter2pass", "password": "Hunter2pass"},  # the password in the username box too
        {"username": "x" * 151},  # longer than a username can be: refused for itself
        {"username": "ops@acme.example"},  # an e-mail address: refused for itself
    ],
    ids=["key-in-both", "key-in-username", "password", "too-long", "e-mail"],
)
def test_a_username_box_holding_a_secret_or_refused_itself_is_not_remembered(client, typed):
    setup = start(client, "cerb-clickatell")
    client.post(url(setup, "fields"), {"confirm": "yes"})
    refuse_credentials(client, setup, "acme-ops")  # remembered first
    assert 'value="acme-ops"' in username_box(client, setup)

    refused = refuse_credentials(client, setup, **typed)
    assert refused.cookies[settings.PORTAL_USERNAME_COOKIE_NAME]["max-age"] == 0  # the older one forgotten
    box = username_box(client, setup)
    assert typed["username"] not in box and "acme-ops" not in box


@pytest.mark.parametrize(
    "typed",
    [
        {"username": REST_KEY, "api_key": REST_KEY},
        {"username": REST_KEY, "api_key": ""},
        {"username": "Hunter2pass", "password": "Hunter2pass", "api_key": REST_KEY},
    ],
    ids=["key-in-both", "key-in-username", "password"],
)
def test_a_secret_typed_in_the_username_box_is_not_shown_back_in_it(client, typed):
    setup = start(client, "cerb-clickatell")
    client.post(url(setup, "fields"), {"confirm": "yes"})
    refused = refuse_credentials(client, setup, **typed).content.decode()
    box = re.search(r'<input[^>]*name="username"[^>]*>', refused).group(0)
    assert 'value="' not in box and 'aria-invalid="true"' in box
    assert typed["username"] not in refused
    assert Setup.objects.get(pk=setup.pk).username == ""


def test_any_username_typed_is_kept_in_a_header_a_server_can_send(client):
    """gunicorn refuses a header that is not Latin-1, as HTTP asks: a username in another script is kept
    encoded (an invisible mark pasted along is left out of it)."""
    setup = start(client, "cerb-clickatell")
    client.post(url(setup, "fields"), {"confirm": "yes"})
    for typed, kept in [("用户名", "用户名"), ("\u200eacme\u200bops", "acmeops")]:
        refused = refuse_credentials(client, setup, typed)
        refused.cookies[settings.PORTAL_USERNAME_COOKIE_NAME].output(header="").encode("latin-1")
        assert f'value="{kept}"' in username_box(client, setup)


def test_every_form_needs_a_csrf_token():
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/", {"platform": "novu"}).status_code == 403
    page = strict.get("/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert strict.post("/", {"platform": "novu", "csrfmiddlewaretoken": token}).status_code == 302


def every_route(patterns=None, prefix=""):
    """Each URL pattern of the project, as a path with made-up values for its parts."""
    from django.urls import URLResolver, get_resolver

    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from every_route(pattern.url_patterns, route)
        else:
            yield route


def filled(route: str, setup) -> str:
    path = re.sub(r"<int:\w+>", "1", route)
    path = re.sub(
        r"<(str:|path:)?(token|reference)>",
        lambda m: setup.token if m[2] == "token" else setup.reference,
        path,
    )
    path = re.sub(r"<(\w+:)?\w+>", "x", path)
    path = path.lstrip("^").rstrip("$").replace("\\", "")
    return "/" + path if not path.startswith("/") else path


def test_no_page_takes_a_post_without_the_forms_csrf_token(client):
    """Not one view is exempt from the CSRF check: a POST without the form's token is refused, whatever
    the page (the wizard's, the console's, the admin's)."""
    setup = start(client, "novu")
    strict = Client(enforce_csrf_checks=True)
    strict.get("/")  # a CSRF cookie, as a browser that loaded a page has
    routes = [route for route in every_route() if not route.startswith("^static")]
    assert len(routes) > 40
    for route in routes:
        response = strict.post(filled(route, setup), {"phone": MOBILE})
        assert response.status_code == 403, (route, response.status_code)


def test_state_changes_only_on_post(client):
    setup = start(client, "novu")
    for path in ("credentials/forget/", "test/delivery/", "test/confirm/"):
        assert client.get(f"/s/{setup.token}/{path}").status_code == 405


def test_error_reports_hide_secret_fields():
    request = RequestFactory().post("/x", {"password": "hunter2", "api_key": "K" * 24, "username": "ok"})
    params = RedactingReporterFilter().get_post_parameters(request)
    assert params["password"] == params["api_key"] == "********************"
    assert params["username"] == "ok"


def test_log_redaction_masks_every_signature_shape():
    line = (
        'GET /messages/http/send?apiKey=AbC123==&to=27&content=x "POST /http/sendmsg?user=u&password=p%26q'
        '&api_id=K==" {"Authorization": "Bearer tok123"} Authorization: RawKey=='
    )
    cleaned = redact(line)
    for secret in ("AbC123", "p%26q", "K==", "tok123", "RawKey"):
        assert secret not in cleaned
    assert "to=27" in cleaned and "user=u" in cleaned


def production_env(tmp_path) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "PORTAL_", "CLICKATELL_", "DATABASE_URL", "REDIS_URL"))
    }
    env.update(
        {
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "setup.example.com",
            "PORTAL_HTTPS": "1",
            "PORTAL_VAULT_KEYS": crypto.new_key_spec("prod1"),
            "PORTAL_DATA_DIR": str(tmp_path),
        }
    )
    return env


def run_python(args: list[str], env: dict, timeout: int = 60) -> subprocess.CompletedProcess:
    """The project's Python in a process of its own, from the project's folder, with only ``env``."""
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_check_deploy_reports_no_issue_with_production_settings(tmp_path):
    result = run_python(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env(tmp_path)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_flags_the_development_vault_key(tmp_path):
    env = production_env(tmp_path)
    del env["PORTAL_VAULT_KEYS"]
    result = run_python(["manage.py", "check", "--deploy"], env)
    assert "vault.W001" in result.stdout + result.stderr


HTTPS_PROBE = """
import json, django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.test import Client
client = Client(HTTP_HOST="setup.example.com")
plain = client.get("/")
page = client.get("/", secure=True)
from django.contrib.auth import get_user_model
agent = Client(HTTP_HOST="setup.example.com")
agent.force_login(get_user_model().objects.create_user("ann"))
customer = Client(HTTP_HOST="setup.example.com")  # an app not listed, with API ID boxes; its key refused
fields = customer.post("/", {"platform": "unlisted"}, secure=True)["Location"]
credentials = customer.post(fields, {"different": "1", "app_fields": "api_id"}, secure=True)["Location"]
customer.post(credentials, {"username": "ann", "password": "pw", "api_key": "3456789"}, secure=True)
print(json.dumps({"redirect": [plain.status_code, plain.get("Location")], "hsts": page.get("Strict-Transport-Security"),
                  "cookies": {name: dict(morsel) for name, morsel in
                              [*page.cookies.items(), *agent.cookies.items(), *customer.cookies.items()]}}))
"""


def test_behind_https_cookies_are_host_prefixed_and_hsts_is_sent(tmp_path):
    result = run_python(
        ["-c", HTTPS_PROBE],
        {**production_env(tmp_path), "DJANGO_SETTINGS_MODULE": "wizard.settings"},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["redirect"] == [301, "https://setup.example.com/"]
    assert seen["hsts"] == "max-age=31536000; includeSubDomains; preload"
    csrf = seen["cookies"]["__Host-csrftoken"]
    assert csrf["secure"] is True and csrf["httponly"] is True and csrf["samesite"] == "Strict"
    assert csrf["path"] == "/"
    session = seen["cookies"]["__Host-sessionid"]  # an agent's or staff member's sign-in
    assert session["secure"] is True and session["path"] == "/"
    username = seen["cookies"]["__Host-username"]  # a username the credentials form refused
    assert username["secure"] is True and username["httponly"] is True and username["path"] == "/"


CANARY_KEY = "CanaryKeyQ7b2xV9kLp3NwXY=="


@pytest.fixture
def saving_credentials_fails_on_the_database(db):
    """The database refuses the setup's UPDATE that saving this key's credentials makes (its hint,
    'XY=='), inside their transaction, while the key is in the request's hands."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION refuse_hint() RETURNS trigger AS $$ BEGIN "
                "IF NEW.api_key_hint = 'XY==' THEN RAISE EXCEPTION 'refused by the test'; END IF; "
                "RETURN NEW; END $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER refuse_hint BEFORE UPDATE ON flow_setup FOR EACH ROW EXECUTE FUNCTION refuse_hint()"
            )
        else:
            cursor.execute(
                "CREATE TRIGGER refuse_hint BEFORE UPDATE ON flow_setup WHEN NEW.api_key_hint = 'XY==' "
                "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
            )


def failed_save(client) -> object:
    setup = start(client, "novu")
    client.post(url(setup, "fields"), {"confirm": "yes"})
    client.raise_request_exception = False
    response = client.post(url(setup, "credentials"), {"api_key": CANARY_KEY})
    assert response.status_code == 500
    return response


def test_the_debug_page_of_a_failed_credentials_save_never_shows_the_key(
    client, settings, vault_keys, saving_credentials_fails_on_the_database
):
    settings.DEBUG = True
    html = failed_save(client).content.decode()
    assert "save_credentials" in html and "Local vars" in html  # the page shows the frames and their locals
    assert CANARY_KEY not in html and CANARY_KEY[:-4] not in html
    token = Setup.objects.get().token
    assert "/s/[token]/credentials/" in html and token not in html


def test_the_debug_page_of_a_failure_while_keeping_a_refused_username_shows_no_secret(
    client, settings, monkeypatch
):
    """Keeping the username compares it with the secrets typed beside it: those never reach the page."""
    from wizard.flow import views

    def broken(*args, **kwargs):
        raise RuntimeError("signing broke in the test")

    settings.DEBUG = True
    monkeypatch.setattr(views.signing, "dumps", broken)
    setup = start(client, "cerb-clickatell")
    client.post(url(setup, "fields"), {"confirm": "yes"})
    client.raise_request_exception = False
    password, short_key = "CanaryPass-Q7b2xV9kLp", "CanaryKeyQ7b2x"
    response = client.post(
        url(setup, "credentials"), {"username": "acme-ops", "password": password, "api_key": short_key}
    )
    assert response.status_code == 500
    html = response.content.decode()
    assert "_keep_typed_username" in html and "Local vars" in html  # the frames and their locals are shown
    assert password not in html and short_key not in html


def test_the_emailed_error_report_of_a_failed_credentials_save_never_shows_the_key(
    client, settings, mailoutbox, vault_keys, saving_credentials_fails_on_the_database
):
    """Admins' error e-mails, with the HTML report (the debug page, local variables and all) attached."""
    from django.utils.log import AdminEmailHandler

    settings.ADMINS = ["ops@example.com"]
    with_html = AdminEmailHandler(include_html=True)
    logging.getLogger("django.request").addHandler(with_html)
    try:
        failed_save(client)
    finally:
        logging.getLogger("django.request").removeHandler(with_html)
    html_reports = [m for m in mailoutbox if m.alternatives]
    assert html_reports, "the report with its HTML part was sent"
    token = Setup.objects.get().token
    for report in mailoutbox:
        assert "save_credentials" in report.body and "refused by the test" in report.body
        assert CANARY_KEY not in report.body and CANARY_KEY[:-4] not in report.body
        # The customer's link is hidden in the subject (the logged line) and the whole report.
        assert "/s/[token]/credentials/" in report.subject and token not in report.subject
        assert "/s/[token]/credentials/" in report.body and token not in report.body
    [(html, _)] = html_reports[0].alternatives
    assert "save_credentials" in html and "Local Vars" in html
    assert CANARY_KEY not in html and CANARY_KEY[:-4] not in html
    assert "/s/[token]/credentials/" in html and token not in html


@pytest.fixture
def opening_a_hand_on_link_fails_on_the_database(db):
    """The database refuses the row that records a hand-on link's opening, while the link's page is served."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION refuse_open() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'refused by the test'; END $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER refuse_open BEFORE INSERT ON flow_handonopen FOR EACH ROW EXECUTE FUNCTION refuse_open()"
            )
        else:
            cursor.execute(
                "CREATE TRIGGER refuse_open BEFORE INSERT ON flow_handonopen "
                "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
            )


def failed_hand_on_page(client) -> tuple[object, list[str]]:
    """A colleague opens a hand-on link, coming from the page of another of the setup's links, and the page
    fails; with the two links' tokens."""
    from wizard.flow import services

    setup = start(client, "novu")
    opened, other = services.create_hand_on_link(setup), services.create_hand_on_link(setup)
    colleague = Client(raise_request_exception=False)
    response = colleague.get(
        f"/h/{opened.token}/", headers={"referer": f"https://setup.example.com/h/{other.token}/"}
    )
    assert response.status_code == 500
    return response, [opened.token, other.token]


def test_the_debug_page_of_a_failed_hand_on_page_never_shows_its_link(
    client, settings, opening_a_hand_on_link_fails_on_the_database
):
    settings.DEBUG = True
    response, tokens = failed_hand_on_page(client)
    html = response.content.decode()
    # The page shows the frames and their locals, the token among them.
    assert "open_hand_on_link" in html and "Local vars" in html
    assert "/h/[token]/" in html and "https://setup.example.com/h/[token]/" in html
    for token in tokens:
        assert token not in html


def test_the_emailed_error_report_of_a_failed_hand_on_page_never_shows_its_link(
    client, settings, mailoutbox, opening_a_hand_on_link_fails_on_the_database
):
    from django.utils.log import AdminEmailHandler

    settings.ADMINS = ["ops@example.com"]
    with_html = AdminEmailHandler(include_html=True)
    logging.getLogger("django.request").addHandler(with_html)
    try:
        _, tokens = failed_hand_on_page(client)
    finally:
        logging.getLogger("django.request").removeHandler(with_html)
    html_reports = [m for m in mailoutbox if m.alternatives]
    assert html_reports, "the report with its HTML part was sent"
    for report in mailoutbox:
        assert "open_hand_on_link" in report.body and "refused by the test" in report.body
        assert "/h/[token]/" in report.subject and "https://setup.example.com/h/[token]/" in report.body
        for token in tokens:
            assert token not in report.subject and token not in report.body
    [(html, _)] = html_reports[0].alternatives
    assert "open_hand_on_link" in html and "Local Vars" in html
    assert "https://setup.example.com/h/[token]/" in html
    for token in tokens:
        assert token not in html


CSRF_REFUSAL_PROBE = """
import django
django.setup()
from django.test import Client
Client(enforce_csrf_checks=True, HTTP_HOST="127.0.0.1").post("/s/LinkTokenThatMustNotBeLogged0123/test/", {})
"""


@pytest.mark.parametrize("debug", ["1", "0"])
def test_a_refused_post_to_a_customers_link_is_logged_without_the_link(tmp_path, debug):
    """Django's own warnings name the path: every handler the project configures writes it redacted,
    in development (where Django would add its own console copy) as in production."""
    env = {
        "DJANGO_SETTINGS_MODULE": "wizard.settings",
        "DJANGO_DEBUG": debug,
        "PORTAL_DATA_DIR": str(tmp_path),
    }
    result = run_python(["-c", CSRF_REFUSAL_PROBE], {**os.environ, **env})
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Forbidden (CSRF cookie not set.): /s/[token]/test/" in output
    assert "LinkTokenThatMustNotBeLogged0123" not in output


def test_log_redaction_replaces_a_customers_link_token_but_keeps_reference_codes():
    token = "Ab3_dEf-GhIjKlMnOpQrStUvWxYz0123"
    cleaned = redact(
        f'127.0.0.1 "GET /s/{token}/test/ HTTP/1.1" 200 and /console/s/ABCD-2345/ and /s/{token}'
    )
    assert token not in cleaned and cleaned.count("/s/[token]") == 2 and "/console/s/ABCD-2345/" in cleaned


def test_warning_lines_about_a_setups_requests_never_carry_its_link(client, sandbox, settings, caplog):
    settings.PORTAL_SEND_LIMITS = {**settings.PORTAL_SEND_LIMITS, "setup": "1/3600"}
    setup = start(client, "novu")
    client.post(url(setup, "fields"), {"confirm": "yes"})
    client.post(url(setup, "credentials"), {"api_key": "RestKeyAbCdEfGhIjKlMnOp=="})
    client.post(url(setup, "test"), {"phone": MOBILE, "attempt_token": send_token(client, setup)})
    with caplog.at_level(logging.INFO):
        refused = client.post(
            url(setup, "test"), {"phone": MOBILE, "attempt_token": send_token(client, setup)}
        )
        assert refused.status_code == 429 and refused["X-Setup-Reference"] == setup.reference
        client.get(f"/s/{setup.token}/no-such-page/")
    lines = [record.getMessage() for record in caplog.records]
    assert any("Too Many Requests" in line for line in lines) and any("Not Found" in line for line in lines)
    assert not any(setup.token in line for line in lines)


def test_the_error_page_carries_the_security_headers(
    client, vault_keys, saving_credentials_fails_on_the_database
):
    assert_security_headers(failed_save(client))


def test_the_error_page_gives_the_reference_of_the_setup_it_failed_on(
    client, vault_keys, saving_credentials_fails_on_the_database
):
    response = failed_save(client)
    page = response.content.decode()
    assert "contact Clickatell support and mention this reference code:" in page
    assert f'<strong class="code">{response["X-Setup-Reference"]}</strong>' in page
