"""How many database statements each request a customer makes may cost, whatever the catalog's size and
however many tests a setup has had (docs/performance.md lists the budgets and the real counts).

Django counts every statement it sends, BEGIN and COMMIT included. These tests run in autocommit, as
the app servers do, so a transaction costs here what it costs in production.
"""

import pytest
from django.conf import settings
from django.test import Client

from wizard.catalog.loader import load_catalog
from wizard.catalog.models import Platform
from wizard.flow.models import Setup, TestAttempt

from .conftest import MOBILE, REST_KEY
from .journeys import send_token, start, url, walk_to_test

pytestmark = pytest.mark.django_db(transaction=True)

PAGE, ANSWER, TEST_SEND = 4, 6, 8
# Without Redis the abuse limits count in the database, and their own statements come on top. A test send:
# one read of the authentication lockouts and the global budgets; the setup's, IP's, number's and key's
# budgets taken in a transaction (BEGIN, INSERT … ON CONFLICT DO NOTHING, a conditional UPDATE, COMMIT);
# and after the send, the global budget charged (INSERT … ON CONFLICT DO NOTHING, UPDATE).
DATABASE_COUNTERS = 7
# A delivery check asks Clickatell too, and e-mailing a hand-on link has budgets too: theirs are taken the
# same way (BEGIN, INSERT, UPDATE, COMMIT).
# (Starting a setup takes its one budget with an INSERT and an UPDATE, within an answer's six.)
DELIVERY_CHECK_COUNTERS = 4


@pytest.fixture
def large_catalog():
    """The real catalog and 300 more apps, so that no budget holds only for a small catalog."""
    load_catalog()
    Platform.objects.bulk_create(
        Platform(
            slug=f"extra-{n}",
            name=f"Extra app {n}",
            category="Monitoring",
            signature="platform_rest",
            field_labels=["API Key"],
            key_field="API Key",
            settings_path="Settings",
        )
        for n in range(300)
    )


def with_past_attempts(setup: Setup, count: int = 40) -> None:
    TestAttempt.objects.bulk_create(
        TestAttempt(setup=setup, signature=setup.signature, destination_masked="+278…567", status="rejected")
        for _ in range(count)
    )


def hand_on_email_budget() -> int:
    return ANSWER if settings.REDIS_URL else ANSWER + DELIVERY_CHECK_COUNTERS


def send_budget() -> int:
    return TEST_SEND if settings.REDIS_URL else TEST_SEND + DATABASE_COUNTERS


def delivery_check_budget() -> int:
    return ANSWER if settings.REDIS_URL else ANSWER + DELIVERY_CHECK_COUNTERS


def test_every_step_page_costs_at_most_four_statements(
    client, sandbox, vault_keys, large_catalog, django_assert_max_num_queries
):
    with django_assert_max_num_queries(PAGE):
        assert client.get("/").status_code == 200
    with django_assert_max_num_queries(PAGE):
        assert client.get("/", {"q": "zabix"}).status_code == 200
    setup = walk_to_test(client, "novu", {"api_key": REST_KEY})
    with_past_attempts(setup)
    for step in ["app", "fields", "credentials", "test", "app", "test"]:
        with django_assert_max_num_queries(PAGE):  # the first look at a step also records it
            assert client.get(url(setup, step)).status_code == 200
    with django_assert_max_num_queries(PAGE):
        assert client.get(url(setup, "fields") + "?different=1").status_code == 200
    with django_assert_max_num_queries(PAGE):
        fragment = client.get(
            url(setup, "credentials"), headers={"HX-Request": "true", "HX-Target": "wizard"}
        )
        assert fragment.status_code == 200
    client.post(url(setup, "test"), {"phone": MOBILE, "attempt_token": send_token(client, setup)})
    with django_assert_max_num_queries(PAGE):  # after a send: a fresh token for the next form
        assert client.get(url(setup, "test")).status_code == 200
    client.post(url(setup, "test") + "confirm/", {"arrived": "yes"})
    for _ in range(2):
        with django_assert_max_num_queries(PAGE):
            assert client.get(url(setup, "instructions")).status_code == 200
    with django_assert_max_num_queries(PAGE):
        assert client.get(f"/s/{setup.token}/instructions.md").status_code == 200
    Setup.objects.filter(pk=setup.pk).update(language="fr")
    with django_assert_max_num_queries(PAGE):  # another language: its own version of the instructions
        assert "Configurer" in client.get(url(setup, "instructions")).content.decode()


def test_every_answer_costs_at_most_six_statements(
    client, sandbox, vault_keys, large_catalog, django_assert_max_num_queries
):
    with django_assert_max_num_queries(ANSWER):
        assert client.post("/", {"platform": "novu"}).status_code == 302
    setup = Setup.objects.get()
    with_past_attempts(setup)
    with django_assert_max_num_queries(ANSWER):
        assert client.post(url(setup, "fields"), {"confirm": "yes"}).status_code == 302
    with django_assert_max_num_queries(ANSWER):
        assert client.post(url(setup, "credentials"), {"api_key": REST_KEY}).status_code == 302
    with django_assert_max_num_queries(ANSWER):
        assert client.post(url(setup, "credentials") + "forget/").status_code == 302
    with django_assert_max_num_queries(ANSWER):  # another app: the boxes and credentials start again
        assert client.post(url(setup, "app"), {"platform": "zabbix-sms-client"}).status_code == 302
    with django_assert_max_num_queries(ANSWER):
        answer = client.post(url(setup, "fields"), {"different": "1", "app_fields": "api_key"})
        assert answer.status_code == 200  # the integration type is missing: the page says so
    with django_assert_max_num_queries(ANSWER):  # the language switch, kept on the setup
        switched = client.post(
            f"/s/{setup.token}/language/", {"language": "fr", "next": url(setup, "fields")}
        )
        assert switched.status_code == 302
    with django_assert_max_num_queries(ANSWER):  # before a setup exists: the cookie alone
        assert client.post("/language/", {"language": "es", "next": "/"}).status_code == 302


