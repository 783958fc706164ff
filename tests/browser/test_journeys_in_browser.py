"""Customer journeys in a real Chromium, with JavaScript (htmx) on and off."""

from urllib.parse import parse_qs

import pytest
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import expect

from tests.conftest import MOBILE, PASSWORD, REST_KEY, USERNAME

from .signin import enrol, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
BOTH = pytest.mark.parametrize("checked", [True, False], indirect=True, ids=["js", "nojs"])


def heading(checked, text: str):
    expect(checked.page.locator("h1")).to_contain_text(text)


def pick_app(checked, search: str, button_text: str):
    page = checked.page
    checked.goto("/")
    heading(checked, "Which app are you connecting")
    checked.check("choose app")
    page.get_by_label("Search apps").fill(search)
    if checked.javascript:
        expect(page.locator("#platform-list li")).to_have_count(1)  # htmx filtered as they typed
    else:
        page.get_by_role("button", name="Search").click()
    page.get_by_role("button", name=button_text).first.click()


def confirm_boxes(checked):
    heading(checked, "Which boxes does")
    checked.check("boxes")
    checked.page.get_by_label("Yes, my app shows these boxes").check()
    checked.page.get_by_role("button", name="Continue").click()


def send(checked, phone: str = MOBILE):
    heading(checked, "Send a test message")
    checked.page.get_by_label("Phone number").fill(phone)
    checked.page.get_by_role("button", name="Send").click()


@BOTH
def test_api_key_app_to_a_delivered_test_and_instructions(checked, sandbox):
    page = checked.page
    pick_app(checked, "novu", "Novu")
    confirm_boxes(checked)
    heading(checked, "Your Clickatell Portal credentials")
    expect(page.get_by_label("Account password")).to_have_count(0)
    checked.check("credentials")
    page.get_by_label("API Key").fill(REST_KEY)
    page.get_by_role("button", name="Save and continue").click()
    heading(checked, "Send a test message")
    checked.check("test form")
    send(checked)
    expect(page.locator(".outcome")).to_contain_text("Clickatell accepted the test message")
    assert sandbox.received()[0]["headers"]["Authorization"] == REST_KEY
    checked.check("accepted")
    page.get_by_role("button", name="Check delivery again").click()
    expect(page.locator(".delivery")).to_contain_text("delivered to the phone")
    page.get_by_role("button", name="Yes, it arrived").click()
    heading(checked, "Set up Novu")
    expect(page.locator(".boxes")).to_contain_text("ending …" + REST_KEY[-4:])
    checked.check("instructions")
    assert REST_KEY not in page.content()
    if checked.javascript:
        assert page.url.endswith("/instructions/")  # htmx kept the address bar right


@BOTH
def test_api_id_app_fails_on_a_wrong_password_is_fixed_and_succeeds(checked, sandbox):
    page = checked.page
    pick_app(checked, "zabbix", "Zabbix")
    confirm_boxes(checked)
    page.get_by_label("Account username").fill(USERNAME)
    page.get_by_label("Account password").fill("not-the-password")
    page.get_by_label("API Key").fill(REST_KEY)
    page.get_by_role("button", name="Save and continue").click()
    send(checked)
    outcome = page.locator(".outcome")
    expect(outcome).to_contain_text("did not accept your username or password")
    checked.check("wrong password")
    page.get_by_role("link", name="Fix it").click()
    heading(checked, "Your Clickatell Portal credentials")
    expect(page.get_by_label("Account username")).to_have_value(USERNAME)
    expect(page.get_by_label("Account password")).to_have_value("")  # never echoed back
    page.get_by_label("Account password").fill(PASSWORD)
    page.get_by_label("API Key").fill(REST_KEY)
    page.get_by_role("button", name="Save and continue").click()
    send(checked)
    expect(outcome).to_contain_text("Clickatell accepted the test message")
    body = parse_qs(sandbox.received()[-1]["body"])
    assert body["api_id"] == [REST_KEY] and body["password"] == [PASSWORD]
    page.get_by_role("button", name="Yes, it arrived").click()
    heading(checked, "Set up Zabbix")
    expect(page.locator(".box.highlight")).to_contain_text("GATEWAY_API_ID")
    checked.check("instructions")


