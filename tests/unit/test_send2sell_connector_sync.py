"""Send2SellConnector.build_sync / parse_sync: settling an attempt in doubt by confirming again.

There is no status call: sync re-sends the billing the payment kept. 200 Paid: this
call paid (the first never did); 402: neither did; 403 "does not allow payment": the
first attempt paid, at the amount the caller said it expected (the reply has no
figures), else an operator must settle it; the other 403s: the order cannot be paid.
"""

from typing import Any

import msgspec
import pytest

from service.connectors.send2sell import Send2SellOptions
from service.domain.errors import (
    ConnectorError,
    ConnectorMisconfigured,
    OutcomeUnknown,
    ProviderInputRefused,
    ProviderObjectNotFound,
    ProviderProtocolError,
)
from service.domain.outcomes import HttpReply, ProviderSnapshot, ProviderState
from service.domain.payments import Failure
from tests.unit.test_send2sell_connector_support import (
    BASE_FORM,
    BILLING,
    FORBIDDEN,
    FULL_BILLING,
    PAID_FIGURES,
    PENDING_FIGURES,
    REFERENCE,
    TOKEN,
    connector,
    form,
    pay_order,
    raw,
    reply,
    requested,
    sync,
    transcript,
    variant,
)

NOT_ALLOWED = FORBIDDEN[1]
OTHER_403S = [FORBIDDEN[0], FORBIDDEN[2]]


def parse(status: int, name: str, details: dict[str, Any] | None = None) -> ProviderSnapshot:
    snapshot = connector().parse_sync(sync(details), reply(status, name))
    assert snapshot is not None
    return snapshot


# -- the call: the payment's own, again -------------------------------------------------


@pytest.mark.parametrize("spoof", [False, True])
@pytest.mark.parametrize("billing", [BILLING, FULL_BILLING])
def test_sync_re_sends_the_payments_billing_call(spoof: bool, billing: Any) -> None:
    payment = connector(spoof=spoof).build_pay_order(
        pay_order(Send2SellOptions(order_id=370562, billing=billing))
    )
    call = connector(spoof=spoof).build_sync(sync({"requested": requested(billing)}))
    assert call == payment
    assert (call.method, call.path) == (
        "POST" if spoof else "PATCH",
        "/api/order/370562/billing",
    )


def test_the_kept_billing_is_sent_as_the_same_form() -> None:
    call = connector().build_sync(sync())
    assert form(call) == BASE_FORM
    assert b"None" not in (call.body or b""), "fields kept as null are not sent"
    assert call.headers["Authorization"] == f"Bearer {TOKEN}"


def test_the_path_is_the_payments_provider_reference() -> None:
    call = connector().build_sync(sync(reference="42"))
    assert call.path == "/api/order/42/billing"


@pytest.mark.parametrize(
    "details",
    [
        {},
        {"requested": {}},
        {"requested": {"order_id": 370562, "amount": 6900}},
        {"requested": {"billing": None}},
        {"requested": {"billing": "first_name=Jane"}},
        {"requested": {"billing": ["Jane"]}},
        {"requested": None},
        {"requested": "370562"},
    ],
)
def test_sync_refuses_without_a_kept_billing(details: dict[str, Any]) -> None:
    with pytest.raises(ProviderProtocolError, match="billing"):
        connector().build_sync(sync(details))


@pytest.mark.parametrize("reference", [None, ""])
def test_sync_refuses_without_a_provider_reference(reference: str | None) -> None:
    with pytest.raises(ProviderProtocolError):
        connector().build_sync(sync(reference=reference))


@pytest.mark.parametrize(
    "billing",
    [
        {"first_name": "Jane"},  # the doc's required fields are gone
        msgspec.to_builtins(BILLING) | {"use_credits": "0"},
        msgspec.to_builtins(BILLING) | {"state": {"code": "TX"}},
    ],
)
def test_sync_refuses_a_kept_billing_the_payment_could_not_have_sent(
    billing: dict[str, Any],
) -> None:
    details = {"requested": requested() | {"billing": billing}}
    with pytest.raises(ProviderProtocolError, match="billing"):
        connector().build_sync(sync(details))


def test_the_sync_transcript_scrubs_the_token() -> None:
    call = connector().build_sync(sync())
    assert TOKEN not in connector().scrub(transcript(call))


# -- what the answer says of the attempt in doubt ---------------------------------------


def test_200_paid_is_captured_at_the_credits_consumed() -> None:
    assert parse(200, "paid.json") == ProviderSnapshot(
        REFERENCE, ProviderState.CAPTURED, 6900, 6900, 0, details=PAID_FIGURES
    )


