"""Forms of the pulse: they parse and show field errors; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from confiance.pulse.models import VIRTUES
from confiance.pulse.services import MAX_COMMENT

SCALE = [(str(n), str(n)) for n in range(1, 6)]


class PulseAnswerForm(forms.Form):
    comment = forms.CharField(
        label=_("In one line, anything to add?"),
        max_length=MAX_COMMENT,
        required=False,
        help_text=_("Private: only averages reach anyone else, never your words, unless you sign."),
    )
    signed = forms.BooleanField(
        label=_(
            "Sign my answer (you are the only person of your side: without a signature, "
            "nobody sees it)"
        ),
        required=False,
    )

    def __init__(self, *args: Any, can_sign: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        virtue_fields = {
            name: forms.TypedChoiceField(
                label=label,
                help_text=help_text,
                choices=SCALE,
                coerce=int,
                widget=forms.RadioSelect,
            )
            for name, label, help_text in VIRTUES
        }
        # The virtues first, in their order; then the comment (and the signature).
        others = dict(self.fields)
        self.fields = {**virtue_fields, **others}  # type: ignore[assignment]
        if not can_sign:
            del self.fields["signed"]

    def virtue_fields(self) -> list[forms.BoundField]:
        return [self[name] for name, _label, _help in VIRTUES]


class PulseSettingsForm(forms.Form):
    cadence_days = forms.IntegerField(
        label=_("A pulse round every (days)"),
        min_value=1,
        max_value=365,
        help_text=_("On each active engagement; a round also opens when an engagement closes."),
    )
