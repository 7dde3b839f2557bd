"""Idempotency-Key semantics (ARCHITECTURE.md §2) through the HTTP API."""

import asyncio
import json
import uuid

import httpx

from tests.api.helpers import SLOW, card_payment


async def _authorize_calls(sandbox: httpx.AsyncClient, payment_id: str) -> int:
    rows = (await sandbox.get("/_sandbox/requests")).json()["requests"]
    return sum(
        1
        for r in rows
        if r.get("merchant_order_id") == payment_id and r["path"] == "/orders/authorize"
    )


async def test_missing_key_is_400(client):
    response = await client.post("/v1/payments", json=card_payment())
    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_missing"


async def test_replay_returns_the_stored_response_without_a_second_call(client, sandbox):
    key = {"Idempotency-Key": uuid.uuid4().hex}
    body = card_payment()
    first = await client.post("/v1/payments", json=body, headers=key)
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    # Same JSON, other whitespace and key order: the same request.
    reordered = json.dumps(dict(reversed(list(body.items()))), indent=2)
    second = await client.post(
        "/v1/payments", content=reordered, headers={**key, "Content-Type": "application/json"}
    )
    assert second.status_code == 201
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.content == first.content
    assert await _authorize_calls(sandbox, first.json()["id"]) == 1


async def test_same_key_other_body_is_422(client):
    key = {"Idempotency-Key": uuid.uuid4().hex}
    assert (await client.post("/v1/payments", json=card_payment(), headers=key)).status_code == 201
    other = await client.post("/v1/payments", json=card_payment(amount=1234), headers=key)
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"


async def test_keys_are_scoped_per_api_key(client, service_url, key_factory):
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = await client.post("/v1/payments", json=card_payment(), headers=key)
    other_key = await key_factory()
    async with httpx.AsyncClient(
        base_url=service_url, headers={"Authorization": f"Bearer {other_key}"}
    ) as other:
        second = await other.post("/v1/payments", json=card_payment(), headers=key)
    assert second.status_code == 201
    assert second.json()["id"] != first.json()["id"]


async def test_rejected_request_is_not_stored(client):
    key = {"Idempotency-Key": uuid.uuid4().hex}
    invalid = card_payment()
    invalid["amount"] = "999"
    assert (await client.post("/v1/payments", json=invalid, headers=key)).status_code == 422
    valid = await client.post("/v1/payments", json=card_payment(), headers=key)
    assert valid.status_code == 201


async def test_domain_refusal_is_not_stored(client):
    payment = (
        await client.post(
            "/v1/payments", json=card_payment(), headers={"Idempotency-Key": uuid.uuid4().hex}
        )
    ).json()
    key = {"Idempotency-Key": uuid.uuid4().hex}
    over = await client.post(
        f"/v1/payments/{payment['id']}/capture", json={"amount": 5000}, headers=key
    )
    assert over.status_code == 422
    fine = await client.post(
        f"/v1/payments/{payment['id']}/capture", json={"amount": 5000 - 4001}, headers=key
    )
    assert fine.status_code == 200, fine.text


async def test_concurrent_requests_with_one_key_make_one_provider_call(client, sandbox):
    """The ones that arrive while the first is in flight wait for it and replay it."""
    key = {"Idempotency-Key": uuid.uuid4().hex}
    body = card_payment(SLOW)
    responses = await asyncio.gather(
        *(client.post("/v1/payments", json=body, headers=key) for _ in range(6))
    )
    assert [r.status_code for r in responses] == [201] * 6, [r.text for r in responses]
    assert (
        sorted(r.headers.get("Idempotent-Replayed", "false") for r in responses)
        == ["false"] + ["true"] * 5
    )
    assert len({r.content for r in responses}) == 1
    winner = responses[0].json()
    assert await _authorize_calls(sandbox, winner["id"]) == 1
    replay = await client.post("/v1/payments", json=body, headers=key)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["id"] == winner["id"]


async def test_losing_redis_cannot_create_a_second_payment(client, redis_client, sandbox):
    key = {"Idempotency-Key": uuid.uuid4().hex}
    body = card_payment()
    first = await client.post("/v1/payments", json=body, headers=key)
    await redis_client.flushdb()  # Redis loses everything: the ledger is the guarantee
    second = await client.post("/v1/payments", json=body, headers=key)
    assert second.status_code == 201
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json()["id"] == first.json()["id"]
    assert await _authorize_calls(sandbox, first.json()["id"]) == 1
    await redis_client.flushdb()
    reused = await client.post("/v1/payments", json=card_payment(amount=5), headers=key)
    assert reused.json()["code"] == "idempotency_key_reused"


async def test_actions_are_idempotent_too(client, sandbox):
    payment = (
        await client.post(
            "/v1/payments",
            json=card_payment(capture="automatic"),
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
    ).json()
    key = {"Idempotency-Key": uuid.uuid4().hex}
    url = f"/v1/payments/{payment['id']}/refunds"
    first = await client.post(url, json={"amount": 100}, headers=key)
    second = await client.post(url, json={"amount": 100}, headers=key)
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json()["amount_refunded"] == 100
    current = (await client.get(f"/v1/payments/{payment['id']}")).json()
    assert current["amount_refunded"] == 100 == first.json()["amount_refunded"]


async def test_invalid_key_format_is_422(client):
    response = await client.post(
        "/v1/payments", json=card_payment(), headers={"Idempotency-Key": "x" * 300}
    )
    assert response.status_code == 422
