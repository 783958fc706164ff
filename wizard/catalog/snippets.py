"""Staff-written configuration snippets: an app's own file, URL, DSN or command line, ready to paste.

A snippet is plain text in the app's own syntax with three placeholders: ``{{ username }}``,
``{{ password }}`` and ``{{ api_key }}``. Its format decides how a value is written where a placeholder
stands (percent-encoding in a URL, a quoted scalar in YAML, a quoted word on a command line…), so any
password or key comes back exactly when the app reads the file. The page fills in the username; the
password and the API Key are filled in by the customer's own browser (static/wizard/snippets.js, whose
encoders are these ones written again) and never reach the server.

Each format also says where a placeholder may stand: only where its encoding makes a complete value
(see ``validate``). A placeholder inside quotes, in a comment, or in the middle of a YAML or dotenv value
could not be escaped, so staff cannot publish one.
"""

import json
import re
from dataclasses import dataclass
from urllib.parse import quote

from .instructions import PLACEHOLDER, PLACEHOLDER_NAME

SLOTS = {
    "username": "The customer's Account username (filled in by the page)",
    "password": "The Account Password (filled in only in the customer's browser)",
    "api_key": "The Portal API Key (filled in only in the customer's browser)",
}
# What the page shows in place of a secret until the customer's browser fills it in.
SHOWN_AS = {"password": "YOUR_ACCOUNT_PASSWORD", "api_key": "YOUR_API_KEY"}

FORMATS = {
    "url": "URL: values are percent-encoded",
    "dsn": "DSN (Symfony style): values are percent-encoded",
    "yaml": "YAML: values become double-quoted scalars",
    "shell": "Command line: values become single-quoted shell words",
    "php": "PHP: values become single-quoted PHP strings",
    "dotenv": "dotenv (.env): values become double-quoted",
    "json": "JSON: values become JSON strings",
    "python": "Python: values become string literals",
    "properties": "Java .properties: values are backslash-escaped",
    "text": "Plain text: no placeholders (for a file the customer copies as it is)",
}


class SnippetError(ValueError):
    pass


# --- encoding: what a value becomes where a placeholder stands -----------------------------------------


def _single_quoted_with_backslashes(value: str) -> str:
    """PHP's single quotes: a backslash and a quote are each escaped with a backslash."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _dotenv(value: str) -> str:
    """dotenv's double quotes, as PHP's phpdotenv (Laravel) reads them: a backslash, a
    double quote and a dollar are escaped with a backslash (an unescaped "${NAME}" would be read as a
    variable). Single quotes would not do: phpdotenv has no escape in them, so a value could hold neither
    a quote nor a backslash there."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$") + '"'


def _shell_word(value: str) -> str:
    return "'" + value.replace("'", "'\"'\"'") + "'"


def _nagios_shell_word(value: str) -> str:
    """A shell word in a Nagios object definition: Nagios reads the line before the shell does, taking "$"
    as a macro (a literal one is "$$") and ";" as a comment (a literal one is "\\;"), quotes or not."""
    return _shell_word(value).replace("$", "$$").replace(";", "\\;")


def _properties(value: str) -> str:
    """Java .properties: backslash escapes for what the loader would read differently, \\uXXXX for
    anything outside printable ASCII (Properties.load reads ISO-8859-1)."""
    named = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\f": "\\f"}
    written = []
    for char in value:
        if char in named:
            written.append(named[char])
        elif char in " =:#!":
            written.append("\\" + char)
        elif " " < char < "\x7f":
            written.append(char)
        else:
            units = char.encode("utf-16-be")
            written.extend(f"\\u{units[i]:02x}{units[i + 1]:02x}" for i in range(0, len(units), 2))
    return "".join(written)


ENCODERS = {
    # Everything but letters, digits and - . _ ~ is percent-encoded, as JavaScript's encodeURIComponent
    # does once ! ' ( ) * are added: the same bytes from the page and from the browser.
    "url": lambda value: quote(value, safe="~"),
    "dsn": lambda value: quote(value, safe="~"),
    # A JSON string is a YAML double-quoted scalar, a Python string literal and a JSON value.
    "yaml": lambda value: json.dumps(value, ensure_ascii=False),
    "json": lambda value: json.dumps(value, ensure_ascii=False),
    "python": lambda value: json.dumps(value, ensure_ascii=False),
    "shell": _shell_word,
    # Not a format staff choose: a shell snippet that is a Nagios object definition is written this way.
    "nagios": _nagios_shell_word,
    "php": _single_quoted_with_backslashes,
    "dotenv": _dotenv,
    "properties": _properties,
    "text": lambda value: value,
}


