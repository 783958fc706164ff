"""Whole customer journeys through the Django test client, test sends going to the stand-in Clickatell."""

import re
import threading
import time
from html import unescape
from urllib.parse import parse_qs

import pytest

from wizard.catalog.models import Platform
from wizard.flow import steps
from wizard.flow.models import Setup, TestAttempt
from wizard.vault.models import StoredSecret

from .conftest import HTTP_KEY, MOBILE, PASSWORD, REST_KEY, USERNAME
from .journeys import send_test_sms, send_token, start, url, walk_to_test

pytestmark = pytest.mark.django_db

LEGACY_CREDENTIALS = {"username": USERNAME, "password": PASSWORD, "api_key": REST_KEY}


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return unescape(response.content.decode())


def test_the_home_page_lists_the_whole_catalog(client):
    html = page(client.get("/"))
    assert html.count('name="platform"') == 55 + 1  # every app, plus "My app isn't listed"
    assert "Which app are you connecting to Clickatell?" in html


def test_search_narrows_the_list_and_forgives_case_and_typos(client):
    html = page(client.get("/", {"q": "ZABIX"}))
    assert re.findall(r'name="platform" value="([^"]+)"', html) == ["zabbix-sms-client", "unlisted"]


def test_an_api_key_app_goes_from_choice_to_delivered_test_and_instructions(client, sandbox):
    setup = start(client, "novu")  # Novu: API Key box, Portal REST
    html = page(client.get(url(setup, "fields")))
    assert "API Key" in html and "Portal REST API" in html
    setup = walk_to_test(client, "novu", {"api_key": REST_KEY})
    assert setup.signature == "platform_rest"
    form = page(client.get(url(setup, "credentials")))
    assert "Account password" not in form and "Account username" not in form  # only what the signature needs

    response = send_test_sms(client, setup)
    assert response.status_code == 302
    [request] = sandbox.received()
    assert request["path"] == "/messages" and request["headers"]["Authorization"] == REST_KEY
    assert (
        request["json"]["content"]
        == f"Portal Switch test (ref {setup.reference}): your Clickatell credentials work."
    )

    html = page(client.get(url(setup, "test")))
    attempt = TestAttempt.objects.get(setup=setup)
    assert "Clickatell accepted the test message" in html and attempt.message_id in html
    assert attempt.destination_masked == "+278…567"

    client.post(f"/s/{setup.token}/test/delivery/")
    attempt.refresh_from_db()
    assert attempt.delivery == "delivered"

    response = client.post(f"/s/{setup.token}/test/confirm/", {"arrived": "yes"})
    assert response["Location"].endswith("/instructions/")
    assert not StoredSecret.objects.filter(owner=setup.vault_owner).exists()  # deleted once it worked

    html = page(client.get(response["Location"]))
    assert "Set up Novu" in html and "your API Key (ending …" + REST_KEY[-4:] + ")" in html
    assert "Your test message went through" in html

    back = client.get(url(setup, "test"))  # the Back button, after the test is done
    assert back["Location"].endswith("/instructions/")
    html = page(client.get(back["Location"]))
    assert "Your test message arrived, so we deleted your credentials" in html
    assert "Your credentials were deleted (we keep them only for a short time)" not in html
    setup.refresh_from_db()
    assert setup.instructions_shown is not None and setup.instructions_shown.platform == setup.platform


def test_a_not_yet_can_later_turn_into_a_yes_that_ends_the_test_as_a_first_yes_does(client, sandbox):
    setup = walk_to_test(client, "novu", {"api_key": REST_KEY})
    send_test_sms(client, setup)
    response = client.post(f"/s/{setup.token}/test/confirm/", {"arrived": "no"})
    assert response["Location"].endswith("/test/")
    assert StoredSecret.objects.filter(owner=setup.vault_owner).exists()  # held for another test meanwhile

    client.post(f"/s/{setup.token}/test/delivery/")  # later, Clickatell says it reached the phone
    html = page(client.get(url(setup, "test")))
    assert "delivered to the phone" in html
    assert "Did the text message arrive on your phone?" in html and 'value="yes"' in html

    response = client.post(f"/s/{setup.token}/test/confirm/", {"arrived": "yes"})
    assert response["Location"].endswith("/instructions/")
    assert not StoredSecret.objects.filter(owner=setup.vault_owner).exists()
    setup.refresh_from_db()
    assert setup.delivery_confirmed is True and setup.arrival_confirmed_at is not None
    assert setup.step == "instructions"


