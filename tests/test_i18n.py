"""The customer wizard in English, French, Spanish and Portuguese: complete catalogs, the language each page
speaks and where it comes from, the switch without JavaScript, and agents' pages in English."""

import html
import re
import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client, RequestFactory, override_settings
from django.utils import formats, timezone, translation

from wizard.catalog.loader import load_catalog
from wizard.catalog.models import InstructionTemplate, Platform
from wizard.flow import services
from wizard.flow.models import Setup
from wizard.flow.views import server_error

from .conftest import MOBILE, PASSWORD, REST_KEY, USERNAME, sign_in_verified
from .journeys import passed_setup, send_test_sms, send_token, url, walk_to_test

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "wizard" / "locale"
TRANSLATED = [code for code, _ in settings.LANGUAGES if code != settings.LANGUAGE_CODE]

# GSM 03.38: the basic character set, and the extension table (each extension character costs two).
GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = "^{}\\[~]|€\f"


def po_file(language: str) -> Path:
    return LOCALES / language / "LC_MESSAGES" / "django.po"


def text(response) -> str:
    return html.unescape(response.content.decode())


# --- the catalogs ------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_customer_facing_string_is_translated_in_the_committed_catalog(language, tmp_path, monkeypatch):
    """The strings are extracted afresh from the code and templates (makemessages, into a copy of the
    catalogs): a string added or changed without its translation shows up as missing or fuzzy here."""
    # makemessages writes where it finds a locale folder, so it runs on a copy of the code and catalogs.
    for folder in ["wizard", "templates"]:
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    copy = tmp_path / "wizard" / "locale"
    monkeypatch.chdir(tmp_path)
    with override_settings(LOCALE_PATHS=[copy]):
        call_command("makemessages", locale=[language], add_location="file", verbosity=0)
    extracted = polib.pofile(str(copy / language / "LC_MESSAGES" / "django.po"))
    assert len(extracted) > 300  # the whole wizard was scanned, not an empty folder
    assert [e.msgid for e in extracted.untranslated_entries()] == []
    assert [e.msgid for e in extracted.fuzzy_entries()] == []
    assert [e.msgid for e in extracted.obsolete_entries()] == [], "strings no longer in the code"
    committed = {e.msgid for e in polib.pofile(str(po_file(language))) if not e.obsolete}
    assert {e.msgid for e in extracted if not e.obsolete} == committed


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_compiled_catalog_says_what_its_po_file_says(language):
    """The .mo files are committed (./portal serve needs no gettext tools): each must match its .po."""
    po = polib.pofile(str(po_file(language)))
    mo = polib.mofile(str(po_file(language).with_suffix(".mo")))
    compiled = {(e.msgid, e.msgstr, tuple(sorted(e.msgstr_plural.items()))) for e in mo if e.msgid}
    written = {
        (e.msgid, e.msgstr, tuple(sorted(e.msgstr_plural.items())))
        for e in po
        if e.translated() and not e.obsolete
    }
    assert compiled == written, "compile them: .venv/bin/python manage.py compilemessages --ignore=.venv"


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_every_placeholder_and_tag(language):
    """A translation that drops or renames a %(name)s, {wait} or {{ name }} would fail at render time, or
    lose the customer's value; the HTML a template's sentence carries must come through too."""
    marks = re.compile(r"%%|%\(\w+\)[sd]|\{\w+\}|\{\{ \w+ \}\}|</?(?:strong|code|a)\b[^>]*>")
    for entry in polib.pofile(str(po_file(language))):
        translations = [entry.msgstr] if not entry.msgid_plural else list(entry.msgstr_plural.values())
        for translated in translations:
            assert sorted(marks.findall(translated)) == sorted(
                marks.findall(entry.msgid_plural or entry.msgid)
            ), entry.msgid


