"""Remembered step pages (flow/pages.py): served without rendering while nothing they show has changed,
never once it has, and always with the visitor's own CSRF token and CSP nonce."""

import re
import string
from datetime import timedelta

import pytest
from django.db import connection
from django.middleware.csrf import _unmask_cipher_token
from django.test import Client, RequestFactory
from django.test.signals import template_rendered
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from wizard.catalog.models import InstructionTemplate, Platform
from wizard.catalog.templates import publish
from wizard.flow import pages, services
from wizard.flow.models import TestAttempt
from wizard.vault.models import StoredSecret

from .conftest import MOBILE, REST_KEY
from .journeys import send_test_sms, url, walk_to_test

pytestmark = pytest.mark.django_db


def look(client, path: str, **headers):
    """GET a page: the response, how many templates were rendered for it, and how many queries it ran."""
    rendered = []

    def count(**kwargs):
        rendered.append(kwargs["template"])

    template_rendered.connect(count)
    try:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path, headers=headers)
    finally:
        template_rendered.disconnect(count)
    return response, len(rendered), len(queries)


def text(response) -> str:
    return response.content.decode()


def warm(client, path: str) -> None:
    """Show a page until it is remembered: a view that records where the customer is changes the
    fingerprint on the first look, so the second renders again and is the one remembered."""
    for _ in range(2):
        client.get(path)


def accepted_test(client, sandbox):
    """A setup whose test send Clickatell accepted: every step page can be shown."""
    setup = walk_to_test(client, "novu", {"api_key": REST_KEY})
    assert send_test_sms(client, setup).status_code == 302
    return setup


@pytest.mark.parametrize("step", ["app", "fields", "credentials", "test"])
def test_a_second_look_at_a_step_is_served_without_rendering_and_with_one_query(client, sandbox, step):
    setup = accepted_test(client, sandbox)
    client.get(url(setup, step))  # records that the customer is on this step
    first, rendered, _ = look(client, url(setup, step))
    assert first.status_code == 200 and rendered > 0
    again, rendered, queries = look(client, url(setup, step))
    assert again.status_code == 200 and rendered == 0 and queries == 1
    assert _without_per_request_values(again) == _without_per_request_values(first)


def test_the_home_page_is_remembered_until_staff_change_the_catalog(client):
    look(client, "/")
    again, rendered, _ = look(client, "/")
    assert rendered == 0 and "Novu" in text(again)
    novu = Platform.objects.get(slug="novu")
    novu.name = "Novu Cloud"
    novu.save()
    after, rendered, _ = look(client, "/")
    assert rendered > 0 and "Novu Cloud" in text(after)


def _nonce(response) -> str:
    return re.search(r'nonce="([^"]+)"', text(response)).group(1)


def _without_per_request_values(response) -> str:
    page = re.sub(r'nonce="[^"]+"', "nonce", text(response))
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "csrf", page)


def test_a_remembered_page_carries_each_visitors_own_csrf_token_and_nonce(client, sandbox):
    setup = walk_to_test(client, "novu", {"api_key": REST_KEY})
    warm(client, url(setup, "credentials"))
    mine, rendered, _ = look(client, url(setup, "credentials"))
    assert rendered == 0
    other = Client(enforce_csrf_checks=True)
    theirs, rendered, _ = look(other, url(setup, "credentials"))
    assert rendered == 0
    for response in (mine, theirs):
        assert f"'nonce-{_nonce(response)}'" in response["Content-Security-Policy"]
    assert _nonce(mine) != _nonce(theirs)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text(theirs)).group(1)
    posted = other.post(url(setup, "credentials"), {"api_key": REST_KEY, "csrfmiddlewaretoken": csrf})
    assert posted.status_code == 302  # the other browser's token, not the first one's: CSRF passes


