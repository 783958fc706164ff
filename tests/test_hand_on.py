"""The instructions' snippets on the page, and hand-on links: the instructions, read-only, for a colleague."""

import logging
import re
import socket
from datetime import timedelta
from html import unescape

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from wizard.flow.models import HandOnLink, HandOnOpen, Setup
from wizard.vault.redaction import redact

from .conftest import HTTP_KEY, PASSWORD, REST_KEY, USERNAME
from .journeys import send_test_sms, start, url, walk_to_test

pytestmark = pytest.mark.django_db

LEGACY_CREDENTIALS = {"username": USERNAME, "password": PASSWORD, "api_key": REST_KEY}


def passed_setup(client, platform: str) -> Setup:
    setup = walk_to_test(client, platform, LEGACY_CREDENTIALS)
    send_test_sms(client, setup)
    client.post(f"/s/{setup.token}/test/confirm/", {"arrived": "yes"})
    return setup


def text(response) -> str:
    return unescape(response.content.decode())


def make_link(client, setup: Setup) -> str:
    response = client.post(url(setup, "instructions") + "hand-on/", follow=True)
    assert "Your link is ready" in text(response)
    link = setup.hand_on_links.get()
    address = f"/h/{link.token}/"
    assert f"http://testserver{address}" in text(response)
    return address


def test_the_instructions_show_the_apps_snippet_with_the_username_and_placeholders(client, sandbox):
    setup = passed_setup(client, "sachet")
    html = text(client.get(url(setup, "instructions")))
    assert "config.yml" in html and "Ready to paste" in html
    assert f'user: "{USERNAME}"' in html
    assert (
        'data-slot="password">YOUR_ACCOUNT_PASSWORD<' in html and 'data-slot="api_key">YOUR_API_KEY<' in html
    )
    # Without JavaScript, the page says what to replace; the fill-in box is for the browser only.
    assert "YOUR_ACCOUNT_PASSWORD with your Account Password" in html
    assert re.search(r'<div class="snippet-fill" hidden>', html)
    assert not re.search(r"<input[^>]*data-fill[^>]*name=", html)  # no name: nothing a form could send
    # Sachet puts the password into a URL as it is: the page says so next to the snippet.
    assert "puts your password into a web address without encoding it" in html
    assert PASSWORD not in html and REST_KEY not in html


def test_an_app_set_up_in_boxes_has_no_snippet(client, sandbox):
    setup = passed_setup(client, "cerb-clickatell")
    assert "Ready to paste" not in text(client.get(url(setup, "instructions")))


def test_a_colleague_opens_the_hand_on_link_without_the_customers_session(client, sandbox):
    setup = passed_setup(client, "zabbix-sms-client")
    address = make_link(client, setup)
    colleague = Client()  # another browser: no session, no cookies
    response = colleague.get(address)
    html = text(response)
    assert response.status_code == 200
    assert "Set up Zabbix" in html and "define('GATEWAY_USER', 'acme-ops');" in html
    assert "YOUR_ACCOUNT_PASSWORD" in html and "GATEWAY_API_ID" in html
    assert "<form" not in html  # nothing on it changes the setup
    assert setup.token not in html  # nor leads to the customer's own pages
    assert PASSWORD not in html and REST_KEY not in html
    assert HandOnOpen.objects.filter(link__setup=setup).count() == 1
    colleague.get(address)
    assert HandOnOpen.objects.filter(link__setup=setup).count() == 2


def test_a_revoked_link_says_so_and_records_no_opening(client, sandbox):
    setup = passed_setup(client, "sachet")
    address = make_link(client, setup)
    link = setup.hand_on_links.get()
    html = text(client.post(url(setup, "instructions") + f"hand-on/{link.pk}/revoke/", follow=True))
    assert "The link is revoked" in html and address not in html
    # Revoked again from a page left open in another tab: said too, in the links' section.
    again = client.post(url(setup, "instructions") + f"hand-on/{link.pk}/revoke/", follow=True)
    assert "That link was already revoked" in hand_on_section(text(again))
    response = Client().get(address)
    assert response.status_code == 410 and "revoked it" in text(response)
    assert "config.yml" not in text(response)
    assert not HandOnOpen.objects.exists()


