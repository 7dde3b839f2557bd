"""What a notification does to a payment (service/orchestration/webhook_rules.py)."""

import msgspec
import pytest

from service.domain.money import Money
from service.domain.payments import OperationStatus, OperationType, PaymentStatus
from service.domain.webhooks import WebhookEvent, WebhookKind, WebhookStatus
from service.orchestration.webhook_rules import decide
from tests.unit.factories import T0, payment, pending, with_pending

S, K = PaymentStatus, WebhookKind


def event(kind: WebhookKind, amount: int = 1000, currency: str = "USD", refund: int | None = None):
    return WebhookEvent(
        event_id="e1",
        kind=kind,
        raw_type=kind.value,
        provider_reference="ord_1",
        money=Money(amount, currency),
        refund_amount=refund,
    )


def waiting():
    p = with_pending(payment(amount_authorized=0), pending(OperationType.AUTHORIZE, 1000))
    return msgspec.structs.replace(p, status=S.REQUIRES_ACTION)


def test_success_settles_authorize_and_capture():
    d = decide(waiting(), event(K.PAYMENT_SUCCEEDED), T0)
    assert d.status is WebhookStatus.APPLIED
    assert d.after.status is S.CAPTURED
    assert [op.status for op in d.resolve] == [OperationStatus.SUCCEEDED]
    assert [(op.type, op.amount) for op in d.insert] == [(OperationType.CAPTURE, 1000)]


@pytest.mark.parametrize(
    ("kind", "refund", "status", "types"),
    [
        (
            K.PAYMENT_REFUNDED,
            300,
            S.PARTIALLY_REFUNDED,
            [OperationType.CAPTURE, OperationType.REFUND],
        ),
        (K.PAYMENT_REFUNDED, None, S.REFUNDED, [OperationType.CAPTURE, OperationType.REFUND]),
        (
            K.PAYMENT_CHARGED_BACK,
            None,
            S.CHARGED_BACK,
            [OperationType.CAPTURE, OperationType.CHARGEBACK],
        ),
    ],
)
def test_refund_or_chargeback_before_success_records_the_success_first(kind, refund, status, types):
    d = decide(waiting(), event(kind, refund=refund), T0)
    assert d.status is WebhookStatus.APPLIED
    assert d.after.status is status
    assert [op.type for op in d.insert] == types
    late = decide(d.after, event(K.PAYMENT_SUCCEEDED), T0)
    assert late.status is WebhookStatus.IGNORED  # never backwards


def test_cancel_voids_a_waiting_payment():
    d = decide(waiting(), event(K.PAYMENT_CANCELED), T0)
    assert d.after.status is S.VOIDED
    assert d.resolve[0].failure.code == "canceled"
    assert decide(d.after, event(K.PAYMENT_CANCELED), T0).status is WebhookStatus.IGNORED


@pytest.mark.parametrize("status", [S.CAPTURED, S.REFUNDED, S.CHARGED_BACK])
def test_a_cancel_after_the_money_moved_is_ignored(status):
    p = payment(status, amount_captured=1000, amount_refunded=1000 if status is S.REFUNDED else 0)
    assert decide(p, event(K.PAYMENT_CANCELED), T0).status is WebhookStatus.IGNORED


@pytest.mark.parametrize(
    ("p", "e"),
    [
        (waiting(), event(K.PAYMENT_SUCCEEDED, amount=999)),
        (waiting(), event(K.PAYMENT_SUCCEEDED, currency="EUR")),
        (payment(S.FAILED), event(K.PAYMENT_SUCCEEDED)),
        (payment(S.VOIDED), event(K.PAYMENT_SUCCEEDED)),
        (payment(S.CAPTURED, amount_captured=1000), event(K.PAYMENT_REFUNDED, refund=1001)),
        (waiting(), event(K.PAYMENT_REFUNDED, refund=1001)),
    ],
)
def test_disagreements_move_no_money(p, e):
    d = decide(p, e, T0)
    assert d.status is WebhookStatus.MISMATCH
    assert d.after is None
    assert d.detail


def test_events_not_acted_on_are_ignored():
    assert decide(waiting(), event(K.OTHER), T0).status is WebhookStatus.IGNORED


def test_a_second_chargeback_is_ignored():
    p = payment(S.CHARGED_BACK, amount_captured=1000)
    assert decide(p, event(K.PAYMENT_CHARGED_BACK), T0).status is WebhookStatus.IGNORED
