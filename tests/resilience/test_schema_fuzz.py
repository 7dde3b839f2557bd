"""schemathesis against openapi.yaml, over every operation it documents.

Hypothesis generates requests from the schema (valid ones, and invalid ones in
negative mode) and each answer must: not be a 5xx; have a status code the schema
documents for the operation; match its documented content type and schema; and,
for every 4xx, be an RFC 9457 problem (application/problem+json with type, title,
status and code). Requests carry a key with every scope, so they reach the
handlers. The run happens in a thread: the service serves from this test's loop.
"""

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import CheckContext
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.timeout(600)

SPEC = Path(__file__).resolve().parents[2] / "openapi.yaml"
EXAMPLES = 25  # per operation and generation mode


def problem_details(ctx: CheckContext, response: Any, case: Any) -> bool | None:
    """Every error is problem+json with the members clients rely on."""
    if response.status_code < 400:
        return None
    kind = response.headers.get("content-type", [""])
    kind = kind[0] if isinstance(kind, list) else kind
    assert kind.startswith("application/problem+json"), (response.status_code, kind)
    body = response.json()
    for member in ("type", "title", "status", "code"):
        assert member in body, (member, body)
    assert body["status"] == response.status_code, body
    assert "Traceback" not in response.text
    return True


def not_a_server_error(ctx: CheckContext, response: Any, case: Any) -> bool | None:
    assert response.status_code < 500, (case.method, case.path, response.text[:500])
    return True


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    problem_details,
]


def _has_inputs(operation: Any) -> bool:
    definition = operation.definition.raw
    return bool(definition.get("parameters") or definition.get("requestBody"))


def _checker(strategy: Any, label: str, call: Any, seen: Counter[str]) -> Any:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,  # the same cases every run: CI must not turn red by chance
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def check(case: Any) -> None:
        response = call(case)
        seen[label] += 1
        case.validate_response(response, checks=CHECKS)

    return check


def fuzz(base_url: str, api_key: str) -> Counter[str]:
    schema = schemathesis.openapi.from_path(str(SPEC))
    headers = {"Authorization": f"Bearer {api_key}"}
    seen: Counter[str] = Counter()

    def call(case: Any) -> Any:
        return case.call(base_url=base_url, headers=headers, timeout=20)

    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        label = f"{operation.method.upper()} {operation.path}"
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            check = _checker(operation.as_strategy(generation_mode=mode), label, call, seen)
            try:
                check()
            except Unsatisfiable:
                # Nothing about the operation can be invalid (no parameters, no body).
                assert mode is GenerationMode.NEGATIVE, label
                assert not _has_inputs(operation), label
            except (Exception, BaseExceptionGroup) as exc:  # collect all, then report
                failures.append(f"{label} ({mode.value}): {exc}")
    assert not failures, "\n\n".join(failures)
    return seen


async def test_every_operation_holds_to_the_schema(service_url: str, api_key: str) -> None:
    seen = await asyncio.to_thread(fuzz, service_url, api_key)
    assert len(seen) >= 20, seen  # every documented operation was exercised
    print(f"schemathesis: {sum(seen.values())} requests over {len(seen)} operations")  # noqa: T201