def test_an_api_id_app_uses_the_workaround_fails_on_a_wrong_password_then_succeeds(client, sandbox):
    setup = walk_to_test(
        client, "zabbix-sms-client", {"username": USERNAME, "password": "wrong-password", "api_key": REST_KEY}
    )
    assert setup.signature == "legacy_http"
    send_test_sms(client, setup)
    html = page(client.get(url(setup, "test")))
    assert "Clickatell did not accept your username or password" in html
    assert "not your e-mail address" in html
    assert f'href="/s/{setup.token}/credentials/#id_username"' in html

    client.post(url(setup, "credentials"), LEGACY_CREDENTIALS)
    send_test_sms(client, setup)
    last = sandbox.received()[-1]
    assert parse_qs(last["body"])["api_id"] == [REST_KEY]
    assert parse_qs(last["body"])["password"] == [PASSWORD]
    assert "Clickatell accepted the test message" in page(client.get(url(setup, "test")))

    client.post(f"/s/{setup.token}/test/confirm/", {"arrived": "yes"})
    html = page(client.get(url(setup, "instructions")))
    assert "GATEWAY_API_ID" in html and "The API Key goes in this box." in html
    assert USERNAME in html and "your Account Password" in html
    assert PASSWORD not in html and REST_KEY not in html


def test_an_app_that_logs_in_first_is_tested_with_the_session_flow(client, sandbox):
    setup = walk_to_test(client, "whmcs-aktuel-sms", LEGACY_CREDENTIALS)
    send_test_sms(client, setup)
    assert [r["path"] for r in sandbox.received()] == ["/http/auth", "/http/sendmsg"]
    # The test passed, but this app doesn't URL-encode, and the password has & # + % ? and spaces.
    html = page(client.get(url(setup, "test")))
    assert "Clickatell accepted" in html and "will break the app's login even though our test passed" in html
    assert "will break the app's login even though" in page(client.get(url(setup, "instructions")))


def test_an_unencoding_app_with_a_plain_password_gets_only_the_advice(client, sandbox):
    setup = walk_to_test(client, "whmcs-aktuel-sms", {**LEGACY_CREDENTIALS, "password": "plainpassword1"})
    assert "Yours is fine; if you ever change it" in page(client.get(url(setup, "instructions")))


def test_an_unlisted_app_with_an_api_key_box_asks_which_integration(client, sandbox):
    setup = start(client, "unlisted")
    html = page(client.get(url(setup, "fields")))
    assert "API Token" in html and "API ID" in html  # the common labels
    html = page(client.post(url(setup, "fields"), {"app_fields": "api_key"}))
    assert "Choose the integration type" in html
    assert 'value="api_key" checked' in html or 'value="api_key"\n' in html or "checked" in html
    client.post(url(setup, "fields"), {"app_fields": "api_key", "portal_integration": "platform_http"})
    client.post(url(setup, "credentials"), {"api_key": HTTP_KEY})
    send_test_sms(client, setup)
    assert sandbox.received()[0]["path"] == "/messages/http/send"
    client.post(f"/s/{setup.token}/test/confirm/", {"arrived": "yes"})
    html = page(client.get(url(setup, "instructions")))
    assert "Set up your app" in html and "integration's type is HTTP" in html


def test_a_refused_key_is_fixed_where_the_integration_type_was_chosen_for_an_unlisted_app(client, sandbox):
    setup = start(client, "unlisted")
    client.post(url(setup, "fields"), {"app_fields": "api_key", "portal_integration": "platform_http"})
    client.post(url(setup, "credentials"), {"api_key": REST_KEY})  # a REST integration's key
    send_test_sms(client, setup)
    html = page(client.get(url(setup, "test")))
    assert "Clickatell did not accept the API Key" in html
    assert "Check that the integration type you chose is the one the Portal shows" in html
    assert f'href="/s/{setup.token}/fields/#id_portal_integration"' in html
    fields = page(client.get(url(setup, "fields")))
    assert 'id="id_portal_integration"' in fields  # where the link lands: the question, its answer checked
    assert re.search(r'<input[^>]*value="platform_http"[^>]*checked', fields)


def test_a_refused_key_for_a_catalog_app_showing_other_boxes_is_fixed_where_its_type_was_chosen(
    client, sandbox
):
    setup = start(client, "zabbix-sms-client")
    client.post(
        url(setup, "fields"),
        {"different": "1", "app_fields": "api_key", "portal_integration": "platform_http"},
    )
    client.post(url(setup, "credentials"), {"api_key": REST_KEY})  # a REST integration's key
    send_test_sms(client, setup)
    html = page(client.get(url(setup, "test")))
    fix = f"/s/{setup.token}/fields/?different=1#id_portal_integration"
    assert f'href="{fix}"' in unescape(html)
    fields = page(client.get(fix.split("#")[0]))
    assert 'id="id_portal_integration"' in fields
    assert re.search(r'<input[^>]*value="platform_http"[^>]*checked', fields)


def test_a_refused_key_for_a_catalog_app_is_fixed_on_the_credentials_page(client, sandbox):
    setup = walk_to_test(client, "novu", {"api_key": HTTP_KEY})  # Novu sends to the REST API
    send_test_sms(client, setup)
    html = page(client.get(url(setup, "test")))
    assert "Clickatell did not accept the API Key" in html and "Copy the API Key again" in html
    assert f'href="/s/{setup.token}/credentials/#id_api_key"' in html


