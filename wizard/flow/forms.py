import re

import phonenumbers
from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables
from phonenumbers import PhoneNumberType

from wizard.clickatell.signatures import PORTAL_INTEGRATION_TYPES

from . import steps


class SecretInput(forms.TextInput):
    """A text box whose value is never written back into the page."""

    def format_value(self, value):
        return None


class StepForm(forms.Form):
    """A step's form. After a refusal the first box with an error has the focus (autofocus): a phone opens
    the page at what to fix, not at the top with the message out of sight."""

    def full_clean(self):
        super().full_clean()
        first = next((name for name in self.fields if name in self.errors), None)
        if first:
            self.fields[first].widget.attrs["autofocus"] = True


class RadioButtons(forms.RadioSelect):
    """Radio buttons of which only the first takes the focus after a refusal (StepForm's autofocus)."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        if index:
            option["attrs"].pop("autofocus", None)
        return option


class AppFieldsForm(StepForm):
    app_fields = forms.ChoiceField(
        label=_("Which boxes does your app show for Clickatell?"),
        choices=steps.APP_FIELD_CHOICES,
        widget=RadioButtons,
        error_messages={"required": _("Choose the boxes your app shows.")},
    )
    portal_integration = forms.ChoiceField(
        label=_("Which type of API integration did you create in the Portal?"),
        choices=[(s.value, kind) for s, kind in PORTAL_INTEGRATION_TYPES.items()],
        widget=RadioButtons,
        required=False,
        help_text=_("The Portal shows it under My Workspace → API Integrations."),
    )

    def __init__(self, *args, ask_integration: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.ask_integration = ask_integration
        if not ask_integration:
            del self.fields["portal_integration"]

    def clean(self):
        cleaned = super().clean()
        if (
            self.ask_integration
            and cleaned.get("app_fields") == steps.API_KEY_BOX
            and not cleaned.get("portal_integration")
        ):
            self.add_error(
                "portal_integration",
                _("Choose the integration type. Apps with an API Key box send to the API that type names."),
            )
        return cleaned


class ConfirmFieldsForm(StepForm):
    """For a catalog app: confirm the boxes it shows, or say it shows something else."""

    confirm = forms.ChoiceField(
        choices=[("yes", _("Yes, my app shows these boxes")), ("no", _("No, my app shows different boxes"))],
        widget=RadioButtons,
        label=_("Does your app show these boxes?"),
        error_messages={"required": _("Tell us whether your app shows these boxes.")},
    )


# The usual mistakes (steps.MISTAKES) that mean the username box holds the API Key or the password.
SECRET_IN_USERNAME_BOX = {"username_is_key", "username_is_password"}


class CredentialsForm(StepForm):
    username = forms.CharField(
        label=_("Account username"),
        max_length=150,
        required=False,
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}
        ),
        error_messages={
            "max_length": _("That is longer than a Portal username can be: paste only your Account username.")
        },
    )
    password = forms.CharField(
        label=_("Account password"),
        max_length=200,
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "current-password"}),
        error_messages={
            "max_length": _("That is longer than a Portal password can be: paste only your Account password.")
        },
    )
    api_key = forms.CharField(
        label=_("API Key"),
        max_length=200,
        required=False,
        strip=False,
        error_messages={
            "max_length": _(
                "That is far longer than an API Key (about 24 characters): copy only the key from API Details "
                "in the Portal."
            )
        },
        widget=SecretInput(attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}),
    )

    def __init__(self, *args, signature, **kwargs):
        super().__init__(*args, **kwargs)
        self.signature = signature
        needed = steps.fields_needed(signature)
        for name in list(self.fields):
            if name not in needed:
                del self.fields[name]
        self.notices: list[str] = []
        self.mistakes: list[str] = []

    @sensitive_variables()
    def clean(self):
        check = steps.check_credentials(self.signature, {k: self.data.get(k, "") for k in self.fields})
        for name, message in check.errors.items():
            self.add_error(name, message)
        self.notices = check.notices
        self.mistakes = check.mistakes
        if SECRET_IN_USERNAME_BOX & set(check.mistakes):
            # The username box is shown again after a refusal, with what was typed in it: not when that
            # was a secret.
            self.data = self.data.copy()
            self.data["username"] = ""
        return check.cleaned


# One + first, then digits (any script's, as phones' keyboards type them) and the usual separators.
PHONE_CHARACTERS = re.compile(r"\+[\d\s()./-]+")


def could_be_a_number(typed: str) -> bool:
    """Whether a refused phone box's text is shown again and kept in the customer's browser: text with no
    fewer digits than letters and signs (a number mistyped, with a letter for a digit or a word after it).
    Other text may be a key or a password pasted into the wrong box, and is neither."""
    digits = sum(ch.isdigit() for ch in typed)
    others = sum(not (ch.isdigit() or ch.isspace() or ch in "+()./-") for ch in typed)
    return digits >= others


class PhoneForm(StepForm):
    phone = forms.CharField(
        label=_("Phone number"),
        max_length=32,
        help_text=_(
            "Your mobile number in international format, starting with + and the country code, "
            "e.g. +27 82 123 4567."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
        error_messages={
            "required": _(
                "Enter the mobile number to send the test message to, in international format: + and the "
                "country code first (for example +27 82 123 4567)."
            ),
            "max_length": _("That is too long for a phone number: enter one mobile number."),
        },
    )
    attempt_token = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean(self):
        cleaned = super().clean()
        if "phone" in self.errors and not could_be_a_number(self.data.get("phone", "")):
            self.data = self.data.copy()
            self.data["phone"] = ""
        return cleaned

    def clean_phone(self):
        # Invisible formatting marks (a text direction mark copied along with a number) are not typing.
        raw = steps.without_invisible_marks(self.cleaned_data["phone"]).strip()
        typed = "+" + raw[2:] if raw.startswith("00") else raw
        if not typed.startswith("+"):
            raise forms.ValidationError(
                _(
                    "Start with + and your country code (for example +27 for South Africa, +44 for the UK), "
                    "then the number without its leading 0."
                )
            )
        if not PHONE_CHARACTERS.fullmatch(typed):
            # The phone library would read letters as a keypad's digits and drop trailing text: a slip
            # such as O for 0 would send the test to someone else's number.
            raise forms.ValidationError(
                _(
                    "Use only digits, spaces and + ( ) - in the phone number. Check for a letter typed in "
                    "place of a digit (O for 0, l for 1)."
                )
            )
        try:
            number = phonenumbers.parse(typed, None)
        except phonenumbers.NumberParseException:
            raise forms.ValidationError(
                _("That is not a phone number we can read. Check the digits and try again.")
            ) from None
        if not phonenumbers.is_valid_number(number):
            raise forms.ValidationError(
                _(
                    "That number doesn't exist in the country its code points to. Check the digits, and leave "
                    "out the leading 0 after the country code."
                )
            )
        kind = phonenumbers.number_type(number)
        if kind == PhoneNumberType.PREMIUM_RATE:
            raise forms.ValidationError(
                _("Premium-rate numbers can't receive test messages. Use your own mobile number.")
            )
        if kind not in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE):
            raise forms.ValidationError(
                _("That isn't a mobile number. Text messages need a mobile phone: enter your mobile number.")
            )
        allowed = settings.PORTAL_ALLOWED_COUNTRIES
        if allowed and phonenumbers.region_code_for_number(number) not in allowed:
            raise forms.ValidationError(
                _("Test messages can only go to numbers in %(countries)s. Use a mobile number from there.")
                % {"countries": ", ".join(allowed)}
            )
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class HandOnEmailForm(StepForm):
    email = forms.EmailField(
        label=_("Your colleague's e-mail address"),
        max_length=254,
        error_messages={
            "required": _("Enter your colleague's e-mail address."),
            "invalid": _("Enter an e-mail address like name@example.com."),
        },
    )
