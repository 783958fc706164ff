"""The Clickatell client against the stand-in server over real sockets: exact requests, every answer."""

import json
import logging
import time
from urllib.parse import parse_qs

import pytest
import requests

from wizard.clickatell.client import Credentials, Delivery, query_delivery, send_test
from wizard.clickatell.signatures import Signature

from .conftest import HTTP_KEY, LEGACY_REST_TOKEN, ONE_API_KEY, PASSWORD, REST_KEY, USERNAME

TEXT = "Portal Switch test (ref ABCD-2345): your Clickatell credentials work."
TO = "+27821234567"


def creds(signature: str, **overrides) -> Credentials:
    key = {
        "platform_http": HTTP_KEY,
        "platform_rest": REST_KEY,
        "one_api": ONE_API_KEY,
        "legacy_http": REST_KEY,
        "legacy_rest": LEGACY_REST_TOKEN,
    }[signature]
    return Credentials(**{"api_key": key, "username": USERNAME, "password": PASSWORD, **overrides})


def send(signature, **kwargs):
    overrides = kwargs.pop("creds", {})
    return send_test(Signature(signature), creds(signature, **overrides), TO, TEXT, **kwargs)


def test_platform_http_sends_a_get_with_the_key_in_the_query(sandbox):
    outcome = send("platform_http")
    assert outcome.accepted and len(outcome.message_id) == 32
    [request] = sandbox.received()
    assert request["method"] == "GET"
    assert request["path"] == "/messages/http/send"
    assert request["query"] == {"apiKey": [HTTP_KEY], "to": ["27821234567"], "content": [TEXT]}


def test_platform_rest_sends_the_raw_key_as_authorization_and_json(sandbox):
    outcome = send("platform_rest")
    assert outcome.accepted
    [request] = sandbox.received()
    assert (request["method"], request["path"]) == ("POST", "/messages")
    assert request["headers"]["Authorization"] == REST_KEY  # no "Bearer"
    assert request["json"] == {"content": TEXT, "to": ["27821234567"]}
    assert request["query"] == {}


def test_one_api_sends_a_messages_list_on_the_sms_channel(sandbox):
    outcome = send("one_api")
    assert outcome.accepted
    [request] = sandbox.received()
    assert (request["method"], request["path"]) == ("POST", "/v1/message")
    assert request["headers"]["Authorization"] == ONE_API_KEY
    assert request["json"] == {"messages": [{"channel": "sms", "to": "27821234567", "content": TEXT}]}


def test_legacy_http_puts_the_api_key_in_api_id_and_the_password_arrives_intact(sandbox):
    outcome = send("legacy_http")
    assert outcome.accepted
    [request] = sandbox.received()
    assert (request["method"], request["path"]) == ("POST", "/http/sendmsg")
    assert request["query"] == {}  # nothing secret in the URL
    assert parse_qs(request["body"]) == {
        "user": [USERNAME],
        "password": [PASSWORD],
        "api_id": [REST_KEY],
        "to": ["27821234567"],
        "text": [TEXT],
    }


def test_legacy_http_session_flow_logs_in_then_sends_with_the_session(sandbox):
    outcome = send("legacy_http", session_flow=True)
    assert outcome.accepted
    auth, sendmsg = sandbox.received()
    assert auth["path"] == "/http/auth"
    assert parse_qs(auth["body"]) == {"user": [USERNAME], "password": [PASSWORD], "api_id": [REST_KEY]}
    session_id = parse_qs(sendmsg["body"])["session_id"][0]
    assert len(session_id) == 32
    assert "password" not in parse_qs(sendmsg["body"])


def test_legacy_http_session_flow_reports_a_failed_login_at_the_auth_step(sandbox):
    outcome = send("legacy_http", session_flow=True, creds={"password": "wrong"})
    assert outcome.status == "rejected" and outcome.error_code == "001"
    assert outcome.detail.startswith("auth:")
    assert len(sandbox.received()) == 1


