"""ProxySolutionsConnector: the charge request, its checks, the payer currency, scrub().

POST /user/orders/{order_id}/charge with {merchant, currency, period | amount,
promocode}; the key goes in the header the constructor names (default `api-key`,
`Authorization` as `Bearer <key>`).
"""

import json
from decimal import Decimal

import msgspec
import pytest

from service.domain.payments import PaymentMethodType
from tests.unit.test_proxy_connector_support import (
    BALANCE_USD,
    CARD_EUR,
    CARD_JPY,
    KEY,
    ORDER_ID,
    body,
    connector,
    pay_order,
    transcript,
)

JSON = "application/json"


def fields(errors: list) -> list[str]:
    return [error.field for error in errors]


# -- the request -----------------------------------------------------------------------


@pytest.mark.parametrize("order_id", [1, ORDER_ID, 987654321])
def test_posts_to_the_orders_charge_path(order_id: int) -> None:
    options = msgspec.structs.replace(BALANCE_USD, order_id=order_id)
    call = connector().build_pay_order(pay_order(options))
    assert call.method == "POST"
    assert call.path == f"/user/orders/{order_id}/charge"
    assert call.query == {}


def test_sends_and_accepts_json() -> None:
    call = connector().build_pay_order(pay_order())
    assert call.headers["Content-Type"] == JSON
    assert call.headers["Accept"] == JSON
    assert isinstance(call.body, bytes)
    json.loads(call.body)


def test_the_key_goes_in_the_api_key_header_by_default() -> None:
    call = connector().build_pay_order(pay_order())
    assert call.headers["api-key"] == KEY
    assert "Authorization" not in call.headers
    assert call.headers == {"Content-Type": JSON, "Accept": JSON, "api-key": KEY}


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("api-key", KEY),
        ("X-Api-Key", KEY),
        ("Authorization", f"Bearer {KEY}"),
        ("authorization", f"Bearer {KEY}"),
    ],
)
def test_the_key_goes_in_the_header_the_constructor_names(header: str, value: str) -> None:
    call = connector(header=header).build_pay_order(pay_order())
    assert call.headers[header] == value
    others = set(call.headers) - {"Content-Type", "Accept", header}
    assert not others, f"the key is sent once, in {header}: {others}"


def test_body_without_an_amount_sends_the_period() -> None:
    call = connector().build_pay_order(pay_order(CARD_EUR))
    assert body(call) == {"merchant": "card", "currency": "EUR", "period": 30}
    assert b'"amount"' not in (call.body or b"")


def test_body_with_neither_amount_nor_period_is_the_full_cost() -> None:
    call = connector().build_pay_order(pay_order(BALANCE_USD))
    assert body(call) == {"merchant": "balance", "currency": "USD"}


def test_body_carries_the_promocode() -> None:
    options = msgspec.structs.replace(CARD_JPY, promocode="SAVE10", period=7)
    call = connector().build_pay_order(pay_order(options))
    assert body(call) == {"merchant": "card", "currency": "JPY", "period": 7, "promocode": "SAVE10"}


@pytest.mark.parametrize(
    ("minor", "literal"),
    [
        (1, b"0.01"),
        (150, b"1.50"),
        (999, b"9.99"),
        (1000, b"10.00"),
        (2010, b"20.10"),
        (123456789, b"1234567.89"),
    ],
)
def test_an_amount_is_an_exact_json_number_in_usd(minor: int, literal: bytes) -> None:
    cmd = pay_order(CARD_EUR, requested_amount=minor, requested_currency="USD")
    call = connector().build_pay_order(cmd)
    assert call.body is not None
    assert b'"amount":' + literal in call.body
    assert b'"amount":"' not in call.body, "the amount is a JSON number, never a string"
    decoded = body(call)
    assert decoded["amount"] == Decimal(literal.decode())
    assert isinstance(json.loads(call.body)["amount"], float | int)


def test_an_amount_replaces_the_period() -> None:
    # "If payment amount is specified, the period field is ignored": only the amount goes.
    cmd = pay_order(CARD_EUR, requested_amount=1000, requested_currency="USD")
    assert body(connector().build_pay_order(cmd)) == {
        "merchant": "card",
        "currency": "EUR",
        "amount": Decimal("10.00"),
    }


def test_an_amount_without_a_named_currency_is_in_usd() -> None:
    cmd = pay_order(BALANCE_USD, requested_amount=2500)
    assert body(connector().build_pay_order(cmd))["amount"] == Decimal("25.00")


def test_all_fields_together() -> None:
    options = msgspec.structs.replace(CARD_EUR, promocode="HALF")
    cmd = pay_order(options, requested_amount=2000, requested_currency="USD")
    call = connector().build_pay_order(cmd)
    assert call.body == b'{"merchant":"card","currency":"EUR","amount":20.00,"promocode":"HALF"}'


# -- validate_pay_order -------------------------------------------------------------------


@pytest.mark.parametrize("options", [None, {"order_id": 1001, "merchant": "card"}, "1001"])
def test_missing_options_are_refused(options: object) -> None:
    errors = connector().validate_pay_order(pay_order(options))
    assert fields(errors) == ["provider_options.proxy_solutions"]


@pytest.mark.parametrize(
    ("options", "method"),
    [
        (BALANCE_USD, PaymentMethodType.BALANCE),
        (CARD_EUR, PaymentMethodType.HOSTED_PAGE),
        (CARD_JPY, PaymentMethodType.HOSTED_PAGE),
        (msgspec.structs.replace(CARD_EUR, merchant="crypto"), PaymentMethodType.HOSTED_PAGE),
    ],
)
def test_a_matching_method_is_accepted(options: object, method: PaymentMethodType) -> None:
    assert connector().validate_pay_order(pay_order(options, method=method)) == []


@pytest.mark.parametrize(
    ("options", "method"),
    [
        (BALANCE_USD, PaymentMethodType.HOSTED_PAGE),
        (BALANCE_USD, PaymentMethodType.CARD),
        (BALANCE_USD, PaymentMethodType.PREPAID_CREDITS),
        (CARD_EUR, PaymentMethodType.BALANCE),
        (CARD_EUR, PaymentMethodType.CARD),
        (CARD_EUR, PaymentMethodType.WALLET_TOKEN),
    ],
)
def test_the_method_must_match_the_merchant(options: object, method: PaymentMethodType) -> None:
    errors = connector().validate_pay_order(pay_order(options, method=method))
    assert fields(errors) == ["payment_method.type"]


@pytest.mark.parametrize(
    "currency",
    [
        "BTC",  # crypto: never approximated
        "ETH",
        "XBT",
        "ZZZ",
        "USDT",  # not even three letters (the API's pattern refuses it before)
        "CLF",  # ISO 4217, but with four decimals: not a currency this service keeps
        "UYW",
    ],
)
def test_a_payer_currency_this_service_cannot_keep_is_refused(currency: str) -> None:
    options = msgspec.structs.replace(CARD_EUR, currency=currency)
    errors = connector().validate_pay_order(pay_order(options))
    assert fields(errors) == ["provider_options.proxy_solutions.currency"]


@pytest.mark.parametrize("currency", ["USD", "EUR", "JPY", "RUB", "KWD", "BHD"])
def test_iso_currencies_up_to_three_decimals_are_accepted(currency: str) -> None:
    options = msgspec.structs.replace(CARD_EUR, currency=currency)
    assert connector().validate_pay_order(pay_order(options)) == []


@pytest.mark.parametrize("currency", ["EUR", "JPY", "RUB", "usd"])
def test_the_amount_asked_for_is_in_usd(currency: str) -> None:
    cmd = pay_order(CARD_EUR, requested_amount=1000, requested_currency=currency)
    assert fields(connector().validate_pay_order(cmd)) == ["currency"]


@pytest.mark.parametrize(
    ("amount", "currency"), [(1000, "USD"), (1, "USD"), (999, None), (None, "USD"), (None, None)]
)
def test_a_fine_amount_is_accepted(amount: int | None, currency: str | None) -> None:
    cmd = pay_order(CARD_EUR, requested_amount=amount, requested_currency=currency)
    assert connector().validate_pay_order(cmd) == []


def test_every_problem_is_reported_at_once() -> None:
    options = msgspec.structs.replace(BALANCE_USD, currency="BTC")
    cmd = pay_order(
        options, method=PaymentMethodType.HOSTED_PAGE, requested_amount=5, requested_currency="EUR"
    )
    assert fields(connector().validate_pay_order(cmd)) == [
        "payment_method.type",
        "provider_options.proxy_solutions.currency",
        "currency",
    ]


# -- payer_currency -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "currency"), [(BALANCE_USD, "USD"), (CARD_EUR, "EUR"), (CARD_JPY, "JPY")]
)
def test_the_payer_pays_in_the_options_currency(options: object, currency: str) -> None:
    cmd = pay_order(options, requested_amount=1000, requested_currency="USD")
    assert connector().payer_currency(cmd) == currency


# -- scrub ----------------------------------------------------------------------------------


@pytest.mark.parametrize("header", ["api-key", "X-Api-Key", "Authorization"])
def test_scrub_hides_the_key_of_a_request(header: str) -> None:
    conn = connector(header=header)
    text = transcript(conn.build_pay_order(pay_order()))
    assert KEY in text  # the request really carries the key
    assert KEY not in conn.scrub(text)


@pytest.mark.parametrize(
    "text",
    [
        f"api-key: {KEY}",
        f"{{'api-key': '{KEY}'}}",
        f'{{"api-key":"{KEY}"}}',
        f"Authorization: Bearer {KEY}",
        f"GET /merchants?api_key={KEY}&lang=EN",
        f'401 {{"message": "Key {KEY} is not valid."}}',
        f"{KEY}{KEY}",
        f"prefix-{KEY}-suffix",
    ],
)
def test_scrub_hides_the_key_anywhere(text: str) -> None:
    assert KEY not in connector().scrub(text)


def test_scrub_still_masks_card_data_and_keeps_the_rest() -> None:
    text = f'order 1001 {{"cvv": "737"}} card 4111111111111111 key {KEY}'
    scrubbed = connector().scrub(text)
    assert "4111111111111111" not in scrubbed
    assert "411111******1111" in scrubbed
    assert '"737"' not in scrubbed
    assert KEY not in scrubbed
    assert "order 1001" in scrubbed


def test_scrub_leaves_a_transcript_without_the_key_alone() -> None:
    text = 'POST /user/orders/1001/charge {"merchant":"card","currency":"EUR"}'
    assert connector().scrub(text) == text


def test_the_repr_of_a_call_shows_no_key() -> None:
    call = connector().build_pay_order(pay_order())
    assert KEY not in repr(call)
    assert KEY not in str(call)
