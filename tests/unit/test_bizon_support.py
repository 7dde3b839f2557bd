"""Shared builders for the tests/unit/test_bizon_*.py files (this module has no tests).

Commands, recorded replies (tests/fixtures/bizon) and short views of outcomes.
Pure: no network, no mocks.
"""

import json
from pathlib import Path
from typing import Any

import msgspec

from service.connectors.bizon import BizonConnector
from service.domain.commands import (
    Authenticate,
    Authorize,
    Capture,
    CardDetails,
    Credit,
    Customer,
    Rebill,
    Refund,
    Sync,
    Void,
    WalletToken,
)
from service.domain.money import Money
from service.domain.outcomes import (
    HttpReply,
    OperationOutcome,
    OutcomeStatus,
    ProviderSnapshot,
    ProviderState,
)
from service.domain.payments import CaptureMethod, PaymentMethodType

FIXTURES = Path(__file__).parents[1] / "fixtures" / "bizon"
DOC_AUTH = "Basic cHJvamVjdDpwYXNzd29yZA=="  # bizon.md's own "project:password"
PAN, CVV, BACK = "4111111111111111", "123", "https://shop.example/back"
CARD = CardDetails(number=PAN, cvv=CVV, exp_month=6, exp_year=2030, holder="John Smith")
# A wallet token as bizon.md's token_pay example starts it (opaque to us, never logged).
TOKEN = "eyJwYXltZW50RGF0YSI6eyJoZWFkZXIiOnsicHVibGljS2V5SGFzaCI6IjBjV0haajNQeTIwTnhoOFZy"
WALLET = WalletToken(type="apple_pay", token=TOKEN)
USD, EUR, PART = Money(999, "USD"), Money(999, "EUR"), Money(199, "USD")
OK, FAILED, ACTION = OutcomeStatus.SUCCEEDED, OutcomeStatus.FAILED, OutcomeStatus.ACTION_REQUIRED
AUTHORIZED, CAPTURED = ProviderState.AUTHORIZED, ProviderState.CAPTURED
REFUNDED = ProviderState.REFUNDED
# Order ids in the fixtures: REF is authorize_approved's (and charge_full's, refund_full's).
REF, PARTIAL, REVERSED = "23014806643308174", "23014806312026412", "23014805692462630"
INFO, PREPARED, HOSTED = "65213580296542862", "23014806078061303", "23014805439541518"
# The parent order of bizon.md's rebill and credit examples, and the new order they answer.
PARENT, NEW_ORDER = "23014808614292147", "23014809139351770"

bizon = BizonConnector("project", "password")


def body(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def reply(name: str, status: int = 200, headers: dict[str, str] | None = None) -> HttpReply:
    return HttpReply(status, body(name), headers or {})


def edited(name: str, **order: Any) -> bytes:
    """A fixture with fields of its one order replaced (None removes the field)."""
    data = json.loads(body(name))
    for key, value in order.items():
        data["orders"][0].pop(key, None)
        if value is not None:
            data["orders"][0][key] = value
    return json.dumps(data).encode()


def sent(call: Any) -> dict[str, Any]:
    """The JSON body of a built call."""
    assert call.body is not None
    decoded: dict[str, Any] = json.loads(call.body)
    return decoded


def card(**changes: Any) -> CardDetails:
    return msgspec.structs.replace(CARD, **changes)


def authorize(**changes: Any) -> Authorize:
    cmd = Authorize(
        payment_id="pay_01",
        operation_id="op_01",
        money=USD,
        capture=CaptureMethod.MANUAL,
        method=PaymentMethodType.CARD,
        card=CARD,
        customer=Customer(ip="8.8.8.8"),
    )
    return msgspec.structs.replace(cmd, **changes)


def hosted(**changes: Any) -> Authorize:
    return authorize(method=PaymentMethodType.HOSTED_PAGE, card=None, **changes)


def wallet(**changes: Any) -> Authorize:
    given = {"card": None, "wallet": WALLET} | changes
    return authorize(method=PaymentMethodType.WALLET_TOKEN, **given)


def capture(money: Money = USD) -> Capture:
    return Capture("pay_01", "op_02", REF, money, full=money == USD)


def void(ref: str = REF, money: Money = USD) -> Void:
    return Void("pay_01", "op_03", ref, money)


def refund(money: Money = USD) -> Refund:
    return Refund("pay_01", "op_04", REF, money, full=money == USD)


def sync(ref: str | None = REF, currency: str = "USD") -> Sync:
    return Sync("pay_01", ref, currency)


def authenticate(ref: str = PREPARED, money: Money = USD, **answer: Any) -> Authenticate:
    return Authenticate("pay_01", ref, money, **answer)


def rebill(**changes: Any) -> Rebill:
    cmd = Rebill(
        payment_id="pay_02",
        operation_id="op_05",
        parent_reference=PARENT,
        money=USD,
        cvv=CVV,
        customer=Customer(ip="8.8.8.8"),
    )
    return msgspec.structs.replace(cmd, **changes)


def credit(**changes: Any) -> Credit:
    cmd = Credit(
        payout_id="po_01",
        operation_id="op_06",
        money=USD,
        source_reference=PARENT,
        customer=Customer(ip="8.8.8.8"),
    )
    return msgspec.structs.replace(cmd, **changes)


def summary(outcome: OperationOutcome) -> tuple[object, ...]:
    failure = outcome.failure
    codes = (failure.code, failure.provider_code, failure.provider_message) if failure else ()
    return (outcome.status, outcome.provider_reference, *codes)


def amounts(snap: ProviderSnapshot | None) -> tuple[object, ...]:
    assert snap is not None
    return (snap.state, snap.amount_authorized, snap.amount_captured, snap.amount_refunded)
