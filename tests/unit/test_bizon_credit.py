"""Bizon OCT payouts: POST /orders/:id/credit and POST /orders/credit.

Replies: bizon.md's credit on an order (new order 23014809139351770) and credit
without an order (61277755379729234); the failures are built in the same shape.
"""

from typing import Any

import pytest

from service.domain.commands import Customer
from service.domain.errors import (
    ConnectorMisconfigured,
    OutcomeUnknown,
    ProviderProtocolError,
    ProviderRejected,
)
from service.domain.money import Money
from service.domain.outcomes import HttpReply, ProviderState
from service.domain.payments import CardSummary
from tests.unit.test_bizon_support import (
    CARD,
    CVV,
    DOC_AUTH,
    FAILED,
    NEW_ORDER,
    OK,
    PAN,
    PARENT,
    amounts,
    bizon,
    body,
    card,
    credit,
    edited,
    reply,
    sent,
    summary,
)

CREDITED = ProviderState.CREDITED
TO_CARD = {"source_reference": None, "card": CARD}


def test_build_credit_to_a_source_order() -> None:
    call = bizon.build_credit(credit())
    assert (call.method, call.path, call.query) == ("POST", f"/orders/{PARENT}/credit", {})
    assert call.headers["Authorization"] == DOC_AUTH
    assert sent(call) == {  # bizon.md's example: amount, currency, location
        "amount": "9.99",
        "currency": "USD",
        "merchant_order_id": "po_01",  # the payout id, to find it again by sync
        "location": {"ip": "8.8.8.8"},
    }


def test_build_credit_to_a_card() -> None:
    call = bizon.build_credit(credit(**TO_CARD))
    assert (call.method, call.path) == ("POST", "/orders/credit")
    assert call.headers["Authorization"] == DOC_AUTH
    assert sent(call) == {
        "amount": "9.99",
        "currency": "USD",
        "merchant_order_id": "po_01",
        "location": {"ip": "8.8.8.8"},
        "pan": PAN,
        "card": {"holder": "John Smith", "expiration_month": "06", "expiration_year": "2030"},
    }
    assert CVV not in (call.body or b"").decode()  # an OCT takes no cvv


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"customer": Customer()}, {"location": None}),
        ({"customer": Customer(email="foo@bar.com")}, {"location": None, "client": None}),
        ({"description": "Winnings"}, {"description": "Winnings"}),
        ({"money": Money(9999, "USD")}, {"amount": "99.99"}),
        ({"money": Money(500, "JPY")}, {"amount": "500.00", "currency": "JPY"}),
        ({"money": Money(1230, "KWD")}, {"amount": "1.23", "currency": "KWD"}),
        ({"card": CARD}, {"pan": None, "card": None}),  # a source order wins: no PAN sent
        (
            TO_CARD | {"card": card(holder=None)},
            {"card": {"expiration_month": "06", "expiration_year": "2030"}},
        ),
        (
            TO_CARD | {"card": card(exp_month=None, exp_year=None)},
            {"card": {"holder": "John Smith"}},
        ),
        (TO_CARD | {"card": card(exp_year=None)}, {"card": {"holder": "John Smith"}}),
        (
            TO_CARD | {"card": card(holder=None, exp_month=None, exp_year=None, cvv=None)},
            {"pan": PAN, "card": None},
        ),
    ],
    ids=[
        "no-ip",
        "no-client",
        "description",
        "amount",
        "jpy",
        "kwd",
        "source-wins",
        "no-holder",
        "no-expiry",
        "half-expiry",
        "pan-only",
    ],
)
def test_build_credit_fields(changes: dict[str, Any], expected: dict[str, object]) -> None:
    payload = sent(bizon.build_credit(credit(**changes)))
    assert {key: payload.get(key) for key in expected} == expected


def test_build_credit_quotes_the_source() -> None:
    call = bizon.build_credit(credit(source_reference="a/b c"))
    assert call.path == "/orders/a%2Fb%20c/credit"


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({}, []),
        (TO_CARD, []),
        ({"money": Money(1230, "KWD")}, []),
        ({"money": Money(1234, "KWD")}, ["amount"]),
        (TO_CARD | {"money": Money(1, "BHD")}, ["amount"]),
    ],
)
def test_validate_credit(changes: dict[str, Any], fields: list[str]) -> None:
    assert [error.field for error in bizon.validate_credit(credit(**changes))] == fields