def test_200_paid_prices_from_the_reply_not_from_what_was_asked() -> None:
    snapshot = parse(200, "paid.json", {"requested": requested(amount=100)})
    assert (snapshot.amount_authorized, snapshot.amount_captured) == (6900, 6900)


def test_402_means_neither_attempt_paid() -> None:
    snapshot = parse(402, "payment_required.json")
    assert (snapshot.reference, snapshot.state) == (REFERENCE, ProviderState.FAILED)
    assert (snapshot.amount_authorized, snapshot.amount_captured, snapshot.amount_refunded) == (
        0,
        0,
        0,
    )
    assert snapshot.details == PENDING_FIGURES
    failure = snapshot.failure
    assert failure is not None
    assert (failure.code, failure.provider_code) == ("insufficient_credits", "402")
    assert (failure.details["credits_needed"], failure.details["net_total"]) == (6900, 7469)


@pytest.mark.parametrize("amount", [6900, 7469, 1])
def test_not_allowed_means_the_first_attempt_paid_at_the_amount_expected(amount: int) -> None:
    name, _, _ = NOT_ALLOWED
    snapshot = parse(403, name, {"requested": requested(amount=amount)})
    assert snapshot == ProviderSnapshot(REFERENCE, ProviderState.CAPTURED, amount, amount, 0)
    assert snapshot.failure is None


@pytest.mark.parametrize("amount", [None, "6900", 69.0, True, -1])
def test_not_allowed_without_an_amount_expected_is_for_an_operator(amount: object) -> None:
    name, _, _ = NOT_ALLOWED
    kept = {k: v for k, v in requested().items() if k != "amount"}
    if amount is not None:
        kept["amount"] = amount
    with pytest.raises(ProviderProtocolError, match="operator"):
        parse(403, name, {"requested": kept})


def test_not_allowed_with_an_amount_in_another_currency_is_for_an_operator() -> None:
    name, _, _ = NOT_ALLOWED
    with pytest.raises(ProviderProtocolError, match="operator"):
        parse(403, name, {"requested": requested(amount_currency="EUR")})


def test_not_allowed_with_no_currency_kept_takes_the_amount_as_dollars() -> None:
    name, _, _ = NOT_ALLOWED
    kept = {k: v for k, v in requested().items() if k != "amount_currency"}
    assert parse(403, name, {"requested": kept}).amount_captured == 6900


@pytest.mark.parametrize(("name", "message", "code"), OTHER_403S)
def test_the_other_403s_fail_with_their_codes(name: str, message: str, code: str) -> None:
    snapshot = parse(403, name)
    assert snapshot == ProviderSnapshot(
        REFERENCE,
        ProviderState.FAILED,
        0,
        0,
        0,
        failure=Failure(code, snapshot.failure.message, "403", message),  # type: ignore[union-attr]
    )
    assert snapshot.failure is not None
    assert snapshot.failure.message


@pytest.mark.parametrize(
    "body",
    [
        b'{"message": "Account suspended."}',
        # Not the documented message, merely mentioning it: perhaps "paid" in other words.
        b'{"message": "Order 9 is locked. This order does not allow payment."}',
        b"",
    ],
)
def test_an_unknown_403_leaves_the_attempt_in_doubt(body: bytes) -> None:
    # At pay time an unknown 403 is a refusal; for an attempt in doubt it could mean the
    # order is paid already, so it is never read as "failed".
    with pytest.raises(ProviderProtocolError):
        connector().parse_sync(sync(), raw(403, body))


def test_an_unknown_status_is_a_protocol_error() -> None:
    body = variant("paid.json", b'"status": "Paid"', b'"status": "Processing"')
    with pytest.raises(ProviderProtocolError):
        connector().parse_sync(sync(), raw(200, body))


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, ConnectorMisconfigured),
        (404, ProviderObjectNotFound),
        (422, ProviderInputRefused),
        (500, OutcomeUnknown),
        (503, OutcomeUnknown),
    ],
)
def test_errors_leave_the_attempt_in_doubt(status: int, error: type[ConnectorError]) -> None:
    with pytest.raises(error):
        connector().parse_sync(sync(), raw(status, f'{{"message": "{TOKEN}"}}'.encode()))


def test_sync_errors_never_show_the_token() -> None:
    for status in (401, 404, 422, 500):
        with pytest.raises(ConnectorError) as info:
            connector().parse_sync(sync(), raw(status, f'{{"message": "{TOKEN}"}}'.encode()))
        assert TOKEN not in str(info.value)
    with pytest.raises(ConnectorError) as info:
        connector().parse_sync(sync(), HttpReply(403, f'{{"message": "{TOKEN}"}}'.encode()))
    assert TOKEN not in str(info.value)
