"""Consumption forms: parsing and field errors only; the services decide."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from confiance.consumption.models import Activity
from confiance.core.forms import model_choice_field
from confiance.core.models import User

_DURATION = re.compile(r"^\s*(?:(\d+)\s*[:h]\s*(\d{1,2})?|(\d+(?:[.,]\d+)?))\s*$")


def parse_duration(text: str) -> int | None:
    """Minutes from "1:30", "1h30", "1h", "1.5" or "1,5" (hours); None if unreadable."""
    match = _DURATION.match(text or "")
    if not match:
        return None
    if match.group(3) is not None:
        return round(Decimal(match.group(3).replace(",", ".")) * 60)
    return int(match.group(1)) * 60 + int(match.group(2) or 0)


class DurationField(forms.CharField):
    default_error_messages = {
        "invalid": _("Write a duration as 1:30, 1h30 or 1.5 (hours)."),
    }

    def clean(self, value: Any) -> int | None:
        text = super().clean(value)
        if not text:
            return None
        minutes = parse_duration(text)
        if minutes is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return minutes


class EntryForm(forms.Form):
    date = forms.DateField(label=_("Date worked"), widget=forms.DateInput(attrs={"type": "date"}))
    duration = DurationField(label=_("Duration"), help_text=_("1:30, 1h30 or 1.5 (hours)"))
    activity = forms.ModelChoiceField(
        label=_("Activity"), queryset=Activity.objects.none(), required=False
    )
    person = forms.ModelChoiceField(label=_("Person"), queryset=User.objects.none())
    shared_note = forms.CharField(
        label=_("Note (shared with the client)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )
    internal_note = forms.CharField(
        label=_("Internal note (never shown to the client)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )

    def __init__(self, *args: Any, activities: Any, people: Any, **kwargs: Any) -> None:
        """`activities` and `people`: the querysets a submitted value is checked against. None
        for a form that is only shown, its choices offered as rows (core.forms.offer_choices):
        building the querysets cost the page more than the rows it had read already."""
        kwargs.setdefault("initial", {}).setdefault("date", timezone.localdate())
        super().__init__(*args, **kwargs)
        if self.is_bound and (activities is None or people is None):
            raise ValueError("a submitted entry is checked against the activities and people")
        if activities is not None:
            model_choice_field(self, "activity").queryset = activities
        if people is not None:
            model_choice_field(self, "person").queryset = people


class CorrectionForm(EntryForm):
    withdraw = forms.BooleanField(label=_("Withdraw the entry (no replacement)"), required=False)
    reason = forms.CharField(
        label=_("Why this correction (the client sees it)"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("date", "duration", "person"):
            self.fields[name].required = False

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if not data.get("withdraw"):
            for name in ("date", "duration", "person"):
                if not data.get(name):
                    self.add_error(name, _("Needed for the corrected entry."))
        return data


class BudgetForm(forms.Form):
    days = forms.DecimalField(
        label=_("Budget in days"), min_value=0, decimal_places=2, required=False
    )
    amount = forms.DecimalField(
        label=_("Budget amount"), min_value=0, decimal_places=2, required=False
    )
    reason = forms.CharField(
        label=_("Why (the client reads it)"), widget=forms.Textarea(attrs={"rows": 2})
    )


class EstimateForm(forms.Form):
    remaining = DurationField(
        label=_("Work remaining (hours)"), help_text=_("The team's estimate, e.g. 120 or 120:00.")
    )
    note = forms.CharField(label=_("Note"), required=False)


class ActivityForm(forms.Form):
    name = forms.CharField(label=_("New activity"), max_length=80)


class RateForm(forms.Form):
    person = forms.ModelChoiceField(label=_("Person"), queryset=User.objects.none(), required=False)
    title = forms.CharField(label=_("or role title"), max_length=80, required=False)
    daily_rate = forms.DecimalField(label=_("Daily rate"), min_value=0, decimal_places=2)

    def __init__(self, *args: Any, people: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "person").queryset = people