def test_legacy_rest_sends_bearer_and_version(sandbox):
    outcome = send("legacy_rest")
    assert outcome.accepted
    [request] = sandbox.received()
    assert (request["method"], request["path"]) == ("POST", "/rest/message")
    assert request["headers"]["Authorization"] == f"Bearer {LEGACY_REST_TOKEN}"
    assert request["headers"]["X-Version"] == "1"
    assert request["json"] == {"text": TEXT, "to": ["27821234567"]}


def test_smtp_apps_are_tested_over_the_legacy_gateway(sandbox):
    outcome = send_test(Signature.SMTP, creds("legacy_http"), TO, TEXT)
    assert outcome.accepted
    assert sandbox.received()[0]["path"] == "/http/sendmsg"


# --- wrong credentials and documented errors ---------------------------------------------------------


def test_wrong_password_on_the_old_signature_is_explained_with_the_username_hint(sandbox):
    outcome = send("legacy_http", creds={"password": "not-it"})
    assert outcome.status == "rejected" and outcome.error_code == "001"
    assert outcome.diagnosis.step == "credentials"
    assert (
        "not your e-mail" in outcome.diagnosis.fix
        and "API ID box must hold your Portal API Key" in outcome.diagnosis.fix
    )
    assert outcome.detail == "ERR: 001, Authentication failed"


def test_108_on_the_workaround_path_means_not_enabled_rather_than_a_typo(sandbox):
    sandbox.state.legacy_accepts_portal_key = False
    outcome = send("legacy_http")
    assert outcome.error_code == "108"
    assert "not enabled" in outcome.diagnosis.title
    assert outcome.diagnosis.field == "api_key"


def test_a_key_for_another_integration_type_is_refused_by_the_platform(sandbox):
    outcome = send("platform_rest", creds={"api_key": HTTP_KEY})
    assert outcome.status == "rejected" and outcome.error_code == "108" and outcome.http_status == 401
    assert "integration" in outcome.diagnosis.cause
    assert outcome.diagnosis.field == "api_key"


def test_one_api_bad_key_is_code_1(sandbox):
    outcome = send("one_api", creds={"api_key": "NopeNopeNopeNopeNopeNo=="})
    assert outcome.error_code == "1" and outcome.diagnosis.key == "one_api:1"


def test_legacy_rest_refusing_a_portal_key_says_to_upgrade_the_app(sandbox):
    outcome = send("legacy_rest", creds={"api_key": REST_KEY})
    assert outcome.status == "rejected" and outcome.http_status == 401
    assert outcome.diagnosis.key == "legacy_rest:001"
    assert "Upgrade the app" in outcome.diagnosis.fix


def test_a_sandbox_integration_refuses_numbers_that_are_not_test_phones(sandbox):
    sandbox.state.accounts[0].test_phones = ["27830000000"]
    assert send("platform_http").diagnosis.key == "platform:sandbox"
    assert send("one_api").diagnosis.key == "platform:sandbox"


def test_no_credit_is_explained_on_every_signature(sandbox):
    sandbox.state.accounts[0].balance = 0
    keys = {
        sig: send(sig).diagnosis.key for sig in ("legacy_http", "platform_http", "platform_rest", "one_api")
    }
    assert keys == {
        "legacy_http": "legacy:301",
        "platform_http": "legacy:301",
        "platform_rest": "legacy:301",
        "one_api": "one_api:20",
    }


LEGACY_CODES = "001 002 003 004 005 007 101 105 106 107 108 113 114 115 116 120 121 122 123 128 130 201 202 301 302 901".split()  # noqa: E501


@pytest.mark.parametrize("code", LEGACY_CODES)
def test_every_documented_gateway_error_has_its_own_diagnosis(sandbox, code):
    sandbox.fail_next("error", code=code)
    outcome = send("legacy_http")
    assert outcome.status == "rejected" and outcome.error_code == code
    assert outcome.diagnosis.key == f"legacy:{code}"
    assert outcome.diagnosis.title and outcome.diagnosis.fix


