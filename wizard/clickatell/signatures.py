"""The ways a third-party app talks to Clickatell, and what each needs from the customer."""

from enum import StrEnum

from django.utils.translation import gettext_lazy as _


class Signature(StrEnum):
    PLATFORM_HTTP = "platform_http"
    PLATFORM_REST = "platform_rest"
    ONE_API = "one_api"
    LEGACY_HTTP = "legacy_http"
    LEGACY_REST = "legacy_rest"
    # Catalog apps that e-mail Clickatell; the test checks the same three credentials over legacy HTTP.
    SMTP = "smtp"

    @property
    def label(self) -> str:
        return LABELS[self]

    @property
    def needs_account_login(self) -> bool:
        """Old Username/Password/API ID apps: under the workaround the API Key goes in the API ID box."""
        return self in (Signature.LEGACY_HTTP, Signature.SMTP)

    @property
    def portal_native(self) -> bool:
        return self in (Signature.PLATFORM_HTTP, Signature.PLATFORM_REST, Signature.ONE_API)

    @property
    def tested_as(self) -> "Signature":
        return Signature.LEGACY_HTTP if self is Signature.SMTP else self


LABELS = {
    Signature.PLATFORM_HTTP: _("Portal HTTP API (API Key in the request)"),
    Signature.PLATFORM_REST: _("Portal REST API (API Key in the Authorization header)"),
    Signature.ONE_API: _("One API (API Key in the Authorization header)"),
    Signature.LEGACY_HTTP: _("Old SMS Gateway HTTP API (Username, Password and API Key in the API ID box)"),
    Signature.LEGACY_REST: _("Old SMS Gateway REST API (auth token)"),
    Signature.SMTP: _("Old e-mail-to-SMS gateway (Username, Password and API Key in the API ID box)"),
}

PORTAL_INTEGRATION_TYPES = {
    Signature.PLATFORM_HTTP: "HTTP",
    Signature.PLATFORM_REST: "REST",
    Signature.ONE_API: "One API",
}


def choices() -> list[tuple[str, str]]:
    return [(sig.value, sig.label) for sig in Signature]
