"""Snippets: every app set up in a file, URL, DSN or command line has one in its own syntax, and every
password and key written into it comes back exactly when the format's real parser reads it."""

import json
import re
import subprocess
from html import unescape
from operator import itemgetter

import pytest

from wizard.catalog import snippets
from wizard.catalog.admin import SnippetForm
from wizard.catalog.loader import DATA_FILE, load_catalog
from wizard.catalog.models import Platform, Snippet
from wizard.catalog.templates import publish, published_snippets

from .journeys import passed_setup
from .snippet_parsers import SENTINELS, assert_round_trip, assert_round_trips, parse, strings
from .snippet_parsers import _dotenv as read_dotenv

# Passwords and keys that break careless quoting: the characters URLs, YAML, shells, PHP and dotenv treat
# specially (dotenv's "${NAME}" among them), a leading and trailing space, letters outside ASCII; keys
# with = and / and +.
HOSTILE_PASSWORDS = [
    "p&ss w#rd+%'\"\\",
    "a'b\"c\\d e",
    " lead&trail ",
    "#!:=;,?@/[]{}",
    "ünï€ode ß",
    "%41%20+plus",
    "pa$$w${HOME}rd$",
]
HOSTILE_KEYS = ["AbC/dEf+Gh==", "x=y/z==", "Key0123456789abcdefAB=="]
USERNAMES = ["acme-ops", "jane o'brien", "user+1@example.com"]

SEEDED = [
    (entry["slug"], snippet)
    for entry in json.loads(DATA_FILE.read_text())
    for snippet in entry.get("snippets", [])
]

# The apps the catalog's data says are set up in a file, URL, DSN or command line.
CONFIGURED_OUTSIDE_BOXES = {
    "apprise",
    "home-assistant-clickatell",
    "multiotp-clickatell2",
    "multiotp-clickatell-legacy",
    "laravel-notification-channels-clickatell",
    "symfony-notifier-clickatell",
    "zabbix-sms-client",
    "nagios-notify-clickatell",
    "sachet",
    "ruby-clickatell-gem",
    "cyberpower-pdu",
    "smslib-smsserver",
    "rapidsms-rclickatell",
    "newfies-dialer",
}


def test_every_app_configured_outside_boxes_has_a_snippet_with_placeholders():
    with_placeholders = {slug for slug, snippet in SEEDED if snippets.PLACEHOLDER.search(snippet["body"])}
    assert with_placeholders == CONFIGURED_OUTSIDE_BOXES


@pytest.mark.parametrize(("slug", "snippet"), SEEDED, ids=[f"{s}:{n['title']}" for s, n in SEEDED])
def test_every_seeded_snippet_is_valid(slug, snippet):
    assert snippets.validate(snippet["body"], snippet["format"]) == []


def written(snippet: dict, values: dict) -> str:
    return snippets.filled(snippet["body"], snippet["format"], values)


@pytest.mark.parametrize(("slug", "snippet"), SEEDED, ids=[f"{s}:{n['title']}" for s, n in SEEDED])
def test_every_seeded_snippet_gives_back_hostile_values_through_its_parser(slug, snippet):
    # Read as the app reads it: a shell snippet that is a Nagios definition, by Nagios first.
    read_as = snippets.written_as(snippet["body"], snippet["format"])
    with_sentinels = written(snippet, SENTINELS)
    found = " ".join(strings(parse(read_as, with_sentinels)))
    for slot, sentinel in SENTINELS.items():
        # Each placeholder the snippet has must be read back where it stands (the test cannot pass empty).
        assert (sentinel in found) == (f"{{{{ {slot} }}}}" in snippet["body"]), slot
    cases = []
    for username in USERNAMES:
        for password in HOSTILE_PASSWORDS:
            for api_key in HOSTILE_KEYS:
                values = {"username": username, "password": password, "api_key": api_key}
                cases.append((written(snippet, values), values))
    assert_round_trips(read_as, with_sentinels, cases)


