"""Each snippet format's real parser, for the round trips: what the app would read from the text.

The parsers are the formats' own (PyYAML, urllib.parse, shlex, jproperties, json, ast); PHP by PHP itself,
and .env files by the PHP libraries that read them in the apps concerned: Laravel's phpdotenv and
Symfony's Dotenv (Debian's php-cli, php-vlucas-phpdotenv and php-symfony-dotenv, which ./portal test
installs). Symfony's DSN is read from its .env line by Symfony's Dotenv, then by the DSN's documented
rules (parse_url, then urldecode of each part), which urllib.parse.urlsplit and unquote_plus follow.
Nagios's command lines are run by Nagios 4 itself (Debian's nagios4-core), which reads them first.
"""

import ast
import getpass
import grp
import io
import json
import os
import pwd
import re
import shlex
import subprocess
import tempfile
import time
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


# Nagios 4 itself, as Debian's nagios4-core installs it: each command line runs as a service check whose
# program is replaced by this recorder, which writes the arguments it was given (NUL-separated).
_RECORDER = """#!/bin/sh
for a in "$@"; do printf '%s\\0' "$a"; done > "$0.tmp" && mv "$0.tmp" "$0.out"
"""
_NAGIOS_CFG = """log_file={folder}/nagios.log
cfg_file={folder}/objects.cfg
object_cache_file={folder}/objects.cache
precached_object_file={folder}/objects.precache
status_file={folder}/status.dat
temp_file={folder}/nagios.tmp
temp_path={folder}
lock_file={folder}/nagios.lock
check_result_path={folder}/results
nagios_user={user}
nagios_group={group}
interval_length=1
service_inter_check_delay_method=n
host_inter_check_delay_method=n
max_concurrent_checks=0
retain_state_information=0
use_retained_scheduling_info=0
check_external_commands=0
enable_notifications=0
"""
_NAGIOS_OBJECTS = """define timeperiod{
    timeperiod_name always
    alias always
    sunday 00:00-24:00
    monday 00:00-24:00
    tuesday 00:00-24:00
    wednesday 00:00-24:00
    thursday 00:00-24:00
    friday 00:00-24:00
    saturday 00:00-24:00
}
define contact{
    contact_name nobody
    host_notifications_enabled 0
    service_notifications_enabled 0
    host_notification_period always
    service_notification_period always
    host_notification_options n
    service_notification_options n
    host_notification_commands case-0
    service_notification_commands case-0
}
define host{
    host_name localhost
    address 127.0.0.1
    check_command case-0
    check_interval 3600
    max_check_attempts 1
    check_period always
    notification_period always
    contacts nobody
}
"""
_NAGIOS_CASE = """define command{{
    command_name case-{n}
    command_line {command_line}
}}
define service{{
    host_name localhost
    service_description case-{n}
    check_command case-{n}
    check_interval 3600
    retry_interval 3600
    notification_interval 0
    max_check_attempts 1
    check_period always
    notification_period always
    contacts nobody
}}
"""
_COMMAND_LINE = re.compile(r"^\s*command_line\s+(\S+)(.*)$", re.MULTILINE)


def _nagios_many(texts: list[str]) -> list[list[list[str]]]:
    """Each text's command lines as Nagios 4 runs them: the arguments each program is given. One Nagios
    runs them all, a service check per command line, and is stopped once every one has run."""
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "results").mkdir()
        recorder = folder / "recorder"
        recorder.write_text(_RECORDER)
        recorder.chmod(0o755)
        # case-0 is the host's check and the contact's notification command, which Nagios asks for.
        (folder / "case-0").symlink_to(recorder)
        objects, outputs = [_NAGIOS_OBJECTS, _NAGIOS_CASE.format(n=0, command_line=folder / "case-0")], []
        for text in texts:
            outputs.append([])
            for match in _COMMAND_LINE.finditer(text):
                case = folder / f"case-{len(objects)}"
                case.symlink_to(recorder)
                objects.append(_NAGIOS_CASE.format(n=len(objects), command_line=f"{case}{match.group(2)}"))
                outputs[-1].append(case.with_suffix(".out"))
        (folder / "objects.cfg").write_text("".join(objects))
        # Nagios will not run as root: as root, it runs as the nagios user Debian's package creates.
        user, group = (
            ("nagios", "nagios")
            if os.geteuid() == 0
            else (getpass.getuser(), grp.getgrgid(os.getgid()).gr_name)
        )
        (folder / "nagios.cfg").write_text(_NAGIOS_CFG.format(folder=folder, user=user, group=group))
        if os.geteuid() == 0:
            for path in [folder, *folder.rglob("*")]:
                os.chown(path, pwd.getpwnam(user).pw_uid, grp.getgrnam(group).gr_gid, follow_symlinks=False)
        nagios = subprocess.Popen(
            ["/usr/sbin/nagios4", str(folder / "nagios.cfg")],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            waiting = [out for outs in outputs for out in outs]
            deadline = time.monotonic() + 60
            while any(not out.exists() for out in waiting):
                if nagios.poll() is not None:
                    raise RuntimeError(f"Nagios stopped: {nagios.stdout.read().decode()}")
                if time.monotonic() > deadline:
                    raise TimeoutError("Nagios did not run every command line within 60 s")
                time.sleep(0.05)
        finally:
            nagios.terminate()
            nagios.communicate(timeout=30)
        return [[out.read_text().split("\0")[:-1] for out in outs] for outs in outputs]


PARSERS = {
    "url": _url,
    "dsn": _dsn,
    "yaml": yaml.safe_load,
    "json": json.loads,
    "python": _python,
    "shell": lambda text: [shlex.split(line) for line in text.splitlines()],
    "nagios": lambda text: _nagios_many([text])[0],
    "php": _php,
    "dotenv": _dotenv,
    "properties": _properties,
    "text": lambda text: text,
}


def parse(format: str, text: str):
    return PARSERS[format](text)


def parse_many(format: str, texts: list[str]) -> list:
    """Each text as ``parse`` reads it; Nagios reads them all in one run."""
    if format == "nagios":
        return _nagios_many(texts)
    return [parse(format, text) for text in texts]


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


def assert_round_trips(format: str, text_with_sentinels: str, cases: list[tuple[str, dict]]) -> None:
    """Each text written with real values reads back as the text written with the sentinels does, each
    sentinel being exactly its value: every value came back whole, in its place."""
    with_sentinels, *read = parse_many(format, [text_with_sentinels] + [text for text, _ in cases])
    for (text, values), parsed in zip(cases, read, strict=True):
        expected = with_sentinels
        for slot, sentinel in SENTINELS.items():
            expected = replaced(expected, sentinel, values[slot])
        assert parsed == expected, text


def assert_round_trip(format: str, text_with_sentinels: str, text_with_values: str, values: dict) -> None:
    assert_round_trips(format, text_with_sentinels, [(text_with_values, values)])
