"""Helpers that walk the wizard through Django's test client, the way a form-submitting browser does."""

import re

from django.utils import timezone

from wizard.catalog.models import Platform
from wizard.flow import steps
from wizard.flow.models import Setup

from .conftest import MOBILE, REST_KEY, USERNAME


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


def passed_setup(slug: str, username: str = USERNAME, language: str = "en") -> Setup:
    """A setup whose test passed, at its instructions, as the wizard leaves it (its secrets long deleted)."""
    platform = Platform.objects.get(slug=slug)
    now = timezone.now()
    return Setup.objects.create(
        platform=platform,
        signature=platform.signature,
        app_fields=steps.app_fields_of(platform.signature_enum),
        username=username,
        api_key_hint=REST_KEY[-4:],
        credentials_saved_at=now,
        credentials_first_saved_at=now,
        test_passed_at=now,
        step=steps.INSTRUCTIONS,
        language=language,
    )
