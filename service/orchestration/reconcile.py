"""Reconciling the ledger with the provider's view of a payment (pure logic).

Positive evidence settles a pending operation at once (the provider shows the
money moved). Negative evidence ("the provider shows nothing") settles it as
failed only once the operation is older than the reconcile age, so a request
still in flight at the provider is never declared lost. What the provider has
and the ledger lacks is imported as operations marked with their source.
"""

from datetime import datetime, timedelta

import msgspec

from service.domain.outcomes import ProviderSnapshot, ProviderState
from service.domain.payments import (
    Failure,
    Operation,
    OperationSource,
    OperationStatus,
    OperationType,
    Payment,
    PaymentStatus,
    apply_action_required,
    apply_failure,
    apply_success,
    recorded_operation,
)

NO_RECORD = Failure(
    code="provider_no_record",
    message="The provider has no record of this operation: nothing was moved.",
)

_MONEY_KEPT = {
    ProviderState.AUTHORIZED,
    ProviderState.CAPTURED,
    ProviderState.REFUNDED,
    ProviderState.VOIDED,
    ProviderState.CHARGED_BACK,
}


class Reconciliation(msgspec.Struct, frozen=True):
    payment: Payment
    resolve: tuple[Operation, ...] = ()
    insert: tuple[Operation, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.resolve or self.insert)


def _judge_authorize(snap: ProviderSnapshot | None, old: bool) -> Failure | bool | None:
    if snap is None:
        return NO_RECORD if old else None
    if snap.state in _MONEY_KEPT:
        return True
    if snap.state is ProviderState.FAILED:
        return snap.failure or Failure("card_declined", "The provider declined the payment.")
    return None  # still waiting for the customer


def _judge(
    op: Operation, p: Payment, snap: ProviderSnapshot | None, old: bool
) -> Failure | bool | None:
    """True: succeeded; a Failure: failed; None: still unknown."""
    if op.type is OperationType.AUTHORIZE:
        return _judge_authorize(snap, old)
    if snap is None:
        return None  # the order itself vanished: never guess about money moved on it
    amount = op.amount or 0  # captures and refunds always carry their amount
    if op.type is OperationType.CAPTURE:
        if snap.amount_captured >= p.amount_captured + amount:
            return True
    elif op.type is OperationType.REFUND:
        if snap.amount_refunded >= p.amount_refunded + amount:
            return True
    elif op.type is OperationType.VOID and snap.state is ProviderState.VOIDED:
        return True
    return NO_RECORD if old else None


def _resolved(
    op: Operation,
    verdict: Failure | bool,
    snap: ProviderSnapshot | None,
    now: datetime,
) -> Operation:
    amount = op.amount
    if verdict is True and amount is None and snap is not None:
        amount = snap.amount_authorized  # a provider-priced payment learns its price here
    return msgspec.structs.replace(
        op,
        status=OperationStatus.SUCCEEDED if verdict is True else OperationStatus.FAILED,
        failure=verdict if isinstance(verdict, Failure) else None,
        provider_reference=op.provider_reference or (snap.reference if snap else None),
        resolved_at=now,
        amount=amount,
    )


def _imported(
    p: Payment, kind: OperationType, amount: int, source: OperationSource, now: datetime
) -> Operation:
    return recorded_operation(p, kind, amount, source, now)


def absorb(
    p: Payment, snap: ProviderSnapshot, now: datetime, source: OperationSource
) -> tuple[Payment, list[Operation]]:
    """Import the money movements the provider shows and the ledger lacks."""
    if p.pending_operations() or p.amount_authorized == 0:
        return p, []
    found: list[Operation] = []
    if snap.amount_captured > p.amount_captured:
        found.append(
            _imported(
                p, OperationType.CAPTURE, snap.amount_captured - p.amount_captured, source, now
            )
        )
    if snap.amount_refunded > p.amount_refunded:
        found.append(
            _imported(
                p, OperationType.REFUND, snap.amount_refunded - p.amount_refunded, source, now
            )
        )
    if snap.state is ProviderState.VOIDED and p.status is PaymentStatus.AUTHORIZED:
        found.append(_imported(p, OperationType.VOID, p.amount_authorized, source, now))
    if snap.state is ProviderState.CHARGED_BACK and p.status is not PaymentStatus.CHARGED_BACK:
        disputed = max(snap.amount_captured - snap.amount_refunded, 0)
        found.append(_imported(p, OperationType.CHARGEBACK, disputed, source, now))
    for op in found:
        p = apply_success(p, op)
    return p, found


def learn_card(p: Payment, snap: ProviderSnapshot) -> Payment:
    """A wallet token hides the card until the provider shows it (masked)."""
    if snap.card is None or p.payment_method.card is not None:
        return p
    method = msgspec.structs.replace(p.payment_method, card=snap.card)
    return msgspec.structs.replace(p, payment_method=method)


def with_operations(p: Payment, resolve: list[Operation], insert: list[Operation]) -> Payment:
    """The payment's operation list after resolving and inserting rows."""
    done = {op.id: op for op in resolve}
    ops = tuple(done.get(op.id, op) for op in p.operations) + tuple(insert)
    return msgspec.structs.replace(p, operations=ops)


def reconcile(
    p: Payment, snap: ProviderSnapshot | None, now: datetime, settle_after: timedelta
) -> Reconciliation:
    """Settle pending operations from `snap`, then import what the ledger lacks."""
    resolve: list[Operation] = []
    current = p
    for op in p.pending_operations():
        verdict = _judge(op, current, snap, now - op.created_at >= settle_after)
        if verdict is None:
            continue
        done = _resolved(op, verdict, snap, now)
        resolve.append(done)
        if isinstance(verdict, Failure):
            current = apply_failure(current, done, verdict)
        else:
            if current.amount is None:
                current = msgspec.structs.replace(current, amount=done.amount)
            current = apply_success(current, done)
        current = with_operations(current, [done], [])
    if resolve and snap is not None and snap.details:
        # What the provider said when the attempt settled (a vendor order's figures).
        details = dict(current.provider_details) | snap.details
        current = msgspec.structs.replace(current, provider_details=details)
    if snap is not None and current.provider_reference is None:
        current = msgspec.structs.replace(current, provider_reference=snap.reference)
    if snap is not None and snap.state is ProviderState.AWAITING_CUSTOMER and snap.next_action:
        # Still waiting on the customer, perhaps at a later step (3DS method -> challenge).
        waiting = current.status in (PaymentStatus.PROCESSING, PaymentStatus.REQUIRES_ACTION)
        if waiting and current.next_action != snap.next_action:
            current = apply_action_required(current, snap.next_action)
    insert: list[Operation] = []
    if snap is not None:
        current, insert = absorb(current, snap, now, OperationSource.SYNC)
        current = learn_card(current, snap)
    current = with_operations(current, [], insert)
    return Reconciliation(current, tuple(resolve), tuple(insert))