@pytest.mark.parametrize("format", [f for f in snippets.FORMATS if f != "text"])
def test_each_format_writes_any_value_its_parser_reads_back(format):
    body = {
        "url": "https://example.com/{{ username }}?p={{ password }}&k={{ api_key }}",
        "dsn": "DSN=scheme://{{ username }}:{{ password }}@default/{{ api_key }}",
        "yaml": "user: {{ username }}\nlist:\n  - {{ password }}\n  - key: {{ api_key }}",
        "json": '{"u": {{ username }}, "list": [{{ password }}, {{ api_key }}]}',
        "python": "A = {'u': {{ username }}, 'p': [{{ password }}, {{ api_key }}]}",
        "shell": "cmd -u {{ username }} --password={{ password }} {{ api_key }}",
        "php": "<?php\ndefine('A', {{ username }});\n$b = [{{ password }}, 'k' => {{ api_key }}];",
        # phpdotenv reads "export NAME=" only for names longer than one letter.
        "dotenv": "U={{ username }}\nexport PASS={{ password }}\nK={{ api_key }}",
        "properties": "u={{ username }}\np: {{ password }}\nk={{ api_key }}",
    }[format]
    assert snippets.validate(body, format) == []
    with_sentinels = snippets.filled(body, format, SENTINELS)
    for password in HOSTILE_PASSWORDS:
        for api_key in HOSTILE_KEYS:
            values = {"username": "o'brien & co", "password": password, "api_key": api_key}
            assert_round_trip(format, with_sentinels, snippets.filled(body, format, values), values)


@pytest.mark.parametrize(
    ("format", "body", "words"),
    [
        ("yaml", "password: '{{ password }}'", "must be the whole value"),
        ("yaml", "password: x # {{ password }}", "inside a comment"),
        ("yaml", "password: pre-{{ password }}", "must be the whole value"),
        ("dotenv", 'A="{{ password }}"', "must be the whole value"),
        ("dotenv", "# A={{ password }}", "must be the whole value"),
        ("shell", 'cmd -p "{{ password }}"', "inside quotes"),
        ("shell", "cmd # -p {{ password }}", "inside a comment"),
        ("php", "define('P', '{{ password }}');", "inside quotes"),
        ("php", "// define('P', {{ password }});", "inside a comment"),
        ("php", "define('P', 'x' . {{ password }});", "where a value goes"),
        ("json", '{"p": "{{ password }}"}', "inside quotes"),
        ("python", "P = '{{ password }}'", "inside quotes"),
        ("properties", "p=x{{ password }}", "must be the whole value"),
        ("properties", "p={{ password }} # Account password", "must end its line"),
        ("properties", "p={{ password }}  ", "must end its line"),
        ("dotenv", "P={{ password }}#Account password", "needs a space before its “#”"),
        ("yaml", "password: {{ password }}#Account password", "needs a space before its “#”"),
        ("shell", "cmd -p \\{{ password }}", "a backslash right before it"),
        ("shell", "cmd -p x\\\\\\{{ password }}", "a backslash right before it"),
        ("shell", "cmd -p ${{ password }}", "a “$” right before it"),
        ("shell", "cmd -p \\\\${{ password }}", "a “$” right before it"),
        ("shell", "cmd -p $$${{ password }}", "a “$” right before it"),
        ("shell", "define command{\n command_line x -p $${{ password }}\n}", "a “$” right before it"),
        ("url", "user {{ username }} at https://example.com", "inside a URL"),
        ("url", "https://example.com/#{{ api_key }}", "inside a URL"),
        ("text", "{{ api_key }}", "has no placeholders"),
        ("yaml", "password: {{ secret }}", "is not a placeholder"),
        ("yaml", "password: {{ password }", "not closed"),
        ("yaml", "   ", "empty"),
    ],
)
def test_a_placeholder_its_format_cannot_escape_is_refused(format, body, words):
    problems = snippets.validate(body, format)
    assert any(words in problem for problem in problems), problems


