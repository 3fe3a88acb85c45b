"""Forms of lessons and kudos: they parse and show field errors; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from confiance.core.forms import model_choice_field
from confiance.core.models import User


class LessonForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    text = forms.CharField(
        label=_("What we learnt"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What to do, or not to do, next time."),
    )
    tags = forms.CharField(
        label=_("Tags"),
        required=False,
        max_length=400,
        help_text=_("Separated by commas, e.g. data, migration."),
    )


class PersonChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.get_full_name()


class KudosForm(forms.Form):
    recipients = PersonChoice(
        label=_("Who"),
        queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    text = forms.CharField(label=_("What they did well"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, people: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "recipients").queryset = people
