"""The endpoint form: it parses; the services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from confiance.webhooks.events import EVENT_TYPES


class EndpointForm(forms.Form):
    url = forms.CharField(
        label=_("URL"),
        max_length=500,
        help_text=_(
            "Where your tool receives the events, for example https://tools.example/hooks."
        ),
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    event_types = forms.MultipleChoiceField(
        label=_("Events"),
        choices=[(code, label) for code, label in EVENT_TYPES.items()],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )


class EndpointEditForm(EndpointForm):
    active = forms.BooleanField(label=_("Active (receives events)"), required=False, initial=True)
