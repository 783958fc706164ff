"""Helpers that walk the wizard through Django's test client, the way a form-submitting browser does."""

import re

from wizard.flow.models import Setup

from .conftest import MOBILE


def start(client, platform: str) -> Setup:
    response = client.post("/", {"platform": platform})
    assert response.status_code == 302, response
    token = re.search(r"/s/([^/]+)/fields/", response["Location"]).group(1)
    return Setup.objects.get(token=token)


def url(setup: Setup, step: str) -> str:
    return f"/s/{setup.token}/{step}/"


def send_token(client, setup: Setup) -> str:
    page = client.get(url(setup, "test")).content.decode()
    return re.search(r'name="attempt_token" value="([^"]+)"', page).group(1)


def send_test_sms(client, setup: Setup, phone: str = MOBILE):
    return client.post(url(setup, "test"), {"phone": phone, "attempt_token": send_token(client, setup)})


def walk_to_test(client, platform: str, credentials: dict, fields: dict | None = None) -> Setup:
    setup = start(client, platform)
    response = client.post(url(setup, "fields"), fields or {"confirm": "yes"})
    assert response.status_code == 302 and response["Location"].endswith("/credentials/"), response
    response = client.post(url(setup, "credentials"), credentials)
    assert response.status_code == 302 and response["Location"].endswith("/test/"), response.content.decode()
    setup.refresh_from_db()
    return setup
