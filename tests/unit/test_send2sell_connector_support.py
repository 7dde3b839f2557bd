"""Shared inputs for the Send2Sell connector unit tests; no tests here.

Replies (tests/fixtures/send2sell) are the doc's own samples: the 200 of a paid order,
the 402 of one whose credits fell short, and the three 403 {"message"} bodies. The
module is named test_send2sell_connector_* so that it never clashes with
tests/sandbox/test_send2sell_*.
"""

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import msgspec

from service.connectors.send2sell import Send2SellBilling, Send2SellConnector, Send2SellOptions
from service.domain.commands import Customer, PayOrder, Sync
from service.domain.outcomes import HttpCall, HttpReply
from service.domain.payments import PaymentMethodType

FIXTURES = Path(__file__).parents[1] / "fixtures" / "send2sell"

# Not a shape scrub_text() knows (no sk_ prefix, no Luhn digits, no "token" key):
# only the connector's own scrub() can hide it.
TOKEN = "unit-send2sell-Token-5d2f8b"
ORDER_ID = 370562
REFERENCE = str(ORDER_ID)
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"

# The fields the doc's sample sends, and the rest the connector sends when given.
BILLING = Send2SellBilling(
    first_name="Jane", city="Austin", state="TX", zip="78701", phone="+1 512 555 0100"
)
FULL_BILLING = Send2SellBilling(
    first_name="Jane",
    city="Austin",
    state="TX",
    zip="78701-1234",
    phone="+1 512 555 0100",
    last_name="Doe",
    company="Acme & Sons",
    address="1 Congress Ave",
    address2="Suite 200",
    country="US",
    email="jane@example.com",
)
OPTIONS = Send2SellOptions(order_id=ORDER_ID, billing=BILLING)
# The form the doc's minimal billing becomes, each field once.
BASE_FORM = {
    "first_name": ["Jane"],
    "city": ["Austin"],
    "state": ["TX"],
    "zip": ["78701"],
    "phone": ["+1 512 555 0100"],
    "use_credits": ["1"],
}

# The three 403 bodies of the doc: (fixture, message, our code).
FORBIDDEN = [
    (
        "forbidden_not_authorized.json",
        "You are not authorized to access this order.",
        "provider_forbidden",
    ),
    (
        "forbidden_payment_not_allowed.json",
        "This order does not allow payment. Please contact us.",
        "payment_not_allowed",
    ),
    (
        "forbidden_no_products.json",
        "No cart or products linked to this order.",
        "order_has_no_products",
    ),
]
# The doc's paid order, in minor units (its figures are whole dollars).
PAID_FIGURES = {
    "cost": 6900,
    "discount": 0,
    "tax": 0,
    "total": 0,
    "consumed_credits": 6900,
    "credits_needed": 0,
    "net_total": 0,
    "coupon_name": None,
    "order_status": "Paid",
}
# The doc's 402: $69 of credits needed, $74.69 due with the tax.
PENDING_FIGURES = {
    "cost": 6900,
    "discount": 0,
    "tax": 569,
    "total": 7469,
    "credits_needed": 6900,
    "net_total": 7469,
    "coupon_name": None,
    "order_status": "Payment Pending",
}


def connector(token: str = TOKEN, *, spoof: bool = False) -> Send2SellConnector:
    return Send2SellConnector(token, method_spoofing=spoof)


def pay_order(options: object | None = OPTIONS, **fields: Any) -> PayOrder:
    values: dict[str, Any] = {
        "payment_id": "pay_1",
        "operation_id": "op_1",
        "method": PaymentMethodType.PREPAID_CREDITS,
        "requested_amount": 6900,
        "requested_currency": "USD",
        "customer": Customer(email="jane@example.com", ip="79.137.163.2"),
        "provider_options": options,
    }
    return PayOrder(**(values | fields))


def requested(
    billing: Send2SellBilling = BILLING, order_id: int = ORDER_ID, **asked: Any
) -> dict[str, Any]:
    """What the payment keeps of its request (provider_details["requested"])."""
    kept: dict[str, Any] = {
        "order_id": order_id,
        "billing": msgspec.to_builtins(billing),
        "amount": 6900,
        "amount_currency": "USD",
    }
    return kept | asked


def sync(details: dict[str, Any] | None = None, reference: str | None = REFERENCE) -> Sync:
    kept = {"requested": requested()} if details is None else details
    return Sync("pay_1", reference, "USD", details=kept)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def reply(status: int, name: str) -> HttpReply:
    return HttpReply(status, fixture(name), {"Content-Type": JSON})


def raw(status: int, body: bytes) -> HttpReply:
    return HttpReply(status, body, {"Content-Type": JSON})


def variant(name: str, old: bytes, new: bytes) -> bytes:
    """A fixture with one exact, unique piece of text replaced (amounts stay literal)."""
    text = fixture(name)
    assert text.count(old) == 1, f"{old!r} is not unique in {name}"
    return text.replace(old, new)


def form(call: HttpCall) -> dict[str, list[str]]:
    """The form-encoded request body, every field with all its values."""
    assert call.body is not None
    return parse_qs(call.body.decode("ascii"), keep_blank_values=True, strict_parsing=True)


def transcript(call: HttpCall) -> str:
    """Everything an exchange log could show of a request."""
    return f"{call.method} {call.path} {call.query} {call.body!r} {call.headers} {call!r}"
