"""Forms of the trust settings: one field per indicator weight and per contact origin."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from confiance.engagements.models import ContactOrigin
from confiance.trust import indicators
from confiance.trust.models import TrustSettings


class TrustSettingsForm(forms.Form):
    half_life_days = forms.IntegerField(
        label=_("Half-life of evidence (days)"), min_value=1, max_value=3650
    )

    def __init__(self, *args: Any, current: TrustSettings, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["half_life_days"].initial = current.half_life_days
        for indicator in indicators.INDICATORS:
            self.fields[f"weight_{indicator.key}"] = forms.FloatField(
                label=str(indicator.reason),  # built per request, in its language
                min_value=0,
                max_value=100,
                initial=current.weight(indicator.key),
                help_text=f"{indicator.key} · {indicators.DIMENSION_LABELS[indicator.dimension]}"
                f" · {indicator.direction}",
            )
        for value, label in ContactOrigin.choices:
            self.fields[f"base_rate_{value}"] = forms.FloatField(
                label=label, min_value=0, max_value=1, initial=current.base_rate(value)
            )

    def weight_fields(self) -> list[Any]:
        return [self[name] for name in self.fields if name.startswith("weight_")]

    def base_rate_fields(self) -> list[Any]:
        return [self[name] for name in self.fields if name.startswith("base_rate_")]

    def weights(self) -> dict[str, float]:
        return {
            key[len("weight_") :]: value
            for key, value in self.cleaned_data.items()
            if key.startswith("weight_")
        }

    def base_rates(self) -> dict[str, float]:
        return {
            key[len("base_rate_") :]: value
            for key, value in self.cleaned_data.items()
            if key.startswith("base_rate_")
        }
