"""Explicit mapping between wire schemas and domain types."""

from datetime import UTC, datetime

import msgspec

from service.api.schemas import (
    CardResponse,
    CreatePaymentRequest,
    FailureResponse,
    NextActionResponse,
    OperationResponse,
    PaymentMethodResponse,
    PaymentResponse,
)
from service.domain.cards import brand, luhn_valid
from service.domain.commands import Authorize, CardDetails, Customer
from service.domain.errors import FieldError, ValidationFailed
from service.domain.ids import new_id
from service.domain.money import Money, exponent, is_currency
from service.domain.payments import (
    CardSummary,
    Failure,
    Operation,
    Payment,
    PaymentMethodSummary,
    PaymentMethodType,
)
from service.orchestration.payments import NewPayment


def _card_errors(req: CreatePaymentRequest, today: datetime) -> list[FieldError]:
    card = req.payment_method.card
    if req.payment_method.type is not PaymentMethodType.CARD:
        return [FieldError("payment_method.card", "only for type card")] if card else []
    if card is None:
        return [FieldError("payment_method.card", "required for type card")]
    errors = []
    if not luhn_valid(card.number):
        errors.append(FieldError("payment_method.card.number", "not a valid card number"))
    if (card.exp_year, card.exp_month) < (today.year, today.month):
        errors.append(FieldError("payment_method.card.exp_year", "the card has expired"))
    return errors


def validate_create(req: CreatePaymentRequest, today: datetime | None = None) -> None:
    """Checks a schema cannot express; raises ValidationFailed listing every field."""
    errors = _card_errors(req, today or datetime.now(UTC))
    if not is_currency(req.currency):
        errors.append(FieldError("currency", "not an ISO 4217 currency"))
    elif exponent(req.currency) > 3:
        errors.append(FieldError("currency", "not supported for payments"))
    if errors:
        raise ValidationFailed("the payment request is invalid", errors)


def _present(fields: dict[str, object]) -> dict[str, object]:
    return {key: value for key, value in fields.items() if value is not None}


def new_payment(req: CreatePaymentRequest) -> NewPayment:
    validate_create(req)
    card_input = req.payment_method.card
    card = summary = None
    if card_input is not None:
        card = CardDetails(
            number=card_input.number,
            cvv=card_input.cvv,
            exp_month=card_input.exp_month,
            exp_year=card_input.exp_year,
            holder=card_input.holder,
        )
        summary = CardSummary(
            first6=card.number[:6],
            last4=card.number[-4:],
            brand=brand(card.number),
            exp_month=card.exp_month,
            exp_year=card.exp_year,
        )
    customer = (
        msgspec.convert(msgspec.to_builtins(req.customer), Customer) if req.customer else Customer()
    )
    authorize = Authorize(
        payment_id=new_id("pay"),
        operation_id=new_id("op"),
        money=Money(req.amount, req.currency),
        capture=req.capture,
        method=req.payment_method.type,
        card=card,
        customer=customer,
        description=req.description,
        return_url=req.return_url,
    )
    return NewPayment(
        authorize=authorize,
        provider=req.provider,
        summary=PaymentMethodSummary(type=req.payment_method.type, card=summary),
        customer=_present(msgspec.to_builtins(req.customer)) if req.customer else {},
        merchant_reference=req.merchant_reference,
        metadata=dict(req.metadata),
        provider_options=req.provider_options,
    )


def _failure(failure: Failure | None) -> FailureResponse | None:
    if failure is None:
        return None
    return FailureResponse(
        failure.code, failure.message, failure.provider_code, failure.provider_message
    )


def _operation(op: Operation) -> OperationResponse:
    return OperationResponse(
        id=op.id,
        type=op.type,
        status=op.status,
        amount=op.amount,
        currency=op.currency,
        source=op.source,
        provider_reference=op.provider_reference,
        failure=_failure(op.failure),
        reason=op.reason,
        created_at=op.created_at,
        resolved_at=op.resolved_at,
    )


def payment_response(p: Payment) -> PaymentResponse:
    card = p.payment_method.card
    action = p.next_action
    return PaymentResponse(
        id=p.id,
        status=p.status,
        amount=p.amount,
        currency=p.currency,
        amount_authorized=p.amount_authorized,
        amount_captured=p.amount_captured,
        amount_refunded=p.amount_refunded,
        amount_capturable=p.capturable if p.status == "authorized" else 0,
        amount_refundable=p.refundable if p.status in ("captured", "partially_refunded") else 0,
        capture=p.capture,
        provider=p.provider,
        provider_reference=p.provider_reference,
        payment_method=PaymentMethodResponse(
            type=p.payment_method.type,
            card=CardResponse(card.first6, card.last4, card.brand, card.exp_month, card.exp_year)
            if card
            else None,
        ),
        next_action=NextActionResponse(action.type, action.url, action.method, dict(action.fields))
        if action
        else None,
        failure=_failure(p.failure),
        customer=dict(p.customer),
        description=p.description,
        merchant_reference=p.merchant_reference,
        metadata=dict(p.metadata),
        return_url=p.return_url,
        operations=[_operation(op) for op in p.operations],
        created_at=p.created_at,
        updated_at=p.updated_at,
    )
