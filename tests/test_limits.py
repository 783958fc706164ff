"""The test send cannot be abused: layered limits, a kill switch, no credential oracle, one send per click."""

import logging
import re
import threading
import time
from types import SimpleNamespace

import pytest
import requests

from wizard.flow import limits, services
from wizard.flow.models import Setup

from .conftest import MOBILE, PASSWORD, REST_KEY, USERNAME
from .journeys import send_test_sms, send_token, url, walk_to_test

pytestmark = pytest.mark.django_db

ROOMY = {
    "setup": "50/3600",
    "ip": "50/3600",
    "destination": "50/3600",
    "api_key": "50/3600",
    "global": "50/86400",
}
OTHER_NUMBERS = ["+27821234568", "+27821234569", "+27821234570", "+27821234571", "+27821234572"]


@pytest.fixture
def budgets(settings, monkeypatch):
    # Budgets count in windows of the clock. Half an hour into tomorrow every window is fresh and far from
    # its end, so a test run at 15:59:59 neither crosses into a new window between two sends nor reads
    # "try again in a minute".
    pinned = (time.time() // 86400 + 1) * 86400 + 1800
    monkeypatch.setattr(limits, "time", SimpleNamespace(time=lambda: pinned))

    def use(**tight):
        settings.PORTAL_SEND_LIMITS = {**ROOMY, **tight}

    use()
    return use


def novu(client):
    return walk_to_test(client, "novu", {"api_key": REST_KEY})


def assert_refused(response, says: str):
    assert response.status_code == 429
    html = response.content.decode()
    assert says in html
    assert int(response["Retry-After"]) > 0
    return html


def test_the_setup_budget(client, sandbox, budgets):
    budgets(setup="2/3600")
    setup = novu(client)
    for number in OTHER_NUMBERS[:2]:
        assert send_test_sms(client, setup, number).status_code == 302
    response = send_test_sms(client, setup, OTHER_NUMBERS[2])
    html = assert_refused(response, "the most test messages one setup may send")
    assert "Try again in about 30 minutes" in html and f'value="{OTHER_NUMBERS[2]}"' in html  # typed: kept
    assert len(sandbox.received()) == 2


def test_the_destination_budget_counts_across_setups(client, sandbox, budgets):
    budgets(destination="1/3600")
    first, second = novu(client), novu(client)
    send_test_sms(client, first)
    assert_refused(send_test_sms(client, second), "This phone number has received the most test messages")
    assert send_test_sms(client, second, OTHER_NUMBERS[0]).status_code == 302
    assert len(sandbox.received()) == 2


def test_the_api_key_budget_counts_across_setups(client, sandbox, budgets):
    budgets(api_key="1/3600")
    first, second = novu(client), novu(client)
    send_test_sms(client, first)
    assert_refused(send_test_sms(client, second, OTHER_NUMBERS[0]), "This API Key has been used for the most")
    assert len(sandbox.received()) == 1


def test_the_ip_budget_and_only_the_trusted_proxy_header_counts(client, sandbox, budgets, settings):
    budgets(ip="1/3600")
    first, second, third = novu(client), novu(client), novu(client)
    spoof = {"HTTP_X_FORWARDED_FOR": "203.0.113.9"}
    send_test_sms(client, first)
    # Without a configured proxy header, a client-supplied X-Forwarded-For is ignored.
    response = client.post(
        url(second, "test"), {"phone": OTHER_NUMBERS[0], "attempt_token": send_token(client, second)}, **spoof
    )
    assert_refused(response, "sent from your network")
    settings.PORTAL_CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    response = client.post(
        url(third, "test"),
        {"phone": OTHER_NUMBERS[1], "attempt_token": send_token(client, third)},
        HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.9",
    )
    assert response.status_code == 302
    assert len(sandbox.received()) == 2


def test_the_global_daily_cap(client, sandbox, budgets):
    budgets(**{"global": "1/86400"})
    send_test_sms(client, novu(client))
    assert_refused(send_test_sms(client, novu(client), OTHER_NUMBERS[0]), "paused for everyone")
    assert len(sandbox.received()) == 1


def test_the_switch_turns_test_sends_off(client, sandbox, settings):
    settings.PORTAL_TEST_SENDS_ENABLED = False
    assert_refused(send_test_sms(client, novu(client)), "switched off")
    assert sandbox.received() == []


def test_a_refused_send_takes_nothing_from_the_other_budgets(client, sandbox, budgets):
    budgets(destination="1/3600", setup="2/3600")
    setup = novu(client)
    send_test_sms(client, setup)
    refused = send_test_sms(client, setup)
    assert_refused(refused, "This phone number")  # refused: must not use up the setup budget
    # The form that came back with the refusal carries a fresh token that sends.
    token = re.search(r'name="attempt_token" value="([^"]+)"', refused.content.decode()).group(1)
    assert (
        client.post(url(setup, "test"), {"phone": OTHER_NUMBERS[0], "attempt_token": token}).status_code
        == 302
    )
    assert len(sandbox.received()) == 2


def test_when_every_send_slot_waits_on_clickatell_a_send_is_refused_at_once(
    client, sandbox, budgets, monkeypatch
):
    budgets(setup="1/3600")
    monkeypatch.setattr(limits, "send_slots", threading.BoundedSemaphore(1))
    setup = novu(client)
    limits.send_slots.acquire()  # a slow Clickatell holds the only slot
    assert_refused(send_test_sms(client, setup), "answering slowly")
    assert sandbox.received() == []
    limits.send_slots.release()
    assert send_test_sms(client, setup).status_code == 302  # the refusal took nothing from the budget


def test_countries_outside_the_allow_list_are_refused(client, sandbox, settings):
    settings.PORTAL_ALLOWED_COUNTRIES = ["GB"]
    response = send_test_sms(client, novu(client))
    assert response.status_code == 200 and "can only go to numbers in GB" in response.content.decode()
    assert sandbox.received() == []


def test_repeated_authentication_failures_lock_the_setup_without_revealing_more(client, sandbox, settings):
    settings.PORTAL_AUTH_FAILURE_LIMITS = {"setup": "2/900", "ip": "50/3600", "username": "50/3600"}
    setup = walk_to_test(
        client, "zabbix-sms-client", {"username": USERNAME, "password": "guess-1", "api_key": REST_KEY}
    )
    for number in OTHER_NUMBERS[:2]:
        send_test_sms(client, setup, number)
    html = assert_refused(
        send_test_sms(client, setup, OTHER_NUMBERS[2]), "refused these credentials several times"
    )
    # The wait is what is left of the counting window, so its wording depends on the clock.
    assert "sign in to the Clickatell Portal" in html and re.search(
        r"paused for (a minute|about \d+ minutes)", html
    )
    assert len(sandbox.received()) == 2
    client.post(url(setup, "credentials"), {"username": USERNAME, "password": PASSWORD, "api_key": REST_KEY})
    assert send_test_sms(client, setup, OTHER_NUMBERS[3]).status_code == 429  # still locked for the window


def test_failures_for_one_username_lock_it_across_setups(client, sandbox, settings):
    settings.PORTAL_AUTH_FAILURE_LIMITS = {"setup": "50/900", "ip": "50/3600", "username": "2/3600"}
    for number in OTHER_NUMBERS[:2]:
        setup = walk_to_test(
            client, "zabbix-sms-client", {"username": USERNAME, "password": "x", "api_key": REST_KEY}
        )
        send_test_sms(client, setup, number)
    fresh = walk_to_test(
        client, "zabbix-sms-client", {"username": USERNAME, "password": PASSWORD, "api_key": REST_KEY}
    )
    assert_refused(send_test_sms(client, fresh, OTHER_NUMBERS[2]), "refused these credentials several times")
    assert len(sandbox.received()) == 2


def test_every_refusal_is_logged_without_secrets(client, sandbox, budgets, caplog):
    budgets(setup="1/3600")
    setup = novu(client)
    send_test_sms(client, setup)
    with caplog.at_level(logging.WARNING):
        send_test_sms(client, setup, OTHER_NUMBERS[0])
    [record] = [r for r in caplog.records if "refused" in r.getMessage()]
    assert f"limit=setup setup={setup.pk} ip=127.0.0.1" in record.getMessage()
    assert REST_KEY not in record.getMessage() and OTHER_NUMBERS[0] not in record.getMessage()


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_posts_against_a_budget_of_three_make_three_calls(live_server, sandbox, budgets):
    budgets(ip="3/3600")
    pages = []
    for _ in range(20):
        setup = Setup.objects.create(
            app_unlisted=True,
            app_fields="api_key",
            signature="platform_rest",
            portal_integration="platform_rest",
        )
        services.save_credentials(setup, {"api_key": REST_KEY})
        session = requests.Session()
        html = session.get(f"{live_server.url}{url(setup, 'test')}", timeout=10).text
        pages.append(
            (
                session,
                setup,
                re.search(r'name="attempt_token" value="([^"]+)"', html).group(1),
                re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1),
            )
        )
    start = threading.Barrier(len(pages))
    statuses = []

    def post(session, setup, attempt_token, csrf):
        start.wait()
        response = session.post(
            f"{live_server.url}{url(setup, 'test')}",
            allow_redirects=False,
            timeout=30,
            data={"phone": MOBILE, "attempt_token": attempt_token, "csrfmiddlewaretoken": csrf},
            headers={"Referer": live_server.url},
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=post, args=page) for page in pages]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [302] * 3 + [429] * 17
    assert len(sandbox.received()) == 3


def test_spent_counters_are_purged(client, sandbox, settings):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    from wizard.flow.models import RateCounter

    settings.REDIS_URL = ""  # the database's counters are the ones that need purging
    send_test_sms(client, novu(client))
    assert RateCounter.objects.count() == 5
    RateCounter.objects.filter(key__startswith="send:setup").update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    call_command("purge_expired")
    assert RateCounter.objects.count() == 4
