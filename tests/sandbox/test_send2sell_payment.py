"""Send2Sell sandbox: the 403 refusals, paying with credits (200) and Payment Required (402)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.sandbox.send2sell_fixtures import (
    S2S_BIG,
    S2S_COUPON,
    S2S_EMPTY,
    S2S_FOREIGN,
    S2S_FORM,
    S2S_LOCKED,
    S2S_PLAIN,
    S2S_SMALL,
    s2s_credits,
    s2s_in_loop_client,
    s2s_json,
    s2s_message,
    s2s_new_order,
    s2s_order,
    s2s_pay,
    s2s_sandbox_client,
    s2s_set_credits,
)

pytest_plugins = ["tests.sandbox.send2sell_fixtures"]

NOT_AUTHORIZED = "You are not authorized to access this order."
NO_PRODUCTS = "No cart or products linked to this order."
NO_PAYMENT = "This order does not allow payment. Please contact us."

# The doc's two samples, both of order 370562.
DOC_SUCCESS = (
    '{"id":370562,"status":"Paid","created_at":"2020-11-04T14:27:31-06:00","cost":69,'
    '"discount":0,"tax":0,"total":0,"use_credits":"1","consumed_credits":69,'
    '"payment_method":"Prepaid credits","credits_needed":0,"net_total":0,"coupon_name":""}'
)
DOC_PAYMENT_REQUIRED = (
    '{"id":370562,"status":"Payment Pending","created_at":"2020-11-04T14:27:31-06:00",'
    '"cost":69,"discount":0,"tax":5.69,"total":74.69,"use_credits":"1","credits_needed":69,'
    '"net_total":74.69,"coupon_name":""}'
)


# ---- 403, in order of precedence -------------------------------------------------------------


@pytest.mark.parametrize(
    ("order_id", "message"),
    [(S2S_FOREIGN, NOT_AUTHORIZED), (S2S_EMPTY, NO_PRODUCTS), (S2S_LOCKED, NO_PAYMENT)],
)
async def test_catalogue_refusals(
    s2s_client: AsyncTestClient[Any], order_id: int, message: str
) -> None:
    assert s2s_message(await s2s_pay(s2s_client, order_id), 403) == message
    order = await s2s_order(s2s_client, order_id)
    assert (order["status"], order["billing"]) == ("Payment Pending", None)
    assert [(a["status_code"], a["outcome"], a["message"]) for a in order["attempts"]] == [
        (403, "refused", message)
    ]
    assert await s2s_credits(s2s_client) == "100.00"


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ({"other_user": True, "has_products": False, "locked": True}, NOT_AUTHORIZED),
        ({"other_user": True}, NOT_AUTHORIZED),
        ({"has_products": False, "locked": True}, NO_PRODUCTS),
        ({"has_products": False}, NO_PRODUCTS),
        ({"locked": True}, NO_PAYMENT),
    ],
)
async def test_refusal_precedence(
    s2s_client: AsyncTestClient[Any], flags: dict[str, bool], message: str
) -> None:
    order = await s2s_new_order(s2s_client, cost="10", **flags)
    assert s2s_message(await s2s_pay(s2s_client, order["id"]), 403) == message


async def test_another_users_paid_order_is_not_authorized(s2s_client: AsyncTestClient[Any]) -> None:
    order = await s2s_new_order(s2s_client, cost="10", other_user=True, has_products=False)
    assert s2s_message(await s2s_pay(s2s_client, order["id"]), 403) == NOT_AUTHORIZED


# ---- 200: paid with credits ------------------------------------------------------------------


async def test_success_is_the_docs_sample(s2s_client: AsyncTestClient[Any]) -> None:
    response = await s2s_pay(s2s_client, S2S_PLAIN)
    assert response.status_code == 200
    assert response.text == DOC_SUCCESS
    assert await s2s_credits(s2s_client) == "31.00"
    order = await s2s_order(s2s_client, S2S_PLAIN)
    assert order["status"] == "Paid"
    assert (order["consumed_credits"], order["credits_needed"], order["total"]) == (
        "69.00",
        "0.00",
        "0.00",
    )
    assert order["tax"] == "5.69"  # the order's own tax; the paid API view shows 0
    assert order["billing"]["first_name"] == "Jane"
    [attempt] = order["attempts"]
    assert (attempt["status_code"], attempt["outcome"], attempt["message"]) == (200, "paid", None)
    assert (attempt["credits_needed"], attempt["consumed_credits"], attempt["credits_after"]) == (
        "69.00",
        "69.00",
        "31.00",
    )


async def test_success_with_a_coupon_draws_exactly_the_credits(
    s2s_client: AsyncTestClient[Any],
) -> None:
    response = await s2s_pay(s2s_client, S2S_COUPON)
    assert response.status_code == 200, response.text
    body = s2s_json(response)
    assert body == {
        "id": S2S_COUPON,
        "status": "Paid",
        "created_at": "2020-11-04T15:02:10-06:00",
        "cost": Decimal("120.5"),
        "discount": Decimal("20.5"),
        "tax": 0,
        "total": 0,
        "use_credits": "1",
        "consumed_credits": 100,
        "payment_method": "Prepaid credits",
        "credits_needed": 0,
        "net_total": 0,
        "coupon_name": "WELCOME20",
    }
    assert '"cost":120.5,' in response.text
    assert '"consumed_credits":100,' in response.text
    assert await s2s_credits(s2s_client) == "0.00"


async def test_amounts_are_json_numbers(s2s_client: AsyncTestClient[Any]) -> None:
    body = (await s2s_pay(s2s_client, S2S_COUPON)).json()
    for name in ("cost", "discount", "tax", "total", "consumed_credits", "credits_needed"):
        assert isinstance(body[name], int | float), name
    assert isinstance(body["id"], int)
    assert body["use_credits"] == "1"


async def test_amounts_are_rounded_half_up_and_written_short(
    s2s_client: AsyncTestClient[Any],
) -> None:
    order = await s2s_new_order(s2s_client, cost="10.10", discount="0.05", tax="0.80")
    await s2s_set_credits(s2s_client, "5")
    pending = await s2s_pay(s2s_client, order["id"])
    assert pending.status_code == 402
    assert '"cost":10.1,"discount":0.05,"tax":0.8,"total":10.85,' in pending.text
    assert '"credits_needed":10.05,"net_total":10.85,' in pending.text
    await s2s_set_credits(s2s_client, "10.05")
    paid = await s2s_pay(s2s_client, order["id"])
    assert '"consumed_credits":10.05,' in paid.text
    assert await s2s_credits(s2s_client) == "0.00"


async def test_a_free_order_is_paid_with_no_credits(s2s_client: AsyncTestClient[Any]) -> None:
    order = await s2s_new_order(s2s_client, cost="0")
    await s2s_set_credits(s2s_client, "0")
    response = await s2s_pay(s2s_client, order["id"])
    assert response.status_code == 200, response.text
    assert response.json()["consumed_credits"] == 0


async def test_new_orders_are_dated_in_the_docs_offset(s2s_client: AsyncTestClient[Any]) -> None:
    order = await s2s_new_order(s2s_client, cost="1")
    body = (await s2s_pay(s2s_client, order["id"])).json()
    created = datetime.fromisoformat(body["created_at"])
    assert body["created_at"].endswith("-06:00")
    assert created.utcoffset() == timedelta(hours=-6)


# ---- 402: not enough credits -----------------------------------------------------------------


async def test_payment_required_is_the_docs_sample(s2s_client: AsyncTestClient[Any]) -> None:
    await s2s_set_credits(s2s_client, "68.99")
    response = await s2s_pay(s2s_client, S2S_PLAIN)
    assert response.status_code == 402
    assert response.text == DOC_PAYMENT_REQUIRED
    assert await s2s_credits(s2s_client) == "68.99"


async def test_payment_required_saves_the_billing(s2s_client: AsyncTestClient[Any]) -> None:
    response = await s2s_pay(s2s_client, S2S_BIG, S2S_FORM | {"company": "Acme"})
    assert response.status_code == 402
    assert s2s_json(response) == {
        "id": S2S_BIG,
        "status": "Payment Pending",
        "created_at": "2020-11-06T16:40:27-06:00",
        "cost": 500,
        "discount": 0,
        "tax": Decimal("41.25"),
        "total": Decimal("541.25"),
        "use_credits": "1",
        "credits_needed": 500,
        "net_total": Decimal("541.25"),
        "coupon_name": "",
    }
    assert await s2s_credits(s2s_client) == "100.00"
    order = await s2s_order(s2s_client, S2S_BIG)
    assert (order["status"], order["consumed_credits"]) == ("Payment Pending", "0.00")
    assert order["billing"]["company"] == "Acme"
    [attempt] = order["attempts"]
    assert (attempt["status_code"], attempt["outcome"], attempt["consumed_credits"]) == (
        402,
        "payment_required",
        "0.00",
    )


async def test_each_attempt_replaces_the_billing(s2s_client: AsyncTestClient[Any]) -> None:
    await s2s_pay(s2s_client, S2S_BIG, S2S_FORM | {"company": "Acme"})
    await s2s_pay(s2s_client, S2S_BIG, S2S_FORM | {"city": "Dallas"})
    order = await s2s_order(s2s_client, S2S_BIG)
    assert (order["billing"]["company"], order["billing"]["city"]) == (None, "Dallas")
    assert [a["status_code"] for a in order["attempts"]] == [402, 402]


# ---- pay once, top up ------------------------------------------------------------------------


async def test_an_order_is_paid_once(s2s_client: AsyncTestClient[Any]) -> None:
    assert (await s2s_pay(s2s_client, S2S_SMALL)).status_code == 200
    again = await s2s_pay(s2s_client, S2S_SMALL, S2S_FORM | {"city": "Dallas"})
    assert s2s_message(again, 403) == NO_PAYMENT
    assert await s2s_credits(s2s_client) == "85.00"
    order = await s2s_order(s2s_client, S2S_SMALL)
    assert order["billing"]["city"] == "Austin"  # a refused request saves nothing
    assert [a["status_code"] for a in order["attempts"]] == [200, 403]


async def test_top_up_then_success(s2s_client: AsyncTestClient[Any]) -> None:
    assert (await s2s_pay(s2s_client, S2S_BIG)).status_code == 402
    top_up = await s2s_client.post("/_sandbox/credits/top-up", json={"amount": "400"})
    assert top_up.json() == {"credits": "500.00"}
    response = await s2s_pay(s2s_client, S2S_BIG)
    assert response.status_code == 200, response.text
    assert response.json()["consumed_credits"] == 500
    assert await s2s_credits(s2s_client) == "0.00"
    order = await s2s_order(s2s_client, S2S_BIG)
    assert [a["outcome"] for a in order["attempts"]] == ["payment_required", "paid"]


async def test_credits_are_drawn_across_orders(s2s_client: AsyncTestClient[Any]) -> None:
    assert (await s2s_pay(s2s_client, S2S_PLAIN)).status_code == 200  # 100 - 69
    assert (await s2s_pay(s2s_client, S2S_SMALL)).status_code == 200  # 31 - 15
    assert (await s2s_pay(s2s_client, S2S_COUPON)).status_code == 402  # 100 needed
    assert await s2s_credits(s2s_client) == "16.00"


async def test_concurrent_payments_pay_once() -> None:
    async with s2s_in_loop_client() as client:
        replies = await asyncio.gather(*(s2s_pay(client, S2S_SMALL) for _ in range(5)))
        assert sorted(r.status_code for r in replies) == [200, 403, 403, 403, 403]
        assert await s2s_credits(client) == "85.00"


async def test_custom_starting_credits() -> None:
    async with s2s_sandbox_client(credits="1000") as client:
        assert await s2s_credits(client) == "1000.00"
        assert (await s2s_pay(client, S2S_BIG)).status_code == 200
        assert await s2s_credits(client) == "500.00"
