"""The platform catalog and the staff-editable instruction templates."""

import json
import re
from html import unescape
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from wizard.catalog.categories import NAMES as CATEGORY_NAMES
from wizard.catalog.instructions import VARIABLES, TemplateError, render, sample_values, validate
from wizard.catalog.loader import DATA_FILE, CatalogError, load_catalog
from wizard.catalog.models import LONGEST_TEXT, InstructionTemplate, Platform, Snippet
from wizard.catalog.search import search_platforms
from wizard.flow import services
from wizard.flow.models import Setup
from wizard.flow.steps import app_fields_of

from .conftest import sign_in_verified
from .journeys import passed_setup, start, url

pytestmark = pytest.mark.django_db
ENTRIES = json.loads(DATA_FILE.read_text())


def test_every_platform_in_the_data_file_is_in_the_catalog():
    assert Platform.objects.count() == len(ENTRIES) == 55
    for entry in ENTRIES:
        platform = Platform.objects.get(slug=entry["slug"])
        assert platform.field_labels == entry["field_labels"]
        assert platform.signature == entry["signature"]
        assert platform.settings_path == entry["settings_path"]


def test_loading_again_changes_nothing_and_keeps_staff_edits():
    Platform.objects.filter(slug="novu").update(aliases="notifications", updated_at=timezone.now())
    assert load_catalog() == 0
    assert Platform.objects.count() == 55
    assert Platform.objects.get(slug="novu").aliases == "notifications"
    # one published version in each of the four languages, not a second set
    assert InstructionTemplate.objects.filter(platform__slug="novu").count() == 4


def test_the_loader_refuses_a_data_file_with_steps_or_a_snippet_the_admin_would_refuse(tmp_path):
    """An entry's own steps are published as they are, with no draft or preview: steps the admin would
    refuse would fail to render on the customer's instructions page."""
    entry = {e["slug"]: e for e in ENTRIES}
    acme_pdu = {
        **entry["cyberpower-pdu"],
        "slug": "acme-pdu",
        "name": "Acme PDU",
        "instructions": "Open {{ app_name }}.\nPaste {{ settings.SECRET_KEY }} into <b>the box</b>.",
    }
    acme_relay = {
        **entry["smslib-smsserver"],
        "slug": "acme-relay",
        "name": "Acme Relay",
        "snippets": [{"title": "relay.properties", "format": "properties", "body": "p={{ password }} # pw"}],
    }
    acme_fine = {**entry["novu"], "slug": "acme-fine", "name": "Acme Fine"}
    data = tmp_path / "platforms.json"
    data.write_text(json.dumps([acme_fine, acme_pdu, acme_relay]))
    with pytest.raises(CatalogError) as refused:
        load_catalog(data)
    lines = str(refused.value).splitlines()
    assert lines[0] == "platforms.json was not loaded. Fix these entries first:"
    assert lines[1:] == [
        "- Acme PDU (acme-pdu), its instructions: HTML is not allowed; write plain text.",
        "- Acme PDU (acme-pdu), its instructions: “{{ settings.SECRET_KEY }}” is not a placeholder: use a plain "
        "name such as {{ app_name }}.",
        "- Acme Relay (acme-relay), its snippet “relay.properties”: Line 1: “{{ password }}” cannot be escaped "
        "there: it must end its line: a .properties value runs to the end of the line, so the app would read "
        "anything after it (a “# comment”, even spaces) as part of the value.",
    ]
    assert not Platform.objects.filter(slug__startswith="acme-").exists()
    assert not InstructionTemplate.objects.filter(platform__slug__startswith="acme-").exists()


def test_every_seeded_text_can_be_saved_again_in_the_admin():
    """A seeded text longer than LONGEST_TEXT could never be saved again by staff who edit it."""
    for model in (InstructionTemplate, Snippet):
        longest = max(len(body) for body in model.objects.values_list("body", flat=True))
        assert 0 < longest <= LONGEST_TEXT