def test_an_expired_link_says_so_and_purge_deletes_it_a_week_later(client, sandbox):
    setup = passed_setup(client, "sachet")
    address = make_link(client, setup)
    HandOnLink.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    response = Client().get(address)
    assert response.status_code == 410 and "It expired on" in text(response)
    assert "hand-on" in text(client.get(url(setup, "instructions")))  # the section stays; the link is gone
    assert address not in text(client.get(url(setup, "instructions")))
    call_command("purge_expired", stdout=open("/dev/null", "w"))
    assert HandOnLink.objects.count() == 1
    HandOnLink.objects.update(expires_at=timezone.now() - timedelta(days=8))
    call_command("purge_expired", stdout=open("/dev/null", "w"))
    assert not HandOnLink.objects.exists()
    assert Client().get(address).status_code == 404


def test_a_setup_deleted_takes_its_links_and_their_openings(client, sandbox):
    setup = passed_setup(client, "sachet")
    address = make_link(client, setup)
    Client().get(address)
    setup.delete()
    assert not HandOnLink.objects.exists() and not HandOnOpen.objects.exists()


def test_a_customer_cannot_revoke_another_setups_link(client, sandbox):
    mine = passed_setup(client, "sachet")
    theirs = passed_setup(client, "sachet")
    make_link(client, theirs)
    link = theirs.hand_on_links.get()
    client.post(url(mine, "instructions") + f"hand-on/{link.pk}/revoke/")
    link.refresh_from_db()
    assert link.revoked_at is None


def test_the_hand_on_token_stays_out_of_logs(client, sandbox, caplog):
    setup = passed_setup(client, "sachet")
    address = make_link(client, setup)
    assert redact(f"GET {address} 200") == "GET /h/[token]/ 200"
    with caplog.at_level(logging.WARNING):
        response = client.get(address + "nothing-here/")
    assert response.status_code == 404
    assert address not in caplog.text
    response = client.get(address)
    assert response["X-Setup-Reference"] == setup.reference


def test_a_link_can_be_made_only_from_a_setup_that_can_see_its_instructions(client, sandbox):
    setup = start(client, "sachet")  # no credentials yet: no instructions either
    response = client.post(url(setup, "instructions") + "hand-on/")
    assert response.status_code == 302 and response["Location"].endswith("/fields/")
    assert not HandOnLink.objects.exists()


def test_the_console_shows_each_link_and_when_it_was_opened_but_not_its_address(
    client, sandbox, agent_client
):
    setup = passed_setup(client, "sachet")
    address = make_link(client, setup)
    Client().get(address)
    Client().get(address)
    html = agent_client.get(f"/console/s/{setup.reference}/").content.decode()
    assert "Hand-on links" in html and "Opened 2 times" in html
    token = setup.hand_on_links.get().token
    assert token not in html and address not in html


def test_the_downloaded_instructions_carry_the_snippets_with_placeholders(client, sandbox):
    setup = passed_setup(client, "ruby-clickatell-gem")
    text = client.get(f"/s/{setup.token}/instructions.md").content.decode()
    assert f'## ~/.clickatell\n\n````\napi_key: YOUR_API_KEY\nusername: "{USERNAME}"\n' in text
    assert "Replace YOUR_API_KEY and YOUR_ACCOUNT_PASSWORD" in text
    assert PASSWORD not in text and REST_KEY not in text


# --- e-mailing a link ---------------------------------------------------------------------------------


def email_url(setup: Setup) -> str:
    return url(setup, "instructions") + f"hand-on/{setup.hand_on_links.get().pk}/email/"


