"""Forms of the closure: they parse and show field errors; the services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from confiance.closure.models import Attainment, Outcome


class StartForm(forms.Form):
    outcome = forms.ChoiceField(label=_("How the engagement ends"), choices=Outcome.choices)
    reason = forms.CharField(
        label=_("Why it stops early"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("Only when stopping early: ending honestly is a valid outcome."),
    )


class AssessForm(forms.Form):
    attainment = forms.ChoiceField(label=_("Attainment"), choices=Attainment.choices)
    evidence = forms.CharField(label=_("Evidence"), widget=forms.Textarea(attrs={"rows": 3}))


class RetrospectiveForm(forms.Form):
    went_well = forms.CharField(
        label=_("What went well"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    to_improve = forms.CharField(
        label=_("What to improve"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    lessons = forms.CharField(
        label=_("Lessons"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("One lesson per line."),
    )


class ApproveForm(forms.Form):
    analysis_hash = forms.CharField(widget=forms.HiddenInput, min_length=64, max_length=64)
