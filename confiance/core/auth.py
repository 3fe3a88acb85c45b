"""Log-in and password reset with throttling that stops attackers, not users.

Failures slow down the next attempt progressively, per account and per client address, instead of
locking anyone out: after the wait, the right password works. An address gets many more free
failures than an account, so people behind one proxy are not slowed down by one another's typos.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from confiance.core import totp
from confiance.core.throttle import FailureDelay, RateLimit


def account_delay() -> FailureDelay:
    return FailureDelay("login-account", settings.LOGIN_FAILURE_LIMIT)


def address_delay() -> FailureDelay:
    return FailureDelay("login-address", settings.LOGIN_ADDRESS_FAILURE_LIMIT)


def _client_ip(request: HttpRequest | None) -> str:
    return request.META.get("REMOTE_ADDR", "") if request is not None else ""


def _wait_error(seconds: int) -> forms.ValidationError:
    return forms.ValidationError(
        ngettext(
            "Too many failed attempts. Wait %(seconds)d second and try again.",
            "Too many failed attempts. Wait %(seconds)d seconds and try again.",
            seconds,
        ),
        code="throttled",
        params={"seconds": seconds},
    )


class ThrottledLoginForm(AuthenticationForm):
    """Django's log-in form, delaying attempts progressively after failures."""

    username = forms.EmailField(
        label=_("E-mail address"), widget=forms.EmailInput(attrs={"autofocus": True})
    )
    code = forms.CharField(
        label=_("Code from your authenticator app"),
        help_text=_("Only if you turned two-factor authentication on."),
        required=False,
        max_length=8,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )

    error_messages = {**AuthenticationForm.error_messages}

    def clean(self) -> dict[str, Any]:
        email = (self.data.get("username") or "").strip().lower()
        address = _client_ip(self.request)
        checks = [(account_delay(), email), (address_delay(), address)]
        wait = max(delay.wait_seconds(value) for delay, value in checks)
        if wait:
            raise _wait_error(wait)
        try:
            cleaned = super().clean()
            user = self.get_user()
            code = self.cleaned_data.get("code") or ""
            if user is not None and user.totp_secret and not totp.verify(user.totp_secret, code):
                raise forms.ValidationError(
                    _("Enter the 6-digit code your authenticator app shows now."), code="totp"
                )
        except forms.ValidationError:
            for delay, value in checks:
                delay.failed(value)
            raise
        account_delay().reset(email)
        return cleaned


class ThrottledPasswordResetForm(PasswordResetForm):
    """Django's reset form, sending at most a few e-mails per address and per client an hour.

    Over the limit the answer is the same page, without an e-mail: it tells nobody whether an
    account exists, and a mailbox cannot be flooded.
    """

    request: HttpRequest | None = None

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.request = kwargs.get("request")
        super().save(*args, **kwargs)

    def send_mail(self, *args: Any, **kwargs: Any) -> None:
        to_email = str(args[4] if len(args) > 4 else kwargs.get("to_email", ""))
        per_address = RateLimit("reset-email", settings.PASSWORD_RESET_PER_HOUR, 3600)
        per_client = RateLimit("reset-client", 4 * settings.PASSWORD_RESET_PER_HOUR, 3600)
        if per_address.hit(to_email.lower()) and per_client.hit(_client_ip(self.request)):
            super().send_mail(*args, **kwargs)