def test_an_unlisted_app_with_only_api_id_boxes_gets_the_workaround(client, sandbox):
    setup = walk_to_test(client, "unlisted", LEGACY_CREDENTIALS, fields={"app_fields": "api_id"})
    assert setup.signature == "legacy_http"
    html = page(client.get(url(setup, "instructions")))
    assert "“API ID”" in html and "The API Key goes in this box." in html


def test_a_catalog_app_can_say_it_shows_different_boxes(client, sandbox):
    setup = start(client, "zabbix-sms-client")
    response = client.post(url(setup, "fields"), {"confirm": "no"})
    assert response["Location"].endswith("?different=1")
    client.post(
        url(setup, "fields"), {"different": "1", "app_fields": "api_key", "portal_integration": "one_api"}
    )
    setup.refresh_from_db()
    assert setup.signature == "one_api"


def test_going_back_to_its_boxes_shows_the_other_boxes_chosen_and_keeps_the_passed_test(client, sandbox):
    # DHIS2 has an "Auth token" box in the catalog; this customer's version shows the old boxes.
    setup = walk_to_test(
        client, "dhis2", LEGACY_CREDENTIALS, fields={"different": "1", "app_fields": "api_id"}
    )
    send_test_sms(client, setup)
    setup.refresh_from_db()
    assert setup.test_passed_at is not None

    html = page(client.get(url(setup, "fields")))
    assert 'name="different" value="1"' in html and "Does your app show these boxes?" not in html
    assert re.search(r'<input[^>]*value="api_id"[^>]*checked', html)  # their answer, not the catalog's
    # Continuing with the answer shown keeps the credentials and the test that passed with them.
    client.post(url(setup, "fields"), {"different": "1", "app_fields": "api_id"})
    kept = Setup.objects.get(pk=setup.pk)
    assert kept.signature == "legacy_http" and kept.test_passed_at == setup.test_passed_at
    assert StoredSecret.objects.filter(owner=setup.vault_owner).exists()

    # Choosing the catalog's boxes there is the explicit way back to them.
    client.post(
        url(setup, "fields"),
        {"different": "1", "app_fields": "api_key", "portal_integration": "platform_rest"},
    )
    assert Setup.objects.get(pk=setup.pk).signature == "platform_rest"
    # Boxes that are the catalog's are asked about as the catalog's, with the answer given checked.
    html = page(client.get(url(setup, "fields")))
    assert "Does your app show these boxes?" in html and 'name="different"' not in html
    assert re.search(r'<input[^>]*value="yes"[^>]*checked', html)


def boxes_of(client, setup) -> list[str]:
    """The instructions' "What goes in each box", as the download writes it: one "- label: what" a box."""
    text = client.get(f"/s/{setup.token}/instructions.md").content.decode()
    return re.findall(r"^- (.*)$", text.split("## What goes in each box")[1].split("##")[0], re.M)


def test_a_catalog_app_showing_other_boxes_is_told_what_goes_in_the_boxes_chosen(client, sandbox):
    # DHIS2 has an "Auth token" box in the catalog; this customer's version shows the old boxes.
    setup = walk_to_test(
        client, "dhis2", LEGACY_CREDENTIALS, fields={"different": "1", "app_fields": "api_id"}
    )
    assert boxes_of(client, setup) == [
        f"Username: {USERNAME}",
        "Password: your Account Password",
        f"API ID: your API Key (ending …{REST_KEY[-4:]})",
    ]
    html = page(client.get(url(setup, "instructions")))
    assert "“API ID”" in html and "“Auth token”" not in html and "Url template" not in html

    # AVTECH shows the old boxes in the catalog; this customer's shows an API Key box: no password in it.
    setup = walk_to_test(
        client,
        "avtech-dvr-ipcam",
        {"api_key": HTTP_KEY},
        fields={"different": "1", "app_fields": "api_key", "portal_integration": "platform_http"},
    )
    assert boxes_of(client, setup) == [f"API Key: your API Key (ending …{HTTP_KEY[-4:]})"]
    html = page(client.get(url(setup, "instructions")))
    assert "“API Key”" in html and "“API ID”" not in html and "Account Password" not in html


def test_going_back_to_the_app_step_keeps_answers_for_the_same_app_and_drops_them_for_another(
    client, sandbox
):
    setup = walk_to_test(client, "zabbix-sms-client", LEGACY_CREDENTIALS)
    response = client.post(url(setup, "app"), {"platform": "zabbix-sms-client"})
    assert response["Location"].endswith(f"/s/{setup.token}/fields/")
    kept = Setup.objects.get(pk=setup.pk)
    assert kept.step == "fields" and kept.signature == setup.signature and kept.username == USERNAME
    assert StoredSecret.objects.filter(owner=setup.vault_owner).count() == 2

    client.post(url(setup, "app"), {"platform": "novu"})
    changed = Setup.objects.get(pk=setup.pk)
    assert changed.platform.slug == "novu" and changed.signature == "" and changed.app_fields == ""
    assert changed.username == "" and changed.credentials_saved_at is None
    assert not StoredSecret.objects.filter(owner=setup.vault_owner).exists()