def test_a_link_is_emailed_in_the_fixed_text_to_the_address_typed(client, sandbox, mailoutbox):
    setup = passed_setup(client, "sachet")
    address = make_link(client, setup)
    response = client.post(email_url(setup), {"email": "colleague@example.com"}, follow=True)
    assert "The link is on its way to colleague@example.com." in text(response)
    [message] = mailoutbox
    assert message.to == ["colleague@example.com"]
    assert message.subject == f"Instructions to connect {setup.platform.name} to Clickatell"
    assert f"http://testserver{address}" in message.body and "holds no password or API Key" in message.body
    assert PASSWORD not in message.body and REST_KEY not in message.body
    # Anything else posted with the address does not reach the message.
    client.post(email_url(setup), {"email": "colleague@example.com", "message": "Click evil.example"})
    assert "evil.example" not in mailoutbox[1].body and mailoutbox[1].body == message.body


def test_a_wrong_address_is_said_on_the_page_and_kept(client, sandbox, mailoutbox):
    setup = passed_setup(client, "sachet")
    make_link(client, setup)
    response = client.post(email_url(setup), {"email": "colleague at example"})
    assert response.status_code == 400
    html = text(response)
    assert "Enter an e-mail address like name@example.com." in html and 'value="colleague at example"' in html
    assert mailoutbox == []


def test_an_empty_address_is_told_what_to_type(client, sandbox, mailoutbox):
    setup = passed_setup(client, "sachet")
    make_link(client, setup)
    html = text(client.post(email_url(setup), {"email": ""}))
    assert "Enter your colleague's e-mail address." in html and "This field is required." not in html
    assert mailoutbox == []


def test_emailed_links_have_their_own_budget(client, sandbox, mailoutbox, settings):
    settings.PORTAL_HAND_ON_EMAIL_LIMITS = {"setup": "2/86400", "ip": "20/86400"}
    setup = passed_setup(client, "sachet")
    make_link(client, setup)
    for n in range(2):
        assert client.post(email_url(setup), {"email": f"c{n}@example.com"}).status_code == 302
    refused = client.post(email_url(setup), {"email": "c3@example.com"})
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    html = text(refused)
    assert "You've e-mailed this setup's links as often as you may for now." in html
    assert 'value="c3@example.com"' in html
    assert len(mailoutbox) == 2


def test_with_htmx_every_outcome_of_the_email_form_leaves_the_instructions_address(
    client, sandbox, mailoutbox, settings
):
    settings.PORTAL_HAND_ON_EMAIL_LIMITS = {"setup": "1/86400", "ip": "20/86400"}
    setup = passed_setup(client, "sachet")
    make_link(client, setup)
    instructions = url(setup, "instructions")
    htmx = {"HX-Request": "true", "HX-Target": "wizard"}

    def address_bar_after(data) -> str:
        """What htmx puts in the address bar: the reply's HX-Push-Url, the redirect's page's after a redirect."""
        response = client.post(email_url(setup), data, headers=htmx)
        if response.status_code == 302:
            assert response["Location"].startswith(instructions)
            response = client.get(response["Location"].split("#")[0], headers=htmx)
        return response["HX-Push-Url"]

    assert address_bar_after({"email": "colleague at example"}) == instructions  # mistyped: 400
    assert address_bar_after({"email": "c1@example.com"}) == instructions  # sent
    assert address_bar_after({"email": "c2@example.com"}) == instructions  # over the budget: 429
    setup.hand_on_links.update(revoked_at=timezone.now())
    assert address_bar_after({"email": "c3@example.com"}) == instructions  # the link no longer works
    assert len(mailoutbox) == 1


def test_a_revoked_link_is_not_emailed(client, sandbox, mailoutbox):
    setup = passed_setup(client, "sachet")
    make_link(client, setup)
    link = setup.hand_on_links.get()
    client.post(url(setup, "instructions") + f"hand-on/{link.pk}/revoke/")
    response = client.post(email_url(setup), {"email": "colleague@example.com"}, follow=True)
    assert "That link no longer works" in text(response) and mailoutbox == []


def test_when_the_mail_server_refuses_the_page_says_so(client, sandbox, settings):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
        }
    }
    setup = passed_setup(client, "sachet")
    make_link(client, setup)
    response = client.post(email_url(setup), {"email": "colleague@example.com"}, follow=True)
    assert "We couldn't send the e-mail just now. Copy the link and send it yourself." in hand_on_section(
        text(response)
    )


