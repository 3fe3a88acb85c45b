"""HTTP behaviour of the whole API: idempotent POSTs, ETags on reads, JSON for every error.

A middleware rather than per-endpoint code, so that no endpoint can forget it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_vary_headers, set_response_etag

from confiance.api.errors import json_error
from confiance.api.models import IdempotentRequest
from confiance.core.models import ApiToken
from confiance.core.services import api_token_authenticate

API_PREFIX = "/api/"
MAX_KEY_LENGTH = 255


def _token(request: HttpRequest) -> ApiToken | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return api_token_authenticate(value.strip())


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    for part in (request.method or "", request.get_full_path()):
        digest.update(part.encode() + b"\0")
    digest.update(request.body)
    return digest.hexdigest()


def _replay(stored: IdempotentRequest, fingerprint: str) -> HttpResponse:
    if stored.fingerprint != fingerprint:
        return json_error(
            422,
            "This Idempotency-Key was used with another request; use a new key.",
            "idempotency_key_reused",
        )
    response = HttpResponse(
        bytes(stored.body), status=stored.status, content_type=stored.content_type
    )
    response["Idempotent-Replayed"] = "true"
    return response


class ApiMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        key = request.headers.get("Idempotency-Key")
        if request.method == "POST" and key is not None:
            response = self._idempotent(request, key)
        else:
            response = self.get_response(request)
        if response.status_code >= 400 and "json" not in response.get("Content-Type", ""):
            # Django's own pages (an unknown path, a crash outside the API's handlers), or a
            # bodiless answer (416 of a download): JSON, with the answer's own headers kept.
            converted = json_error(response.status_code, response.reason_phrase)
            for header, value in response.items():
                if header.lower() not in ("content-type", "content-length"):
                    converted.headers.setdefault(header, value)
            response = converted
        if request.method in ("GET", "HEAD") and response.status_code == 200:
            response = self._conditional(request, response)
        return response

    def _idempotent(self, request: HttpRequest, key: str) -> HttpResponseBase:
        if not key or len(key) > MAX_KEY_LENGTH:
            return json_error(400, "An Idempotency-Key has 1 to 255 characters.", "bad_request")
        token = _token(request)
        if token is None:
            return self.get_response(request)  # the API answers 401 or 403 itself
        fingerprint = _fingerprint(request)
        cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)
        IdempotentRequest.objects.filter(token=token, key=key, created_at__lt=cutoff).delete()
        stored = IdempotentRequest.objects.filter(token=token, key=key).first()
        if stored is not None:
            return _replay(stored, fingerprint)
        try:
            # The answer is recorded in the write's own transaction: a retry finds either the
            # answer, or nothing written. Two concurrent requests with one key: the second's
            # insert fails on the unique key, its transaction (its write) is undone, and it
            # answers what the first did.
            with transaction.atomic():
                response = self.get_response(request)
                if response.status_code < 500 and isinstance(response, HttpResponse):
                    IdempotentRequest.objects.create(
                        workspace_id=token.workspace_id,
                        token=token,
                        key=key,
                        fingerprint=fingerprint,
                        status=response.status_code,
                        content_type=response.get("Content-Type", "application/json"),
                        body=response.content,
                    )
        except IntegrityError:
            stored = IdempotentRequest.objects.filter(token=token, key=key).first()
            if stored is None:
                raise
            return _replay(stored, fingerprint)
        return response

    def _conditional(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if not isinstance(response, HttpResponse):  # streamed (a file): no ETag
            return response
        # Answers depend on who asks: caches must keep them apart, and revalidate.
        patch_vary_headers(response, ["Authorization", "Cookie"])
        response.headers.setdefault("Cache-Control", "private, no-cache")
        set_response_etag(response)
        # Given a response, Django answers it or a 304/412, never None (the stubs allow None).
        conditional = get_conditional_response(request, etag=response["ETag"], response=response)
        return conditional if conditional is not None else response
