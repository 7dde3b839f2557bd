"""Helpers shared by the Bizon sandbox tests."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

PUBLIC_URL = "http://bizon.test"
APPROVED = "4111111111111111"
SLOW = "4000000000000259"
THREE_DS = "4000000000003063"
THREE_DS_FAILS = "4000008400001629"
CARD = {"cvv": "123", "holder": "John Smith", "expiration_month": 12, "expiration_year": 2035}
EXPIRED = CARD | {"expiration_month": "01", "expiration_year": "2020"}
TOKEN = {"type": "apple_pay", "token": "eyJwYXltZW50RGF0YSI6e30="}
TOKEN_PAY = {"amount": "100", "dsrp": TOKEN, "location": {"ip": "6.6.6.6"}}


def card_body(pan: str = APPROVED, **fields: Any) -> dict[str, Any]:
    return {"amount": "9.99", "pan": pan, "card": CARD, "location": {"ip": "6.6.6.6"}} | fields


async def authorize(client: AsyncTestClient[Any], **fields: Any) -> dict[str, Any]:
    response = await client.post("/orders/authorize", json=card_body(**fields))
    assert response.status_code in (200, 201), response.text
    return response.json()["orders"][0]


async def put(client: AsyncTestClient[Any], order_id: str, action: str, **body: Any) -> Any:
    return await client.put(f"/orders/{order_id}/{action}", json=body or None)


def order_of(response: Any) -> dict[str, Any]:
    return response.json()["orders"][0]


def assert_error(response: Any, status: int, failure_type: str, fragment: str = "") -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["failure_type"] == failure_type
    assert fragment in body["failure_message"]
