"""Keep the wizard's calls to Clickatell from being abused: SMS pumping, checking stolen credentials
through us, and spending everyone's budgets with made-up keys.

Every test send must pass several independent budgets at once (per setup, per client IP, per destination
number, per API Key) and a global one that counts only the sends Clickatell authenticated. Checking a
test's delivery has budgets of its own (per setup, per IP), and so have starting a setup (per IP) and
e-mailing a hand-on link (per setup, per IP). Counters
live in a shared store with atomic updates, so they hold across processes and servers: the database by
default, Redis when REDIS_URL is set. A call that any budget refuses consumes none of them and never
reaches Clickatell.

Budgets slide: each counts the last ``period`` seconds in buckets of a tenth of it (the oldest bucket is
counted whole until it has entirely left the period), so no burst, at a bucket's edge or anywhere, gets
more than ``allowed`` calls into any ``period``.

Repeated authentication failures lock further sends for the setup, the IP, the username and the API Key
until a full period has passed since the last failure, so the wizard cannot be used to try credentials one
after another. Failures from everyone together have a budget too: once it is reached, only setups whose
credentials Clickatell has already accepted may send.

Clients are counted by network (client_ip): an IPv4 address, or an IPv6 address's /64, which one
subscriber usually holds whole.
"""

import ipaddress
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from .models import RateCounter

log = logging.getLogger(__name__)

# Diagnoses that mean "these credentials were refused": what a credential-stuffer would be fishing for.
AUTH_FAILURES = {"legacy:001", "legacy:002", "legacy:108", "platform:108", "one_api:1", "legacy_rest:001"}

# A budget's period is counted in this many buckets (and the one in progress).
BUCKETS = 10


