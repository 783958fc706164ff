"""A step page always shows what is true when it is asked for: every change shows on the next look."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from wizard.catalog.models import InstructionTemplate
from wizard.catalog.templates import publish
from wizard.flow import services
from wizard.flow.models import Setup, TestAttempt
from wizard.vault.models import StoredSecret

from .conftest import MOBILE, REST_KEY
from .journeys import send_test_sms, url, walk_to_test

# The pending attempt's outcome heading (the send button's own "Sending…" shows only while htmx waits).
PENDING = '<h2 id="outcome-title">Sending…</h2>'

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return response.content.decode()


def accepted_test(client):
    """A setup whose test send Clickatell accepted: every step page can be shown."""
    setup = walk_to_test(client, "novu", {"api_key": REST_KEY})
    assert send_test_sms(client, setup).status_code == 302
    return setup


def test_htmx_gets_the_step_alone_and_a_page_load_the_whole_page(client, sandbox):
    setup = accepted_test(client)
    path = url(setup, "test")
    fragment = client.get(path, headers={"HX-Request": "true", "HX-Target": "wizard"})
    whole = client.get(path)
    assert "<html" in text(whole) and "<html" not in text(fragment) and 'id="wizard"' in text(whole)
    assert fragment["HX-Push-Url"] == path and "HX-Request" in whole["Vary"]
    search = client.get("/", {"q": "zabbix"}, headers={"HX-Request": "true", "HX-Target": "platform-list"})
    assert "zabbix-sms-client" in text(search) and "<form" not in text(search)


def test_no_template_syntax_shows_on_any_page(client, sandbox):
    """Django's {# #} comments end on their line: one spread over two shows as text, at the top of the page."""
    setup = accepted_test(client)
    pages = [client.get("/"), client.get("/console/login/")]
    pages += [client.get(url(setup, step)) for step in ("fields", "credentials", "test", "instructions")]
    for page in pages:
        assert page.status_code == 200
        assert "{#" not in text(page) and "{%" not in text(page), page.request["PATH_INFO"]


def test_every_template_comment_ends_on_its_own_line():
    from django.conf import settings

    for folder in settings.TEMPLATES[0]["DIRS"]:
        for template in Path(folder).rglob("*.html"):
            for number, line in enumerate(template.read_text().splitlines(), 1):
                assert line.count("{#") == line.count("#}"), f"{template}:{number}"


def test_every_step_pages_form_carries_a_csrf_token_that_django_accepts(sandbox):
    strict = Client(enforce_csrf_checks=True)
    home = text(strict.get("/"))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', home).group(1)
    started = strict.post("/", {"platform": "novu", "csrfmiddlewaretoken": token})
    assert started.status_code == 302
    fields = text(strict.get(started["Location"]))
    again = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', fields).group(1)
    assert again != token  # masked afresh on every page, as Django does
    assert (
        strict.post(started["Location"], {"confirm": "yes", "csrfmiddlewaretoken": again}).status_code == 302
    )


def test_forgetting_the_credentials_shows_at_once(client, sandbox):
    setup = walk_to_test(client, "novu", {"api_key": REST_KEY})
    assert "We hold your credentials" in text(client.get(url(setup, "credentials")))
    services.forget_credentials(setup)  # the vault changes; the setup row does not
    assert "We hold your credentials" not in text(client.get(url(setup, "credentials")))


def test_secrets_expiring_show_at_once(client, sandbox):
    setup = walk_to_test(client, "novu", {"api_key": REST_KEY})
    assert client.get(url(setup, "test")).status_code == 200
    StoredSecret.objects.filter(owner=setup.vault_owner).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert client.get(url(setup, "test"))["Location"].endswith("/credentials/")


def test_a_delivery_update_shows_at_once(client, sandbox):
    setup = accepted_test(client)
    assert "on its way" in text(client.get(url(setup, "test")))
    TestAttempt.objects.filter(setup=setup).update(delivery="delivered")
    assert "delivered to the phone" in text(client.get(url(setup, "test")))


def test_a_pending_attempt_tells_the_truth_as_the_clock_moves(client, sandbox):
    setup = walk_to_test(client, "novu", {"api_key": REST_KEY})
    attempt = TestAttempt.objects.create(
        setup=setup, signature=setup.signature, destination_masked="+278…567"
    )
    assert PENDING in text(client.get(url(setup, "test")))
    # A minute on: the attempt, and the credentials it was sent with, are a minute older.
    TestAttempt.objects.filter(pk=attempt.pk).update(started_at=attempt.started_at - timedelta(minutes=1))
    Setup.objects.filter(pk=setup.pk).update(
        credentials_saved_at=setup.credentials_saved_at - timedelta(minutes=1)
    )
    html = text(client.get(url(setup, "test")))
    assert "know whether the test was sent" in html and PENDING not in html


def test_an_agents_request_shows_at_once(client, sandbox):
    setup = accepted_test(client)
    assert client.get(url(setup, "test")).status_code == 200
    services.send_customer_to(setup, "credentials")
    assert client.get(url(setup, "test"))["Location"].endswith("/credentials/")
    assert client.get(url(setup, "test")).status_code == 200  # taken once


