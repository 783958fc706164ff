"""The insights page's tables and charts, from one report: the page and its CSV downloads show the same
rows, because both are made here."""

import csv
import io
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlencode

from django.urls import reverse

from . import charts
from .insights import APP_SORTS, Insights

TABLES = ["funnel", "failures", "apps", "agents"]


@dataclass(frozen=True)
class Cell:
    text: str
    value: object = None  # what the CSV gets, when it differs from the text (a number, not "40%")
    href: str = ""
    numeric: bool = False
    trend: charts.Sparkline | None = None  # drawn before the text
    trend_label: str = ""  # the trend's numbers, for screen readers

    @property
    def csv(self):
        return self.text if self.value is None else self.value


@dataclass(frozen=True)
class Column:
    label: str
    sort: str = ""  # the apps table's sort key, for a link in its header
    numeric: bool = False


@dataclass(frozen=True)
class Table:
    name: str
    caption: str
    columns: list[Column]
    rows: list[list[Cell]] = field(default_factory=list)


def percent(share: float | None) -> Cell:
    return (
        Cell("—", "", numeric=True) if share is None else Cell(f"{share:.0%}", round(share, 4), numeric=True)
    )


def number(value: int) -> Cell:
    return Cell(str(value), value, numeric=True)


def duration(took: timedelta | None) -> Cell:
    if took is None:
        return Cell("—", "", numeric=True)
    seconds = round(took.total_seconds())
    if seconds < 60:
        text = f"{seconds} s"
    elif seconds < 3600:
        text = (
            f"{seconds // 60} min {seconds % 60} s"
            if seconds % 60 and seconds < 600
            else f"{seconds // 60} min"
        )
    else:
        text = f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return Cell(text, seconds, numeric=True)


def _setups_with(report: Insights, diagnosis: str) -> str:
    wanted = {
        "diagnosis": diagnosis,
        "met_from": report.period.start.isoformat(),
        "met_to": report.period.end.isoformat(),
        "platform": report.filters.platform,
        "signature": report.filters.signature,
    }
    return f"{reverse('console:list')}?{urlencode({k: v for k, v in wanted.items() if v})}"


def funnel_table(report: Insights) -> Table:
    return Table(
        "funnel",
        "How far the period's setups got",
        [
            Column("Step"),
            Column("Setups", numeric=True),
            Column("Lost at this step", numeric=True),
            Column("Share lost", numeric=True),
            Column("Share of started", numeric=True),
        ],
        [
            [
                Cell(stage.title),
                number(stage.count),
                number(stage.lost),
                percent(stage.lost_share),
                percent(stage.share_of_started),
            ]
            for stage in report.funnel
        ],
    )


