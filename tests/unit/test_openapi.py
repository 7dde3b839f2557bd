"""openapi.yaml is generated from the code, committed, and complete."""

from pathlib import Path

import yaml

from service.openapi import render

SPEC = Path(__file__).resolve().parents[2] / "openapi.yaml"


def test_openapi_is_current():
    assert SPEC.read_text() == render(), "openapi.yaml is stale: run `make openapi` and commit it"


def test_every_operation_is_documented():
    spec = yaml.safe_load(SPEC.read_text())
    ids = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            where = f"{method.upper()} {path}"
            ids.append(op.get("operationId"))
            assert op.get("operationId"), where
            assert op.get("summary"), where
            assert op.get("description"), where
            if path.startswith("/v1/") and not path.startswith("/v1/webhooks/"):
                errors = {code for code in op["responses"] if code.startswith(("4", "5"))}
                assert {"401", "403", "429"} <= errors, where
                for code in errors:
                    content = op["responses"][code]["content"]["application/problem+json"]
                    assert content["examples"], f"{where} {code}"
    assert len(ids) == len(set(ids))
    for action in ("", "/{payment_id}/capture", "/{payment_id}/refunds"):
        schema = spec["paths"][f"/v1/payments{action}"]["post"]["requestBody"]["content"][
            "application/json"
        ]["schema"]
        ref = schema.get("$ref", "").rsplit("/", 1)[-1]
        examples = schema.get("examples") or spec["components"]["schemas"].get(ref, {}).get(
            "examples"
        )
        assert examples, action


def test_money_moving_posts_declare_the_idempotency_header():
    """Swagger UI can only send the header when the document declares it."""
    spec = yaml.safe_load(SPEC.read_text())
    for action in (
        "",
        "/{payment_id}/capture",
        "/{payment_id}/void",
        "/{payment_id}/refunds",
        "/{payment_id}/cancel",
    ):
        params = spec["paths"][f"/v1/payments{action}"]["post"]["parameters"]
        [header] = [p for p in params if p["name"] == "Idempotency-Key"]
        assert header["in"] == "header"
        assert header["required"] is True