def test_a_password_never_outlives_the_signature_it_was_given_for(client, sandbox):
    # Saving credentials deletes nothing: it relies on a change of signature dropping every secret.
    setup = walk_to_test(client, "zabbix-sms-client", LEGACY_CREDENTIALS)
    assert StoredSecret.objects.filter(owner=setup.vault_owner).count() == 2
    client.post(
        url(setup, "fields"),
        {"different": "1", "app_fields": "api_key", "portal_integration": "platform_rest"},
    )
    assert not StoredSecret.objects.filter(owner=setup.vault_owner).exists()
    client.post(url(setup, "credentials"), {"api_key": REST_KEY})
    assert list(StoredSecret.objects.filter(owner=setup.vault_owner).values_list("field", flat=True)) == [
        "api_key"
    ]
    send_test_sms(client, setup)
    assert sandbox.received()[0]["headers"]["Authorization"] == REST_KEY


def test_an_old_rest_token_app_is_told_the_truth_and_tested(client, sandbox):
    setup = start(client, "symfony-notifier-clickatell")
    html = page(client.get(url(setup, "fields")))
    assert "Old SMS Gateway REST API" in html
    client.post(url(setup, "fields"), {"confirm": "yes"})
    client.post(url(setup, "credentials"), {"api_key": REST_KEY})
    send_test_sms(client, setup)
    html = page(client.get(url(setup, "test")))
    assert "auth token" in html and "Upgrade the app" in html


@pytest.mark.parametrize(
    "slug", ["nextcloud-twofactor-clickatell-central", "playsms", "nopcommerce-clickatell"]
)
def test_an_app_where_the_workaround_cannot_work_says_so_and_what_to_do_instead(client, slug):
    setup = start(client, slug)
    html = page(client.get(url(setup, "fields")))
    assert "can't use the usual workaround" in html and "What you can do:" in html
    assert Platform.objects.get(slug=slug).workaround_blocked in unescape(html)  # why, in the catalog's words
    assert f'href="{url(setup, "app")}"' in html  # another version or provider of the app

    # Its old boxes can't take a key: no credentials are asked for, so no test can pass for them.
    refused = client.post(url(setup, "fields"), {"confirm": "yes"})
    assert refused.status_code == 200
    assert "can't take a Portal API Key in these boxes: see what you can do above." in page(refused)
    again = client.post(url(setup, "fields"), {"different": "1", "app_fields": steps.API_ID_BOXES})
    assert "can't take a Portal API Key in these boxes" in page(again)
    setup.refresh_from_db()
    assert setup.signature == ""
    for step in ("credentials", "test", "instructions"):
        assert client.get(url(setup, step))["Location"].endswith("/fields/")

    # A version of the app with an API Key box goes on as any such app does.
    chosen = client.post(
        url(setup, "fields"),
        {"different": "1", "app_fields": steps.API_KEY_BOX, "portal_integration": "platform_http"},
    )
    assert chosen.status_code == 302 and chosen["Location"].endswith("/credentials/")


def test_old_boxes_refused_for_an_api_key_app_show_what_to_do_instead(client, sandbox):
    """An app whose catalog boxes are an API Key box, known to mangle a key in its older versions' API ID
    box: a customer who says theirs shows those boxes is refused, with what they can do shown above."""
    Platform.objects.filter(slug="novu").update(workaround_blocked="Its API ID box takes digits only.")
    setup = start(client, "novu")
    html = page(client.get(url(setup, "fields")))
    assert "What you can do:" not in html  # its usual boxes take a key

    refused = page(client.post(url(setup, "fields"), {"different": "1", "app_fields": steps.API_ID_BOXES}))
    assert "can't take a Portal API Key in these boxes: see what you can do above." in refused
    above = refused.split('<form method="post" action="">')[0]
    assert "What you can do:" in above and "Its API ID box takes digits only." in above
    setup.refresh_from_db()
    assert setup.signature == ""

    assert client.post(url(setup, "fields"), {"confirm": "yes"})["Location"].endswith("/credentials/")

    # Old boxes chosen before staff learnt they can't take a key: back on the step, the reason shows.
    Platform.objects.filter(slug="novu").update(workaround_blocked="")
    earlier = start(client, "novu")
    client.post(url(earlier, "fields"), {"different": "1", "app_fields": steps.API_ID_BOXES})
    Platform.objects.filter(slug="novu").update(workaround_blocked="Its API ID box takes digits only.")
    assert client.get(url(earlier, "credentials"))["Location"].endswith("/fields/")
    html = page(client.get(url(earlier, "fields")))
    assert "What you can do:" in html and "Its API ID box takes digits only." in html


def test_other_boxes_that_take_a_key_are_not_warned_about_for_the_catalogs_boxes(client):
    """An app whose catalog boxes can't take a key, said to show an API Key box: back on its boxes step,
    the page asks about the boxes chosen and gives no warning meant for the catalog's."""
    Platform.objects.filter(slug="sachet").update(workaround_blocked="Its API ID box takes digits only.")
    setup = start(client, "sachet")
    assert "What you can do:" in page(client.get(url(setup, "fields")))  # its usual boxes can't
    chosen = {"different": "1", "app_fields": steps.API_KEY_BOX, "portal_integration": "platform_rest"}
    assert client.post(url(setup, "fields"), chosen)["Location"].endswith("/credentials/")
    html = page(client.get(url(setup, "fields")))
    assert "What you can do:" not in html and "Its API ID box takes digits only." not in html


