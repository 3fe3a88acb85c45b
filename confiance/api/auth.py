"""API authentication: personal tokens, sent as `Authorization: Bearer cf_...`."""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import HttpBearer

from confiance.core.models import Membership
from confiance.core.services import api_token_authenticate


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Membership | None:
        api_token = api_token_authenticate(token)
        if api_token is None:
            return None
        request.membership = api_token.membership  # type: ignore[attr-defined]
        return api_token.membership
