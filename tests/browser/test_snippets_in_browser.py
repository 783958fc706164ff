"""Snippets and hand-on links in a real Chromium: the browser's own encoders, the local fill-in and copy,
and a colleague's second browser opening a hand-on link."""

import json

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.conftest import MOBILE, PASSWORD, REST_KEY, USERNAME
from tests.journeys import passed_setup, walk_to_test
from tests.snippet_parsers import SENTINELS, assert_round_trip, assert_round_trips, parse
from wizard.catalog import snippets
from wizard.catalog.loader import DATA_FILE
from wizard.flow.models import HandOnLink

from .conftest import Checked

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOSTILE = [
    {"username": USERNAME, "password": "p&ss w#rd+%'\"\\$;", "api_key": "AbC/dEf+Gh=="},
    {"username": "jane o'brien", "password": " a'b\"c\\d e #!:=;,?@/ ", "api_key": "x=y/z=="},
    {
        "username": "user+1@example.com",
        "password": "ünï€ode ß %41 ${HOME}$$",
        "api_key": "Key0123456789abcdefAB==",
    },
]
SEEDED = [snippet for entry in json.loads(DATA_FILE.read_text()) for snippet in entry.get("snippets", [])]


@pytest.fixture
def customer(browser, live_server, catalog, sandbox, request):
    """A checked page whose context may read the clipboard, with every request it makes recorded."""
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    wrapper = Checked(page, live_server.url, request.node.name)
    wrapper.requests = []
    page.on(
        "request",
        lambda r: wrapper.requests.append(f"{r.url}\n{r.all_headers()}\n{r.post_data or ''}"),
    )
    yield wrapper
    context.close()
    wrapper.assert_clean()


def test_the_browsers_encoders_write_every_snippet_so_its_parser_reads_the_values_back(customer):
    customer.goto("/")
    # Written as the page writes it (data-format): a shell snippet that is a Nagios definition, for Nagios.
    cases = [
        {
            "format": snippets.written_as(s["body"], s["format"]),
            "parts": [[p.text, p.slot] for p in snippets.parts(s["body"], s["format"], v["username"])],
        }
        for s in SEEDED
        for v in HOSTILE
    ]
    written = customer.page.evaluate(
        """([cases, values]) => cases.map((c, i) => c.parts.map(([text, slot]) =>
            slot ? window.portalSnippetEncoders[c.format](values[i % values.length][slot]) : text).join(""))""",
        [cases, HOSTILE],
    )
    for n, snippet in enumerate(SEEDED):
        texts = written[n * len(HOSTILE) : (n + 1) * len(HOSTILE)]
        for text, values in zip(texts, HOSTILE, strict=True):
            assert text == snippets.filled(
                snippet["body"], snippet["format"], values
            )  # the page's own preview
        assert_round_trips(
            snippets.written_as(snippet["body"], snippet["format"]),
            snippets.filled(snippet["body"], snippet["format"], SENTINELS),
            list(zip(texts, HOSTILE, strict=True)),
        )


@pytest.mark.parametrize(
    ("slug", "title"),
    [
        ("sachet", "config.yml"),
        ("symfony-notifier-clickatell", ".env"),
        ("nagios-notify-clickatell", "commands.cfg"),
    ],
)
def test_a_snippet_filled_in_and_copied_is_the_expected_text_and_nothing_is_sent(customer, slug, title):
    setup = passed_setup(slug)
    page = customer.page
    customer.goto(f"/s/{setup.token}/instructions/")
    expect(page.locator("h1")).to_contain_text("Set up")
    customer.check("snippets before fill-in")
    values = HOSTILE[0]
    if page.locator("#fill-password").count():
        page.get_by_label("Account Password").fill(values["password"])
    page.get_by_label("API Key").fill(values["api_key"])
    page.get_by_role("button", name=f"Copy {title}").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    copied = page.evaluate("navigator.clipboard.readText()")
    customer.check("snippets filled in")

    snippet = next(s for s in setup.platform.snippets.all() if s.title == title)
    read_as = snippets.written_as(snippet.body, snippet.format)
    assert copied == snippets.filled(snippet.body, snippet.format, values)
    assert_round_trip(read_as, snippets.filled(snippet.body, snippet.format, SENTINELS), copied, values)
    assert parse(read_as, copied)  # read by the app's own parser, not only compared
    # No request, before, during or after the fill-in and the copy, carried either secret in any form.
    recorded = "\n".join(customer.requests)
    assert recorded
    for secret in (values["password"], values["api_key"]):
        for form in {secret, snippets.encode("url", secret), snippets.encode(read_as, secret)}:
            assert form not in recorded


