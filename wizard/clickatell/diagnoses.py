"""Every answer Clickatell can give a test send, in words a customer can act on.

Each diagnosis keeps the customer's text (title, cause, fix, where to go back to) apart from the
technical detail, which only support agents see. Codes come from Clickatell's documented tables:
the old gateway's ERR codes (also used by its REST API), the Portal's HTTP/REST errorCode values,
and the One API's error table.
"""

from dataclasses import dataclass, replace

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

# Wizard steps and fields a diagnosis can send the customer back to.
CREDENTIALS, FIELDS, TEST = "credentials", "fields", "test"
USERNAME, PASSWORD, API_KEY, PHONE = "username", "password", "api_key", "phone"
PORTAL_INTEGRATION = "portal_integration"


@dataclass(frozen=True)
class Diagnosis:
    key: str
    title: str
    cause: str
    fix: str
    step: str | None = None
    field: str | None = None
    retry_later: bool = False


def _d(key, title, cause, fix, step=None, field=None, retry_later=False) -> Diagnosis:
    return Diagnosis(key, title, cause, fix, step, field, retry_later)


_LOGIN_FIX = _(
    "Check that the Account username is your Portal username (not your e-mail address) and that the "
    "Account password is the one you sign in to the Portal with. In your app, the API ID box must "
    "hold your Portal API Key."
)
_PHONE_FIX = _(
    "Enter the number in international format: country code first, then the number without its "
    "leading 0 (for example +27 82 123 4567)."
)
_BALANCE_FIX = _("Top up your Clickatell account in the Portal (even test messages need a positive balance).")
_TRY_LATER = _("This is on Clickatell's side. Wait a few minutes and send the test again.")
_SUPPORT = _("Contact Clickatell support and mention the reference code shown on this page.")

