"""PaySuper sandbox: control actions, status transitions and the Order object's shape."""

from __future__ import annotations

import time
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.sandbox.paysuper_fixtures import (
    REJECTED,
    assert_error,
    control,
    create_order,
    paid_order,
    show,
    webhooks,
)

pytest_plugins = ["tests.sandbox.paysuper_fixtures"]

ZERO_TIME = {"seconds": -62135596800}
ORDER_KEYS = [
    "id",
    "transaction",
    "object",
    "status",
    "description",
    "created_at",
    "canceled_at",
    "canceled",
    "cancellation",
    "refunded",
    "refunded_at",
    "receipt_email",
    "receipt_phone",
    "receipt_number",
    "receipt_url",
    "agreement_version",
    "agreement_accepted",
    "notify_sale",
    "notify_sale_email",
    "issuer",
    "amount",
    "currency",
    "user",
    "billing_address",
    "tax",
    "method",
    "items",
    "refund",
    "metadata",
    "original_amount",
    "country",
    "type",
    "platform_id",
    "receipt_id",
    "virtual_currency_amount",
    "is_buy_for_virtual_currency",
]


def _fresh_time(stamp: dict[str, int]) -> None:
    assert set(stamp) == {"seconds", "nanos"}
    assert abs(stamp["seconds"] - time.time()) < 60
    assert 0 <= stamp["nanos"] < 1_000_000_000


# ---- the Order object ---------------------------------------------------------------------


async def test_order_object_shape(paysuper: AsyncTestClient[Any]) -> None:
    order_id = await create_order(paysuper, amount=0.12, currency="RUB")
    raw = (await paysuper.get(f"/_sandbox/orders/{order_id}")).text
    assert '"amount":0.12' in raw
    order = await show(paysuper, order_id)
    assert list(order) == ORDER_KEYS
    assert (order["id"], order["object"], order["status"]) == (order_id, "order", "created")
    assert order["transaction"].isdigit()
    assert (order["currency"], order["tax"]["currency"]) == ("rub", "rub")
    assert isinstance(order["amount"], float)
    assert isinstance(order["original_amount"], float)
    assert order["virtual_currency_amount"] == 0.0
    _fresh_time(order["created_at"])
    assert order["canceled_at"] == ZERO_TIME
    assert order["refunded_at"] == ZERO_TIME
    assert (order["canceled"], order["cancellation"], order["refunded"]) == (False, None, False)
    assert (order["method"], order["refund"], order["items"]) == (None, None, None)
    assert order["receipt_number"] == ""
    assert order["receipt_url"].endswith(order["receipt_id"])
    assert order["user"]["object"] == "user"
    assert len(order["user"]["id"]) == 24
    assert order["user"]["address"] is None
    assert order["issuer"]["embedded"] is False
    assert order["is_buy_for_virtual_currency"] is False


async def test_whole_amounts_are_written_as_floats(paysuper: AsyncTestClient[Any]) -> None:
    order_id = await create_order(paysuper, amount=595)
    raw = (await paysuper.get(f"/_sandbox/orders/{order_id}")).text
    assert '"amount":595.0' in raw
    assert '"original_amount":595.0' in raw


async def test_paid_order_method(paysuper: AsyncTestClient[Any]) -> None:
    order_id = await create_order(paysuper)
    response = await control(paysuper, order_id, "pay", card="5555555555554444")
    assert response.status_code == 200, response.text
    method = response.json()["order"]["method"]
    assert set(method) == {
        "title",
        "external_id",
        "payment_system_id",
        "saved",
        "card",
        "wallet",
        "crypto_currency",
        "refund_allowed",
    }
    assert method["title"] == "Bank card"
    card = method["card"]
    assert (card["first6"], card["last4"], card["masked"]) == ("555555", "4444", "555555...4444")
    assert (card["brand"], card["secure3d"]) == ("MASTERCARD", False)
    assert card["fingerprint"].startswith("$2a$04$")
    assert len(card["expiry_year"]) == 4


# ---- pay ----------------------------------------------------------------------------------


async def test_pay(paysuper: AsyncTestClient[Any]) -> None:
    order_id = await create_order(paysuper)
    response = await control(paysuper, order_id, "pay")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"order", "event_id"}
    assert (body["order"]["status"], body["order"]["method"]["card"]["brand"]) == (
        "processed",
        "VISA",
    )
    [event] = await webhooks(paysuper)
    assert event == {
        "event_id": body["event_id"],
        "event": "payment.success",
        "order_id": order_id,
        "attempts": 0,
        "last_status": None,
        "last_error": None,
        "delivered": False,
        "held": False,
        "given_up": False,
    }
    assert_error(await control(paysuper, order_id, "pay"), 409, "order_status_invalid")