ONE_API_CODES = (
    "1 2 3 7 18 19 20 21 22 23 24 25 26 27 28 30 38 39 40 41 42 43 44 45 46 100 101 110 111".split()
)


@pytest.mark.parametrize("code", ONE_API_CODES)
def test_every_documented_one_api_error_has_a_diagnosis(sandbox, code):
    sandbox.fail_next("error", code=code)
    outcome = send("one_api")
    assert outcome.status == "rejected" and outcome.error_code == code
    assert outcome.diagnosis.key != "transport:api_error"


@pytest.mark.parametrize("code", ["108", "607", "105", "114", "301"])
def test_platform_error_codes_have_diagnoses(sandbox, code):
    sandbox.fail_next("error", code=code)
    outcome = send("platform_http")
    assert outcome.error_code == code
    assert outcome.diagnosis.key in (f"platform:{code}", f"legacy:{code}")


def test_an_unknown_code_still_gets_a_plain_answer(sandbox):
    sandbox.fail_next("error", code="999")
    outcome = send("legacy_http")
    assert outcome.status == "rejected" and outcome.diagnosis.key == "transport:api_error"


def test_a_bad_destination_is_sent_back_to_the_phone_field(sandbox):
    outcome = send_test(Signature.LEGACY_HTTP, creds("legacy_http"), "+0", TEXT)
    assert outcome.error_code == "105" and outcome.diagnosis.field == "phone"


# --- answers that are not Clickatell's -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "kind"),
    [
        ("http_500", "transport:server_error"),
        ("garbage", "transport:bad_response"),
        ("html", "transport:bad_response"),
        ("empty", "transport:bad_response"),
        ("wrong_content_type", "transport:bad_response"),
        ("drop", "transport:dropped"),
    ],
)
@pytest.mark.parametrize(
    "signature", ["legacy_http", "platform_http", "platform_rest", "one_api", "legacy_rest"]
)
def test_unexpected_answers_become_their_own_clear_outcome(sandbox, signature, mode, kind):
    sandbox.fail_next(mode)
    outcome = send(signature)
    assert outcome.status == "failed"
    assert outcome.diagnosis.key == kind
    assert len(sandbox.received()) == 1  # never retried


def test_the_stand_in_refuses_a_failure_it_could_not_act_out(sandbox):
    for mode, options in [("no-such-mode", {}), ("json", {"status": "abc"}), ("json", {"status": 99})]:
        with pytest.raises(ValueError):
            sandbox.fail_next(mode, **options)
    asked = requests.post(
        f"{sandbox.url}/_sandbox/fail-next", json={"mode": "json", "status": "abc"}, timeout=5
    )
    assert asked.status_code == 400
    assert send("platform_rest").accepted  # nothing was queued


@pytest.mark.parametrize("data", [[{"accepted": True, "apiMessageId": "a" * 32}], "accepted", 7])
def test_a_legacy_rest_answer_whose_data_is_not_an_object_is_a_bad_response(sandbox, data):
    sandbox.fail_next("json", status=202, body={"data": data})
    outcome = send("legacy_rest")
    assert outcome.status == "failed" and outcome.diagnosis.key == "transport:bad_response"
    assert outcome.detail == "HTTP 202: data is not an object"
    sandbox.fail_next("json", body={"data": data})
    assert query_delivery(Signature.LEGACY_REST, creds("legacy_rest"), "a" * 32).state == "unknown"
    send_request, query = sandbox.received()
    assert (send_request["method"], send_request["path"]) == ("POST", "/rest/message")
    assert (query["method"], query["path"]) == ("GET", "/rest/message/" + "a" * 32)
    assert query["headers"]["Authorization"] == f"Bearer {LEGACY_REST_TOKEN}"


