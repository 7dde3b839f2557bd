"""ProxySolutionsConnector: the merchant list and price quotes (public: no API key).

GET /merchants -> [PaymentMethodOption]; POST /services/{service_id}/price?lang=..
with every given option -> Quote (USD list price, payer amounts in the payer
currency, all in minor units).
"""

import json
from decimal import Decimal
from typing import Any

import pytest

from service.domain.errors import (
    ConnectorMisconfigured,
    OutcomeUnknown,
    ProviderInputRefused,
    ProviderObjectNotFound,
    ProviderProtocolError,
    ProviderRejected,
    ProviderServiceNotFound,
)
from service.domain.money import Money
from service.domain.outcomes import HttpCall, PaymentMethodOption, Quote
from tests.unit.test_proxy_connector_support import (
    KEY,
    body,
    connector,
    quote_request,
    raw,
    reply,
    transcript,
    variant,
)

HEADERS = ["api-key", "X-Api-Key", "Authorization"]
EVERY_OPTION: dict[str, Any] = {
    "uid": 42,
    "location_id": 7,
    "quantity": 3,
    "period": 30,
    "multiport": True,
    "server_config_id": "vps-s",
    "server_options": {
        "os": "ubuntu-22",
        "ram": "+4G",
        "drive": "+100G",
        "additional_ip": 2,
        "backup": "daily",
    },
    "promocode": "SAVE10",
    "merchant": "card",
    "currency": "EUR",
}


def assert_public(call: HttpCall, header: str) -> None:
    """The spec lists no security here: the key is not sent, in any form."""
    assert header not in call.headers
    assert "Authorization" not in call.headers
    assert KEY not in transcript(call)


# -- merchants -------------------------------------------------------------------------------


@pytest.mark.parametrize("header", HEADERS)
def test_merchants_are_a_public_get(header: str) -> None:
    call = connector(header=header).build_payment_methods()
    assert call.method == "GET"
    assert call.path == "/merchants"
    assert call.body is None
    assert call.query == {}
    assert call.headers == {"Accept": "application/json"}
    assert_public(call, header)


def test_merchants_are_read_into_options() -> None:
    options = connector().parse_payment_methods(reply(200, "merchants.json"))
    assert options == [
        PaymentMethodOption("balance", "API balance", ("USD",)),
        PaymentMethodOption("card", "Bank card", ("USD", "EUR", "RUB", "JPY")),
        PaymentMethodOption("crypto", "Crypto wallet", ("USDT", "BTC")),
    ]
    assert all(isinstance(option.currencies, tuple) for option in options)


def test_a_merchant_without_name_or_currencies() -> None:
    options = connector().parse_payment_methods(raw(200, b'{"merchants": [{"code": "card"}]}'))
    assert options == [PaymentMethodOption("card", "", ())]


def test_no_merchants() -> None:
    assert connector().parse_payment_methods(raw(200, b'{"merchants": []}')) == []


@pytest.mark.parametrize(
    "body", [b"", b"[]", b"{}", b'{"merchants": [{"name": "Bank card"}]}', b'{"merchants": 5}']
)
def test_an_unusable_merchant_list_is_a_protocol_error(body: bytes) -> None:
    with pytest.raises(ProviderProtocolError):
        connector().parse_payment_methods(raw(200, body))


def test_a_malformed_merchant_list_is_a_protocol_error() -> None:
    with pytest.raises(ProviderProtocolError):
        connector().parse_payment_methods(reply(200, "malformed.json"))


def test_merchants_unavailable_is_unknown() -> None:
    with pytest.raises(OutcomeUnknown):
        connector().parse_payment_methods(reply(500, "error_500.json"))


# -- quotes: the request -------------------------------------------------------------------


@pytest.mark.parametrize("service_id", [1, 2, 3, 4242])
def test_a_quote_posts_to_the_services_price(service_id: int) -> None:
    call = connector().build_quote(quote_request(service_id=service_id))
    assert call.method == "POST"
    assert call.path == f"/services/{service_id}/price"
    assert call.headers["Content-Type"] == "application/json"
    assert call.headers["Accept"] == "application/json"


def test_the_language_defaults_to_english() -> None:
    assert connector().build_quote(quote_request()).query == {"lang": "EN"}


@pytest.mark.parametrize("lang", ["EN", "RU", "UA"])
def test_the_language_goes_in_the_query(lang: str) -> None:
    call = connector().build_quote(quote_request(lang=lang))
    assert call.query == {"lang": lang}
    assert "lang" not in body(call)


@pytest.mark.parametrize("header", HEADERS)
def test_a_quote_is_public(header: str) -> None:
    call = connector(header=header).build_quote(quote_request(**EVERY_OPTION))
    assert_public(call, header)
    assert set(call.headers) == {"Content-Type", "Accept"}


def test_every_given_option_is_sent() -> None:
    call = connector().build_quote(quote_request(lang="RU", **EVERY_OPTION))
    assert body(call) == EVERY_OPTION
    assert "service_id" not in body(call)


def test_no_option_sends_an_empty_object() -> None:
    call = connector().build_quote(quote_request())
    assert call.body == b"{}"


@pytest.mark.parametrize("name", sorted(set(EVERY_OPTION) - {"server_options"}))
def test_one_option_alone(name: str) -> None:
    call = connector().build_quote(quote_request(**{name: EVERY_OPTION[name]}))
    assert body(call) == {name: EVERY_OPTION[name]}


@pytest.mark.parametrize("given", [{"multiport": False}, {"uid": 0}, {"location_id": 0}])
def test_falsy_options_are_still_given(given: dict[str, Any]) -> None:
    assert body(connector().build_quote(quote_request(**given))) == given


