"""Log-in with throttling: repeated failures for an address or an IP are refused for a while."""

from __future__ import annotations

import hashlib
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext


def _key(kind: str, value: str) -> str:
    return "login-failures:" + kind + ":" + hashlib.sha256(value.encode()).hexdigest()[:32]


def _client_ip(request: HttpRequest | None) -> str:
    return request.META.get("REMOTE_ADDR", "") if request is not None else ""


class ThrottledLoginForm(AuthenticationForm):
    """Django's log-in form, refusing after LOGIN_FAILURE_LIMIT failures within the window."""

    username = forms.EmailField(
        label=_("E-mail address"), widget=forms.EmailInput(attrs={"autofocus": True})
    )

    error_messages = {**AuthenticationForm.error_messages}

    def _keys(self) -> list[str]:
        email = (self.data.get("username") or "").strip().lower()
        return [_key("email", email), _key("ip", _client_ip(self.request))]

    def clean(self) -> dict[str, Any]:
        keys = self._keys()
        limit = settings.LOGIN_FAILURE_LIMIT
        if any((cache.get(k) or 0) >= limit for k in keys):
            minutes = max(1, settings.LOGIN_FAILURE_WINDOW_SECONDS // 60)
            raise forms.ValidationError(
                ngettext(
                    "Too many failed attempts. Wait %(minutes)d minute and try again.",
                    "Too many failed attempts. Wait %(minutes)d minutes and try again.",
                    minutes,
                ),
                code="throttled",
                params={"minutes": minutes},
            )
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            for k in keys:
                cache.add(k, 0, settings.LOGIN_FAILURE_WINDOW_SECONDS)
                cache.incr(k)
            raise
        for k in keys[:1]:
            cache.delete(k)
        return cleaned
