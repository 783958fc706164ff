"""Support insights: the facts the wizard records on the way, and the console page that counts them."""

from datetime import UTC

import pytest
from django.test import Client
from django.utils import timezone

from wizard.console import insight_tables, insights
from wizard.flow.models import Setup

from .conftest import PASSWORD, REST_KEY, USERNAME, dump_database, sign_in_verified
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


# --- the page's numbers, against seeded journeys -----------------------------------------------------------


def seed_journeys(client, agent_client) -> dict[str, Setup]:
    """Seven customers, each stopping somewhere else, all through the wizard against the stand-in."""
    seeded = {}
    # A number of its own for each send: the stand-in's limits allow only so many tests to one number.
    numbers = iter(f"+2782123450{n}" for n in range(10))
    for name in ("arrived_and_read", "arrived"):
        setup = walk_to_test(client, "novu", {"api_key": REST_KEY})
        send_test_sms(client, setup, next(numbers))
        client.post(f"/s/{setup.token}/test/confirm/", {"arrived": "yes"})
        seeded[name] = setup
    client.get(url(seeded["arrived_and_read"], "instructions"))
    seeded["wrong_password"] = walk_to_test(
        client, "zabbix-sms-client", {**LEGACY_CREDENTIALS, "password": "wrong"}
    )
    send_test_sms(client, seeded["wrong_password"], next(numbers))
    fixed = walk_to_test(client, "zabbix-sms-client", {**LEGACY_CREDENTIALS, "password": "wrong"})
    send_test_sms(client, fixed, next(numbers))
    client.post(url(fixed, "credentials"), LEGACY_CREDENTIALS)
    send_test_sms(client, fixed, next(numbers))
    seeded["fixed_not_confirmed"] = fixed
    stuck = start(client, "novu")
    client.post(url(stuck, "fields"), {"confirm": "yes"})
    response = client.post(url(stuck, "credentials"), {"api_key": "3442105"})  # the old numeric API ID
    assert "looks like your old API ID" in response.content.decode()
    seeded["failing_at_credentials"] = stuck
    seeded["just_started"] = start(client, "novu")
    agent_client.post("/console/new/")
    seeded["agent_started"] = Setup.objects.get(created_by_agent="agent-ann")
    wrong = seeded["wrong_password"].reference
    agent_client.get(f"/console/s/{wrong}/")
    agent_client.post(f"/console/s/{wrong}/notes/", {"text": "Called: typed the old password"})
    return seeded


@pytest.fixture
def seeded(agent_client, sandbox):
    return seed_journeys(Client(), agent_client)  # the customers' browsers are not the agent's


def report(**filters):
    from django.utils import timezone

    from wizard.console import insights

    return insights.insights(insights.last_days(7, timezone.now()), insights.Filters(**filters))


def test_the_funnel_counts_how_far_each_seeded_customer_got(seeded):
    found = report()
    assert [(stage.key, stage.count, stage.lost) for stage in found.funnel] == [
        ("started", 7, 0),
        ("app_chosen", 6, 1),  # the agent's setup: no app yet
        ("fields", 5, 1),  # just started
        ("credentials", 4, 1),  # the old API ID, refused by the form
        ("test_sent", 4, 0),
        ("accepted", 3, 1),  # the wrong password, never fixed
        ("arrived", 2, 1),  # accepted, never confirmed
        ("instructions", 1, 1),
    ]
    assert found.funnel[5].lost_share == pytest.approx(1 / 4)
    assert found.funnel[7].share_of_started == pytest.approx(1 / 7)


def test_what_fails_counts_setups_and_times_per_diagnosis_and_form_mistake(seeded):
    failure, mistake = report().failures
    assert (failure.key, failure.code, failure.setups, failure.attempts) == ("legacy:001", "001", 2, 2)
    assert failure.title == "Clickatell did not accept your username or password"
    assert sum(failure.trend) == 2 and failure.trend[-1] == 2  # all of them today
    # Caught by the credentials form, before anything was sent: counted by name, nothing typed kept.
    assert (mistake.key, mistake.code, mistake.setups, mistake.attempts) == (
        "form:key_old_api_id",
        "(form)",
        1,
        1,
    )
    assert mistake.title == "The old numeric API ID pasted as the API Key" and mistake.on_form
    assert "3442105" not in dump_database()