def test_derived_flags_come_from_the_catalog_notes():
    assert Platform.objects.get(slug="sachet").sends_credentials_unencoded
    assert Platform.objects.get(slug="whmcs-aktuel-sms").uses_session_login
    assert not Platform.objects.get(slug="novu").sends_credentials_unencoded
    assert Platform.objects.get(slug="playsms").workaround_blocked


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("woocommerce", "woocommerce-apg-sms-v3"),
        ("WOO", "woocommerce-apg-sms-v3"),
        ("hass", "home-assistant-clickatell"),
        ("nextclod", "nextcloud-twofactor-clickatell-portal"),
        ("monitoring", "librenms"),
        ("yetiforce", "vtiger-smsnotifier-clickatell"),
        ("home asistant", "home-assistant-clickatell"),
    ],
)
def test_search_matches_names_categories_aliases_and_small_typos(query, expected):
    assert expected in [p.slug for p in search_platforms(query)]


def test_search_for_nonsense_finds_nothing():
    assert search_platforms("qwxzz") == []


@pytest.mark.parametrize("generic", ["missing", "invalid too"])
def test_an_apps_steps_that_cannot_be_shown_leave_the_boxes_when_no_generic_steps_can_be_either(
    client, generic, caplog
):
    """Staff's text made invalid behind the admin's back (a data file, the database edited by hand)."""
    setup = passed_setup("zabbix-sms-client")
    InstructionTemplate.objects.filter(platform=setup.platform).update(body="{{ setup.token }}")
    generics = InstructionTemplate.objects.filter(platform=None, signature=setup.signature)
    if generic == "missing":
        generics.delete()
    else:
        generics.update(body="{% debug %}")
    shown_before = InstructionTemplate.objects.filter(platform=setup.platform).first()
    Setup.objects.filter(pk=setup.pk).update(instructions_shown=shown_before)  # opened while still valid
    page = client.get(url(setup, "instructions"))
    assert page.status_code == 200 and 'id="steps-title"' not in page.content.decode()  # no empty list
    assert Setup.objects.get(pk=setup.pk).instructions_shown is None  # never the steps no longer seen
    instructions = services.instructions_for(setup, record=False)
    assert instructions.steps == [] and instructions.template_version == ""
    assert any(box.shows == "your API Key (ending …" + setup.api_key_hint + ")" for box in instructions.boxes)
    assert "is invalid" in caplog.text


@pytest.mark.parametrize("slug", [entry["slug"] for entry in ENTRIES])
def test_every_platform_renders_its_instructions_with_its_own_labels(slug):
    platform = Platform.objects.get(slug=slug)
    signature = platform.signature_enum
    setup = Setup.objects.create(
        platform=platform,
        signature=signature.value,
        app_fields=app_fields_of(signature),
        username="jane-ops",
        api_key_hint="Xy==",
    )
    instructions = services.instructions_for(setup)
    text = " ".join(step.text for step in instructions.steps)
    assert platform.name in text and platform.settings_path in text
    key_label = platform.label_for("key", "")
    if key_label:
        assert f"“{key_label}”" in text
        assert any(
            box.label == key_label and box.shows == "your API Key (ending …Xy==)"
            for box in instructions.boxes
        )
    if signature.needs_account_login:
        assert "jane-ops" in text and "your Account Password" in text
    for box in instructions.boxes:
        assert box.label in platform.field_labels or box.label in platform.what_to_enter
    assert setup.instructions_shown.platform == platform


def test_a_url_template_device_gets_the_whole_address_to_type_not_boxes_it_lacks():
    platform = Platform.objects.get(slug="cyberpower-pdu")  # one "URL (HTTP GET)" box, legacy signature
    setup = Setup.objects.create(
        platform=platform,
        signature="legacy_http",
        app_fields=app_fields_of(platform.signature_enum),
        username="jane-ops",
        api_key_hint="Xy==",
        password_has_reserved_chars=True,
    )
    instructions = services.instructions_for(setup)
    text = " ".join(step.text for step in instructions.steps)
    assert (
        "https://api.clickatell.com/http/sendmsg?user=jane-ops&password=PASSWORD&api_id=APIKEY"
        "&to=E_PHONE_NUMBER&text=E_PHONE_MESSAGE" in text
    )
    assert "replace PASSWORD with your Account Password, and APIKEY with your API Key (ending …Xy==)" in text
    assert "“Username”" not in text and "“API ID”" not in text  # boxes the device doesn't have
    [box] = instructions.boxes
    assert box.label == "URL (HTTP GET)" and "sendmsg address" in box.shows
    assert any("Change your Portal password" in warning for warning in instructions.warnings)


