"""Speak each Clickatell signature exactly as a customer's app does, and read every answer.

One entry point, :func:`send_test`, with one small adapter per signature. A send is never retried:
an SMS costs money and a timed-out request may still have been delivered. Nothing here knows about
Django views or models; the caller records attempts around the call.
"""

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import requests
from django.conf import settings
from django.views.decorators.debug import sensitive_variables
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from .diagnoses import Diagnosis, diagnose
from .signatures import Signature

log = logging.getLogger(__name__)

ACCEPTED, REJECTED, FAILED = "accepted", "rejected", "failed"
MAX_BODY = 64 * 1024


@dataclass(frozen=True)
class Credentials:
    api_key: str
    username: str = ""
    password: str = field(default="", repr=False)

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r}, api_key=…{self.api_key[-4:]})"


@dataclass
class Outcome:
    """What happened to one test send. ``detail`` is technical (for agents) and never holds a secret."""

    status: str
    diagnosis: Diagnosis | None = None
    message_id: str = ""
    error_code: str = ""
    http_status: int | None = None
    detail: str = ""
    duration_ms: int = 0

    @property
    def accepted(self) -> bool:
        return self.status == ACCEPTED


@dataclass
class Delivery:
    """A status query's answer: delivered, pending, failed or unknown, with Clickatell's own words."""

    state: str
    detail: str = ""


class BadResponse(Exception):
    """The answer was not in any shape Clickatell uses."""


def _session() -> requests.Session:
    session = requests.Session()
    # Answers are read as they arrive, and no further than MAX_BODY (_body): one far larger than Clickatell
    # sends is cut there, never held whole.
    session.stream = True
    # No retries of any kind: requests' default is already 0, stated here so nobody "fixes" it.
    adapter = HTTPAdapter(max_retries=Retry(total=0, connect=0, read=0, redirect=0, status=0))
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _timeouts() -> tuple[float, float]:
    return (settings.CLICKATELL_CONNECT_TIMEOUT, settings.CLICKATELL_READ_TIMEOUT)


def _platform(path: str) -> str:
    return settings.CLICKATELL_PLATFORM_URL.rstrip("/") + path


def _gateway(path: str) -> str:
    return settings.CLICKATELL_GATEWAY_URL.rstrip("/") + path


@sensitive_variables()
def _platform_headers(credentials: Credentials) -> dict:
    # The Portal wants the raw key: "Bearer <key>" is refused as an unknown key.
    return {"Authorization": credentials.api_key, "Accept": "application/json"}


@sensitive_variables()
def _legacy_rest_headers(credentials: Credentials) -> dict:
    return {"Authorization": f"Bearer {credentials.api_key}", "X-Version": "1", "Accept": "application/json"}


def _digits(number: str) -> str:
    """Clickatell wants international numbers as digits only: no '+', no spaces."""
    return re.sub(r"\D", "", number)


def _body(response: requests.Response) -> str:
    read = b""
    for chunk in response.iter_content(chunk_size=16 * 1024):
        read += chunk
        if len(read) >= MAX_BODY:
            break
    return read[:MAX_BODY].decode("utf-8", errors="replace")


def _json(response: requests.Response) -> dict:
    text = _body(response).strip()
    if not text:
        raise BadResponse(f"HTTP {response.status_code} with an empty body")
    if "json" not in response.headers.get("Content-Type", ""):
        raise BadResponse(
            f"HTTP {response.status_code} {response.headers.get('Content-Type', 'no content type')}"
        )
    try:
        data = json.loads(text)
    except ValueError:
        raise BadResponse(f"HTTP {response.status_code}: body is not JSON") from None
    if not isinstance(data, dict):
        raise BadResponse(f"HTTP {response.status_code}: JSON is not an object")
    return data


# --- the old gateway's plain text ------------------------------------------------------------

_LEGACY_ID = re.compile(r"^ID:\s*([0-9A-Za-z]+)")
_LEGACY_ERR = re.compile(r"^ERR:\s*(\d{1,3})\s*,?\s*(.*)$")
_LEGACY_OK = re.compile(r"^OK:\s*(\S*)")


def _legacy_line(response: requests.Response) -> str:
    if response.status_code >= 500:
        raise _ServerError(response.status_code)
    text = _body(response).strip()
    if not text:
        raise BadResponse(f"HTTP {response.status_code} with an empty body")
    if text.startswith("<") or response.status_code != 200:
        raise BadResponse(f"HTTP {response.status_code}: not the gateway's plain-text answer")
    return text.splitlines()[0].strip()