def test_an_app_said_to_show_other_boxes_gets_no_snippet_written_for_its_usual_ones(client, sandbox):
    setup = walk_to_test(
        client,
        "sachet",
        {"api_key": HTTP_KEY},
        fields={"different": "1", "app_fields": "api_key", "portal_integration": "platform_http"},
    )
    assert setup.signature == "platform_http"
    assert "Ready to paste" not in text(client.get(url(setup, "instructions")))


# --- what the hand-on section says, where the customer is looking -------------------------------------


def hand_on_section(html: str) -> str:
    return html.split('<section id="hand-on"')[1].split("</section>")[0]


def top_of_page(html: str) -> str:
    return html.split('<section id="hand-on"')[0]


def test_what_the_links_forms_say_shows_in_their_section_where_their_answers_land(client, sandbox, settings):
    """The forms' answers open the page at the hand-on section, far below its top: what they say is there."""
    settings.PORTAL_HAND_ON_EMAIL_LIMITS = {"setup": "1/86400", "ip": "20/86400"}
    setup = passed_setup(client, "sachet")
    arrived = text(client.get(url(setup, "instructions")))
    link_made = client.post(url(setup, "instructions") + "hand-on/", follow=True)
    assert link_made.redirect_chain[-1][0].endswith("/instructions/#hand-on")
    html = text(link_made)
    assert "Your link is ready" in hand_on_section(html) and "Your link is ready" not in top_of_page(html)
    assert "Your test worked" in top_of_page(arrived)  # the step's own messages stay at its top

    link = setup.hand_on_links.get()
    # Without JavaScript, the e-mail form's own answers (a mistyped address, the budget spent) are pages of
    # their own: its address's "#hand-on" opens them at the section too.
    assert f'action="{email_url(setup)}#hand-on"' in html
    for data, says in [
        ({"email": "colleague@example.com"}, "The link is on its way to colleague@example.com."),
        ({"email": "colleague at example"}, "Enter an e-mail address like name@example.com."),
        ({"email": "c2@example.com"}, "You've e-mailed this setup's links as often as you may for now."),
    ]:
        html = text(client.post(email_url(setup), data, follow=True))
        assert says in hand_on_section(html) and says not in top_of_page(html)

    revoked = text(client.post(url(setup, "instructions") + f"hand-on/{link.pk}/revoke/", follow=True))
    assert "The link is revoked" in hand_on_section(revoked)
    gone = text(client.post(email_url(setup), {"email": "colleague@example.com"}, follow=True))
    assert "That link no longer works" in hand_on_section(gone)
    assert "That link no longer works" not in top_of_page(gone)


def test_with_htmx_the_email_forms_answers_open_at_the_section_not_the_top(client, sandbox, settings):
    settings.PORTAL_HAND_ON_EMAIL_LIMITS = {"setup": "1/86400", "ip": "20/86400"}
    setup = passed_setup(client, "sachet")
    htmx = {"HX-Request": "true", "HX-Target": "wizard"}
    assert "HX-Reswap" not in client.get(url(setup, "instructions"), headers=htmx)  # the step: at its top
    made = client.post(url(setup, "instructions") + "hand-on/", headers=htmx)
    # The redirect's "#hand-on" never reaches htmx, which follows it unseen: the page it gets says where.
    shown = client.get(made["Location"].split("#")[0], headers=htmx)
    assert shown["HX-Reswap"] == "outerHTML show:#hand-on:top"
    assert "Your link is ready" in hand_on_section(text(shown))

    mistyped = client.post(email_url(setup), {"email": "colleague at example"}, headers=htmx)
    assert mistyped.status_code == 400 and mistyped["HX-Reswap"] == "outerHTML show:.has-error:top"
    assert 'class="field has-error"' in hand_on_section(text(mistyped))
    assert client.post(email_url(setup), {"email": "c1@example.com"}, headers=htmx).status_code == 302
    refused = client.post(email_url(setup), {"email": "c2@example.com"}, headers=htmx)
    assert refused.status_code == 429 and refused["HX-Reswap"] == "outerHTML show:#hand-on:top"