def test_boxes_confirmed_before_staff_found_they_cannot_take_a_key_are_not_offered_as_the_answer(client):
    import re

    setup = start(client, "sachet")
    assert client.post(url(setup, "fields"), {"confirm": "yes"})["Location"].endswith("/credentials/")
    yes = re.compile(r'<input[^>]*value="yes"[^>]*>')
    assert "checked" in yes.search(page(client.get(url(setup, "fields")))).group(0)  # the answer given
    Platform.objects.filter(slug="sachet").update(workaround_blocked="Its API ID box takes digits only.")
    html = page(client.get(url(setup, "fields")))
    assert "checked" not in yes.search(html).group(0) and "What you can do:" in html


def test_boxes_an_app_cannot_take_a_key_in_are_refused_by_the_rule_itself(client):
    """The boxes step's rule, without HTTP: it refuses the boxes and saves nothing, or saves them."""
    from wizard.flow import services

    setup = Setup.objects.select_related("platform").get(pk=start(client, "playsms").pk)
    assert services.choose_fields(setup, steps.API_ID_BOXES) is False
    setup.refresh_from_db()
    assert (setup.signature, setup.app_fields, setup.step) == ("", "", "fields")
    assert setup.fields_confirmed_at is None

    assert services.choose_fields(setup, steps.API_KEY_BOX, "platform_http") is True
    setup.refresh_from_db()
    assert (setup.signature, setup.step) == ("platform_http", "credentials")
    assert setup.fields_confirmed_at is not None


def test_a_setup_on_an_app_found_blocked_later_goes_back_to_its_boxes(client, sandbox):
    """Staff may learn an app can't take a key after customers chose it: their setups stop at the boxes,
    and no instructions say the settings work."""
    setup = walk_to_test(
        client, "cerb-clickatell", {"username": USERNAME, "password": PASSWORD, "api_key": REST_KEY}
    )
    Platform.objects.filter(slug="cerb-clickatell").update(
        workaround_blocked="Its API ID box takes digits only."
    )
    for step in ("credentials", "test", "instructions"):
        assert client.get(url(setup, step))["Location"].endswith("/fields/")
    assert "Its API ID box takes digits only." in page(client.get(url(setup, "fields")))


def test_steps_cannot_be_skipped_by_url(client):
    setup = start(client, "novu")
    for step in ("credentials", "test", "instructions"):
        response = client.get(url(setup, step))
        assert response.status_code == 302 and response["Location"].endswith("/fields/")


def test_reload_back_and_resume_from_the_link(client, sandbox, django_user_model):
    from django.test import Client

    setup = walk_to_test(client, "novu", {"api_key": REST_KEY})
    assert page(client.get(url(setup, "test")))  # reload
    html = page(client.get(url(setup, "fields")))  # back
    assert "Does your app show these boxes?" in html
    other_browser = Client()
    html = page(other_browser.get(url(setup, "test")))  # resume from the link elsewhere
    assert setup.reference in html and "Send the test message" in html
    send_test_sms(other_browser, setup)
    assert TestAttempt.objects.filter(setup=setup, status="accepted").count() == 1


def test_two_setups_side_by_side_stay_separate(client, sandbox):
    first = walk_to_test(client, "novu", {"api_key": REST_KEY})
    second = walk_to_test(client, "zabbix-sms-client", LEGACY_CREDENTIALS)
    assert first.reference != second.reference and first.token != second.token
    send_test_sms(client, first)
    assert first.attempts.count() == 1 and second.attempts.count() == 0
    assert Setup.objects.get(pk=first.pk).signature == "platform_rest"
    assert Setup.objects.get(pk=second.pk).signature == "legacy_http"


def test_an_unknown_setup_link_is_a_404(client):
    assert client.get("/s/not-a-real-token/test/").status_code == 404


# --- bad input: a specific message on the same page, typed values kept, secrets never echoed -----------


def test_bad_credentials_keep_the_username_but_never_echo_secrets(client):
    setup = start(client, "zabbix-sms-client")
    client.post(url(setup, "fields"), {"confirm": "yes"})
    html = page(
        client.post(
            url(setup, "credentials"),
            {"username": "keep-me", "password": "TopSecret#1", "api_key": "3442105"},
        )
    )
    assert "old API ID" in html
    assert 'value="keep-me"' in html
    assert "TopSecret#1" not in html and "3442105" not in html
    assert "type them again" in html