def _legacy_outcome(line: str, http_status: int) -> Outcome:
    if match := _LEGACY_ID.match(line):
        return Outcome(ACCEPTED, message_id=match.group(1), http_status=http_status, detail=line)
    if match := _LEGACY_ERR.match(line):
        code = match.group(1).zfill(3)
        return Outcome(
            REJECTED, diagnose("legacy", code), error_code=code, http_status=http_status, detail=line
        )
    raise BadResponse(f"unrecognised gateway answer: {line[:80]!r}")


@sensitive_variables()
def _send_legacy_http(session, credentials: Credentials, to: str, text: str, session_flow: bool) -> Outcome:
    # POST keeps the credentials out of URLs and request logs; the gateway reads either.
    login = {"user": credentials.username, "password": credentials.password, "api_id": credentials.api_key}
    if session_flow:
        auth = session.post(_gateway("/http/auth"), data=login, timeout=_timeouts(), allow_redirects=False)
        line = _legacy_line(auth)
        if match := _LEGACY_OK.match(line):
            login = {"session_id": match.group(1)}
        else:
            outcome = _legacy_outcome(line, auth.status_code)
            outcome.detail = f"auth: {outcome.detail}"
            if outcome.accepted:
                raise BadResponse("auth answered with a message id")
            return outcome
    response = session.post(
        _gateway("/http/sendmsg"),
        data={**login, "to": _digits(to), "text": text},
        timeout=_timeouts(),
        allow_redirects=False,
    )
    return _legacy_outcome(_legacy_line(response), response.status_code)


# --- the Portal's JSON ----------------------------------------------------------------------------


def _first_message(messages) -> dict:
    """The one message a test sends, from either API's list (empty when there is none)."""
    return messages[0] if isinstance(messages, list) and messages and isinstance(messages[0], dict) else {}


def _accepted(message: dict, response: requests.Response) -> Outcome | None:
    """Both JSON APIs say acceptance the same way: accepted true, with the message id."""
    if message.get("accepted") is True and message.get("apiMessageId"):
        return Outcome(
            ACCEPTED,
            message_id=str(message["apiMessageId"]),
            http_status=response.status_code,
            detail=f"HTTP {response.status_code} accepted",
        )
    return None


def _platform_outcome(response: requests.Response, family: str) -> Outcome:
    if response.status_code >= 500:
        raise _ServerError(response.status_code)
    data = _json(response)
    first = _first_message(data.get("messages"))
    if accepted := _accepted(first, response):
        return accepted
    code, words = _platform_error(first) if first else (None, "")
    if code is None and not words:
        code, words = _platform_error(data)
    if code is None and not words:
        raise BadResponse(f"HTTP {response.status_code}: neither accepted nor an error")
    key = code
    if family == "platform" and code is None and "two-way" in words.lower():
        key = "two_way"
    elif family == "platform" and code is None and "sandbox" in words.lower():
        key = "sandbox"
    return Outcome(
        REJECTED,
        diagnose(family, key),
        error_code=code or "",
        http_status=response.status_code,
        detail=f"HTTP {response.status_code}: {words}".strip(),
    )


def _platform_error(obj: dict) -> tuple[str | None, str]:
    """Read an error from either shape: errorCode/error/errorDescription, or error: {code, description}."""
    error = obj.get("error")
    if isinstance(error, dict):
        code = error.get("code")
        return (str(code) if code is not None else None), str(error.get("description") or "")
    code = obj.get("errorCode")
    words = " – ".join(str(part) for part in (error, obj.get("errorDescription")) if part)
    return (str(code) if code is not None else None), words


@sensitive_variables()
def _send_platform_http(session, credentials: Credentials, to: str, text: str, session_flow: bool) -> Outcome:
    response = session.get(
        _platform("/messages/http/send"),
        params={"apiKey": credentials.api_key, "to": _digits(to), "content": text},
        timeout=_timeouts(),
        allow_redirects=False,
    )
    return _platform_outcome(response, "platform")


@sensitive_variables()
def _send_platform_rest(session, credentials: Credentials, to: str, text: str, session_flow: bool) -> Outcome:
    response = session.post(
        _platform("/messages"),
        json={"content": text, "to": [_digits(to)]},
        headers=_platform_headers(credentials),
        timeout=_timeouts(),
        allow_redirects=False,
    )
    return _platform_outcome(response, "platform")


