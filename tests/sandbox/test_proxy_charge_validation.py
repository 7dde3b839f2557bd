"""Proxy-Solutions sandbox: the charge endpoint's checks, their messages, and its auth."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.sandbox.proxy_fixtures import (
    BALANCE_USD,
    CARD_USD,
    KEY,
    WRONG_KEY,
    proxy_balance,
    proxy_charge,
    proxy_errors,
    proxy_invoices,
    proxy_message,
    proxy_order,
    proxy_payment,
    proxy_sandbox_client,
)

pytest_plugins = ["tests.sandbox.proxy_fixtures"]

REQUIRED = ["The merchant field is required.", "The currency field is required."]
NOT_AN_OBJECT = ["The request body must be a JSON object."]


# ---- required fields and types ---------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [{}, {"merchant": None, "currency": None}, {"merchant": "", "currency": ""}, b"", b"  "],
    ids=["empty-object", "nulls", "empty-strings", "no-body", "blank-body"],
)
async def test_merchant_and_currency_are_required(
    proxy_client: AsyncTestClient[Any], body: Any
) -> None:
    assert proxy_errors(await proxy_charge(proxy_client, 1001, body)) == REQUIRED


async def test_every_bad_field_is_listed_in_order(proxy_client: AsyncTestClient[Any]) -> None:
    body = {"merchant": 5, "currency": ["USD"], "period": "7", "amount": True, "promocode": 3}
    assert proxy_errors(await proxy_charge(proxy_client, 1001, body)) == [
        "The merchant must be a string.",
        "The currency must be a string.",
        "The period must be an integer.",
        "The amount must be a number.",
        "The promocode must be a string.",
    ]


async def test_required_and_range_errors_together(proxy_client: AsyncTestClient[Any]) -> None:
    body = {"period": 0, "amount": 10.555, "promocode": "NOPE"}
    assert proxy_errors(await proxy_charge(proxy_client, 1001, body)) == [
        *REQUIRED,
        "The period must be between 1 and 3650.",
        "The amount must have at most 2 decimal places.",
        "The promocode is invalid.",
    ]


@pytest.mark.parametrize("merchant", ["paypal", "CARD", "Balance", " card"])
async def test_unknown_merchant(proxy_client: AsyncTestClient[Any], merchant: str) -> None:
    response = await proxy_charge(proxy_client, 1001, {"merchant": merchant, "currency": "USD"})
    assert proxy_errors(response) == ["The selected merchant is invalid."]


async def test_bad_merchant_checks_currency_against_all(
    proxy_client: AsyncTestClient[Any],
) -> None:
    response = await proxy_charge(proxy_client, 1001, {"merchant": "paypal", "currency": "XYZ"})
    assert proxy_errors(response) == [
        "The selected merchant is invalid.",
        "The selected currency is invalid.",
    ]


@pytest.mark.parametrize(
    ("merchant", "currency"),
    [
        ("balance", "EUR"),
        ("balance", "BTC"),
        ("card", "BTC"),
        ("card", "USDT"),
        ("card", "usd"),
        ("crypto", "USD"),
        ("crypto", "EUR"),
        ("card", "GBP"),
    ],
)
async def test_currency_must_be_one_of_the_merchants(
    proxy_client: AsyncTestClient[Any], merchant: str, currency: str
) -> None:
    response = await proxy_charge(
        proxy_client, 1001, {"merchant": merchant, "currency": currency}, KEY
    )
    assert proxy_errors(response) == ["The selected currency is invalid."]


@pytest.mark.parametrize(
    ("period", "message"),
    [
        (0, "The period must be between 1 and 3650."),
        (-3, "The period must be between 1 and 3650."),
        (3651, "The period must be between 1 and 3650."),
        (10**40, "The period must be between 1 and 3650."),
        (7.5, "The period must be an integer."),
        (7.0, "The period must be an integer."),
        ("7", "The period must be an integer."),
        (True, "The period must be an integer."),
        ([7], "The period must be an integer."),
    ],
)
async def test_period_checks(proxy_client: AsyncTestClient[Any], period: Any, message: str) -> None:
    response = await proxy_charge(proxy_client, 1001, CARD_USD | {"period": period})
    assert proxy_errors(response) == [message]


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (b"0", "The amount must be greater than 0."),
        (b"0.00", "The amount must be greater than 0."),
        (b"-5", "The amount must be greater than 0."),
        (b"10.001", "The amount must have at most 2 decimal places."),
        (b"1e-9", "The amount must have at most 2 decimal places."),
        (b"100000.01", "The amount must not be greater than 100000."),
        (b"1e400", "The amount must not be greater than 100000."),
        (b'"10"', "The amount must be a number."),
        (b"true", "The amount must be a number."),
        (b"{}", "The amount must be a number."),
    ],
)
async def test_amount_checks(
    proxy_client: AsyncTestClient[Any], amount: bytes, message: str
) -> None:
    body = b'{"merchant":"card","currency":"USD","amount":' + amount + b"}"
    assert proxy_errors(await proxy_charge(proxy_client, 1001, body)) == [message]


@pytest.mark.parametrize(
    ("amount", "expected"),
    [(b"10.000", "10"), (b"1E1", "10"), (b"10.5", "10.5"), (b"100000", "100000")],
)
async def test_amount_values_accepted_exactly(
    proxy_client: AsyncTestClient[Any], amount: bytes, expected: str
) -> None:
    body = b'{"merchant":"card","currency":"USD","amount":' + amount + b"}"
    payment = await proxy_payment(proxy_client, 1001, body)
    assert str(payment["payer_amount"]) == expected


@pytest.mark.parametrize("promocode", ["NOPE", "SAVE 10", "SAVE100", "HALF!"])
async def test_unknown_promocode(proxy_client: AsyncTestClient[Any], promocode: str) -> None:
    response = await proxy_charge(proxy_client, 1001, CARD_USD | {"promocode": promocode})
    assert proxy_errors(response) == ["The promocode is invalid."]


async def test_empty_promocode_is_absent(proxy_client: AsyncTestClient[Any]) -> None:
    payment = await proxy_payment(proxy_client, 1001, CARD_USD | {"promocode": ""})
    assert payment["discount"] == 0


async def test_unknown_fields_are_ignored(proxy_client: AsyncTestClient[Any]) -> None:
    payment = await proxy_payment(proxy_client, 1001, CARD_USD | {"colour": "blue"})
    assert payment["payer_amount"] == 12


@pytest.mark.parametrize(
    "body",
    [b"[1]", b'"card"', b"5", b"null", b"{", b"\xff\xfe", b"[" * 5000 + b"]" * 5000],
    ids=["array", "string", "number", "null", "malformed", "not-utf8", "deep"],
)
async def test_body_must_be_a_json_object(proxy_client: AsyncTestClient[Any], body: bytes) -> None:
    assert proxy_errors(await proxy_charge(proxy_client, 1001, body)) == NOT_AN_OBJECT


async def test_invalid_charge_changes_nothing(proxy_client: AsyncTestClient[Any]) -> None:
    before = await proxy_order(proxy_client, 1001)
    await proxy_charge(proxy_client, 1001, BALANCE_USD | {"promocode": "NOPE"}, KEY)
    await proxy_charge(proxy_client, 1001, CARD_USD | {"amount": 0})
    assert await proxy_order(proxy_client, 1001) == before
    assert await proxy_balance(proxy_client) == "100.00"
    assert await proxy_invoices(proxy_client) == []


# ---- order id --------------------------------------------------------------------------------


@pytest.mark.parametrize("order_id", ["abc", "1.5", "1e3", "1001x", "%20", "%C2%B2", "-"])
async def test_non_integer_order_id_is_422(
    proxy_client: AsyncTestClient[Any], order_id: str
) -> None:
    response = await proxy_charge(proxy_client, order_id, CARD_USD)
    assert proxy_errors(response) == ["The order id must be an integer."]


@pytest.mark.parametrize("order_id", ["9999", "0", "-1001", "123456789012345678901234"])
async def test_unknown_order_is_404(proxy_client: AsyncTestClient[Any], order_id: str) -> None:
    response = await proxy_charge(proxy_client, order_id, CARD_USD)
    assert proxy_message(response, 404) == "Order not found."


async def test_unknown_order_wins_over_a_bad_body(proxy_client: AsyncTestClient[Any]) -> None:
    response = await proxy_charge(proxy_client, 9999, {"merchant": 1})
    assert proxy_message(response, 404) == "Order not found."


async def test_expired_order_can_be_paid(proxy_client: AsyncTestClient[Any]) -> None:
    assert (await proxy_order(proxy_client, 1003))["status"] == "expired"
    payment = await proxy_payment(proxy_client, 1003, CARD_USD)
    assert payment["payer_amount"] == 9


# ---- authentication --------------------------------------------------------------------------


async def test_card_needs_no_key(proxy_client: AsyncTestClient[Any]) -> None:
    assert (await proxy_payment(proxy_client, 1001, CARD_USD))["merchant"] == "card"


async def test_card_accepts_the_right_key(proxy_client: AsyncTestClient[Any]) -> None:
    assert (await proxy_payment(proxy_client, 1001, CARD_USD, KEY))["merchant"] == "card"


@pytest.mark.parametrize("body", [CARD_USD, BALANCE_USD, {}, b"[1]"])
async def test_wrong_key_is_401_whatever_the_body(
    proxy_client: AsyncTestClient[Any], body: Any
) -> None:
    response = await proxy_charge(proxy_client, 1001, body, WRONG_KEY)
    assert response.json() == {"message": "Unauthenticated."}
    assert response.status_code == 401


@pytest.mark.parametrize("order_id", ["9999", "abc"])
async def test_wrong_key_is_checked_before_the_order(
    proxy_client: AsyncTestClient[Any], order_id: str
) -> None:
    response = await proxy_charge(proxy_client, order_id, CARD_USD, WRONG_KEY)
    assert proxy_message(response, 401) == "Unauthenticated."


@pytest.mark.parametrize(
    "headers", [None, {"api-key": ""}, {"api-key": "   "}], ids=["none", "empty", "blank"]
)
async def test_balance_without_a_key_is_401(
    proxy_client: AsyncTestClient[Any], headers: dict[str, str] | None
) -> None:
    response = await proxy_charge(proxy_client, 1001, BALANCE_USD, headers)
    assert proxy_message(response, 401) == "Unauthenticated."
    assert await proxy_balance(proxy_client) == "100.00"
    assert (await proxy_order(proxy_client, 1001))["charges"] == []


async def test_validation_comes_before_the_balance_401(
    proxy_client: AsyncTestClient[Any],
) -> None:
    response = await proxy_charge(proxy_client, 1001, BALANCE_USD | {"currency": "EUR"})
    assert proxy_errors(response) == ["The selected currency is invalid."]


async def test_key_header_name_is_case_insensitive(proxy_client: AsyncTestClient[Any]) -> None:
    payment = await proxy_payment(proxy_client, 1001, BALANCE_USD, {"API-Key": "sandbox-key"})
    assert payment["merchant"] == "balance"


async def test_key_value_is_exact(proxy_client: AsyncTestClient[Any]) -> None:
    for value in ("SANDBOX-KEY", "sandbox-key2", "Bearer sandbox-key"):
        response = await proxy_charge(proxy_client, 1001, CARD_USD, {"api-key": value})
        assert response.status_code == 401, value


async def test_header_name_and_key_come_from_the_config() -> None:
    async with proxy_sandbox_client(api_key="k-123", api_key_header="X-Proxy-Key") as client:
        # The default header is just another header here: no key at all.
        ignored = await proxy_charge(client, 1001, BALANCE_USD, {"api-key": "k-123"})
        assert proxy_message(ignored, 401) == "Unauthenticated."
        ignored_wrong = await proxy_charge(client, 1001, CARD_USD, {"api-key": "whatever"})
        assert ignored_wrong.status_code == 200
        wrong = await proxy_charge(client, 1001, CARD_USD, {"X-Proxy-Key": "sandbox-key"})
        assert proxy_message(wrong, 401) == "Unauthenticated."
        payment = await proxy_payment(client, 1001, BALANCE_USD, {"x-proxy-key": "k-123"})
        assert payment["payer_amount"] == 12