# The old SMS Gateway's ERR codes (HTTP and REST). 108 is explained for the workaround path: the
# key was refused as an API ID, which means the account or key is not enabled for it, not a typo.
LEGACY = {
    "001": _d(
        "legacy:001",
        _("Clickatell did not accept your username or password"),
        _("Authentication failed: the Account username, Account password or API Key did not match."),
        _LOGIN_FIX,
        CREDENTIALS,
        USERNAME,
    ),
    "002": _d(
        "legacy:002",
        _("Clickatell does not know this username or password"),
        _("The username or password is not known to Clickatell."),
        _LOGIN_FIX,
        CREDENTIALS,
        USERNAME,
    ),
    "003": _d(
        "legacy:003",
        _("The session expired"),
        _("The app's login session with Clickatell timed out."),
        _("Send the test again; your app will log in afresh."),
        TEST,
    ),
    "004": _d(
        "legacy:004",
        _("Your Clickatell account is frozen"),
        _("Clickatell has frozen this account."),
        _SUPPORT,
    ),
    "005": _d(
        "legacy:005",
        _("The login session was missing"),
        _("The request had no session id."),
        _("Send the test again."),
        TEST,
    ),
    "007": _d(
        "legacy:007",
        _("Clickatell refused the request because of an IP restriction"),
        _("Your API integration only accepts requests from listed IP addresses."),
        _(
            "In the Portal, add the address of the server your app runs on to the integration's allowed "
            "IPs, or remove the restriction."
        ),
        None,
    ),
    "100": _d(
        "legacy:100",
        _("Clickatell could not read the request"),
        _("The request data was malformed."),
        _SUPPORT,
    ),
    "101": _d(
        "legacy:101",
        _("A required value was missing"),
        _("Clickatell reported invalid or missing parameters."),
        _("Check every box in the form, then send again."),
        CREDENTIALS,
    ),
    "102": _d(
        "legacy:102", _("Clickatell rejected the message header"), _("Invalid user data header."), _SUPPORT
    ),
    "103": _d(
        "legacy:103",
        _("Clickatell does not know that message"),
        _("Unknown API message ID."),
        _("Send a new test."),
        TEST,
    ),
    "104": _d(
        "legacy:104",
        _("Clickatell does not know that message"),
        _("Unknown client message ID."),
        _("Send a new test."),
        TEST,
    ),
    "105": _d(
        "legacy:105",
        _("The phone number was not accepted"),
        _("Invalid destination address."),
        _PHONE_FIX,
        TEST,
        PHONE,
    ),
    "106": _d(
        "legacy:106",
        _("The sender was not accepted"),
        _("Invalid source address (sender not registered)."),
        _("Leave the sender (From) empty in your app, or register the sender in the Portal."),
        None,
    ),
    "107": _d("legacy:107", _("The message was empty"), _("Empty message."), _("Send the test again."), TEST),
    "108": _d(
        "legacy:108",
        _("Your account or API Key is not enabled for this kind of app"),
        _(
            "Clickatell refused the API Key in the API ID box. That usually means the account or this "
            "API integration is not enabled for the old-style signature, not that you typed it wrong."
        ),
        _(
            "Check the key is copied in full (it ends with ==). If it is, ask Clickatell support to enable "
            "the old SMS Gateway signature for your Portal account, or use a version of your app that has "
            "an API Key box."
        ),
        CREDENTIALS,
        API_KEY,
    ),
    "109": _d(
        "legacy:109", _("The message id was missing"), _("Missing message ID."), _("Send a new test."), TEST
    ),
    "110": _d(
        "legacy:110", _("The e-mail message could not be read"), _("Error with email message."), _SUPPORT
    ),
    "111": _d("legacy:111", _("Clickatell rejected the protocol"), _("Invalid protocol."), _SUPPORT),
    "112": _d("legacy:112", _("Clickatell rejected the message type"), _("Invalid msg_type."), _SUPPORT),
    "113": _d("legacy:113", _("The message was too long"), _("Maximum message parts exceeded."), _SUPPORT),
    "114": _d(
        "legacy:114",
        _("Clickatell cannot deliver to that number"),
        _("Cannot route message to this prefix."),
        _("Try a mobile number in another country, or ask Clickatell to enable that destination."),
        TEST,
        PHONE,
    ),
    "115": _d(
        "legacy:115",
        _("The message expired before delivery"),
        _("Message expired."),
        _("Send a new test."),
        TEST,
        retry_later=True,
    ),
    "116": _d("legacy:116", _("Clickatell could not read the text"), _("Invalid Unicode data."), _SUPPORT),
    "120": _d(
        "legacy:120", _("Clickatell rejected the delivery time"), _("Invalid delivery time."), _SUPPORT
    ),
    "121": _d(
        "legacy:121",
        _("That number is blocked"),
        _("Destination mobile number blocked."),
        _("Use another mobile number for the test."),
        TEST,
        PHONE,
    ),
    "122": _d(
        "legacy:122",
        _("That number has opted out"),
        _("Destination mobile opted out."),
        _("Use another mobile number for the test."),
        TEST,
        PHONE,
    ),
    "123": _d(
        "legacy:123",
        _("The sender ID is not approved"),
        _("Invalid sender ID."),
        _("Leave the sender empty in your app, or register the sender ID in the Portal."),
        None,
    ),
    "128": _d(
        "legacy:128",
        _("That number was delisted"),
        _("Number delisted."),
        _("Use another mobile number."),
        TEST,
        PHONE,
    ),
    "130": _d(
        "legacy:130",
        _("Your account reached its message limit"),
        _("Maximum MT limit exceeded."),
        _("Wait until the limit resets, or ask Clickatell to raise it."),
        None,
        retry_later=True,
    ),
    "201": _d("legacy:201", _("Clickatell rejected the batch"), _("Invalid batch ID."), _SUPPORT),
    "202": _d("legacy:202", _("Clickatell rejected the batch"), _("No batch template."), _SUPPORT),
    "301": _d(
        "legacy:301", _("Your Clickatell account has no credit left"), _("No credit left."), _BALANCE_FIX
    ),
    "302": _d(
        "legacy:302",
        _("Your Clickatell account reached its credit limit"),
        _("Max allowed credit."),
        _BALANCE_FIX,
    ),
    "605": _d(
        "legacy:605",
        _("A token payment was reported"),
        _("Token pay successful (unexpected here)."),
        _SUPPORT,
    ),
    "606": _d("legacy:606", _("A token was rejected"), _("Invalid token."), _SUPPORT),
    "901": _d(
        "legacy:901",
        _("Clickatell had an internal error"),
        _("Internal error."),
        _TRY_LATER,
        TEST,
        retry_later=True,
    ),
}

_PORTAL_KEY_FIX = _(
    "Copy the API Key again from the Portal (My Workspace → API Integrations → select the API → API "
    "Details) and paste it in full, without spaces. Check the integration's type matches your app."
)
# Where the customer told the wizard the integration's type (an app not in the catalog, or one showing
# other boxes), a refused key may be that answer: the test went to the API the type names. The answer is
# given on the boxes step, and answering it again leads on to the credentials, so the fix starts there.
_CHOSEN_TYPE_KEY_FIX = _(
    "Check that the integration type you chose is the one the Portal shows for your integration (My "
    "Workspace → API Integrations). If it is, copy the API Key again from API Details and paste it in full, "
    "without spaces."
)

