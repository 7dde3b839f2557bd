"""Bizon sandbox: rebill, OCT credits and the chargeback control."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from service.sandbox.bizon import BizonSandboxConfig, create_bizon_sandbox
from tests.sandbox.helpers import (
    APPROVED,
    CARD,
    THREE_DS,
    TOKEN_PAY,
    assert_error,
    authorize,
    order_of,
    put,
)

DECLINED_51 = "4000000000009995"
DECLINED_05 = "4000000000000002"
REBILL = {"amount": "5.00", "cvv": "123", "location": {"ip": "8.8.8.8"}}


async def rebill(client: AsyncTestClient[Any], order_id: str, **fields: Any) -> Any:
    return await client.post(f"/orders/{order_id}/rebill", json=REBILL | fields)


async def credit(client: AsyncTestClient[Any], order_id: str, **fields: Any) -> Any:
    return await client.post(f"/orders/{order_id}/credit", json={"amount": "3.00"} | fields)


async def chargeback(client: AsyncTestClient[Any], order_id: str) -> Any:
    return await client.post(f"/_sandbox/orders/{order_id}/chargeback", auth=None)


async def test_rebill_authorizes_a_new_order_on_the_parent_card(
    client: AsyncTestClient[Any],
) -> None:
    parent = await authorize(client, currency="EUR", options={"auto_charge": 1, "terminal": "T9"})
    response = await rebill(
        client,
        parent["id"],
        merchant_order_id="r-1",
        description="Monthly",
        currency="EUR",
        options={"recurring": 1, "auto_charge": 1},  # auto_charge is not for rebill: ignored
        recurring_details={"trace_id": "MCC8454300719", "indicator": "m101"},
    )
    assert response.status_code == 200, response.text
    order = order_of(response)
    assert order["id"] != parent["id"]
    assert (order["status"], order["amount"], order["currency"]) == ("authorized", "5.00", "EUR")
    assert (order["amount_charged"], order["merchant_order_id"]) == ("0.00", "r-1")
    assert (order["pan"], order["card"], order["issuer"]) == (
        parent["pan"],
        parent["card"],
        parent["issuer"],
    )
    assert (order["description"], order["descriptor"]) == ("Monthly", parent["descriptor"])
    assert (order["location"], order["secure3d"]) == ({"ip": "8.8.8.8"}, {})
    [operation] = order["operations"]
    assert (operation["type"], operation["status"], operation["iso_response_code"]) == (
        "authorize",
        "success",
        "00",
    )
    assert operation["auth_code"] == order["auth_code"]
    again = order_of(await client.get(f"/orders/{parent['id']}"))
    assert (again["status"], len(again["operations"])) == ("charged", 2)
    assert order_of(await client.get(f"/orders/{order['id']}")) == order


@pytest.mark.parametrize(("pan", "iso"), [(DECLINED_51, "51"), (DECLINED_05, "05")])
async def test_rebill_on_a_decline_card_is_declined(
    client: AsyncTestClient[Any], pan: str, iso: str
) -> None:
    parent = await authorize(client, pan=pan)
    assert parent["status"] == "declined"  # a declined order allows rebill
    order = order_of(await rebill(client, parent["id"]))
    assert order["status"] == "declined"
    [operation] = order["operations"]
    assert (operation["status"], operation["iso_response_code"]) == ("failure", iso)
    assert order["auth_code"] is None


@pytest.mark.parametrize("action", ["reverse", "refund", "chargeback", "credit"])
async def test_rebill_allowed_after_other_statuses(
    client: AsyncTestClient[Any], action: str
) -> None:
    parent = await authorize(client, options={"auto_charge": int(action != "reverse")})
    if action in ("reverse", "refund"):
        parent = order_of(await put(client, parent["id"], action))
    elif action == "chargeback":
        parent = order_of(await chargeback(client, parent["id"]))
    else:
        parent = order_of(await credit(client, parent["id"]))
    assert parent["status"] in ("reversed", "refunded", "chargedback", "credited")
    assert order_of(await rebill(client, parent["id"]))["status"] == "authorized"


async def test_rebill_refused_from_new_and_prepared(client: AsyncTestClient[Any]) -> None:
    hosted = order_of(await client.post("/orders/create", json={"amount": "1.00"}))
    assert_error(await rebill(client, hosted["id"]), 409, "state", "'new' does not allow rebill")
    prepared = await authorize(client, pan=THREE_DS)
    response = await rebill(client, prepared["id"])
    assert_error(response, 409, "state", "'prepared' does not allow rebill")
    assert_error(await rebill(client, "12345678901234567"), 404, "not_found")
    assert len((await client.get("/orders/")).json()["orders"]) == 2


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"cvv": None}, "cvv is required"),
        ({"cvv": "12"}, "cvv must be 3-4 digits"),
        ({"amount": None}, "amount is required"),
        ({"amount": "1.001"}, "amount must have at most two decimals"),
        ({"location": None}, "location is required"),
        ({"location": {"ip": "x"}}, "location.ip must be an IP address"),
        ({"currency": "EUR"}, "currency must be the parent order's currency USD"),
        ({"options": {"recurring": 2}}, "options.recurring"),
        ({"recurring_details": {"trace_id": {}}}, "recurring_details.trace_id"),
    ],
)
async def test_rebill_validation(
    client: AsyncTestClient[Any], change: dict[str, Any], fragment: str
) -> None:
    parent = await authorize(client)
    body = {k: v for k, v in (REBILL | change).items() if v is not None}
    response = await client.post(f"/orders/{parent['id']}/rebill", json=body)
    assert_error(response, 400, "validation", fragment)
    assert len((await client.get("/orders/")).json()["orders"]) == 1


async def test_rebill_cvv_optional_by_config() -> None:
    app = create_bizon_sandbox(BizonSandboxConfig(rebill_requires_cvv=False))
    async with AsyncTestClient(app=app) as client:
        client.auth = ("sandbox", "sandbox")
        parent = await authorize(client)
        body = {"amount": "1.00", "location": {"ip": "8.8.8.8"}}
        response = await client.post(f"/orders/{parent['id']}/rebill", json=body)
        assert order_of(response)["status"] == "authorized"
        bad = await client.post(f"/orders/{parent['id']}/rebill", json=body | {"cvv": "1"})
        assert_error(bad, 400, "validation", "cvv must be 3-4 digits")


@pytest.mark.parametrize("refund_first", [False, True])
async def test_credit_on_a_charged_or_refunded_order(
    client: AsyncTestClient[Any], refund_first: bool
) -> None:
    parent = await authorize(client, currency="EUR", options={"auto_charge": 1})
    if refund_first:
        await put(client, parent["id"], "refund", amount="1.00")
    response = await credit(client, parent["id"], merchant_order_id="c-1", description="Payout")
    assert response.status_code == 200, response.text
    order = order_of(response)
    assert order["id"] != parent["id"]
    assert (order["status"], order["amount"], order["currency"]) == ("credited", "3.00", "EUR")
    assert (order["amount_charged"], order["amount_refunded"]) == ("0.00", "0.00")
    assert (order["pan"], order["card"], order["merchant_order_id"]) == (
        parent["pan"],
        parent["card"],
        "c-1",
    )
    [operation] = order["operations"]
    assert (operation["type"], operation["status"]) == ("credit", "success")
    assert (operation["iso_response_code"], operation["iso_message"]) == ("00", "Approved")
    assert operation["cashflow"]["amount"] == "-3.00"
    other = order_of(await credit(client, parent["id"], currency="USD", location={"ip": "1.2.3.4"}))
    assert (other["currency"], other["location"]) == ("USD", {"ip": "1.2.3.4"})


async def test_credit_on_order_refusals(client: AsyncTestClient[Any]) -> None:
    authorized = await authorize(client)
    assert_error(
        await credit(client, authorized["id"]), 409, "state", "'authorized' does not allow credit"
    )
    charged = await authorize(client, options={"auto_charge": 1})
    response = await client.post(f"/orders/{charged['id']}/credit", json={})
    assert_error(response, 400, "validation", "amount is required")
    assert_error(await credit(client, charged["id"], currency="eur"), 400, "validation", "currency")
    assert_error(await credit(client, "12345678901234567"), 404, "not_found")


async def test_credit_to_a_card_number(client: AsyncTestClient[Any]) -> None:
    body = {"amount": "99.99", "pan": "5555555555554444", "merchant_order_id": "oct-1"}
    response = await client.post("/orders/credit", json=body)
    assert response.status_code == 200, response.text
    order = order_of(response)
    assert (order["status"], order["pan"], order["amount_charged"]) == (
        "credited",
        "555555****4444",
        "0.00",
    )
    assert order["card"] == {"subtype": "standard", "type": "mastercard", "expiration": "0/0"}
    [operation] = order["operations"]
    assert (operation["type"], operation["status"], operation["iso_response_code"]) == (
        "credit",
        "success",
        "00",
    )
    card = {"holder": "Jane Doe", "expiration_month": "06", "expiration_year": 2034}
    named = order_of(await client.post("/orders/credit", json=body | {"card": card}))
    assert named["card"] == {
        "holder": "Jane Doe",
        "subtype": "standard",
        "type": "mastercard",
        "expiration": "6/34",
    }


@pytest.mark.parametrize(("pan", "iso"), [(DECLINED_05, "05"), (DECLINED_51, "51")])
async def test_credit_to_a_decline_card(client: AsyncTestClient[Any], pan: str, iso: str) -> None:
    order = order_of(await client.post("/orders/credit", json={"amount": "1.00", "pan": pan}))
    assert order["status"] == "declined"
    [operation] = order["operations"]
    assert (operation["type"], operation["status"], operation["iso_response_code"]) == (
        "credit",
        "failure",
        iso,
    )
    assert operation["cashflow"]["amount"] == "0.00"


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"pan": None}, "pan is required"),
        ({"pan": "4111111111111112"}, "pan fails the Luhn check"),
        ({"amount": None}, "amount is required"),
        ({"card": "x"}, "card must be an object"),
        ({"card": {"expiration_month": 1, "expiration_year": 2035}}, "card.holder is required"),
        ({"card": CARD | {"cvv": "1"}}, "card.cvv must be 3-4 digits"),
        ({"card": CARD | {"expiration_month": 13}}, "card.expiration_month"),
        ({"location": {"ip": "nope"}}, "location.ip"),
    ],
)
async def test_credit_to_card_validation(
    client: AsyncTestClient[Any], change: dict[str, Any], fragment: str
) -> None:
    body = {
        k: v for k, v in ({"amount": "1.00", "pan": APPROVED} | change).items() if v is not None
    }
    assert_error(await client.post("/orders/credit", json=body), 400, "validation", fragment)


async def test_chargeback_control(client: AsyncTestClient[Any]) -> None:
    order = await authorize(client, options={"auto_charge": 1})
    await put(client, order["id"], "refund", amount="2.00")
    response = await chargeback(client, order["id"])
    assert response.status_code == 200, response.text
    marked = order_of(response)
    assert marked["status"] == "chargedback"
    operation = marked["operations"][-1]
    assert (operation["type"], operation["status"], operation["amount"]) == (
        "chargeback",
        "success",
        "7.99",
    )
    assert operation["cashflow"]["amount"] == "-7.99"
    assert_error(await put(client, order["id"], "refund"), 409, "state", "'chargedback'")
    assert_error(await chargeback(client, order["id"]), 409, "state", "does not allow chargeback")
    authorized = await authorize(client)
    assert_error(await chargeback(client, authorized["id"]), 409, "state", "'authorized'")
    assert_error(await chargeback(client, "12345678901234567"), 404, "not_found")
    full = await authorize(client, options={"auto_charge": 1})
    assert order_of(await chargeback(client, full["id"]))["operations"][-1]["amount"] == "9.99"
    logged = (await client.get("/_sandbox/requests")).json()["requests"]
    assert not any(entry["path"].startswith("/_sandbox") for entry in logged)


async def test_new_orders_are_listed_by_merchant_order_id(client: AsyncTestClient[Any]) -> None:
    parent = await authorize(client, options={"auto_charge": 1}, merchant_order_id="p")
    rebilled = order_of(await rebill(client, parent["id"], merchant_order_id="sub"))
    credited = order_of(await credit(client, parent["id"], merchant_order_id="sub"))
    body = {"amount": "1.00", "pan": APPROVED, "merchant_order_id": "sub"}
    card_credit = order_of(await client.post("/orders/credit", json=body))
    token = order_of(
        await client.post("/orders/token_pay", json=TOKEN_PAY | {"merchant_order_id": "sub"})
    )
    found = (await client.get("/orders/", params={"merchant_order_id": "sub"})).json()["orders"]
    assert [o["id"] for o in found] == [
        token["id"],
        card_credit["id"],
        credited["id"],
        rebilled["id"],
    ]
    params = {"merchant_order_id": "sub,p", "status": "credited"}
    only = (await client.get("/orders/", params=params)).json()["orders"]
    assert [o["id"] for o in only] == [card_credit["id"], credited["id"]]
    ops = (await client.get("/operations/", params={"type": "credit"})).json()["operations"]
    assert len(ops) == 2


async def test_log_and_faults_cover_the_new_endpoints(client: AsyncTestClient[Any]) -> None:
    parent = await authorize(client, merchant_order_id="p-9")
    await client.delete("/_sandbox/requests")
    fault = {"method": "POST", "path_prefix": "/orders/credit", "status": 503}
    assert (await client.post("/_sandbox/faults", json=fault)).status_code == 201
    body = {"amount": "1.00", "pan": APPROVED, "merchant_order_id": "f-1"}
    assert_error(await client.post("/orders/credit", json=body), 503, "fault")
    fault = {"method": "POST", "path_prefix": "/orders/", "status": 500, "after_apply": True}
    assert (await client.post("/_sandbox/faults", json=fault)).status_code == 201
    assert_error(await rebill(client, parent["id"]), 500, "fault")
    listed = (await client.get("/orders/")).json()["orders"]
    assert [o["status"] for o in listed] == ["authorized", "authorized"]  # rebill applied
    entries = (await client.get("/_sandbox/requests")).json()["requests"]
    assert [(e["path"], e.get("merchant_order_id")) for e in entries[:2]] == [
        ("/orders/credit", "f-1"),
        (f"/orders/{parent['id']}/rebill", "p-9"),
    ]
    client.auth = None
    assert_error(await client.post("/orders/token_pay", json=TOKEN_PAY), 401, "auth")