@sensitive_variables()
def _send_one_api(session, credentials: Credentials, to: str, text: str, session_flow: bool) -> Outcome:
    response = session.post(
        _platform("/v1/message"),
        json={"messages": [{"channel": "sms", "to": _digits(to), "content": text}]},
        headers=_platform_headers(credentials),
        timeout=_timeouts(),
        allow_redirects=False,
    )
    return _platform_outcome(response, "one_api")


def _legacy_rest_data(answer: dict, response: requests.Response) -> dict:
    """The old REST API's "data" object from its answer ({} when there is none)."""
    data = answer.get("data") or {}
    if not isinstance(data, dict):
        raise BadResponse(f"HTTP {response.status_code}: data is not an object")
    return data


@sensitive_variables()
def _send_legacy_rest(session, credentials: Credentials, to: str, text: str, session_flow: bool) -> Outcome:
    response = session.post(
        _gateway("/rest/message"),
        json={"text": text, "to": [_digits(to)]},
        headers=_legacy_rest_headers(credentials),
        timeout=_timeouts(),
        allow_redirects=False,
    )
    if response.status_code >= 500:
        raise _ServerError(response.status_code)
    data = _json(response)
    first = _first_message(_legacy_rest_data(data, response).get("message"))
    if accepted := _accepted(first, response):
        return accepted
    code, words = _platform_error(first if first.get("error") else data)
    if code is None:
        raise BadResponse(f"HTTP {response.status_code}: neither accepted nor an error")
    code = code.zfill(3)
    return Outcome(
        REJECTED,
        diagnose("legacy_rest", code),
        error_code=code,
        http_status=response.status_code,
        detail=f"HTTP {response.status_code}: {words}",
    )


class _ServerError(Exception):
    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


ADAPTERS: dict[Signature, Callable[..., Outcome]] = {
    Signature.PLATFORM_HTTP: _send_platform_http,
    Signature.PLATFORM_REST: _send_platform_rest,
    Signature.ONE_API: _send_one_api,
    Signature.LEGACY_HTTP: _send_legacy_http,
    Signature.LEGACY_REST: _send_legacy_rest,
}


def _failure(kind: str, detail: str, http_status: int | None = None) -> Outcome:
    return Outcome(FAILED, diagnose("transport", kind), http_status=http_status, detail=detail)


@sensitive_variables()
def send_test(
    signature: Signature, credentials: Credentials, to: str, text: str, *, session_flow: bool = False
) -> Outcome:
    """Send one test SMS with exactly the signature the customer's app uses. Never raises, never retries."""
    adapter = ADAPTERS[Signature(signature).tested_as]
    started = time.monotonic()
    try:
        with _session() as session:
            outcome = adapter(session, credentials, to, text, session_flow)
    except requests.exceptions.SSLError as exc:
        outcome = _failure("tls", type(exc).__name__)
    except requests.exceptions.ConnectTimeout:
        outcome = _failure("connection", "connect timeout")
    except requests.exceptions.Timeout:
        outcome = _failure("timeout", "read timeout")
    except requests.exceptions.ConnectionError as exc:
        dropped = (
            "RemoteDisconnected" in str(exc) or "reset" in str(exc).lower() or "aborted" in str(exc).lower()
        )
        outcome = _failure(
            "dropped" if dropped else "connection",
            "connection dropped before an answer" if dropped else "could not connect",
        )
    except _ServerError as exc:
        outcome = _failure("server_error", f"HTTP {exc.status}", exc.status)
    except BadResponse as exc:
        outcome = _failure("bad_response", str(exc))
    except requests.exceptions.RequestException as exc:
        outcome = _failure("connection", type(exc).__name__)
    outcome.duration_ms = int((time.monotonic() - started) * 1000)
    log.info(
        "test send %s: %s %s (%d ms)",
        signature,
        outcome.status,
        outcome.error_code or outcome.message_id,
        outcome.duration_ms,
    )
    return outcome


# --- following a message after acceptance ---------------------------------------------------------

