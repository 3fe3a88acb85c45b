"""The API object: routers of each capability, token auth, JSON errors (never an HTML page)."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError

from confiance.alignment.api import router as alignment_router
from confiance.api.auth import TokenAuth, TokenRateThrottle
from confiance.api.errors import DEFAULT_CODES, ApiError, error_body
from confiance.closure.api import router as closure_router
from confiance.consumption.api import router as consumption_router
from confiance.core.api import router as core_router
from confiance.engagements.api import router as engagements_router
from confiance.followup.api import router as followup_router
from confiance.ledger.api import router as ledger_router
from confiance.problems.api import router as problems_router
from confiance.pulse.api import router as pulse_router
from confiance.trust.api import router as trust_router
from confiance.webhooks.api import router as webhooks_router

logger = logging.getLogger(__name__)

DESCRIPTION = """The same truth for both sides, for your own tools.

**Authentication**: a personal token created in the web interface (*API tokens*), sent as
`Authorization: Bearer cf_...`. A token has a scope (`read`, or `write` which reads too) and an
expiry. Every answer follows the access policy of the web pages: what you cannot see there does
not exist here (404), and what your role may not do there answers 404 here too.

**Writes** call the same services as the pages. Every POST accepts an `Idempotency-Key` header:
a retry with the same key (for 24 hours) replays the first answer and never writes twice; the
same key with a different request answers 422 `idempotency_key_reused`.

**Reads** carry an `ETag`; send it back in `If-None-Match` to get 304 when nothing changed.
Lists are paged by cursor: follow `next` until it is null.

**Errors** are JSON: `{"code": ..., "detail": ...}` with a stable `code` (`invalid`,
`bad_request`, `unauthenticated`, `insufficient_scope`, `not_found`, `conflict`,
`invalid_request`, `idempotency_key_reused`, `rate_limited`). Requests are limited per token;
beyond the limit, 429 with `Retry-After`.
"""


ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "properties": {
        "code": {"type": "string", "description": "Stable: clients may branch on it."},
        "detail": {"type": "string", "description": "For people; may change."},
        "errors": {"description": "Field errors, for invalid input."},
    },
    "required": ["code", "detail"],
}
ERROR_ANSWERS = {
    "400": "Invalid input (`invalid`, with `errors`) or a parameter out of range.",
    "401": "No valid token (`unauthenticated`).",
    "403": "A read-only token on a write (`insufficient_scope`).",
    "404": "Not found, or out of your reach, or not allowed to your role (`not_found`).",
    "422": "The request does not match this schema (`invalid_request`), or an "
    "Idempotency-Key reused with another request (`idempotency_key_reused`).",
    "429": "Too many requests for this token (`rate_limited`); see Retry-After.",
}


class ConfianceAPI(NinjaAPI):
    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        """Declare the `Idempotency-Key` header on every POST, and the error answers."""
        schema = super().get_openapi_schema(*args, **kwargs)
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
        for operations in schema["paths"].values():
            for method, operation in operations.items():
                responses = operation.setdefault("responses", {})
                for status, description in ERROR_ANSWERS.items():
                    responses.setdefault(status, {"description": description, "content": error})
                if method == "get":
                    responses.setdefault("304", {"description": "Not modified (If-None-Match)."})
                if method == "post":
                    operation.setdefault("parameters", []).append(
                        {
                            "in": "header",
                            "name": "Idempotency-Key",
                            "required": False,
                            "description": "Any unique string (a UUID): a retry with the same "
                            "key replays the first answer instead of writing again.",
                            "schema": {"type": "string", "maxLength": 255},
                        }
                    )
        return schema


api = ConfianceAPI(
    title="Confiance API",
    version="1.1.0",
    description=DESCRIPTION,
    auth=TokenAuth(),
    throttle=[TokenRateThrottle()],
    urls_namespace="api",
)
api.add_router("/engagements", engagements_router)
api.add_router("/engagements", ledger_router)
api.add_router("/engagements", consumption_router)
api.add_router("/engagements", followup_router)
api.add_router("/engagements", problems_router)
api.add_router("/engagements", closure_router)
api.add_router("/engagements", pulse_router)
api.add_router("/engagements", trust_router)
api.add_router("/engagements", alignment_router)
api.add_router("", core_router)
api.add_router("/webhooks", webhooks_router)


def _error(request: HttpRequest, status: int, detail: str, code: str | None = None, **extra: Any):  # type: ignore[no-untyped-def]
    return api.create_response(request, error_body(status, detail, code, **extra), status=status)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "Not found.")


@api.exception_handler(ObjectDoesNotExist)
def does_not_exist(request: HttpRequest, exc: ObjectDoesNotExist) -> HttpResponse:
    return _error(request, 404, "Not found.")


@api.exception_handler(PermissionDenied)
def denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    # "Not yours" answers like "not found", so the API reveals nothing.
    return _error(request, 404, "Not found.")


@api.exception_handler(ValidationError)
def invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return _error(request, 400, "Invalid input.", "invalid", errors=errors)


@api.exception_handler(NinjaValidationError)
def invalid_request(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = [
        {k: v for k, v in error.items() if k in ("type", "loc", "msg")} for error in exc.errors
    ]
    return _error(request, 422, "Invalid request.", "invalid_request", errors=errors)


@api.exception_handler(Throttled)
def throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
    response = _error(request, 429, "Too many requests for this token; retry later.")
    response["Retry-After"] = str(int(exc.wait or 1))
    return response


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = _error(request, 401, "A valid token is required (Authorization: Bearer cf_...).")
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc, ApiError):
        return _error(request, exc.status_code, str(exc), exc.code, **exc.extra)
    return _error(request, exc.status_code, str(exc), DEFAULT_CODES.get(exc.status_code))


@api.exception_handler(Exception)
def unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    # A fault of ours: logged with its traceback, answered in JSON like every other error.
    logger.exception("API error on %s %s", request.method, request.path)
    return _error(request, 500, "Internal error; it was logged.")


@api.exception_handler(OverflowError)
@api.exception_handler(DataError)
def out_of_range(request: HttpRequest, exc: Exception) -> HttpResponse:
    # A number past what the database holds (an id of 20 digits): the input is wrong, not us.
    return _error(request, 400, "A value is out of range.", "bad_request")
