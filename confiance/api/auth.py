"""API authentication: personal tokens, sent as `Authorization: Bearer cf_...`.

A token carries a scope: "read" tokens may only use safe methods (GET, HEAD, OPTIONS); any other
method answers 403 `insufficient_scope` (the one 403 the API documents besides rate limits).
Requests are limited per token (`API_RATE_LIMIT`, e.g. "600/min"): beyond it, 429.
"""

from __future__ import annotations

import functools
import threading
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from ninja.security import HttpBearer
from ninja.throttling import BaseThrottle, SimpleRateThrottle

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


# A process serves a token's requests from a lease of this fraction of its limit before it asks
# the shared cache again (at least one request: small limits are counted one by one).
LEASE_FRACTION = 20


class TokenLeases:
    """Per-token request counts of fixed windows, kept in the shared cache (shared by every
    worker) but taken from it in leases, so most requests cost no cache access.

    The shared count of a window is what all processes have taken: it never exceeds the limit,
    so the processes together never serve more than the limit in a window. A lease a process
    does not use by the window's end is lost: with W workers, up to (W - 1) leases fewer than the
    limit may be served in a window (5 % of the limit per worker) — the price of not writing
    the shared cache (a file when there is no Redis) on every request.
    """

    def __init__(self) -> None:
        self._held: dict[tuple[int, int], int] = {}  # (token, window) -> requests left in lease
        self._lock = threading.Lock()

    def take(self, token_id: int, limit: int, period: int, now: float) -> float | None:
        """None if this request may go on; else the seconds until the window ends."""
        window = int(now // period)
        key = (token_id, window)
        with self._lock:
            left = self._held.get(key, 0)
            if left > 0:
                self._held[key] = left - 1
                return None
            if len(self._held) > 10_000:  # old windows of tokens no longer seen
                self._held = {k: v for k, v in self._held.items() if k[1] >= window}
        wait = (window + 1) * period - now
        shared = f"api-throttle-{token_id}-{window}"
        cache.add(shared, 0, timeout=period + 1)
        wanted = max(1, limit // LEASE_FRACTION)
        try:
            taken = cache.incr(shared, wanted)
        except ValueError:  # expired between add and incr: a new window's first request
            cache.add(shared, wanted, timeout=period + 1)
            taken = wanted
        granted = min(wanted, limit - (taken - wanted))
        if granted <= 0:
            return max(wait, 1.0)
        with self._lock:
            self._held[key] = self._held.get(key, 0) + granted - 1
        return None


_LEASES = TokenLeases()


def forget_leases() -> None:
    """Drop this process's leases (when the shared cache is emptied: tests)."""
    global _LEASES
    _LEASES = TokenLeases()


@functools.lru_cache(maxsize=8)
def _parse_rate(rate: str) -> tuple[int, int]:
    """("600/min") -> (600, 60), as django-ninja reads a rate."""
    parsed = SimpleRateThrottle(rate)
    assert parsed.num_requests is not None and parsed.duration is not None
    return parsed.num_requests, parsed.duration


class TokenRateThrottle(BaseThrottle):
    """So many requests per token and period (`API_RATE_LIMIT`, read at each request: tests
    change it), counted in fixed windows shared by every worker through the cache."""

    def __init__(self, leases: TokenLeases | None = None) -> None:
        self.leases = leases
        self._waits = threading.local()

    def allow_request(self, request: HttpRequest) -> bool:
        token = getattr(request, "api_token", None)
        rate = settings.API_RATE_LIMIT or None
        if rate is None or token is None:
            # No limit; or the browser session of the ledger's page: throttled as a page is not.
            return True
        limit, period = _parse_rate(rate)
        wait = (self.leases or _LEASES).take(token.pk, limit, period, time.time())
        self._waits.value = wait
        return wait is None

    def wait(self) -> float | None:
        return getattr(self._waits, "value", None)
