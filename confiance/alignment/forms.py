from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class GlossaryForm(forms.Form):
    term = forms.CharField(label=_("Term"), max_length=120)
    meaning = forms.CharField(
        label=_("What it means in this engagement"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )


class GlossaryChangeForm(forms.Form):
    meaning = forms.CharField(
        label=_("New meaning"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


class VisionForm(forms.Form):
    problem = forms.CharField(
        label=_("The problem we solve"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )
    outcome = forms.CharField(
        label=_("The outcome we hope for"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )
    success = forms.CharField(
        label=_("How success will be judged"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )
