"""JSON errors with stable codes: every answer of the API, even a failure, is JSON.

The body is always `{"code": ..., "detail": ...}`, plus `errors` (field → messages) for invalid
input. Codes are stable (clients branch on them); details are for people and may change.

| status | code | when |
|---|---|---|
| 400 | `invalid` | the service refused the input (`errors` names the fields) |
| 400 | `bad_request` | a parameter out of its range |
| 401 | `unauthenticated` | no token, an unknown, revoked or expired token |
| 403 | `insufficient_scope` | a read-only token on a write |
| 404 | `not_found` | not there, or not within your reach (the same answer) |
| 405 | `method_not_allowed` | |
| 409 | `conflict` | the state does not allow it (already done, a concurrent retry) |
| 422 | `invalid_request` | the request does not match the schema (`errors` from validation) |
| 422 | `idempotency_key_reused` | the same `Idempotency-Key` with another request |
| 429 | `rate_limited` | too many requests for this token; see `Retry-After` |
| 500 | `internal_error` | a fault of ours, logged; never expected |
"""

from __future__ import annotations

from typing import Any

from django.http import JsonResponse
from ninja.errors import HttpError

DEFAULT_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "insufficient_scope",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    422: "invalid_request",
    429: "rate_limited",
    500: "internal_error",
}


class ApiError(HttpError):
    """An HTTP error with a stable code."""

    def __init__(self, status_code: int, code: str, detail: str, **extra: Any) -> None:
        super().__init__(status_code, detail)
        self.code = code
        self.extra = extra


def error_body(status: int, detail: str, code: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"code": code or DEFAULT_CODES.get(status, "error"), "detail": detail, **extra}


def json_error(status: int, detail: str, code: str | None = None, **extra: Any) -> JsonResponse:
    return JsonResponse(error_body(status, detail, code, **extra), status=status)
