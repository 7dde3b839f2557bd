"""Rebill (POST /v1/payments/{id}/rebill) and OCT payouts (POST /v1/payouts)."""

import asyncio
import uuid

import httpx
import pytest

from tests.api.helpers import DECLINED, THREE_DS, act, card_payment, create, idem
from tests.conftest import SETTLE_AFTER

REBILL = {"cvv": "123", "customer": {"ip": "8.8.8.8"}}


async def _captured(client: httpx.AsyncClient, number: str = "4111111111111111") -> dict:
    return (await create(client, card_payment(number, capture="automatic", amount=1500))).json()


async def test_rebill_makes_a_linked_payment_and_captures_it(client, sandbox):
    parent = await _captured(client)
    response = await act(client, parent["id"], "rebill", REBILL | {"amount": 999})
    assert response.status_code == 201, response.text
    child = response.json()
    assert child["id"] != parent["id"]
    assert child["parent_payment_id"] == parent["id"]
    assert child["provider_reference"] != parent["provider_reference"]
    assert (child["status"], child["amount_captured"], child["currency"]) == (
        "captured",
        999,
        "USD",
    )
    assert [op["type"] for op in child["operations"]] == ["authorize", "capture"]
    assert child["payment_method"]["card"]["last4"] == "1111"
    rows = (await sandbox.get("/_sandbox/requests")).json()["requests"]
    rebills = [r for r in rows if r["path"] == f"/orders/{parent['provider_reference']}/rebill"]
    assert len(rebills) == 1
    assert rebills[0]["merchant_order_id"] == child["id"]


async def test_rebill_manual_amount_defaults_to_the_parent(client):
    parent = await _captured(client)
    child = (await act(client, parent["id"], "rebill", REBILL | {"capture": "manual"})).json()
    assert (child["status"], child["amount_authorized"]) == ("authorized", 1500)


async def test_rebill_is_idempotent(client):
    parent = await _captured(client)
    key = {"Idempotency-Key": uuid.uuid4().hex}
    url = f"/v1/payments/{parent['id']}/rebill"
    first = await client.post(url, json=REBILL, headers=key)
    second = await client.post(url, json=REBILL, headers=key)
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json()["id"] == first.json()["id"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"customer": {"ip": "8.8.8.8"}}, "cvv"),
        ({"cvv": "123"}, "customer.ip"),
        (REBILL | {"currency": "EUR"}, "currency"),
        (REBILL | {"amount": "1"}, "amount"),
    ],
)
async def test_rebill_validation(client, body, field):
    parent = await _captured(client)
    response = await act(client, parent["id"], "rebill", body)
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]


async def test_rebill_of_a_payment_still_waiting_is_refused(client):
    waiting = (await create(client, card_payment(THREE_DS))).json()
    response = await act(client, waiting["id"], "rebill", REBILL)
    assert (response.status_code, response.json()["code"]) == (409, "invalid_state")


async def test_rebill_of_a_declined_card_declines_again(client):
    parent = (await create(client, card_payment(DECLINED))).json()
    child = await act(client, parent["id"], "rebill", REBILL)
    assert child.status_code == 201
    assert child.json()["status"] == "failed"
    assert child.json()["failure"]["code"] == "do_not_honor"


async def _payout(client: httpx.AsyncClient, destination: dict, **extra) -> httpx.Response:
    body = {"amount": 700, "currency": "USD", "destination": destination} | extra
    return await client.post("/v1/payouts", json=body, headers=idem())


async def test_payout_to_the_card_of_a_past_payment(client):
    source = await _captured(client)
    response = await _payout(client, {"type": "payment", "payment_id": source["id"]})
    assert response.status_code == 201, response.text
    payout = response.json()
    assert payout["id"].startswith("po_")
    assert (payout["object"], payout["status"], payout["amount"]) == ("payout", "succeeded", 700)
    assert payout["destination"]["payment_id"] == source["id"]
    assert payout["destination"]["card"]["last4"] == "1111"
    [op] = payout["operations"]
    assert (op["type"], op["status"]) == ("credit", "succeeded")
    assert payout["provider_reference"] not in (None, source["provider_reference"])
    fetched = (await client.get(f"/v1/payouts/{payout['id']}")).json()
    assert fetched == payout
    untouched = (await client.get(f"/v1/payments/{source['id']}")).json()
    assert untouched["status"] == "captured"


async def test_payout_to_a_card_number(client):
    card = {"number": "5555555555554444", "holder": "Jane Doe", "exp_month": 1, "exp_year": 2031}
    payout = (await _payout(client, {"type": "card", "card": card}, provider="bizon")).json()
    assert payout["status"] == "succeeded"
    assert payout["destination"]["card"] == {
        "first6": "555555",
        "last4": "4444",
        "brand": "mastercard",
        "exp_month": 1,
        "exp_year": 2031,
    }


async def test_declined_payout_is_failed_not_an_error(client):
    response = await _payout(client, {"type": "card", "card": {"number": DECLINED}})
    assert response.status_code == 201
    payout = response.json()
    assert payout["status"] == "failed"
    assert payout["failure"]["code"] == "do_not_honor"


async def test_payout_from_an_uncaptured_payment_is_refused(client):
    authorized = (await create(client, card_payment())).json()
    response = await _payout(client, {"type": "payment", "payment_id": authorized["id"]})
    assert (response.status_code, response.json()["code"]) == (409, "invalid_state")
    missing = await _payout(client, {"type": "payment", "payment_id": "pay_nope"})
    assert missing.status_code == 404


@pytest.mark.parametrize(
    "destination",
    [
        {"type": "card", "card": {"number": "4111111111111112"}},
        {"type": "iban", "iban": "x"},
        {"type": "card"},
    ],
)
async def test_payout_validation(client, destination):
    response = await _payout(client, destination)
    assert response.status_code == 422


async def test_payouts_need_their_scope(service_url, key_factory):
    key = await key_factory("payments:read", "payments:write")
    async with httpx.AsyncClient(
        base_url=service_url, headers={"Authorization": f"Bearer {key}"}
    ) as c:
        response = await _payout(c, {"type": "card", "card": {"number": "4111111111111111"}})
        assert (response.status_code, response.json()["code"]) == (403, "forbidden")
        assert (await c.get("/v1/payouts/po_x")).status_code == 403


async def test_payout_timeout_stays_processing_until_sync(client, sandbox):
    await sandbox.post(
        "/_sandbox/faults",
        json={"method": "POST", "path_prefix": "/orders/credit", "delay_seconds": 1.0, "times": 1},
    )
    payout = (
        await _payout(client, {"type": "card", "card": {"number": "4111111111111111"}})
    ).json()
    assert payout["status"] == "processing"
    assert payout["operations"][0]["status"] == "pending"
    await asyncio.sleep(1.0)
    synced = (await client.post(f"/v1/payouts/{payout['id']}/sync")).json()
    assert synced["status"] == "succeeded"
    assert synced["provider_reference"]
    rows = (await sandbox.get("/_sandbox/requests")).json()["requests"]
    assert (
        sum(1 for r in rows if r.get("merchant_order_id") == payout["id"] and r["method"] == "POST")
        == 1
    )


async def test_rebill_stands_when_its_capture_is_refused(client, sandbox):
    parent = await _captured(client)
    await sandbox.post(
        "/_sandbox/faults",
        json={"method": "PUT", "path_prefix": "/orders/", "status": 409, "times": 1},
    )
    response = await act(client, parent["id"], "rebill", REBILL)
    assert response.status_code == 201  # the rebill happened: never a problem, never a retry
    child = response.json()
    assert child["status"] == "authorized"
    assert [(op["type"], op["status"]) for op in child["operations"]] == [
        ("authorize", "succeeded"),
        ("capture", "failed"),
    ]
    assert child["operations"][1]["failure"]["code"] == "provider_rejected"


async def test_payout_with_no_record_settles_failed_after_the_reconcile_age(client, sandbox):
    await sandbox.post(
        "/_sandbox/faults",
        json={"method": "POST", "path_prefix": "/orders/credit", "status": 503, "times": 1},
    )
    payout = (
        await _payout(client, {"type": "card", "card": {"number": "4111111111111111"}})
    ).json()
    assert payout["status"] == "processing"  # a 5xx after sending: unknown, not failed
    early = (await client.post(f"/v1/payouts/{payout['id']}/sync")).json()
    assert early["status"] == "processing"
    await asyncio.sleep(SETTLE_AFTER.total_seconds())
    late = (await client.post(f"/v1/payouts/{payout['id']}/sync")).json()
    assert late["status"] == "failed"
    assert late["failure"]["code"] == "provider_no_record"


async def test_payout_card_needs_holder_and_expiry_together(client):
    card = {"number": "5555555555554444", "holder": "Jane Doe"}
    response = await _payout(client, {"type": "card", "card": card})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["destination.card"]
    bare = await _payout(client, {"type": "card", "card": {"number": "5555555555554444"}})
    assert bare.json()["status"] == "succeeded"