def test_a_generic_template_serves_each_signature_for_unlisted_apps():
    for signature in ("platform_http", "platform_rest", "one_api", "legacy_http", "legacy_rest", "smtp"):
        setup = Setup.objects.create(app_unlisted=True, signature=signature, api_key_hint="Xy==")
        instructions = services.instructions_for(setup)
        assert instructions.steps and setup.instructions_shown.platform is None
        assert setup.instructions_shown.signature == signature


@pytest.mark.parametrize(
    "body",
    [
        "{{ settings.SECRET_KEY }}",
        "{% load log %}{% get_admin_log 10 as x %}",
        "{{ app_name|safe }}",
        "{{ request.session }}",
        "{{ username.__class__ }}",
        "<script>alert(1)</script>",
        "{# hidden #}",
        "{{ app_name }",
        "{{ setup.token }}",
        "{% debug %}",
        "{{ api_key }}",
        "{{ password }}",
    ],
)
def test_template_injection_is_refused_at_save(body):
    assert validate(body)
    with pytest.raises(TemplateError):
        render(body, sample_values())


def test_a_valid_template_renders_plain_values_only():
    body = "Open {{ app_name }}.\n! Careful with {{ key_label }}.\n\n"
    assert [(s.text, s.warning) for s in render(body, sample_values("Zed"))] == [
        ("Open Zed.", False),
        ("Careful with API Key.", True),
    ]
    assert validate("{{app_name}} and {{  reference  }}") == []
    assert validate("Use a port < 1024, or > 1 if you must.") == []  # comparisons are plain text
    assert validate("Open <a href=x>this</a>") == ["HTML is not allowed; write plain text"]
    assert validate("Hide <!-- this -->") == ["HTML is not allowed; write plain text"]
    assert set(sample_values()) == set(VARIABLES)


def test_markup_in_values_is_escaped_on_the_page(client):
    # As every edit does, it moves updated_at: workers' copies of the app and remembered pages go by it.
    Platform.objects.filter(slug="novu").update(
        name="<script>alert('x')</script>Novu", updated_at=timezone.now()
    )
    setup = start(client, "novu")
    html = client.get(url(setup, "fields")).content.decode()
    assert "<script>alert(" not in html and "&lt;script&gt;alert(" in html


# --- staff editing in the admin ------------------------------------------------------------------------


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("editor", "editor@example.com", "pw-for-tests-only")
    sign_in_verified(client, user)  # /admin/ asks for a second factor
    return client