def test_in_french_the_copy_buttons_say_so_in_french(browser, live_server, catalog, sandbox, request):
    setup = passed_setup("sachet", language="fr")
    context = browser.new_context(locale="fr-FR", permissions=["clipboard-read", "clipboard-write"])
    customer = Checked(context.new_page(), live_server.url, request.node.name)
    page = customer.page
    customer.goto(f"/s/{setup.token}/instructions/")
    expect(page.locator("html")).to_have_attribute("lang", "fr")

    # The username's button (app.js) and the snippet's (snippets.js).
    page.get_by_role("button", name="Copier", exact=True).click()
    expect(page.locator(".box.role-username button.copy")).to_have_text("Copié")
    assert page.evaluate("navigator.clipboard.readText()") == USERNAME
    page.get_by_role("button", name="Copier config.yml").click()
    expect(page.locator("button.copy-snippet")).to_have_text("Copié")
    assert f'user: "{USERNAME}"' in page.evaluate("navigator.clipboard.readText()")
    customer.check("copied in French")
    context.close()
    customer.assert_clean()


def test_instructions_reached_through_htmx_after_a_later_yes_fill_in_the_snippets(customer, client):
    setup = walk_to_test(
        client, "zabbix-sms-client", {"username": USERNAME, "password": PASSWORD, "api_key": REST_KEY}
    )
    page = customer.page
    customer.goto(f"/s/{setup.token}/test/")
    page.get_by_label("Phone number").fill(MOBILE)
    page.get_by_role("button", name="Send the test message").click()
    expect(page.locator(".outcome")).to_contain_text("Clickatell accepted the test message")
    page.get_by_role("button", name="No, not yet").click()
    expect(page.locator(".messages")).to_contain_text("Sorry it didn")
    customer.check("asked again after not yet")
    page.evaluate("window.loadedOnce = true")  # gone if the next step came as a whole new page
    page.get_by_role("button", name="Yes, it arrived").click()
    expect(page.locator("h1")).to_contain_text("Set up Zabbix")
    assert page.url.endswith("/instructions/") and page.evaluate("window.loadedOnce") is True
    expect(page.locator(".snippet-fill")).to_be_visible()
    page.get_by_label("Account Password").fill("typed-in-the-page")
    expect(page.locator("figure.snippet pre").first).to_contain_text("typed-in-the-page")
    customer.check("filled in after htmx")


@pytest.mark.parametrize("checked", [False], indirect=True, ids=["nojs"])
def test_without_javascript_the_snippet_shows_placeholders_and_says_what_to_replace(checked):
    setup = passed_setup("zabbix-sms-client")
    checked.goto(f"/s/{setup.token}/instructions/")
    page = checked.page
    expect(page.locator("figure.snippet pre")).to_contain_text(
        "define('GATEWAY_PASSWORD', YOUR_ACCOUNT_PASSWORD);"
    )
    expect(page.locator(".snippet-replace")).to_contain_text("YOUR_API_KEY with your API Key")
    expect(page.locator(".snippet-fill")).to_be_hidden()
    checked.check("snippets without javascript")


def test_a_colleagues_browser_opens_the_hand_on_link_and_a_revoked_or_expired_one_says_so(customer, browser):
    setup = passed_setup("sachet")
    page = customer.page
    customer.goto(f"/s/{setup.token}/instructions/")
    page.get_by_role("button", name="Make a link for a colleague").click()
    expect(page.locator(".messages")).to_contain_text("Your link is ready")
    address = page.locator(".hand-on-links input[readonly]").first.input_value()
    assert address.startswith(customer.base_url + "/h/")
    customer.check("hand-on link made")

    context = browser.new_context()  # a second browser: no session, no cookies
    colleague = Checked(context.new_page(), customer.base_url, customer.name + "-colleague")
    colleague.page.goto(address)
    expect(colleague.page.locator("h1")).to_contain_text("Set up Sachet")
    expect(colleague.page.locator("figure.snippet pre")).to_contain_text(f'user: "{USERNAME}"')
    expect(colleague.page.locator("form")).to_have_count(0)  # nothing on it changes anything
    assert setup.token not in colleague.page.content()
    colleague.check("hand-on page")

    page.get_by_role("button", name="Revoke this link").click()
    expect(page.locator(".messages")).to_contain_text("The link is revoked")
    colleague.page.reload()
    expect(colleague.page.locator("h1")).to_contain_text("This link no longer works")
    expect(colleague.page.locator(".lead")).to_contain_text("revoked it")
    colleague.check("revoked")

    page.get_by_role("button", name="Make a link for a colleague").click()
    expect(page.locator(".messages")).to_contain_text("Your link is ready")
    second = page.locator(".hand-on-links input[readonly]").first.input_value()
    HandOnLink.objects.filter(revoked_at=None).update(expires_at=timezone.now())
    colleague.page.goto(second)
    expect(colleague.page.locator(".lead")).to_contain_text("It expired on")
    colleague.check("expired")
    context.close()
    # Chromium logs every 4xx page load as a console error: the two 410 pages are the expected ones.
    gone = [p for p in colleague.problems if "Failed to load resource" in p and "/h/" in p]
    assert len(gone) == 2, colleague.problems
    colleague.problems = [p for p in colleague.problems if p not in gone]
    colleague.assert_clean()
