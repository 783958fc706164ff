"""What the customer sees, with htmx, while a request runs and when the server refuses or fails it: what a
page load without JavaScript shows, never nothing."""

import pytest
from django.conf import settings
from playwright.sync_api import expect

from tests.conftest import MOBILE, REST_KEY
from tests.journeys import passed_setup, send_test_sms, start, url, walk_to_test
from wizard.flow import services
from wizard.flow.models import Setup

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
BOTH = pytest.mark.parametrize("checked", [True, False], indirect=True, ids=["js", "nojs"])


def expect_errors(checked, status: int, by_htmx: bool = True):
    """Chromium logs an error reply as a console error, and htmx (for a status it has no swap of its own
    for) once more: these are the expected ones, and all there are."""
    expected = [
        p
        for p in checked.problems
        if "Failed to load resource" in p or f"Response Status Error Code {status}" in p
    ]
    assert len(expected) == (2 if checked.javascript and by_htmx else 1), checked.problems
    checked.problems = [p for p in checked.problems if p not in expected]


def at_credentials(client) -> Setup:
    setup = start(client, "novu")
    client.post(url(setup, "fields"), {"confirm": "yes"})
    return setup


@BOTH
def test_a_form_refused_for_missing_cookies_shows_the_page_that_says_what_to_do(checked, client):
    setup = at_credentials(client)
    page = checked.page
    checked.goto(url(setup, "credentials"))
    page.evaluate("window.loadedOnce = true")
    page.context.clear_cookies()
    page.get_by_label("API Key").fill(REST_KEY)
    page.get_by_role("button", name="Save and continue").click()
    expect(page.locator("h1")).to_have_text("Your form could not be sent")
    expect(page.get_by_role("link", name="Start connecting your app")).to_be_visible()
    expect(page).to_have_title("Please try again · Portal Switch")
    if checked.javascript:
        assert page.evaluate("window.loadedOnce") is True  # swapped in by htmx
        expect(page.locator("h1")).to_be_focused()
        expect(page.locator("header.site-header")).to_have_count(
            1
        )  # the page's main content, not a page in a page
    checked.check("form refused")
    expect_errors(checked, 403)


@BOTH
def test_a_setup_deleted_while_its_page_is_open_shows_the_not_found_page(checked, client):
    setup = at_credentials(client)
    page = checked.page
    checked.goto(url(setup, "credentials"))
    Setup.objects.filter(pk=setup.pk).delete()
    page.get_by_role("navigation", name="Setup progress").get_by_role("link", name="Its boxes").click()
    expect(page.locator("h1")).to_have_text("We can't find this page")
    expect(page.get_by_role("link", name="Start connecting your app")).to_be_visible()
    checked.check("setup gone")
    expect_errors(checked, 404)