@pytest.mark.parametrize(
    ("format", "body"),
    [
        ("properties", "# Account password\np={{ password }}"),
        ("dotenv", "P={{ password }} # Account password"),
        ("shell", "cmd -p \\\\{{ password }}"),
        ("shell", "cmd -p \\${{ password }}"),
        ("shell", "cmd -p $${{ password }}"),
        ("shell", "cmd -p {{ password }}\\ x"),
        ("shell", "define command{\n command_line x -p $USER1${{ password }}\n}"),
    ],
)
def test_a_placeholder_next_to_text_that_leaves_its_value_whole_is_accepted(format, body):
    assert snippets.validate(body, format) == []


def bash_words(text: str) -> list[str]:
    """The words bash gives printf in a command line pasted into it."""
    ran = subprocess.run(["bash", "-c", text], capture_output=True, text=True, check=True)
    return ran.stdout.split("\0")[:-1]


def symfony_dotenv(text: str) -> dict:
    return read_dotenv(text, reader="symfony")


def properties(text: str) -> dict:
    return parse("properties", text)


@pytest.mark.parametrize(
    ("format", "read", "refused", "accepted", "password_of"),
    [
        # Java .properties has no comment after a value and keeps the spaces that end one.
        (
            "properties",
            properties,
            "p={{ password }} # Account password",
            "# Account password\np={{ password }}",
            itemgetter("p"),
        ),
        ("properties", properties, "p={{ password }}  ", "p={{ password }}", itemgetter("p")),
        # Symfony's Dotenv reads a "#" right after a quoted value as part of it.
        (
            "dotenv",
            symfony_dotenv,
            "P={{ password }}#Account password",
            "P={{ password }} # Account password",
            itemgetter("P"),
        ),
        # A backslash would escape the quote the value starts with; "$'…'" is bash's quoting with escapes.
        (
            "shell",
            bash_words,
            "printf '%s\\0' -p \\{{ password }}",
            "printf '%s\\0' -p {{ password }}",
            itemgetter(1),
        ),
        (
            "shell",
            bash_words,
            "printf '%s\\0' -p ${{ password }}",
            "printf '%s\\0' -p {{ password }}",
            itemgetter(1),
        ),
    ],
    ids=["properties-comment", "properties-spaces", "dotenv-comment", "shell-backslash", "shell-dollar"],
)
def test_the_app_reads_back_a_password_where_a_placeholder_is_accepted_and_not_where_it_is_refused(
    format, read, refused, accepted, password_of
):
    def read_password(body: str, password: str) -> str | None:
        # Written as the format writes a value, whether or not validation would let the snippet be saved.
        text = snippets.PLACEHOLDER.sub(lambda m: snippets.encode(format, password), body)
        try:
            return password_of(read(text))
        except (ValueError, subprocess.CalledProcessError):
            return None  # the app cannot read the file at all

    passwords = [*HOSTILE_PASSWORDS, "back\\slash\\t"]  # bash's $'…' reads "\t" as a tab
    assert snippets.validate(accepted, format) == []
    assert [read_password(accepted, password) for password in passwords] == passwords
    assert snippets.validate(refused, format), refused
    assert [read_password(refused, password) for password in passwords] != passwords


@pytest.mark.django_db
def test_staff_cannot_save_a_snippet_whose_placeholders_the_format_cannot_escape():
    load_catalog()
    platform = Platform.objects.get(slug="sachet")
    form = SnippetForm(
        {
            "platform": platform.pk,
            "title": "config.yml",
            "format": "yaml",
            "position": 0,
            "body": "password: '{{ password }}'",
        }
    )
    assert not form.is_valid()
    assert "the format adds" in str(form.errors["body"]) or "whole value" in str(form.errors["body"])
    form = SnippetForm(
        {
            "platform": platform.pk,
            "title": "config.yml",
            "format": "yaml",
            "position": 0,
            "body": "password: {{ password }}",
        }
    )
    assert form.is_valid(), form.errors


