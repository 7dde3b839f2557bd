"""Bizon sandbox: POST /orders/token_pay (Apple Pay / Google Pay tokens)."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.sandbox.helpers import APPROVED, CARD, TOKEN_PAY, assert_error, order_of

REBILL = {"amount": "5.00", "cvv": "123", "location": {"ip": "8.8.8.8"}}


async def rebill(client: AsyncTestClient[Any], order_id: str) -> Any:
    return await client.post(f"/orders/{order_id}/rebill", json=REBILL)


async def test_token_pay_approved(client: AsyncTestClient[Any]) -> None:
    client_data = {"name": "Fox", "zip": 152589, "email": "max@test.com"}
    body = TOKEN_PAY | {"description": "Pay for cinema", "client": client_data}
    response = await client.post("/orders/token_pay", json=body | {"merchant_order_id": "t-1"})
    assert response.status_code == 200, response.text
    order = order_of(response)
    assert (order["status"], order["amount"], order["amount_charged"]) == (
        "authorized",
        "100.00",
        "0.00",
    )
    assert order["pan"] == "410937****4320"
    assert order["card"] == {"subtype": "classic", "type": "visa", "expiration": "7/20"}
    assert (order["issuer"]["bin"], order["client"]["zip"]) == ("410937", "152589")
    secure3d = order["secure3d"]
    assert len(secure3d.pop("xid")) == 64
    assert len(secure3d.pop("cavv")) == 28
    assert secure3d == {
        "dsrp_type": "apple_pay",
        "reason": "dsrp",
        "authorization_status": "Y",
        "dsrp": "1",
        "eci": "5",
        "version": "1",
        "scenario": "unknown",
    }
    [operation] = order["operations"]
    assert (operation["type"], operation["status"], operation["iso_response_code"]) == (
        "authorize",
        "success",
        "00",
    )


async def test_token_pay_auto_charge_and_rebill(client: AsyncTestClient[Any]) -> None:
    body = TOKEN_PAY | {"dsrp": {"type": "google_pay", "token": "abc"}}
    order = order_of(
        await client.post("/orders/token_pay", json=body | {"options": {"auto_charge": 1}})
    )
    assert (order["status"], order["amount_charged"]) == ("charged", "100.00")
    assert order["secure3d"]["dsrp_type"] == "google_pay"
    assert [op["type"] for op in order["operations"]] == ["authorize", "charge"]
    assert order_of(await rebill(client, order["id"]))["status"] == "authorized"


async def test_token_pay_declined(client: AsyncTestClient[Any]) -> None:
    body = TOKEN_PAY | {"dsrp": {"type": "apple_pay", "token": "decline"}}
    order = order_of(
        await client.post("/orders/token_pay", json=body | {"options": {"auto_charge": 1}})
    )
    assert order["status"] == "declined"
    [operation] = order["operations"]
    assert (operation["status"], operation["iso_response_code"]) == ("failure", "05")
    assert order_of(await rebill(client, order["id"]))["status"] == "declined"


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"pan": APPROVED}, "pan is not accepted by token_pay"),
        ({"card": CARD}, "card is not accepted by token_pay"),
        ({"secure3d": {"eci": "05"}}, "secure3d is not accepted by token_pay"),
        ({"options": {"force3d": 1}}, "options.force3d is not accepted"),
        ({"options": {"return_url": "http://shop.test"}}, "options.return_url is not accepted"),
        ({"options": {"secure3d20_return_url": "http://x.test"}}, "options.secure3d20_return_url"),
        ({"options": {"auto_charge": 3}}, "options.auto_charge"),
        ({"dsrp": None}, "dsrp is required"),
        ({"dsrp": "token"}, "dsrp must be an object"),
        ({"dsrp": {"token": "x"}}, "dsrp.type is required"),
        ({"dsrp": {"type": "samsung_pay", "token": "x"}}, "dsrp.type must be"),
        ({"dsrp": {"type": "apple_pay", "token": ""}}, "dsrp.token is required"),
        ({"dsrp": {"type": "apple_pay", "token": 5}}, "dsrp.token must be a string"),
        ({"location": None}, "location is required"),
        ({"amount": None}, "amount is required"),
    ],
)
async def test_token_pay_refusals(
    client: AsyncTestClient[Any], change: dict[str, Any], fragment: str
) -> None:
    body = {k: v for k, v in (TOKEN_PAY | change).items() if v is not None}
    assert_error(await client.post("/orders/token_pay", json=body), 400, "validation", fragment)
    assert (await client.get("/orders/")).json() == {"orders": []}
