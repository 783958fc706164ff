"""Two app servers over one PostgreSQL and one Redis: nothing is held in a single process."""

import os
import re

import pytest
import requests
from django.conf import settings
from django.db import connection

from .conftest import MOBILE, REST_KEY
from .servers import gunicorn, post, server_env

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (os.environ.get("DATABASE_URL") and settings.REDIS_URL),
        reason="needs PostgreSQL and Redis: './portal test' starts both for its second pass",
    ),
]


@pytest.fixture
def two_servers(sandbox, tmp_path):
    # A day's window: these servers run on the real clock, and an hour's could turn between two sends.
    env = server_env(sandbox, tmp_path, REDIS_URL=settings.REDIS_URL, PORTAL_LIMIT_PER_IP="2/86400")
    with gunicorn(env) as a, gunicorn(env) as b:
        yield a, b


def test_a_setup_begun_on_one_server_continues_on_the_other_and_limits_count_across_both(
    two_servers, sandbox
):
    from wizard.catalog.loader import load_catalog

    load_catalog()
    a, b = two_servers
    browser = requests.Session()
    started = post(browser, f"{a}/", {"platform": "novu"})
    path = started.headers["Location"]
    token = re.search(r"/s/([^/]+)/", path).group(1)
    assert post(browser, f"{b}/s/{token}/fields/", {"confirm": "yes"}).status_code == 302
    assert post(browser, f"{a}/s/{token}/credentials/", {"api_key": REST_KEY}).status_code == 302
    assert post(browser, f"{b}/s/{token}/test/", {"phone": MOBILE}).status_code == 302
    assert "Clickatell accepted the test message" in browser.get(f"{a}/s/{token}/test/", timeout=10).text

    # The per-IP budget is 2 on each server; counted in Redis, it is 2 for both together.
    assert post(browser, f"{a}/s/{token}/test/", {"phone": "+27821234568"}).status_code == 302
    refused = post(browser, f"{b}/s/{token}/test/", {"phone": "+27821234569"})
    assert refused.status_code == 429 and "sent from your network" in refused.text
    assert len(sandbox.received()) == 2


def test_customers_get_no_error_when_the_database_drops_the_servers_connections(two_servers):
    """What a database restart or failover does to every connection the servers keep open."""
    from concurrent.futures import ThreadPoolExecutor

    a, _ = two_servers

    def pages(count: int) -> list[int]:
        with ThreadPoolExecutor(16) as pool:
            return list(pool.map(lambda _: requests.get(f"{a}/", timeout=10).status_code, range(count)))

    assert set(pages(64)) == {200}  # many of the server's threads now hold a connection
    with connection.cursor() as cursor:
        cursor.execute(
            # Waiting (up to 5 s) until each is gone, as after a restart: a connection killed in the
            # middle of a request is another matter, which no check before the query can catch.
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        assert len(cursor.fetchall()) >= 2
    assert set(pages(64)) == {200}
