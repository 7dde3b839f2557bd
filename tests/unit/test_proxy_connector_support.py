"""Shared inputs for the Proxy-Solutions connector unit tests; no tests here.

Replies (tests/fixtures/proxy_solutions) copy the shapes of proxy-solutions.md:
{"payment": {...}} for a charge, {"merchants": [...]}, the price object, a
{"message"} body for 401/404/500 and a list of strings for 422. The module is
named test_proxy_connector_* so that it never clashes with tests/sandbox/test_proxy_*.
"""

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec

from service.connectors.proxy_solutions import (
    ProxySolutionsConnector,
    ProxySolutionsOptions,
    ProxySolutionsQuoteRequest,
)
from service.domain.commands import Customer, PayOrder
from service.domain.outcomes import HttpCall, HttpReply
from service.domain.payments import PaymentMethodType

FIXTURES = Path(__file__).parents[1] / "fixtures" / "proxy_solutions"

# Not a shape scrub_text() knows (no sk_ prefix, no Luhn digits): only the
# connector's own scrub() can hide it.
KEY = "unit-proxy-Key-7c1e9a"
ORDER_ID = 1001
EUR_INVOICE_URL = "https://proxy-solutions.net/invoice/7f3a9c2e"
JPY_INVOICE_URL = "https://proxy-solutions.net/invoice/b41d07e5"

BALANCE_USD = ProxySolutionsOptions(order_id=ORDER_ID, merchant="balance", currency="USD")
CARD_EUR = ProxySolutionsOptions(order_id=ORDER_ID, merchant="card", currency="EUR", period=30)
CARD_JPY = ProxySolutionsOptions(order_id=ORDER_ID, merchant="card", currency="JPY")


def connector(key: str = KEY, header: str | None = None) -> ProxySolutionsConnector:
    if header is None:
        return ProxySolutionsConnector(key)
    return ProxySolutionsConnector(key, header=header)


def method_for(options: object) -> PaymentMethodType:
    """The payment method the merchant stands for: balance, else an invoice page."""
    if isinstance(options, ProxySolutionsOptions) and options.merchant == "balance":
        return PaymentMethodType.BALANCE
    return PaymentMethodType.HOSTED_PAGE


def pay_order(options: object | None = BALANCE_USD, **fields: Any) -> PayOrder:
    values: dict[str, Any] = {
        "payment_id": "pay_1",
        "operation_id": "op_1",
        "method": method_for(options),
        "customer": Customer(email="jane@example.com", ip="79.137.163.2"),
        "provider_options": options,
    }
    return PayOrder(**(values | fields))


def quote_request(**fields: Any) -> ProxySolutionsQuoteRequest:
    """A quote request as the API decodes it from JSON (server_options as an object)."""
    return msgspec.convert({"service_id": 2} | fields, ProxySolutionsQuoteRequest)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def reply(status: int, name: str) -> HttpReply:
    return HttpReply(status, fixture(name), {"Content-Type": "application/json"})


def raw(status: int, body: bytes) -> HttpReply:
    return HttpReply(status, body, {"Content-Type": "application/json"})


def variant(name: str, old: bytes, new: bytes) -> bytes:
    """A fixture with one exact, unique piece of text replaced (amounts stay literal)."""
    text = fixture(name)
    assert text.count(old) == 1, f"{old!r} is not unique in {name}"
    return text.replace(old, new)


def body(call: HttpCall) -> dict[str, Any]:
    """The request body, every fractional number read as an exact Decimal."""
    assert call.body is not None
    decoded: dict[str, Any] = json.loads(call.body, parse_float=Decimal)
    return decoded


def transcript(call: HttpCall) -> str:
    """Everything an exchange log could show of a request."""
    return f"{call.method} {call.path} {call.query} {call.body!r} {call.headers} {call!r}"