def test_per_app_counts_success_the_median_time_and_where_most_stop(seeded):
    apps = {app.platform: app for app in report().apps}
    assert set(apps) == {"novu", "zabbix-sms-client", ""}  # "": the agent's setup, no app chosen yet
    novu, zabbix = apps["novu"], apps["zabbix-sms-client"]
    assert (novu.started, novu.accepted, novu.arrived, novu.lost) == (4, 2, 2, 2)
    assert (zabbix.started, zabbix.accepted, zabbix.arrived, zabbix.lost) == (2, 1, 0, 2)
    assert zabbix.worst.key == "accepted" and zabbix.worst.lost == 1
    # The median is the middle of each app's times to a working test: with Novu's two, their average.
    times = []
    for name in ("arrived", "arrived_and_read"):
        seeded[name].refresh_from_db()
        times.append(seeded[name].first_accepted_at - seeded[name].created_at)
    assert novu.median_to_working == (times[0] + times[1]) / 2
    seeded["fixed_not_confirmed"].refresh_from_db()
    fixed = seeded["fixed_not_confirmed"]
    assert zabbix.median_to_working == fixed.first_accepted_at - fixed.created_at


def test_apps_sort_worst_first_by_each_column(seeded):
    from django.utils import timezone

    from wizard.console import insights

    week = insights.last_days(7, timezone.now())
    by = {
        sort: [app.platform for app in insights.per_app(week, insights.Filters(), sort)]
        for sort in insights.APP_SORTS
    }
    assert by["lost"] == ["novu", "zabbix-sms-client", ""]  # 2, 2 (then by name), 1
    assert by["started"] == ["novu", "zabbix-sms-client", ""]
    assert by["accepted"] == ["", "novu", "zabbix-sms-client"]  # 0%, then 50% and 50%, more setups first
    assert by["arrived"] == ["zabbix-sms-client", "", "novu"]  # 0% of 2, 0% of 1, 50%
    assert by["median"][-1] == ""  # no working test: last
    assert by["name"] == ["", "novu", "zabbix-sms-client"]


def test_agents_share_counts_started_opened_and_notes(seeded):
    share = report().agents
    assert (share.started, share.started_by_agents, share.opened_by_agents, share.notes) == (7, 1, 1, 1)


def test_filters_narrow_every_part(seeded):
    zabbix = report(platform="zabbix-sms-client")
    assert zabbix.funnel[0].count == 2 and [f.setups for f in zabbix.failures] == [2]
    assert zabbix.agents.opened_by_agents == 1 and zabbix.agents.notes == 1
    rest = report(signature="platform_rest")
    assert rest.funnel[0].count == 3  # Novu's, less the one with no boxes yet
    assert [f.key for f in rest.failures] == ["form:key_old_api_id"]
    assert report(platform="unlisted").funnel[0].count == 0


def test_the_language_filter_counts_the_setups_in_that_language(seeded, agent_client):
    Setup.objects.filter(pk__in=[seeded["arrived"].pk, seeded["fixed_not_confirmed"].pk]).update(
        language="fr"
    )
    french = report(language="fr")
    assert french.funnel[0].count == 2 and french.agents.started == 2
    assert {app.platform for app in french.apps} == {"novu", "zabbix-sms-client"}
    assert [(f.key, f.setups) for f in french.failures] == [("legacy:001", 1)]  # fixed, then it worked
    assert report(language="en").funnel[0].count == 5 and report(language="pt").funnel[0].count == 0
    page = agent_client.get("/console/insights/", {"period": "7", "language": "fr"}).content.decode()
    assert '<option value="fr" selected>Français</option>' in page
    assert "language=fr" in page  # the CSV downloads and sort links keep the filter


def test_the_period_counts_only_setups_started_in_it(seeded):
    from datetime import timedelta

    from django.utils import timezone

    Setup.objects.filter(pk=seeded["just_started"].pk).update(created_at=timezone.now() - timedelta(days=10))
    assert report().funnel[0].count == 6
    from wizard.console import insights

    month = insights.insights(insights.last_days(30, timezone.now()), insights.Filters())
    assert month.funnel[0].count == 7


# --- the page -------------------------------------------------------------------------------------------


def test_the_page_shows_each_chart_with_its_table_and_csv_links(seeded, agent_client):
    from html import unescape

    response = agent_client.get("/console/insights/", {"period": "7"})
    assert response.status_code == 200
    html = unescape(response.content.decode())
    assert html.count('<svg class="chart"') == 3 and html.count("<table") == 4
    for name in ("funnel", "failures", "apps", "agents"):
        assert f"/console/insights/{name}.csv?period=7" in html
    assert "Clickatell did not accept your username or password" in html
    assert '<a href="/console/?diagnosis=legacy%3A001&met_from=' in html
    assert "?period=7&amp;sort=median" in response.content.decode()
    for secret in (PASSWORD, REST_KEY, REST_KEY[:-4], "wrong"):
        assert secret not in html


