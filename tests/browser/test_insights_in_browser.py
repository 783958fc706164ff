"""The insights page in a real Chromium, with JavaScript on and off: after seeded journeys its numbers match
what was seeded, the charts are drawn, axe finds nothing, and only agents get in."""

import csv

import pytest
from django.test import Client
from playwright.sync_api import expect

from tests.conftest import sign_in_verified
from tests.test_insights import seed_journeys

from .signin import enrol, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
BOTH = pytest.mark.parametrize("checked", [True, False], indirect=True, ids=["js", "nojs"])


def column(page, table: str, n: int) -> list[str]:
    """The ``n``th cell of each row of one of the page's tables (the row's heading is the first)."""
    return [
        cell.strip() for cell in page.locator(f"#table-{table} tbody tr > :nth-child({n})").all_inner_texts()
    ]


@BOTH
def test_an_agent_reads_the_seeded_journeys_off_the_page(checked, agent, browser):
    page = checked.page
    checked.goto("/console/insights/")
    sign_in(page)
    enrol(page)
    page.get_by_role("link", name="I've saved them: continue").click()
    # The customers walk the wizard (another agent's notes and openings among them) while this one signs in.
    helper = Client()
    sign_in_verified(helper, agent)
    seeded = seed_journeys(Client(), helper)

    checked.goto("/console/insights/")
    expect(page.locator("h1")).to_contain_text("Insights")
    page.get_by_label("Last 7 days").check()
    page.get_by_role("button", name="Show").click()
    # Without JavaScript the click loads a new page: read its tables once it has them.
    expect(page.locator("#table-funnel tbody tr")).to_have_count(8)
    assert "period=7" in page.url
    assert column(page, "funnel", 1) == [
        "Setups started",
        "App chosen",
        "Boxes confirmed",
        "Credentials saved",
        "Test sent",
        "Accepted by Clickatell",
        "“It arrived”",
        "Instructions opened",
    ]
    assert column(page, "funnel", 2) == ["7", "6", "5", "4", "4", "3", "2", "1"]
    assert column(page, "funnel", 3) == ["0", "1", "1", "1", "0", "1", "1", "1"]
    assert column(page, "failures", 1) == [
        "Clickatell did not accept your username or password",
        "The old numeric API ID pasted as the API Key",
    ]
    assert column(page, "failures", 3) == ["2", "1"]
    assert column(page, "apps", 2) == ["4", "2", "1"]
    assert column(page, "agents", 2) == ["1", "1", "1"]
    # Every chart is drawn, with a bar for each step of the funnel.
    for chart in page.locator("svg.chart").all():
        box = chart.bounding_box()
        assert box and box["width"] > 200 and box["height"] > 20
    assert page.locator("svg.chart").first.locator("rect.chart-bar").count() == 8
    checked.check("insights")

    page.get_by_role("link", name="Median time to a working test").click()
    assert "sort=median" in page.url and "period=7" in page.url
    assert column(page, "apps", 1)[-1] == "No app chosen yet"
    checked.check("insights sorted")

    with page.expect_download() as download:
        page.locator("#failures-h ~ .download a, section:has(#failures-h) .download a").first.click()
    rows = list(csv.reader(open(download.value.path(), encoding="utf-8")))
    assert rows[1][1:4] == ["legacy:001", "2", "2"]

    page.get_by_role("link", name="Clickatell did not accept your username or password").click()
    expect(page.locator("h1")).to_contain_text("Recent setups")
    expect(page.locator("#results")).to_contain_text("2 setups.")
    for name in ("wrong_password", "fixed_not_confirmed"):
        expect(page.locator("#results")).to_contain_text(seeded[name].reference)
    checked.check("setups that met a failure")


def test_customers_and_users_without_the_permission_get_no_insights(
    browser, live_server, catalog, django_user_model
):
    # Not a checked page: the 403 this test expects is an error in the browser's console.
    context = browser.new_context()
    page = context.new_page()
    page.goto(live_server.url + "/console/insights/")  # a customer's browser: the sign-in page, nothing more
    expect(page.locator("h1")).to_contain_text("Sign in to the support console")
    django_user_model.objects.create_user("bob", password="bob-pw-for-tests-only")
    sign_in(page, "bob", "bob-pw-for-tests-only")
    enrol(page)
    page.get_by_role("link", name="I've saved them: continue").click()
    response = page.goto(live_server.url + "/console/insights/")
    assert response.status == 403
    assert "Insights" not in page.content()
    context.close()