# The old REST API authenticates with a token; Clickatell's published workaround does not cover it.
LEGACY_REST = {
    "001": _d(
        "legacy_rest:001",
        _("Clickatell did not accept the API Key as your app's auth token"),
        _(
            "Your app uses the old REST API, which expects a Developer Central auth token. Clickatell's "
            "workaround for old apps does not cover auth tokens, and this account does not accept the "
            "Portal API Key in its place."
        ),
        _(
            "Upgrade the app to a version with an API Key box, or switch it to a Clickatell Portal "
            "provider if it offers one. Then start a new setup for that version."
        ),
        FIELDS,
    ),
}

# The Portal's HTTP and REST endpoints (errorCode; numbering follows the old table where it overlaps).
PLATFORM = {
    "108": _d(
        "platform:108",
        _("Clickatell did not accept the API Key"),
        _("The API Key is wrong, incomplete, or belongs to a different kind of API integration."),
        _PORTAL_KEY_FIX,
        CREDENTIALS,
        API_KEY,
    ),
    "607": _d(
        "platform:607",
        _("Your integration cannot send from a number"),
        _("A sender (From) number was given, but the Portal integration is one-way."),
        _("Leave the sender number empty in your app, or make the integration two-way in the Portal."),
        None,
    ),
    "105": LEGACY["105"],
    "114": LEGACY["114"],
    "121": LEGACY["121"],
    "122": LEGACY["122"],
    "130": LEGACY["130"],
    "301": LEGACY["301"],
    "901": LEGACY["901"],
    "sandbox": _d(
        "platform:sandbox",
        _("Your integration is in sandbox mode"),
        _("Sandbox integrations only send to the test phones registered in the Portal."),
        _(
            "Add and verify this number as a test phone in the Portal, or promote the integration to production."
        ),
        TEST,
        PHONE,
    ),
    "two_way": _d(
        "platform:two_way",
        _("The sender number does not belong to your integration"),
        _("The integration is two-way and needs one of its own numbers as sender."),
        _("In your app, set the sender to one of the integration's numbers shown in the Portal."),
        None,
    ),
}

# The One API's error table.
ONE_API = {
    "1": _d(
        "one_api:1",
        _("Clickatell did not accept the API Key"),
        _("The API Key is wrong, incomplete, or not from a One API integration."),
        _PORTAL_KEY_FIX,
        CREDENTIALS,
        API_KEY,
    ),
    "2": _d("one_api:2", _("Your Clickatell account is not active"), _("Account not active."), _SUPPORT),
    "3": _d(
        "one_api:3",
        _("Your API integration is not active"),
        _("Integration not active."),
        _("Activate the integration in the Portal (My Workspace → API Integrations)."),
        None,
    ),
    "7": LEGACY["007"],
    "18": _d(
        "one_api:18",
        _("Clickatell had an internal error"),
        _("Internal error."),
        _TRY_LATER,
        TEST,
        retry_later=True,
    ),
    "19": _d(
        "one_api:19", _("Clickatell is busy"), _("Internal error, retry."), _TRY_LATER, TEST, retry_later=True
    ),
    "20": _d(
        "one_api:20",
        _("Your Clickatell account has too little credit"),
        _("Insufficient balance."),
        _BALANCE_FIX,
    ),
    "21": LEGACY["100"],
    "22": _d(
        "one_api:22", _("Too many messages in one request"), _("Too many messages per request."), _SUPPORT
    ),
    "23": LEGACY["101"],
    "24": LEGACY["113"],
    "25": LEGACY["105"],
    "26": LEGACY["122"],
    "27": _d(
        "one_api:27",
        _("That number cannot receive on this channel"),
        _("Recipient not on channel."),
        _("Use another mobile number for the test."),
        TEST,
        PHONE,
    ),
    "28": PLATFORM["sandbox"],
    "38": _d(
        "one_api:38",
        _("SMS is not active on your integration"),
        _("Channel or feature not active."),
        _("Enable the SMS channel on the integration in the Portal."),
        None,
    ),
    "39": _d(
        "one_api:39",
        _("SMS is not available on your integration"),
        _("Feature not available on integration."),
        _("Enable the SMS channel on the integration in the Portal."),
        None,
    ),
    "40": LEGACY["116"],
    "41": _d(
        "one_api:41", _("Clickatell does not know that address"), _("Resource does not exist."), _SUPPORT
    ),
    "42": _d(
        "one_api:42", _("Clickatell refused the request method"), _("HTTP method not supported."), _SUPPORT
    ),
    "43": _d(
        "one_api:43", _("Too many requests"), _("Rate limit reached."), _TRY_LATER, TEST, retry_later=True
    ),
    "44": _d(
        "one_api:44",
        _("The sender number is suspended"),
        _("FROM number suspended."),
        _("Leave the sender empty in your app, or contact Clickatell support."),
        None,
    ),
    "45": PLATFORM["two_way"],
    "46": _d(
        "one_api:46",
        _("Your demo access has expired"),
        _("Demo access expired."),
        _("Upgrade the account in the Portal, or contact Clickatell."),
        None,
    ),
    "100": LEGACY["113"],
    "101": _d(
        "one_api:101",
        _("That number cannot reply"),
        _("Destination does not support two-way."),
        _("Use another mobile number for the test."),
        TEST,
        PHONE,
    ),
    "110": _d(
        "one_api:110",
        _("US numbers need a two-way integration"),
        _("USA: must use a two-way integration."),
        _("Use a two-way integration for US numbers, or test with a number outside the US."),
        TEST,
        PHONE,
    ),
    "111": _d(
        "one_api:111",
        _("US numbers need STOP/SUBSCRIBE handling"),
        _("USA: STOP/SUBSCRIBE not enabled."),
        _("Enable STOP/SUBSCRIBE handling on the integration, or test with a number outside the US."),
        TEST,
        PHONE,
    ),
}
for _code in ("30", "31", "32", "33"):
    ONE_API[_code] = _d(
        f"one_api:{_code}",
        _("Clickatell rejected the message content"),
        _("Media or content-type error."),
        _SUPPORT,
    )

