"""The support console: personas on every page, finding and following setups, helping, auditing."""

import ast
import re
from datetime import timedelta
from html import escape, unescape
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from wizard.catalog.models import InstructionTemplate
from wizard.console.models import AgentNote, SetupAccess
from wizard.flow.models import Setup

from .conftest import PASSWORD, REST_KEY, USERNAME, sign_in_verified
from .journeys import passed_setup, send_test_sms, url, walk_to_test

pytestmark = pytest.mark.django_db
CONSOLE = Path(__file__).resolve().parent.parent / "wizard" / "console"


@pytest.fixture
def setup(client, sandbox):
    """A customer who tried the old signature with a wrong password, then the right one."""
    found = walk_to_test(
        client, "zabbix-sms-client", {"username": USERNAME, "password": "wrong", "api_key": REST_KEY}
    )
    send_test_sms(client, found)
    client.post(url(found, "credentials"), {"username": USERNAME, "password": PASSWORD, "api_key": REST_KEY})
    send_test_sms(client, found, "+27821234568")
    found.refresh_from_db()
    return found


def console_pages(setup):
    ref = setup.reference
    gets = [
        "/console/",
        f"/console/s/{ref}/",
        f"/console/find/?code={ref}",
        "/console/?signature=legacy_http",
    ]
    posts = [
        (f"/console/s/{ref}/notes/", {"text": "hi"}),
        (f"/console/s/{ref}/step/", {"step": "credentials"}),
        ("/console/new/", {}),
    ]
    return gets, posts


def test_anonymous_visitors_get_the_login_page_everywhere(setup):
    anonymous = Client()
    gets, posts = console_pages(setup)
    for path in gets:
        response = anonymous.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/console/login/"), path
    for path, data in posts:
        assert anonymous.post(path, data).status_code == 302
    assert not AgentNote.objects.exists()


def test_signed_in_users_without_the_permission_get_403(setup, django_user_model):
    outsider = Client()
    sign_in_verified(outsider, django_user_model.objects.create_user("bob", password="x-for-tests"))
    gets, posts = console_pages(setup)
    for path in gets:
        assert outsider.get(path).status_code == 403, path
    for path, data in posts:
        assert outsider.post(path, data).status_code == 403, path


def test_a_customer_link_gives_no_console_access(setup, client):
    assert (
        client.get("/console/").status_code == 302
    )  # the customer's own browser is anonymous to the console


def test_agents_can_sign_in_with_the_created_account(agent):
    browser = Client()
    response = browser.post(
        "/console/login/", {"username": "agent-ann", "password": "agent-pw-for-tests-only"}, follow=True
    )
    # First sign-in: the password is right, and the agent is asked to enrol an authenticator app.
    assert response.redirect_chain[-1][0] == "/console/login/enrol/"
    assert "Set up your authenticator app" in response.content.decode()


def test_agents_see_every_console_page_and_no_secret_anywhere(setup, agent_client):
    gets, posts = console_pages(setup)
    seen = []
    for path in gets:
        response = agent_client.get(path, follow=True)
        assert response.status_code == 200, path
        seen.append(response.content.decode())
    for path, data in posts:
        response = agent_client.post(path, data, follow=True)
        assert response.status_code == 200, path
        seen.append(response.content.decode())
    seen.append(
        agent_client.get(
            f"/console/s/{setup.reference}/", headers={"HX-Request": "true", "HX-Target": "live"}
        ).content.decode()
    )
    everything = "\n".join(seen)
    for secret in (PASSWORD, REST_KEY, REST_KEY[:-4], "wrong"):
        assert secret not in everything
    assert USERNAME in everything and f"…{REST_KEY[-4:]}" in everything


def test_the_setup_page_shows_path_step_and_every_attempt_with_both_texts(setup, agent_client):
    html = agent_client.get(f"/console/s/{setup.reference}/").content.decode()
    assert "Zabbix" in html and "Old SMS Gateway HTTP API" in html and "Test send" in html
    assert "Clickatell did not accept your username or password" in html  # what the customer saw
    assert "ERR: 001, Authentication failed" in html  # the technical detail
    assert html.count('class="attempt-') == 2
    assert "never shown" in html


def test_the_setup_page_says_which_instructions_the_customer_was_shown(client, agent_client):
    setup = passed_setup("zabbix-sms-client")
    page = f"/console/s/{setup.reference}/"
    assert "not opened yet" in agent_client.get(page).content.decode()
    client.get(url(setup, "instructions"))
    shown = InstructionTemplate.objects.get(pk=Setup.objects.get(pk=setup.pk).instructions_shown_id)
    html = agent_client.get(page).content.decode()
    assert f"{setup.platform.name} [en] v{shown.version} (published)" in unescape(html)
    assert "not opened yet" not in html
    InstructionTemplate.objects.filter(platform=setup.platform).update(body="{{ setup.token }}")
    InstructionTemplate.objects.filter(platform=None).delete()  # no steps can be shown now
    client.get(url(setup, "instructions"))
    assert "opened; no version to name" in agent_client.get(page).content.decode()