def encode(format: str, value: str) -> str:
    return ENCODERS[format](value)


# --- where a placeholder may stand ---------------------------------------------------------------------


def _inside_quotes(before: str, quotes: str) -> bool:
    """Whether text ending here is inside a quoted string opened earlier on the line."""
    open_quote = ""
    escaped = False
    for char in before:
        if escaped:
            escaped = False
        elif char == "\\" and open_quote != "'":
            escaped = True
        elif open_quote:
            if char == open_quote:
                open_quote = ""
        elif char in quotes:
            open_quote = char
    return bool(open_quote)


_WHOLE_VALUE = {
    # key: {{ x }}   or   - {{ x }}   (a YAML scalar of its own, nothing after it)
    "yaml": re.compile(r"^\s*(-\s+)?([A-Za-z0-9_.-]+:\s+)?$"),
    # KEY={{ x }}
    "dotenv": re.compile(r"^\s*(export\s+)?[A-Za-z_][A-Za-z0-9_.]*=$"),
    # key={{ x }}   or   key: {{ x }}
    "properties": re.compile(r"^\s*[^#!\s][^=:\s]*\s*[=:]\s*$"),
}
_EXPRESSION_BEFORE = {
    "json": re.compile(r"[:\[,]\s*$|^\s*$"),
    "python": re.compile(r"[:\[,(=]\s*$|^\s*$"),
    "php": re.compile(r"([\[,(=]|=>)\s*$|^\s*$"),
}
_EXPRESSION_AFTER = re.compile(r"^\s*([,\]})]|;|$)")
_COMMENT = {"python": "#", "php": "//", "shell": " #", "yaml": "#"}


# A Nagios macro ("$CONTACTPAGER$") or Nagios's "$$" (a "$" given to the shell).
_NAGIOS_DOLLARS = re.compile(r"\$[A-Za-z0-9_:]*\$")
# The backslashes and dollars that end a text: what decides how the shell reads a quote after it.
_ESCAPES_AT_END = re.compile(r"[\\$]*$")


def _shell_word_start_problem(before: str, nagios: bool) -> str:
    """Why the shell would not read the quote a value starts with as the start of a quoted string, with
    the text before it on its line; "" if it would."""
    if nagios:
        # The shell reads the line once Nagios has put its macros in: "$$" is a "$", a macro its value.
        before = _NAGIOS_DOLLARS.sub(lambda m: "$" if m.group(0) == "$$" else "macro", before)
    ending = _ESCAPES_AT_END.search(before).group(0)
    position = 0
    while position < len(ending):
        if ending[position] == "\\" and position == len(ending) - 1:
            return (
                "a backslash right before it would make the shell read the quote the value starts with as "
                "a plain character, so the value would not come back whole: remove the backslash"
            )
        if ending[position] == "$" and position == len(ending) - 1:
            return (
                "a “$” right before it would make bash read the value as $'…', where backslashes are "
                "escapes, so the value would not come back whole: remove the “$”"
            )
        # "\x" is an escaped character and "$$" the shell's process id: neither touches what follows.
        position += 2 if ending[position] == "\\" or ending.startswith("$$", position) else 1
    return ""


def _placement_problem(format: str, before: str, after: str, nagios: bool = False) -> str:
    """Why a placeholder cannot stand here, with the text before and after it on its line; "" if it can.
    ``nagios``: the snippet is a shell snippet Nagios reads first (``written_as``)."""
    if format == "text":
        return "a plain-text snippet has no placeholders: choose the format of the app's file"
    if format in ("url", "dsn"):
        scheme = re.search(r"[A-Za-z][A-Za-z0-9+.-]*://\S*$", before)
        if not scheme or "#" in scheme.group(0):
            return "it must stand inside a URL (after its “scheme://”, with no space before it)"
        return ""
    comment = _COMMENT.get(format)
    if comment and comment in (" " + before if format == "shell" else before):
        return "it is inside a comment"
    if format in _WHOLE_VALUE:
        if not _WHOLE_VALUE[format].match(before) or after.strip() and not after.lstrip().startswith("#"):
            return "it must be the whole value on its line (nothing else before or after it, no quotes)"
        # A .properties value runs to the end of its line: there are no comments after it, and Java keeps
        # trailing spaces, so the app would read either as the end of the password or key.
        if format == "properties" and after:
            return (
                "it must end its line: a .properties value runs to the end of the line, so the app would "
                "read anything after it (a “# comment”, even spaces) as part of the value"
            )
        # Symfony's Dotenv reads a "#" right after a quoted value as part of the value, and YAML takes a
        # "#" for a comment only after a space.
        if after.strip() and not after[:1].isspace():
            return "a comment after it needs a space before its “#”, or the app reads it as part of the value"
        return ""
    quotes = "'\"" if format != "json" else '"'
    if _inside_quotes(before, quotes):
        return "it is inside quotes: the format adds its own quotes, so write it without them"
    if format == "shell":
        return _shell_word_start_problem(before, nagios)
    if format in _EXPRESSION_BEFORE and not (
        _EXPRESSION_BEFORE[format].search(before) and _EXPRESSION_AFTER.match(after)
    ):
        return "it must stand where a value goes (after “:”, “=”, “(” or “,”), on its own"
    return ""


