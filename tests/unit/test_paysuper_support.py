"""Shared inputs for the PaySuper unit tests (tests/fixtures/paysuper); no tests here.

The notification fixtures embed the Order object example of paysuper.md verbatim
(only the refund one gains a `refund` object); the others differ from it by one
field. Replies copy the doc's 200 shapes with real-looking values, and its
{message, code} errors.
"""

import hashlib
import json
from pathlib import Path
from typing import Any

import msgspec

from service.connectors.paysuper import PaySuperConnector, PaySuperOptions
from service.domain.commands import Authorize, Customer
from service.domain.money import Money
from service.domain.outcomes import HttpCall, HttpReply
from service.domain.payments import CaptureMethod, PaymentMethodType

FIXTURES = Path(__file__).parents[1] / "fixtures" / "paysuper"

PROJECT = "5dbc4b1ab5a6990001ffdf1e"
SECRET = "unit-paysuper-Secret-9"
ORDER = "726d9e07-1dc8-4159-8d52-f95941066bc8"
RETURN_URL = "https://shop.example.com/return"
USD_9_99 = Money(999, "USD")
CUSTOMER = Customer(email="jane@example.com", ip="79.137.163.2", name="Jane Roe", phone="+4930123")


def connector(
    project: str | None = PROJECT, secret: str = SECRET, mode: str = "sha512"
) -> PaySuperConnector:
    return PaySuperConnector(project, secret, signature_mode=mode)


def authorize(
    options: PaySuperOptions | None = None,
    money: Money = USD_9_99,
    **fields: Any,
) -> Authorize:
    values: dict[str, Any] = {
        "payment_id": "pay_1",
        "operation_id": "op_1",
        "money": money,
        "capture": CaptureMethod.AUTOMATIC,
        "method": PaymentMethodType.HOSTED_PAGE,
        "customer": CUSTOMER,
        "provider_options": options,
    }
    return Authorize(**(values | fields))


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def reply(status: int, name: str) -> HttpReply:
    return HttpReply(status, fixture(name), {"Content-Type": "application/json"})


def body(call: HttpCall) -> dict[str, Any]:
    assert call.body is not None
    decoded: dict[str, Any] = json.loads(call.body)
    return decoded


def variant(name: str, old: bytes, new: bytes) -> bytes:
    """A fixture with one exact, unique piece of text replaced (amounts stay literal)."""
    raw = fixture(name)
    assert raw.count(old) == 1, f"{old!r} is not unique in {name}"
    return raw.replace(old, new)


def sign(body: bytes, secret: str = SECRET) -> str:
    """The supplement's notification signature: hex SHA-256 of the raw body + secret."""
    return hashlib.sha256(body + secret.encode()).hexdigest()


def edited(options: PaySuperOptions, **changes: Any) -> PaySuperOptions:
    return msgspec.structs.replace(options, **changes)