def test_far_too_long_credentials_and_numbers_are_named_for_what_they_should_be(client, sandbox):
    setup = start(client, "zabbix-sms-client")
    client.post(url(setup, "fields"), {"confirm": "yes"})
    html = page(
        client.post(
            url(setup, "credentials"), {"username": "u" * 151, "password": "p" * 201, "api_key": "K" * 250}
        )
    )
    assert "That is longer than a Portal username can be" in html
    assert "That is longer than a Portal password can be" in html
    assert "That is far longer than an API Key (about 24 characters)" in html
    assert "Ensure this value" not in html

    setup = walk_to_test(client, "novu", {"api_key": REST_KEY})
    typed = "+27 82 123 4567, +27 82 765 4321, +27 83 000 0000"
    html = page(client.post(url(setup, "test"), {"phone": typed, "attempt_token": send_token(client, setup)}))
    assert "That is too long for a phone number: enter one mobile number." in html
    assert sandbox.received() == []


def test_an_email_as_username_is_caught(client):
    setup = start(client, "zabbix-sms-client")
    client.post(url(setup, "fields"), {"confirm": "yes"})
    html = page(
        client.post(url(setup, "credentials"), {**LEGACY_CREDENTIALS, "username": "ops@acme.example"})
    )
    assert "That is an e-mail address" in html and 'value="ops@acme.example"' in html


def test_a_pasted_key_with_line_breaks_is_cleaned_with_a_notice(client, sandbox):
    setup = start(client, "novu")
    client.post(url(setup, "fields"), {"confirm": "yes"})
    response = client.post(url(setup, "credentials"), {"api_key": f"\n {REST_KEY} \n"}, follow=True)
    assert "removed spaces or line breaks" in page(response)
    send_test_sms(client, setup)
    assert sandbox.received()[0]["headers"]["Authorization"] == REST_KEY


def test_missing_choices_get_messages(client):
    setup = start(client, "novu")
    html = page(client.post(url(setup, "fields"), {}))
    assert "Tell us whether your app shows these boxes." in html
    assert html.count("autofocus") == 1  # the question's first answer, to start from
    other = start(client, "unlisted")
    html = page(client.post(url(other, "fields"), {}))
    assert "Choose the boxes your app shows." in html and html.count("autofocus") == 1


GENERIC_REQUIRED = "This field is required."


def test_an_empty_phone_number_is_told_what_to_type(client, sandbox):
    setup = walk_to_test(client, "novu", {"api_key": REST_KEY})
    for empty in ("", "   "):
        response = client.post(
            url(setup, "test"), {"phone": empty, "attempt_token": send_token(client, setup)}
        )
        html = page(response)
        assert "Enter the mobile number to send the test message to, in international format" in html
        assert GENERIC_REQUIRED not in html
    assert sandbox.received() == []


def test_every_empty_box_on_the_wizards_forms_says_what_to_type(client):
    setup = start(client, "zabbix-sms-client")
    html = page(client.post(url(setup, "fields"), {}))
    assert "Tell us whether your app shows these boxes." in html and GENERIC_REQUIRED not in html
    client.post(url(setup, "fields"), {"confirm": "yes"})
    html = page(client.post(url(setup, "credentials"), {"username": "", "password": "", "api_key": ""}))
    assert "Enter your Account username" in html and "Enter your Account password" in html
    assert "Enter your API Key" in html and GENERIC_REQUIRED not in html
    other = start(client, "unlisted")
    html = page(client.post(url(other, "fields"), {"app_fields": "api_key"}))
    assert "Choose the integration type" in html and GENERIC_REQUIRED not in html


def test_an_unknown_app_choice_is_refused(client):
    response = client.post("/", {"platform": "no-such-app"}, follow=True)
    assert "Choose your app from the list" in page(response)
    assert not Setup.objects.exists()


@pytest.mark.parametrize(
    ("phone", "says"),
    [
        ("0821234567", "Start with + and your country code"),
        ("+27 82 12", "doesn't exist"),
        ("+44 909 876 5432", "Premium-rate numbers"),
        ("+27 21 123 4567", "isn't a mobile number"),
        ("+ ( ) -", "not a phone number we can read"),
        # The phone library reads letters as a keypad's digits and drops trailing text: each of these
        # would go to someone else's number.
        ("+27 82 123 45O7", "Use only digits, spaces and + ( ) -"),
        ("+27 82 ABC 4567", "Use only digits, spaces and + ( ) -"),
        ("+27 82 123 4567x", "Use only digits, spaces and + ( ) -"),
        ("++27 82 123 4567", "Use only digits, spaces and + ( ) -"),
    ],
)
def test_bad_phone_numbers_are_refused_with_the_number_kept(client, sandbox, phone, says):
    setup = walk_to_test(client, "novu", {"api_key": REST_KEY})
    html = page(client.post(url(setup, "test"), {"phone": phone, "attempt_token": send_token(client, setup)}))
    assert says in html
    assert f'value="{phone}"' in html
    assert sandbox.received() == []  # validation never sends


@pytest.mark.parametrize("typed", ["not a number", REST_KEY, "Hunter2pass"])
def test_text_that_cannot_be_a_number_is_refused_and_not_shown_back(client, sandbox, typed):
    """It may be a key or a password pasted into the wrong box."""
    setup = walk_to_test(client, "novu", {"api_key": REST_KEY})
    html = page(client.post(url(setup, "test"), {"phone": typed, "attempt_token": send_token(client, setup)}))
    assert "Start with +" in html and typed not in html
    assert sandbox.received() == []


