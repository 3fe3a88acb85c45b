"""Forms of the core app: they parse and show field errors; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from confiance.core.models import Client, Role, TokenScope, User
from confiance.core.services import invitation_language


def model_choice_field(form: forms.BaseForm, name: str) -> forms.ModelChoiceField[Any]:
    """The form's own copy of its model choice field `name`, to narrow its queryset per request."""
    field = form.fields[name]
    if not isinstance(field, forms.ModelChoiceField):
        raise TypeError(f"{name} is not a model choice field")
    return field


def offer_choices(field: forms.ModelChoiceField[Any], rows: list[Any]) -> None:
    """Give a model choice field the rows its queryset gives, read already (same rows, same
    order): an unbound form is rendered from them (`{% form_fields %}`) without querying;
    validating a submitted value still asks the queryset."""
    iterator = field.iterator(field)
    empty = [("", field.empty_label)] if field.empty_label is not None else []
    field.offered = [*empty, *(iterator.choice(row) for row in rows)]  # type: ignore[attr-defined]


def choice_field(form: forms.BaseForm, name: str) -> forms.ChoiceField:
    """The form's own copy of its choice field `name`, to set its choices per request."""
    field = form.fields[name]
    if not isinstance(field, forms.ChoiceField):
        raise TypeError(f"{name} is not a choice field")
    return field


class SetupForm(forms.Form):
    full_name = forms.CharField(label=_("Your name"), max_length=150)
    email = forms.EmailField(label=_("E-mail address"))
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput)
    workspace_name = forms.CharField(
        label=_("Your organisation"),
        max_length=120,
        help_text=_("The name of your firm, as your clients know it."),
    )

    def clean_password(self) -> str:
        password: str = self.cleaned_data["password"]
        validate_password(password)
        return password


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"))
    role = forms.ChoiceField(label=_("Role"))
    client = forms.ModelChoiceField(
        label=_("Client (for a client contact)"), queryset=Client.objects.none(), required=False
    )
    language = forms.ChoiceField(
        label=_("Language of the invitation"),
        choices=settings.LANGUAGES,
        required=False,
        help_text=_("The e-mail and their first pages are written in it; they can switch later."),
    )

    # Least powerful first: whoever accepts the default grants the fewest rights.
    ORDER = (Role.CLIENT, Role.MEMBER, Role.EXPERT, Role.FINANCE, Role.OWNER)

    def __init__(self, *args: Any, roles: list[str], clients: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = dict(Role.choices)
        ordered = [r for r in self.ORDER if r in roles]
        choice_field(self, "role").choices = [(r, labels[r]) for r in ordered]
        self.initial.setdefault("language", invitation_language())
        model_choice_field(self, "client").queryset = clients
        if "role" not in self.initial and ordered:
            # A client contact when there is a client to bind to, else a consultant; never owner.
            has_clients = clients.exists()
            preferred = [r for r in ordered if r != Role.CLIENT or has_clients]
            self.initial["role"] = (preferred or ordered)[0]


class ClientForm(forms.Form):
    name = forms.CharField(label=_("Name of the client"), max_length=150)


class AcceptInvitationForm(forms.Form):
    full_name = forms.CharField(label=_("Your name"), max_length=150)
    password = forms.CharField(label=_("Choose a password"), widget=forms.PasswordInput)

    def clean_password(self) -> str:
        password: str = self.cleaned_data["password"]
        validate_password(password)
        return password


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Token name"), max_length=80, help_text=_("For example: reporting script.")
    )
    scope = forms.ChoiceField(
        label=_("Scope"),
        choices=TokenScope.choices,
        initial=TokenScope.READ,
        required=False,
        help_text=_("Read only, or also write (within what your role allows)."),
    )
    expires_in_days = forms.IntegerField(
        label=_("Valid for (days)"), min_value=1, max_value=366, initial=90, required=False
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # Left empty: the safe defaults (read only, 90 days).
        data["scope"] = data.get("scope") or TokenScope.READ
        data["expires_in_days"] = data.get("expires_in_days") or 90
        return data


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form, field by field where it names fields."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            for e in errors:
                form.add_error(field if field in form.fields else None, e)
    else:
        for message in error.messages:
            form.add_error(None, message)


class ErasureForm(forms.Form):
    confirm = forms.CharField(
        label=_("Type the person's e-mail address to confirm"), max_length=254
    )

    def __init__(self, *args: Any, email: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean_confirm(self) -> str:
        value: str = self.cleaned_data["confirm"].strip()
        if value.lower() != self.email.lower():
            raise ValidationError(_("This is not the person's e-mail address."))
        return value


class WorkspaceSettingsForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    currency = forms.CharField(label=_("Currency"), max_length=3, help_text=_("For example EUR."))
    minutes_per_day = forms.IntegerField(
        label=_("Minutes in a working day"),
        help_text=_("Converts days of budget to time (480 = 8 h)."),
    )
    late_logging_days = forms.IntegerField(
        label=_("Time logged late after (days)"),
        min_value=0,
        help_text=_("Entries logged more than this many days after the worked date show as late."),
    )
    show_amounts_to_client = forms.BooleanField(
        label=_("Show amounts to clients"),
        required=False,
        help_text=_("Clients then see budgets and consumption in money, which reveals rates."),
    )


class NoticePreferencesForm(forms.Form):
    """One choice per group of notices: at once, in a daily digest, or not by e-mail."""

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        from confiance.core.notices import MODE_LABELS, MODES, mode_for_group, notice_groups

        super().__init__(*args, **kwargs)
        choices = [(mode, MODE_LABELS[mode]) for mode in MODES]
        for group, label in notice_groups():
            self.fields[f"group_{group}"] = forms.ChoiceField(
                label=label,
                choices=choices,
                initial=mode_for_group(user, group),
                required=False,  # a group left out keeps its current choice
                widget=forms.Select,
            )

    def modes(self) -> dict[str, str]:
        return {
            name.removeprefix("group_"): value
            for name, value in self.cleaned_data.items()
            if name.startswith("group_") and value
        }


class TwoFactorForm(forms.Form):
    code = forms.CharField(
        label=_("Code from your authenticator app"),
        max_length=8,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )
