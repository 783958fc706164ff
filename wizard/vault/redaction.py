"""Keep secrets out of logs and error reports, whoever writes them (our code, requests, urllib3)."""

import logging
import re

from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

# Names under which a Clickatell secret travels: our form fields and every signature's parameters.
SECRET_NAMES = ("password", "api_key", "apikey", "api_id", "session_id", "authorization", "token")

# A customer's link (/s/<token>/…) lets whoever has it send tests with the credentials held for it; a
# hand-on link (/h/<token>/) shows the setup's instructions. Reference codes (the console's
# /console/s/ABCD-2345/) are short and stay readable.
_SETUP_LINK = re.compile(r"/([sh])/[A-Za-z0-9_-]{20,}(?=/|\b)")
_QUERY_PAIR = re.compile(r"(?i)\b(" + "|".join(SECRET_NAMES) + r")=([^&\s\"']+)")
_HEADER = re.compile(r"(?i)\b(authorization)(['\"]?\s*[:=]\s*['\"]?)(bearer\s+)?([^\s'\",}]+)")


def redact(text: str) -> str:
    text = _SETUP_LINK.sub(lambda m: f"/{m.group(1)}/[token]", text)
    text = _QUERY_PAIR.sub(lambda m: f"{m.group(1)}=[redacted]", text)
    return _HEADER.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(3) or ''}[redacted]", text)


class RedactSecretsFilter(logging.Filter):
    """Rewrites a record's message with secret-looking parameters masked; never drops the record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is not ours to fix here
            return True
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True


class RedactingReporterFilter(SafeExceptionReporterFilter):
    """Error reports hide our secret fields in POST data, the local variables of every function marked
    with sensitive_variables, and any setting that names a key."""

    hidden_settings = re.compile(
        r"API|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|VAULT", flags=re.IGNORECASE
    )

    def is_active(self, request):
        # Django shows everything on the debug page; a customer's API Key must not be shown even there
        # (a developer's screen, a screenshot in a ticket).
        return True

    def get_post_parameters(self, request):
        params = super().get_post_parameters(request)
        if request is None:
            return params
        params = params.copy()
        for name in list(params):
            if any(secret in name.lower() for secret in SECRET_NAMES):
                params[name] = self.cleansed_substitute
        return params


class RedactingExceptionReporter(ExceptionReporter):
    """Error reports (the debug page and the e-mail to admins) without customers' links: the request's
    own token wherever the report shows it (its URL, headers, a view's ``token`` argument) and any other
    ``/s/<token>`` or ``/h/<token>`` link (a Referer, say) become ``[token]``, as in the logs."""

    def get_traceback_html(self):
        return self.without_links(super().get_traceback_html())

    def get_traceback_text(self):
        return self.without_links(super().get_traceback_text())

    def without_links(self, report: str) -> str:
        match = getattr(self.request, "resolver_match", None)
        token = match.kwargs.get("token") if match else None
        if token:
            report = report.replace(token, "[token]")
        return redact(report)
