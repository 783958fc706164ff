"""The production server on PostgreSQL, one worker with one thread, so that every request shares one
database connection: what one request does to that connection, every later request lives with."""

import os
import re
from datetime import timedelta

import pytest
import requests
from django.conf import settings
from django.db import connection
from django.db.models import F

from wizard.catalog.loader import load_catalog
from wizard.flow.models import Setup, TestAttempt

from .conftest import MOBILE, REST_KEY
from .servers import gunicorn, post, server_env

# The pending attempt's outcome heading (the send button's own "Sending…" shows only while htmx waits).
PENDING = '<h2 id="outcome-title">Sending…</h2>'

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL"),
        reason="needs PostgreSQL: './portal test' starts it for its second pass",
    ),
]


def walk_to_test(server: str, browser: requests.Session) -> str:
    """Choose an app, confirm its boxes, give the key: the setup's address."""
    started = post(browser, f"{server}/", {"platform": "novu"})
    assert started.status_code == 302, started.text
    base = server + started.headers["Location"].rsplit("/fields/", 1)[0]
    assert post(browser, f"{base}/fields/", {"confirm": "yes"}).status_code == 302
    assert post(browser, f"{base}/credentials/", {"api_key": REST_KEY}).status_code == 302
    return base


def every_page_answers(server: str, base: str, times: int = 6) -> None:
    """Every page, several times (a connection that has served a while is the one to test), then a
    whole new customer."""
    browser = requests.Session()
    for _ in range(times):
        for path in ["/", "/?q=zabbix", "/console/login/"]:
            assert browser.get(server + path, timeout=10).status_code == 200, path
        for step in ["app", "fields", "credentials", "test"]:
            assert browser.get(f"{base}/{step}/", timeout=10).status_code == 200, step
    # And a new customer can still walk the wizard, writes included.
    other = requests.Session()
    another = walk_to_test(server, other)
    assert post(other, f"{another}/test/", {"phone": MOBILE}).status_code == 302


@pytest.mark.parametrize(
    "counters",
    [
        # Without Redis the limits count in the database, and a refused send rolls its transaction back.
        pytest.param(None, id="database-counters"),
        pytest.param(
            settings.REDIS_URL,
            id="redis-counters",
            marks=pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis"),
        ),
    ],
)
def test_after_a_refused_send_every_page_still_answers(sandbox, tmp_path, counters):
    load_catalog()
    env = server_env(sandbox, tmp_path, REDIS_URL=counters, PORTAL_LIMIT_PER_SETUP="1/86400")
    with gunicorn(env, workers=1, threads=1) as server:
        browser = requests.Session()
        base = walk_to_test(server, browser)
        every_page_answers(server, base)
        assert post(browser, f"{base}/test/", {"phone": MOBILE}).status_code == 302
        for _ in range(3):
            refused = post(browser, f"{base}/test/", {"phone": MOBILE})
            assert refused.status_code == 429 and "most test messages one setup" in refused.text
        every_page_answers(server, base)
    assert len(sandbox.received("/messages")) == 3  # the first setup's send, and two new customers'


def test_after_a_transaction_that_failed_on_the_database_every_page_still_answers(sandbox, tmp_path):
    """A statement that fails inside a transaction (here: a database constraint) rolls it back."""
    load_catalog()
    env = server_env(sandbox, tmp_path, REDIS_URL=None)
    with gunicorn(env, workers=1, threads=1) as server:
        browser = requests.Session()
        base = walk_to_test(server, browser)
        every_page_answers(server, base)
        # The database refuses one write: saving another key breaks a check on the setup's row, inside
        # the credentials' transaction, after the secrets' statement has run in it.
        another_key = "RestKeyAbCdEfGhIjKlMnXY=="
        with connection.cursor() as cursor:
            cursor.execute(
                "ALTER TABLE flow_setup ADD CONSTRAINT no_more_saves CHECK (api_key_hint <> 'XY==') NOT VALID"
            )
        try:
            failed = post(browser, f"{base}/credentials/", {"api_key": another_key})
            assert failed.status_code == 500
        finally:
            with connection.cursor() as cursor:
                cursor.execute("ALTER TABLE flow_setup DROP CONSTRAINT no_more_saves")
        every_page_answers(server, base)


def test_a_pending_attempts_page_tells_the_truth_as_the_clock_moves(sandbox, tmp_path):
    load_catalog()
    env = server_env(sandbox, tmp_path, REDIS_URL=None)
    with gunicorn(env, workers=1, threads=1) as server:
        browser = requests.Session()
        base = walk_to_test(server, browser)
        setup = Setup.objects.get(token=re.search(r"/s/([^/]+)$", base).group(1))
        # What a send that never returned leaves: its attempt, pending.
        attempt = TestAttempt.objects.create(
            setup=setup, signature=setup.signature, destination_masked="+278…567"
        )
        assert PENDING in browser.get(f"{base}/test/", timeout=10).text
        assert PENDING in browser.get(f"{base}/test/", timeout=10).text
        # The server's timeouts are the test's (server_env): after them and a margin, nobody is waiting.
        stale = timedelta(seconds=settings.CLICKATELL_CONNECT_TIMEOUT + settings.CLICKATELL_READ_TIMEOUT + 6)
        # The attempt, and the credentials it was sent with, are that much older.
        TestAttempt.objects.filter(pk=attempt.pk).update(started_at=attempt.started_at - stale)
        Setup.objects.filter(pk=setup.pk).update(credentials_saved_at=F("credentials_saved_at") - stale)
        page = browser.get(f"{base}/test/", timeout=10).text
        assert "know whether the test was sent" in page and PENDING not in page


def test_the_access_log_names_a_setup_by_its_reference_never_by_its_link(sandbox, tmp_path):
    load_catalog()
    access_log = tmp_path / "access.log"
    env = server_env(sandbox, tmp_path, REDIS_URL=None)
    with gunicorn(env, access_log=str(access_log)) as server:
        base = walk_to_test(server, requests.Session())
        requests.get(f"{base}/no-such-page/", timeout=10)
    token = re.search(r"/s/([^/]+)$", base).group(1)
    reference = Setup.objects.get(token=token).reference
    log = access_log.read_text()
    assert "/s/[token]/credentials/" in log and reference in log
    assert token not in log


def test_a_refused_username_in_any_script_comes_back_through_gunicorn(sandbox, tmp_path):
    """gunicorn sends only Latin-1 headers: the cookie that keeps a refused username holds plain ASCII,
    whatever script the customer typed it in."""
    load_catalog()
    with gunicorn(server_env(sandbox, tmp_path, REDIS_URL=None)) as server:
        browser = requests.Session()
        started = post(browser, f"{server}/", {"platform": "cerb-clickatell"})
        base = server + started.headers["Location"].rsplit("/fields/", 1)[0]
        assert post(browser, f"{base}/fields/", {"confirm": "yes"}).status_code == 302
        refused = post(
            browser, f"{base}/credentials/", {"username": "用户名", "password": "pw", "api_key": "3456789"}
        )
        assert refused.status_code == 200
        assert 'value="用户名"' in browser.get(f"{base}/credentials/", timeout=10).text