def test_a_00_prefix_is_read_as_international(client, sandbox):
    setup = walk_to_test(client, "novu", {"api_key": REST_KEY})
    send_test_sms(client, setup, phone="0027 82 123 4567")
    assert sandbox.received()[0]["json"]["to"] == ["27821234567"]


@pytest.mark.parametrize(
    ("typed", "to"),
    [
        ("+49 171/1234567", "491711234567"),  # the slash German and Austrian numbers are often written with
        ("\u202a+27 82 123 4567\u202c\u200e", "27821234567"),  # direction marks copied along with it
        ("+２７ ８２ １２３ ４５６７", "27821234567"),  # a phone keyboard's full-width digits
    ],
)
def test_numbers_as_people_write_and_copy_them_are_read(client, sandbox, typed, to):
    setup = walk_to_test(client, "novu", {"api_key": REST_KEY})
    send_test_sms(client, setup, phone=typed)
    assert sandbox.received()[0]["json"]["to"] == [to]


def test_a_replayed_or_double_submitted_form_sends_once(client, sandbox):
    setup = walk_to_test(client, "novu", {"api_key": REST_KEY})
    token = send_token(client, setup)
    for _ in range(3):
        client.post(url(setup, "test"), {"phone": MOBILE, "attempt_token": token})
    assert len(sandbox.received()) == 1


def test_forget_my_credentials_deletes_them_at_once(client, sandbox):
    setup = walk_to_test(client, "zabbix-sms-client", LEGACY_CREDENTIALS)
    assert StoredSecret.objects.filter(owner=setup.vault_owner).count() == 2
    response = client.post(f"/s/{setup.token}/credentials/forget/", follow=True)
    assert "deleted" in page(response)
    assert not StoredSecret.objects.filter(owner=setup.vault_owner).exists()
    response = client.get(url(setup, "test"))
    assert response["Location"].endswith("/credentials/")


def test_forgetting_the_credentials_from_the_instructions_stays_on_the_instructions(client, sandbox):
    setup = walk_to_test(client, "novu", {"api_key": REST_KEY})
    html = page(client.get(url(setup, "instructions")))
    form = re.search(r'<form method="post" action="(/s/[^"]+/credentials/forget/)">(.*?)</form>', html, re.S)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(2)))
    response = client.post(form.group(1), fields, follow=True)
    assert response.redirect_chain[-1][0] == url(setup, "instructions")
    html = page(response)
    assert "Your password and API Key are deleted from Portal Switch." in html and "Set up Novu" in html
    assert not StoredSecret.objects.filter(owner=setup.vault_owner).exists()
    assert "Forget my credentials now" not in html
    # Only a step's name is taken: anything else goes to the credentials form, as the button there does.
    response = client.post(f"/s/{setup.token}/credentials/forget/", {"back_to": "https://example.com/"})
    assert response["Location"] == url(setup, "credentials")


def test_expired_secrets_are_never_used_even_before_the_purge(client, sandbox, settings):
    from datetime import timedelta

    from django.utils import timezone

    setup = walk_to_test(client, "novu", {"api_key": REST_KEY})
    token = send_token(client, setup)
    StoredSecret.objects.filter(owner=setup.vault_owner).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = client.post(url(setup, "test"), {"phone": MOBILE, "attempt_token": token}, follow=True)
    assert "Enter them again" in page(response)
    assert sandbox.received() == []
    back = client.get(url(setup, "test"), follow=True)  # the test step, opened again later
    assert back.redirect_chain[-1][0].endswith("/credentials/")
    expired = "Your credentials were deleted (we keep them only for a short time). Enter them again."
    assert expired in page(back)


def test_credentials_that_cannot_be_decrypted_fail_closed(client, sandbox, vault_keys):
    from wizard.vault import crypto

    setup = walk_to_test(client, "zabbix-sms-client", LEGACY_CREDENTIALS)
    token = send_token(client, setup)
    vault_keys(crypto.new_key_spec("other"))  # the key that sealed them is gone
    response = client.post(url(setup, "test"), {"phone": MOBILE, "attempt_token": token}, follow=True)
    assert "couldn't read your saved credentials, so nothing was sent" in page(response)
    assert response.redirect_chain[-1][0].endswith("/credentials/")
    assert sandbox.received() == []
    assert not StoredSecret.objects.filter(owner=setup.vault_owner).exists()


