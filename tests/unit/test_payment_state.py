"""The payment state machine (service/domain/payments.py)."""

import msgspec
import pytest

from service.domain.errors import (
    AmountExceedsCapturable,
    AmountExceedsRefundable,
    InvalidState,
    ValidationFailed,
)
from service.domain.payments import (
    Failure,
    OperationStatus,
    OperationType,
    PaymentStatus,
    apply_failure,
    apply_success,
    cancel_plan,
    check_capture,
    check_refund,
    check_void,
    resting_status,
)
from tests.unit.factories import payment, pending

S = PaymentStatus


def test_capture_defaults_to_everything_and_checks_bounds():
    p = payment()
    assert check_capture(p, None) == 1000
    assert check_capture(p, 400) == 400
    with pytest.raises(AmountExceedsCapturable):
        check_capture(p, 1001)
    with pytest.raises(ValidationFailed):
        check_capture(p, 0)


@pytest.mark.parametrize(
    "status", [S.PROCESSING, S.REQUIRES_ACTION, S.CAPTURED, S.VOIDED, S.FAILED, S.REFUNDED]
)
def test_capture_only_from_authorized(status):
    with pytest.raises(InvalidState):
        check_capture(payment(status), None)


def test_refund_bounds_and_states():
    p = payment(S.PARTIALLY_REFUNDED, amount_captured=600, amount_refunded=100)
    assert check_refund(p, None) == 500
    with pytest.raises(AmountExceedsRefundable):
        check_refund(p, 501)
    for status in (S.AUTHORIZED, S.REFUNDED, S.PROCESSING, S.CHARGED_BACK):
        with pytest.raises(InvalidState):
            check_refund(payment(status, amount_captured=600), 1)


def test_void_and_cancel_plans():
    assert check_void(payment()) == 1000
    with pytest.raises(InvalidState):
        check_void(payment(S.CAPTURED, amount_captured=1000))
    assert cancel_plan(payment()) is OperationType.VOID
    assert cancel_plan(payment(S.CAPTURED, amount_captured=10)) is OperationType.REFUND
    assert cancel_plan(payment(S.PARTIALLY_REFUNDED, amount_captured=10, amount_refunded=1)) is (
        OperationType.REFUND
    )
    for status in (S.VOIDED, S.REFUNDED, S.FAILED, S.PROCESSING, S.REQUIRES_ACTION):
        with pytest.raises(InvalidState):
            cancel_plan(payment(status))


@pytest.mark.parametrize(
    ("amounts", "expected"),
    [
        ({"amount_authorized": 0}, S.FAILED),
        ({}, S.AUTHORIZED),
        ({"amount_captured": 500}, S.CAPTURED),
        ({"amount_captured": 500, "amount_refunded": 1}, S.PARTIALLY_REFUNDED),
        ({"amount_captured": 500, "amount_refunded": 500}, S.REFUNDED),
    ],
)
def test_resting_status_follows_the_amounts(amounts, expected):
    assert resting_status(payment(S.PROCESSING, **amounts)) is expected


def _done(op):
    return msgspec.structs.replace(op, status=OperationStatus.SUCCEEDED)


def test_apply_success_moves_amounts():
    p = payment(S.PROCESSING, amount_authorized=0)
    authorized = apply_success(p, _done(pending(OperationType.AUTHORIZE, 1000)))
    assert (authorized.status, authorized.amount_authorized) == (S.AUTHORIZED, 1000)
    captured = apply_success(authorized, _done(pending(OperationType.CAPTURE, 700)))
    assert (captured.status, captured.amount_captured) == (S.CAPTURED, 700)
    partly = apply_success(captured, _done(pending(OperationType.REFUND, 200)))
    assert (partly.status, partly.amount_refunded) == (S.PARTIALLY_REFUNDED, 200)
    full = apply_success(partly, _done(pending(OperationType.REFUND, 500)))
    assert full.status is S.REFUNDED
    voided = apply_success(authorized, _done(pending(OperationType.VOID, 1000)))
    assert voided.status is S.VOIDED


def test_apply_failure_restores_the_resting_state_or_fails_the_payment():
    failure = Failure("do_not_honor", "declined")
    p = payment(S.PROCESSING, amount_authorized=0)
    failed = apply_failure(p, pending(OperationType.AUTHORIZE, 1000), failure)
    assert (failed.status, failed.failure) == (S.FAILED, failure)
    captured = payment(S.PROCESSING, amount_captured=1000)
    back = apply_failure(captured, pending(OperationType.REFUND, 10), failure)
    assert back.status is S.CAPTURED
    assert back.failure is None