def validate(body: str, format: str) -> list[str]:
    """Every problem with a snippet, in words for the staff member who wrote it; [] means valid."""
    if format not in FORMATS:
        return [f"Unknown format “{format}”. Choose one of: {', '.join(FORMATS)}."]
    problems = []
    nagios = written_as(body, format) == "nagios"
    for number, line in enumerate(body.splitlines(), 1):
        for match in PLACEHOLDER.finditer(line):
            name = PLACEHOLDER_NAME.match(match.group(1))
            if not name or name.group(1) not in SLOTS:
                problems.append(
                    f"Line {number}: “{match.group(0)}” is not a placeholder. Allowed: "
                    + ", ".join(f"{{{{ {slot} }}}}" for slot in SLOTS)
                    + "."
                )
                continue
            # Other placeholders on the line count as the values they become.
            before = PLACEHOLDER.sub("value", line[: match.start()])
            after = PLACEHOLDER.sub("value", line[match.end() :])
            problem = _placement_problem(format, before, after, nagios)
            if problem:
                problems.append(f"Line {number}: “{match.group(0)}” cannot be escaped there: {problem}.")
        leftover = PLACEHOLDER.sub("", line)
        if "{{" in leftover or "}}" in leftover:
            problems.append(
                f"Line {number}: a placeholder is not closed: every “{{{{” needs a matching “}}}}”."
            )
    if not body.strip():
        problems.append("The snippet is empty.")
    return problems


# --- what the app reads before the format's own parser --------------------------------------------------

# A Nagios object definition ("define command{ … }"): Nagios reads its values before any shell does.
_NAGIOS_DEFINITION = re.compile(r"^\s*define\s+[a-z]+\s*\{", re.MULTILINE)


def written_as(body: str, format: str) -> str:
    """How the snippet's values are written: as its format writes them, except that a shell snippet that
    is a Nagios object definition (Nagios's commands.cfg) is escaped for Nagios too."""
    if format == "shell" and _NAGIOS_DEFINITION.search(body):
        return "nagios"
    return format


# --- rendering -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """A piece of a snippet: text as it is, or a secret's slot ("password", "api_key") the customer's
    browser fills in, shown meanwhile as ``text``."""

    text: str
    slot: str = ""


def parts(body: str, format: str, username: str) -> list[Part]:
    """The snippet with the username written in and each secret left as a slot. Raises SnippetError for
    a snippet that fails validation."""
    problems = validate(body, format)
    if problems:
        raise SnippetError("; ".join(problems))
    pieces: list[Part] = []
    position = 0
    for match in PLACEHOLDER.finditer(body):
        name = match.group(1).strip()
        text = body[position : match.start()]
        if name == "username":
            text += encode(written_as(body, format), username)
        pieces.append(Part(text))
        if name != "username":
            pieces.append(Part(SHOWN_AS[name], slot=name))
        position = match.end()
    pieces.append(Part(body[position:]))
    return [piece for piece in pieces if piece.text or piece.slot]


def filled(body: str, format: str, values: dict[str, str]) -> str:
    """The snippet with every placeholder written as its format writes it (the staff preview's sample
    values; the tests' round trips)."""
    encoding = written_as(body, format)
    return "".join(
        piece.text if not piece.slot else encode(encoding, values[piece.slot])
        for piece in parts(body, format, values["username"])
    )


def sample_values() -> dict[str, str]:
    """What a preview shows: a password and a key with the characters that break careless quoting."""
    return {"username": "jane.smith", "password": "p&ss w#rd+%'\"\\", "api_key": "SampleKeyAbC/dEf+Gh=="}
