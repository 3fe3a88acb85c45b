"""Engagement forms: parsing and field errors only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from confiance.core.forms import model_choice_field
from confiance.core.models import Client, User
from confiance.engagements.models import ContactOrigin, EngagementStatus


class EngagementFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All statuses")), *EngagementStatus.choices],
    )


class EngagementForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    client = forms.ModelChoiceField(
        label=_("Client"), queryset=Client.objects.none(), required=False
    )
    new_client = forms.CharField(
        label=_("Or a new client"),
        max_length=150,
        required=False,
        help_text=_("Type a name to create the client with the engagement."),
    )
    reference = forms.CharField(label=_("Reference"), max_length=40, required=False)
    contact_origin = forms.ChoiceField(label=_("Contact origin"), choices=ContactOrigin.choices)
    status = forms.ChoiceField(
        label=_("Status"),
        choices=EngagementStatus.choices,
        help_text=_("The client's contacts see the engagement once it is no longer a draft."),
    )
    start_date = forms.DateField(
        label=_("Start date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end_date = forms.DateField(
        label=_("Planned end date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    lead = forms.ModelChoiceField(
        label=_("Engagement lead"), queryset=User.objects.none(), required=False
    )
    summary = forms.CharField(
        label=_("Summary (shared with the client)"), widget=forms.Textarea, required=False
    )
    internal_notes = forms.CharField(
        label=_("Internal notes (never shown to the client)"),
        widget=forms.Textarea,
        required=False,
    )

    def __init__(self, *args: Any, clients: Any, leads: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "client").queryset = clients
        model_choice_field(self, "lead").queryset = leads

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        client, new_client = data.get("client"), (data.get("new_client") or "").strip()
        if client is not None and new_client:
            self.add_error("new_client", _("Choose a client or type a new one, not both."))
        elif client is None and not new_client and "client" not in self.errors:
            self.add_error("client", _("Choose a client, or type the name of a new one below."))
        return data


class EngagementEditForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    reference = forms.CharField(label=_("Reference"), max_length=40, required=False)
    contact_origin = forms.ChoiceField(label=_("Contact origin"), choices=ContactOrigin.choices)
    referred_by = forms.CharField(
        label=_("Referred by"),
        max_length=150,
        required=False,
        help_text=_("For a peer referral: who recommended us."),
    )
    start_date = forms.DateField(
        label=_("Start date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end_date = forms.DateField(
        label=_("Planned end date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    lead = forms.ModelChoiceField(
        label=_("Engagement lead"), queryset=User.objects.none(), required=False
    )
    summary = forms.CharField(
        label=_("Summary (shared with the client)"), widget=forms.Textarea, required=False
    )
    client_problem = forms.CharField(
        label=_("The problem, as the client sees it"), widget=forms.Textarea, required=False
    )
    client_solution_idea = forms.CharField(
        label=_("The client's idea of the solution"), widget=forms.Textarea, required=False
    )
    provider_interpretation = forms.CharField(
        label=_("Our interpretation"), widget=forms.Textarea, required=False
    )
    internal_notes = forms.CharField(
        label=_("Internal notes (never shown to the client)"),
        widget=forms.Textarea,
        required=False,
    )

    def __init__(self, *args: Any, leads: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "lead").queryset = leads


class ObjectiveForm(forms.Form):
    text = forms.CharField(label=_("Objective"), widget=forms.Textarea(attrs={"rows": 2}))
    success_measure = forms.CharField(
        label=_("How attainment will be judged"), widget=forms.Textarea(attrs={"rows": 2})
    )


class InterlocutorForm(forms.Form):
    user = forms.ModelChoiceField(label=_("Person"), queryset=User.objects.none())
    role = forms.CharField(label=_("Role in the engagement"), max_length=80, required=False)

    def __init__(self, *args: Any, people: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "user").queryset = people


class StatusForm(forms.Form):
    # "Closed" is reached through the closure (the client's approval), never set here.
    status = forms.ChoiceField(
        label=_("New status"),
        choices=[c for c in EngagementStatus.choices if c[0] != EngagementStatus.CLOSED],
    )
    reason = forms.CharField(
        label=_("Reason (required to stop early or to reopen; both sides read it)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )


class StopRequestForm(forms.Form):
    reason = forms.CharField(
        label=_("Why you ask to stop early (the provider reads it)"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class StopAnswerForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Your answer"),
        choices=[("accept", _("Accept: stop early")), ("decline", _("Decline"))],
        widget=forms.RadioSelect,
    )
    answer = forms.CharField(
        label=_("Your reason (required to decline; the client reads it)"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
