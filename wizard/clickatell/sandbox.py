"""A real HTTP server on loopback that stands in for Clickatell.

It implements the endpoints every signature uses, answers in Clickatell's own shapes (see the
protocol notes in docs of the old gateway, the Portal APIs and the One API), checks credentials
against configurable accounts, and can be asked to fail: a given error code, a slow or hanging
answer, a 5xx page, a garbage or empty body, or a dropped connection. It records every request it
receives so tests can assert on exactly what was sent.

Control endpoints (JSON): GET /_sandbox/requests, POST /_sandbox/reset, POST /_sandbox/fixture,
POST /_sandbox/fail-next {"mode": ..., "code": ..., "seconds": ...}, POST /_sandbox/advance
{"message_id": ..., "status": "004"}.
"""

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

DEMO_FIXTURE = Path(__file__).with_name("sandbox_accounts.json")

FAIL_MODES = {
    "error",
    "slow",
    "hang",
    "http_500",
    "garbage",
    "html",
    "empty",
    "drop",
    "wrong_content_type",
    "redirect",
    "endless",
    "json",  # an answer the test chooses (status=, body=): shapes the stand-in never gives on its own
}

LEGACY_TEXT = {
    "001": "Authentication failed",
    "004": "Account frozen",
    "007": "IP Lockdown violation",
    "101": "Invalid or missing parameters",
    "105": "Invalid Destination Address",
    "107": "Empty message",
    "108": "Invalid or missing api_id",
    "114": "Cannot route message",
    "301": "No credit left",
    "901": "Internal error - please retry",
}
PLATFORM_108 = {
    "messages": [],
    "errorCode": 108,
    "error": "Invalid or missing integration API Key.",
    "errorDescription": "The integration API key is either incorrect or has not been included in the API call.",
}
PLATFORM_STATUS = {"003": "DELIVERED_TO_GATEWAY", "004": "RECEIVED_BY_RECIPIENT", "007": "ERROR_DELIVERING"}


@dataclass
class Account:
    username: str
    password: str
    # api key -> integration type: "http", "rest" or "one_api"
    integrations: dict[str, str]
    legacy_api_ids: list[str] = field(default_factory=list)
    legacy_rest_tokens: list[str] = field(default_factory=list)
    balance: float = 10.0
    frozen: bool = False
    # None: a production integration (any number); a list: sandbox mode, only these test phones.
    test_phones: list[str] | None = None


@dataclass
class State:
    accounts: list[Account]
    legacy_accepts_portal_key: bool = True
    legacy_rest_accepts_portal_key: bool = False
    key_type_must_match_endpoint: bool = True
    deliver_after_seconds: float = 2.0
    # A fixed delay before every answer (benchmarks: a realistic Clickatell, or one that never answers).
    delay_seconds: float = 0.0
    requests: list[dict] = field(default_factory=list)
    fail_next: list[dict] = field(default_factory=list)
    # How much of an "endless" answer the client took before it stopped reading.
    endless_bytes_sent: int = 0
    messages: dict[str, dict] = field(default_factory=dict)
    sessions: dict[str, Account] = field(default_factory=dict)


def state_from_fixture(fixture: dict) -> State:
    accounts = [Account(**account) for account in fixture.get("accounts", [])]
    switches = {k: v for k, v in fixture.items() if k != "accounts"}
    return State(accounts=accounts, **switches)


class Answer(Exception):
    """Raised by a route to answer at once."""

    def __init__(self, status: int, body, content_type: str = "application/json"):
        super().__init__(status)
        self.status, self.body, self.content_type = status, body, content_type


def _legacy_err(code: str) -> Answer:
    return Answer(200, f"ERR: {code}, {LEGACY_TEXT.get(code, 'Error')}", "text/html; charset=UTF-8")


def _legacy_ok(text: str) -> Answer:
    return Answer(200, text, "text/html; charset=UTF-8")


