"""Request builders for the API tests."""

import json
import uuid
from typing import Any

import httpx

APPROVED = "4111111111111111"
DECLINED = "4000000000000002"
INSUFFICIENT = "4000000000009995"
SLOW = "4000000000000259"
THREE_DS = "4000000000003063"


def card_payment(
    number: str = APPROVED, amount: int = 999, capture: str = "manual", **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "amount": amount,
        "currency": "USD",
        "provider": "bizon",
        "capture": capture,
        "payment_method": {
            "type": "card",
            "card": {
                "number": number,
                "cvv": "123",
                "exp_month": 12,
                "exp_year": 2030,
                "holder": "John Smith",
            },
        },
        "customer": {"email": "foo@bar.com", "ip": "8.8.8.8"},
        "merchant_reference": uuid.uuid4().hex,
    }
    body.update(extra)
    return body


def idem() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


async def create(client: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    return await client.post("/v1/payments", json=body, headers=idem())


async def act(
    client: httpx.AsyncClient, payment_id: str, action: str, body: dict[str, Any] | None = None
) -> httpx.Response:
    return await client.post(f"/v1/payments/{payment_id}/{action}", json=body, headers=idem())


def log_events(output: str) -> list[dict[str, Any]]:
    """The JSON log lines in captured output, decoded (other lines are skipped)."""
    events = []
    for line in output.splitlines():
        if line.startswith("{"):
            try:
                events.append(json.loads(line))
            except ValueError:
                continue
    return events