@pytest.mark.parametrize(
    ("gone", "typed", "kept"),
    [
        ("expired", "+27 83 123 4567", "+27831234567"),
        ("expired", "083 123 4567", "083 123 4567"),  # kept as typed: the test's form says what to fix
        ("unreadable", "+27 83 123 4567", "+27831234567"),
        ("expired", "+27 83 l23 4567", "+27 83 l23 4567"),  # a letter for a digit: its form says so
        ("expired", REST_KEY, None),  # a key pasted into the wrong box is never kept
    ],
)
def test_the_number_typed_waits_for_the_next_test_when_the_credentials_went_first(
    client, sandbox, vault_keys, settings, gone, typed, kept
):
    from datetime import timedelta

    from django.utils import timezone

    from wizard.vault import crypto

    setup = walk_to_test(client, "novu", {"api_key": REST_KEY})
    token = send_token(client, setup)
    if gone == "expired":
        StoredSecret.objects.filter(owner=setup.vault_owner).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
    else:
        vault_keys(crypto.new_key_spec("other"))  # the key that sealed them is gone
    response = client.post(url(setup, "test"), {"phone": typed, "attempt_token": token}, follow=True)
    assert response.redirect_chain[-1][0].endswith("/credentials/") and sandbox.received() == []
    client.post(url(setup, "credentials"), {"api_key": REST_KEY})
    test_page = page(client.get(url(setup, "test")))
    if kept:
        assert f'value="{kept}"' in test_page
    else:
        assert typed not in test_page and settings.PORTAL_PHONE_COOKIE_NAME not in client.cookies


def test_a_send_interrupted_mid_call_leaves_an_unknown_record(client, sandbox, settings):
    from datetime import timedelta

    setup = walk_to_test(client, "novu", {"api_key": REST_KEY})
    attempt = TestAttempt.objects.create(
        setup=setup, signature="platform_rest", destination_masked="+278…567"
    )
    # Five minutes on: the attempt, and the credentials it was sent with, are five minutes older.
    TestAttempt.objects.filter(pk=attempt.pk).update(started_at=attempt.started_at - timedelta(minutes=5))
    Setup.objects.filter(pk=setup.pk).update(
        credentials_saved_at=setup.credentials_saved_at - timedelta(minutes=5)
    )
    html = page(client.get(url(setup, "test")))
    assert "We don't know whether the test was sent" in html and "Check your phone" in html


@pytest.mark.django_db(transaction=True)
def test_a_send_is_on_record_before_clickatell_answers_and_its_outcome_after(client, sandbox):
    from django.db import connection

    from wizard.catalog.loader import load_catalog

    load_catalog()  # tests in autocommit start with empty tables
    setup = walk_to_test(client, "novu", {"api_key": REST_KEY})
    sandbox.fail_next("slow", seconds=1.5)
    seen = []
    answered = threading.Event()

    def watch():
        # Another connection, as a support agent's console has: it sees only what was committed.
        try:
            while not answered.is_set():
                attempt = TestAttempt.objects.filter(setup=setup).first()
                outcome = Setup.objects.values_list("last_outcome", flat=True).get(pk=setup.pk)
                state = (attempt and attempt.status, outcome)
                if not seen or seen[-1] != state:
                    seen.append(state)
                time.sleep(0.02)
        finally:
            connection.close()

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        assert send_test_sms(client, setup).status_code == 302
    finally:
        answered.set()
        watcher.join()
    # While Clickatell was slow to answer, the attempt was on record and the setup said so; the setup
    # never said "pending" without its attempt on record.
    assert (TestAttempt.PENDING, TestAttempt.PENDING) in seen
    assert (None, TestAttempt.PENDING) not in seen
    attempt = TestAttempt.objects.get(setup=setup)
    assert attempt.status == TestAttempt.ACCEPTED and attempt.message_id and attempt.finished_at
    assert Setup.objects.get(pk=setup.pk).last_outcome == TestAttempt.ACCEPTED


def test_the_download_has_the_steps_and_no_secret(client, sandbox):
    setup = walk_to_test(client, "zabbix-sms-client", LEGACY_CREDENTIALS)
    response = client.get(f"/s/{setup.token}/instructions.md")
    assert response["Content-Disposition"] == f'attachment; filename="portal-switch-{setup.reference}.md"'
    text = response.content.decode()
    assert "GATEWAY_USER: acme-ops" in text and "1. Open Zabbix" in text
    assert PASSWORD not in text and REST_KEY not in text


def test_htmx_requests_get_only_the_step(client):
    setup = start(client, "novu")
    html = page(client.get(url(setup, "fields"), headers={"HX-Request": "true", "HX-Target": "wizard"}))
    assert html.lstrip().startswith('<div id="wizard"') and "<html" not in html
    full = page(client.get(url(setup, "fields")))
    assert "<html" in full and '<div id="wizard"' in full


def test_htmx_search_returns_only_the_list(client):
    html = page(client.get("/", {"q": "woo"}, headers={"HX-Request": "true", "HX-Target": "platform-list"}))
    assert html.lstrip().startswith('<div id="platform-list"') and "WooCommerce" in html


@pytest.mark.parametrize("column", ["token", "reference"])
def test_no_two_setups_share_a_token_or_a_reference(column):
    from django.db import IntegrityError, transaction

    first = Setup.objects.create()
    with pytest.raises(IntegrityError), transaction.atomic():
        Setup.objects.create(**{column: getattr(first, column)})
    assert Setup.objects.filter(**{column: getattr(first, column)}).count() == 1
