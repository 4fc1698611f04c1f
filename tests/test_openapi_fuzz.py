"""schemathesis against /openapi.json: no 5xx for any generated input, and every response
matches its documented schema. Bounded so CI stays fast."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings


def check_operation(operation) -> None:  # type: ignore[no-untyped-def]
    @given(case=operation.as_strategy())
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    def check(case) -> None:  # type: ignore[no-untyped-def]
        response = case.call()
        assert response.status_code < 500, f"{operation.label}: {response.status_code} {response.text[:300]}"
        case.validate_response(response)

    check()


def test_api_conforms_to_its_schema(app, demo) -> None:  # type: ignore[no-untyped-def]
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 3
    for operation in operations:
        check_operation(operation)
