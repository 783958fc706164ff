"""Support insights: where customers stop and what fails, counted by the database.

Every number here is an aggregate query over a period's setups (and the page's filters), so the page
takes the same few statements however many setups there are; Python only arranges what the database
counted. Like access.py, this module reads setups without the vault and hands out plain records.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from math import ceil

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet, Window
from django.db.models.functions import RowNumber

from wizard.clickatell.diagnoses import by_key
from wizard.flow.models import CredentialMistake, Setup, TestAttempt
from wizard.flow.steps import MISTAKES

from .access import FORM_MISTAKE
from .models import AgentNote, SetupAccess

PERIODS = [7, 30, 90]
DEFAULT_PERIOD = 30
# Trend buckets: a day each up to a month, a week each beyond, so a chart has at most a few dozen points.
DAILY_UP_TO_DAYS = 31

# The funnel's steps, in order: a setup counts at a step once it has ever got that far (flow/models.py's
# "first reached" facts), wherever it is now. The first, "started", is every setup of the period.
FUNNEL = [
    ("started", "Setups started", ""),
    ("app_chosen", "App chosen", "app_chosen_at"),
    ("fields", "Boxes confirmed", "fields_confirmed_at"),
    ("credentials", "Credentials saved", "credentials_first_saved_at"),
    ("test_sent", "Test sent", "first_test_sent_at"),
    ("accepted", "Accepted by Clickatell", "first_accepted_at"),
    ("arrived", "“It arrived”", "arrival_confirmed_at"),
    ("instructions", "Instructions opened", "instructions_opened_at"),
]


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime
    days: int  # 7, 30 or 90, or 0 for a from–to range

    @property
    def bucket_days(self) -> int:
        return 1 if (self.end - self.start) <= timedelta(days=DAILY_UP_TO_DAYS) else 7

    def buckets(self) -> list[tuple[datetime, datetime]]:
        """Where each trend bucket starts and ends, oldest first: a day (or a week) from the period's
        start; the last one ends with the period."""
        step = timedelta(days=self.bucket_days)
        count = max(ceil((self.end - self.start) / step), 1)
        return [(self.start + n * step, min(self.start + (n + 1) * step, self.end)) for n in range(count)]


def last_days(days: int, now: datetime) -> Period:
    return Period(start=now - timedelta(days=days), end=now, days=days)


def between(first: date, last: date) -> Period:
    """From the start of ``first`` to the end of ``last`` (UTC), both days included."""
    return Period(
        start=datetime.combine(first, time.min, UTC),
        end=datetime.combine(last + timedelta(days=1), time.min, UTC),
        days=0,
    )


@dataclass(frozen=True)
class Filters:
    platform: str = ""  # a catalog slug, or "unlisted"
    signature: str = ""
    language: str = ""  # the language the customers read the wizard in (Setup.language)


def _matching(queryset: QuerySet, filters: Filters, prefix: str = "") -> QuerySet:
    if filters.platform == "unlisted":
        queryset = queryset.filter(**{f"{prefix}app_unlisted": True})
    elif filters.platform:
        queryset = queryset.filter(**{f"{prefix}platform__slug": filters.platform})
    if filters.signature:
        queryset = queryset.filter(**{f"{prefix}signature": filters.signature})
    if filters.language:
        queryset = queryset.filter(**{f"{prefix}language": filters.language})
    return queryset


def setups_started(period: Period, filters: Filters) -> QuerySet:
    """The setups started in the period that match the filters: what the funnel, the apps and the agents'
    share count."""
    return _matching(
        Setup.objects.filter(created_at__gte=period.start, created_at__lt=period.end).order_by(), filters
    )


def _reached(fact: str) -> Count:
    return Count("pk", filter=Q(**{f"{fact}__isnull": False})) if fact else Count("pk")


def _stage_counts() -> dict:
    return {key: _reached(fact) for key, _, fact in FUNNEL}


# --- the funnel (from the apps' counts) and the agents' share (two queries) ----------------------------


@dataclass(frozen=True)
class Stage:
    key: str
    title: str
    count: int
    lost: int  # setups that got to the step before but not to this one
    lost_share: float | None  # of those at the step before; None for the first step or after none
    share_of_started: float | None


@dataclass(frozen=True)
class AgentShare:
    started: int
    started_by_agents: int
    opened_by_agents: int
    notes: int


def _stages(counts: dict) -> list[Stage]:
    stages, before, started = [], None, counts["started"]
    for key, title, _ in FUNNEL:
        count = counts[key]
        lost = max(before - count, 0) if before is not None else 0
        stages.append(
            Stage(
                key=key,
                title=title,
                count=count,
                lost=lost,
                lost_share=lost / before if before else None,
                share_of_started=count / started if started else None,
            )
        )
        before = count
    return stages


def worst_stage(counts: dict) -> Stage | None:
    """The step most setups did not get to (from the step before it); None when none were lost."""
    lost = [stage for stage in _stages(counts) if stage.lost]
    return max(lost, key=lambda stage: stage.lost) if lost else None


def funnel(apps: list["AppInsight"]) -> list[Stage]:
    """The funnel of all the period's setups: the apps' counts (per_app), added up."""
    return _stages({key: sum(app.reached[key] for app in apps) for key, _, _ in FUNNEL})


def agents_share(period: Period, filters: Filters, apps: list["AppInsight"]) -> AgentShare:
    # Counted from the agents' side: they open and note few setups, so these read few rows however many
    # setups the period holds (a per-setup EXISTS would visit every one).
    of_period = setups_started(period, filters).values("pk")
    opened = SetupAccess.objects.filter(action="opened", setup__in=of_period).order_by()
    notes = AgentNote.objects.filter(setup__in=of_period).order_by()
    return AgentShare(
        started=sum(app.started for app in apps),
        started_by_agents=sum(app.started_by_agents for app in apps),
        opened_by_agents=opened.aggregate(setups=Count("setup", distinct=True))["setups"],
        notes=notes.count(),
    )


# --- what fails: one query for the test sends, one for the form's mistakes ------------------------------


@dataclass(frozen=True)
class Failure:
    key: str
    title: str
    code: str  # Clickatell's error code, or the kind of failure for our own ("timeout")
    setups: int
    attempts: int
    trend: list[int]  # times met per bucket of the period, oldest first
    on_form: bool = False  # caught by the credentials form (nothing was sent), not a test send's answer


def _counted(rows: QuerySet, key: str, when: str, period: Period) -> list[tuple[dict, list[int]]]:
    """Per ``key``: distinct setups, times met, and times met in each bucket of the period, in one query.
    The buckets are compared as plain times (no date function per row, which SQLite runs in Python)."""
    buckets = {
        f"bucket_{n}": Count("pk", filter=Q(**{f"{when}__gte": start, f"{when}__lt": end}))
        for n, (start, end) in enumerate(period.buckets())
    }
    totals = rows.values(key).annotate(setups=Count("setup", distinct=True), times=Count("pk"), **buckets)
    return [(row, [row[name] for name in buckets]) for row in totals]


def failures(period: Period, filters: Filters) -> list[Failure]:
    """What customers met in the period, most setups first: the diagnoses of their test sends, and the
    usual mistakes the credentials form caught before anything was sent."""
    attempts = _matching(
        TestAttempt.objects.filter(started_at__gte=period.start, started_at__lt=period.end)
        .exclude(diagnosis_key="")
        .order_by(),
        filters,
        prefix="setup__",
    )
    found = []
    for row, trend in _counted(attempts, "diagnosis_key", "started_at", period):
        key = row["diagnosis_key"]
        diagnosis = by_key(key)
        family, _, code = key.partition(":")
        found.append(
            Failure(
                key=key,
                title=diagnosis.title if diagnosis else key,
                code=code if family != "transport" else f"({code.replace('_', ' ')})",
                setups=row["setups"],
                attempts=row["times"],
                trend=trend,
            )
        )
    mistakes = _matching(
        CredentialMistake.objects.filter(at__gte=period.start, at__lt=period.end).order_by(),
        filters,
        prefix="setup__",
    )
    for row, trend in _counted(mistakes, "mistake", "at", period):
        found.append(
            Failure(
                key=FORM_MISTAKE + row["mistake"],
                title=MISTAKES.get(row["mistake"], row["mistake"]),
                code="(form)",
                setups=row["setups"],
                attempts=row["times"],
                trend=trend,
                on_form=True,
            )
        )
    return sorted(found, key=lambda f: (-f.setups, -f.attempts, f.key))


# --- per app: two queries -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AppInsight:
    platform: str  # the catalog slug, "unlisted", or "" before an app is chosen
    name: str
    started: int
    accepted: int
    arrived: int
    median_to_working: timedelta | None
    worst: Stage | None
    reached: dict[str, int]  # how many got to each step of the FUNNEL
    started_by_agents: int

    @property
    def lost(self) -> int:
        """Setups that never got a test through to the customer's phone."""
        return self.started - self.arrived

    @property
    def accepted_rate(self) -> float:
        return self.accepted / self.started if self.started else 0.0

    @property
    def arrived_rate(self) -> float:
        return self.arrived / self.started if self.started else 0.0