# -- parse_credit --------------------------------------------------------------------------

WITHOUT_ORDER = "61277755379729234"
NOT_PERMITTED, INOPERATIVE = (
    "Transaction not permitted to cardholder",
    "Issuer or switch is inoperative",
)


@pytest.mark.parametrize(
    ("changes", "fixture", "expected", "snapshot"),
    [
        ({}, "credit_on_order", (OK, NEW_ORDER), (CREDITED, 0, 0, 0)),
        (
            TO_CARD | {"money": Money(9999, "USD")},
            "credit_without_order",
            (OK, WITHOUT_ORDER),
            (CREDITED, 0, 0, 0),
        ),
        (
            {},
            "credit_declined",
            (FAILED, "23014809139351771", "transaction_not_allowed", "57", NOT_PERMITTED),
            (ProviderState.FAILED, 0, 0, 0),
        ),
        (
            {},
            "credit_credited_op_failed",  # the order says credited, its credit did not succeed
            (FAILED, "23014809139351772", "issuer_unavailable", "91", INOPERATIVE),
            (CREDITED, 0, 0, 0),
        ),
    ],
)
def test_parse_credit(
    changes: dict[str, Any], fixture: str, expected: tuple[object, ...], snapshot: Any
) -> None:
    for status in (200, 201):
        outcome = bizon.parse_credit(credit(**changes), reply(fixture, status))
        assert summary(outcome) == expected
        assert amounts(outcome.snapshot) == snapshot
        assert outcome.next_action is None
        assert outcome.failure is None or outcome.failure.message


def test_credit_on_order_reports_the_card() -> None:
    outcome = bizon.parse_credit(credit(), reply("credit_on_order"))
    assert outcome.snapshot is not None
    assert outcome.snapshot.card == CardSummary("411111", "1111", "visa")


def test_credit_without_order_has_no_expiry_for_0_0() -> None:
    """bizon.md's reply shows "expiration": "0/0": that is no expiry, not month 0 of 2000."""
    outcome = bizon.parse_credit(
        credit(**TO_CARD, money=Money(9999, "USD")), reply("credit_without_order")
    )
    assert outcome.snapshot is not None
    assert outcome.snapshot.card == CardSummary("411111", "1111", "mastercard", None, None)


CREDIT_OP = {"type": "credit", "status": "success", "amount": "9.99"}


@pytest.mark.parametrize(
    ("status", "raw", "error"),
    [
        (200, edited("credit_on_order", status="authorized"), ProviderProtocolError),
        (200, edited("credit_on_order", status="prepared"), ProviderProtocolError),
        (200, edited("credit_on_order", operations=[]), ProviderProtocolError),  # no credit op
        (200, edited("credit_on_order", status="weird"), ProviderProtocolError),
        (200, edited("credit_on_order", currency="EUR"), ProviderProtocolError),
        (200, body("malformed"), ProviderProtocolError),
        (200, body("orders_two"), ProviderProtocolError),
        (401, body("http_401_auth"), ConnectorMisconfigured),
        (400, body("http_400_validation"), ProviderRejected),
        (500, body("http_500_internal"), OutcomeUnknown),
        (503, edited("credit_on_order", operations=[CREDIT_OP]), OutcomeUnknown),
    ],
)
def test_parse_credit_errors(status: int, raw: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        bizon.parse_credit(credit(), HttpReply(status, raw))


def credit_op(status: str) -> dict[str, str]:
    return {"type": "credit", "status": status, "amount": "9.99"}  # no ISO code given


@pytest.mark.parametrize(
    ("order_status", "op_status", "code"),
    [
        ("declined", "failure", "card_declined"),
        ("fraud", "failure", "fraud_suspected"),
        ("rejected", "failure", "rejected_by_provider"),
        ("error", "error", "processing_error"),
        ("credited", "error", "processing_error"),  # as capture/void/refund read an "error" op
    ],
)
def test_credit_failure_keeps_the_reason(order_status: str, op_status: str, code: str) -> None:
    """Without an ISO code, the order's status (or an "error" operation) tells why."""
    raw = edited("credit_on_order", status=order_status, operations=[credit_op(op_status)])
    outcome = bizon.parse_credit(credit(), HttpReply(200, raw))
    assert outcome.failure is not None
    assert (outcome.status, outcome.failure.code) == (FAILED, code)
