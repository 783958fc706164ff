"""The wizard's rules as plain Python: no HTTP, no database."""

import pytest
from django.urls import reverse, set_script_prefix

from wizard.clickatell.signatures import Signature
from wizard.flow import steps
from wizard.flow.models import Setup
from wizard.flow.references import ALPHABET, new_reference, normalise_reference
from wizard.flow.steps import Progress
from wizard.flow.views import step_url


@pytest.mark.parametrize(
    ("app_fields", "catalog", "integration", "expected"),
    [
        ("api_key", "platform_rest", "", Signature.PLATFORM_REST),
        ("api_key", "one_api", "", Signature.ONE_API),
        ("api_id", "legacy_http", "", Signature.LEGACY_HTTP),
        ("api_id", "smtp", "", Signature.SMTP),
        ("auth_token", "legacy_rest", "", Signature.LEGACY_REST),
        # The customer says the catalog app shows other boxes: their answer wins.
        ("api_key", "legacy_http", "platform_http", Signature.PLATFORM_HTTP),
        ("api_id", "platform_http", "", Signature.LEGACY_HTTP),
        # Unlisted apps.
        ("api_key", "", "one_api", Signature.ONE_API),
        ("api_id", "", "", Signature.LEGACY_HTTP),
        ("auth_token", "", "", Signature.LEGACY_REST),
    ],
)
def test_signature_follows_the_boxes_the_app_shows(app_fields, catalog, integration, expected):
    assert steps.signature_for(app_fields, catalog, integration) is expected


def test_an_unlisted_api_key_app_needs_the_integration_type():
    with pytest.raises(ValueError):
        steps.signature_for("api_key", "", "")


def test_only_the_old_signature_needs_username_and_password():
    assert steps.fields_needed(Signature.LEGACY_HTTP) == ["username", "password", "api_key"]
    assert steps.fields_needed(Signature.SMTP) == ["username", "password", "api_key"]
    for signature in (
        Signature.PLATFORM_HTTP,
        Signature.PLATFORM_REST,
        Signature.ONE_API,
        Signature.LEGACY_REST,
    ):
        assert steps.fields_needed(signature) == ["api_key"]


def test_steps_cannot_be_skipped():
    fresh = Progress()
    assert steps.step_allowed(fresh, "app") == "app"
    assert steps.step_allowed(fresh, "instructions") == "app"
    assert steps.step_allowed(Progress(app_chosen=True), "test") == "fields"
    assert steps.step_allowed(Progress(app_chosen=True, signature="legacy_http"), "test") == "credentials"
    done = Progress(app_chosen=True, signature="legacy_http", credentials_given=True, secrets_held=True)
    assert steps.step_allowed(done, "test") == "test"
    assert steps.reached(done) == steps.ORDER


def test_instructions_stay_available_after_the_secrets_are_gone():
    after = Progress(app_chosen=True, signature="legacy_http", credentials_given=True, secrets_held=False)
    assert steps.step_allowed(after, "instructions") == "instructions"
    assert steps.step_allowed(after, "test") == "credentials"


def test_an_app_that_cannot_take_a_key_with_its_signature_stops_at_its_boxes():
    blocked = Progress(
        app_chosen=True,
        signature="legacy_http",
        workaround_blocked=True,
        credentials_given=True,
        secrets_held=True,
    )
    for step in ("credentials", "test", "instructions"):
        assert steps.step_allowed(blocked, step) == "fields"
    assert steps.reached(blocked) == ["app", "fields"]


def test_next_step_walks_the_order_and_stops_at_the_end():
    assert [steps.next_step(s) for s in steps.ORDER] == steps.ORDER[1:] + ["instructions"]


GOOD = {"username": "acme-ops", "password": "secret", "api_key": "HttpKeyAbCdEfGhIjKlMnOp=="}


def test_good_credentials_pass():
    check = steps.check_credentials(Signature.LEGACY_HTTP, GOOD)
    assert check.ok
    assert check.cleaned == GOOD
    assert check.notices == []


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("api_key", "3442105", "old API ID"),
        ("api_key", "", "Enter your API Key"),
        ("api_key", "HttpKeyAbCd EfGhIjKlMnOp==", "space or line break in the middle"),
        ("api_key", "HttpKeyAbCd", "cut short"),
        ("api_key", "HttpKey<script>AbCdEfGhIjKl==", "characters a key never contains"),
        ("username", "ops@acme.example", "e-mail address"),
        ("username", "", "Enter your Account username"),
        ("username", "acme ops", "no spaces"),
        ("username", "OtherKeyAbCdEfGhIjKlMnO==", "That looks like your API Key: it goes in its own box."),
        ("password", "", "Enter your Account password"),
        ("api_key", GOOD["username"], "That is your Account username. The API Key is a long code"),
        ("api_key", GOOD["password"], "That is your Account password: it goes in its own box."),
        ("api_key", "Bearer " + GOOD["api_key"], "Leave out “Bearer”"),
        ("api_key", "x", "That is only 1 character;"),
        ("api_key", "HttpKeyAbCd", "That is only 11 characters;"),
    ],
)
def test_usual_mistakes_get_a_specific_message(field, value, says):
    check = steps.check_credentials(Signature.LEGACY_HTTP, {**GOOD, field: value})
    assert not check.ok
    assert list(check.errors) == [field]
    assert says in check.errors[field]


def test_a_password_with_a_space_pasted_as_the_key_is_named_as_the_password():
    values = {**GOOD, "password": "pass&word with spaces"}
    check = steps.check_credentials(Signature.LEGACY_HTTP, {**values, "api_key": values["password"]})
    assert check.errors["api_key"].startswith("That is your Account password") and check.mistakes == [
        "key_is_password"
    ]


@pytest.mark.parametrize("password", ["Hunter2pass", "Hunter2pass "])
def test_the_same_text_as_username_and_password_is_refused_and_not_taken_as_the_username(password):
    check = steps.check_credentials(
        Signature.LEGACY_HTTP, {**GOOD, "username": "Hunter2pass", "password": password}
    )
    assert list(check.errors) == ["username"] and check.mistakes == ["username_is_password"]
    assert check.errors["username"].startswith("The username and the password are the same.")
    assert "username" not in check.cleaned


def test_a_key_pasted_into_another_box_too_is_named_only_where_it_does_not_belong():
    key = GOOD["api_key"]
    both = steps.check_credentials(Signature.LEGACY_HTTP, {**GOOD, "username": key})
    assert list(both.errors) == ["username"] and both.mistakes == ["username_is_key"]
    as_password = steps.check_credentials(Signature.LEGACY_HTTP, {**GOOD, "password": key})
    assert list(as_password.errors) == ["password"] and as_password.mistakes == ["password_is_key"]
    assert as_password.errors["password"].startswith("That is your API Key: it goes in its own box.")
    assert as_password.cleaned == {"username": GOOD["username"], "api_key": key}


def test_invisible_marks_copied_along_with_the_username_and_the_key_are_left_out():
    check = steps.check_credentials(
        Signature.LEGACY_HTTP,
        {
            "username": "acme\u200b-ops",
            "password": "secret\u200b",
            "api_key": "\ufeffHttpKeyAbCdEfGhIjKlMnOp==\u200e",
        },
    )
    assert check.ok
    # The password is taken exactly as typed.
    assert check.cleaned == {**GOOD, "password": "secret\u200b"}


def test_spaces_and_line_breaks_around_a_pasted_key_are_removed_with_a_notice():
    check = steps.check_credentials(
        Signature.PLATFORM_HTTP, {"api_key": "\n  HttpKeyAbCdEfGhIjKlMnOp==  \r\n"}
    )
    assert check.ok
    assert check.cleaned == {"api_key": "HttpKeyAbCdEfGhIjKlMnOp=="}
    assert "removed spaces or line breaks" in check.notices[0]


def test_api_key_apps_are_not_asked_for_username_or_password():
    check = steps.check_credentials(Signature.PLATFORM_REST, {"api_key": GOOD["api_key"]})
    assert check.ok and set(check.cleaned) == {"api_key"}


def test_only_the_last_four_characters_of_the_key_may_be_shown():
    assert steps.key_hint("HttpKeyAbCdEfGhIjKlMnOp==") == "Op=="


def test_phone_numbers_are_masked_for_records():
    assert steps.mask_number("+27821234567") == "+278…567"
    assert steps.mask_number("+123") == "…"


def test_reference_codes_read_back_and_use_every_character():
    codes = [new_reference() for _ in range(1000)]
    assert all(normalise_reference(code) == code and len(code) == 9 for code in codes)
    assert normalise_reference("abcd 2345") == "ABCD-2345" and normalise_reference("oil0-0000") == "0110-0000"
    assert set("".join(codes).replace("-", "")) == set(ALPHABET)
    assert len(set(codes)) == 1000


@pytest.mark.parametrize("prefix", ["/", "/portal-switch/", "/token/"])
def test_step_addresses_are_what_the_urlconf_says_under_any_script_prefix(prefix):
    setup = Setup(token="abc-DEF_123token")
    set_script_prefix(prefix)
    try:
        for step in steps.ORDER:
            assert step_url(setup, step) == reverse(f"flow:{step}", args=[setup.token])
    finally:
        set_script_prefix("/")


def test_each_form_asks_only_for_what_its_signature_needs_and_keeps_its_own_errors():
    from wizard.flow.forms import AppFieldsForm, CredentialsForm

    login = CredentialsForm({"api_key": ""}, signature=Signature.LEGACY_HTTP)
    key_only = CredentialsForm({"api_key": ""}, signature=Signature.PLATFORM_REST)
    assert list(login.fields) == ["username", "password", "api_key"] and list(key_only.fields) == ["api_key"]
    assert list(CredentialsForm.base_fields) == ["username", "password", "api_key"]
    # One form's errors and values stay its own.
    assert not key_only.is_valid() and "api_key" in key_only.errors
    fresh = CredentialsForm(signature=Signature.PLATFORM_REST)
    assert not fresh.is_bound and "errorlist" not in str(fresh) and 'value="' not in str(fresh["api_key"])
    asked = AppFieldsForm(ask_integration=True)
    assert (
        "portal_integration" in asked.fields
        and "portal_integration" not in AppFieldsForm(ask_integration=False).fields
    )
    assert "portal_integration" in AppFieldsForm(ask_integration=True).fields
