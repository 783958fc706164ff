"""Two app servers over one PostgreSQL and one Redis: nothing is held in a single process."""

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connection

from wizard.vault import crypto

from .conftest import MOBILE, REST_KEY

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (os.environ.get("DATABASE_URL") and settings.REDIS_URL),
        reason="needs PostgreSQL and Redis: './portal test' starts both for its second pass",
    ),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def two_servers(sandbox, tmp_path):
    db = connection.settings_dict
    env = {
        **os.environ,
        # The test database pytest-django made, so the test can see what the servers write.
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DJANGO_SECRET_KEY": "scale-out-test-secret-key-" + "x" * 40,
        "PORTAL_VAULT_KEYS": crypto.new_key_spec("shared"),
        "PORTAL_DATA_DIR": str(tmp_path),
        "CLICKATELL_PLATFORM_URL": sandbox.url,
        "CLICKATELL_GATEWAY_URL": sandbox.url,
        # A day's window: these servers run on the real clock, and an hour's could turn between two sends.
        "PORTAL_LIMIT_PER_IP": "2/86400",
    }
    servers, urls = [], []
    for _ in range(2):
        port = free_port()
        servers.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "wizard.wsgi:application",
                    "--config",
                    "wizard/gunicorn.conf.py",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    "1",
                    "--access-logfile",
                    "/dev/null",
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
        )
        urls.append(f"http://127.0.0.1:{port}")
    for url in urls:
        for _ in range(100):
            try:
                requests.get(url + "/console/login/", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
    yield urls
    for server in servers:
        server.terminate()
        server.wait(timeout=10)


def form_tokens(html: str) -> dict:
    found = {"csrfmiddlewaretoken": re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)}
    attempt = re.search(r'name="attempt_token" value="([^"]+)"', html)
    if attempt:
        found["attempt_token"] = attempt.group(1)
    return found


def post(browser, url, data):
    page = browser.get(url, timeout=10)
    return browser.post(
        url,
        data={**form_tokens(page.text), **data},
        headers={"Referer": url},
        timeout=10,
        allow_redirects=False,
    )


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
