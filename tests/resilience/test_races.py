"""Races on one key and on one payment, through the HTTP API, against the simulator.

* 50 concurrent requests with one Idempotency-Key: one provider call, and every
  caller gets the same answer (the late ones wait for the first and replay it).
* 50 concurrent partial captures, then 50 concurrent partial refunds, each with
  its own key, on one payment asking for more than it holds: never a 5xx, the
  amounts never exceed the authorization (resp. the captured amount), every call
  the provider received is an operation in the ledger, and a sync afterwards
  changes nothing (the provider and the ledger agree).
"""

import asyncio
import uuid
from collections import Counter

import httpx
import pytest

from tests.api.helpers import SLOW, card_payment
from tests.resilience.invariants import assert_ledger_invariants

pytestmark = pytest.mark.timeout(120)

RACERS = 50


async def _requests(sandbox: httpx.AsyncClient) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = (await sandbox.get("/_sandbox/requests")).json()["requests"]
    return rows


async def test_fifty_requests_with_one_key_make_one_call_and_get_one_answer(
    client: httpx.AsyncClient, sandbox: httpx.AsyncClient, database_url: str
) -> None:
    key = {"Idempotency-Key": uuid.uuid4().hex}
    body = card_payment(SLOW, capture="automatic")  # in flight long enough for all to pile up
    responses = await asyncio.gather(
        *(client.post("/v1/payments", json=body, headers=key) for _ in range(RACERS))
    )
    assert Counter(r.status_code for r in responses) == {201: RACERS}, [
        r.text for r in responses if r.status_code != 201
    ]
    assert len({r.content for r in responses}) == 1  # byte for byte the same answer
    replayed = Counter(r.headers.get("Idempotent-Replayed") for r in responses)
    assert replayed == {None: 1, "true": RACERS - 1}
    payment_id = responses[0].json()["id"]
    calls = [
        r
        for r in await _requests(sandbox)
        if r.get("merchant_order_id") == payment_id and r["path"] == "/orders/authorize"
    ]
    assert len(calls) == 1
    await assert_ledger_invariants(database_url, {payment_id})


async def _race(
    client: httpx.AsyncClient, payment_id: str, action: str, amount: int
) -> list[httpx.Response]:
    return list(
        await asyncio.gather(
            *(
                client.post(
                    f"/v1/payments/{payment_id}/{action}",
                    json={"amount": amount},
                    headers={"Idempotency-Key": uuid.uuid4().hex},
                )
                for _ in range(RACERS)
            )
        )
    )


def _refused_cleanly(responses: list[httpx.Response]) -> None:
    for r in responses:
        assert r.status_code < 500, r.text
        if r.status_code >= 400:
            assert r.headers["content-type"].startswith("application/problem+json"), r.text


async def test_fifty_captures_then_fifty_refunds_on_one_payment(
    client: httpx.AsyncClient, sandbox: httpx.AsyncClient, database_url: str
) -> None:
    authorized = 5_000
    made = await client.post(
        "/v1/payments",
        json=card_payment(amount=authorized),
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert made.json()["status"] == "authorized", made.text
    payment_id = made.json()["id"]
    reference = made.json()["provider_reference"]

    captures = await _race(client, payment_id, "capture", 150)  # 50 x 150 = 7 500 > 5 000
    _refused_cleanly(captures)
    after_captures = (await client.get(f"/v1/payments/{payment_id}")).json()
    captured = after_captures["amount_captured"]
    assert 0 < captured <= authorized
    ok = [r for r in captures if r.status_code == 200]
    assert ok, "no capture went through"

    refunds = await _race(client, payment_id, "refunds", 100)  # 50 x 100 = 5 000
    _refused_cleanly(refunds)
    payment = (await client.get(f"/v1/payments/{payment_id}")).json()
    assert payment["amount_captured"] == captured
    assert 0 < payment["amount_refunded"] <= captured

    ops = payment["operations"]
    succeeded = Counter()
    for op in ops:
        if op["status"] == "succeeded":
            succeeded[op["type"]] += op["amount"]
    assert succeeded["capture"] == captured
    assert succeeded["refund"] == payment["amount_refunded"]
    assert not [op for op in ops if op["status"] == "pending"]
    # Every call the provider got is an operation of the ledger: nothing sent unrecorded.
    sent = Counter(
        str(r["path"]).rsplit("/", 1)[-1]
        for r in await _requests(sandbox)
        if str(r["path"]).startswith(f"/orders/{reference}/")
    )
    recorded = Counter(op["type"] for op in ops if op["source"] == "api")
    assert sent["charge"] == recorded["capture"]
    assert sent["refund"] == recorded["refund"]
    # The provider agrees: a sync finds nothing to import or correct.
    synced = await client.post(
        f"/v1/payments/{payment_id}/sync", headers={"Idempotency-Key": uuid.uuid4().hex}
    )
    assert synced.status_code == 200, synced.text
    again = synced.json()
    assert (again["amount_captured"], again["amount_refunded"]) == (
        captured,
        payment["amount_refunded"],
    )
    assert len(again["operations"]) == len(ops)
    await assert_ledger_invariants(database_url, {payment_id})