# How each column sorts, worst first: most lost, most setups, lowest rates, slowest, then by name.
APP_SORTS = {
    "lost": ("Customers lost", lambda a: (-a.lost, a.name)),
    "started": ("Setups", lambda a: (-a.started, a.name)),
    "accepted": ("Accepted", lambda a: (a.accepted_rate, -a.started, a.name)),
    "arrived": ("Arrived", lambda a: (a.arrived_rate, -a.started, a.name)),
    "median": (
        "Median time to a working test",
        lambda a: (
            a.median_to_working is None,
            -(a.median_to_working or timedelta()).total_seconds(),
            a.name,
        ),
    ),
    "name": ("App", lambda a: a.name.casefold()),
}
DEFAULT_SORT = "lost"


def _app_of(row: dict) -> tuple[str, str]:
    if row["platform__slug"]:
        return row["platform__slug"], row["platform__name"]
    return ("unlisted", "Not listed") if row["app_unlisted"] else ("", "No app chosen yet")


def _medians(setups: QuerySet) -> dict[tuple[str, str], timedelta]:
    """Each app's median time from start to the first accepted test, by the database: each app's setups
    are ranked by that time and only the middle one or two come back."""
    group = [F("platform_id"), F("app_unlisted")]
    ranked = (
        setups.filter(first_accepted_at__isnull=False)
        .annotate(
            took=ExpressionWrapper(F("first_accepted_at") - F("created_at"), output_field=DurationField())
        )
        .annotate(
            position=Window(RowNumber(), partition_by=group, order_by=F("took").asc()),
            of=Window(Count("pk"), partition_by=group),
        )
        .filter(position__gte=(F("of") + 1) / 2, position__lte=(F("of") + 2) / 2)
        .values("platform__slug", "platform__name", "app_unlisted", "took")
    )
    middles: dict[tuple[str, str], list[timedelta]] = {}
    for row in ranked:
        middles.setdefault(_app_of(row), []).append(row["took"])
    return {app: sum(took, timedelta()) / len(took) for app, took in middles.items()}