@BOTH
def test_a_form_too_large_to_read_shows_the_page_that_says_so(checked, client):
    """Django refuses a body over DATA_UPLOAD_MAX_MEMORY_SIZE before any view: its 400 page is a whole
    page of ours, not the wizard's answer-to-correct swapped into the step."""
    setup = at_credentials(client)
    page = checked.page
    checked.goto(url(setup, "credentials"))
    page.evaluate("window.loadedOnce = true")
    key_box = page.get_by_label("API Key")
    key_box.evaluate("box => box.removeAttribute('maxlength')")  # a document pasted past the box's limit
    key_box.fill("A" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    page.get_by_role("button", name="Save and continue").click()
    expect(page.locator("h1")).to_have_text("We could not read what was sent")
    expect(page.locator("header.site-header")).to_have_count(1)  # the page, not a page in the step
    expect(page).to_have_title("We could not read what was sent · Portal Switch")
    if checked.javascript:
        assert page.evaluate("window.loadedOnce") is True  # swapped in by htmx
        expect(page.locator("h1")).to_be_focused()
    checked.check("form too large")
    expect_errors(checked, 400, by_htmx=False)


@BOTH
def test_a_server_error_shows_the_something_went_wrong_page(checked, client, monkeypatch):
    setup = at_credentials(client)
    page = checked.page
    checked.goto(url(setup, "credentials"))

    def broken(*args, **kwargs):
        raise RuntimeError("a fault in the server")

    monkeypatch.setattr(services, "move_to", broken)  # the live server runs in this process
    page.get_by_role("navigation", name="Setup progress").get_by_role("link", name="Its boxes").click()
    expect(page.locator("h1")).to_have_text("Something went wrong on our side")
    if checked.javascript:
        expect(page.locator("h1")).to_be_focused()
    checked.check("server error")
    expect_errors(checked, 500)


def test_an_error_page_that_is_not_ours_is_shown_whole(checked, client):
    setup = at_credentials(client)
    page = checked.page
    checked.goto(url(setup, "credentials"))
    proxy_page = (
        "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
    )
    page.route(
        "**/credentials/", lambda route: route.fulfill(status=502, body=proxy_page, content_type="text/html")
    )
    page.get_by_label("API Key").fill(REST_KEY)
    page.get_by_role("button", name="Save and continue").click()
    expect(page.locator("main h1")).to_have_text("502 Bad Gateway")
    expect_errors(checked, 502)


def test_a_slow_test_send_says_sending_and_takes_no_second_tap(checked, client, sandbox):
    setup = walk_to_test(client, "novu", {"api_key": REST_KEY})
    page = checked.page
    checked.goto(url(setup, "test"))
    sending = page.locator("form.send").get_by_text("Sending…")
    expect(sending).to_be_hidden()
    checked.check("before sending")
    page.get_by_label("Phone number").fill(MOBILE)
    sandbox.fail_next("slow", seconds=1.5)  # Clickatell takes its time to answer
    button = page.get_by_role("button", name="Send the test message")
    button.click()
    expect(button).to_be_disabled()
    expect(sending).to_be_visible()
    expect(page.locator(".outcome")).to_contain_text("Clickatell accepted the test message")
    expect(page.get_by_role("button", name="Send another test")).to_be_enabled()
    expect(page.locator("form.send").get_by_text("Sending…")).to_be_hidden()
    assert len(sandbox.received()) == 1


def test_a_mistyped_colleagues_address_keeps_the_instructions_address(checked):
    setup = passed_setup("sachet")
    page = checked.page
    checked.goto(url(setup, "instructions"))
    page.get_by_role("button", name="Make a link for a colleague").click()
    page.get_by_label("E-mail address").fill("colleague at example")
    page.get_by_role("button", name="E-mail this link").click()
    expect(page.locator(".hand-on-email .error")).to_be_visible()
    assert page.url.split("#")[0].endswith(url(setup, "instructions")), page.url
    page.reload()
    expect(page.locator("h1")).to_contain_text("Set up Sachet")
    checked.check("instructions after a mistyped address")
    expect_errors(checked, 400, by_htmx=False)  # a step's own refusal, swapped as the step


def fail_once(page, path_end: str):
    """The next request to an address ending so gets no answer (the network drops it), later ones go through."""
    dropped = []

    def handle(route):
        if dropped:
            route.continue_()
        else:
            dropped.append(route.request.method)
            route.abort("internetdisconnected")

    page.route(f"**{path_end}", handle)
    return dropped


def test_a_request_that_gets_no_answer_is_made_again_by_the_browser(checked, client, sandbox):
    setup = walk_to_test(client, "novu", {"api_key": REST_KEY})
    send_test_sms(client, setup)  # a test already sent, awaiting the customer's answer
    page = checked.page
    checked.goto(url(setup, "test"))

    dropped = fail_once(page, "/test/confirm/")  # a form: its pressed button is part of the answer
    page.get_by_role("button", name="Yes, it arrived").click()
    expect(page.locator("h1")).to_contain_text("Set up Novu")
    assert dropped == ["POST"]
    setup.refresh_from_db()
    assert setup.delivery_confirmed is True

    dropped = fail_once(page, "/fields/")  # a link
    page.get_by_role("navigation", name="Setup progress").get_by_role("link", name="Its boxes").click()
    expect(page.locator("h1")).to_contain_text("Which boxes does Novu")
    assert dropped == ["GET"]
    # Chromium logs each dropped request, and htmx its failure: these are the expected ones, and all there are.
    dropped_lines = ("ERR_INTERNET_DISCONNECTED", "htmx:sendError", "htmx:afterRequest")
    expected = [p for p in checked.problems if any(line in p for line in dropped_lines)]
    assert expected, checked.problems
    checked.problems = [p for p in checked.problems if p not in expected]