# Answers that are not Clickatell error codes: the network, or something that is not Clickatell's format.
TRANSPORT = {
    "timeout": _d(
        "transport:timeout",
        _("Clickatell did not answer in time"),
        _("The request timed out. The message may or may not have been sent."),
        _("Check your phone first. If no SMS arrives within a few minutes, send the test again."),
        TEST,
        retry_later=True,
    ),
    "connection": _d(
        "transport:connection",
        _("We could not reach Clickatell"),
        _("The connection to Clickatell failed, so nothing was sent."),
        _TRY_LATER,
        TEST,
        retry_later=True,
    ),
    "tls": _d(
        "transport:tls",
        _("The secure connection to Clickatell failed"),
        _("The TLS certificate check failed, so nothing was sent."),
        _TRY_LATER,
        TEST,
        retry_later=True,
    ),
    "dropped": _d(
        "transport:dropped",
        _("Clickatell closed the connection without answering"),
        _("The connection was dropped. The message may or may not have been sent."),
        _("Check your phone first. If no SMS arrives within a few minutes, send the test again."),
        TEST,
        retry_later=True,
    ),
    "server_error": _d(
        "transport:server_error",
        _("Clickatell had a problem answering"),
        _("Clickatell answered with a server error."),
        _TRY_LATER,
        TEST,
        retry_later=True,
    ),
    "bad_response": _d(
        "transport:bad_response",
        _("Clickatell's answer could not be understood"),
        _(
            "The answer was not in the format Clickatell uses (an error page, an empty or garbled "
            "reply). Nothing says the message was sent."
        ),
        format_lazy("{} {}", _TRY_LATER, _SUPPORT),
        TEST,
        retry_later=True,
    ),
    "unknown": _d(
        "transport:unknown",
        _("We don't know whether the test was sent"),
        _("The test send was interrupted before Clickatell's answer was recorded."),
        _("Check your phone. If no SMS arrived, send the test again."),
        TEST,
    ),
    "api_error": _d(
        "transport:api_error",
        _("Clickatell refused the test"),
        _("Clickatell returned an error we have no specific advice for."),
        _SUPPORT,
        TEST,
    ),
}

FAMILIES = {
    "legacy": LEGACY,
    "legacy_rest": LEGACY_REST,
    "platform": PLATFORM,
    "one_api": ONE_API,
    "transport": TRANSPORT,
}


def diagnose(family: str, code: str | None) -> Diagnosis:
    table = FAMILIES[family]
    if code is not None and code in table:
        return table[code]
    if family in ("platform", "legacy_rest") and code is not None and code.zfill(3) in LEGACY:
        return LEGACY[code.zfill(3)]
    return TRANSPORT["api_error"]


def by_key(key: str) -> Diagnosis | None:
    family, _, code = key.partition(":")
    table = FAMILIES.get(family, {})
    return table.get(code)


# The diagnoses of a refused Portal API Key.
KEY_REFUSED = {PLATFORM["108"].key, ONE_API["1"].key}


def for_setup(diagnosis: Diagnosis, integration_chosen: bool) -> Diagnosis:
    """The diagnosis as it reads for one setup: a refused key whose integration type the customer chose is
    fixed on the boxes step, where that type was chosen."""
    if integration_chosen and diagnosis.key in KEY_REFUSED:
        return replace(diagnosis, fix=_CHOSEN_TYPE_KEY_FIX, step=FIELDS, field=PORTAL_INTEGRATION)
    return diagnosis
