"""Real gunicorn servers for tests that need the production server: a fixture layer, not a test."""

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from django.conf import settings
from django.db import connection

from wizard.vault import crypto

ROOT = Path(__file__).resolve().parent.parent
# A cold worker on a busy machine may take seconds to import Django and answer its first request.
READY_WITHIN_SECONDS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_env(sandbox, data_dir: Path, **overrides: str) -> dict:
    """The environment of a server over the test database pytest-django made (so a test sees what the
    server writes), pointed at the stand-in Clickatell."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DJANGO_SECRET_KEY": "served-test-secret-key-" + "x" * 40,
        "PORTAL_VAULT_KEYS": crypto.new_key_spec("shared"),
        "PORTAL_DATA_DIR": str(data_dir),
        "CLICKATELL_PLATFORM_URL": sandbox.url,
        "CLICKATELL_GATEWAY_URL": sandbox.url,
        "CLICKATELL_CONNECT_TIMEOUT": str(settings.CLICKATELL_CONNECT_TIMEOUT),
        "CLICKATELL_READ_TIMEOUT": str(settings.CLICKATELL_READ_TIMEOUT),
    }
    env.update(overrides)
    return {name: value for name, value in env.items() if value is not None}


def wait_until_ready(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + READY_WITHIN_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server at {url} exited: {log.read_text()[-2000:]}")
        try:
            requests.get(url + "/console/login/", timeout=5)
            return
        except requests.RequestException:  # not listening yet, or a worker still starting
            time.sleep(0.1)
    raise RuntimeError(f"the server at {url} did not answer within {READY_WITHIN_SECONDS} s")


@contextlib.contextmanager
def gunicorn(env: dict, *, workers: int = 1, threads: int | None = None, access_log: str = "/dev/null"):
    """One gunicorn server with the product's configuration; yields its base URL."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "wizard.wsgi:application",
        "--config",
        "wizard/gunicorn.conf.py",
    ]
    command += ["--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--access-logfile", access_log]
    if threads is not None:
        command += ["--threads", str(threads)]
    # The server's log goes to a file: a pipe nobody reads would fill up and stop the server.
    log = Path(env["PORTAL_DATA_DIR"]) / f"gunicorn-{port}.log"
    with log.open("w") as log_file:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log_file)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def form_tokens(html: str) -> dict:
    found = {"csrfmiddlewaretoken": re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)}
    attempt = re.search(r'name="attempt_token" value="([^"]+)"', html)
    if attempt:
        found["attempt_token"] = attempt.group(1)
    return found


def post(browser: requests.Session, url: str, data: dict) -> requests.Response:
    """Fill in the form on the page at ``url`` as a browser would, and submit it."""
    page = browser.get(url, timeout=10)
    return browser.post(
        url,
        data={**form_tokens(page.text), **data},
        headers={"Referer": url},
        timeout=10,
        allow_redirects=False,
    )