def test_find_forgives_case_spaces_and_look_alikes(setup, agent_client):
    ref = setup.reference
    typed = ref.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    response = agent_client.get("/console/find/", {"code": f"  {typed} "})
    assert response["Location"] == f"/console/s/{ref}/"
    response = agent_client.get("/console/find/", {"code": " ZZZZ-ZZZZ"}, follow=True)
    assert "No setup has the code “ZZZZ-ZZZZ”" in response.content.decode()
    assert (
        "Type the code the customer reads out"
        in agent_client.get("/console/find/", {"code": " "}, follow=True).content.decode()
    )
    typed_address = agent_client.get(f"/console/s/{ref.lower().replace('-', '')}/")
    assert typed_address.status_code == 302 and typed_address["Location"] == f"/console/s/{ref}/"
    # What the agent typed waits in the find box, to correct.
    assert 'name="code" value="ZZZZ-ZZZZ"' in response.content.decode()


def test_a_filter_naming_nothing_known_is_said_and_left_out(setup, agent_client):
    response = agent_client.get("/console/", {"platform": "zabbix-old-name", "step": "test"})
    html = unescape(response.content.decode())
    assert "There is no app “zabbix-old-name”: showing every app." in html
    assert "1 setup." in html  # the step filter still holds: the one setup on the test step


def test_list_filters_and_paginates(setup, agent_client):
    Setup.objects.bulk_create(
        [Setup(reference=f"AAAA-{n:04d}", token=f"t{n}", step="fields") for n in range(120)]
    )
    html = agent_client.get("/console/").content.decode()
    assert "121 setups" in html and "Page 1 of 3" in html
    html = agent_client.get("/console/", {"outcome": "accepted"}).content.decode()
    assert "1 setup." in html and setup.reference in html
    html = agent_client.get("/console/", {"platform": "zabbix-sms-client", "step": "test"}).content.decode()
    assert "1 setup." in html
    html = agent_client.get("/console/", {"step": "fields", "page": 3}).content.decode()
    assert "Page 3 of 3" in html and "← Newer" in html
    partial = agent_client.get(
        "/console/", {"outcome": "rejected"}, headers={"HX-Request": "true", "HX-Target": "results"}
    )
    assert partial.content.decode().lstrip().startswith('<div id="results"')


def test_a_broad_filter_lists_the_newest_thousand(setup, agent_client):
    Setup.objects.bulk_create(
        [Setup(reference=f"BBBB-{n:04d}", token=f"b{n}", step="fields") for n in range(1001)]
    )
    html = agent_client.get("/console/", {"step": "fields"}).content.decode()
    assert "More than 1000 setups match: the newest 1000 are listed" in html and "Page 1 of 20" in html


def test_every_opening_is_audited_but_polling_is_not(setup, agent_client, agent):
    agent_client.get(f"/console/s/{setup.reference}/")
    agent_client.get(f"/console/s/{setup.reference}/", headers={"HX-Request": "true", "HX-Target": "live"})
    agent_client.post(f"/console/s/{setup.reference}/notes/", {"text": "Called back at 10:00"})
    actions = list(SetupAccess.objects.filter(agent=agent).values_list("action", flat=True))
    assert actions == ["added a note", "opened"]


def test_a_page_updating_itself_is_recorded_unless_the_agent_opened_the_setup_lately(
    setup, agent_client, agent
):
    path, live = f"/console/s/{setup.reference}/", {"HX-Request": "true", "HX-Target": "live"}
    opened = SetupAccess.objects.filter(agent=agent, setup=setup, action="opened")
    # Headers anyone can send: asked for first, the live part is an opening like any other.
    assert USERNAME in agent_client.get(path, headers=live).content.decode()
    assert opened.count() == 1
    agent_client.get(path, headers=live)  # the page updating itself
    assert opened.count() == 1
    opened.update(at=timezone.now() - timedelta(minutes=31))  # PORTAL_AGENT_IDLE_MINUTES ago, and one
    agent_client.get(path, headers=live)
    assert opened.count() == 2


def test_agents_add_notes_and_send_the_customer_to_a_step(setup, agent_client, client):
    agent_client.post(f"/console/s/{setup.reference}/notes/", {"text": "Customer uses an old Zabbix script"})
    agent_client.post(f"/console/s/{setup.reference}/step/", {"step": "credentials"})
    html = agent_client.get(f"/console/s/{setup.reference}/").content.decode()
    assert "Customer uses an old Zabbix script" in html and "sent to credentials" in html
    response = client.get(url(setup, "test"), follow=True)  # the customer's next page load
    assert response.redirect_chain[-1][0].endswith("/credentials/")
    assert "Your support agent has taken you to this step" in response.content.decode()
    assert client.get(url(setup, "test")).status_code == 200  # only once


