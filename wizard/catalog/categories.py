"""The names customers read for the catalog's categories.

A platform's category is an identifier (``hardware-device``); the app step shows its name in the customer's
language. Staff may type a category this list does not know: it is shown as its identifier in words.
"""

from django.utils.translation import gettext_lazy as _

# Every category the catalog's data file uses.
NAMES = {
    "access-control": _("Access control"),
    "cms": _("Website content management"),
    "crm": _("Customer relationship management (CRM)"),
    "customer-communications": _("Customer communications"),
    "developer-framework": _("Developer framework"),
    "document-signing": _("Document signing"),
    "e-commerce": _("Online shop"),
    "hardware-device": _("Hardware device"),
    "health-information-system": _("Health information system"),
    "helpdesk": _("Help desk"),
    "home-automation": _("Home automation"),
    "hospitality": _("Hotels and hospitality"),
    "hosting-billing": _("Web hosting and billing"),
    "identity-2fa": _("Sign-in and two-factor authentication"),
    "low-code-platform": _("Low-code platform"),
    "messaging-platform": _("Messaging platform"),
    "monitoring": _("Monitoring"),
    "notification-library": _("Notification library"),
    "practice-management": _("Practice management"),
    "sms-gateway-software": _("SMS gateway software"),
    "workflow-automation": _("Workflow automation"),
}


def category_name(category: str) -> str:
    """The category's name in the active language; an unknown one as words ("point-of-sale" → "Point of sale")."""
    name = NAMES.get(category)
    if name is not None:
        return str(name)
    return category.replace("-", " ").replace("_", " ").strip().capitalize()
