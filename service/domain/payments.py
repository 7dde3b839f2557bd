"""Payments and their operations: the canonical state and its transitions.

A payment holds current state and a `version`; every provider interaction is an
`Operation` (append-only once resolved). The functions below are the state
machine: they take a payment and return the next one, or raise a DomainError.
"""

from datetime import datetime
from enum import StrEnum
from typing import Any

import msgspec

from service.domain.errors import (
    AmountExceedsCapturable,
    AmountExceedsRefundable,
    FieldError,
    InvalidState,
    ValidationFailed,
)
from service.domain.ids import new_id


class PaymentStatus(StrEnum):
    PROCESSING = "processing"
    REQUIRES_ACTION = "requires_action"
    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    VOIDED = "voided"
    FAILED = "failed"
    CHARGED_BACK = "charged_back"
    # In doubt and handed to operators: the reconciler stopped guessing (too many tries,
    # or a provider it cannot ask). Its operations stay pending until the provider's
    # evidence (a sync, a notification) or an operator's verdict settles them.
    NEEDS_ATTENTION = "needs_attention"


class OperationType(StrEnum):
    AUTHORIZE = "authorize"
    CAPTURE = "capture"
    VOID = "void"
    REFUND = "refund"
    CHARGEBACK = "chargeback"
    CREDIT = "credit"  # an OCT payout: money sent to a card


class OperationStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class OperationSource(StrEnum):
    API = "api"  # asked for by a caller of this service
    PROVIDER = "provider"  # a consequence of another call (an auto-charge)
    SYNC = "sync"  # found at the provider, made outside this service
    OPERATOR = "operator"  # recorded by a person, from what they checked at the provider


class CaptureMethod(StrEnum):
    MANUAL = "manual"
    AUTOMATIC = "automatic"


class PaymentMethodType(StrEnum):
    CARD = "card"
    WALLET_TOKEN = "wallet_token"  # noqa: S105 - a method name, not a secret
    HOSTED_PAGE = "hosted_page"
    BALANCE = "balance"
    PREPAID_CREDITS = "prepaid_credits"


class CardSummary(msgspec.Struct, frozen=True):
    first6: str
    last4: str
    brand: str
    exp_month: int | None = None
    exp_year: int | None = None


class PaymentMethodSummary(msgspec.Struct, frozen=True):
    type: PaymentMethodType
    card: CardSummary | None = None
    wallet: str | None = None  # "apple_pay" | "google_pay" for a wallet token


class Failure(msgspec.Struct, frozen=True):
    code: str
    message: str
    provider_code: str | None = None
    provider_message: str | None = None
    details: dict[str, Any] = {}  # figures the provider gave with it (credits needed, ...)


class ActionPurpose(StrEnum):
    HOSTED_PAGE = "hosted_page"
    THREE_D_SECURE_1 = "three_d_secure_1"
    THREE_D_SECURE_2_METHOD = "three_d_secure_2_method"
    THREE_D_SECURE_2_CHALLENGE = "three_d_secure_2_challenge"


class Authentication(StrEnum):
    """What `authenticate` must carry to finish the step a next action starts."""

    PARES = "pares"  # 3-D Secure 1: the PaRes the ACS posted to TermUrl
    CRES = "cres"  # 3-D Secure 2 challenge: the cres posted to the return URL
    RESUME = "resume"  # 3-D Secure 2 method: the 3DS Method frame finished (or timed out)


class NextAction(msgspec.Struct, frozen=True):
    type: str  # "redirect" | "form"
    url: str
    method: str = "GET"
    fields: dict[str, str] = {}
    purpose: ActionPurpose | None = None
    authenticate_with: Authentication | None = None