@pytest.mark.django_db
def test_the_loader_publishes_the_seeded_snippets_once_and_staff_versions_replace_them():
    load_catalog()
    load_catalog()
    platform = Platform.objects.get(slug="laravel-notification-channels-clickatell")
    shown = published_snippets(platform)
    assert [(s.title, s.format, s.version) for s in shown] == [
        (".env", "dotenv", 1),
        ("config/services.php", "text", 1),
    ]
    draft = Snippet.objects.create(
        platform=platform, title=".env", format="dotenv", version=2, body="CLICKATELL_PASS={{ password }}\n"
    )
    assert [s.version for s in published_snippets(platform)] == [1, 1]  # a draft shows nowhere
    publish(draft)
    shown = published_snippets(platform)
    assert [(s.title, s.version) for s in shown] == [(".env", 2), ("config/services.php", 1)]
    assert Snippet.objects.get(platform=platform, title=".env", version=1).status == Snippet.RETIRED


def test_the_page_shows_secrets_as_placeholders_and_writes_the_username_in():
    body = "user: {{ username }}\npassword: {{ password }}\napi_id: {{ api_key }}\n"
    parts = snippets.parts(body, "yaml", "jane o'brien")
    assert "".join(p.text for p in parts) == (
        'user: "jane o\'brien"\npassword: YOUR_ACCOUNT_PASSWORD\napi_id: YOUR_API_KEY\n'
    )
    assert [p.slot for p in parts if p.slot] == ["password", "api_key"]


# --- what Nagios reads before the shell ------------------------------------------------------------------

NAGIOS_DEFINITION = """define command{
    command_name    notify-by-sms
    command_line    /usr/local/bin/notify.pl -u {{ username }} -p {{ password }} -a {{ api_key }} -t $CONTACTPAGER$
}
"""


def test_only_a_shell_snippet_that_is_a_nagios_definition_is_written_for_nagios():
    assert {slug for slug, s in SEEDED if snippets.written_as(s["body"], s["format"]) == "nagios"} == {
        "nagios-notify-clickatell"
    }
    assert snippets.written_as(NAGIOS_DEFINITION, "shell") == "nagios"
    assert snippets.written_as("notify.pl -p {{ password }}  # as in a define command{ }", "shell") == "shell"
    assert snippets.written_as("# define host {\nx: {{ password }}", "yaml") == "yaml"


def test_nagios_reads_back_dollars_semicolons_and_backslashes_written_into_its_command_line():
    """Nagios takes "$" as a macro and ";" as a comment, inside quotes too, before the shell reads the line."""
    with_sentinels = snippets.filled(NAGIOS_DEFINITION, "shell", SENTINELS)
    cases = []
    for password in [*HOSTILE_PASSWORDS, "$$;;", "a\\;b", "x$HOSTNAME$y", "end\\", ";lead", "$"]:
        values = {"username": "ops$;1", "password": password, "api_key": "Ab;C/$d=="}
        text = snippets.filled(NAGIOS_DEFINITION, "shell", values)
        assert "'ops$$\\;1'" in text
        cases.append((text, values))
    assert_round_trips("nagios", with_sentinels, cases)


def instructions_page_of(client, slug: str, username: str) -> tuple[str, str]:
    """The instructions page and download of a setup whose test passed."""
    setup = passed_setup(slug, username)
    page = unescape(client.get(f"/s/{setup.token}/instructions/").content.decode())
    return page, client.get(f"/s/{setup.token}/instructions.md").content.decode()


@pytest.mark.django_db
def test_the_nagios_snippet_is_written_for_nagios_on_the_page_and_in_the_download(client):
    page, download = instructions_page_of(client, "nagios-notify-clickatell", "ops$;1")
    # The page's encoders (snippets.js) write the secrets the same way.
    [figure] = re.findall(r'<figure class="snippet".*?</figure>', page, re.DOTALL)
    assert 'data-format="nagios"' in figure
    assert "-u 'ops$$\\;1' -p " in figure and "-u 'ops$$\\;1' -p " in download
    page, download = instructions_page_of(client, "multiotp-clickatell-legacy", "ops$;1")  # a command line
    assert 'data-format="shell"' in page and "'ops$;1'" in page and "'ops$;1'" in download