_LEGACY_DELIVERED = {"004"}
_LEGACY_FAILED = {"005", "006", "007", "009", "010", "012", "013", "014", "015"}
_PLATFORM_DELIVERED = {"RECEIVED_BY_RECIPIENT", "DELIVERED", "DEVICE_ACK", "READ"}
# The One API numbers its statuses its own way (api.md §3.4): 5 (DEVICE_ACK) and 6 (READ) say the message
# arrived, where the old numbers say it failed; these say it will not arrive.
_ONE_API_DELIVERED = {"005", "006"}
_ONE_API_FAILED = {
    "EXPIRED": "020",
    "STOPPED_BY_USER": "021",
    "STOPPED_BY_ADMIN": "022",
    "DELIVERY_FAILURE": "023",
    "INSUFFICIENT_ACCOUNT_BALANCE": "025",
    "VOLUME_LIMIT": "026",
    "VOLUME_LIMIT_DAILY": "027",
    "VOLUME_LIMIT_MONTHLY": "028",
    "RECIPIENT_DOES_NOT_EXIST": "029",
    "ROUTING_ERROR": "100",
}


def _refused(answer: dict, response: requests.Response) -> Delivery | None:
    """A status query Clickatell refused (a wrong key, a message it does not know) says nothing about the
    message: unknown, with Clickatell's words."""
    if response.status_code < 400:
        return None
    _, words = _platform_error(answer)
    return Delivery(
        "unknown", f"HTTP {response.status_code}: {words}" if words else f"HTTP {response.status_code}"
    )


@sensitive_variables()
def query_delivery(signature: Signature, credentials: Credentials, message_id: str) -> Delivery:
    """Ask Clickatell how far an accepted test got. One request, no retry; never raises."""
    signature = Signature(signature).tested_as
    try:
        with _session() as session:
            if signature is Signature.LEGACY_HTTP:
                response = session.post(
                    _gateway("/http/querymsg"),
                    data={
                        "user": credentials.username,
                        "password": credentials.password,
                        "api_id": credentials.api_key,
                        "apimsgid": message_id,
                    },
                    timeout=_timeouts(),
                    allow_redirects=False,
                )
                line = _legacy_line(response)
                match = re.search(r"Status:\s*(\d{3})", line)
                if not match:
                    return Delivery("unknown", line[:120])
                code = match.group(1)
                state = (
                    "delivered"
                    if code in _LEGACY_DELIVERED
                    else "failed"
                    if code in _LEGACY_FAILED
                    else "pending"
                )
                return Delivery(state, f"status {code}")
            if signature is Signature.LEGACY_REST:
                response = session.get(
                    _gateway(f"/rest/message/{message_id}"),
                    headers=_legacy_rest_headers(credentials),
                    timeout=_timeouts(),
                    allow_redirects=False,
                )
                answer = _json(response)
                if refused := _refused(answer, response):
                    return refused
                data = _legacy_rest_data(answer, response)
                if data.get("messageStatus") in (None, ""):
                    return Delivery("unknown", f"HTTP {response.status_code}: no messageStatus")
                code = str(data["messageStatus"]).zfill(3)
            else:
                response = session.get(
                    _platform("/public-client/message/status"),
                    params={"messageId": message_id},
                    headers=_platform_headers(credentials),
                    timeout=_timeouts(),
                    allow_redirects=False,
                )
                data = _json(response)
                if refused := _refused(data, response):
                    return refused
                status = str(data.get("status", ""))
                if status in _PLATFORM_DELIVERED:
                    return Delivery("delivered", status)
                code = str(data.get("statusCode", "")).zfill(3)
                if signature is Signature.ONE_API:
                    # Which numbers this endpoint uses for the One API is not documented: a 5 or 6 with
                    # words other than an arrival's is read in the old numbers, where both are failures.
                    if code in _ONE_API_DELIVERED and not status:
                        return Delivery("delivered", f"status {code}")
                    failed = status in _ONE_API_FAILED or code in {*_ONE_API_FAILED.values(), *_LEGACY_FAILED}
                else:
                    failed = code in _LEGACY_FAILED
                if failed:
                    return Delivery("failed", status or f"status {code}")
                return Delivery("pending" if status else "unknown", status)
    except (requests.exceptions.RequestException, BadResponse, _ServerError) as exc:
        return Delivery("unknown", type(exc).__name__)
    if code in _LEGACY_DELIVERED:
        return Delivery("delivered", f"status {code}")
    if code in _LEGACY_FAILED:
        return Delivery("failed", f"status {code}")
    return Delivery("pending", f"status {code}")
