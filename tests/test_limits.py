"""The calls to Clickatell cannot be abused: layered sliding budgets (on sends, delivery checks and new
setups), a kill switch, no credential oracle, clients counted by network, one send per click."""

import logging
import re
import threading
import time
from html import unescape

import pytest
import requests
from django.test import Client

from wizard.flow import limits, services, steps
from wizard.flow.models import Setup

from .conftest import MOBILE, PASSWORD, REST_KEY, USERNAME, all_at_once
from .journeys import send_test_sms, send_token, url, walk_to_test

pytestmark = pytest.mark.django_db

ROOMY = {
    "setup": "50/3600",
    "ip": "50/3600",
    "destination": "50/3600",
    "api_key": "50/3600",
    "global": "50/86400",
}
ROOMY_FAILURES = {"setup": "50/900", "ip": "50/3600", "username": "50/3600", "api_key": "50/3600"}
OTHER_NUMBERS = ["+27821234568", "+27821234569", "+27821234570", "+27821234571", "+27821234572"]


class Clock:
    """The limits' clock, moved only by the test."""

    def __init__(self, now: float):
        self.now = now

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    # Half an hour into tomorrow, at the start of a bucket of every budget: nothing counted yet, and every
    # wait the same on every run.
    clock = Clock((time.time() // 86400 + 1) * 86400 + 1800)
    monkeypatch.setattr(limits, "time", clock)
    return clock


@pytest.fixture
def budgets(settings, clock):
    def use(**tight):
        settings.PORTAL_SEND_LIMITS = {**ROOMY, **tight}

    use()
    return use


def novu(client):
    return walk_to_test(client, "novu", {"api_key": REST_KEY})


def assert_refused(response, says: str):
    assert response.status_code == 429
    html = unescape(response.content.decode())
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
    # The sends count until the bucket they were counted in has left the hour: 66 minutes.
    assert "Try again in about 66 minutes" in html and f'value="{OTHER_NUMBERS[2]}"' in html  # typed: kept
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
    settings.PORTAL_AUTH_FAILURE_LIMITS = {**ROOMY_FAILURES, "setup": "2/900"}
    setup = walk_to_test(
        client, "zabbix-sms-client", {"username": USERNAME, "password": "guess-1", "api_key": REST_KEY}
    )
    for number in OTHER_NUMBERS[:2]:
        send_test_sms(client, setup, number)
    html = assert_refused(
        send_test_sms(client, setup, OTHER_NUMBERS[2]), "refused these credentials several times"
    )
    # The lockout lasts the whole period after the last failure.
    assert "sign in to the Clickatell Portal" in html and "paused for about 15 minutes" in html
    assert len(sandbox.received()) == 2
    client.post(url(setup, "credentials"), {"username": USERNAME, "password": PASSWORD, "api_key": REST_KEY})
    assert send_test_sms(client, setup, OTHER_NUMBERS[3]).status_code == 429  # still locked for the window


def test_failures_for_one_username_lock_it_across_setups(client, sandbox, settings):
    settings.PORTAL_AUTH_FAILURE_LIMITS = {**ROOMY_FAILURES, "username": "2/3600"}
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

    def post(session, setup, attempt_token, csrf):
        response = session.post(
            f"{live_server.url}{url(setup, 'test')}",
            allow_redirects=False,
            timeout=30,
            data={"phone": MOBILE, "attempt_token": attempt_token, "csrfmiddlewaretoken": csrf},
            headers={"Referer": live_server.url},
        )
        return response.status_code

    statuses = all_at_once(post, pages)
    assert sorted(statuses) == [302] * 3 + [429] * 17
    assert len(sandbox.received()) == 3


def test_spent_counters_are_purged(client, sandbox, settings):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    from wizard.flow.models import RateCounter

    settings.REDIS_URL = ""  # the database's counters are the ones that need purging
    send_test_sms(client, novu(client))
    # The new setup's, the send's four budgets and (after it) the global one.
    assert RateCounter.objects.count() == 6
    RateCounter.objects.filter(key__startswith="send:setup").update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    call_command("purge_expired")
    assert RateCounter.objects.count() == 5


# --- checking delivery asks Clickatell too: a send slot and budgets of its own ---------------------------


def check_delivery(client, setup, **extra):
    return client.post(url(setup, "test") + "delivery/", **extra)


def status_queries(sandbox) -> list[dict]:
    return sandbox.received("/public-client/message/status")


def test_thirty_delivery_checks_at_once_reach_clickatell_once(client, sandbox, budgets):
    setup = novu(client)
    send_test_sms(client, setup)
    responses = [check_delivery(client, setup) for _ in range(30)]
    assert [response.status_code for response in responses] == [302] + [429] * 29
    html = assert_refused(responses[-1], "You've checked this test's delivery as often as you may for now.")
    # Once per 10 s, counted in one-second buckets: the check counts until its second has left the 10 s.
    assert "Try again in 11 seconds." in html and responses[-1]["Retry-After"] == "11"
    assert "Clickatell accepted the test message" in html  # the test page, with the test it was about
    assert len(status_queries(sandbox)) == 1


def test_delivery_checks_reach_clickatell_only_as_often_as_the_budgets_allow(
    client, sandbox, budgets, clock, settings
):
    settings.PORTAL_DELIVERY_CHECK_LIMITS = {"setup": "1/10,4/3600", "ip": "50/3600"}
    setup = novu(client)
    send_test_sms(client, setup)
    statuses = []
    for _ in range(30):
        statuses.append(check_delivery(client, setup).status_code)
        clock.advance(6)
    # One every 10 s (at 0, 12, 24 and 36 s), until the hour's four are spent.
    assert [n for n, status in enumerate(statuses) if status == 302] == [0, 2, 4, 6]
    assert statuses.count(429) == 26
    assert len(status_queries(sandbox)) == 4


def test_delivery_checks_have_a_budget_per_network(client, sandbox, budgets, settings):
    settings.PORTAL_DELIVERY_CHECK_LIMITS = {"setup": "5/10", "ip": "2/3600"}
    first, second = novu(client), novu(client)
    send_test_sms(client, first)
    send_test_sms(client, second, OTHER_NUMBERS[0])
    assert check_delivery(client, first).status_code == check_delivery(client, second).status_code == 302
    assert_refused(check_delivery(client, first), "Too many delivery checks have come from your network.")
    assert check_delivery(client, first, REMOTE_ADDR="198.51.100.20").status_code == 302
    assert len(status_queries(sandbox)) == 3


def test_a_delivery_check_waits_for_a_send_slot(client, sandbox, budgets, monkeypatch, settings):
    settings.PORTAL_SEND_SLOT_WAIT_SECONDS = 0
    monkeypatch.setattr(limits, "send_slots", threading.BoundedSemaphore(1))
    setup = novu(client)
    send_test_sms(client, setup)
    limits.send_slots.acquire()  # a slow Clickatell holds the only slot
    try:
        assert_refused(check_delivery(client, setup), "answering slowly")
    finally:
        limits.send_slots.release()
    assert status_queries(sandbox) == []
    assert check_delivery(client, setup).status_code == 302  # the refusal took nothing from the budgets
    assert len(status_queries(sandbox)) == 1


# --- clients are counted by network ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "counted_as"),
    [
        ("198.51.100.7", "198.51.100.7"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2::", "2001:db8:1:2::/64"),
    ],
)
def test_clients_are_counted_by_network(rf, settings, address, counted_as):
    assert limits.client_ip(rf.get("/", REMOTE_ADDR=address)) == counted_as
    settings.PORTAL_CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    behind_proxy = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"203.0.113.9, {address}")
    assert limits.client_ip(behind_proxy) == counted_as


def test_one_ipv6_network_is_one_client_for_sends_and_new_setups(client, sandbox, budgets, settings):
    budgets(ip="1/3600")
    settings.PORTAL_LIMIT_NEW_SETUPS_PER_IP = "2/3600"
    client.defaults["REMOTE_ADDR"] = "2001:db8:1:2::1"
    assert send_test_sms(client, novu(client)).status_code == 302
    client.defaults["REMOTE_ADDR"] = "2001:db8:1:2:ffff:ffff:ffff:fffe"  # the same /64
    assert_refused(send_test_sms(client, novu(client), OTHER_NUMBERS[0]), "sent from your network")
    assert_refused(
        client.post("/", {"platform": "novu"}), "Too many setups have been started from your network"
    )
    client.defaults["REMOTE_ADDR"] = "2001:db8:1:3::1"  # the next /64: another client
    assert send_test_sms(client, novu(client), OTHER_NUMBERS[1]).status_code == 302
    # An IPv4 address is the same client written as IPv6 (IPv4-mapped).
    client.defaults["REMOTE_ADDR"] = "198.51.100.7"
    assert send_test_sms(client, novu(client), OTHER_NUMBERS[2]).status_code == 302
    client.defaults["REMOTE_ADDR"] = "::ffff:198.51.100.7"
    assert_refused(send_test_sms(client, novu(client), OTHER_NUMBERS[3]), "sent from your network")
    assert len(sandbox.received()) == 3


def test_authentication_failures_count_an_ipv6_network_as_one_client(client, sandbox, settings):
    settings.PORTAL_AUTH_FAILURE_LIMITS = {**ROOMY_FAILURES, "ip": "1/3600"}
    client.defaults["REMOTE_ADDR"] = "2001:db8:5:6::10"
    send_test_sms(client, walk_to_test(client, "novu", {"api_key": FAKE_KEYS[0]}))  # refused: one failure
    client.defaults["REMOTE_ADDR"] = "2001:db8:5:6:a:b:c:d"
    html = assert_refused(
        send_test_sms(client, novu(client), OTHER_NUMBERS[0]), "refused these credentials several times"
    )
    assert "paused for about 60 minutes" in html
    assert len(sandbox.received()) == 1


# --- made-up keys: the global budgets, the API Key lockout, new setups --------------------------------------

FAKE_KEYS = ["MadeUpKeyAbCdEfGhIjKlMnO==", "MadeUpKeyPqRsTuVwXyZaBcD==", "MadeUpKeyEfGhIjKlMnOpQrS=="]


def test_sends_with_made_up_keys_spend_nothing_of_the_global_budget(client, sandbox, budgets):
    budgets(**{"global": "1/86400"})
    for key, number in zip(FAKE_KEYS, OTHER_NUMBERS, strict=False):
        refused = send_test_sms(client, walk_to_test(client, "novu", {"api_key": key}), number)
        assert refused.status_code == 302  # sent, and Clickatell refused the key
    assert send_test_sms(client, novu(client)).status_code == 302  # the day's one authenticated send
    assert_refused(send_test_sms(client, novu(client), OTHER_NUMBERS[3]), "to keep costs safe")
    assert len(sandbox.received()) == len(FAKE_KEYS) + 1


def test_when_failures_reach_their_global_budget_only_credentials_clickatell_accepted_send(
    client, sandbox, budgets, settings
):
    settings.PORTAL_AUTH_FAILURES_GLOBAL = "2/3600"
    accepted = novu(client)
    assert send_test_sms(client, accepted).status_code == 302  # Clickatell accepted these credentials
    for n, key in enumerate(FAKE_KEYS[:2]):
        client.defaults["REMOTE_ADDR"] = f"198.51.100.{n + 1}"  # from anywhere: the budget is everyone's
        send_test_sms(client, walk_to_test(client, "novu", {"api_key": key}), OTHER_NUMBERS[n])
    client.defaults["REMOTE_ADDR"] = "203.0.113.50"
    html = assert_refused(send_test_sms(client, novu(client), OTHER_NUMBERS[2]), "paused for everyone")
    assert "credentials it hasn't accepted yet" in html and "Try again in about 66 minutes" in html
    assert send_test_sms(client, accepted, OTHER_NUMBERS[3]).status_code == 302  # still tests
    assert len(sandbox.received()) == 4


def test_failures_for_one_api_key_lock_it_across_setups(client, sandbox, settings):
    settings.PORTAL_AUTH_FAILURE_LIMITS = {**ROOMY_FAILURES, "api_key": "2/3600"}
    for number in OTHER_NUMBERS[:2]:
        send_test_sms(client, walk_to_test(client, "novu", {"api_key": FAKE_KEYS[0]}), number)
    fresh = walk_to_test(client, "novu", {"api_key": FAKE_KEYS[0]})
    assert_refused(send_test_sms(client, fresh, OTHER_NUMBERS[2]), "refused these credentials several times")
    assert send_test_sms(client, novu(client), OTHER_NUMBERS[3]).status_code == 302  # another key
    assert len(sandbox.received()) == 3


def test_new_setups_have_a_budget_per_network_and_agents_starts_are_not_counted(
    agent_client, clock, settings
):
    settings.PORTAL_LIMIT_NEW_SETUPS_PER_IP = "2/3600"
    customer = Client()
    for _ in range(2):
        assert customer.post("/", {"platform": "novu"}).status_code == 302
    html = assert_refused(
        customer.post("/", {"platform": "novu"}),
        "Too many setups have been started from your network. Try again in about 66 minutes.",
    )
    # The choice is kept: one press continues with it.
    assert 'name="platform" value="novu">Continue with Novu (' in html
    assert Setup.objects.count() == 2
    refused = customer.post("/", {"platform": "unlisted"})
    assert refused.status_code == 429 and "Continue: my app isn't listed" in unescape(
        refused.content.decode()
    )
    assert customer.post("/", {"platform": "novu"}, REMOTE_ADDR="198.51.100.30").status_code == 302
    # An agent on the phone, from the same network, starts setups from the console.
    assert agent_client.post("/console/new/").status_code == 302
    assert Setup.objects.filter(created_by_agent="agent-ann").count() == 1


# --- budgets slide, and a lockout lasts a full period from the last failure (both stores) -----------------

HOUR = 3600


@pytest.fixture(params=["database", "redis"])
def store(request, settings):
    if request.param == "redis":
        if not settings.REDIS_URL:
            pytest.skip("the Redis counters are tested in the suite's second pass (REDIS_URL)")
        return limits.counters()
    settings.REDIS_URL = ""
    return limits.counters()


def an_hours_edge() -> float:
    return (time.time() // 86400 + 1) * 86400


def test_a_burst_at_a_windows_edge_cannot_double_a_budget(store):
    budget = limits.Limit("setup", "test:burst", 3, HOUR)
    edge = an_hours_edge()
    for _ in range(3):
        assert store.take([budget], edge - 1) is None
    for later in (edge + 1, edge + HOUR / 2, edge - 1 + HOUR):  # until an hour after the burst, and on
        refused = store.take([budget], later)
        assert refused is not None and refused.limit == budget
    assert refused.retry_after == 1  # when the burst's bucket has left the hour
    assert store.take([budget], edge + HOUR) is None


def test_a_budget_counts_the_last_period_not_the_clocks_hour(store):
    budget = limits.Limit("ip", "test:sliding", 2, HOUR)
    start = an_hours_edge() + 1800
    assert store.take([budget], start) is None
    assert store.take([budget], start + 1000) is None
    refused = store.take([budget], start + 1800)  # the next clock hour, the same last hour
    assert refused and refused.retry_after == HOUR + HOUR // 10 - 1800
    assert store.take([budget], start + HOUR + HOUR // 10) is None  # the first send has left


def test_an_authentication_lockout_lasts_its_full_period_from_the_last_failure(store, settings):
    settings.PORTAL_SEND_LIMITS = ROOMY
    settings.PORTAL_AUTH_FAILURE_LIMITS = {**ROOMY_FAILURES, "setup": "3/900"}
    who = {"setup_id": 1, "client_ip": "192.0.2.1", "username": "", "api_key": REST_KEY}
    send = {**who, "destination": MOBILE}
    first = an_hours_edge() - 100
    limits.record_auth_failure(**who, now=first)
    limits.record_auth_failure(**who, now=first + 50)
    assert limits.check_send(**send, now=first + 60) is None  # two failures: not locked
    last = first + 500  # after the clock's quarter-hour
    limits.record_auth_failure(**who, now=last)
    refusal = limits.check_send(**send, now=last + 899)
    assert refusal and refusal.limit == "auth_failures_setup" and refusal.retry_after == 1
    assert limits.check_send(**send, now=last + 900) is None


def test_a_lockout_ends_a_full_period_after_the_last_failure_not_the_first(store, settings):
    settings.PORTAL_SEND_LIMITS = ROOMY
    settings.PORTAL_AUTH_FAILURE_LIMITS = {**ROOMY_FAILURES, "username": "2/900"}
    now = an_hours_edge()
    limits.record_auth_failure(setup_id=1, client_ip="192.0.2.1", username="acme", now=now)
    limits.record_auth_failure(setup_id=2, client_ip="192.0.2.2", username="Acme", now=now + 600)
    # Once the first failure has left the period, one failure is counted, but the lockout holds on.
    refusal = limits.check_send(
        setup_id=3,
        client_ip="192.0.2.3",
        destination=MOBILE,
        api_key=REST_KEY,
        username="acme",
        now=now + 1000,
    )
    assert refusal and refusal.limit == "auth_failures_username" and refusal.retry_after == 500


# --- one form sends once: no answer writes back what it read --------------------------------------------


def reread(setup: Setup) -> Setup:
    """The setup as another request reads it."""
    return services.find_setup(setup.token)[0]


ANSWERS = {
    "it arrived": lambda setup: services.confirm_delivery(setup, True),
    "not yet": lambda setup: services.confirm_delivery(setup, False),
    "the same app": lambda setup: services.choose_app(setup, setup.platform_id),
    "another app": lambda setup: services.choose_app(setup, None),
    "the same boxes": lambda setup: services.choose_fields(setup, setup.app_fields),
    "new credentials": lambda setup: services.save_credentials(setup, {"api_key": REST_KEY}),
    "a step page": lambda setup: services.move_to(setup, steps.CREDENTIALS),
    "the test page": lambda setup: services.move_to(setup, steps.TEST),
    "the instructions": lambda setup: services.instructions_for(setup),
}


@pytest.mark.parametrize("answer", ANSWERS)
def test_no_answer_brings_back_a_token_or_erases_an_agents_request_or_a_sends_outcome(
    client, sandbox, answer
):
    setup = novu(client)
    send_token(client, setup)
    stale = reread(setup)  # a request reads the setup; meanwhile:
    send_test_sms(client, setup)  # a send claims the form's token and writes its outcome,
    issued = send_token(client, setup)  # the test page issues the next token,
    services.send_customer_to(reread(setup), steps.INSTRUCTIONS)  # and an agent asks for a step
    ANSWERS[answer](stale)
    row = Setup.objects.get(pk=setup.pk)
    assert row.send_token == issued
    assert row.agent_requested_step == steps.INSTRUCTIONS
    assert row.last_outcome == "accepted"


def test_a_failed_send_leaves_the_answer_given_meanwhile(client, sandbox):
    setup = novu(client)
    send_test_sms(client, setup)  # accepted
    token = send_token(client, setup)
    stale = reread(setup)  # the next send reads the setup; meanwhile the customer answers about the first
    client.post(url(setup, "test") + "confirm/", {"arrived": "no"})
    sandbox.fail_next("error", code=105)
    result = services.send_test(stale, token, OTHER_NUMBERS[0], "127.0.0.1")
    assert result.attempt.status == "rejected"
    row = Setup.objects.get(pk=setup.pk)
    assert row.delivery_confirmed is False and row.test_passed_at is not None
    assert row.last_outcome == "rejected"


def test_not_yet_leaves_the_step_the_customer_went_to(client, sandbox):
    setup = novu(client)
    send_test_sms(client, setup)
    stale = reread(setup)  # on the test step
    client.get(url(setup, "credentials"))  # meanwhile, in another tab
    services.confirm_delivery(stale, False)
    assert Setup.objects.get(pk=setup.pk).step == steps.CREDENTIALS


def test_a_test_page_carries_the_token_another_page_issued_meanwhile(client, sandbox):
    setup = novu(client)
    send_test_sms(client, setup)  # the form's token is spent
    stale = reread(setup)  # a test page reads the setup, with no token …
    issued = send_token(client, setup)  # … while another test page issues one
    services.move_to(stale, steps.TEST)
    assert stale.send_token == issued == Setup.objects.get(pk=setup.pk).send_token
