"""Each snippet format's real parser, for the round trips: what the app would read from the text.

The parsers are the formats' own (PyYAML, urllib.parse, shlex, jproperties, json, ast); PHP by PHP itself,
and .env files by the PHP libraries that read them in the apps concerned: Laravel's phpdotenv and
Symfony's Dotenv (Debian's php-cli, php-vlucas-phpdotenv and php-symfony-dotenv, which ./portal test
installs). Symfony's DSN is read from its .env line by Symfony's Dotenv, then by the DSN's documented
rules (parse_url, then urldecode of each part), which urllib.parse.urlsplit and unquote_plus follow.
"""

import ast
import io
import json
import shlex
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import parse_qsl, unquote, unquote_plus, urlsplit

import yaml
from jproperties import Properties


def _url(text: str, decode=unquote) -> list:
    parsed = []
    for line in text.splitlines():
        if "://" not in line:
            continue
        parts = urlsplit(line.strip())
        userinfo, _, host = parts.netloc.rpartition("@")
        user, _, password = userinfo.partition(":")
        parsed.append(
            {
                "scheme": parts.scheme,
                "user": decode(user),
                "password": decode(password),
                "host": decode(host),
                "path": [decode(segment) for segment in parts.path.split("/")],
                "query": parse_qsl(parts.query, keep_blank_values=True),
            }
        )
    return parsed


# Reads a .env file as Laravel does (phpdotenv, immutable, with the process's environment, so "${NAME}"
# resolves), or as Symfony's Dotenv parses it; prints the values as JSON.
_DOTENV_READ = {
    "phpdotenv": "require '/usr/share/php/Dotenv/autoload.php';"
    " echo json_encode(Dotenv\\Dotenv::createImmutable($argv[1])->load());",
    "symfony": "require '/usr/share/php/Symfony/Component/Dotenv/autoload.php';"
    " echo json_encode((new Symfony\\Component\\Dotenv\\Dotenv())->parse(file_get_contents($argv[1] . '/.env')));",
}


def _dotenv(text: str, reader: str = "phpdotenv") -> dict:
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / ".env").write_text(text, encoding="utf-8")
        ran = subprocess.run(["php", "-r", _DOTENV_READ[reader], folder], capture_output=True, text=True)
    if ran.returncode:
        raise ValueError(f"{reader} refused the file: {ran.stdout}{ran.stderr}")
    return json.loads(ran.stdout)


def _dsn(text: str) -> list:
    # The DSN sits in a .env line: Symfony's Dotenv reads the line, then Symfony's Dsn reads the value.
    values = _dotenv(text, reader="symfony")
    return [_url(value, decode=unquote_plus) for value in values.values()]


# Runs the file and prints the constants and variables it defined (only those), as JSON.
_PHP_DUMP = (
    "$before = get_defined_vars(); include $argv[1];"
    " $vars = array_diff_key(get_defined_vars(), $before, ['before' => 0]);"
    " echo json_encode(['constants' => get_defined_constants(true)['user'] ?? [], 'vars' => $vars]);"
)


def _php(text: str) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".php", encoding="utf-8") as file:
        file.write(text)
        file.flush()
        ran = subprocess.run(["php", "-r", _PHP_DUMP, file.name], capture_output=True, text=True, check=True)
    return json.loads(ran.stdout)


def _python(text: str) -> list:
    module = ast.parse(text)
    return [ast.literal_eval(node.value) for node in module.body if isinstance(node, ast.Assign)]


def _properties(text: str) -> dict:
    properties = Properties()
    properties.load(io.BytesIO(text.encode("iso-8859-1")), "iso-8859-1")
    return {key: properties[key].data for key in properties}


PARSERS = {
    "url": _url,
    "dsn": _dsn,
    "yaml": yaml.safe_load,
    "json": json.loads,
    "python": _python,
    "shell": lambda text: [shlex.split(line) for line in text.splitlines()],
    "php": _php,
    "dotenv": _dotenv,
    "properties": _properties,
    "text": lambda text: text,
}


def parse(format: str, text: str):
    return PARSERS[format](text)


def replaced(parsed, old: str, new: str):
    """The parsed structure with ``old`` replaced by ``new`` in every string it holds."""
    if isinstance(parsed, str):
        return parsed.replace(old, new)
    if isinstance(parsed, dict):
        return {replaced(k, old, new): replaced(v, old, new) for k, v in parsed.items()}
    if isinstance(parsed, list | tuple):
        return type(parsed)(replaced(item, old, new) for item in parsed)
    return parsed


def strings(parsed) -> list[str]:
    if isinstance(parsed, str):
        return [parsed]
    if isinstance(parsed, dict):
        return [s for k, v in parsed.items() for s in strings(k) + strings(v)]
    if isinstance(parsed, list | tuple):
        return [s for item in parsed for s in strings(item)]
    return []


# Values that stand for the customer's while the structure is read: plain letters every format writes
# as they are (inside its quotes).
SENTINELS = {"username": "SentinelUser", "password": "SentinelPassword", "api_key": "SentinelApiKey"}


def assert_round_trip(format: str, text_with_sentinels: str, text_with_values: str, values: dict) -> None:
    """The text written with the real values reads back as the text written with the sentinels does,
    each sentinel being exactly its value: every value came back whole, in its place."""
    expected = parse(format, text_with_sentinels)
    for slot, sentinel in SENTINELS.items():
        expected = replaced(expected, sentinel, values[slot])
    assert parse(format, text_with_values) == expected