@pytest.mark.parametrize("language", [code for code, _ in settings.LANGUAGES])
def test_the_test_sms_is_in_the_customers_language_and_costs_one_gsm7_part(language):
    setup = Setup(reference="7KQ2-M9XD", language=language)
    message = services.test_message(setup)
    outside = [c for c in message if c not in GSM7_BASIC and c not in GSM7_EXTENSION]
    assert outside == [], f"{language}: {outside} would make the SMS UCS-2"
    septets = sum(2 if c in GSM7_EXTENSION else 1 for c in message)
    assert septets <= 160
    assert "7KQ2-M9XD" in message
    if language != settings.LANGUAGE_CODE:
        with translation.override(settings.LANGUAGE_CODE):
            assert message != services.test_message(Setup(reference="7KQ2-M9XD", language="en"))


# --- which language a page speaks ----------------------------------------------------------------------


def lang_of(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.content.decode()).group(1)


@pytest.mark.parametrize(
    ("accept", "language", "heading"),
    [
        ("fr-FR,fr;q=0.9,en;q=0.5", "fr", "Quelle application connectez-vous à Clickatell ?"),
        ("es-MX,es;q=0.9", "es", "¿Qué aplicación está conectando a Clickatell?"),
        ("pt-BR,pt;q=0.9", "pt", "Qual aplicativo você está conectando à Clickatell?"),
        ("de-DE,de;q=0.9", "en", "Which app are you connecting to Clickatell?"),
    ],
)
def test_the_browsers_language_is_used_and_kept_on_the_setup(client, accept, language, heading):
    page = client.get("/", headers={"accept-language": accept})
    assert lang_of(page) == language and heading in text(page)
    assert page["Content-Language"] == language and "Accept-Language" in page["Vary"]
    started = client.post("/", {"platform": "novu"}, headers={"accept-language": accept})
    setup = Setup.objects.get(token=re.search(r"/s/([^/]+)/", started["Location"]).group(1))
    assert setup.language == language


def test_the_resume_link_opens_in_the_setups_language_whatever_the_browser_asks(client):
    client.post("/", {"platform": "novu"}, headers={"accept-language": "es"})
    setup = Setup.objects.get()
    elsewhere = Client(headers={"accept-language": "fr"})
    page = elsewhere.get(url(setup, "fields"))
    assert lang_of(page) == "es" and f"¿Qué casillas muestra {setup.platform.name}?" in text(page)


def test_the_switch_works_without_javascript_and_moves_the_setup_to_the_new_language(client):
    client.post("/", {"platform": "novu"}, headers={"accept-language": "en"})
    setup = Setup.objects.get()
    page = text(client.get(url(setup, "fields")))
    form = re.search(r'<form class="language" method="post" action="([^"]+)"[^>]*>(.*?)</form>', page, re.S)
    assert form.group(1) == f"/s/{setup.token}/language/"
    assert f'name="next" value="{url(setup, "fields")}"' in form.group(2)
    switched = client.post(form.group(1), {"language": "pt", "next": url(setup, "fields")})
    assert switched.status_code == 302 and switched["Location"] == url(setup, "fields")
    setup.refresh_from_db()
    assert setup.language == "pt"
    assert switched.cookies[settings.LANGUAGE_COOKIE_NAME].value == "pt"
    again = client.get(switched["Location"])
    assert lang_of(again) == "pt" and f"Quais campos {setup.platform.name} mostra?" in text(again)
    # The home page (no setup yet) keeps the choice in the cookie, and a new setup starts in it.
    assert lang_of(client.get("/")) == "pt"
    client.post("/language/", {"language": "fr", "next": "/"})
    assert lang_of(client.get("/")) == "fr"


def test_the_switch_keeps_the_username_of_a_refused_form_but_no_secret(client):
    """A customer who switches language to read a refusal again finds the username they typed."""
    client.post("/", {"platform": "cerb-clickatell"}, headers={"accept-language": "en"})
    setup = Setup.objects.get()
    client.post(url(setup, "fields"), {"confirm": "yes"})
    old_api_id = "3456789"
    refused = client.post(
        url(setup, "credentials"), {"username": USERNAME, "password": PASSWORD, "api_key": old_api_id}
    )
    assert refused.status_code == 200
    switched = client.post(
        f"/s/{setup.token}/language/", {"language": "fr", "next": url(setup, "credentials")}
    )
    again = client.get(switched["Location"])
    assert lang_of(again) == "fr"
    box = re.search(r'<input[^>]*name="username"[^>]*>', again.content.decode()).group(0)
    assert f'value="{USERNAME}"' in box
    assert PASSWORD not in text(again) and old_api_id not in text(again)