def test_newly_published_instructions_show_at_once(client, sandbox):
    setup = accepted_test(client)
    client.post(url(setup, "test") + "confirm/", {"arrived": "yes"})
    assert "Open the new panel" not in text(client.get(url(setup, "instructions")))
    draft = InstructionTemplate.objects.create(
        platform=setup.platform,
        signature=setup.signature,
        version=99,
        body="Open the new panel of {{ app_name }}.",
    )
    publish(draft)
    assert "Open the new panel of Novu (" in text(client.get(url(setup, "instructions")))


def test_a_message_shows_once(client, sandbox):
    setup = accepted_test(client)
    response = client.post(url(setup, "test") + "confirm/", {"arrived": "no"}, follow=True)
    assert "Sorry it didn" in text(response)
    assert "Sorry it didn" not in text(client.get(url(setup, "test")))


def test_another_number_typed_in_this_browser_is_shown_not_the_earlier_one(client, sandbox):
    setup = accepted_test(client)
    assert f'value="{MOBILE}"' in text(client.get(url(setup, "test")))
    send_test_sms(client, setup, "+27831234567")
    page = text(client.get(url(setup, "test")))
    assert 'value="+27831234567"' in page and MOBILE not in page


def test_an_agents_request_waits_for_a_page_load_while_the_customer_searches_for_their_app(client, sandbox):
    setup = accepted_test(client)
    services.send_customer_to(setup, "credentials")
    search = client.get(
        url(setup, "app"),
        {"q": "zabbix"},
        headers={"HX-Request": "true", "HX-Target": "platform-list"},
        follow=True,
    )
    assert search.status_code == 200 and "zabbix-sms-client" in text(search)
    assert text(search).lstrip().startswith('<div id="platform-list"')
    assert client.get(url(setup, "app"))["Location"].endswith("/credentials/")  # taken on the next page load


def test_a_search_keystroke_adds_no_history_entry_but_a_step_does(client, sandbox):
    """htmx lets an HX-Push-Url header win over the search box's hx-push-url="false"."""
    setup = accepted_test(client)
    for path in ("/", url(setup, "app")):
        search = client.get(path, {"q": "zab"}, headers={"HX-Request": "true", "HX-Target": "platform-list"})
        assert search.status_code == 200 and "HX-Push-Url" not in search
    step = client.get(url(setup, "app"), headers={"HX-Request": "true", "HX-Target": "wizard"})
    assert step["HX-Push-Url"] == url(setup, "app")


def test_a_delivery_check_left_on_an_older_page_shows_the_newer_tests_result(client, sandbox):
    setup = accepted_test(client)
    assert "Check delivery again" in text(client.get(url(setup, "test")))
    # Meanwhile, in another tab, a newer test is on its way to Clickatell.
    TestAttempt.objects.create(setup=setup, signature=setup.signature, destination_masked="+278…567")
    response = client.post(url(setup, "test") + "delivery/", follow=True)
    assert response.status_code == 200 and response.redirect_chain[-1][0] == url(setup, "test")
    assert "A newer test has been sent since: its result is below." in text(response)
    assert PENDING in text(response)


def test_every_box_points_screen_readers_at_help_and_errors_that_are_on_the_page(client, sandbox):
    setup = accepted_test(client)
    client.post(url(setup, "instructions") + "hand-on/")  # a link, with its e-mail form
    pages = [client.get(url(setup, step)) for step in ("fields", "credentials", "test", "instructions")]
    pages += [client.post(url(setup, "test"), {"phone": "", "attempt_token": "x"})]  # with an error
    pages += [client.post(url(setup, "credentials"), {"api_key": "123"})]
    described = set()
    for response in pages:
        html = text(response)
        for ids in re.findall(r'aria-describedby="([^"]+)"', html):
            for id_ in ids.split():
                described.add(id_)
                assert f'id="{id_}"' in html, (response.request["PATH_INFO"], id_)
    assert {"id_phone_helptext", "id_phone_error", "id_api_key_error"} <= described


def test_a_test_sent_before_the_credentials_were_saved_again_is_not_shown_as_their_result(client, sandbox):
    setup = accepted_test(client)
    assert "Did the text message arrive on your phone?" in text(client.get(url(setup, "test")))
    assert client.post(url(setup, "credentials"), {"api_key": REST_KEY}).status_code == 302
    html = text(client.get(url(setup, "test")))
    assert (
        "Your last test was sent before you saved these credentials. Send a new test to check them." in html
    )
    assert "Clickatell accepted the test message" not in html and "Did the text message arrive" not in html
    assert "Check delivery again" not in html and "Send the test message" in html
    asked = len(sandbox.received())
    # A button left on a page from before: nothing is asked about a message the new credentials never sent.
    assert client.post(url(setup, "test") + "delivery/")["Location"] == url(setup, "test")
    assert len(sandbox.received()) == asked
    assert "You haven't sent a successful test yet" in text(client.get(url(setup, "instructions")))
