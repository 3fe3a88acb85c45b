"""API authentication: personal tokens, sent as `Authorization: Bearer cf_...`.

A token carries a scope: "read" tokens may only use safe methods (GET, HEAD, OPTIONS); any other
method answers 403 `insufficient_scope` (the one 403 the API documents besides rate limits).
Requests are limited per token (`API_RATE_LIMIT`, e.g. "600/min"): beyond it, 429.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from ninja.security import HttpBearer
from ninja.throttling import SimpleRateThrottle

from confiance.api.errors import ApiError
from confiance.core.models import Membership
from confiance.core.services import api_token_authenticate

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Membership | None:
        api_token = api_token_authenticate(token)
        if api_token is None:
            return None
        if request.method not in SAFE_METHODS and not api_token.can_write:
            raise ApiError(
                403, "insufficient_scope", "This token may only read: create one with write scope."
            )
        request.api_token = api_token  # type: ignore[attr-defined]
        request.membership = api_token.membership  # type: ignore[attr-defined]
        return api_token.membership


class TokenRateThrottle(SimpleRateThrottle):
    """So many requests per token and period; the rate is read from settings at each request."""

    scope = "token"

    def __init__(self) -> None:  # the rate is not fixed at start-up (tests change it)
        self.rate = None

    def allow_request(self, request: HttpRequest) -> bool:
        self.rate = settings.API_RATE_LIMIT or None
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request)

    def get_cache_key(self, request: HttpRequest) -> str | None:
        token = getattr(request, "api_token", None)
        if token is None:
            return None  # the browser session of the ledger's page: throttled as a page is not
        return f"api-throttle-{token.pk}"
