"""Forms of the closure: they parse and show field errors; the services decide."""

from __future__ import annotations

from typing import Any

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
    """The approval asks for confirmation, and for the open items to be acknowledged."""

    analysis_hash = forms.CharField(widget=forms.HiddenInput, min_length=64, max_length=64)
    confirm = forms.BooleanField(
        label=_("I have read the analysis and both retrospectives, and I approve it for payment."),
        error_messages={"required": _("Tick the box to confirm your approval.")},
    )
    acknowledge_open = forms.BooleanField(
        label=_("I know these problems and commitments are still open."),
        required=False,
    )

    def __init__(self, *args: Any, open_count: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if open_count:
            self.fields["acknowledge_open"].required = True
            self.fields["acknowledge_open"].error_messages["required"] = _(
                "Acknowledge what is still open, or wait until it is done."
            )
        else:
            del self.fields["acknowledge_open"]
