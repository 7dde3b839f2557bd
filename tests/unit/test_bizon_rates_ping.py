"""Bizon exchange rates (GET /exchange_rates/) and health (GET /ping) on bizon.md's replies."""

import json
from decimal import Decimal

import pytest

from service.domain.errors import (
    ConnectorMisconfigured,
    OutcomeUnknown,
    ProviderProtocolError,
    ProviderRejected,
)
from service.domain.outcomes import ExchangeRate, HttpReply
from tests.unit.test_bizon_support import DOC_AUTH, bizon, body, reply


def rates(*entries: dict[str, object]) -> bytes:
    return json.dumps({"exchange_rates": list(entries)}).encode()


def test_build_exchange_rates() -> None:
    call = bizon.build_exchange_rates()
    assert (call.method, call.path, call.body, call.query) == ("GET", "/exchange_rates/", None, {})
    assert call.headers["Authorization"] == DOC_AUTH


def test_parse_exchange_rates_doc_reply_exactly() -> None:
    parsed = bizon.parse_exchange_rates(reply("exchange_rates"))
    assert parsed == [
        ExchangeRate("EUR", "RUB", Decimal("75.132109")),
        ExchangeRate("EUR", "UAH", Decimal("31.562887")),
        ExchangeRate("EUR", "UBT", Decimal("334.000000")),
        ExchangeRate("EUR", "USD", Decimal("1.145036")),
    ]
    for rate in parsed:
        assert type(rate.rate) is Decimal  # never a float
    # Exact digits, not a float's nearest value: 1.145036 stays 1.145036.
    assert str(parsed[3].rate) == "1.145036"
    assert parsed[3].rate != Decimal.from_float(1.145036)
    assert str(parsed[2].rate) == "334.000000"


def test_parse_exchange_rates_empty_list() -> None:
    assert bizon.parse_exchange_rates(HttpReply(200, rates())) == []


@pytest.mark.parametrize(
    "raw",
    [
        body("malformed"),
        b"<html>ok</html>",
        b"",
        b"{}",
        b'{"exchange_rates": {}}',
        b'{"rates": []}',
        rates({"from": "EUR", "to": "USD"}),  # no rate
        rates({"from": "EUR", "rate": "1.1"}),  # no quote currency
        rates({"from": "EUR", "to": "USD", "rate": 1.145036}),  # a JSON float, not a string
        rates({"from": "EUR", "to": "USD", "rate": "0"}),
        rates({"from": "EUR", "to": "USD", "rate": "0.000000"}),
        rates({"from": "EUR", "to": "USD", "rate": "-1.2"}),
        rates({"from": "EUR", "to": "USD", "rate": "abc"}),
        rates({"from": "EUR", "to": "USD", "rate": ""}),
        rates({"from": "EUR", "to": "USD", "rate": "NaN"}),
        rates({"from": "EUR", "to": "USD", "rate": "Infinity"}),
        rates({"from": "EUR", "to": "USD", "rate": "1.1"}, {"from": "EUR", "to": "X", "rate": "-"}),
    ],
    ids=[
        "malformed",
        "html",
        "empty-body",
        "empty-object",
        "not-a-list",
        "other-key",
        "no-rate",
        "no-to",
        "float",
        "zero",
        "zero-decimals",
        "negative",
        "word",
        "empty-rate",
        "nan",
        "infinity",
        "one-bad-among-good",
    ],
)
def test_unreadable_exchange_rates_are_a_protocol_error(raw: bytes) -> None:
    with pytest.raises(ProviderProtocolError):
        bizon.parse_exchange_rates(HttpReply(200, raw))


@pytest.mark.parametrize(
    ("status", "raw", "error"),
    [
        (401, body("http_401_auth"), ConnectorMisconfigured),
        (403, b"Forbidden", ConnectorMisconfigured),
        (400, body("http_400_validation"), ProviderRejected),
        (500, body("http_500_internal"), OutcomeUnknown),
        (503, body("exchange_rates"), OutcomeUnknown),
    ],
)
def test_exchange_rates_http_errors(status: int, raw: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        bizon.parse_exchange_rates(HttpReply(status, raw))


# -- ping ----------------------------------------------------------------------------------


def test_build_ping() -> None:
    call = bizon.build_ping()
    assert (call.method, call.path, call.body, call.query) == ("GET", "/ping", None, {})
    assert call.headers["Authorization"] == DOC_AUTH


@pytest.mark.parametrize(
    "raw",
    [body("ping"), b'{"message":"PONG!"}', b'{"message": "pong", "date": null}'],
    ids=["doc", "no-date", "lowercase"],
)
def test_ping_healthy(raw: bytes) -> None:
    assert bizon.parse_ping(HttpReply(200, raw)) is None


@pytest.mark.parametrize(
    ("status", "raw", "expected"),
    [
        (503, b"Service Unavailable", "HTTP 503"),
        (503, body("ping"), "HTTP 503"),  # a PONG in an error reply is no health
        (500, body("http_500_internal"), "HTTP 500"),
        (401, body("http_401_auth"), "HTTP 401"),
    ],
)
def test_ping_http_status(status: int, raw: bytes, expected: str) -> None:
    assert bizon.parse_ping(HttpReply(status, raw)) == expected


@pytest.mark.parametrize(
    "raw",
    [b"<html>ok</html>", b"", b"{}", b'{"message": 1}', b"[]", b'{"message": "MAINTENANCE"}'],
    ids=["html", "empty", "no-message", "number", "list", "other-message"],
)
def test_ping_garbage_is_a_message(raw: bytes) -> None:
    problem = bizon.parse_ping(HttpReply(200, raw))
    assert isinstance(problem, str)
    assert problem
