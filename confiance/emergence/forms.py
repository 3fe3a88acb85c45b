"""Forms of emergence: they parse and show field errors; the services decide."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from confiance.core.models import Client
from confiance.core.services import invitation_language
from confiance.emergence.models import Partner, Phase, Visibility
from confiance.engagements.models import ContactOrigin


class OpportunityForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    client = forms.ModelChoiceField(
        label=_("Client"), queryset=Client.objects.none(), required=False
    )
    new_client_name = forms.CharField(
        label=_("…or a new client"),
        max_length=150,
        required=False,
        help_text=_("Leave empty when the client already exists."),
    )
    client_problem = forms.CharField(
        label=_("The problem, as the client sees it"), widget=forms.Textarea(attrs={"rows": 3})
    )
    client_solution_idea = forms.CharField(
        label=_("The hoped-for solution"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    provider_interpretation = forms.CharField(
        label=_("The way of working we propose"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    context = forms.CharField(
        label=_("Context"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    contact_origin = forms.ChoiceField(
        label=_("Contact origin"), choices=ContactOrigin.choices, initial=ContactOrigin.EMERGENCE
    )
    visibility = forms.ChoiceField(
        label=_("Who may see it"), choices=Visibility.choices, initial=Visibility.WORKSPACE
    )

    def __init__(self, *args: Any, clients: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["client"]).queryset = clients


class OpportunityEditForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    client_problem = forms.CharField(
        label=_("The problem, as the client sees it"), widget=forms.Textarea(attrs={"rows": 3})
    )
    client_solution_idea = forms.CharField(
        label=_("The hoped-for solution"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    provider_interpretation = forms.CharField(
        label=_("The way of working we propose"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    context = forms.CharField(
        label=_("Context"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    visibility = forms.ChoiceField(label=_("Who may see it"), choices=Visibility.choices)


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"))
    introduction = forms.CharField(
        label=_("Introduction"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text=_("Who they are and why you invite them: the others read it on their profile."),
    )
    as_client = forms.BooleanField(
        label=_("A contact of the client"),
        required=False,
        help_text=_("Invite them as a contact of this opportunity's client, not as an expert."),
    )
    language = forms.ChoiceField(
        label=_("Language of the invitation"),
        choices=settings.LANGUAGES,
        required=False,
        help_text=_("For someone without an account: the e-mail and their first pages."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("language", invitation_language())


class PostForm(forms.Form):
    body = forms.CharField(
        label=_("Message"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Markdown. Mention someone with @their-handle."),
    )
    parent = forms.IntegerField(widget=forms.HiddenInput, required=False)
    attachment = forms.FileField(
        label=_("Attachment"),
        required=False,
        help_text=_("PDF, image, text or office document; 5 MB at most."),
    )


class PostEditForm(forms.Form):
    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 6}))


class PhaseForm(forms.Form):
    to_phase = forms.ChoiceField(
        label=_("Move to"),
        choices=[
            (p, label)
            for p, label in Phase.choices
            if p in (Phase.DIVERGING, Phase.CONVERGING, Phase.TEAM_FORMED, Phase.ABANDONED)
        ],
    )
    reason = forms.CharField(
        label=_("Why"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )


class SlotForm(forms.Form):
    title = forms.CharField(label=_("Role"), max_length=120)
    days = forms.IntegerField(label=_("Days"), min_value=1, max_value=2000)
    description = forms.CharField(
        label=_("What the role does"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )


class NominationForm(forms.Form):
    statement = forms.CharField(
        label=_("Why me"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )


class EndorseForm(forms.Form):
    word = forms.CharField(label=_("A word"), max_length=300, required=False)


class ProfileForm(forms.Form):
    headline = forms.CharField(label=_("Headline"), max_length=200, required=False)
    skills = forms.CharField(
        label=_("Skills"),
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        help_text=_("One skill per line."),
    )


# The agreement -----------------------------------------------------------------------------------


class AgreementStartForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Language of the agreement"),
        choices=[("fr", _("French")), ("en", _("English"))],
        help_text=_("Both sides accept the same text, in this language."),
    )


class _VersionedForm(forms.Form):
    """A change to the agreement says which version it was made from (see clause_edit)."""

    base_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class ClauseForm(_VersionedForm):
    title = forms.CharField(label=_("Title"), max_length=200)
    text = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 6}))
    note = forms.CharField(
        label=_("What you changed, and why"),
        max_length=300,
        required=False,
        help_text=_("Read by both sides in the list of versions."),
    )


class ClauseRemoveForm(_VersionedForm):
    note = forms.CharField(label=_("Why this clause goes"), max_length=300)


class TermsForm(_VersionedForm):
    objectives = forms.CharField(
        label=_("Objectives"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text=_("One per line; add “ | how attainment is judged” after an objective."),
    )
    budget_days = forms.IntegerField(label=_("Budget cap (days)"), required=False)
    iterations = forms.IntegerField(label=_("Number of iterations"), required=False)
    iteration_days = forms.IntegerField(
        label=_("Budget cap of each iteration (days)"), required=False
    )
    trust_review_weeks = forms.IntegerField(label=_("Trust review every (weeks)"), required=False)
    note = forms.CharField(label=_("What you changed, and why"), max_length=300, required=False)


class ClauseCommentForm(forms.Form):
    body = forms.CharField(label=_("Comment"), widget=forms.Textarea(attrs={"rows": 2}))


class AcceptForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    sha256 = forms.CharField(widget=forms.HiddenInput, min_length=64, max_length=64)


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Why we decline"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The client reads it as you write it: plain words."),
    )
    partner = forms.ModelChoiceField(
        label=_("The partner we point the client to"),
        queryset=Partner.objects.none(),
        required=False,
        help_text=_("From the partner directory; leave empty if no one fits."),
    )

    def __init__(self, *args: Any, partners: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["partner"]).queryset = partners


class PartnerForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=150)
    speciality = forms.CharField(label=_("Speciality"), max_length=200, required=False)
    contact = forms.CharField(
        label=_("Contact (e-mail, phone, site)"), max_length=200, required=False
    )


class ReferralReceivedForm(forms.Form):
    partner = forms.ModelChoiceField(label=_("Partner"), queryset=Partner.objects.none())
    client_name = forms.CharField(label=_("Client"), max_length=150)
    note = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def __init__(self, *args: Any, partners: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["partner"]).queryset = partners