def test_empty_notes_and_unknown_steps_are_refused_with_a_message(setup, agent_client):
    response = agent_client.post(f"/console/s/{setup.reference}/notes/", {"text": "  "}, follow=True)
    assert "Write the note" in response.content.decode()
    response = agent_client.post(f"/console/s/{setup.reference}/step/", {"step": "nowhere"}, follow=True)
    assert "Choose a step" in response.content.decode()
    assert not AgentNote.objects.exists()


def test_a_step_the_setup_cannot_show_yet_is_refused_saying_which_it_needs(agent_client, client):
    response = agent_client.post("/console/new/", follow=True)
    link = re.search(r"http://testserver(/s/[^/]+/app/)", response.content.decode()).group(1)
    reference = Setup.objects.get(created_by_agent="agent-ann").reference
    refused = agent_client.post(f"/console/s/{reference}/step/", {"step": "test"}, follow=True)
    assert "The customer can't be on Test send yet: their setup needs Your app first." in unescape(
        refused.content.decode()
    )
    assert Setup.objects.get(reference=reference).agent_requested_step == ""
    assert client.get(link).status_code == 200  # the customer's page: nothing to say

    # A step it can show is asked for, and the customer's app page (where they are) takes them there.
    client.post(link, {"platform": "novu"})
    client.get(link)
    assert "sent to" not in agent_client.get(f"/console/s/{reference}/").content.decode()
    agent_client.post(f"/console/s/{reference}/step/", {"step": "fields"})
    response = client.get(link, follow=True)
    assert response.redirect_chain[-1][0].endswith("/fields/")
    assert "Your support agent has taken you to this step: Its boxes." in unescape(response.content.decode())


def test_a_request_the_customer_went_back_from_is_not_announced(setup, agent_client, client):
    agent_client.post(f"/console/s/{setup.reference}/step/", {"step": "test"})
    client.post(url(setup, "credentials") + "forget/")  # the customer deletes their credentials meanwhile
    response = client.get(url(setup, "fields"), follow=True)
    assert "Your support agent has taken you" not in response.content.decode()
    assert response.redirect_chain == []


def test_a_setup_deleted_meanwhile_is_said_to_be_gone_and_the_note_kept_to_copy(setup, agent_client):
    reference = setup.reference
    setup.delete()  # purge_expired, while the agent had its page open
    note = "Customer <b>will</b> call back"
    response = agent_client.post(f"/console/s/{reference}/notes/", {"text": note})
    html = response.content.decode()
    assert response.status_code == 404 and f"No setup {reference}" in html
    assert "Your note was not saved" in html and escape(note) in html
    for page in (
        agent_client.post(f"/console/s/{reference}/step/", {"step": "credentials"}),
        agent_client.get(f"/console/s/{reference}/"),
    ):
        assert page.status_code == 404 and f"No setup {reference}" in page.content.decode()
    assert not AgentNote.objects.exists()


def test_an_agent_starts_a_setup_and_reads_out_the_link(agent_client, client):
    response = agent_client.post("/console/new/", follow=True)
    html = response.content.decode()
    link = re.search(r"http://testserver(/s/[^/]+/app/)", html).group(1)
    created = Setup.objects.get(created_by_agent="agent-ann")
    assert created.reference in html
    assert created.reference in client.get(link).content.decode()  # the customer opens it


def test_an_agent_starts_a_setup_in_the_customers_language(agent_client, client):
    response = agent_client.post("/console/new/", {"language": "es"}, follow=True)
    link = re.search(r"http://testserver(/s/[^/]+/app/)", response.content.decode()).group(1)
    assert '<html lang="en">' in response.content.decode()  # the agent's page stays in English
    page = client.get(link).content.decode()  # the customer's browser asks for no language
    assert '<html lang="es">' in page and "¿Qué aplicación está conectando a Clickatell?" in page
    agent_client.post("/console/new/", {"language": "xx"})
    assert sorted(Setup.objects.values_list("language", flat=True)) == ["en", "es"]


def test_the_live_part_is_served_alone_for_polling(setup, agent_client):
    html = agent_client.get(
        f"/console/s/{setup.reference}/", headers={"HX-Request": "true", "HX-Target": "live"}
    ).content.decode()
    assert html.lstrip().startswith('<div id="live"') and "<html" not in html


def test_the_console_cannot_reach_the_vault_by_construction():
    for path in CONSOLE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else ([node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            )
            assert not any("vault" in name for name in names), f"{path.name} imports the vault"
    views = (CONSOLE / "views.py").read_text()
    assert "Setup.objects" not in views and "services." not in views  # views read only through access.py


def test_unknown_setups_are_404_for_agents(agent_client):
    assert agent_client.get("/console/s/ZZZZ-ZZZZ/").status_code == 404
