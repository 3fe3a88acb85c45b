"""The API holds the word of its OpenAPI schema: schemathesis generates requests from
/api/v1/openapi.json and sends them with each role's token; no answer may be a server error,
nor break the schema (status codes, content types, bodies).

Bounded: a few examples per operation and role (SCHEMA_EXAMPLES), so the suite stays fast.
Path parameters naming an engagement point at the world's real engagement, so that generated
bodies reach the services rather than stop at a 404.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api import support
from tests.conftest import PERSONAS, World

EXAMPLES = int(os.environ.get("SCHEMA_EXAMPLES", "2"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.mark.parametrize("persona", PERSONAS)
def test_api_keeps_its_schema_for(persona: str, world: World, settings) -> None:  # type: ignore[no-untyped-def]
    settings.API_RATE_LIMIT = ""
    # Like Django's test client: requests must not close the test's connection (its transaction).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        _check_schema(persona, world)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _check_schema(persona: str, world: World) -> None:
    token = support.write_tokens(world)[persona]
    app = get_wsgi_application()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {token}"}
    failures: list[str] = []
    calls: list[int] = []
    operations = 0
    for result in schema.get_all_operations():
        operations += 1
        operation = result.ok()

        @hypothesis_settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case) -> None:  # type: ignore[no-untyped-def]
            if case.path_parameters and "engagement_id" in case.path_parameters:
                case.path_parameters["engagement_id"] = world.engagement.pk
            response = case.call(headers=headers)
            calls.append(response.status_code)
            case.validate_response(response, checks=CHECKS)

        try:
            check()
        except Exception as error:
            failures.append(f"{operation.method.upper()} {operation.path}: {error}")
    assert not failures, "\n\n".join(failures)
    assert operations > 40 and len(calls) >= operations, "every operation was exercised"
