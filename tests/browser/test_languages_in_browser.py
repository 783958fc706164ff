"""The wizard in each language, in a real Chromium whose browser asks for that language: a whole journey with
a failure (axe on every step, a screenshot of each), the language switch, and a phone-sized run."""

from urllib.parse import parse_qs

import pytest
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import expect

from tests.conftest import PASSWORD, REST_KEY, USERNAME
from wizard.catalog.models import Platform
from wizard.flow.models import Setup

from .conftest import Checked
from .test_journeys_in_browser import assert_no_sideways_scrolling

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LANGUAGES = [code for code, _ in settings.LANGUAGES]
# What Chromium sends as Accept-Language for each: a regional variant, as customers' phones do.
BROWSER_LOCALES = {"en": "en-ZA", "fr": "fr-FR", "es": "es-MX", "pt": "pt-BR"}


@pytest.fixture
def speaking(browser, live_server, catalog, sandbox, request):
    """A checked page in a browser that asks for ``request.param``'s language; the journey's words are
    looked up in our own catalogs, so the test reads the page the way that customer does."""
    language = request.param
    context = browser.new_context(locale=BROWSER_LOCALES[language])
    checked = Checked(context.new_page(), live_server.url, request.node.name)
    checked.language = language
    with translation.override(language):
        yield checked
    context.close()
    checked.assert_clean()


def say(text: str, **values) -> str:
    return gettext(text) % values if values else gettext(text)


def in_language(checked, heading: str):
    expect(checked.page.locator("html")).to_have_attribute("lang", checked.language)
    expect(checked.page.locator("h1")).to_contain_text(heading)


@pytest.mark.parametrize("speaking", LANGUAGES, indirect=True)
def test_a_whole_journey_with_a_wrong_password_in_each_language(speaking, sandbox):
    checked, page = speaking, speaking.page
    zabbix = Platform.objects.get(slug="zabbix-sms-client").name
    checked.goto("/")
    in_language(checked, say("Which app are you connecting to Clickatell?"))
    checked.check("choose app")
    page.get_by_label(say("Search apps")).fill("zabbix")
    expect(page.locator("#platform-list li")).to_have_count(1)
    page.get_by_role("button", name="Zabbix").first.click()
    in_language(checked, say("Which boxes does %(app)s show?", app=zabbix))
    checked.check("boxes")
    page.get_by_label(say("Yes, my app shows these boxes")).check()
    page.get_by_role("button", name=say("Continue")).click()

    in_language(checked, say("Your Clickatell Portal credentials"))
    checked.check("credentials")
    page.get_by_label(say("Account username")).fill(USERNAME)
    page.get_by_label(say("Account password")).fill("not-the-password")
    page.get_by_label(say("API Key"), exact=True).fill(REST_KEY)
    page.get_by_role("button", name=say("Save and continue")).click()

    in_language(checked, say("Send a test message"))
    checked.check("test form")
    page.get_by_label(say("Phone number")).fill("+27821234567")
    page.get_by_role("button", name=say("Send the test message")).click()
    outcome = page.locator(".outcome")
    expect(outcome).to_contain_text(say("Clickatell did not accept your username or password"))
    checked.check("wrong password")
    page.get_by_role("link", name=say("Fix it")).click()

    in_language(checked, say("Your Clickatell Portal credentials"))
    page.get_by_label(say("Account password")).fill(PASSWORD)
    page.get_by_label(say("API Key"), exact=True).fill(REST_KEY)
    page.get_by_role("button", name=say("Save and continue")).click()
    # The test with the wrong password was sent before these credentials: the page asks for a new one.
    expect(page.locator(".note")).to_contain_text(
        say("Your last test was sent before you saved these credentials. Send a new test to check them.")
    )
    page.get_by_role("button", name=say("Send the test message")).click()
    expect(outcome).to_contain_text(say("Clickatell accepted the test message"))
    checked.check("accepted")
    body = parse_qs(sandbox.received()[-1]["body"])
    reference = page.locator(".reference .code").inner_text()
    assert body["text"] == [
        say("Portal Switch test (ref %(reference)s): your Clickatell credentials work.", reference=reference)
    ]

    page.get_by_role("button", name=say("Yes, it arrived")).click()
    in_language(checked, say("Set up %(app)s", app=zabbix))
    expect(page.locator(".box.highlight")).to_contain_text(say("The API Key goes in this box."))
    checked.check("instructions")
    assert Setup.objects.get(reference=reference).language == checked.language


@pytest.mark.parametrize("speaking", ["en"], indirect=True)
def test_the_language_switch_reloads_the_page_in_the_chosen_language_and_keeps_it(
    speaking, browser, live_server
):
    checked, page = speaking, speaking.page
    checked.goto("/")
    page.get_by_role("button", name="Novu").first.click()
    in_language(checked, "Which boxes does")
    resume_link = page.url
    page.get_by_label("Language").select_option("fr")
    page.get_by_role("button", name="Change language").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("h1")).to_contain_text("Quelles cases")
    assert page.url == resume_link  # the same step, now in French
    checked.language = "fr"
    checked.check("switched to French")

    elsewhere = browser.new_context(locale="es-ES")  # the link, opened later on a Spanish phone
    other = elsewhere.new_page()
    other.goto(resume_link)
    expect(other.locator("html")).to_have_attribute("lang", "fr")
    expect(other.locator("h1")).to_contain_text("Quelles cases")
    elsewhere.close()


@pytest.mark.parametrize("speaking", ["pt"], indirect=True)
def test_a_phone_sized_journey_in_portuguese(speaking, sandbox):
    checked, page = speaking, speaking.page
    zabbix = Platform.objects.get(slug="zabbix-sms-client").name
    page.set_viewport_size({"width": 360, "height": 740})
    checked.goto("/")
    in_language(checked, say("Which app are you connecting to Clickatell?"))
    assert_no_sideways_scrolling(page)
    checked.check("phone choose app")
    page.get_by_label(say("Search apps")).fill("zabbix")
    expect(page.locator("#platform-list li")).to_have_count(1)
    page.get_by_role("button", name="Zabbix").first.click()
    page.get_by_label(say("Yes, my app shows these boxes")).check()
    assert_no_sideways_scrolling(page)
    page.get_by_role("button", name=say("Continue")).click()
    page.get_by_label(say("Account username")).fill(USERNAME)
    page.get_by_label(say("Account password")).fill(PASSWORD)
    page.get_by_label(say("API Key"), exact=True).fill(REST_KEY)
    assert_no_sideways_scrolling(page)
    checked.check("phone credentials")
    page.get_by_role("button", name=say("Save and continue")).click()
    page.get_by_label(say("Phone number")).fill("+27821234567")
    page.get_by_role("button", name=say("Send the test message")).click()
    expect(page.locator(".outcome")).to_contain_text(say("Clickatell accepted the test message"))
    assert_no_sideways_scrolling(page)
    checked.check("phone accepted")
    page.get_by_role("button", name=say("Yes, it arrived")).click()
    in_language(checked, say("Set up %(app)s", app=zabbix))
    assert_no_sideways_scrolling(page)
    checked.check("phone instructions")