@pytest.mark.parametrize("signature", ["legacy_http", "platform_rest"])
def test_a_redirect_is_never_followed(sandbox, signature):
    outcome = send(signature)
    assert outcome.accepted  # the same send, answered normally
    sandbox.fail_next("redirect")
    outcome = send(signature)
    assert outcome.status == "failed" and outcome.diagnosis.key == "transport:bad_response"
    assert "302" in outcome.detail
    assert not sandbox.received("/redirected")  # the credentials went nowhere else
    assert len(sandbox.received()) == 2


def test_an_answer_far_larger_than_clickatell_sends_is_read_no_further_than_the_cap(sandbox):
    sandbox.fail_next("endless", megabytes=256)
    outcome = send("platform_rest")
    assert outcome.status == "failed" and outcome.diagnosis.key == "transport:bad_response"
    sent = -1
    while sent != sandbox.state.endless_bytes_sent:  # until the sandbox notices the client hung up
        sent = sandbox.state.endless_bytes_sent
        time.sleep(0.2)
    # What the client read (64 KiB) plus what the sockets' buffers held, not the 256 MiB on offer.
    assert sent < 32 * 1024 * 1024


def test_a_timeout_is_one_attempt_and_no_retry(sandbox):
    sandbox.fail_next("hang", seconds=10)
    outcome = send("platform_rest")
    assert outcome.status == "failed" and outcome.diagnosis.key == "transport:timeout"
    assert "may or may not" in outcome.diagnosis.cause
    assert 1900 <= outcome.duration_ms < 5000
    assert len(sandbox.received()) == 1


def test_a_slow_answer_within_the_timeout_is_fine(sandbox):
    sandbox.fail_next("slow", seconds=0.5)
    assert send("platform_http").accepted


def test_connection_refused_says_nothing_was_sent(settings):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.CLICKATELL_PLATFORM_URL = f"http://127.0.0.1:{port}"
    outcome = send_test(Signature.PLATFORM_REST, creds("platform_rest"), TO, TEXT)
    assert outcome.status == "failed" and outcome.diagnosis.key == "transport:connection"
    assert "nothing was sent" in outcome.diagnosis.cause


def test_a_tls_failure_is_its_own_outcome(sandbox, settings):
    # The sandbox speaks plain HTTP: asking for HTTPS fails the handshake, as a bad certificate would.
    settings.CLICKATELL_PLATFORM_URL = sandbox.url.replace("http://", "https://")
    outcome = send_test(Signature.PLATFORM_REST, creds("platform_rest"), TO, TEXT)
    assert outcome.status == "failed" and outcome.diagnosis.key == "transport:tls"


# --- following the message -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "signature", ["legacy_http", "platform_http", "platform_rest", "one_api", "legacy_rest"]
)
def test_delivery_is_followed_after_acceptance(sandbox, signature):
    sandbox.state.deliver_after_seconds = 60
    outcome = send(signature)
    assert query_delivery(Signature(signature), creds(signature), outcome.message_id).state == "pending"
    sandbox.advance(outcome.message_id, "004")
    assert query_delivery(Signature(signature), creds(signature), outcome.message_id).state == "delivered"
    sandbox.advance(outcome.message_id, "007")
    assert query_delivery(Signature(signature), creds(signature), outcome.message_id).state == "failed"


@pytest.mark.parametrize(
    ("status", "code"),
    [
        ("EXPIRED", 20),
        ("STOPPED_BY_USER", 21),
        ("STOPPED_BY_ADMIN", 22),
        ("DELIVERY_FAILURE", 23),
        ("INSUFFICIENT_ACCOUNT_BALANCE", 25),
        ("VOLUME_LIMIT_DAILY", 27),
        ("RECIPIENT_DOES_NOT_EXIST", 29),
        ("ROUTING_ERROR", 100),
    ],
)
def test_the_one_api_s_own_failure_statuses_are_failed(sandbox, status, code):
    query = {"signature": Signature.ONE_API, "credentials": creds("one_api"), "message_id": "a" * 32}
    sandbox.fail_next("json", body={"messageId": "a" * 32, "status": status, "statusCode": code})
    assert query_delivery(**query) == Delivery("failed", status)
    sandbox.fail_next(
        "json", body={"messageId": "a" * 32, "statusCode": code}
    )  # the number alone says it too
    assert query_delivery(**query).state == "failed"
    asked = sandbox.received()
    assert {(r["path"], r["query"]["messageId"][0]) for r in asked} == {
        ("/public-client/message/status", "a" * 32)
    }
    assert all(r["headers"]["Authorization"] == ONE_API_KEY for r in asked)