@dataclass(frozen=True)
class Limit:
    name: str
    key: str
    allowed: int
    period: int  # seconds
    # A lockout (authentication failures): reaching ``allowed`` refuses every send until ``period`` seconds
    # after the latest failure.
    lockout: bool = False

    @property
    def bucket(self) -> int:
        """The seconds one bucket (a counter row's ``window``) counts."""
        return max(1, self.period // BUCKETS)

    @property
    def span(self) -> int:
        """How many earlier buckets count with the current one: enough to cover the whole period."""
        return -(-self.period // self.bucket)

    def window(self, now: float) -> int:
        """The bucket ``now`` falls in."""
        return int(now // self.bucket)

    def oldest(self, now: float) -> int:
        """The oldest bucket still counted at ``now``."""
        return self.window(now) - self.span

    def counted_until(self, window: int) -> float:
        """When a bucket stops counting: when it has entirely left the period."""
        return (window + self.span + 1) * self.bucket

    def total(self, counts: dict[int, int], now: float) -> int:
        """The budget's count at ``now`` from its buckets' counts."""
        return sum(
            count for window, count in counts.items() if self.oldest(now) <= window <= self.window(now)
        )

    def retry_after(self, now: float, counts: dict[int, int] | None = None) -> int:
        """Seconds until the budget has room for one more: until enough of its oldest buckets have left.
        Without the counts, until everything counted at ``now`` has left (the longest it can take)."""
        if counts is None:
            return max(1, math.ceil(self.counted_until(self.window(now)) - now))
        total = self.total(counts, now)
        until = now
        for window in sorted(w for w in counts if self.oldest(now) <= w <= self.window(now)):
            if total < self.allowed:
                break
            total -= counts[window]
            until = self.counted_until(window)
        if total >= self.allowed:  # a budget of 0 never has room
            until = now + self.period
        return max(1, math.ceil(until - now))


@dataclass(frozen=True)
class Full:
    """A budget with no room (or a lockout in force), and the seconds until it has room again."""

    limit: Limit
    retry_after: int


@dataclass(frozen=True)
class Refusal:
    limit: str
    retry_after: int
    message: str


def fingerprint(value: str) -> str:
    """Numbers and keys are counted by a keyed hash, never stored as they are."""
    return salted_hmac("portal-switch.limits", value, algorithm="sha256").hexdigest()[:32]


def parse(spec: str) -> list[tuple[int, int]]:
    """'allowed/seconds', or several of them comma-separated (each one a budget of its own)."""
    budgets = []
    for part in spec.split(","):
        allowed, _, period = part.strip().partition("/")
        budgets.append((int(allowed), int(period)))
    return budgets


def _limits(prefix: str, configured: dict[str, str], keys: dict[str, str], lockout: bool = False):
    # The period is part of the key: one variable may hold several budgets, and each counts on its own
    # (of two with the same period, the stricter).
    found: dict[str, Limit] = {}
    for name, key in keys.items():
        for allowed, period in parse(configured[name]):
            limit = Limit(name, f"{prefix}:{key}:{period}", allowed, period, lockout)
            if limit.key not in found or allowed < found[limit.key].allowed:
                found[limit.key] = limit
    return list(found.values())


def send_limits(*, setup_id: int, client_ip: str, destination: str, api_key: str) -> list[Limit]:
    """The budgets a send takes from before it goes out (the global one is charged after it)."""
    keys = {
        "setup": f"setup:{setup_id}",
        "ip": f"ip:{client_ip}",
        "destination": f"to:{fingerprint(destination)}",
        "api_key": f"key:{fingerprint(api_key)}",
    }
    return _limits("send", settings.PORTAL_SEND_LIMITS, keys)


def global_send_limits() -> list[Limit]:
    """Everyone's sends together, counting only those Clickatell authenticated."""
    return _limits("send", settings.PORTAL_SEND_LIMITS, {"global": "global"})


def auth_failure_limits(*, setup_id: int, client_ip: str, username: str, api_key: str = "") -> list[Limit]:
    configured = settings.PORTAL_AUTH_FAILURE_LIMITS
    keys = {"setup": f"setup:{setup_id}", "ip": f"ip:{client_ip}"}
    if username:
        keys["username"] = f"user:{fingerprint(username.lower())}"
    if api_key:
        keys["api_key"] = f"key:{fingerprint(api_key)}"
    return _limits("authfail", configured, keys, lockout=True)


def global_auth_failure_limits() -> list[Limit]:
    return _limits("authfail", {"global": settings.PORTAL_AUTH_FAILURES_GLOBAL}, {"global": "global"})


def delivery_check_limits(*, setup_id: int, client_ip: str) -> list[Limit]:
    keys = {"setup": f"setup:{setup_id}", "ip": f"ip:{client_ip}"}
    return _limits("check", settings.PORTAL_DELIVERY_CHECK_LIMITS, keys)


def hand_on_email_limits(*, setup_id: int, client_ip: str) -> list[Limit]:
    keys = {"setup": f"setup:{setup_id}", "ip": f"ip:{client_ip}"}
    return _limits("handon", settings.PORTAL_HAND_ON_EMAIL_LIMITS, keys)


def new_setup_limits(*, client_ip: str) -> list[Limit]:
    return _limits("new", {"ip": settings.PORTAL_LIMIT_NEW_SETUPS_PER_IP}, {"ip": f"ip:{client_ip}"})


# --- the stores ----------------------------------------------------------------------------------------
#
# Both keep, per budget, one count per bucket, and per lockout the time it ends. take() adds one to every
# budget or to none; add() adds one whatever the counts (what has already happened) and starts the
# lockouts it brings to their limit; full() reads which budgets have no room.


def _at(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


class DatabaseCounters:
    """RateCounter rows, one per budget and bucket (``window``), and one per lockout in force (``lock:``
    and its key, ending at ``expires_at``). Conditional UPDATEs: a bucket is incremented only while its
    budget has room."""

    @staticmethod
    def _ensure_rows(limits: list[Limit], now: float) -> None:
        # One INSERT … ON CONFLICT DO NOTHING: concurrent requests may both try, and both are fine.
        RateCounter.objects.bulk_create(
            [
                RateCounter(
                    key=limit.key,
                    window=limit.window(now),
                    expires_at=_at(limit.counted_until(limit.window(now))),
                )
                for limit in limits
            ],
            ignore_conflicts=True,
        )

    @staticmethod
    def _with_room(limit: Limit, now: float) -> Q:
        """The budget's current bucket, while it and the earlier buckets counted leave room for one more."""
        earlier = (
            RateCounter.objects.filter(
                key=limit.key, window__gte=limit.oldest(now), window__lt=limit.window(now)
            )
            .values("key")
            .annotate(total=Sum("count"))
            .values("total")
        )
        return Q(
            key=limit.key,
            window=limit.window(now),
            count__lt=Value(limit.allowed) - Coalesce(Subquery(earlier), Value(0)),
        )

    def take(self, limits: list[Limit], now: float) -> Full | None:
        # One UPDATE increments every budget that has room; unless that was all of them, the transaction
        # is rolled back, so a refused call takes nothing from any budget. One budget needs no transaction.
        with_room = Q()
        for limit in limits:
            with_room |= self._with_room(limit, now)
        if len(limits) == 1:
            self._ensure_rows(limits, now)
            if RateCounter.objects.filter(with_room).update(count=F("count") + 1):
                return None
        else:
            with transaction.atomic():
                self._ensure_rows(limits, now)
                if RateCounter.objects.filter(with_room).update(count=F("count") + 1) == len(limits):
                    return None
                transaction.set_rollback(True)
        # Which budget was full, to tell the customer; the first one if another request freed it since.
        return next(iter(self.full(limits, now)), None) or Full(limits[0], 1)

    def add(self, limits: list[Limit], now: float) -> None:
        self._ensure_rows(limits, now)
        current = Q()
        for limit in limits:
            current |= Q(key=limit.key, window=limit.window(now))
        RateCounter.objects.filter(current).update(count=F("count") + 1)
        lockouts = [limit for limit in limits if limit.lockout]
        if not lockouts:
            return
        counts, _ = self._read(lockouts, [], now)
        reached = [limit for limit in lockouts if limit.total(counts[limit.key], now) >= limit.allowed]
        if reached:
            # The lockout ends a full period after this failure, however long it has been in force.
            RateCounter.objects.bulk_create(
                [
                    RateCounter(key=f"lock:{limit.key}", window=0, expires_at=_at(now + limit.period))
                    for limit in reached
                ],
                update_conflicts=True,
                unique_fields=["key", "window"],
                update_fields=["expires_at"],
            )

    def full(self, limits: list[Limit], now: float) -> list[Full]:
        budgets = [limit for limit in limits if not limit.lockout]
        counts, locks = self._read(budgets, [limit for limit in limits if limit.lockout], now)
        found = []
        for limit in limits:
            if limit.lockout:
                if limit.key in locks:
                    found.append(Full(limit, max(1, math.ceil(locks[limit.key] - now))))
            elif limit.total(counts[limit.key], now) >= limit.allowed:
                found.append(Full(limit, limit.retry_after(now, counts[limit.key])))
        return found

    @staticmethod
    def _read(
        budgets: list[Limit], lockouts: list[Limit], now: float
    ) -> tuple[dict[str, dict[int, int]], dict[str, float]]:
        """One SELECT: the budgets' counted buckets, and when each lockout in force ends."""
        wanted = Q(pk__in=[])
        for limit in budgets:
            wanted |= Q(key=limit.key, window__gte=limit.oldest(now), window__lte=limit.window(now))
        for limit in lockouts:
            wanted |= Q(key=f"lock:{limit.key}", expires_at__gt=_at(now))
        counts: dict[str, dict[int, int]] = {limit.key: {} for limit in budgets}
        locks: dict[str, float] = {}
        rows = RateCounter.objects.filter(wanted).values_list("key", "window", "count", "expires_at")
        for key, window, count, expires_at in rows:
            if key.startswith("lock:"):
                locks[key.removeprefix("lock:")] = expires_at.timestamp()
            else:
                counts[key][window] = count
        return counts, locks


# Lua's counting, for both scripts: a budget's count from its hash's buckets, dropping those no longer counted.
_COUNTED = """
local function counted(key, oldest, current)
  local total = 0
  local fields = redis.call('HGETALL', key)
  for j = 1, #fields, 2 do
    local bucket = tonumber(fields[j])
    if bucket < oldest then
      redis.call('HDEL', key, fields[j])
    elseif bucket <= current then
      total = total + tonumber(fields[j + 1])
    end
  end
  return total
end
"""

# All or nothing in one round trip: refuse if any budget has no room, else add one to each.
# KEYS: one hash per budget (bucket -> count). ARGV, four per budget: allowed, the current bucket, the
# oldest bucket counted, and how long the hash must live.
_TAKE_SCRIPT = (
    _COUNTED
    + """
for i, key in ipairs(KEYS) do
  local a = 4 * (i - 1)
  if counted(key, tonumber(ARGV[a + 3]), tonumber(ARGV[a + 2])) >= tonumber(ARGV[a + 1]) then return i end
end
for i, key in ipairs(KEYS) do
  local a = 4 * (i - 1)
  redis.call('HINCRBY', key, ARGV[a + 2], 1)
  redis.call('EXPIRE', key, ARGV[a + 4])
end
return 0
"""
)

# Add one to each budget; a lockout brought to its limit ends a full period after now.
# KEYS, two per budget: its hash and its lock. ARGV, six per budget: allowed, the current bucket, the oldest
# bucket counted, how long the hash must live, when the lockout would end (0: not a lockout), and how long
# the lock must live.
_ADD_SCRIPT = (
    _COUNTED
    + """
for i = 1, #KEYS / 2 do
  local hash, lock, a = KEYS[2 * i - 1], KEYS[2 * i], 6 * (i - 1)
  redis.call('HINCRBY', hash, ARGV[a + 2], 1)
  redis.call('EXPIRE', hash, ARGV[a + 4])
  local total = counted(hash, tonumber(ARGV[a + 3]), tonumber(ARGV[a + 2]))
  if tonumber(ARGV[a + 5]) > 0 and total >= tonumber(ARGV[a + 1]) then
    redis.call('SET', lock, ARGV[a + 5], 'EX', ARGV[a + 6])
  end
end
return 0
"""
)


class RedisCounters:
    """Per budget a hash of bucket -> count, and per lockout in force a key holding when it ends. Times
    come from the caller's ``now``; Redis's own expiry only clears what no longer counts."""

    def __init__(self, url: str):
        import redis

        self.redis = redis.Redis.from_url(url)
        self.take_script = self.redis.register_script(_TAKE_SCRIPT)
        self.add_script = self.redis.register_script(_ADD_SCRIPT)

    @staticmethod
    def _hash(limit: Limit) -> str:
        return f"portal-switch:count:{limit.key}"

    @staticmethod
    def _lock(limit: Limit) -> str:
        return f"portal-switch:lock:{limit.key}"

    @staticmethod
    def _lives(limit: Limit, now: float) -> int:
        return math.ceil(limit.counted_until(limit.window(now)) - now) + 1

    def take(self, limits: list[Limit], now: float) -> Full | None:
        args = []
        for limit in limits:
            args += [limit.allowed, limit.window(now), limit.oldest(now), self._lives(limit, now)]
        refused = self.take_script(keys=[self._hash(limit) for limit in limits], args=args)
        if not refused:
            return None
        limit = limits[refused - 1]
        return next(iter(self.full([limit], now)), None) or Full(limit, 1)

    def add(self, limits: list[Limit], now: float) -> None:
        keys, args = [], []
        for limit in limits:
            keys += [self._hash(limit), self._lock(limit)]
            args += [
                limit.allowed,
                limit.window(now),
                limit.oldest(now),
                self._lives(limit, now),
                repr(now + limit.period) if limit.lockout else 0,
                limit.period + 1,
            ]
        self.add_script(keys=keys, args=args)

    def full(self, limits: list[Limit], now: float) -> list[Full]:
        pipe = self.redis.pipeline(transaction=False)
        for limit in limits:
            if limit.lockout:
                pipe.get(self._lock(limit))
            else:
                pipe.hgetall(self._hash(limit))
        found = []
        for limit, answer in zip(limits, pipe.execute(), strict=True):
            if limit.lockout:
                if answer is not None and float(answer) > now:
                    found.append(Full(limit, max(1, math.ceil(float(answer) - now))))
                continue
            counts = {int(window): int(count) for window, count in answer.items()}
            if limit.total(counts, now) >= limit.allowed:
                found.append(Full(limit, limit.retry_after(now, counts)))
        return found


@cache
def _redis_counters(url: str) -> RedisCounters:
    # One client (and connection pool) per process, not one per call.
    return RedisCounters(url)


def counters() -> DatabaseCounters | RedisCounters:
    return _redis_counters(settings.REDIS_URL) if settings.REDIS_URL else DatabaseCounters()


# --- what the calls ask --------------------------------------------------------------------------------


def _wait_words(seconds: int) -> str:
    """When to try again, to end "Try again …"."""
    if seconds < 60:
        return ngettext("in %(count)d second", "in %(count)d seconds", seconds) % {"count": seconds}
    if seconds < 90:
        return gettext("in a minute")
    minutes = math.ceil(seconds / 60)
    if minutes < 90:
        return ngettext("in about %(count)d minute", "in about %(count)d minutes", minutes) % {
            "count": minutes
        }
    hours = math.ceil(minutes / 60)
    return ngettext("in about %(count)d hour", "in about %(count)d hours", hours) % {"count": hours}


def _pause_words(seconds: int) -> str:
    """How long a pause lasts, to end "… are paused …"."""
    if seconds < 60:
        return ngettext("for %(count)d second", "for %(count)d seconds", seconds) % {"count": seconds}
    if seconds < 90:
        return gettext("for a minute")
    minutes = math.ceil(seconds / 60)
    if minutes < 90:
        return ngettext("for about %(count)d minute", "for about %(count)d minutes", minutes) % {
            "count": minutes
        }
    hours = math.ceil(minutes / 60)
    return ngettext("for about %(count)d hour", "for about %(count)d hours", hours) % {"count": hours}


SEND_MESSAGES = {
    "setup": _("You've sent the most test messages one setup may send for now. Try again {wait}."),
    "ip": _("Too many test messages have been sent from your network. Try again {wait}."),
    "destination": _(
        "This phone number has received the most test messages it may for now. Try again {wait}, "
        "or use another mobile number."
    ),
    "api_key": _("This API Key has been used for the most test messages it may for now. Try again {wait}."),
    "global": _("Test messages are paused for everyone for now, to keep costs safe. Try again {wait}."),
}
AUTH_MESSAGE = _(
    "Clickatell refused these credentials several times, so test sends are paused {wait_for}. Meanwhile, "
    "sign in to the Clickatell Portal to check your username and password, and copy the API Key again "
    "from My Workspace → API Integrations → API Details."
)
AUTH_FAILURES_GLOBAL_MESSAGE = _(
    "Clickatell has refused many credentials tried here lately, so tests with credentials it hasn't "
    "accepted yet are paused for everyone, to stop misuse. Try again {wait}."
)
DELIVERY_CHECK_MESSAGES = {
    "setup": _("You've checked this test's delivery as often as you may for now. Try again {wait}."),
    "ip": _("Too many delivery checks have come from your network. Try again {wait}."),
}
NEW_SETUP_MESSAGE = _("Too many setups have been started from your network. Try again {wait}.")
HAND_ON_EMAIL_MESSAGES = {
    "setup": _(
        "You've e-mailed this setup's links as often as you may for now. Try again {wait}, or copy the "
        "link and send it yourself."
    ),
    "ip": _(
        "Too many links have been e-mailed from your network. Try again {wait}, or copy the link and send "
        "it yourself."
    ),
}


def check_send(
    *,
    setup_id: int,
    client_ip: str,
    destination: str,
    api_key: str,
    username: str,
    authenticated: Callable[[], bool] = lambda: False,
    now: float | None = None,
) -> Refusal | None:
    """Take one test send from every budget, or say which refused and when to try again.

    ``authenticated`` says whether Clickatell has already accepted this setup's credentials: it is asked
    only while failed authentications from everyone have reached their own budget.
    """
    now = time.time() if now is None else now
    if not settings.PORTAL_TEST_SENDS_ENABLED:
        return _refuse(
            "switched_off",
            3600,
            gettext("Test messages are switched off at the moment. Please try again later."),
            setup_id,
            client_ip,
        )
    store = counters()
    failures_everywhere = global_auth_failure_limits()
    # One read: the lockouts, and whether the global budgets are spent (the global send budget is charged
    # after the send, for sends Clickatell authenticated, but a spent one refuses before the call).
    for full in store.full(
        [
            *auth_failure_limits(setup_id=setup_id, client_ip=client_ip, username=username, api_key=api_key),
            *global_send_limits(),
            *failures_everywhere,
        ],
        now,
    ):
        limit = full.limit
        if limit.lockout:
            return _refuse(
                f"auth_failures_{limit.name}",
                full.retry_after,
                AUTH_MESSAGE.format(wait_for=_pause_words(full.retry_after)),
                setup_id,
                client_ip,
            )
        if limit in failures_everywhere:
            if authenticated():
                continue
            message = AUTH_FAILURES_GLOBAL_MESSAGE.format(wait=_wait_words(full.retry_after))
            return _refuse("auth_failures_global", full.retry_after, message, setup_id, client_ip)
        return _refuse(
            limit.name,
            full.retry_after,
            SEND_MESSAGES[limit.name].format(wait=_wait_words(full.retry_after)),
            setup_id,
            client_ip,
        )
    refused = store.take(
        send_limits(setup_id=setup_id, client_ip=client_ip, destination=destination, api_key=api_key), now
    )
    if refused:
        return _refuse(
            refused.limit.name,
            refused.retry_after,
            SEND_MESSAGES[refused.limit.name].format(wait=_wait_words(refused.retry_after)),
            setup_id,
            client_ip,
        )
    return None


def record_outcome(
    *,
    setup_id: int,
    client_ip: str,
    username: str,
    api_key: str,
    auth_failed: bool,
    now: float | None = None,
) -> None:
    """After a send: one authenticated send more for the global budget, or one failed authentication more
    for the lockouts and for the failures' own global budget."""
    if auth_failed:
        record_auth_failure(
            setup_id=setup_id, client_ip=client_ip, username=username, api_key=api_key, now=now
        )
    else:
        counters().add(global_send_limits(), time.time() if now is None else now)


def record_auth_failure(
    *, setup_id: int, client_ip: str, username: str, api_key: str = "", now: float | None = None
) -> None:
    limits = auth_failure_limits(setup_id=setup_id, client_ip=client_ip, username=username, api_key=api_key)
    counters().add([*limits, *global_auth_failure_limits()], time.time() if now is None else now)


def check_delivery_check(*, setup_id: int, client_ip: str, now: float | None = None) -> Refusal | None:
    """Take one delivery check (a call to Clickatell with the customer's credentials) from its budgets."""
    limits = delivery_check_limits(setup_id=setup_id, client_ip=client_ip)
    return _take_or_refuse(
        limits, DELIVERY_CHECK_MESSAGES, "delivery_checks", "delivery check", setup_id, client_ip, now
    )


def check_hand_on_email(*, setup_id: int, client_ip: str, now: float | None = None) -> Refusal | None:
    """Take one e-mailed hand-on link from its budgets (per setup, per client)."""
    limits = hand_on_email_limits(setup_id=setup_id, client_ip=client_ip)
    return _take_or_refuse(
        limits, HAND_ON_EMAIL_MESSAGES, "hand_on_emails", "hand-on e-mail", setup_id, client_ip, now
    )


def _take_or_refuse(
    limits: list[Limit],
    messages: dict,
    kind: str,
    what: str,
    setup_id: int,
    client_ip: str,
    now: float | None,
) -> Refusal | None:
    """Take one call from its budgets; a refusal names the full budget (``kind``_name) and tells the
    customer, in that budget's message, when to try again."""
    refused = counters().take(limits, time.time() if now is None else now)
    if refused is None:
        return None
    message = messages[refused.limit.name].format(wait=_wait_words(refused.retry_after))
    return _refuse(f"{kind}_{refused.limit.name}", refused.retry_after, message, setup_id, client_ip, what)


def check_new_setup(*, client_ip: str, now: float | None = None) -> Refusal | None:
    """Take one new setup from the client's budget (an agent's console starts setups without it)."""
    refused = counters().take(new_setup_limits(client_ip=client_ip), time.time() if now is None else now)
    if refused is None:
        return None
    message = NEW_SETUP_MESSAGE.format(wait=_wait_words(refused.retry_after))
    return _refuse("new_setups_ip", refused.retry_after, message, None, client_ip, "new setup")


# Per process: how many calls (test sends, delivery checks) may wait on Clickatell at once
# (settings.PORTAL_MAX_CONCURRENT_SENDS).
send_slots = threading.BoundedSemaphore(settings.PORTAL_MAX_CONCURRENT_SENDS)


def busy(setup_id: int, client_ip: str, what: str = "test send") -> Refusal:
    message = gettext(
        "Clickatell is answering slowly right now and we're waiting on other tests. Try again in a minute."
    )
    return _refuse("busy", 60, message, setup_id, client_ip, what)


def _refuse(
    limit: str, retry_after: int, message: str, setup_id: int | None, client_ip: str, what: str = "test send"
) -> Refusal:
    log.warning(
        "%s refused: limit=%s setup=%s ip=%s retry_after=%ss",
        what,
        limit,
        setup_id if setup_id is not None else "-",
        client_ip,
        retry_after,
    )
    return Refusal(limit=limit, retry_after=retry_after, message=message)


def client_network(address: str) -> str:
    """What a client is counted as: an IPv4 address as it is, an IPv4-mapped IPv6 address as its IPv4
    address, and any other IPv6 address as its /64, which one subscriber usually holds whole (so walking
    through the addresses of one's own network counts as one client)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))
    return str(ip)


def client_ip(request) -> str:
    """The client, as every per-IP budget counts it (client_network): from the configured trusted proxy
    header only, else the socket's peer."""
    header = settings.PORTAL_CLIENT_IP_HEADER
    address = ""
    if header:
        forwarded = request.META.get(header, "")
        # The proxy we trust appends the address it saw: the last entry is the one it vouches for.
        address = forwarded.split(",")[-1].strip()
    return client_network(address or request.META.get("REMOTE_ADDR", ""))