async def test_pay_with_the_rejected_card(paysuper: AsyncTestClient[Any]) -> None:
    order_id = await create_order(paysuper)
    body = (await control(paysuper, order_id, "pay", card=REJECTED)).json()
    assert (body["order"]["status"], body["event_id"]) == ("rejected", None)
    assert await webhooks(paysuper) == []


async def test_pay_mismatch_changes_only_the_notification(paysuper: AsyncTestClient[Any]) -> None:
    order_id = await create_order(paysuper)
    response = await control(paysuper, order_id, "pay", amount=1.0, currency="usd")
    assert response.status_code == 200
    order = response.json()["order"]
    assert (order["amount"], order["currency"]) == (12.5, "eur")


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"card": "4111111111111112"}, "card must be a valid card number"),
        ({"card": 4111111111111111}, "card must be a string"),
        ({"amount": "1.00"}, "amount must be a number"),
        ({"amount": 0}, "amount must be greater than 0"),
        ({"currency": "EURO"}, "currency must be a three-letter"),
        ({"duplicates": -1}, "duplicates must be an integer from 0 to 20"),
        ({"duplicates": 21}, "duplicates must be an integer"),
        ({"duplicates": "2"}, "duplicates must be an integer"),
        ({"duplicates": True}, "duplicates must be an integer"),
        ({"hold": "yes"}, "hold must be a boolean"),
    ],
)
async def test_pay_body_validation(
    paysuper: AsyncTestClient[Any], body: dict[str, Any], fragment: str
) -> None:
    order_id = await create_order(paysuper)
    assert_error(
        await control(paysuper, order_id, "pay", **body), 400, "validation_failed", fragment
    )
    assert (await show(paysuper, order_id))["status"] == "created"


async def test_control_bodies_must_be_objects(paysuper: AsyncTestClient[Any]) -> None:
    order_id = await create_order(paysuper)
    response = await paysuper.post(f"/_sandbox/orders/{order_id}/pay", content=b"[1]")
    assert_error(response, 400, "validation_failed", "JSON object")


@pytest.mark.parametrize("action", ["pay", "refund", "chargeback", "cancel"])
async def test_unknown_order(paysuper: AsyncTestClient[Any], action: str) -> None:
    response = await paysuper.post(f"/_sandbox/orders/nope/{action}", content=b"not json")
    assert_error(response, 404, "order_not_found")
    assert_error(await paysuper.get("/_sandbox/orders/nope"), 404, "order_not_found")


# ---- refund -------------------------------------------------------------------------------


async def test_full_refund(paysuper: AsyncTestClient[Any]) -> None:
    order_id = await paid_order(paysuper)
    response = await control(paysuper, order_id, "refund", reason="Customer request")
    assert response.status_code == 200, response.text
    order = response.json()["order"]
    assert (order["status"], order["refunded"]) == ("refunded", True)
    _fresh_time(order["refunded_at"])
    assert order["canceled_at"] == ZERO_TIME
    refund = order["refund"]
    assert set(refund) == {"amount", "currency", "reason", "receipt_number"}
    assert (refund["amount"], refund["currency"], refund["reason"]) == (
        12.5,
        "eur",
        "Customer request",
    )
    assert refund["receipt_number"] == order["receipt_number"] != ""
    assert [e["event"] for e in await webhooks(paysuper)] == ["payment.success", "payment.refund"]
    assert_error(await control(paysuper, order_id, "refund"), 409, "order_status_invalid", "fully")


async def test_partial_refunds(paysuper: AsyncTestClient[Any]) -> None:
    order_id = await paid_order(paysuper)
    first = (await control(paysuper, order_id, "refund", amount=2.5)).json()["order"]
    assert (first["status"], first["refund"]["amount"]) == ("refunded", 2.5)
    assert (first["refund"]["reason"], first["amount"]) == ("Refunded by the merchant", 12.5)
    too_much = await control(paysuper, order_id, "refund", amount=10.01)
    assert_error(too_much, 400, "validation_failed", "exceeds the refundable rest 10.00")
    second = (await control(paysuper, order_id, "refund", amount=4)).json()["order"]
    assert second["refund"]["amount"] == 4.0
    assert second["receipt_number"] != first["receipt_number"]
    rest = (await control(paysuper, order_id, "refund")).json()["order"]
    assert rest["refund"]["amount"] == 6.0  # the default is what is left
    assert len([e for e in await webhooks(paysuper) if e["event"] == "payment.refund"]) == 3
    assert_error(
        await control(paysuper, order_id, "refund", amount=0.01), 409, "order_status_invalid"
    )


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"amount": -1}, "amount must be greater than 0"),
        ({"amount": 1.001}, "amount must have at most 2 decimal"),
        ({"reason": 5}, "reason must be a string"),
    ],
)
async def test_refund_body_validation(
    paysuper: AsyncTestClient[Any], body: dict[str, Any], fragment: str
) -> None:
    order_id = await paid_order(paysuper)
    response = await control(paysuper, order_id, "refund", **body)
    assert_error(response, 400, "validation_failed", fragment)
    assert (await show(paysuper, order_id))["status"] == "processed"


