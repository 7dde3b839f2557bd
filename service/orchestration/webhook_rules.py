"""What a verified notification does to a payment (pure).

Never backwards: an event that would undo a later state is ignored and kept.
Never on a disagreement: an amount or currency that differs from the ledger,
or a success for a payment we consider failed, moves no money and is kept for
operators as a mismatch. A refund or chargeback that arrives before the
success it implies records that success first (the provider's statuses only
reach refunded or chargeback from processed), so a late success changes nothing.
"""

from datetime import datetime

import msgspec

from service.domain.payments import (
    REFUNDABLE,
    Failure,
    Operation,
    OperationSource,
    OperationStatus,
    OperationType,
    Payment,
    PaymentStatus,
    apply_failure,
    apply_success,
    recorded_operation,
)
from service.domain.webhooks import WebhookEvent, WebhookKind, WebhookStatus
from service.orchestration.reconcile import with_operations

CANCELED = Failure("canceled", "The customer canceled the checkout.")
_SETTLED = {
    PaymentStatus.CAPTURED,
    PaymentStatus.PARTIALLY_REFUNDED,
    PaymentStatus.REFUNDED,
    PaymentStatus.CHARGED_BACK,
}


class Decision(msgspec.Struct, frozen=True):
    status: WebhookStatus
    detail: str | None = None
    after: Payment | None = None
    resolve: tuple[Operation, ...] = ()
    insert: tuple[Operation, ...] = ()


def _ignored(detail: str) -> Decision:
    return Decision(WebhookStatus.IGNORED, detail)


def _mismatch(detail: str) -> Decision:
    return Decision(WebhookStatus.MISMATCH, detail)


def _new_op(
    p: Payment, kind: OperationType, amount: int, event: WebhookEvent, now: datetime
) -> Operation:
    return recorded_operation(
        p,
        kind,
        amount,
        OperationSource.PROVIDER,
        now,
        provider_reference=event.provider_reference,
        reason=event.raw_type,
    )


class _Change:
    """A payment being moved by one event, with the rows to write."""

    def __init__(self, payment: Payment) -> None:
        self.payment = payment
        self.resolve: list[Operation] = []
        self.insert: list[Operation] = []

    def apply(self, op: Operation, *, resolved: bool = False) -> None:
        (self.resolve if resolved else self.insert).append(op)
        self.payment = with_operations(
            apply_success(self.payment, op), [op] if resolved else [], [] if resolved else [op]
        )

    def decision(self, now: datetime) -> Decision:
        after = msgspec.structs.replace(self.payment, updated_at=now)
        return Decision(WebhookStatus.APPLIED, None, after, tuple(self.resolve), tuple(self.insert))


def _succeed(change: _Change, pending: Operation, event: WebhookEvent, now: datetime) -> None:
    p = change.payment
    done = msgspec.structs.replace(
        pending,
        status=OperationStatus.SUCCEEDED,
        provider_reference=event.provider_reference,
        resolved_at=now,
    )
    change.payment = msgspec.structs.replace(
        p, provider_reference=p.provider_reference or event.provider_reference
    )
    change.apply(done, resolved=True)
    # A hosted checkout takes the money at once: the capture is the provider's doing.
    assert p.amount is not None  # decide() compared it with the event's amount
    change.apply(_new_op(change.payment, OperationType.CAPTURE, p.amount, event, now))
    if event.card is not None:
        change.payment = learn_card_from(change.payment, event)


def learn_card_from(p: Payment, event: WebhookEvent) -> Payment:
    if event.card is None or p.payment_method.card is not None:
        return p
    method = msgspec.structs.replace(p.payment_method, card=event.card)
    return msgspec.structs.replace(p, payment_method=method)


def _cancel(p: Payment, pending: list[Operation], event: WebhookEvent, now: datetime) -> Decision:
    if not pending:
        if p.status is PaymentStatus.VOIDED:
            return _ignored("already canceled")
        return _ignored(f"a cancel for a {p.status} payment: never moved backwards")
    done = msgspec.structs.replace(
        pending[0],
        status=OperationStatus.FAILED,
        failure=CANCELED,
        provider_reference=event.provider_reference,
        resolved_at=now,
    )
    after = apply_failure(p, done, CANCELED)
    void = _new_op(p, OperationType.VOID, 0, event, now)
    after = with_operations(
        msgspec.structs.replace(after, status=PaymentStatus.VOIDED, updated_at=now), [done], [void]
    )
    return Decision(WebhookStatus.APPLIED, None, after, (done,), (void,))


def _refund(change: _Change, event: WebhookEvent, now: datetime) -> Decision | None:
    p = change.payment
    if p.status not in REFUNDABLE:
        return _ignored(f"a refund for a {p.status} payment: already applied or superseded")
    amount = event.refund_amount if event.refund_amount is not None else p.refundable
    if not 0 < amount <= p.refundable:
        return _mismatch(f"refund of {amount} {p.currency} but {p.refundable} is refundable")
    change.apply(_new_op(p, OperationType.REFUND, amount, event, now))
    return None


def _chargeback(change: _Change, event: WebhookEvent, now: datetime) -> Decision | None:
    p = change.payment
    if p.status is PaymentStatus.CHARGED_BACK:
        return _ignored("already charged back")
    disputed = p.amount_captured - p.amount_refunded
    change.apply(_new_op(p, OperationType.CHARGEBACK, disputed, event, now))
    return None


def decide(p: Payment, event: WebhookEvent, now: datetime) -> Decision:
    """The change `event` makes to `p`, or why it makes none."""
    money = event.money
    if money is None or money.currency != p.currency:
        return _mismatch(f"event in {money.currency if money else '?'}, payment in {p.currency}")
    pending = [op for op in p.pending_operations() if op.type is OperationType.AUTHORIZE]
    if event.kind is WebhookKind.OTHER:
        return _ignored(f"{event.raw_type} is not acted on")
    if event.kind is WebhookKind.PAYMENT_CANCELED:
        return _cancel(p, pending, event, now)
    change = _Change(p)
    if pending:
        if money.amount != p.amount:
            return _mismatch(f"order amount {money.amount}, payment amount {p.amount} {p.currency}")
        _succeed(change, pending[0], event, now)
    elif event.kind is WebhookKind.PAYMENT_SUCCEEDED:
        if p.status in _SETTLED:
            return _ignored(f"the payment is already {p.status}")
        return _mismatch(f"the provider reports a success for a {p.status} payment")
    if event.kind is WebhookKind.PAYMENT_REFUNDED:
        refused = _refund(change, event, now)
    elif event.kind is WebhookKind.PAYMENT_CHARGED_BACK:
        refused = _chargeback(change, event, now)
    else:
        refused = None
    if refused is not None and not pending:
        return refused
    if refused is not None and refused.status is WebhookStatus.MISMATCH:
        return refused
    return change.decision(now)


__all__ = ["Decision", "decide"]