@BOTH
def test_bad_input_is_explained_on_the_same_page(checked):
    page = checked.page
    pick_app(checked, "zabbix", "Zabbix")
    confirm_boxes(checked)
    page.get_by_label("Account username").fill("ops@acme.example")
    page.get_by_label("Account password").fill("secret")
    page.get_by_label("API Key").fill("3442105")
    page.get_by_role("button", name="Save and continue").click()
    expect(page.locator(".error").first).to_be_visible()
    expect(page.locator("#wizard")).to_contain_text("That is an e-mail address")
    expect(page.locator("#wizard")).to_contain_text("That looks like your old API ID")
    expect(page.get_by_label("Account username")).to_have_value("ops@acme.example")
    checked.check("credential errors")


@BOTH
def test_switching_language_after_a_refusal_keeps_the_username_typed(checked):
    page = checked.page
    pick_app(checked, "zabbix", "Zabbix")
    confirm_boxes(checked)
    page.get_by_label("Account username").fill(USERNAME)
    page.get_by_label("Account password").fill(PASSWORD)
    page.get_by_label("API Key").fill("3442105")
    page.get_by_role("button", name="Save and continue").click()
    # The refusal itself (the page says "old API ID" before it too): the language is chosen on the page
    # that answer brings, not on the one it replaces.
    expect(page.locator("#wizard")).to_contain_text("That looks like your old API ID")
    page.get_by_label("Language").select_option("fr")
    page.get_by_role("button", name="Change language").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    with translation.override("fr"):
        expect(page.get_by_label(gettext("Account username"))).to_have_value(USERNAME)
        expect(page.get_by_label(gettext("Account password"))).to_have_value("")
        expect(page.get_by_label(gettext("API Key"), exact=True)).to_have_value("")
    checked.check("credentials in French after a refusal")


@BOTH
def test_on_a_phone_a_refusal_opens_at_the_box_to_fix(checked, sandbox):
    page = checked.page
    page.set_viewport_size({"width": 360, "height": 740})
    pick_app(checked, "novu", "Novu")
    confirm_boxes(checked)
    page.get_by_label("API Key").fill("12345")
    page.get_by_role("button", name="Save and continue").click()
    key = page.get_by_label("API Key")
    expect(key).to_be_focused()
    expect(page.locator(".field.has-error .error")).to_be_in_viewport()
    expect(key).to_be_in_viewport()

    key.fill(REST_KEY)
    page.get_by_role("button", name="Save and continue").click()
    send(checked, "+27 82 123 45O7")
    phone = page.get_by_label("Phone number")
    expect(phone).to_be_focused()
    expect(page.locator(".field.has-error .error")).to_be_in_viewport()
    expect(phone).to_have_value("+27 82 123 45O7")
    assert sandbox.received() == []


@BOTH
def test_an_unlisted_app(checked, sandbox):
    page = checked.page
    checked.goto("/")
    page.get_by_role("button", name="My app isn't listed").click()
    heading(checked, "Which boxes does your app show")
    page.get_by_label("An API Key box").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#wizard")).to_contain_text("Choose the integration type")
    checked.check("integration missing")
    page.get_by_label("One API").check()
    page.get_by_role("button", name="Continue").click()
    heading(checked, "Your Clickatell Portal credentials")
    page.get_by_label("API Key", exact=True).fill("OneKeyAbCdEfGhIjKlMnOpQ==")
    page.get_by_role("button", name="Save and continue").click()
    send(checked)
    expect(page.locator(".outcome")).to_contain_text("Clickatell accepted")
    assert sandbox.received()[0]["path"] == "/v1/message"


@BOTH
def test_back_button_reload_and_resume_from_the_link(checked, browser):
    page = checked.page
    pick_app(checked, "novu", "Novu")
    confirm_boxes(checked)
    heading(checked, "Your Clickatell Portal credentials")
    credentials_url = page.url
    page.go_back()
    heading(checked, "Which boxes does Novu")
    page.reload()
    heading(checked, "Which boxes does Novu")
    page.go_forward()
    heading(checked, "Your Clickatell Portal credentials")
    assert page.url == credentials_url
    reference = page.locator(".reference .code").inner_text()
    page.get_by_label("API Key").fill(REST_KEY)
    page.get_by_role("button", name="Save and continue").click()
    heading(checked, "Send a test message")

    elsewhere = browser.new_context()  # closing the tab and opening the link later, even on another device
    other = elsewhere.new_page()
    other.goto(page.url)
    expect(other.locator("h1")).to_contain_text("Send a test message")
    expect(other.locator(".reference .code")).to_have_text(reference)
    elsewhere.close()


