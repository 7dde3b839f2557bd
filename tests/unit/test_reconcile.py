"""Reconciling the ledger with a provider snapshot (service/orchestration/reconcile.py)."""

from datetime import timedelta

import msgspec
import pytest

from service.domain.outcomes import ProviderSnapshot, ProviderState
from service.domain.payments import (
    Failure,
    NextAction,
    OperationSource,
    OperationStatus,
    OperationType,
    Payment,
    PaymentStatus,
)
from service.orchestration.reconcile import reconcile
from tests.unit.factories import T0, payment, pending, with_pending

GRACE = timedelta(seconds=60)
OLD = timedelta(seconds=61)
S = PaymentStatus


def snap(state: ProviderState, authorized=1000, captured=0, refunded=0, **kw) -> ProviderSnapshot:
    return ProviderSnapshot("ord_1", state, authorized, captured, refunded, **kw)


def test_authorize_settles_on_positive_evidence_at_once():
    p = with_pending(payment(amount_authorized=0), pending(OperationType.AUTHORIZE, 1000))
    result = reconcile(p, snap(ProviderState.AUTHORIZED), T0, GRACE)
    assert result.payment.status is S.AUTHORIZED
    assert [op.status for op in result.resolve] == [OperationStatus.SUCCEEDED]
    assert result.insert == ()


def test_authorize_with_auto_charge_imports_the_capture():
    p = with_pending(payment(amount_authorized=0), pending(OperationType.AUTHORIZE, 1000))
    result = reconcile(p, snap(ProviderState.CAPTURED, captured=1000), T0, GRACE)
    assert result.payment.status is S.CAPTURED
    [capture] = result.insert
    assert (capture.type, capture.amount, capture.source) == (
        OperationType.CAPTURE,
        1000,
        OperationSource.SYNC,
    )


def test_declined_at_the_provider_fails_the_payment():
    failure = Failure("insufficient_funds", "no money", "51", "Insufficient funds")
    p = with_pending(payment(amount_authorized=0), pending(OperationType.AUTHORIZE, 1000))
    result = reconcile(p, snap(ProviderState.FAILED, authorized=0, failure=failure), T0, GRACE)
    assert result.payment.status is S.FAILED
    assert result.payment.failure == failure
    assert result.resolve[0].failure == failure


@pytest.mark.parametrize(("age", "settled"), [(timedelta(seconds=5), False), (OLD, True)])
def test_no_record_settles_only_after_the_grace_period(age, settled):
    p = with_pending(payment(amount_authorized=0), pending(OperationType.AUTHORIZE, 1000, age))
    result = reconcile(p, None, T0, GRACE)
    if settled:
        assert result.payment.status is S.FAILED
        assert result.resolve[0].failure.code == "provider_no_record"
    else:
        assert result.payment.status is S.PROCESSING
        assert not result.changed


def test_awaiting_customer_keeps_waiting_with_the_next_action():
    action = NextAction("redirect", "https://pay.example/1")
    p = with_pending(payment(amount_authorized=0), pending(OperationType.AUTHORIZE, 1000, OLD))
    result = reconcile(
        p, snap(ProviderState.AWAITING_CUSTOMER, authorized=0, next_action=action), T0, GRACE
    )
    assert result.payment.status is S.REQUIRES_ACTION
    assert result.payment.next_action == action
    assert result.resolve == ()


@pytest.mark.parametrize(
    ("kind", "amount", "snapshot", "age", "expected_op", "expected_status"),
    [
        (
            OperationType.CAPTURE,
            400,
            snap(ProviderState.CAPTURED, captured=400),
            timedelta(),
            "succeeded",
            S.CAPTURED,
        ),
        (
            OperationType.CAPTURE,
            400,
            snap(ProviderState.AUTHORIZED),
            timedelta(),
            None,
            S.PROCESSING,
        ),
        (OperationType.CAPTURE, 400, snap(ProviderState.AUTHORIZED), OLD, "failed", S.AUTHORIZED),
        (OperationType.VOID, 1000, snap(ProviderState.VOIDED), timedelta(), "succeeded", S.VOIDED),
        (OperationType.VOID, 1000, snap(ProviderState.AUTHORIZED), OLD, "failed", S.AUTHORIZED),
    ],
)
def test_pending_actions(kind, amount, snapshot, age, expected_op, expected_status):
    p = with_pending(payment(), pending(kind, amount, age))
    result = reconcile(p, snapshot, T0, GRACE)
    assert result.payment.status is expected_status
    assert [op.status.value for op in result.resolve] == ([expected_op] if expected_op else [])


def test_refund_pending_and_settled():
    base = payment(S.CAPTURED, amount_captured=1000, amount_refunded=100)
    p = with_pending(base, pending(OperationType.REFUND, 300))
    done = reconcile(p, snap(ProviderState.REFUNDED, captured=1000, refunded=400), T0, GRACE)
    assert (done.payment.status, done.payment.amount_refunded) == (S.PARTIALLY_REFUNDED, 400)