def test_the_switch_refuses_unknown_languages_and_other_sites(client):
    client.post("/", {"platform": "novu"})
    setup = Setup.objects.get()
    response = client.post(f"/s/{setup.token}/language/", {"language": "xx", "next": url(setup, "app")})
    setup.refresh_from_db()
    assert setup.language == "en" and response.status_code == 302
    response = client.post("/language/", {"language": "fr", "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_dates_follow_the_language(client, sandbox):
    client.post("/", {"platform": "novu"}, headers={"accept-language": "fr"})
    setup = Setup.objects.get()
    client.post(url(setup, "fields"), {"confirm": "yes"})
    client.post(url(setup, "credentials"), {"api_key": REST_KEY})
    page = text(client.get(url(setup, "credentials")))
    expires = timezone.localtime(services.secrets_held_until(setup))
    shown = {}
    for language in ["fr", "en"]:
        with translation.override(language):
            shown[language] = formats.time_format(expires)
    assert shown["fr"] != shown["en"]
    assert f"jusqu'à {shown['fr']} UTC" in page


# --- agents' pages stay in English ---------------------------------------------------------------------


def test_agents_pages_are_in_english_and_show_the_customers_language(client, agent):
    client.post("/", {"platform": "novu"}, headers={"accept-language": "pt-BR"})
    setup = Setup.objects.get()
    agent_browser = Client(headers={"accept-language": "fr"})
    sign_in_verified(agent_browser, agent)
    listing = agent_browser.get("/console/")
    detail = agent_browser.get(f"/console/s/{setup.reference}/")
    for page in (listing, detail):
        assert lang_of(page) == "en" and page["Content-Language"] == "en"
        assert "Português" in text(page)
        assert 'class="language"' not in text(page)  # no language switch on agents' pages
    assert "Customer's language" in text(detail) and "Your app" in text(detail)  # step names in English
    login = Client(headers={"accept-language": "es"}).get("/console/login/")
    assert lang_of(login) == "en"


def test_the_admin_is_in_english_and_lists_each_platforms_missing_languages(client, django_user_model):
    user = django_user_model.objects.create_superuser("editor", "editor@example.com", "pw-for-tests-only")
    staff = Client(headers={"accept-language": "fr"})
    sign_in_verified(staff, user)
    novu = Platform.objects.get(slug="novu")
    InstructionTemplate.objects.filter(platform=novu, language__in=["es", "pt"]).delete()
    page = staff.get("/admin/catalog/platform/?q=novu")
    assert lang_of(page) == "en" and "Instructions missing in" in text(page)
    row = re.search(r"<tr>.*?Novu.*?</tr>", text(page), re.S).group(0)
    assert "Español, Português" in row


# --- instructions per language -------------------------------------------------------------------------


def setup_at_instructions(language: str, slug: str = "novu") -> Setup:
    platform = Platform.objects.get(slug=slug)
    return Setup.objects.create(
        platform=platform,
        signature=platform.signature,
        app_fields="api_key",
        api_key_hint="Ab==",
        credentials_saved_at=timezone.now(),
        language=language,
    )


def test_instructions_come_in_the_setups_language(client):
    setup = setup_at_instructions("fr")
    page = text(client.get(url(setup, "instructions")))
    name = setup.platform.name
    assert f"Configurer {name}" in page and "collez votre API Key (qui se termine par …Ab==)" in page
    assert "ne sont pas encore rédigées dans votre langue" not in page
    download = client.get(f"/s/{setup.token}/instructions.md").content.decode()
    assert download.startswith(f"# Connecter {name} à Clickatell") and "Référence : " in download


@pytest.mark.parametrize(
    ("language", "send_from_your_app", "snippets_intro"),
    [
        # "votre application" is feminine: a pronoun after it would have to agree, so none is used.
        ("fr", "envoyez un message de test directement depuis votre application.", "dans sa propre syntaxe"),
        # The sentence names a file, a web address or a command line: "it" points at none of them alone.
        (
            "es",
            "envíe un mensaje de prueba directamente desde su aplicación.",
            "Esto es lo que hay que poner",
        ),
        ("pt", "envie uma mensagem de teste diretamente de seu aplicativo.", "Veja o que colocar"),
    ],
)
def test_instruction_sentences_agree_with_the_app_they_name(
    client, language, send_from_your_app, snippets_intro
):
    unlisted = Setup.objects.create(
        app_unlisted=True,
        signature="platform_rest",
        app_fields="api_key",
        api_key_hint="Ab==",
        credentials_saved_at=timezone.now(),
        language=language,
    )
    page = text(client.get(url(unlisted, "instructions")))
    assert send_from_your_app in page
    assert not re.search(r"lui-même|el propio su|pelo próprio seu", page)
    snippets = text(client.get(url(setup_at_instructions(language, "ruby-clickatell-gem"), "instructions")))
    assert snippets_intro in snippets


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_copy_button_says_copied_in_the_setups_language(client, language):
    """The scripts hold no words: each copy button carries its "Copied" from the page (static/wizard)."""
    setup = passed_setup("sachet", language=language)  # a username box and a snippet, each with its button
    services.create_hand_on_link(setup)
    page = client.get(url(setup, "instructions")).content.decode()
    buttons = re.findall(r'<button type="button" class="copy[^"]*"[^>]*>', page)
    with translation.override(language):
        copied = translation.gettext("Copied")
    assert copied != "Copied"
    assert len(buttons) == 3 and all(f'data-copied-label="{copied}"' in button for button in buttons), buttons
    for script in ["app.js", "snippets.js"]:
        assert '"Copied"' not in (ROOT / "static" / "wizard" / script).read_text()


def test_a_language_without_its_version_falls_back_to_english_with_a_note(client):
    InstructionTemplate.objects.filter(platform__slug="novu", language="es").delete()
    setup = setup_at_instructions("es")
    page = text(client.get(url(setup, "instructions")))
    assert "Estos pasos aún no están escritos en su idioma, así que se muestran en inglés." in page
    assert "paste your API Key (ending …Ab==)" in page  # the English version, English throughout …
    assert f"Configurar {setup.platform.name}" in page and "su API Key (la que termina en …Ab==)" in page
    # … inside the Spanish page, whose own parts (what goes in each box) stay Spanish
    setup.refresh_from_db()
    assert setup.instructions_shown.language == "en"


def test_load_catalog_publishes_the_defaults_in_every_language():
    load_catalog()
    for code, _ in settings.LANGUAGES:
        generic = InstructionTemplate.objects.get(
            platform=None, signature="legacy_http", language=code, status="published"
        )
        assert "{{ api_key_hint }}" in generic.body and "{{ key_label }}" in generic.body
    french = InstructionTemplate.objects.get(platform=None, signature="legacy_http", language="fr")
    assert "Oui : l'API Key va dans la case API ID." in french.body


# --- a whole journey in each language meets no English sentence we wrote ----------------------------------


def english_sentences(language: str) -> set[str]:
    """The English we wrote that the language translates differently, cut at every placeholder and tag into
    runs of three words or more: none of them may show on a page in that language."""
    runs = set()
    for entry in polib.pofile(str(po_file(language))):
        for source in filter(None, [entry.msgid, entry.msgid_plural]):
            if source in (entry.msgstr, *entry.msgstr_plural.values()):
                continue
            translated = " ".join([entry.msgstr, *entry.msgstr_plural.values()])
            for run in re.split(r"%\(\w+\)[sd]|\{\{ \w+ \}\}|\{\w+\}|<[^>]+>|%%", source):
                run = run.strip(" .,:;“”«»()")
                # Clickatell's own words (the Portal's menus) stay as the Portal shows them.
                if len(run.split()) >= 3 and run not in translated:
                    runs.add(run)
    return runs


@pytest.mark.parametrize("language", TRANSLATED)
def test_a_whole_journey_with_a_failure_meets_no_english_sentence_we_wrote(language, sandbox):
    customer = Client(headers={"accept-language": language})
    english = english_sentences(language)
    pages = []

    def look(response):
        assert response.status_code == 200, response
        pages.append(text(response))
        return response

    look(customer.get("/"))
    look(customer.get("/", {"q": "zabbix"}))
    look(customer.get("/", {"q": "no such app at all"}))
    started = customer.post("/", {"platform": "zabbix-sms-client"})
    setup = Setup.objects.get(token=re.search(r"/s/([^/]+)/", started["Location"]).group(1))
    look(customer.get(url(setup, "fields")))
    look(customer.post(url(setup, "fields"), {}))  # nothing chosen: the form's message
    look(customer.get(url(setup, "fields"), {"different": "1"}))
    customer.post(url(setup, "fields"), {"confirm": "yes"})
    look(customer.post(url(setup, "credentials"), {"username": "ops@acme.example", "api_key": "3442105"}))
    customer.post(url(setup, "credentials"), {"username": USERNAME, "password": "wrong", "api_key": REST_KEY})
    look(
        customer.post(
            url(setup, "test"), {"phone": "0821234567", "attempt_token": send_token(customer, setup)}
        )
    )
    customer.post(url(setup, "test"), {"phone": MOBILE, "attempt_token": send_token(customer, setup)})
    failed = look(customer.get(url(setup, "test")))
    assert 'class="outcome outcome-rejected"' in failed.content.decode()  # the wrong password, diagnosed
    look(customer.get(url(setup, "credentials")))
    customer.post(
        url(setup, "credentials"), {"username": USERNAME, "password": PASSWORD, "api_key": REST_KEY}
    )
    customer.post(url(setup, "test"), {"phone": MOBILE, "attempt_token": send_token(customer, setup)})
    look(customer.get(url(setup, "test")))
    customer.post(f"/s/{setup.token}/test/confirm/", {"arrived": "yes"})
    look(customer.get(url(setup, "instructions")))
    download = customer.get(f"/s/{setup.token}/instructions.md").content.decode()
    pages.append(download)

    for page in pages:
        met = sorted(sentence for sentence in english if sentence in page)
        assert met == [], met
    assert all(f'<html lang="{language}">' in page for page in pages[:-1])


# --- error pages ---------------------------------------------------------------------------------------


def test_error_pages_speak_the_customers_language(client):
    missing = client.get("/s/no-such-link/test/", headers={"accept-language": "fr"})
    assert missing.status_code == 404 and lang_of(missing) == "fr"
    assert "Nous ne trouvons pas cette page" in text(missing)

    strict = Client(enforce_csrf_checks=True, headers={"accept-language": "es"})
    refused = strict.post("/", {"platform": "novu"})
    assert refused.status_code == 403 and lang_of(refused) == "es"
    assert "No se pudo enviar su formulario" in text(refused)

    with translation.override("pt"):
        broken = server_error(RequestFactory().get("/"))
    assert broken.status_code == 500 and lang_of(broken) == "pt"
    assert "Algo deu errado do nosso lado" in text(broken)
    assert "o código de referência mostrado na sua página" in text(broken)  # no setup loaded yet

    on_a_setup = RequestFactory().get("/")
    on_a_setup.setup_reference = "7KQ2-M9XD"
    with translation.override("fr"):
        broken = server_error(on_a_setup)
    words = " ".join(re.sub(r"<[^>]+>", " ", text(broken)).split())
    assert "en indiquant ce code de référence : 7KQ2-M9XD" in words


# --- the catalog's own words ---------------------------------------------------------------------------


def test_every_platforms_texts_come_in_every_language():
    """What goes in a box that takes no credential, and why the workaround can't work, are our words:
    the catalog carries them in every language (the admin lists a platform whose texts lack one)."""
    assert {
        p.slug: p.untranslated_languages() for p in Platform.objects.all() if p.untranslated_languages()
    } == {}


def test_the_catalogs_texts_show_in_the_setups_language(client):
    domoticz = Platform.objects.get(slug="domoticz")
    setup = Setup.objects.create(
        platform=domoticz,
        signature=domoticz.signature,
        app_fields="api_key" if domoticz.signature_enum.portal_native else "api_id",
        username=USERNAME,
        api_key_hint="Ab==",
        credentials_saved_at=timezone.now(),
        language="fr",
    )
    page = text(client.get(url(setup, "instructions")))
    assert "expéditeur (facultatif)" in page and "optional sender" not in page
    playsms = Platform.objects.get(slug="playsms")
    blocked = Setup.objects.create(platform=playsms, language="es")
    page = text(client.get(url(blocked, "fields")))
    assert "La casilla API ID admite como máximo 20 caracteres" in page and "maxlength=20" not in page


def test_the_admin_lists_a_platform_whose_texts_lack_a_language(client, django_user_model):
    user = django_user_model.objects.create_superuser("editor", "editor@example.com", "pw-for-tests-only")
    sign_in_verified(client, user)
    playsms = Platform.objects.get(slug="playsms")
    playsms.translations = {k: v for k, v in playsms.translations.items() if k != "pt"}
    playsms.save()
    row = re.search(r"<tr>.*?playSMS.*?</tr>", text(client.get("/admin/catalog/platform/?q=playsms")), re.S)
    assert "Português" in row.group(0)


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_limits_refusals_meet_no_english_sentence_we_wrote(language, sandbox, settings):
    settings.PORTAL_SEND_LIMITS = {**settings.PORTAL_SEND_LIMITS, "setup": "1/3600"}
    settings.PORTAL_AUTH_FAILURE_LIMITS = {**settings.PORTAL_AUTH_FAILURE_LIMITS, "setup": "1/900"}
    settings.PORTAL_LIMIT_NEW_SETUPS_PER_IP = "2/3600"
    customer = Client(headers={"accept-language": language})
    english = english_sentences(language)
    refusals = []

    first = customer.post("/", {"platform": "novu"})
    setup = Setup.objects.get(token=re.search(r"/s/([^/]+)/", first["Location"]).group(1))
    customer.post(url(setup, "fields"), {"confirm": "yes"})
    customer.post(url(setup, "credentials"), {"api_key": REST_KEY})
    customer.post(url(setup, "test"), {"phone": MOBILE, "attempt_token": send_token(customer, setup)})
    refusals.append(
        customer.post(url(setup, "test"), {"phone": MOBILE, "attempt_token": send_token(customer, setup)})
    )

    second = customer.post("/", {"platform": "zabbix-sms-client"})
    locked = Setup.objects.get(token=re.search(r"/s/([^/]+)/", second["Location"]).group(1))
    customer.post(url(locked, "fields"), {"confirm": "yes"})
    customer.post(
        url(locked, "credentials"), {"username": USERNAME, "password": "wrong", "api_key": REST_KEY}
    )
    customer.post(url(locked, "test"), {"phone": MOBILE, "attempt_token": send_token(customer, locked)})
    refusals.append(
        customer.post(
            url(locked, "test"), {"phone": "+27831234567", "attempt_token": send_token(customer, locked)}
        )
    )

    refusals.append(customer.post("/", {"platform": "novu"}))  # a third setup from the same network
    for refused in refusals:
        assert refused.status_code == 429 and lang_of(refused) == language
        assert sorted(sentence for sentence in english if sentence in text(refused)) == []
    # How long to wait, in words of the language (the number depends on the counters' time buckets).
    with translation.override(language):
        wait, pause = (
            re.escape(translation.ngettext(singular, plural, 99)).replace(re.escape("%(count)d"), r"\d+")
            for singular, plural in [
                ("in about %(count)d minute", "in about %(count)d minutes"),
                ("for about %(count)d minute", "for about %(count)d minutes"),
            ]
        )
    assert re.search(wait, text(refusals[0])) and re.search(pause, text(refusals[1]))
    assert re.search(wait, text(refusals[2]))


def test_the_admin_previews_a_template_with_sample_values_in_its_language(client, django_user_model):
    user = django_user_model.objects.create_superuser("editor", "editor@example.com", "pw-for-tests-only")
    sign_in_verified(client, user)
    french = InstructionTemplate.objects.get(platform__slug="novu", language="fr")
    preview = client.get(f"/admin/catalog/instructiontemplate/{french.pk}/preview/")
    assert lang_of(preview) == "en"  # the admin's own words stay English
    assert "collez votre API Key (qui se termine par …Xy==)" in text(preview)


# --- snippets and hand-on links in the setup's language ------------------------------------------------


@pytest.mark.parametrize("language", TRANSLATED)
def test_snippets_and_hand_on_links_meet_no_english_sentence_we_wrote(
    language, sandbox, mailoutbox, settings
):
    """The snippets' page, a hand-on link made, e-mailed (a wrong address, a spent budget) and revoked, the
    e-mail itself and the colleague's page: all in the setup's language, even for a colleague whose browser
    asks for English. The snippets themselves are the app's syntax, the same in every language."""
    settings.PORTAL_HAND_ON_EMAIL_LIMITS = {"setup": "1/86400", "ip": "20/86400"}
    customer = Client(headers={"accept-language": language})
    english = english_sentences(language)
    setup = walk_to_test(
        customer, "sachet", {"username": USERNAME, "password": PASSWORD, "api_key": REST_KEY}
    )
    assert setup.language == language
    send_test_sms(customer, setup)
    customer.post(f"/s/{setup.token}/test/confirm/", {"arrived": "yes"})
    instructions = url(setup, "instructions")
    pages = [customer.get(instructions)]
    assert 'data-slot="password">YOUR_ACCOUNT_PASSWORD<' in text(pages[0])  # the snippet as the app reads it
    pages.append(customer.post(instructions + "hand-on/", follow=True))
    link = setup.hand_on_links.get()
    email = instructions + f"hand-on/{link.pk}/email/"
    pages.append(customer.post(email, {"email": "colleague at example"}))  # a wrong address
    assert pages[-1].status_code == 400
    pages.append(customer.post(email, {"email": "colleague@example.com"}, follow=True))
    pages.append(customer.post(email, {"email": "other@example.com"}))  # the setup's budget is spent
    assert pages[-1].status_code == 429
    colleague = Client(headers={"accept-language": "en"})
    opened = colleague.get(f"/h/{link.token}/")
    assert opened.status_code == 200 and lang_of(opened) == language
    assert 'data-slot="api_key">YOUR_API_KEY<' in text(opened)
    pages.append(opened)
    pages.append(customer.post(instructions + f"hand-on/{link.pk}/revoke/", follow=True))
    revoked = colleague.get(f"/h/{link.token}/")
    assert revoked.status_code == 410 and lang_of(revoked) == language
    pages.append(revoked)
    for page in pages:
        assert lang_of(page) == language
        assert sorted(sentence for sentence in english if sentence in text(page)) == []
    [message] = mailoutbox
    assert f"http://testserver/h/{link.token}/" in message.body
    assert [s for s in english if s in message.subject or s in message.body] == []
    with translation.override(language):
        month = formats.date_format(link.expires_at, "M")  # the link's end, its month in the language
    assert f" {month} " in message.body and PASSWORD not in message.body and REST_KEY not in message.body
    download = customer.get(f"/s/{setup.token}/instructions.md").content.decode()
    assert "YOUR_ACCOUNT_PASSWORD" in download
    assert [s for s in english if s in download] == []