@pytest.mark.parametrize(
    "server_options",
    [
        {"os": "ubuntu-22"},
        {"ram": "+4G", "drive": "+100G", "additional_ip": 0},  # zero is given, not absent
        {},
    ],
)
def test_absent_server_options_are_omitted_too(server_options: dict[str, Any]) -> None:
    # Only what the caller gave: a null for ram/drive/... is not "absent" on the wire.
    call = connector().build_quote(
        quote_request(server_config_id="vps-s", server_options=server_options)
    )
    assert body(call) == {"server_config_id": "vps-s", "server_options": server_options}
    assert b"null" not in (call.body or b"")


def test_a_quote_body_is_json() -> None:
    call = connector().build_quote(quote_request(**EVERY_OPTION))
    assert isinstance(call.body, bytes)
    assert json.loads(call.body)["quantity"] == 3


# -- quotes: the reply ----------------------------------------------------------------------


def test_a_eur_quote() -> None:
    request = quote_request(merchant="card", currency="EUR", promocode="SAVE10")
    quote = connector().parse_quote(request, reply(200, "price_eur.json"))
    assert quote == Quote(
        amount=Money(30000, "USD"),
        payer_amount=Money(24840, "EUR"),
        converted_amount=Money(27600, "EUR"),
        discount_percent=Decimal("10"),
        merchant="card",
        lang="EN",
    )
    assert isinstance(quote.discount_percent, Decimal)


def test_a_jpy_quote_is_in_whole_yen() -> None:
    request = quote_request(merchant="card", currency="JPY")
    quote = connector().parse_quote(request, reply(200, "price_jpy.json"))
    assert quote.amount == Money(6000, "USD")
    assert quote.payer_amount == Money(9060, "JPY")
    assert quote.converted_amount == Money(9060, "JPY")
    assert quote.discount_percent == Decimal("0")


def test_a_quote_reads_amounts_exactly() -> None:
    body = variant("price_eur.json", b'"payer_amount": 248.4', b'"payer_amount": 0.29')
    body = body.replace(b'"amount": 300', b'"amount": 1.13')
    quote = connector().parse_quote(quote_request(), raw(200, body))
    assert quote.payer_amount == Money(29, "EUR")
    assert quote.amount == Money(113, "USD")


def test_a_quote_with_only_the_usd_price() -> None:
    quote = connector().parse_quote(
        quote_request(), raw(200, b'{"amount": 60, "payer_amount": 54}')
    )
    assert quote == Quote(amount=Money(6000, "USD"), payer_amount=Money(5400, "USD"))
    assert quote.converted_amount is None
    assert quote.discount_percent is None


def test_a_fractional_discount() -> None:
    body = variant("price_eur.json", b'"discount": 10', b'"discount": 12.5')
    quote = connector().parse_quote(quote_request(), raw(200, body))
    assert quote.discount_percent == Decimal("12.5")


def test_an_unknown_service() -> None:
    with pytest.raises(ProviderServiceNotFound) as caught:
        connector().parse_quote(quote_request(service_id=99), reply(404, "error_404_service.json"))
    error = caught.value
    assert error.code == "provider_service_not_found"
    assert isinstance(error, ProviderObjectNotFound)
    assert error.http_status == 404
    assert error.provider_message == "Service not found."


def test_a_refused_quote_passes_its_messages_through() -> None:
    messages = ["The selected currency is invalid."]
    body = json.dumps(messages).encode()
    with pytest.raises(ProviderInputRefused) as caught:
        connector().parse_quote(quote_request(currency="XXX"), raw(422, body))
    assert caught.value.messages == messages


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, ProviderRejected),
        (401, ConnectorMisconfigured),
        (500, OutcomeUnknown),
        (503, OutcomeUnknown),
    ],
)
def test_quote_errors(status: int, error: type[Exception]) -> None:
    with pytest.raises(error):
        connector().parse_quote(quote_request(), raw(status, b'{"message": "Nope."}'))


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b'"payer_amount": 248.4', b'"payer_amount": 248.405'),  # three decimals of EUR
        (b'"converted_amount": 276', b'"converted_amount": 276.001'),
        (b'"amount": 300', b'"amount": 300.001'),  # three decimals of USD
        (b'"payer_currency": "EUR"', b'"payer_currency": "USDT"'),  # crypto: never kept
        (b'"payer_amount": 248.4', b'"payer_amount": -248.4'),
        (b'"amount": 300', b'"amount": "lots"'),
    ],
)
def test_an_unusable_quote_is_a_protocol_error(old: bytes, new: bytes) -> None:
    body = variant("price_eur.json", old, new)
    with pytest.raises(ProviderProtocolError):
        connector().parse_quote(quote_request(), raw(200, body))


def test_a_fractional_yen_quote_is_a_protocol_error() -> None:
    body = variant("price_jpy.json", b'"payer_amount": 9060', b'"payer_amount": 1812.5')
    with pytest.raises(ProviderProtocolError):
        connector().parse_quote(quote_request(currency="JPY"), raw(200, body))


@pytest.mark.parametrize("body", [b"", b"[]", b"{}", b'{"amount": 60}'])
def test_a_quote_without_prices_is_a_protocol_error(body: bytes) -> None:
    with pytest.raises(ProviderProtocolError):
        connector().parse_quote(quote_request(), raw(200, body))


def test_a_malformed_quote_is_a_protocol_error() -> None:
    with pytest.raises(ProviderProtocolError):
        connector().parse_quote(quote_request(), reply(200, "malformed.json"))
