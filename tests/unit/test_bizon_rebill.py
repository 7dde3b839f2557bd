"""Bizon rebill (POST /orders/:id/rebill): a new payment on a past order's card.

The reply is bizon.md's own rebill example: a NEW order (23014809139351770) made
from the parent 23014808614292147.
"""

from typing import Any

import pytest

from service.connectors.bizon import BizonConnector
from service.domain.commands import Customer, RecurringDetails
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
    AUTHORIZED,
    CVV,
    DOC_AUTH,
    FAILED,
    NEW_ORDER,
    OK,
    PARENT,
    USD,
    amounts,
    bizon,
    body,
    edited,
    rebill,
    reply,
    sent,
    summary,
)

TRACE = RecurringDetails(trace_id="MCC8454300719", indicator="m101")
lenient = BizonConnector("project", "password", rebill_requires_cvv=False)


def test_build_rebill() -> None:
    call = bizon.build_rebill(rebill())
    assert (call.method, call.path, call.query) == ("POST", f"/orders/{PARENT}/rebill", {})
    assert call.headers["Authorization"] == DOC_AUTH
    assert call.headers["Content-Type"] == "application/json"
    assert sent(call) == {
        "amount": "9.99",
        "cvv": CVV,
        "location": {"ip": "8.8.8.8"},
        "merchant_order_id": "pay_02",  # the new payment's id, to find it again by sync
        "options": {"recurring": 1},
    }


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"money": Money(100, "USD")}, {"amount": "1.00"}),
        ({"money": Money(5, "EUR")}, {"amount": "0.05"}),
        ({"money": Money(500, "JPY")}, {"amount": "500.00"}),
        ({"money": Money(1230, "KWD")}, {"amount": "1.23"}),
        (
            {"recurring": TRACE},
            {"recurring_details": {"trace_id": "MCC8454300719", "indicator": "m101"}},
        ),
        (
            {"recurring": RecurringDetails(indicator="m101")},
            {"recurring_details": {"indicator": "m101"}},
        ),
        ({}, {"recurring_details": None, "description": None}),
        ({"description": "Monthly plan"}, {"description": None}),  # not a documented rebill field
        ({"customer": Customer(ip="6.6.6.6")}, {"location": {"ip": "6.6.6.6"}}),
        ({"payment_id": "pay_other"}, {"merchant_order_id": "pay_other"}),
    ],
)
def test_build_rebill_fields(changes: dict[str, Any], expected: dict[str, object]) -> None:
    payload = sent(bizon.build_rebill(rebill(**changes)))
    assert {key: payload.get(key) for key in expected} == expected


def test_build_rebill_paths() -> None:
    assert bizon.build_rebill(rebill(parent_reference="a/b c")).path == "/orders/a%2Fb%20c/rebill"


def test_rebill_without_cvv_when_the_project_allows_it() -> None:
    payload = sent(lenient.build_rebill(rebill(cvv=None)))
    assert "cvv" not in payload
    assert payload["options"] == {"recurring": 1}


@pytest.mark.parametrize(
    ("connector", "changes", "fields"),
    [
        (bizon, {}, []),
        (bizon, {"cvv": None}, ["cvv"]),
        (bizon, {"cvv": ""}, ["cvv"]),
        (bizon, {"customer": Customer(email="foo@bar.com")}, ["customer.ip"]),
        (bizon, {"cvv": None, "customer": Customer()}, ["cvv", "customer.ip"]),
        (lenient, {"cvv": None}, []),
        (lenient, {}, []),
        (lenient, {"cvv": None, "customer": Customer()}, ["customer.ip"]),
        (bizon, {"money": Money(1230, "KWD")}, []),
    ],
    ids=[
        "valid",
        "no-cvv",
        "empty-cvv",
        "no-ip",
        "neither",
        "lenient-no-cvv",
        "lenient",
        "lenient-no-ip",
        "kwd-exact",
    ],
)
def test_validate_rebill(
    connector: BizonConnector, changes: dict[str, Any], fields: list[str]
) -> None:
    assert [error.field for error in connector.validate_rebill(rebill(**changes))] == fields


def test_validate_rebill_refuses_an_amount_bizon_cannot_carry() -> None:
    """As validate_authorize and validate_credit do: build_rebill would raise InvalidAmount."""
    cmd = rebill(money=Money(1234, "KWD"))
    assert [error.field for error in bizon.validate_rebill(cmd)] == ["amount"]


# -- parse_rebill --------------------------------------------------------------------------


def test_parse_rebill_doc_reply_is_the_new_order() -> None:
    outcome = bizon.parse_rebill(rebill(), reply("rebill_approved"))
    assert summary(outcome) == (OK, NEW_ORDER)
    assert outcome.provider_reference != PARENT
    assert amounts(outcome.snapshot) == (AUTHORIZED, 999, 0, 0)
    assert outcome.snapshot is not None
    assert outcome.snapshot.reference == NEW_ORDER
    assert outcome.snapshot.card == CardSummary("411111", "1111", "visa")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            edited(
                "rebill_approved",
                status="declined",
                operations=[
                    {"type": "authorize", "status": "failure", "iso_response_code": "51"}
                    | {"iso_message": "Insufficient funds", "amount": "9.99"}
                ],
            ),
            (FAILED, NEW_ORDER, "insufficient_funds", "51", "Insufficient funds"),
        ),
        (
            edited("rebill_approved", status="fraud", operations=[]),
            (FAILED, NEW_ORDER, "fraud_suspected", "fraud", None),
        ),
        (edited("rebill_approved", status="charged", amount_charged="9.99"), (OK, NEW_ORDER)),
    ],
    ids=["declined", "fraud", "charged"],
)
def test_parse_rebill_outcomes(raw: bytes, expected: tuple[object, ...]) -> None:
    assert summary(bizon.parse_rebill(rebill(), HttpReply(200, raw))) == expected


@pytest.mark.parametrize(
    ("status", "raw", "error"),
    [
        (200, body("order_status_weird"), ProviderProtocolError),
        (200, body("malformed"), ProviderProtocolError),
        (200, edited("rebill_approved", status="reversed"), ProviderProtocolError),
        (200, edited("rebill_approved", currency="EUR"), ProviderProtocolError),
        (401, body("http_401_auth"), ConnectorMisconfigured),
        (409, body("http_409_state"), ProviderRejected),
        (500, body("http_500_internal"), OutcomeUnknown),
    ],
)
def test_parse_rebill_errors(status: int, raw: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        bizon.parse_rebill(rebill(), HttpReply(status, raw))


def test_rebill_failure_state_has_no_amounts() -> None:
    raw = edited("rebill_approved", status="error", operations=[])
    outcome = bizon.parse_rebill(rebill(money=USD), HttpReply(200, raw))
    assert amounts(outcome.snapshot) == (ProviderState.FAILED, 0, 0, 0)
    assert summary(outcome) == (FAILED, NEW_ORDER, "processing_error", "error", None)
