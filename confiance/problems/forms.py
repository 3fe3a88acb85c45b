"""Forms of problems: they parse and show field errors; the services decide."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from confiance.core.forms import model_choice_field
from confiance.core.models import User
from confiance.problems.models import MAX_LEVEL, Severity
from confiance.problems.services import MAX_UPDATE_LENGTH


class RaiseForm(forms.Form):
    title = forms.CharField(label=_("What is wrong, in a few words"), max_length=200)
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices)
    client_priority = forms.ChoiceField(
        label=_("Your priority"),
        choices=[("", "—"), *Severity.choices],
        required=False,
        help_text=_("How much it matters to you, whatever its technical severity."),
    )

    def __init__(self, *args: Any, client_side: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not client_side:
            del self.fields["client_priority"]


class OwnerForm(forms.Form):
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none())

    def __init__(self, *args: Any, people: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "owner").queryset = people


class PlanForm(forms.Form):
    plan = forms.CharField(label=_("Plan"), widget=forms.Textarea(attrs={"rows": 3}))


class EscalateForm(forms.Form):
    level = forms.TypedChoiceField(
        label=_("Level"), coerce=int, choices=[(n, str(n)) for n in range(1, MAX_LEVEL + 1)]
    )
    person = forms.ModelChoiceField(label=_("Person at this level"), queryset=User.objects.none())

    def __init__(self, *args: Any, people: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "person").queryset = people


class UpdateForm(forms.Form):
    text = forms.CharField(
        label=_("Progress update"),
        max_length=MAX_UPDATE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Short and frequent beats long and late."),
    )


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Note (optional)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReopenForm(forms.Form):
    text = forms.CharField(label=_("What is still wrong"), widget=forms.Textarea(attrs={"rows": 2}))


class ClientEscalateForm(forms.Form):
    reason = forms.CharField(
        label=_("Why you escalate (the provider reads it)"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class PriorityForm(forms.Form):
    priority = forms.ChoiceField(label=_("Your priority"), choices=Severity.choices)


class CommentForm(forms.Form):
    text = forms.CharField(
        label=_("Internal comment (never shown to the client)"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class SharedCommentForm(forms.Form):
    text = forms.CharField(
        label=_("Comment (both sides read it)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
    )
    attachment = forms.FileField(
        label=_("Attach a file (optional)"),
        required=False,
        help_text=_("PDF, image, text or office document; at most 5 MB."),
    )


class ClientEscalationForm(forms.Form):
    person = forms.ModelChoiceField(
        label=_("Your escalation contact"),
        queryset=User.objects.none(),
        help_text=_(
            "Who on your side hears of every escalation and every missed target of this "
            "engagement's problems."
        ),
    )

    def __init__(self, *args: Any, people: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "person").queryset = people


class EmptyForm(forms.Form):
    pass


def _hours_field(label: Any) -> forms.DecimalField:
    return forms.DecimalField(
        label=label, min_value=Decimal("0.25"), max_digits=6, decimal_places=2
    )


class SettingsForm(forms.Form):
    acknowledge_hours = _hours_field(_("Time to acknowledge (hours)"))
    owner_hours = _hours_field(_("Time to name an owner (hours)"))
    update_hours = _hours_field(_("Time between progress updates (hours)"))
    level1 = forms.ModelChoiceField(
        label=_("Escalation level 1"), queryset=User.objects.none(), required=False
    )
    level2 = forms.ModelChoiceField(
        label=_("Escalation level 2"), queryset=User.objects.none(), required=False
    )
    level3 = forms.ModelChoiceField(
        label=_("Escalation level 3"), queryset=User.objects.none(), required=False
    )

    def __init__(self, *args: Any, people: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("level1", "level2", "level3"):
            model_choice_field(self, name).queryset = people