def test_each_table_downloads_as_csv(seeded, agent_client):
    import csv

    response = agent_client.get("/console/insights/funnel.csv", {"period": "7"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="portal-switch-funnel-')
    rows = list(csv.reader(response.content.decode().splitlines()))
    assert rows[0] == ["Step", "Setups", "Lost at this step", "Share lost", "Share of started"]
    assert [row[1] for row in rows[1:]] == ["7", "6", "5", "4", "4", "3", "2", "1"]
    rows = list(csv.reader(agent_client.get("/console/insights/failures.csv").content.decode().splitlines()))
    assert rows[1][1:4] == ["legacy:001", "2", "2"]
    rows = list(csv.reader(agent_client.get("/console/insights/apps.csv").content.decode().splitlines()))
    assert [row[0].split(" ")[0] for row in rows[1:]] == ["Novu", "Zabbix", "No"]  # … "No app chosen yet"
    assert rows[1][1:5] == ["4", "2", "2", "2"] and rows[1][6] == "before “Boxes confirmed” (1)"
    assert agent_client.get("/console/insights/nothing.csv").status_code == 404


def test_a_range_and_bad_questions(seeded, agent_client):
    from django.utils import timezone

    today = timezone.now().date().isoformat()
    html = agent_client.get("/console/insights/", {"period": "range", "start": today, "end": today}).content
    assert b"<strong>7</strong>" in html
    html = agent_client.get("/console/insights/", {"period": "range", "start": today}).content.decode()
    assert "Give both days of the range" in html
    html = agent_client.get("/console/insights/", {"period": "range", "start": today, "end": "2020-01-01"})
    assert "comes after its To day" in html.content.decode()
    html = agent_client.get("/console/insights/", {"period": "range", "start": "1900-01-01", "end": today})
    assert "at most 366 days" in html.content.decode()
    end_of_calendar = {"period": "range", "start": "9999-12-01", "end": "9999-12-31"}
    for path in ("/console/insights/", "/console/insights/funnel.csv"):
        response = agent_client.get(path, end_of_calendar)
        assert response.status_code == 200, path
    assert (
        "within a year from today" in agent_client.get("/console/insights/", end_of_calendar).content.decode()
    )
    assert agent_client.get("/console/insights/", {"period": "12", "sort": "x"}).status_code == 200


def test_what_could_not_be_read_is_named_and_the_rest_of_the_question_kept(seeded, agent_client):
    import re
    from datetime import timedelta
    from html import unescape

    def shown(question: dict) -> tuple[str, str]:
        html = unescape(agent_client.get("/console/insights/", question).content.decode())
        error = re.search(r'<p class="error" role="alert">(.*?)</p>', html, re.S)
        first_day = re.search(r"Setups started from (\d{4}-\d\d-\d\d)", html).group(1)
        return " ".join(error.group(1).split()) if error else "", first_day

    week_ago = (timezone.now() - timedelta(days=7)).date().isoformat()
    error, first_day = shown({"period": "7", "signature": "zzz"})
    assert error.startswith("Signature: Select a valid choice. zzz is not one of the available choices.")
    assert first_day == week_ago  # the period asked for, though the signature could not be read

    ten_days_ago = (timezone.now() - timedelta(days=10)).date().isoformat()
    today = timezone.now().date().isoformat()
    error, first_day = shown({"period": "range", "start": ten_days_ago, "end": today, "language": "xx"})
    assert error.startswith("Language: Select a valid choice.") and first_day == ten_days_ago

    error, first_day = shown({"period": "range", "start": "2026-13-45", "end": "2026-12-01"})
    assert error.startswith("From: Enter a valid date.") and "Give both days" not in error
    assert first_day == (timezone.now() - timedelta(days=30)).date().isoformat()


def test_only_agents_get_the_page(seeded, django_user_model):
    paths = ["/console/insights/", "/console/insights/funnel.csv"]
    for path in paths:
        response = Client().get(path)  # anonymous, as a customer's own browser is to the console
        assert response.status_code == 302 and response["Location"].startswith("/console/login/"), path
    outsider = Client()
    sign_in_verified(outsider, django_user_model.objects.create_user("bob", password="x-for-tests"))
    for path in paths:
        assert outsider.get(path).status_code == 403, path
    password_only = Client()
    password_only.force_login(django_user_model.objects.get(username="agent-ann"))
    for path in paths:
        assert password_only.get(path)["Location"].startswith("/console/login/"), path


def test_the_page_takes_the_same_statements_however_many_setups(
    seeded, agent_client, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        agent_client.get("/console/insights/", {"sort": "median"})
    novu = Setup.objects.get(pk=seeded["arrived"].pk).platform
    Setup.objects.bulk_create(
        [Setup(reference=f"CCCC-{n:04d}", token=f"c{n}", platform=novu) for n in range(300)]
    )
    from wizard.flow.models import TestAttempt

    TestAttempt.objects.bulk_create(
        [
            TestAttempt(
                setup=setup, signature="legacy_http", status="rejected", diagnosis_key=f"legacy:00{n % 7}"
            )
            for n, setup in enumerate(Setup.objects.filter(reference__startswith="CCCC"))
        ]
    )
    with django_assert_max_num_queries(len(few)):
        response = agent_client.get("/console/insights/", {"sort": "median"})
    assert b"<strong>307</strong>" in response.content
    # The session, the agent, their authenticator, their permissions (2), the apps for the filter, the
    # report's 6: the apps' counts (which give the funnel) and their medians, the setups agents opened,
    # their notes, the test sends' diagnoses and the form's mistakes (each with its trend); and the
    # session's new expiry (in a savepoint here, inside the test's transaction).
    statements = [q["sql"] for q in few.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) <= 13, [sql[:80] for sql in statements]


def test_a_failure_links_to_the_setups_that_met_it(seeded, agent_client):
    html = agent_client.get("/console/", {"diagnosis": "legacy:001"}).content.decode()
    assert "2 setups." in html and "Clickatell did not accept your username or password" in html
    for name, setup in seeded.items():
        assert (setup.reference in html) == (name in ("wrong_password", "fixed_not_confirmed")), name
    assert "0 setups." in agent_client.get("/console/", {"diagnosis": "legacy:002"}).content.decode()
    html = agent_client.get("/console/", {"diagnosis": "form:key_old_api_id"}).content.decode()
    assert "1 setup." in html and seeded["failing_at_credentials"].reference in html
    assert "The old numeric API ID pasted as the API Key" in html
    # From the insights, the link names the period too: only setups that met it then.
    before = {"met_from": "2026-01-01T00:00:00+00:00", "met_to": "2026-02-01T00:00:00+00:00"}
    for diagnosis in ("legacy:001", "form:key_old_api_id"):
        html = agent_client.get("/console/", {"diagnosis": diagnosis, **before}).content.decode()
        assert "0 setups." in html and "from 2026-01-01 00:00 to 2026-02-01 00:00 UTC" in html
    html = agent_client.get("/console/", {"diagnosis": "legacy:001", "met_from": "soon", "met_to": "x"})
    assert "2 setups." in html.content.decode()  # a period that is not two times is left out


def test_trends_count_by_day_up_to_a_month_and_by_week_beyond():
    from datetime import date, datetime, timedelta

    from wizard.console import insights

    now = datetime(2026, 12, 3, 7, 30, tzinfo=UTC)
    month = insights.last_days(30, now).buckets()
    assert len(month) == 30 and month[0][0] == now - timedelta(days=30) and month[-1][1] == now
    quarter = insights.last_days(90, now).buckets()
    assert len(quarter) == 13 and quarter[0][1] - quarter[0][0] == timedelta(days=7) and quarter[-1][1] == now
    [day] = insights.between(date(2026, 12, 1), date(2026, 12, 1)).buckets()
    assert day == (datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 12, 2, tzinfo=UTC))


def test_a_csv_cell_a_spreadsheet_would_run_is_kept_as_text():
    from wizard.console.insight_tables import Cell, Column, Table, as_csv

    table = Table("t", "t", [Column("App")], [[Cell("=HYPERLINK(1)")], [Cell("-1", -1)], [Cell("Novu")]])
    assert as_csv(table).splitlines() == ["App", "'=HYPERLINK(1)", "-1", "Novu"]  # numbers stay numbers


@pytest.mark.parametrize(
    ("days", "trend", "shown"), [(7, [1, 0, 0, 5, 0, 0, 1], "1 → 1"), (30, [2] * 30, "30 → 30")]
)
def test_a_trend_compares_as_much_time_on_each_side(days, trend, shown):
    # Seven days: the first three against the last three, the middle day left out, so a steady failure
    # never looks like it is rising.
    period = insights.last_days(days, timezone.now())
    assert len(period.buckets()) == len(trend)
    failure = insights.Failure(
        key="platform:301", title="t", code="301", setups=1, attempts=sum(trend), trend=trend
    )
    report = insights.Insights(
        period=period,
        filters=insights.Filters(),
        funnel=[],
        agents=None,
        failures=[failure],
        apps=[],
        sort="",
    )
    [row] = insight_tables.failures_table(report).rows
    assert row[-1].text == shown