class Sandbox:
    def __init__(self, fixture: dict | None = None, host: str = "127.0.0.1", port: int = 0):
        if fixture is None:
            fixture = json.loads(DEMO_FIXTURE.read_text())
        self.fixture = fixture
        self.state = state_from_fixture(fixture)
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.server = ThreadingHTTPServer((host, port), self._handler_class())
        self.server.daemon_threads = True
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "Sandbox":
        self.thread = threading.Thread(
            target=self.server.serve_forever, name="clickatell-sandbox", daemon=True
        )
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()

    # --- helpers tests use in-process (the same as the control endpoints) -------------------------

    def reset(self, fixture: dict | None = None) -> None:
        with self.lock:
            self.state = state_from_fixture(fixture if fixture is not None else self.fixture)

    def fail_next(self, mode: str, **options) -> None:
        if mode not in FAIL_MODES:
            raise ValueError(f"unknown failure mode {mode!r}")
        status = options.get("status", 200)
        if mode == "json" and not (isinstance(status, int) and 200 <= status < 600):
            raise ValueError("the json failure mode answers with an HTTP status from 200 to 599")
        with self.lock:
            self.state.fail_next.append({"mode": mode, **options})

    def received(self, path_prefix: str = "/") -> list[dict]:
        with self.lock:
            return [r for r in self.state.requests if r["path"].startswith(path_prefix)]

    def advance(self, message_id: str, status: str) -> None:
        with self.lock:
            self.state.messages[message_id]["status"] = status

    # --- the server ----------------------------------------------------------------------------

    def _handler_class(self):
        sandbox = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "ClickatellSandbox/1"

            def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
                pass  # the request log is the record; stderr noise helps nobody

            def do_GET(self):
                self._serve()

            def do_POST(self):
                self._serve()

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                request = {
                    "method": self.command,
                    "path": parts.path,
                    "query": parse_qs(parts.query, keep_blank_values=True),
                    "headers": dict(self.headers.items()),
                    "body": raw.decode("utf-8", errors="replace"),
                }
                if self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
                    request["form"] = parse_qs(request["body"], keep_blank_values=True)
                try:
                    request["json"] = (
                        json.loads(raw) if raw and "json" in self.headers.get("Content-Type", "") else None
                    )
                except ValueError:
                    request["json"] = None
                if parts.path.startswith("/_sandbox/"):
                    self._reply(sandbox._control(parts.path, request))
                    return
                with sandbox.lock:
                    sandbox.state.requests.append(request)
                    failure = sandbox.state.fail_next.pop(0) if sandbox.state.fail_next else None
                    delay = sandbox.state.delay_seconds
                if delay and sandbox.stopping.wait(delay):
                    self.close_connection = True
                    return
                if failure and self._fail(failure, parts.path):
                    return
                try:
                    sandbox._route(request, failure)
                    answer = Answer(404, {"error": "not found"})
                except Answer as done:
                    answer = done
                self._reply(answer)

            def _fail(self, failure: dict, path: str) -> bool:
                """Act out a requested failure; False means carry on to a normal (or error) answer."""
                mode = failure["mode"]
                if mode == "slow":
                    time.sleep(float(failure.get("seconds", 1)))
                    return False
                if mode == "error":
                    return False
                if mode == "hang":
                    sandbox.stopping.wait(float(failure.get("seconds", 120)))
                    self.close_connection = True
                    return True
                if mode == "drop":
                    self.close_connection = True
                    self.connection.close()
                    return True
                if mode == "redirect":
                    # Elsewhere on this same server: a client that follows it is seen asking again.
                    self.send_response(302)
                    self.send_header("Location", f"http://{self.headers.get('Host', '')}/redirected{path}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return True
                if mode == "endless":
                    self._send_endless(int(failure.get("megabytes", 256)))
                    return True
                if mode == "json":
                    self._reply(Answer(int(failure.get("status", 200)), failure.get("body", {})))
                    return True
                bodies = {
                    "http_500": Answer(
                        500, "<html><body><h1>500 Internal Server Error</h1></body></html>", "text/html"
                    ),
                    "garbage": Answer(200, secrets.token_bytes(64), "application/octet-stream"),
                    "html": Answer(200, "<!DOCTYPE html><html><body>Maintenance</body></html>", "text/html"),
                    "empty": Answer(200, "", "application/json"),
                    "wrong_content_type": Answer(200, "accepted", "text/plain"),
                }
                self._reply(bodies[mode])
                return True

            def _send_endless(self, megabytes: int):
                """A JSON answer far larger than any Clickatell sends, until the client stops reading."""
                self.close_connection = True
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                chunk = b'{"messages": [' + b" " * (64 * 1024 - 14)
                try:
                    for _ in range(megabytes * 16):
                        self.wfile.write(chunk)
                        with sandbox.lock:
                            sandbox.state.endless_bytes_sent += len(chunk)
                except OSError:
                    pass  # the client hung up: what it was sent is counted

            def _reply(self, answer: Answer):
                body = answer.body
                if isinstance(body, (dict, list)):
                    body = json.dumps(body)
                if isinstance(body, str):
                    body = body.encode()
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler

    def _control(self, path: str, request: dict) -> Answer:
        payload = request.get("json") or {}
        if path == "/_sandbox/requests":
            return Answer(200, self.received())
        if path == "/_sandbox/reset":
            self.reset()
            return Answer(200, {"ok": True})
        if path == "/_sandbox/fixture":
            self.fixture = payload
            self.reset(payload)
            return Answer(200, {"ok": True})
        if path == "/_sandbox/fail-next":
            try:
                self.fail_next(**payload)
            except (TypeError, ValueError) as exc:
                return Answer(400, {"error": str(exc)})
            return Answer(200, {"ok": True})
        if path == "/_sandbox/advance":
            try:
                self.advance(payload["message_id"], payload["status"])
            except KeyError:
                return Answer(404, {"error": "unknown message"})
            return Answer(200, {"ok": True})
        return Answer(404, {"error": "unknown control endpoint"})

    # --- Clickatell's endpoints ------------------------------------------------------------------

    def _route(self, request: dict, failure: dict | None) -> None:
        path = request["path"]
        if path.startswith("/http/"):
            command = path.removeprefix("/http/").removesuffix(".php")
            self._legacy_http(command, request, failure)
        elif path == "/rest/message" and request["method"] == "POST":
            self._legacy_rest_send(request, failure)
        elif path.startswith("/rest/message/"):
            self._legacy_rest_status(request, path.removeprefix("/rest/message/"))
        elif path == "/messages/http/send":
            self._platform_send(
                request,
                failure,
                "http",
                request["query"].get("apiKey", [""])[0],
                request["query"].get("to", [""]),
            )
        elif path == "/messages" and request["method"] == "POST":
            body = request.get("json") or {}
            self._platform_send(
                request, failure, "rest", request["headers"].get("Authorization", ""), body.get("to") or []
            )
        elif path == "/v1/message" and request["method"] == "POST":
            self._one_api_send(request, failure)
        elif path == "/public-client/message/status":
            self._platform_status(request)

    def _new_message(self, to: str) -> str:
        message_id = secrets.token_hex(16)
        self.state.messages[message_id] = {"to": to, "status": "003", "at": time.monotonic()}
        return message_id

    def _status_of(self, message_id: str) -> str:
        message = self.state.messages.get(message_id)
        if message is None:
            return "001"
        if (
            message["status"] == "003"
            and time.monotonic() - message["at"] >= self.state.deliver_after_seconds
        ):
            message["status"] = "004"
        return message["status"]

    def _by_key(self, key: str) -> tuple[Account, str] | None:
        for account in self.state.accounts:
            if key in account.integrations:
                return account, account.integrations[key]
        return None

    @staticmethod
    def _valid_number(number: str) -> bool:
        return number.isdigit() and 7 <= len(number) <= 15 and not number.startswith("0")

    # old gateway, plain text
    def _legacy_http(self, command: str, request: dict, failure: dict | None) -> None:
        params = {k: v[0] for k, v in {**request["query"], **request.get("form", {})}.items()}
        if failure and failure["mode"] == "error":
            raise _legacy_err(str(failure.get("code", "901")).zfill(3))
        account = self._legacy_login(params, command)
        if command == "auth":
            session_id = secrets.token_hex(16)
            self.state.sessions[session_id] = account
            raise _legacy_ok(f"OK: {session_id}")
        if account.frozen:
            raise _legacy_err("004")
        if command == "ping":
            raise _legacy_ok("OK: ")
        if command == "getbalance":
            raise _legacy_ok(f"Credit: {account.balance:.3f}")
        if command == "querymsg":
            message_id = params.get("apimsgid", "")
            raise _legacy_ok(f"ID: {message_id} Status: {self._status_of(message_id)}")
        if command != "sendmsg":
            raise _legacy_err("101")
        if not params.get("text"):
            raise _legacy_err("107")
        if not params.get("to"):
            raise _legacy_err("101")
        if account.balance <= 0:
            raise _legacy_err("301")
        to = params["to"]
        if not self._valid_number(to):
            raise _legacy_err("105")
        raise _legacy_ok(f"ID: {self._new_message(to)}")

    def _legacy_login(self, params: dict, command: str) -> Account:
        if "session_id" in params:
            account = self.state.sessions.get(params["session_id"])
            if account is None:
                raise _legacy_err("001")
            return account
        for account in self.state.accounts:
            if account.username == params.get("user") and account.password == params.get("password"):
                api_id = params.get("api_id", "")
                if api_id in account.legacy_api_ids:
                    return account
                if self.state.legacy_accepts_portal_key and api_id in account.integrations:
                    return account
                raise _legacy_err("108")
        raise _legacy_err("001")

    # old REST, JSON
    def _legacy_rest_account(self, request: dict) -> Account:
        auth = request["headers"].get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
        if request["headers"].get("X-Version") != "1":
            raise Answer(400, {"error": {"code": 101, "description": "Invalid or missing parameters"}})
        for account in self.state.accounts:
            if token and (
                token in account.legacy_rest_tokens
                or (self.state.legacy_rest_accepts_portal_key and token in account.integrations)
            ):
                return account
        raise Answer(
            401,
            {
                "error": {
                    "code": 1,
                    "description": "Authentication failed",
                    "documentation": "http://www.clickatell.com/help/apidocs/error/001.htm",
                }
            },
        )

    def _legacy_rest_send(self, request: dict, failure: dict | None) -> None:
        if failure and failure["mode"] == "error":
            code = int(failure.get("code", 901))
            raise Answer(
                400, {"error": {"code": code, "description": LEGACY_TEXT.get(f"{code:03}", "Error")}}
            )
        account = self._legacy_rest_account(request)
        body = request.get("json")
        if not isinstance(body, dict):
            raise Answer(400, {"error": {"code": 100, "description": "Data malformed"}})
        if account.balance <= 0:
            raise Answer(402, {"error": {"code": 301, "description": "No credit left"}})
        results = []
        for to in body.get("to") or []:
            if self._valid_number(str(to)):
                results.append({"accepted": True, "to": to, "apiMessageId": self._new_message(to)})
            else:
                results.append(
                    {
                        "accepted": False,
                        "to": to,
                        "apiMessageId": "",
                        "error": {"code": 105, "description": "Invalid destination address"},
                    }
                )
        raise Answer(202 if all(r["accepted"] for r in results) else 400, {"data": {"message": results}})

    def _legacy_rest_status(self, request: dict, message_id: str) -> None:
        self._legacy_rest_account(request)
        raise Answer(
            200,
            {
                "data": {
                    "apiMessageId": message_id,
                    "messageStatus": self._status_of(message_id),
                    "description": "",
                }
            },
        )

    # Portal HTTP and REST
    def _platform_send(
        self, request: dict, failure: dict | None, endpoint_type: str, key: str, to_list
    ) -> None:
        if failure and failure["mode"] == "error":
            code = int(failure.get("code", 108))
            body = dict(PLATFORM_108, errorCode=code) if code != 108 else PLATFORM_108
            raise Answer(401 if code == 108 else 400, body)
        found = self._by_key(key)
        if found is None or (self.state.key_type_must_match_endpoint and found[1] != endpoint_type):
            raise Answer(401, PLATFORM_108)
        account = found[0]
        if account.balance <= 0:
            raise Answer(
                402,
                {
                    "messages": [],
                    "errorCode": 301,
                    "error": "No credit left.",
                    "errorDescription": "The account has no credit left.",
                },
            )
        messages = []
        for to in to_list:
            to = str(to).removeprefix("+")
            if not self._valid_number(to):
                messages.append(
                    {
                        "apiMessageId": None,
                        "accepted": False,
                        "to": to,
                        "errorCode": 105,
                        "error": "Invalid destination address",
                        "errorDescription": "The destination address is not valid.",
                    }
                )
            elif account.test_phones is not None and to not in account.test_phones:
                messages.append(
                    {
                        "apiMessageId": None,
                        "accepted": False,
                        "to": to,
                        "errorCode": None,
                        "error": "Recipient not available on sandbox",
                        "errorDescription": "Sandbox integrations only send to test phones.",
                    }
                )
            else:
                messages.append(
                    {
                        "apiMessageId": self._new_message(to),
                        "accepted": True,
                        "to": to,
                        "errorCode": None,
                        "error": None,
                        "errorDescription": None,
                    }
                )
        status = 202 if messages and all(m["accepted"] for m in messages) else 400
        raise Answer(
            status, {"messages": messages, "errorCode": None, "error": None, "errorDescription": None}
        )

    def _one_api_send(self, request: dict, failure: dict | None) -> None:
        if failure and failure["mode"] == "error":
            code = int(failure.get("code", 1))
            raise Answer(
                401 if code == 1 else 400, {"messages": [], "error": {"code": code, "description": "Error"}}
            )
        found = self._by_key(request["headers"].get("Authorization", ""))
        if found is None or (self.state.key_type_must_match_endpoint and found[1] != "one_api"):
            raise Answer(
                401,
                {
                    "messages": [],
                    "error": {"code": 1, "description": "Invalid or missing integration API Key"},
                },
            )
        account = found[0]
        body = request.get("json")
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            raise Answer(400, {"messages": [], "error": {"code": 21, "description": "Malformed payload"}})
        if account.balance <= 0:
            raise Answer(402, {"messages": [], "error": {"code": 20, "description": "Insufficient balance"}})
        results = []
        for message in body["messages"]:
            to = str(message.get("to", ""))
            if not to or not message.get("content"):
                error = {"code": 23, "description": "Invalid or missing parameter"}
            elif not self._valid_number(to):
                error = {"code": 25, "description": "Invalid recipient address"}
            elif account.test_phones is not None and to not in account.test_phones:
                error = {"code": 28, "description": "Recipient not available on sandbox"}
            else:
                results.append(
                    {"apiMessageId": self._new_message(to), "accepted": True, "to": to, "error": None}
                )
                continue
            results.append({"apiMessageId": None, "accepted": False, "to": to, "error": error})
        status = 202 if all(r["accepted"] for r in results) else 400
        raise Answer(status, {"messages": results, "error": None})

    def _platform_status(self, request: dict) -> None:
        if self._by_key(request["headers"].get("Authorization", "")) is None:
            raise Answer(401, PLATFORM_108)
        message_id = request["query"].get("messageId", [""])[0]
        code = self._status_of(message_id)
        raise Answer(
            200,
            {
                "messageId": message_id,
                "status": PLATFORM_STATUS.get(code, "UNKNOWN"),
                "statusCode": int(code),
            },
        )