class Operation(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    payment_id: str | None = None  # exactly one of payment_id and payout_id is set
    payout_id: str | None = None
    type: OperationType
    status: OperationStatus
    amount: int | None  # None only while pending on a price the provider sets
    currency: str
    created_at: datetime
    source: OperationSource = OperationSource.API
    provider_reference: str | None = None
    failure: Failure | None = None
    resolved_at: datetime | None = None
    reason: str | None = None
    # Who settled a pending operation by hand (an operator's verdict), and why.
    resolution_source: OperationSource | None = None
    resolved_by: str | None = None  # the operator's API key id
    resolution_reason: str | None = None


class Payment(msgspec.Struct, frozen=True):
    id: str
    status: PaymentStatus
    amount: int | None  # None until a provider that sets the price has answered
    currency: str
    capture: CaptureMethod
    provider: str
    payment_method: PaymentMethodSummary
    created_at: datetime
    updated_at: datetime
    api_key_id: str
    amount_authorized: int = 0
    amount_captured: int = 0
    amount_refunded: int = 0
    provider_reference: str | None = None
    customer: dict[str, Any] = {}
    description: str | None = None
    merchant_reference: str | None = None
    metadata: dict[str, str] = {}
    return_url: str | None = None
    next_action: NextAction | None = None
    failure: Failure | None = None
    version: int = 0
    operations: tuple[Operation, ...] = ()
    parent_payment_id: str | None = None  # the payment a rebill was made from
    provider_details: dict[str, Any] = {}  # what the provider said of the price, etc.

    @property
    def capturable(self) -> int:
        return self.amount_authorized - self.amount_captured if self.amount_captured == 0 else 0

    @property
    def refundable(self) -> int:
        return self.amount_captured - self.amount_refunded

    def pending_operations(self) -> list[Operation]:
        return [op for op in self.operations if op.status is OperationStatus.PENDING]


def resting_status(payment: Payment) -> PaymentStatus:
    """The status the amounts stand for once nothing is in flight."""
    if payment.amount_refunded > 0:
        if payment.amount_refunded >= payment.amount_captured:
            return PaymentStatus.REFUNDED
        return PaymentStatus.PARTIALLY_REFUNDED
    if payment.amount_captured > 0:
        return PaymentStatus.CAPTURED
    if payment.amount_authorized > 0:
        return PaymentStatus.AUTHORIZED
    return PaymentStatus.FAILED


def _require(payment: Payment, allowed: set[PaymentStatus], action: str) -> None:
    if payment.status is PaymentStatus.NEEDS_ATTENTION:
        raise InvalidState(
            f"the payment needs attention and cannot be {action}: its outcome at "
            f"{payment.provider} is unknown until a sync or an operator settles it"
        )
    if payment.status not in allowed:
        raise InvalidState(f"a {payment.status} payment cannot be {action}")


def _positive(amount: int) -> None:
    if amount <= 0:
        raise ValidationFailed("amount must be positive", [FieldError("amount", "must be > 0")])


CAPTURABLE = {PaymentStatus.AUTHORIZED}
# The supplement allows rebill from every order status but new and prepared.
REBILLABLE = set(PaymentStatus) - {
    PaymentStatus.PROCESSING,
    PaymentStatus.REQUIRES_ACTION,
    PaymentStatus.NEEDS_ATTENTION,
}
# An OCT on a past payment needs an order that was charged (charged or refunded).
CREDITABLE = {PaymentStatus.CAPTURED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED}
VOIDABLE = {PaymentStatus.AUTHORIZED}
REFUNDABLE = {PaymentStatus.CAPTURED, PaymentStatus.PARTIALLY_REFUNDED}
# What may be handed to operators: a payment with an operation in doubt.
ATTENTION_FROM = {PaymentStatus.PROCESSING, PaymentStatus.REQUIRES_ACTION}


def check_capture(payment: Payment, amount: int | None) -> int:
    """The amount a capture will take; raises when the state or the amount forbid it."""
    _require(payment, CAPTURABLE, "captured")
    value = payment.capturable if amount is None else amount
    _positive(value)
    if value > payment.capturable:
        raise AmountExceedsCapturable(
            f"{value} exceeds the capturable {payment.capturable} {payment.currency}"
        )
    return value


def check_void(payment: Payment) -> int:
    _require(payment, VOIDABLE, "voided")
    return payment.amount_authorized


def check_refund(payment: Payment, amount: int | None) -> int:
    _require(payment, REFUNDABLE, "refunded")
    value = payment.refundable if amount is None else amount
    _positive(value)
    if value > payment.refundable:
        raise AmountExceedsRefundable(
            f"{value} exceeds the refundable {payment.refundable} {payment.currency}"
        )
    return value


def check_rebill(parent: Payment) -> None:
    _require(parent, REBILLABLE, "rebilled")
    if parent.provider_reference is None or parent.payment_method.type not in (
        PaymentMethodType.CARD,
        PaymentMethodType.WALLET_TOKEN,
    ):
        raise InvalidState("only a card payment known to its provider can be rebilled")


def check_credit_source(source: Payment) -> None:
    _require(source, CREDITABLE, "the source of a payout")
    if source.provider_reference is None:
        raise InvalidState("the payment has no provider reference")


def cancel_plan(payment: Payment) -> OperationType:
    """Cancel means void before capture and a full refund of what is left after it."""
    _require(payment, VOIDABLE | REFUNDABLE, "cancelled")
    if payment.status in VOIDABLE:
        return OperationType.VOID
    if payment.status in REFUNDABLE:
        return OperationType.REFUND
    raise InvalidState(f"a {payment.status} payment cannot be cancelled")


def recorded_operation(
    payment: Payment,
    kind: OperationType,
    amount: int,
    source: OperationSource,
    now: datetime,
    **fields: Any,
) -> Operation:
    """A succeeded operation learnt after the fact: the money already moved.

    From the provider's state (a sync), a notification or an operator's verdict.
    """
    values: dict[str, Any] = {"provider_reference": payment.provider_reference} | fields
    return Operation(
        id=new_id("op"),
        payment_id=payment.id,
        type=kind,
        status=OperationStatus.SUCCEEDED,
        amount=amount,
        currency=payment.currency,
        created_at=now,
        resolved_at=now,
        source=source,
        **values,
    )


def apply_success(payment: Payment, op: Operation) -> Payment:
    """The payment after `op` succeeded at the provider."""
    amounts: dict[str, Any] = {"failure": None}
    if op.amount is None:
        raise ValueError(f"operation {op.id} succeeded without an amount")
    if op.type is OperationType.AUTHORIZE:
        amounts |= {"amount_authorized": op.amount, "next_action": None}
    elif op.type is OperationType.CAPTURE:
        amounts["amount_captured"] = payment.amount_captured + op.amount
    elif op.type is OperationType.REFUND:
        amounts["amount_refunded"] = payment.amount_refunded + op.amount
    updated = msgspec.structs.replace(payment, **amounts)
    if op.type is OperationType.VOID:
        return msgspec.structs.replace(updated, status=PaymentStatus.VOIDED)
    if op.type is OperationType.CHARGEBACK:
        return msgspec.structs.replace(updated, status=PaymentStatus.CHARGED_BACK)
    return msgspec.structs.replace(updated, status=resting_status(updated))


def apply_failure(payment: Payment, op: Operation, failure: Failure) -> Payment:
    """The payment after `op` failed for certain (declined, rejected, never sent)."""
    if op.type is OperationType.AUTHORIZE:
        return msgspec.structs.replace(
            payment, status=PaymentStatus.FAILED, failure=failure, next_action=None
        )
    return msgspec.structs.replace(payment, status=resting_status(payment))


def apply_action_required(payment: Payment, action: NextAction | None) -> Payment:
    return msgspec.structs.replace(
        payment, status=PaymentStatus.REQUIRES_ACTION, next_action=action
    )