# CyberPower's instructions carry a whole web address to type, which must wrap too.
@pytest.mark.parametrize(("search", "app"), [("zabbix", "Zabbix"), ("cyberpower", "CyberPower PDU")])
def test_the_main_journey_fits_a_phone_screen(checked, search, app):
    page = checked.page
    page.set_viewport_size({"width": 360, "height": 740})
    pick_app(checked, search, app)
    assert_no_sideways_scrolling(page)
    confirm_boxes(checked)
    heading(checked, "Your Clickatell Portal credentials")
    assert_no_sideways_scrolling(page)
    page.get_by_label("Account username").fill(USERNAME)
    page.get_by_label("Account password").fill(PASSWORD)
    page.get_by_label("API Key").fill(REST_KEY)
    page.get_by_role("button", name="Save and continue").click()
    send(checked)
    expect(page.locator(".outcome")).to_contain_text("Clickatell accepted")
    assert_no_sideways_scrolling(page)
    page.get_by_role("button", name="Yes, it arrived").click()
    heading(checked, f"Set up {app}")
    checked.check("phone instructions")
    assert_no_sideways_scrolling(page)


def assert_no_sideways_scrolling(page):
    width, viewport = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= viewport, f"sideways scrolling on {page.url}: {width} > {viewport}"


def tab_to(page, locator, limit: int = 80):
    """Press Tab until the element has focus, as a keyboard user would."""
    handle = locator.element_handle()
    for _ in range(limit):
        if page.evaluate("(el) => document.activeElement === el", handle):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"could not reach {locator} with the keyboard")


def test_the_keyboard_alone_completes_the_main_journey(checked, sandbox):
    page = checked.page
    checked.goto("/")
    tab_to(page, page.get_by_label("Search apps"))
    page.keyboard.type("novu")
    expect(page.locator("#platform-list li")).to_have_count(1)
    tab_to(page, page.get_by_role("button", name="Novu"))
    page.keyboard.press("Enter")
    heading(checked, "Which boxes does")
    tab_to(page, page.get_by_label("Yes, my app shows these boxes"))
    page.keyboard.press("Space")
    tab_to(page, page.get_by_role("button", name="Continue"))
    page.keyboard.press("Enter")
    heading(checked, "Your Clickatell Portal credentials")
    tab_to(page, page.get_by_label("API Key"))
    page.keyboard.type(REST_KEY)
    page.keyboard.press("Enter")
    heading(checked, "Send a test message")
    tab_to(page, page.get_by_label("Phone number"))
    page.keyboard.type(MOBILE)
    page.keyboard.press("Enter")
    expect(page.locator(".outcome")).to_contain_text("Clickatell accepted")
    tab_to(page, page.get_by_role("button", name="Yes, it arrived"))
    page.keyboard.press("Enter")
    heading(checked, "Set up Novu")


@BOTH
def test_an_agent_follows_a_customer_live_in_a_second_browser(checked, browser, agent, live_server, sandbox):
    customer = checked.page
    pick_app(checked, "zabbix", "Zabbix")
    confirm_boxes(checked)
    reference = customer.locator(".reference .code").inner_text()

    desk = browser.new_context()
    console = desk.new_page()
    console.on(
        "console", lambda msg: msg.type == "error" and checked.problems.append(f"agent console: {msg.text}")
    )
    console.goto(f"{live_server.url}/console/")
    sign_in(console)
    enrol(console)  # the agent's first sign-in: an authenticator app, then recovery codes
    console.get_by_role("link", name="I've saved them: continue").click()
    console.get_by_label("Customer's reference code").fill(reference.lower().replace("-", " "))
    console.get_by_role("button", name="Find").click()
    expect(console.locator("h1")).to_contain_text(reference)
    expect(console.locator("#live")).to_contain_text("Your credentials")
    console_checked = type(checked)(console, live_server.url, "agent-console")
    console_checked.check("agent follows")

    customer.get_by_label("Account username").fill(USERNAME)
    customer.get_by_label("Account password").fill("a-wrong-password")
    customer.get_by_label("API Key").fill(REST_KEY)
    customer.get_by_role("button", name="Save and continue").click()
    send(checked)
    expect(customer.locator(".outcome")).to_contain_text("did not accept")

    # No reload on the agent's side: htmx polling brings the failure in.
    expect(console.locator("#live")).to_contain_text("ERR: 001, Authentication failed", timeout=10_000)
    expect(console.locator("#live")).to_contain_text("Clickatell did not accept your username or password")
    assert "a-wrong-password" not in console.content() and REST_KEY not in console.content()
    console_checked.check("agent sees failure")
    desk.close()
