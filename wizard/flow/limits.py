"""Keep the test send from being abused: SMS pumping, and checking stolen credentials through us.

Every test send must pass several independent limits at once (per setup, per client IP, per
destination number, per API Key, and a global daily cap). Counters live in a shared store with
atomic updates, so they hold across processes and servers: the database by default, Redis when
REDIS_URL is set. A send that any limit refuses consumes none of them and never reaches Clickatell.

Repeated authentication failures lock further sends for the setup, the IP and the username for a
while, so the wizard cannot be used to try credentials one after another.
"""

import logging
import math
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils.crypto import salted_hmac

from .models import RateCounter

log = logging.getLogger(__name__)

# Diagnoses that mean "these credentials were refused": what a credential-stuffer would be fishing for.
AUTH_FAILURES = {"legacy:001", "legacy:002", "legacy:108", "platform:108", "one_api:1", "legacy_rest:001"}


@dataclass(frozen=True)
class Limit:
    name: str
    key: str
    allowed: int
    period: int  # seconds

    def window(self, now: float) -> int:
        return int(now // self.period)

    def retry_after(self, now: float) -> int:
        return max(1, int((self.window(now) + 1) * self.period - now))


@dataclass(frozen=True)
class Refusal:
    limit: str
    retry_after: int
    message: str


def fingerprint(value: str) -> str:
    """Numbers and keys are counted by a keyed hash, never stored as they are."""
    return salted_hmac("portal-switch.limits", value, algorithm="sha256").hexdigest()[:32]


def _parse(spec: str) -> tuple[int, int]:
    allowed, _, period = spec.partition("/")
    return int(allowed), int(period)


def send_limits(*, setup_id: int, client_ip: str, destination: str, api_key: str) -> list[Limit]:
    configured = settings.PORTAL_SEND_LIMITS
    keys = {
        "setup": f"setup:{setup_id}",
        "ip": f"ip:{client_ip}",
        "destination": f"to:{fingerprint(destination)}",
        "api_key": f"key:{fingerprint(api_key)}",
        "global": "global",
    }
    return [Limit(name, f"send:{keys[name]}", *_parse(configured[name])) for name in keys]


def auth_failure_limits(*, setup_id: int, client_ip: str, username: str) -> list[Limit]:
    configured = settings.PORTAL_AUTH_FAILURE_LIMITS
    keys = {"setup": f"setup:{setup_id}", "ip": f"ip:{client_ip}"}
    if username:
        keys["username"] = f"user:{fingerprint(username.lower())}"
    return [Limit(name, f"authfail:{keys[name]}", *_parse(configured[name])) for name in keys]


# --- the stores ----------------------------------------------------------------------------------------


class DatabaseCounters:
    """Conditional UPDATEs in one transaction: each row is incremented only while under its limit."""

    def _ensure_rows(self, limits: list[Limit], now: float) -> None:
        # One INSERT … ON CONFLICT DO NOTHING: concurrent requests may both try, and both are fine.
        RateCounter.objects.bulk_create(
            [
                RateCounter(key=limit.key, window=limit.window(now), expires_at=self._expiry(limit, now))
                for limit in limits
            ],
            ignore_conflicts=True,
        )

    def take(self, limits: list[Limit], now: float) -> Limit | None:
        # One UPDATE increments every counter still under its limit; unless that was all of them, the
        # transaction is rolled back, so a refused send takes nothing from any budget.
        under = Q()
        for limit in limits:
            under |= Q(key=limit.key, window=limit.window(now), count__lt=limit.allowed)
        with transaction.atomic():
            self._ensure_rows(limits, now)
            if RateCounter.objects.filter(under).update(count=F("count") + 1) == len(limits):
                return None
            transaction.set_rollback(True)
        # Which budget was full, to tell the customer; the first one if another request freed it since.
        return self.exceeded(limits, now) or limits[0]

    def exceeded(self, limits: list[Limit], now: float) -> Limit | None:
        current = Q()
        for limit in limits:
            current |= Q(key=limit.key, window=limit.window(now))
        counts = dict(RateCounter.objects.filter(current).values_list("key", "count"))
        return next((limit for limit in limits if counts.get(limit.key, 0) >= limit.allowed), None)

    def add(self, limits: list[Limit], now: float) -> None:
        with transaction.atomic():
            self._ensure_rows(limits, now)
            for limit in limits:
                RateCounter.objects.filter(key=limit.key, window=limit.window(now)).update(
                    count=F("count") + 1
                )

    @staticmethod
    def _expiry(limit: Limit, now: float) -> datetime:
        return datetime.fromtimestamp((limit.window(now) + 1) * limit.period, tz=UTC)


# All-or-nothing in one round trip: refuse if any key is at its limit, else increment them all.
_TAKE_SCRIPT = """
for i, key in ipairs(KEYS) do
  local count = tonumber(redis.call('GET', key) or '0')
  if count >= tonumber(ARGV[2 * i - 1]) then return i end
end
for i, key in ipairs(KEYS) do
  redis.call('INCR', key)
  redis.call('EXPIRE', key, tonumber(ARGV[2 * i]))
end
return 0
"""


class RedisCounters:
    def __init__(self, url: str):
        import redis

        self.redis = redis.Redis.from_url(url)
        self.take_script = self.redis.register_script(_TAKE_SCRIPT)

    @staticmethod
    def _key(limit: Limit, now: float) -> str:
        return f"portal-switch:{limit.key}:{limit.period}:{limit.window(now)}"

    def take(self, limits: list[Limit], now: float) -> Limit | None:
        args = []
        for limit in limits:
            args += [limit.allowed, limit.retry_after(now) + 1]
        refused = self.take_script(keys=[self._key(limit, now) for limit in limits], args=args)
        return limits[refused - 1] if refused else None

    def exceeded(self, limits: list[Limit], now: float) -> Limit | None:
        counts = self.redis.mget([self._key(limit, now) for limit in limits])
        for limit, count in zip(limits, counts, strict=True):
            if count is not None and int(count) >= limit.allowed:
                return limit
        return None

    def add(self, limits: list[Limit], now: float) -> None:
        pipe = self.redis.pipeline()
        for limit in limits:
            key = self._key(limit, now)
            pipe.incr(key)
            pipe.expire(key, limit.retry_after(now) + 1)
        pipe.execute()


@cache
def _redis_counters(url: str) -> RedisCounters:
    # One client (and connection pool) per process, not one per test send.
    return RedisCounters(url)


def counters() -> DatabaseCounters | RedisCounters:
    return _redis_counters(settings.REDIS_URL) if settings.REDIS_URL else DatabaseCounters()


# --- what the test send asks ---------------------------------------------------------------------------


def _wait_words(seconds: int) -> str:
    if seconds < 90:
        return "in a minute"
    minutes = math.ceil(seconds / 60)
    if minutes < 90:
        return f"in about {minutes} minutes"
    return f"in about {math.ceil(minutes / 60)} hours"


SEND_MESSAGES = {
    "setup": "You've sent the most test messages one setup may send for now. Try again {wait}.",
    "ip": "Too many test messages have been sent from your network. Try again {wait}.",
    "destination": "This phone number has received the most test messages it may for now. Try again {wait}, "
    "or use another mobile number.",
    "api_key": "This API Key has been used for the most test messages it may for now. Try again {wait}.",
    "global": "Test messages are paused for everyone for now, to keep costs safe. Try again {wait}.",
}
AUTH_MESSAGE = (
    "Clickatell refused these credentials several times, so test sends are paused {wait_for}. Meanwhile, "
    "sign in to the Clickatell Portal to check your username and password, and copy the API Key again "
    "from My Workspace → API Integrations → API Details."
)


def check_send(
    *, setup_id: int, client_ip: str, destination: str, api_key: str, username: str
) -> Refusal | None:
    """Take one test send from every budget, or say which refused and when to try again."""
    now = time.time()
    if not settings.PORTAL_TEST_SENDS_ENABLED:
        return _refuse(
            "switched_off",
            3600,
            "Test messages are switched off at the moment. Please try again later.",
            setup_id,
            client_ip,
        )
    store = counters()
    locked = store.exceeded(
        auth_failure_limits(setup_id=setup_id, client_ip=client_ip, username=username), now
    )
    if locked:
        wait = locked.retry_after(now)
        words = _wait_words(wait).replace("in ", "for ", 1)
        return _refuse(
            f"auth_failures_{locked.name}", wait, AUTH_MESSAGE.format(wait_for=words), setup_id, client_ip
        )
    refused = store.take(
        send_limits(setup_id=setup_id, client_ip=client_ip, destination=destination, api_key=api_key), now
    )
    if refused:
        wait = refused.retry_after(now)
        return _refuse(
            refused.name,
            wait,
            SEND_MESSAGES[refused.name].format(wait=_wait_words(wait)),
            setup_id,
            client_ip,
        )
    return None


# Per process: how many test sends may wait on Clickatell at once (settings.PORTAL_MAX_CONCURRENT_SENDS).
send_slots = threading.BoundedSemaphore(settings.PORTAL_MAX_CONCURRENT_SENDS)


def busy(setup_id: int, client_ip: str) -> Refusal:
    message = (
        "Clickatell is answering slowly right now and we're waiting on other tests. Try again in a minute."
    )
    return _refuse("busy", 60, message, setup_id, client_ip)


def record_auth_failure(*, setup_id: int, client_ip: str, username: str) -> None:
    counters().add(
        auth_failure_limits(setup_id=setup_id, client_ip=client_ip, username=username), time.time()
    )


def _refuse(limit: str, retry_after: int, message: str, setup_id: int, client_ip: str) -> Refusal:
    log.warning(
        "test send refused: limit=%s setup=%s ip=%s retry_after=%ss", limit, setup_id, client_ip, retry_after
    )
    return Refusal(limit=limit, retry_after=retry_after, message=message)


def client_ip(request) -> str:
    """The client's address: from the configured trusted proxy header only, else the socket's peer."""
    header = settings.PORTAL_CLIENT_IP_HEADER
    if header:
        forwarded = request.META.get(header, "")
        # The proxy we trust appends the address it saw: the last entry is the one it vouches for.
        last = forwarded.split(",")[-1].strip()
        if last:
            return last
    return request.META.get("REMOTE_ADDR", "")
