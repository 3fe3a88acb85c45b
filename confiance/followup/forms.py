"""Forms of the follow-up: they parse and show field errors; the services decide."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from confiance.core.forms import choice_field, model_choice_field
from confiance.core.models import User
from confiance.followup.models import Attendance, MeetingChannel, PaymentKind, Side

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PersonChoiceField(forms.ModelChoiceField[User]):
    """A person, shown by full name."""

    def label_from_instance(self, obj: User) -> str:
        return obj.get_full_name()


class PeopleChoiceField(forms.ModelMultipleChoiceField[User]):
    """People, each shown by full name."""

    def label_from_instance(self, obj: User) -> str:
        return obj.get_full_name()


class CommitmentForm(forms.Form):
    side = forms.ChoiceField(label=_("Whose commitment"), choices=Side.choices)
    owner = PersonChoiceField(label=_("Owner"), queryset=User.objects.none())
    text = forms.CharField(label=_("Commitment"), widget=forms.Textarea(attrs={"rows": 2}))
    due_date = forms.DateField(label=_("Due date"), widget=DATE)

    def __init__(self, *args: Any, sides: Sequence[str], people: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = dict(Side.choices)
        choice_field(self, "side").choices = [(s, labels[s]) for s in sides]
        model_choice_field(self, "owner").queryset = people


class StatusForm(forms.Form):
    status = forms.ChoiceField(
        label=_("New status"),
        choices=[
            ("kept", _("Kept")),
            ("broken", _("Broken")),
            ("withdrawn", _("Withdrawn")),
        ],
    )
    note = forms.CharField(label=_("Note (both sides read it)"), required=False)


class RenegotiationForm(forms.Form):
    new_due_date = forms.DateField(label=_("New due date"), required=False, widget=DATE)
    new_text = forms.CharField(
        label=_("New wording"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    reason = forms.CharField(label=_("Why"), widget=forms.Textarea(attrs={"rows": 2}))


class MeetingForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    starts_at = forms.DateTimeField(
        label=_("Starts at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    duration_minutes = forms.IntegerField(label=_("Duration (minutes)"), min_value=1, initial=60)
    channel = forms.ChoiceField(label=_("Channel"), choices=MeetingChannel.choices)
    location = forms.CharField(label=_("Place or link"), required=False, max_length=300)
    attendees = PeopleChoiceField(
        label=_("Expected attendees"),
        queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, people: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "attendees").queryset = people

    def meeting_fields(self) -> dict[str, Any]:
        """The valid form's values as the meeting services take them (create, update, plan)."""
        data = self.cleaned_data
        fields = {k: data[k] for k in ("title", "starts_at", "duration_minutes", "channel")}
        return {**fields, "location": data["location"], "attendees": list(data["attendees"])}


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Why (both sides read it)"), required=False)


class MeetingRecordForm(forms.Form):
    """Attendance of each expected person, the shared minutes and the internal notes."""

    minutes = forms.CharField(
        label=_("Minutes (shared with the client)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    internal_notes = forms.CharField(
        label=_("Internal notes (never shown to the client)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, attendees: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "—"), *Attendance.choices]
        self.attendee_fields = []
        for a in attendees:
            name = f"attendance_{a.user_id}"
            self.fields[name] = forms.ChoiceField(
                label=a.user.get_full_name(), choices=choices, required=False
            )
            self.initial.setdefault(name, a.attendance)
            self.attendee_fields.append((a.user_id, name))

    def attendance(self) -> dict[int, str]:
        return {uid: self.cleaned_data.get(name) or "" for uid, name in self.attendee_fields}


class PaymentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=PaymentKind.choices)
    label = forms.CharField(label=_("Label"), max_length=200)
    amount = forms.DecimalField(label=_("Amount"), min_value=0, decimal_places=2)
    issue_date = forms.DateField(label=_("Issue date"), widget=DATE)
    due_date = forms.DateField(label=_("Due date"), widget=DATE)


class PaidForm(forms.Form):
    paid_date = forms.DateField(label=_("Paid on"), widget=DATE)


class ContestForm(forms.Form):
    reason = forms.CharField(
        label=_("Why you contest it (both sides read it)"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ResolveForm(forms.Form):
    note = forms.CharField(label=_("Note (optional)"), required=False, max_length=2000)