@pytest.mark.parametrize(
    ("answer", "state"),
    [
        ({"status": "SENT_TO_SUPPLIER", "statusCode": 4}, "pending"),  # 4 is not the handset in these numbers
        ({"statusCode": 5}, "delivered"),  # DEVICE_ACK, where the old numbers say "failed"
        ({"statusCode": 6}, "delivered"),  # READ
        ({"status": "READ", "statusCode": 6}, "delivered"),
        ({"status": "ERROR_WITH_MESSAGE", "statusCode": 5}, "failed"),  # words of the old numbers' 5
    ],
)
def test_the_one_api_s_own_numbers_for_a_message_on_its_way_or_arrived(sandbox, answer, state):
    sandbox.fail_next("json", body={"messageId": "a" * 32, **answer})
    assert query_delivery(Signature.ONE_API, creds("one_api"), "a" * 32).state == state


def test_a_one_api_message_the_sandbox_reports_as_a_delivery_failure_is_failed(sandbox):
    outcome = send("one_api")
    sandbox.advance(outcome.message_id, "023")
    assert query_delivery(Signature.ONE_API, creds("one_api"), outcome.message_id).state == "failed"


def test_a_legacy_rest_status_query_clickatell_refuses_is_unknown_not_pending(sandbox):
    outcome = send("legacy_rest")
    wrong_token = creds("legacy_rest", api_key="not-a-token")
    refused = query_delivery(Signature.LEGACY_REST, wrong_token, outcome.message_id)
    assert refused == Delivery("unknown", "HTTP 401: Authentication failed")


def test_a_legacy_rest_status_query_for_a_message_not_found_or_unreadable_is_unknown(sandbox):
    sandbox.fail_next(
        "json", status=404, body={"error": {"code": 41, "description": "Resource does not exist"}}
    )
    assert query_delivery(Signature.LEGACY_REST, creds("legacy_rest"), "a" * 32) == Delivery(
        "unknown", "HTTP 404: Resource does not exist"
    )
    sandbox.fail_next("json", body={"data": {"apiMessageId": "a" * 32}})  # no messageStatus to read
    assert query_delivery(Signature.LEGACY_REST, creds("legacy_rest"), "a" * 32).state == "unknown"


def test_a_status_query_that_fails_is_unknown_not_an_exception(sandbox):
    sandbox.fail_next("drop")
    assert query_delivery(Signature.PLATFORM_REST, creds("platform_rest"), "abc").state == "unknown"


# --- secrets stay out of logs --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "signature", ["legacy_http", "platform_http", "platform_rest", "one_api", "legacy_rest"]
)
def test_no_secret_appears_in_any_log_line_even_at_debug(sandbox, caplog, signature):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="urllib3")
    for mode in (None, "http_500", "drop"):
        if mode:
            sandbox.fail_next(mode)
        send(signature)
        send(signature, creds={"password": "wrong " + PASSWORD})
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "/messages" in text or "/http/" in text or "/rest/" in text or "/v1/" in text  # urllib3 did log
    secret = creds(signature)
    for value in {secret.api_key, PASSWORD, "p%26ss", json.dumps(secret.api_key)}:
        assert value not in text


def test_a_fixed_sandbox_delay_applies_to_every_answer(sandbox):
    sandbox.state.delay_seconds = 0.3
    outcome = send("platform_rest")
    assert outcome.accepted and outcome.duration_ms >= 300