def test_page_csrf_tokens_are_freshly_masked_copies_of_the_cookies_secret(client, sandbox):
    browser = Client(enforce_csrf_checks=True)
    setup = walk_to_test(client, "novu", {"api_key": REST_KEY})
    first = browser.get(url(setup, "credentials"))  # a first visit: Django makes the secret and its cookie
    secret = first.cookies["csrftoken"].value
    tokens = []
    for _ in range(3):
        page = browser.get(url(setup, "credentials"))
        assert page.cookies["csrftoken"].value == secret  # sent again, so its expiry is renewed
        tokens.append(re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text(page)).group(1))
    assert len(set(tokens)) == 3
    assert {_unmask_cipher_token(token) for token in tokens} == {secret}
    posted = browser.post(url(setup, "credentials"), {"api_key": REST_KEY, "csrfmiddlewaretoken": tokens[0]})
    assert posted.status_code == 302
    forged = tokens[0][:32] + tokens[0][33:] + ("A" if tokens[0][32] != "A" else "B")
    refused = browser.post(url(setup, "credentials"), {"api_key": REST_KEY, "csrfmiddlewaretoken": forged})
    assert refused.status_code == 403


def test_csrf_masks_use_every_character_of_djangos_alphabet():
    request = RequestFactory().get("/")
    request.META["CSRF_COOKIE"] = "s" * 32
    masks = "".join(pages.csrf_token(request)[:32] for _ in range(300))
    assert set(masks) == set(string.ascii_letters + string.digits)


def test_htmx_fragments_and_whole_pages_are_remembered_apart(client, sandbox):
    setup = walk_to_test(client, "novu", {"api_key": REST_KEY})
    path = url(setup, "credentials")
    warm(client, path)
    whole, _, _ = look(client, path)
    fragment, _, _ = look(client, path, HX_Request="true", HX_Target="wizard")
    again, rendered, _ = look(client, path)
    assert "<html" in text(whole) and "<html" not in text(fragment) and "<html" in text(again)
    assert rendered == 0 and fragment["HX-Push-Url"] == path


def test_forgetting_the_credentials_shows_at_once(client, sandbox):
    setup = walk_to_test(client, "novu", {"api_key": REST_KEY})
    warm(client, url(setup, "credentials"))
    assert "We hold your credentials" in text(look(client, url(setup, "credentials"))[0])
    services.forget_credentials(setup)  # the vault changes; the setup row does not
    assert "We hold your credentials" not in text(look(client, url(setup, "credentials"))[0])


def test_secrets_expiring_show_at_once(client, sandbox):
    setup = walk_to_test(client, "novu", {"api_key": REST_KEY})
    warm(client, url(setup, "test"))
    assert look(client, url(setup, "test"))[0].status_code == 200
    StoredSecret.objects.filter(owner=setup.vault_owner).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert look(client, url(setup, "test"))[0]["Location"].endswith("/credentials/")


def test_a_delivery_update_shows_at_once(client, sandbox):
    setup = accepted_test(client, sandbox)
    warm(client, url(setup, "test"))
    assert "on its way" in text(look(client, url(setup, "test"))[0])
    TestAttempt.objects.filter(setup=setup).update(delivery="delivered")
    assert "delivered to the phone" in text(look(client, url(setup, "test"))[0])


def test_an_agents_request_shows_at_once(client, sandbox):
    setup = accepted_test(client, sandbox)
    warm(client, url(setup, "test"))
    services.send_customer_to(setup, "credentials")
    assert look(client, url(setup, "test"))[0]["Location"].endswith("/credentials/")


def test_newly_published_instructions_show_at_once(client, sandbox):
    setup = accepted_test(client, sandbox)
    client.post(url(setup, "test") + "confirm/", {"arrived": "yes"})
    warm(client, url(setup, "instructions"))
    assert look(client, url(setup, "instructions"))[1] == 0
    draft = InstructionTemplate.objects.create(
        platform=setup.platform,
        signature=setup.signature,
        version=99,
        body="Open the new panel of {{ app_name }}.",
    )
    publish(draft)
    assert "Open the new panel of Novu (" in text(look(client, url(setup, "instructions"))[0])


def test_pages_showing_a_message_are_not_remembered(client, sandbox):
    setup = accepted_test(client, sandbox)
    response = client.post(url(setup, "test") + "confirm/", {"arrived": "no"}, follow=True)
    assert "Sorry it didn" in text(response)
    assert "Sorry it didn" not in text(look(client, url(setup, "test"))[0])


def test_another_number_typed_in_this_browser_is_shown_not_the_remembered_one(client, sandbox):
    setup = accepted_test(client, sandbox)
    warm(client, url(setup, "test"))
    send_test_sms(client, setup, "+27831234567")
    page = text(look(client, url(setup, "test"))[0])
    assert 'value="+27831234567"' in page and MOBILE not in page
