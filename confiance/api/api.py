"""The API object: routers of each capability, token auth, and JSON errors (never a 500 page)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import ValidationError as NinjaValidationError

from confiance.api.auth import TokenAuth
from confiance.engagements.api import router as engagements_router
from confiance.ledger.api import router as ledger_router

api = NinjaAPI(
    title="Confiance API",
    version="1.0.0",
    description=(
        "The same truth for both sides. Authenticate with a personal token created in the "
        "web interface: `Authorization: Bearer cf_...`. Every answer follows the same access "
        "policy as the web pages: what you cannot see there does not exist here."
    ),
    auth=TokenAuth(),
    urls_namespace="api",
)
api.add_router("/engagements", engagements_router)
api.add_router("/engagements", ledger_router)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"detail": "Not found."}, status=404)


@api.exception_handler(PermissionDenied)
def denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    # "Not yours" answers like "not found", so the API reveals nothing.
    return api.create_response(request, {"detail": "Not found."}, status=404)


@api.exception_handler(ValidationError)
def invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return api.create_response(request, {"detail": "Invalid input.", "errors": errors}, status=400)


@api.exception_handler(NinjaValidationError)
def invalid_request(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    return api.create_response(
        request, {"detail": "Invalid request.", "errors": exc.errors}, status=422
    )