def test_the_admin_refuses_an_unsafe_template_and_says_why(staff_client):
    platform = Platform.objects.get(slug="novu")
    response = staff_client.post(
        "/admin/catalog/instructiontemplate/add/",
        {
            "platform": platform.pk,
            "signature": "",
            "language": "en",
            "body": "Paste {{ settings.SECRET_KEY }} here <b>now</b>",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "is not a placeholder" in html and "HTML is not allowed" in html
    assert (
        InstructionTemplate.objects.filter(platform=platform).count() == 4
    )  # the loader's, one per language


@pytest.mark.parametrize("name", ["instructiontemplate", "snippet"])
def test_a_text_too_long_to_save_comes_back_with_a_message_not_a_refused_request(staff_client, name):
    """The browser sends the admin's form percent-encoded: a text at the longest a staff member may type, in
    characters of nine bytes each once encoded, still fits in DATA_UPLOAD_MAX_MEMORY_SIZE; one character
    more is refused on the page, with the text kept. A line break counts once, as the box counts it."""
    platform = Platform.objects.get(slug="novu")
    fields = {"platform": platform.pk, "signature": "", "language": "en", "title": "t", "format": "json"}

    def posted(body: str):
        form = urlencode({**fields, "position": 0, "body": body})
        return staff_client.post(
            f"/admin/catalog/{name}/add/", form, content_type="application/x-www-form-urlencoded"
        )

    page = staff_client.get(f"/admin/catalog/{name}/add/").content.decode()
    assert re.search(rf'<textarea name="body"[^>]* maxlength="{LONGEST_TEXT}"', page)
    too_long = posted("→" * (LONGEST_TEXT + 1))
    assert too_long.status_code == 200
    html = unescape(too_long.content.decode())
    assert f"Ensure this value has at most {LONGEST_TEXT} characters (it has {LONGEST_TEXT + 1})." in html
    assert "→" * (LONGEST_TEXT + 1) in html  # what was typed is on the page to shorten
    for longest in ("→" * LONGEST_TEXT, "→\r\n" * (LONGEST_TEXT // 2)):
        response = posted(longest)
        assert response.status_code in (200, 302)  # read, not refused (400), whatever its checks say
        assert "Ensure this value has at most" not in response.content.decode()


def test_editing_makes_a_draft_that_is_previewed_then_published_and_recorded(staff_client, client):
    platform = Platform.objects.get(slug="novu")
    published = InstructionTemplate.objects.get(platform=platform, language="en")
    staff_client.post(
        f"/admin/catalog/instructiontemplate/{published.pk}/change/",
        {
            "platform": platform.pk,
            "signature": "",
            "language": "en",
            "body": "Open {{ app_name }} and paste {{ api_key_hint }}.\n",
        },
    )
    published.refresh_from_db()
    assert published.status == "published" and not published.body.startswith("Open {{ app_name }} and paste")
    draft = InstructionTemplate.objects.get(platform=platform, status="draft")
    assert draft.version == 2 and draft.created_by == "editor"

    preview = staff_client.get(f"/admin/catalog/instructiontemplate/{draft.pk}/preview/").content.decode()
    assert "Open Novu" in preview and "ending …Xy==" in preview

    setup = Setup.objects.create(
        platform=platform, signature="platform_rest", app_fields="api_key", api_key_hint="Ab=="
    )
    new_text = [f"Open {platform.name} and paste your API Key (ending …Ab==)."]
    assert [s.text for s in services.instructions_for(setup).steps] != new_text  # a draft is not shown

    response = staff_client.post(
        "/admin/catalog/instructiontemplate/",
        {"action": "publish_drafts", "_selected_action": [draft.pk]},
        follow=True,
    )
    assert "Published 1 draft." in response.content.decode()
    published.refresh_from_db()
    draft.refresh_from_db()
    assert (published.status, draft.status) == ("retired", "published")
    steps = services.instructions_for(setup).steps
    assert [s.text for s in steps] == new_text
    setup.refresh_from_db()
    assert setup.instructions_shown == draft


def test_staff_can_add_a_platform_and_customers_find_it(staff_client, client):
    response = staff_client.post(
        "/admin/catalog/platform/add/",
        {
            "slug": "acme-crm",
            "name": "Acme CRM",
            "category": "crm",
            "aliases": "acme",
            "signature": "legacy_http",
            "field_labels": '["Login", "Secret", "API ID"]',
            "key_field": "API ID",
            "what_to_enter": '{"Login": "Account Username", "Secret": "Account Password", "API ID": "API Key (workaround)"}',
            "settings_path": "Admin → SMS",
            "endpoint": "",
            "notes": "",
            "workaround_blocked": "",
            "source": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert "Acme CRM" in client.get("/", {"q": "acme"}).content.decode()
    assert re.search(r'value="acme-crm"', client.get("/").content.decode())


def platform_form(platform, **changes) -> dict:
    """The admin's change form for a platform, as its page fills it in, with some boxes retyped."""
    from django.forms.models import model_to_dict

    data = model_to_dict(platform)
    for name in ("field_labels", "what_to_enter", "translations"):
        data[name] = json.dumps(data[name])
    return {**data, **changes}


@pytest.mark.parametrize(
    ("field", "typed", "says"),
    [
        ("field_labels", '"API Key"', "A list of the boxes' labels"),
        ("field_labels", '["API Key", 5]', "A list of the boxes' labels"),
        ("what_to_enter", '["API Key"]', "Each box's label and what goes in it"),
        ("what_to_enter", '{"API Key": 5}', "Each box's label and what goes in it"),
        ("translations", "[]", "Texts per language"),
        ("translations", '{"fr": "texte"}', "“fr” needs"),
        (
            "translations",
            '{"de": {"workaround_blocked": "…"}}',
            "“de” is not one of the site's other languages",
        ),
        ("translations", '{"fr": {"what_to_enter": ["x"]}}', "“fr”: Each box's label"),
        ("translations", '{"es": {"workaround_blocked": ["x"]}}', '“es”: "workaround_blocked" is one text'),
    ],
)
def test_the_admin_refuses_a_platform_s_texts_in_a_shape_the_wizard_cannot_read(
    staff_client, client, field, typed, says
):
    platform = Platform.objects.get(slug="domoticz")
    before = getattr(platform, field)
    response = staff_client.post(
        f"/admin/catalog/platform/{platform.pk}/change/", platform_form(platform, **{field: typed})
    )
    assert response.status_code == 200 and says in unescape(response.content.decode())
    assert getattr(Platform.objects.get(pk=platform.pk), field) == before
    setup = start(client, "domoticz")
    assert client.get(url(setup, "fields")).status_code == 200
    assert staff_client.get("/admin/catalog/platform/").status_code == 200


def test_a_platform_saved_without_translations_has_none_rather_than_nothing(staff_client, client):
    platform = Platform.objects.get(slug="domoticz")
    response = staff_client.post(
        f"/admin/catalog/platform/{platform.pk}/change/", platform_form(platform, translations="")
    )
    assert response.status_code == 302, unescape(response.content.decode())[:2000]
    assert Platform.objects.get(pk=platform.pk).translations == {}
    setup = start(client, "domoticz")
    assert client.get(url(setup, "fields")).status_code == 200


def test_staff_write_a_snippet_preview_it_with_hostile_values_and_publish_it(staff_client, client):
    platform = Platform.objects.get(slug="sachet")
    refused = staff_client.post(
        "/admin/catalog/snippet/add/",
        {
            "platform": platform.pk,
            "title": "config.yml",
            "format": "yaml",
            "position": 0,
            "body": "providers:\n  clickatell:\n    password: '{{ password }}'\n",
        },
    )
    assert refused.status_code == 200
    assert "cannot be escaped there" in unescape(refused.content.decode())
    published = Snippet.objects.get(platform=platform, title="config.yml")
    staff_client.post(
        f"/admin/catalog/snippet/{published.pk}/change/",
        {
            "platform": platform.pk,
            "title": "config.yml",
            "format": "yaml",
            "position": 0,
            "body": "providers:\n  clickatell:\n    user: {{ username }}\n    password: {{ password }}\n"
            "    api_id: {{ api_key }}\n",
        },
    )
    draft = Snippet.objects.get(platform=platform, status="draft")
    assert draft.version == 2 and draft.created_by == "editor"
    preview = unescape(staff_client.get(f"/admin/catalog/snippet/{draft.pk}/preview/").content.decode())
    assert "password: YOUR_ACCOUNT_PASSWORD" in preview
    assert 'password: "p&ss w#rd+%\'\\"\\\\"' in preview  # the sample password, escaped as YAML writes it
    response = staff_client.post(
        "/admin/catalog/snippet/", {"action": "publish_drafts", "_selected_action": [draft.pk]}, follow=True
    )
    assert "Published 1 draft." in response.content.decode()
    published.refresh_from_db()
    assert published.status == "retired"


def test_publishing_says_what_it_left_and_refuses_two_drafts_of_one_text(staff_client):
    platform = Platform.objects.get(slug="novu")
    published = InstructionTemplate.objects.get(platform=platform, language="en")
    draft = InstructionTemplate.objects.create(platform=platform, language="en", body="Open", version=2)
    newer = InstructionTemplate.objects.create(platform=platform, language="en", body="Open it", version=3)

    def publishing(*versions):
        response = staff_client.post(
            "/admin/catalog/instructiontemplate/",
            {"action": "publish_drafts", "_selected_action": [v.pk for v in versions]},
            follow=True,
        )
        return [str(m).replace(platform.name, "Novu") for m in response.context["messages"]]

    assert publishing(published) == [
        "Nothing was published: none of the selected versions is a draft. Editing a published version saves "
        "a new draft to publish."
    ]
    assert publishing(draft, newer) == [
        "Nothing was published: select one draft of each text. Selected together: Novu [en] v2 (draft) and "
        "Novu [en] v3 (draft)."
    ]
    assert InstructionTemplate.objects.get(pk=draft.pk).status == "draft"
    assert InstructionTemplate.objects.get(pk=published.pk).status == "published"
    assert publishing(published, newer) == [
        "Published 1 draft. Not drafts, so not published: Novu [en] v1 (published)."
    ]
    published.refresh_from_db()
    newer.refresh_from_db()
    assert (published.status, newer.status) == ("retired", "published")

    # Many versions selected with a draft: the message names ten of those it left, and counts the rest.
    others = list(InstructionTemplate.objects.filter(status="published").exclude(platform=platform)[:12])
    another = InstructionTemplate.objects.create(platform=platform, language="en", body="Open", version=4)
    [message] = publishing(another, *others)
    assert message.startswith("Published 1 draft. Not drafts, so not published: ")
    assert message.count("(published)") == 10 and message.endswith(" and 2 more.")


@pytest.mark.parametrize(
    ("name", "added", "moved", "subject"),
    [
        (
            "snippet",
            {
                "title": "config",
                "format": "dotenv",
                "position": 0,
                "body": "CLICKATELL_PASS={{ password }}\n",
            },
            {"title": ".env"},
            {"title": ".env"},
        ),
        (
            "instructiontemplate",
            {"signature": "", "language": "fr", "body": "Ouvrez {{ app_name }}."},
            {"language": "en"},
            {"language": "en"},
        ),
        (
            "instructiontemplate",
            {"signature": "", "language": "fr", "body": "Ouvrez {{ app_name }}."},
            {"platform": "novu"},
            {"language": "fr"},
        ),
    ],
)
def test_a_draft_moved_to_another_text_becomes_that_text_s_next_version(
    staff_client, name, added, moved, subject
):
    """A draft given another title, language or platform joins that text's versions as its newest, and
    the versions that text already has stay as they were."""
    model = Snippet if name == "snippet" else InstructionTemplate
    slug = "laravel-notification-channels-clickatell" if name == "snippet" else "cyberpower-pdu"
    platform = Platform.objects.get(slug=slug)
    response = staff_client.post(f"/admin/catalog/{name}/add/", {"platform": platform.pk, **added})
    assert response.status_code == 302, unescape(response.content.decode())[:2000]
    draft = model.objects.get(platform=platform, status="draft")
    if "platform" in moved:
        platform = Platform.objects.get(slug=moved["platform"])
        moved = {"platform": platform.pk}
    existing = {
        (v.pk, v.version, v.status, v.body)
        for v in model.objects.filter(platform=platform, **subject).exclude(pk=draft.pk)
    }
    assert existing and draft.version <= max(version for _, version, _, _ in existing)

    response = staff_client.post(
        f"/admin/catalog/{name}/{draft.pk}/change/", {"platform": draft.platform_id, **added, **moved}
    )
    assert response.status_code == 302, unescape(response.content.decode())[:2000]
    draft.refresh_from_db()
    assert (draft.platform, draft.status) == (platform, "draft")
    assert draft.version == max(version for _, version, _, _ in existing) + 1
    assert {
        (v.pk, v.version, v.status, v.body)
        for v in model.objects.filter(platform=platform, **subject).exclude(pk=draft.pk)
    } == existing
    messages = [str(m) for m in staff_client.get(f"/admin/catalog/{name}/").context["messages"]]
    assert any(f"v{draft.version}" in message and "renumbered" in message for message in messages), messages


def staff_with(client, django_user_model, username, *codenames):
    """A verified staff user who holds only the named catalog permissions."""
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user(username, password="pw-for-tests-only", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="catalog", codename__in=codenames)
    )
    sign_in_verified(client, user)
    return client


@pytest.mark.parametrize(
    "name, drafted",
    [
        (
            "instructiontemplate",
            lambda p: InstructionTemplate.objects.create(platform=p, body="Open", version=2),
        ),
        (
            "snippet",
            lambda p: Snippet.objects.create(platform=p, title="New", format="json", body='{"a": 1}'),
        ),
    ],
)
def test_staff_who_may_only_view_the_texts_cannot_publish_a_draft(client, django_user_model, name, drafted):
    draft = drafted(Platform.objects.get(slug="novu"))
    viewer = staff_with(client, django_user_model, "reader", f"view_{name}")
    listing = viewer.get(f"/admin/catalog/{name}/")
    assert listing.status_code == 200 and "publish_drafts" not in listing.content.decode()
    viewer.post(f"/admin/catalog/{name}/", {"action": "publish_drafts", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.status == "draft"

    editor = staff_with(client, django_user_model, "writer", f"view_{name}", f"change_{name}")
    response = editor.post(
        f"/admin/catalog/{name}/", {"action": "publish_drafts", "_selected_action": [draft.pk]}, follow=True
    )
    assert "Published 1 draft." in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == "published"


@pytest.mark.parametrize("name", ["instructiontemplate", "snippet"])
def test_a_preview_is_shown_to_those_who_may_see_the_version(client, django_user_model, name):
    version = (InstructionTemplate if name == "instructiontemplate" else Snippet).objects.first()
    assert version is not None
    preview = f"/admin/catalog/{name}/{version.pk}/preview/"
    stranger = staff_with(client, django_user_model, "stranger", "view_platform")
    assert stranger.get(preview).status_code == 403
    assert stranger.get(f"/admin/catalog/{name}/{version.pk}/change/").status_code == 403

    viewer = staff_with(client, django_user_model, "reader", f"view_{name}")
    assert viewer.get(preview).status_code == 200
    assert viewer.get(f"/admin/catalog/{name}/999999/preview/").status_code == 404


# --- categories as customers read them ----------------------------------------------------------------


def app_categories(response) -> list[str]:
    return re.findall(r'<span class="app-category">([^<]*)</span>', unescape(response.content.decode()))


def test_every_category_the_data_file_uses_has_a_name():
    used = {entry["category"] for entry in ENTRIES}
    assert used <= set(CATEGORY_NAMES), used - set(CATEGORY_NAMES)


@pytest.mark.parametrize(
    ("accept", "hardware", "crm"),
    [
        ("en", "Hardware device", "Customer relationship management (CRM)"),
        ("fr", "Appareil matériel", "Gestion de la relation client (CRM)"),
        ("es", "Dispositivo de hardware", "Gestión de clientes (CRM)"),
        ("pt-BR", "Dispositivo de hardware", "Gestão de clientes (CRM)"),
    ],
)
def test_the_app_step_names_each_category_in_the_customers_language(client, accept, hardware, crm):
    shown = app_categories(client.get("/", headers={"accept-language": accept}))
    assert len(shown) == len(ENTRIES)
    assert hardware in shown and crm in shown
    assert not set(shown) & {entry["category"] for entry in ENTRIES}  # no identifier is shown as it is


def test_a_category_staff_typed_is_shown_as_words(client):
    Platform.objects.filter(slug="novu").update(category="point-of-sale")
    assert "Point of sale" in app_categories(client.get("/", {"q": "novu"}))


def test_search_finds_a_category_by_its_name_in_the_customers_language(client):
    html = unescape(client.get("/", {"q": "domotique"}, headers={"accept-language": "fr"}).content.decode())
    assert 'value="home-assistant-clickatell"' in html
    html = unescape(
        client.get("/", {"q": "tienda en linea"}, headers={"accept-language": "es"}).content.decode()
    )
    assert 'value="woocommerce-apg-sms-v3"' in html
