"""The insights page's question: which period, which setups, sorted how. A GET form: it changes nothing."""

from datetime import timedelta

from django import forms
from django.conf import settings
from django.utils import timezone

from wizard.clickatell.signatures import choices as signature_choices

from . import insights

RANGE = "range"
# Each bucket of a trend is a count in the failures' query: a longer range would make that query huge.
LONGEST_RANGE_DAYS = 366
PERIOD_CHOICES = [(str(days), f"Last {days} days") for days in insights.PERIODS] + [(RANGE, "From – to")]


class InsightsForm(forms.Form):
    period = forms.ChoiceField(choices=PERIOD_CHOICES, required=False)
    start = forms.DateField(required=False, label="From")
    end = forms.DateField(required=False, label="To")
    platform = forms.CharField(required=False, max_length=100)
    signature = forms.ChoiceField(choices=[("", "Any"), *signature_choices()], required=False)
    language = forms.ChoiceField(choices=[("", "Any"), *settings.LANGUAGES], required=False)
    sort = forms.ChoiceField(choices=[(key, key) for key in insights.APP_SORTS], required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("period") == RANGE:
            start, end = cleaned.get("start"), cleaned.get("end")
            if "start" in self.errors or "end" in self.errors:
                return cleaned  # the day that is not a date says so
            if not start or not end:
                raise forms.ValidationError("Give both days of the range, From and To.")
            if start > end:
                raise forms.ValidationError("The range's From day comes after its To day.")
            if (end - start).days >= LONGEST_RANGE_DAYS:
                raise forms.ValidationError(f"Choose a range of at most {LONGEST_RANGE_DAYS} days.")
            # No setup starts in the future; and a day near the calendar's end has no day after it.
            if end > timezone.now().date() + timedelta(days=LONGEST_RANGE_DAYS):
                raise forms.ValidationError("Choose a To day within a year from today.")
        return cleaned

    def question(self) -> tuple[insights.Period, insights.Filters, str]:
        """The period, filters and sort asked for, leaving out what could not be read (the form's errors say
        what): a range that is not one gives the last 30 days, a filter that is not one gives every setup."""
        self.is_valid()
        cleaned = self.cleaned_data  # the parts that could be read, even when some could not
        period = cleaned.get("period") or str(insights.DEFAULT_PERIOD)
        # The range's own problems are the form's (clean()); a bad filter leaves the range standing.
        range_readable = not self.non_field_errors() and cleaned.get("start") and cleaned.get("end")
        if period == RANGE and not range_readable:
            period = str(insights.DEFAULT_PERIOD)
        if period == RANGE:
            chosen = insights.between(cleaned["start"], cleaned["end"])
        else:
            chosen = insights.last_days(int(period), timezone.now())
        filters = insights.Filters(
            platform=cleaned.get("platform", ""),
            signature=cleaned.get("signature", ""),
            language=cleaned.get("language", ""),
        )
        return chosen, filters, cleaned.get("sort") or insights.DEFAULT_SORT