# ---- chargeback and cancel ----------------------------------------------------------------


async def test_chargeback(paysuper: AsyncTestClient[Any]) -> None:
    order_id = await paid_order(paysuper)
    body = (await control(paysuper, order_id, "chargeback")).json()
    assert body["order"]["status"] == "chargeback"
    assert body["order"]["refunded"] is False
    events = await webhooks(paysuper)
    assert (events[-1]["event"], events[-1]["event_id"]) == ("payment.chargeback", body["event_id"])


async def test_cancel(paysuper: AsyncTestClient[Any]) -> None:
    order_id = await create_order(paysuper)
    response = await control(paysuper, order_id, "cancel", code="timeout", reason="Too slow")
    order = response.json()["order"]
    assert (order["status"], order["canceled"]) == ("canceled", True)
    assert order["cancellation"] == {"code": "timeout", "reason": "Too slow"}
    _fresh_time(order["canceled_at"])
    assert order["refunded_at"] == ZERO_TIME
    assert [e["event"] for e in await webhooks(paysuper)] == ["payment.cancel"]
    default = (await control(paysuper, await create_order(paysuper), "cancel")).json()["order"]
    assert default["cancellation"]["code"] == "canceled_by_customer"


async def _order_in(client: AsyncTestClient[Any], status: str) -> str:
    order_id = await create_order(client)
    steps = {
        "created": [],
        "processed": [("pay", {})],
        "rejected": [("pay", {"card": REJECTED})],
        "canceled": [("cancel", {})],
        "refunded": [("pay", {}), ("refund", {})],
        "partly-refunded": [("pay", {}), ("refund", {"amount": 1})],
        "chargeback": [("pay", {}), ("chargeback", {})],
    }[status]
    for action, body in steps:
        assert (await control(client, order_id, action, **body)).status_code == 200
    return order_id


@pytest.mark.parametrize(
    ("status", "action", "allowed"),
    [
        ("created", "pay", True),
        ("created", "cancel", True),
        ("created", "refund", False),
        ("created", "chargeback", False),
        ("processed", "pay", False),
        ("processed", "cancel", False),
        ("processed", "refund", True),
        ("processed", "chargeback", True),
        ("rejected", "pay", False),
        ("rejected", "cancel", False),
        ("rejected", "refund", False),
        ("rejected", "chargeback", False),
        ("canceled", "pay", False),
        ("canceled", "cancel", False),
        ("canceled", "refund", False),
        ("canceled", "chargeback", False),
        ("refunded", "refund", False),
        ("refunded", "chargeback", False),
        ("refunded", "cancel", False),
        ("partly-refunded", "refund", True),
        ("partly-refunded", "chargeback", False),
        ("chargeback", "refund", False),
        ("chargeback", "chargeback", False),
        ("chargeback", "pay", False),
    ],
)
async def test_transitions(
    paysuper: AsyncTestClient[Any], status: str, action: str, allowed: bool
) -> None:
    order_id = await _order_in(paysuper, status)
    before = len(await webhooks(paysuper))
    response = await control(paysuper, order_id, action)
    if allowed:
        assert response.status_code == 200, response.text
        assert len(await webhooks(paysuper)) == before + 1
    else:
        assert_error(response, 409, "order_status_invalid", "does not allow")
        assert len(await webhooks(paysuper)) == before


# ---- housekeeping -------------------------------------------------------------------------


async def test_old_settled_events_are_forgotten(
    paysuper: AsyncTestClient[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("service.sandbox._paysuper_webhooks.EVENT_LIMIT", 10)
    held = [(await control(paysuper, await create_order(paysuper), "pay", hold=True)) for _ in "ab"]
    for _ in range(10):
        await paid_order(paysuper)
    events = await webhooks(paysuper)
    assert len(events) == 10
    kept = {event["event_id"] for event in events}
    assert {response.json()["event_id"] for response in held} <= kept


async def test_reset(paysuper: AsyncTestClient[Any]) -> None:
    order_id = await paid_order(paysuper)
    assert (await paysuper.post("/_sandbox/reset")).json() == {"reset": True}
    assert_error(await paysuper.get(f"/_sandbox/orders/{order_id}"), 404, "order_not_found")
    assert await webhooks(paysuper) == []
    assert (await paysuper.get("/_sandbox/requests")).json() == {"requests": []}
