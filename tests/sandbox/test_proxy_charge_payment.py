"""Proxy-Solutions sandbox: a charge's price, currencies, promo codes and the API balance."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.sandbox.proxy_fixtures import (
    BALANCE_USD,
    CARD_USD,
    KEY,
    proxy_balance,
    proxy_charge,
    proxy_errors,
    proxy_invoices,
    proxy_order,
    proxy_payment,
    proxy_sandbox_client,
)

pytest_plugins = ["tests.sandbox.proxy_fixtures"]

INSUFFICIENT = ["Insufficient funds on the balance."]
PAYMENT_KEYS = ["discount", "merchant", "payer_currency", "payer_amount", "url"]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


# ---- price -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("order_id", "price"), [(1001, "12"), (1002, "45"), (1003, "9")])
async def test_default_is_thirty_days(
    proxy_client: AsyncTestClient[Any], order_id: int, price: str
) -> None:
    payment = await proxy_payment(proxy_client, order_id, CARD_USD)
    assert payment["payer_amount"] == Decimal(price)
    assert payment["discount"] == 0


@pytest.mark.parametrize(
    ("order_id", "period", "price"),
    [
        (1001, 7, "2.8"),
        (1001, 1, "0.4"),
        (1002, 1, "1.5"),
        (1002, 45, "67.5"),
        (1003, 365, "109.5"),
    ],
)
async def test_period_prices_per_day(
    proxy_client: AsyncTestClient[Any], order_id: int, period: int, price: str
) -> None:
    payment = await proxy_payment(proxy_client, order_id, CARD_USD | {"period": period})
    assert payment["payer_amount"] == Decimal(price)


async def test_period_of_one_rounds_half_up(proxy_client: AsyncTestClient[Any]) -> None:
    # 45.00 / 30 * 1 = 1.5 USD; in RUB 138.75; with SAVE10 1.35 USD = 124.875 -> 124.88.
    payment = await proxy_payment(
        proxy_client,
        1002,
        {"merchant": "card", "currency": "RUB", "period": 1, "promocode": "SAVE10"},
    )
    assert payment["payer_amount"] == Decimal("124.88")


@pytest.mark.parametrize("period", [None, 1, 100, 3650])
async def test_amount_wins_over_period(
    proxy_client: AsyncTestClient[Any], period: int | None
) -> None:
    payment = await proxy_payment(proxy_client, 1001, CARD_USD | {"amount": 5, "period": period})
    assert payment["payer_amount"] == 5


async def test_amount_is_usd_before_the_discount(proxy_client: AsyncTestClient[Any]) -> None:
    body = {"merchant": "card", "currency": "EUR", "amount": 20, "promocode": "HALF"}
    payment = await proxy_payment(proxy_client, 1001, body)
    assert payment["payer_amount"] == Decimal("9.2")
    assert payment["discount"] == 50


# ---- promo codes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "discount", "price"),
    [
        ("SAVE10", 10, "10.8"),
        ("save10", 10, "10.8"),
        ("Save10", 10, "10.8"),
        ("HALF", 50, "6"),
        ("half", 50, "6"),
        ("hAlF", 50, "6"),
    ],
)
async def test_promo_codes_any_case(
    proxy_client: AsyncTestClient[Any], code: str, discount: int, price: str
) -> None:
    payment = await proxy_payment(proxy_client, 1001, CARD_USD | {"promocode": code})
    assert payment["discount"] == discount
    assert payment["payer_amount"] == Decimal(price)


# ---- currencies ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("merchant", "currency", "body", "expected"),
    [
        ("card", "USD", {}, "12"),
        ("card", "EUR", {}, "11.04"),
        ("card", "RUB", {}, "1110"),
        ("card", "JPY", {}, "1812"),
        ("crypto", "USDT", {}, "12"),
        ("crypto", "BTC", {}, "0.00018"),
        ("card", "JPY", {"period": 7}, "423"),  # 2.80 * 151 = 422.8
        ("card", "JPY", {"amount": 1.5}, "227"),  # 226.5 half-up (not half-even 226)
        ("card", "JPY", {"amount": 10, "promocode": "SAVE10"}, "1359"),
        ("card", "EUR", {"amount": 0.75, "promocode": "HALF"}, "0.35"),  # 0.345
        ("card", "RUB", {"amount": 0.01}, "0.93"),  # 0.925
        ("crypto", "BTC", {"amount": 0.03, "promocode": "HALF"}, "0.00000023"),  # ...225
        ("crypto", "BTC", {"amount": 0.01}, "0.00000015"),
        ("crypto", "USDT", {"amount": 0.01, "promocode": "HALF"}, "0.01"),  # 0.005
    ],
)
async def test_every_currency(
    proxy_client: AsyncTestClient[Any],
    merchant: str,
    currency: str,
    body: dict[str, Any],
    expected: str,
) -> None:
    sent = {"merchant": merchant, "currency": currency} | body
    payment = await proxy_payment(proxy_client, 1001, sent)
    assert payment["payer_amount"] == Decimal(expected)
    assert payment["payer_currency"] == currency
    assert payment["merchant"] == merchant


async def test_amounts_are_json_numbers(proxy_client: AsyncTestClient[Any]) -> None:
    jpy = await proxy_charge(proxy_client, 1001, {"merchant": "card", "currency": "JPY"})
    assert '"payer_amount":1812,' in jpy.text
    assert '"discount":0,' in jpy.text
    btc = await proxy_charge(proxy_client, 1001, {"merchant": "crypto", "currency": "BTC"})
    assert '"payer_amount":0.00018,' in btc.text
    tiny = await proxy_charge(
        proxy_client, 1001, {"merchant": "crypto", "currency": "BTC", "amount": 0.01}
    )
    assert '"payer_amount":0.00000015,' in tiny.text  # fixed-point, never 1.5E-7
    usd = await proxy_charge(proxy_client, 1001, CARD_USD | {"promocode": "SAVE10"})
    assert '"discount":10,' in usd.text
    assert '"payer_amount":10.8,' in usd.text
    assert type(usd.json()["payment"]["payer_amount"]) is float


async def test_payment_shape(proxy_client: AsyncTestClient[Any]) -> None:
    response = await proxy_charge(proxy_client, 1001, CARD_USD)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert list(response.json()) == ["payment"]
    assert list(response.json()["payment"]) == PAYMENT_KEYS


async def test_payer_amount_rounding_to_zero_is_refused(
    proxy_client: AsyncTestClient[Any],
) -> None:
    body = {"merchant": "card", "currency": "EUR", "amount": 0.01, "promocode": "HALF"}
    assert proxy_errors(await proxy_charge(proxy_client, 1001, body)) == [
        "The amount is too small to be paid in the selected currency."
    ]
    assert await proxy_invoices(proxy_client) == []


# ---- the API balance -------------------------------------------------------------------------


async def test_balance_payment_draws_down_and_extends(proxy_client: AsyncTestClient[Any]) -> None:
    before = await proxy_order(proxy_client, 1001)
    response = await proxy_charge(proxy_client, 1001, BALANCE_USD, KEY)
    assert response.status_code == 200
    assert response.json() == {
        "payment": {
            "discount": 0,
            "merchant": "balance",
            "payer_currency": "USD",
            "payer_amount": 12,
            "url": None,
        }
    }
    assert await proxy_balance(proxy_client) == "88.00"
    after = await proxy_order(proxy_client, 1001)
    assert at(after["paid_until"]) - at(before["paid_until"]) == timedelta(days=30)
    assert after["status"] == "active"
    [charge] = after["charges"]
    assert charge["merchant"] == "balance"
    assert charge["payer_amount"] == "12.00"
    assert charge["invoice_id"] is None
    assert charge["days"] == "30"
    assert charge["paid_until"] == after["paid_until"]
    assert await proxy_invoices(proxy_client) == []


async def test_balance_with_promo_and_period(proxy_client: AsyncTestClient[Any]) -> None:
    body = BALANCE_USD | {"period": 10, "promocode": "half"}
    payment = await proxy_payment(proxy_client, 1002, body, KEY)
    assert payment["payer_amount"] == Decimal("7.5")
    assert payment["discount"] == 50
    assert await proxy_balance(proxy_client) == "92.50"
    [charge] = (await proxy_order(proxy_client, 1002))["charges"]
    assert (charge["amount_usd"], charge["discount"], charge["days"]) == ("15.00", "50", "10")


async def test_balance_with_an_amount_buys_fractional_days(
    proxy_client: AsyncTestClient[Any],
) -> None:
    before = await proxy_order(proxy_client, 1001)
    await proxy_payment(proxy_client, 1001, BALANCE_USD | {"amount": 1.3}, KEY)
    after = await proxy_order(proxy_client, 1001)
    assert at(after["paid_until"]) - at(before["paid_until"]) == timedelta(days=3.25)
    assert after["charges"][0]["days"] == "3.25"
    assert await proxy_balance(proxy_client) == "98.70"


async def test_balance_too_small_changes_nothing(proxy_client: AsyncTestClient[Any]) -> None:
    assert (await proxy_client.post("/_sandbox/balance", json={"balance": "44.99"})).is_success
    before = await proxy_order(proxy_client, 1002)
    response = await proxy_charge(proxy_client, 1002, BALANCE_USD, KEY)
    assert proxy_errors(response) == INSUFFICIENT
    assert await proxy_balance(proxy_client) == "44.99"
    assert await proxy_order(proxy_client, 1002) == before
    assert await proxy_invoices(proxy_client) == []


async def test_balance_exactly_enough_reaches_zero(proxy_client: AsyncTestClient[Any]) -> None:
    await proxy_client.post("/_sandbox/balance", json={"balance": "45"})
    await proxy_payment(proxy_client, 1002, BALANCE_USD, KEY)
    assert await proxy_balance(proxy_client) == "0.00"
    assert proxy_errors(await proxy_charge(proxy_client, 1001, BALANCE_USD, KEY)) == INSUFFICIENT


async def test_promo_can_make_the_balance_enough(proxy_client: AsyncTestClient[Any]) -> None:
    await proxy_client.post("/_sandbox/balance", json={"balance": "6.00"})
    assert proxy_errors(await proxy_charge(proxy_client, 1001, BALANCE_USD, KEY)) == INSUFFICIENT
    body = BALANCE_USD | {"promocode": "HALF"}
    assert (await proxy_payment(proxy_client, 1001, body, KEY))["payer_amount"] == 6
    assert await proxy_balance(proxy_client) == "0.00"


async def test_payments_draw_down_one_after_another(proxy_client: AsyncTestClient[Any]) -> None:
    for _ in range(8):
        await proxy_payment(proxy_client, 1001, BALANCE_USD, KEY)
    assert await proxy_balance(proxy_client) == "4.00"
    assert proxy_errors(await proxy_charge(proxy_client, 1001, BALANCE_USD, KEY)) == INSUFFICIENT
    assert len((await proxy_order(proxy_client, 1001))["charges"]) == 8


async def test_configured_balance() -> None:
    async with proxy_sandbox_client(balance="11.99") as client:
        assert await proxy_balance(client) == "11.99"
        assert proxy_errors(await proxy_charge(client, 1001, BALANCE_USD, KEY)) == INSUFFICIENT


async def test_expired_order_is_extended_from_now(proxy_client: AsyncTestClient[Any]) -> None:
    before = await proxy_order(proxy_client, 1003)
    assert before["status"] == "expired"
    await proxy_payment(proxy_client, 1003, BALANCE_USD | {"period": 10}, KEY)
    after = await proxy_order(proxy_client, 1003)
    charge = after["charges"][0]
    assert after["status"] == "active"
    assert at(after["paid_until"]) - at(charge["at"]) == timedelta(days=10)
    assert await proxy_balance(proxy_client) == "97.00"


async def test_active_order_is_extended_from_its_end(proxy_client: AsyncTestClient[Any]) -> None:
    before = await proxy_order(proxy_client, 1002)
    await proxy_payment(proxy_client, 1002, BALANCE_USD | {"period": 2}, KEY)
    await proxy_payment(proxy_client, 1002, BALANCE_USD | {"period": 3}, KEY)
    after = await proxy_order(proxy_client, 1002)
    assert at(after["paid_until"]) - at(before["paid_until"]) == timedelta(days=5)
    assert [charge["days"] for charge in after["charges"]] == ["2", "3"]


async def test_repeating_fractional_days(proxy_client: AsyncTestClient[Any]) -> None:
    before = await proxy_order(proxy_client, 1002)
    await proxy_payment(proxy_client, 1002, BALANCE_USD | {"amount": 1}, KEY)
    after = await proxy_order(proxy_client, 1002)
    assert after["charges"][0]["days"] == "0.666667"  # 1 / 1.50 a day
    extended = at(after["paid_until"]) - at(before["paid_until"])
    assert extended == timedelta(seconds=57_600)  # 2/3 of a day, to the second
