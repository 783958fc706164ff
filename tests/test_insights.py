"""Support insights: the facts the wizard records on the way, and the console page that counts them."""

import pytest

from wizard.flow.models import Setup

from .conftest import PASSWORD, REST_KEY, USERNAME
from .journeys import send_test_sms, start, url, walk_to_test

pytestmark = pytest.mark.django_db

LEGACY_CREDENTIALS = {"username": USERNAME, "password": PASSWORD, "api_key": REST_KEY}
FACTS = [
    "app_chosen_at",
    "fields_confirmed_at",
    "credentials_first_saved_at",
    "first_test_sent_at",
    "first_accepted_at",
    "arrival_confirmed_at",
    "instructions_opened_at",
]


def facts(setup: Setup) -> dict:
    setup.refresh_from_db()
    return {fact: getattr(setup, fact) for fact in FACTS}


def test_a_whole_journey_records_when_each_step_was_first_reached(client, sandbox):
    setup = start(client, "novu")
    assert [fact for fact, at in facts(setup).items() if at] == ["app_chosen_at"]
    setup = walk_to_test(client, "novu", {"api_key": REST_KEY})
    send_test_sms(client, setup)
    client.post(f"/s/{setup.token}/test/confirm/", {"arrived": "yes"})
    client.get(url(setup, "instructions"))
    reached = facts(setup)
    assert all(reached.values()), reached
    times = list(reached.values())
    assert times == sorted(times)  # each step after the one before
    assert setup.created_at <= reached["app_chosen_at"]


def test_first_times_stay_when_the_customer_goes_round_again(client, sandbox):
    """Saving credentials again clears today's state (test passed, delivery confirmed), not the facts."""
    setup = walk_to_test(client, "zabbix-sms-client", {**LEGACY_CREDENTIALS, "password": "wrong"})
    send_test_sms(client, setup)
    first = facts(setup)
    assert first["first_test_sent_at"] and not first["first_accepted_at"]  # refused: a wrong password
    client.post(url(setup, "credentials"), LEGACY_CREDENTIALS)
    send_test_sms(client, setup, "+27821234568")
    client.post(url(setup, "credentials"), LEGACY_CREDENTIALS)  # again: the passed test is cleared
    setup.refresh_from_db()
    assert setup.test_passed_at is None
    later = facts(setup)
    assert later["first_accepted_at"] is not None
    for fact in ("app_chosen_at", "fields_confirmed_at", "credentials_first_saved_at", "first_test_sent_at"):
        assert later[fact] == first[fact], fact


def test_a_setup_an_agent_starts_has_no_app_until_the_customer_chooses_one(agent_client, client):
    agent_client.post("/console/new/")
    setup = Setup.objects.get(created_by_agent="agent-ann")
    assert facts(setup)["app_chosen_at"] is None
    client.post(url(setup, "app"), {"platform": "novu"})
    assert facts(setup)["app_chosen_at"] is not None


def test_setups_from_before_the_facts_get_them_from_what_their_rows_hold(client, sandbox):
    """The migration that adds the facts fills them in for existing setups, from today's columns."""
    from importlib import import_module

    from django.apps import apps

    arrived = walk_to_test(client, "novu", {"api_key": REST_KEY})
    send_test_sms(client, arrived)
    client.post(f"/s/{arrived.token}/test/confirm/", {"arrived": "yes"})
    client.get(url(arrived, "instructions"))
    refused = walk_to_test(client, "zabbix-sms-client", {**LEGACY_CREDENTIALS, "password": "wrong"})
    send_test_sms(client, refused)
    untouched = start(client, "novu")
    Setup.objects.update(**dict.fromkeys(FACTS))  # as they were before the migration

    import_module("wizard.flow.migrations.0003_setup_first_reached").from_what_rows_hold(apps, None)
    assert all(facts(arrived).values())
    reached = facts(refused)
    assert reached["first_test_sent_at"] and not reached["first_accepted_at"]
    assert [fact for fact, at in facts(untouched).items() if at] == ["app_chosen_at"]
