"""The fixture layer: a real Clickatell stand-in on loopback, the catalog, known accounts and helpers."""

import os
import threading

# Playwright's sync API keeps an event loop on the main thread; Django would then refuse ORM calls in
# browser tests (SynchronousOnlyOperation). Tests only.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest  # noqa: E402

from wizard.catalog.loader import load_catalog  # noqa: E402
from wizard.clickatell.sandbox import Sandbox  # noqa: E402
from wizard.vault import crypto, store  # noqa: E402

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

USERNAME = "acme-ops"
# Every character an app or a careless client could mangle in a URL or form body.
PASSWORD = "p&ss #w+rd 100%?="
HTTP_KEY = "HttpKeyAbCdEfGhIjKlMnOp=="
REST_KEY = "RestKeyAbCdEfGhIjKlMnOp=="
ONE_API_KEY = "OneKeyAbCdEfGhIjKlMnOpQ=="
LEGACY_REST_TOKEN = "LegacyRestToken0123456789abcdef"
KEYS = {
    "platform_http": HTTP_KEY,
    "platform_rest": REST_KEY,
    "one_api": ONE_API_KEY,
    "legacy_http": REST_KEY,
    "smtp": REST_KEY,
    "legacy_rest": LEGACY_REST_TOKEN,
}

SANDBOX_FIXTURE = {
    "accounts": [
        {
            "username": USERNAME,
            "password": PASSWORD,
            "integrations": {HTTP_KEY: "http", REST_KEY: "rest", ONE_API_KEY: "one_api"},
            "legacy_api_ids": ["3442105"],
            "legacy_rest_tokens": [LEGACY_REST_TOKEN],
            "balance": 10.0,
        }
    ],
    "legacy_accepts_portal_key": True,
    "deliver_after_seconds": 0,
}
MOBILE = "+27821234567"  # a valid South African mobile number


@pytest.fixture(scope="session")
def sandbox_server():
    server = Sandbox(SANDBOX_FIXTURE).start()
    yield server
    server.stop()


@pytest.fixture
def sandbox(sandbox_server, settings):
    """The stand-in Clickatell, reset to the known account, with the wizard pointed at it."""
    sandbox_server.reset(SANDBOX_FIXTURE)
    settings.CLICKATELL_PLATFORM_URL = sandbox_server.url
    settings.CLICKATELL_GATEWAY_URL = sandbox_server.url
    settings.CLICKATELL_CONNECT_TIMEOUT = 2
    settings.CLICKATELL_READ_TIMEOUT = 2
    return sandbox_server


@pytest.fixture(scope="session", autouse=True)
def plain_static_files():
    """Tests serve static files from the source folders; production serves collectstatic's hashed copies."""
    from django.test import override_settings

    with override_settings(
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    ):
        yield


@pytest.fixture(autouse=True)
def fresh_redis(settings):
    """With REDIS_URL set (the suite's second pass), every test starts with empty counters."""
    if settings.REDIS_URL:
        import redis

        redis.Redis.from_url(settings.REDIS_URL).flushdb()


@pytest.fixture(autouse=True)
def default_language_after_each_test():
    """A setup's page activates the setup's language in the thread that serves it, and Django's test client
    serves in the test's own thread: the next test starts in the default language, as each real request
    starts in its own."""
    from django.utils import translation

    yield
    translation.deactivate()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        load_catalog()


@pytest.fixture
def vault_keys(settings):
    """Use an explicit keyring for the test, and let it be changed mid-test (rotation)."""

    def use(spec: str):
        settings.PORTAL_VAULT_KEYS = spec
        crypto.keyring.cache_clear()

    use(crypto.new_key_spec("k1"))
    yield use
    crypto.keyring.cache_clear()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium: Playwright's own browser download is not available here."""
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "headless": True,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture
def agent(django_user_model):
    """A support agent, made the way README says: the create_agent command."""
    from django.core.management import call_command

    call_command("create_agent", "agent-ann", password="agent-pw-for-tests-only")
    return django_user_model.objects.get(username="agent-ann")


def sign_in_verified(client, user):
    """Signed in with both factors, as the console's code page leaves a user: an authenticator app enrolled
    and its device in the session (django-otp's DEVICE_ID_SESSION_KEY, as django_otp.login writes it)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=user, name="Authenticator app")
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


@pytest.fixture
def agent_client(client, agent):
    sign_in_verified(client, agent)
    return client


def all_at_once(work, arguments: list[tuple]) -> list:
    """Call work(*args) for each tuple of arguments, each in a thread of its own, all released at the same
    instant; what the calls returned (or the exceptions they raised), in the order they finished."""
    start = threading.Barrier(len(arguments))
    results = []

    def run(*args):
        start.wait()
        try:
            results.append(work(*args))
        except Exception as exc:  # noqa: BLE001 - the caller asserts on it
            results.append(exc)

    threads = [threading.Thread(target=run, args=args) for args in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def keep_secret(owner: str, field: str, value: str, ttl=None) -> None:
    """One secret into the vault, as saving credentials puts them there."""
    store.put(store.seal(owner, {field: value}, ttl))


def dump_database() -> str:
    """Every row of every table as text (bytes as hex): what an attacker with a database copy would see."""
    from django.db import connection

    lines = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - our own table names
            for row in cursor.fetchall():
                lines.append(
                    repr(tuple(bytes(v).hex() if isinstance(v, (bytes, memoryview)) else v for v in row))
                )
    return "\n".join(lines)