def test_answers_after_a_send_cost_at_most_six_statements(
    client, sandbox, vault_keys, large_catalog, django_assert_max_num_queries
):
    setup = walk_to_test(client, "novu", {"api_key": REST_KEY})
    with_past_attempts(setup)
    client.post(url(setup, "test"), {"phone": MOBILE, "attempt_token": send_token(client, setup)})
    with django_assert_max_num_queries(delivery_check_budget()):
        assert client.post(url(setup, "test") + "delivery/").status_code == 302
    with django_assert_max_num_queries(ANSWER):
        assert client.post(url(setup, "test") + "confirm/", {"arrived": "no"}).status_code == 302
    with django_assert_max_num_queries(ANSWER):
        assert client.post(url(setup, "test") + "confirm/", {"arrived": "yes"}).status_code == 302


def test_a_test_send_costs_at_most_eight_statements(
    client, sandbox, vault_keys, large_catalog, django_assert_max_num_queries
):
    setup = walk_to_test(client, "novu", {"api_key": REST_KEY})
    with_past_attempts(setup)
    for phone in [MOBILE, MOBILE, "+27831234567"]:
        token = send_token(client, setup)
        with django_assert_max_num_queries(send_budget()):
            assert (
                client.post(url(setup, "test"), {"phone": phone, "attempt_token": token}).status_code == 302
            )
    assert len(sandbox.received()) == 3


def test_a_refused_or_repeated_send_costs_no_more_than_a_send(
    client, sandbox, vault_keys, large_catalog, settings, django_assert_max_num_queries
):
    settings.PORTAL_SEND_LIMITS = {**settings.PORTAL_SEND_LIMITS, "setup": "1/3600"}
    setup = walk_to_test(client, "novu", {"api_key": REST_KEY})
    token = send_token(client, setup)
    client.post(url(setup, "test"), {"phone": MOBILE, "attempt_token": token})
    with django_assert_max_num_queries(send_budget()):  # the same form again: nothing is sent
        assert client.post(url(setup, "test"), {"phone": MOBILE, "attempt_token": token}).status_code == 302
    with django_assert_max_num_queries(send_budget()):  # over the setup's budget: refused
        refused = client.post(
            url(setup, "test"), {"phone": MOBILE, "attempt_token": send_token(client, setup)}
        )
        assert refused.status_code == 429
    assert len(sandbox.received()) == 1


def test_the_new_setups_first_answer_costs_the_same_with_a_session(
    client, sandbox, vault_keys, large_catalog, agent, django_assert_max_num_queries
):
    """A browser that has a session (an agent trying the wizard) pays for reading it only where it is used."""
    client.force_login(agent)
    with django_assert_max_num_queries(ANSWER):
        assert client.post("/", {"platform": "novu"}).status_code == 302
    setup = start(client, "novu")
    with django_assert_max_num_queries(PAGE):
        assert client.get(url(setup, "fields")).status_code == 200


def test_the_instructions_with_snippets_and_hand_on_links_cost_a_page_or_an_answer(
    client, sandbox, vault_keys, large_catalog, django_assert_max_num_queries
):
    credentials = {"username": "acme-ops", "password": "pw&1", "api_key": REST_KEY}
    setup = walk_to_test(client, "laravel-notification-channels-clickatell", credentials)
    client.post(url(setup, "test"), {"phone": MOBILE, "attempt_token": send_token(client, setup)})
    client.post(url(setup, "test") + "confirm/", {"arrived": "yes"})
    with django_assert_max_num_queries(PAGE):  # the first look records the opening
        assert "CLICKATELL_PASS=" in client.get(url(setup, "instructions")).content.decode()
    for _ in range(3):
        with django_assert_max_num_queries(ANSWER):
            assert client.post(url(setup, "instructions") + "hand-on/").status_code == 302
    with django_assert_max_num_queries(PAGE):  # with its links listed
        assert client.get(url(setup, "instructions")).content.decode().count("Revoke this link") == 3
    link = setup.hand_on_links.first()
    with django_assert_max_num_queries(hand_on_email_budget()):
        email = client.post(
            url(setup, "instructions") + f"hand-on/{link.pk}/email/", {"email": "c@example.com"}
        )
        assert email.status_code == 302
    colleague = Client()
    with django_assert_max_num_queries(PAGE):  # the opening is recorded
        assert "CLICKATELL_PASS=" in colleague.get(f"/h/{link.token}/").content.decode()
    with django_assert_max_num_queries(ANSWER):
        assert client.post(url(setup, "instructions") + f"hand-on/{link.pk}/revoke/").status_code == 302
    with django_assert_max_num_queries(PAGE):
        assert colleague.get(f"/h/{link.token}/").status_code == 410