def test_a_vanished_order_never_fails_money_already_moved():
    p = with_pending(payment(), pending(OperationType.CAPTURE, 400, OLD))
    result = reconcile(p, None, T0, GRACE)
    assert not result.changed
    assert result.payment.status is S.PROCESSING


@pytest.mark.parametrize(
    ("start", "snapshot", "imported"),
    [
        (
            payment(S.CAPTURED, amount_captured=1000),
            snap(ProviderState.REFUNDED, captured=1000, refunded=250),
            [(OperationType.REFUND, 250)],
        ),
        (payment(), snap(ProviderState.VOIDED), [(OperationType.VOID, 1000)]),
        (
            payment(S.CAPTURED, amount_captured=1000),
            snap(ProviderState.CHARGED_BACK, captured=1000),
            [(OperationType.CHARGEBACK, 1000)],
        ),
        (payment(), snap(ProviderState.CAPTURED, captured=600), [(OperationType.CAPTURE, 600)]),
    ],
)
def test_imports_what_the_ledger_lacks_once(start, snapshot, imported):
    first = reconcile(start, snapshot, T0, GRACE)
    assert [(op.type, op.amount) for op in first.insert] == imported
    assert all(op.source is OperationSource.SYNC for op in first.insert)
    again = reconcile(first.payment, snapshot, T0, GRACE)
    assert not again.changed


def test_nothing_changes_when_both_agree():
    result = reconcile(payment(), snap(ProviderState.AUTHORIZED), T0, GRACE)
    assert not result.changed
    assert result.payment == payment()


def test_a_later_3ds_step_replaces_the_next_action():
    from service.domain.payments import ActionPurpose, Authentication

    method = NextAction(
        "form",
        "https://acs/method",
        "POST",
        {"threeDSMethodData": "x"},
        ActionPurpose.THREE_D_SECURE_2_METHOD,
        Authentication.RESUME,
    )
    challenge = NextAction(
        "form",
        "https://acs/challenge",
        "POST",
        {"creq": "y"},
        ActionPurpose.THREE_D_SECURE_2_CHALLENGE,
        Authentication.CRES,
    )
    p = with_pending(payment(amount_authorized=0), pending(OperationType.AUTHORIZE, 1000))
    p = msgspec.structs.replace(p, status=S.REQUIRES_ACTION, next_action=method)
    snapshot = snap(ProviderState.AWAITING_CUSTOMER, authorized=0, next_action=challenge)
    result = reconcile(p, snapshot, T0, GRACE)
    assert result.payment.next_action == challenge
    assert result.payment.status is S.REQUIRES_ACTION
    assert result.resolve == ()


def test_the_card_behind_a_wallet_token_is_learnt_once():
    from service.domain.payments import CardSummary, PaymentMethodSummary, PaymentMethodType

    wallet = msgspec.structs.replace(
        payment(),
        payment_method=PaymentMethodSummary(PaymentMethodType.WALLET_TOKEN, wallet="apple_pay"),
    )
    card = CardSummary("410937", "4320", "visa", 7, 2020)
    learnt = reconcile(wallet, snap(ProviderState.AUTHORIZED, card=card), T0, GRACE).payment
    assert learnt.payment_method.card == card
    assert learnt.payment_method.wallet == "apple_pay"
    other = CardSummary("411111", "1111", "visa")
    assert (
        reconcile(learnt, snap(ProviderState.AUTHORIZED, card=other), T0, GRACE).payment == learnt
    )


def _unpriced_order() -> Payment:
    """A vendor order in doubt: the provider sets its amount, unknown so far."""
    p = msgspec.structs.replace(
        payment(amount_authorized=0), amount=None, provider_details={"requested": {"a": 1}}
    )
    op = msgspec.structs.replace(pending(OperationType.AUTHORIZE, 0), amount=None)
    return with_pending(p, op)


def test_a_provider_priced_payment_learns_its_price_and_figures_when_settled():
    figures = {"consumed_credits": 2500, "tax": 0}
    result = reconcile(
        _unpriced_order(),
        snap(ProviderState.CAPTURED, authorized=2500, captured=2500, details=figures),
        T0,
        GRACE,
    )
    settled = result.payment
    assert (settled.status, settled.amount, settled.amount_captured) == (S.CAPTURED, 2500, 2500)
    assert result.resolve[0].amount == 2500
    assert settled.provider_details == {"requested": {"a": 1}} | figures


def test_figures_are_not_taken_when_nothing_settles():
    p = payment()  # nothing pending: a snapshot's figures are not the ledger's business
    result = reconcile(p, snap(ProviderState.AUTHORIZED, details={"tax": 5}), T0, GRACE)
    assert result.payment.provider_details == p.provider_details