def per_app(period: Period, filters: Filters, sort: str = DEFAULT_SORT) -> list[AppInsight]:
    setups = setups_started(period, filters)
    rows = setups.values("platform__slug", "platform__name", "app_unlisted").annotate(
        **_stage_counts(), started_by_agents=Count("pk", filter=~Q(created_by_agent=""))
    )
    medians = _medians(setups)
    apps = []
    for row in rows:
        platform, name = _app_of(row)
        apps.append(
            AppInsight(
                platform=platform,
                name=name,
                started=row["started"],
                accepted=row["accepted"],
                arrived=row["arrived"],
                median_to_working=medians.get((platform, name)),
                worst=worst_stage(row),
                reached={key: row[key] for key, _, _ in FUNNEL},
                started_by_agents=row["started_by_agents"],
            )
        )
    return sorted(apps, key=APP_SORTS.get(sort, APP_SORTS[DEFAULT_SORT])[1])


# --- the whole page -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Insights:
    period: Period
    filters: Filters
    funnel: list[Stage]
    agents: AgentShare
    failures: list[Failure]
    apps: list[AppInsight]
    sort: str


def insights(period: Period, filters: Filters, sort: str = DEFAULT_SORT) -> Insights:
    """The whole page: the apps' counts give the funnel too, so the two tables cannot disagree."""
    apps = per_app(period, filters, sort)
    return Insights(
        period=period,
        filters=filters,
        funnel=funnel(apps),
        agents=agents_share(period, filters, apps),
        failures=failures(period, filters),
        apps=apps,
        sort=sort if sort in APP_SORTS else DEFAULT_SORT,
    )
