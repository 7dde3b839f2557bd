"""Payments in doubt handed to operators: `needs_attention`, and an operator's verdict.

What the state machine allows from `needs_attention`:

* the provider's evidence settles it as before: a sync or a notification resolves
  the pending operations and the payment takes the status its amounts stand for;
* an operator settles it by hand (`resolve_by_operator`): the verdict resolves every
  pending operation, recorded with the operator's key and reason;
* nothing that would move money on a payment whose money is unaccounted for:
  capture, void, refund, cancel, rebill and payouts from it are refused (409).
"""

from datetime import datetime

import msgspec

from service.domain.errors import FieldError, InvalidState, ValidationFailed
from service.domain.payments import (
    ATTENTION_FROM,
    CaptureMethod,
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


class OperatorVerdict(msgspec.Struct, frozen=True, kw_only=True):
    """What an operator found at the provider for a payment's pending operation(s)."""

    succeeded: bool
    reason: str
    actor: str  # the operator's API key id
    provider_reference: str | None = None
    amount: int | None = None  # a provider-priced payment's price, when it succeeded


def mark_needs_attention(payment: Payment, now: datetime) -> Payment:
    """The payment handed to operators; only a payment with an operation in doubt."""
    if payment.status not in ATTENTION_FROM or not payment.pending_operations():
        raise InvalidState(f"a {payment.status} payment has nothing in doubt to hand over")
    # The next action stays: it shows operators what the customer was last asked to do.
    return msgspec.structs.replace(payment, status=PaymentStatus.NEEDS_ATTENTION, updated_at=now)


def check_in_doubt(payment: Payment) -> list[Operation]:
    """The operations an operator may settle; refuses a payment with none in doubt."""
    pending = payment.pending_operations()
    if not pending:
        raise InvalidState(f"a {payment.status} payment has nothing in doubt to resolve")
    return pending


def _operator_failure(reason: str) -> Failure:
    return Failure("operator_verdict", f"An operator found it did not happen: {reason}")


def _amount(payment: Payment, op: Operation, verdict: OperatorVerdict) -> int:
    if op.amount is None:
        if verdict.amount is None:
            raise ValidationFailed(
                "the provider sets this payment's price: say what it charged",
                [FieldError("amount", "required for a provider-priced payment that succeeded")],
            )
        return verdict.amount
    if verdict.amount not in (None, op.amount):
        raise ValidationFailed(
            f"the operation's amount is {op.amount} {payment.currency}",
            [FieldError("amount", "only for a payment whose price the provider sets")],
        )
    return op.amount


def _captures_with_authorize(payment: Payment) -> bool:
    # An automatic payment is charged by its authorization (card auto-charge, hosted
    # pages, vendor orders); a rebill is captured by a call of its own, after it.
    return payment.capture is CaptureMethod.AUTOMATIC and payment.parent_payment_id is None


def _operator_op(
    payment: Payment, kind: OperationType, amount: int, verdict: OperatorVerdict, now: datetime
) -> Operation:
    return recorded_operation(
        payment,
        kind,
        amount,
        OperationSource.OPERATOR,
        now,
        resolution_source=OperationSource.OPERATOR,
        resolved_by=verdict.actor,
        resolution_reason=verdict.reason,
    )


def resolve_by_operator(
    payment: Payment, verdict: OperatorVerdict, now: datetime
) -> tuple[Payment, list[Operation], list[Operation]]:
    """The payment after the verdict, the operations it resolves and those it adds."""
    resolved: list[Operation] = []
    inserted: list[Operation] = []
    current = payment
    if verdict.provider_reference and current.provider_reference is None:
        current = msgspec.structs.replace(current, provider_reference=verdict.provider_reference)
    for op in check_in_doubt(payment):
        done = msgspec.structs.replace(
            op,
            status=OperationStatus.SUCCEEDED if verdict.succeeded else OperationStatus.FAILED,
            provider_reference=op.provider_reference or current.provider_reference,
            resolved_at=now,
            resolution_source=OperationSource.OPERATOR,
            resolved_by=verdict.actor,
            resolution_reason=verdict.reason,
        )
        if not verdict.succeeded:
            failure = _operator_failure(verdict.reason)
            done = msgspec.structs.replace(done, failure=failure)
            current = apply_failure(current, done, failure)
        else:
            done = msgspec.structs.replace(done, amount=_amount(current, op, verdict))
            if current.amount is None:
                current = msgspec.structs.replace(current, amount=done.amount)
            current = apply_success(current, done)
            if op.type is OperationType.AUTHORIZE and _captures_with_authorize(current):
                assert done.amount is not None
                capture = _operator_op(current, OperationType.CAPTURE, done.amount, verdict, now)
                current = apply_success(current, capture)
                inserted.append(capture)
        resolved.append(done)
    done_by_id = {op.id: op for op in resolved}
    operations = tuple(done_by_id.get(op.id, op) for op in payment.operations) + tuple(inserted)
    current = msgspec.structs.replace(
        current, operations=operations, next_action=None, updated_at=now
    )
    return current, resolved, inserted