def failures_table(report: Insights) -> Table:
    buckets = report.period.buckets()
    # As many days (or weeks) on each side; with an odd number of them the middle one is left out, so
    # neither side covers more time than the other.
    half = max(len(buckets) // 2, 1)
    unit = "day" if report.period.bucket_days == 1 else "week"
    return Table(
        "failures",
        "What customers' test sends met",
        [
            Column("What the customer saw"),
            Column("Error code"),
            Column("Setups", numeric=True),
            Column("Test sends", numeric=True),
            Column("Trend: first half → second half of the period"),
        ],
        [
            [
                Cell(failure.title, href=_setups_with(report, failure.key)),
                Cell(failure.code, failure.key),
                number(failure.setups),
                number(failure.attempts),
                Cell(
                    f"{sum(failure.trend[:half])} → {sum(failure.trend[-half:])}",
                    " ".join(str(n) for n in failure.trend),
                    trend=charts.sparkline(failure.trend),
                    trend_label=f"Test sends per {unit}: {', '.join(str(n) for n in failure.trend)}",
                ),
            ]
            for failure in report.failures
        ],
    )


def apps_table(report: Insights, query: dict) -> Table:
    def sorted_by(key: str) -> str:
        return f"?{urlencode({**query, 'sort': key})}"

    return Table(
        "apps",
        f"Per app, sorted by {APP_SORTS[report.sort][0].lower()} (worst first)",
        [
            Column(APP_SORTS["name"][0], sort=sorted_by("name")),
            Column(APP_SORTS["started"][0], sort=sorted_by("started"), numeric=True),
            Column("Accepted by Clickatell", sort=sorted_by("accepted"), numeric=True),
            Column("“It arrived”", sort=sorted_by("arrived"), numeric=True),
            Column(APP_SORTS["lost"][0], sort=sorted_by("lost"), numeric=True),
            Column(APP_SORTS["median"][0], sort=sorted_by("median"), numeric=True),
            Column("Where most stop"),
        ],
        [
            [
                Cell(app.name),
                number(app.started),
                Cell(f"{app.accepted} ({app.accepted_rate:.0%})", app.accepted, numeric=True),
                Cell(f"{app.arrived} ({app.arrived_rate:.0%})", app.arrived, numeric=True),
                number(app.lost),
                duration(app.median_to_working),
                Cell(f"before “{app.worst.title}” ({app.worst.lost})" if app.worst else "—"),
            ]
            for app in report.apps
        ],
    )


def agents_table(report: Insights) -> Table:
    share = report.agents
    started = share.started

    def of_started(count: int) -> Cell:
        return percent(count / started if started else None)

    return Table(
        "agents",
        "Agents' share of the period's setups",
        [Column("What"), Column("Count", numeric=True), Column("Share of setups started", numeric=True)],
        [
            [
                Cell("Setups started by agents"),
                number(share.started_by_agents),
                of_started(share.started_by_agents),
            ],
            [
                Cell("Setups opened by agents"),
                number(share.opened_by_agents),
                of_started(share.opened_by_agents),
            ],
            [Cell("Notes written on them"), number(share.notes), percent(None)],
        ],
    )


def tables(report: Insights, query: dict) -> dict[str, Table]:
    """Every table of the page, by name; ``query`` is the page's question, for the apps' sort links."""
    return {
        "funnel": funnel_table(report),
        "failures": failures_table(report),
        "apps": apps_table(report, query),
        "agents": agents_table(report),
    }


def as_csv(table: Table) -> str:
    """The table for a spreadsheet. A cell that a spreadsheet would run as a formula is quoted as text."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([column.label for column in table.columns])
    for row in table.rows:
        cells = [cell.csv for cell in row]
        writer.writerow(
            [
                f"'{c}" if isinstance(c, str) and c[:1] in ("=", "+", "-", "@", "\t", "\r") else c
                for c in cells
            ]
        )
    return out.getvalue()


# --- the charts -----------------------------------------------------------------------------------------

CHART_ROWS = 10


def funnel_chart(report: Insights) -> charts.BarChart:
    return charts.bar_chart(
        "The funnel: setups at each step",
        [
            (stage.title, stage.count, f"{stage.count}" + (f" (−{stage.lost})" if stage.lost else ""))
            for stage in report.funnel
        ],
    )


def failures_chart(report: Insights) -> charts.BarChart:
    return charts.bar_chart(
        "What fails: setups that met each diagnosis",
        [
            (f.title, f.setups, f"{f.setups} setup{'s' if f.setups != 1 else ''}")
            for f in report.failures[:CHART_ROWS]
        ],
    )


def apps_chart(report: Insights) -> charts.BarChart:
    shown = report.apps[:CHART_ROWS]
    return charts.bar_chart(
        "Per app: setups started, the darker part arrived",
        [(app.name, app.started, f"{app.arrived} of {app.started}") for app in shown],
        parts=[app.arrived for app in shown],
    )


def page(report: Insights, query: dict) -> dict:
    """What the page's template draws: its tables and, beside them, their charts."""
    return {
        "tables": tables(report, query),
        "funnel_chart": funnel_chart(report),
        "failures_chart": failures_chart(report),
        "apps_chart": apps_chart(report),
    }
