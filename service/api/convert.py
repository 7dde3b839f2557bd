"""Explicit mapping between wire schemas and domain types."""

from datetime import UTC, datetime

import msgspec

from service.api.schemas import (
    CardDestinationInput,
    CardResponse,
    CreatePaymentRequest,
    CreatePayoutRequest,
    CustomerInput,
    ExchangeRateResponse,
    ExchangeRatesResponse,
    FailureResponse,
    MoneyResponse,
    NextActionResponse,
    OperationResponse,
    PaymentMethodOptionResponse,
    PaymentMethodResponse,
    PaymentMethodsResponse,
    PaymentResponse,
    PayoutDestinationResponse,
    PayoutResponse,
    ProviderCircuitResponse,
    QuoteResponse,
    RebillRequest,
)
from service.domain.cards import brand, luhn_valid
from service.domain.commands import (
    CardDetails,
    Customer,
    RecurringDetails,
    ThreeDSData,
    WalletToken,
)
from service.domain.errors import FieldError, ValidationFailed
from service.domain.ids import new_id
from service.domain.money import Money, exponent, is_currency
from service.domain.outcomes import Quote
from service.domain.payments import (
    CardSummary,
    Failure,
    Operation,
    Payment,
    PaymentMethodSummary,
    PaymentMethodType,
)
from service.domain.payouts import Payout
from service.orchestration.circuit import CircuitView
from service.orchestration.creation import NewPayment, NewRebill
from service.orchestration.payouts import NewPayout
from service.orchestration.providers import MethodsSnapshot, RatesSnapshot

# Which payment_method member each type needs; the others must be absent.
_MEMBER = {PaymentMethodType.CARD: "card", PaymentMethodType.WALLET_TOKEN: "wallet_token"}


def _expired(month: int | None, year: int | None, today: datetime) -> bool:
    return month is not None and year is not None and (year, month) < (today.year, today.month)


def _method_errors(req: CreatePaymentRequest, today: datetime) -> list[FieldError]:
    method = req.payment_method
    wanted = _MEMBER.get(method.type)
    errors = [
        FieldError(f"payment_method.{member}", f"only for type {kind}")
        for kind, member in _MEMBER.items()
        if member != wanted and getattr(method, member) is not None
    ]
    if wanted and getattr(method, wanted) is None:
        errors.append(FieldError(f"payment_method.{wanted}", f"required for type {method.type}"))
    card = method.card
    if method.type is PaymentMethodType.CARD and card is not None:
        if not luhn_valid(card.number):
            errors.append(FieldError("payment_method.card.number", "not a valid card number"))
        if _expired(card.exp_month, card.exp_year, today):
            errors.append(FieldError("payment_method.card.exp_year", "the card has expired"))
    return errors


def _currency_errors(currency: str) -> list[FieldError]:
    if not is_currency(currency):
        return [FieldError("currency", "not an ISO 4217 currency")]
    if exponent(currency) > 3:
        return [FieldError("currency", "not supported for payments")]
    return []


def validate_create(req: CreatePaymentRequest, today: datetime | None = None) -> None:
    """Checks a schema cannot express; raises ValidationFailed listing every field."""
    errors = _method_errors(req, today or datetime.now(UTC))
    if req.currency is not None:
        errors += _currency_errors(req.currency)
    if errors:
        raise ValidationFailed("the payment request is invalid", errors)


def _present(fields: dict[str, object]) -> dict[str, object]:
    return {key: value for key, value in fields.items() if value is not None}


def _customer(given: CustomerInput | None) -> Customer:
    return msgspec.convert(msgspec.to_builtins(given), Customer) if given else Customer()


def _summary(number: str, month: int | None, year: int | None) -> CardSummary:
    return CardSummary(number[:6], number[-4:], brand(number), month, year)


def new_payment(req: CreatePaymentRequest) -> NewPayment:
    validate_create(req)
    method = req.payment_method
    card = summary = wallet = None
    if method.card is not None:
        given = method.card
        three_ds = given.three_d_secure
        card = CardDetails(
            number=given.number,
            cvv=given.cvv,
            exp_month=given.exp_month,
            exp_year=given.exp_year,
            holder=given.holder,
            three_d_secure=msgspec.convert(msgspec.to_builtins(three_ds), ThreeDSData)
            if three_ds
            else None,
        )
        summary = _summary(given.number, given.exp_month, given.exp_year)
    if method.wallet_token is not None:
        wallet = WalletToken(method.wallet_token.type, method.wallet_token.token)
    return NewPayment(
        payment_id=new_id("pay"),
        operation_id=new_id("op"),
        amount=req.amount,
        currency=req.currency,
        capture=req.capture,
        method=method.type,
        provider=req.provider,
        summary=PaymentMethodSummary(
            type=method.type, card=summary, wallet=wallet.type if wallet else None
        ),
        card=card,
        wallet=wallet,
        customer=_customer(req.customer),
        customer_fields=_present(msgspec.to_builtins(req.customer)) if req.customer else {},
        description=req.description,
        return_url=req.return_url,
        merchant_reference=req.merchant_reference,
        metadata=dict(req.metadata),
        provider_options=req.provider_options,
    )


def new_rebill(req: RebillRequest) -> NewRebill:
    recurring = req.recurring
    return NewRebill(
        amount=req.amount,
        currency=req.currency,
        capture=req.capture,
        cvv=req.cvv,
        customer=_customer(req.customer),
        description=req.description,
        merchant_reference=req.merchant_reference,
        metadata=dict(req.metadata),
        recurring=RecurringDetails(recurring.trace_id, recurring.indicator) if recurring else None,
    )


def new_payout(req: CreatePayoutRequest) -> NewPayout:
    errors = _currency_errors(req.currency)
    card = summary = None
    source = None
    if isinstance(req.destination, CardDestinationInput):
        given = req.destination.card
        if not luhn_valid(given.number):
            errors.append(FieldError("destination.card.number", "not a valid card number"))
        if _expired(given.exp_month, given.exp_year, datetime.now(UTC)):
            errors.append(FieldError("destination.card.exp_year", "the card has expired"))
        card = CardDetails(given.number, None, given.exp_month, given.exp_year, given.holder)
        summary = _summary(given.number, given.exp_month, given.exp_year)
    else:
        source = req.destination.payment_id
    if errors:
        raise ValidationFailed("the payout request is invalid", errors)
    return NewPayout(
        money=Money(req.amount, req.currency),
        provider=req.provider,
        source_payment_id=source,
        card=card,
        card_summary=summary,
        customer=_customer(req.customer),
        description=req.description,
        merchant_reference=req.merchant_reference,
        metadata=dict(req.metadata),
    )


def _failure(failure: Failure | None) -> FailureResponse | None:
    if failure is None:
        return None
    return FailureResponse(
        failure.code,
        failure.message,
        failure.provider_code,
        failure.provider_message,
        dict(failure.details),
    )


def _card(card: CardSummary | None) -> CardResponse | None:
    if card is None:
        return None
    return CardResponse(card.first6, card.last4, card.brand, card.exp_month, card.exp_year)


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
        resolution_source=op.resolution_source,
        resolved_by=op.resolved_by,
        resolution_reason=op.resolution_reason,
    )


def payment_response(p: Payment) -> PaymentResponse:
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
            card=_card(p.payment_method.card),
            wallet=p.payment_method.wallet,
        ),
        next_action=NextActionResponse(
            action.type,
            action.url,
            action.method,
            dict(action.fields),
            action.purpose,
            action.authenticate_with,
        )
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
        parent_payment_id=p.parent_payment_id,
        provider_details=dict(p.provider_details),
    )


def payout_response(p: Payout) -> PayoutResponse:
    return PayoutResponse(
        id=p.id,
        status=p.status,
        amount=p.amount,
        currency=p.currency,
        provider=p.provider,
        provider_reference=p.provider_reference,
        destination=PayoutDestinationResponse(
            p.destination.type, p.destination.payment_id, _card(p.destination.card)
        ),
        failure=_failure(p.failure),
        description=p.description,
        merchant_reference=p.merchant_reference,
        metadata=dict(p.metadata),
        operations=[_operation(op) for op in p.operations],
        created_at=p.created_at,
        updated_at=p.updated_at,
    )


def rates_response(
    snap: RatesSnapshot, base: str | None, quote: str | None
) -> ExchangeRatesResponse:
    return ExchangeRatesResponse(
        provider=snap.provider,
        fetched_at=snap.fetched_at,
        data=[
            ExchangeRateResponse(r.base, r.quote, f"{r.rate:f}")
            for r in snap.rates
            if base in (None, r.base) and quote in (None, r.quote)
        ],
    )


def _money(money: Money) -> MoneyResponse:
    return MoneyResponse(money.amount, money.currency)


def quote_response(provider: str, quote: Quote) -> QuoteResponse:
    return QuoteResponse(
        provider=provider,
        amount=_money(quote.amount),
        payer_amount=_money(quote.payer_amount),
        converted_amount=_money(quote.converted_amount) if quote.converted_amount else None,
        discount_percent=f"{quote.discount_percent:f}"
        if quote.discount_percent is not None
        else None,
        merchant=quote.merchant,
        lang=quote.lang,
    )


def methods_response(snap: MethodsSnapshot) -> PaymentMethodsResponse:
    return PaymentMethodsResponse(
        provider=snap.provider,
        fetched_at=snap.fetched_at,
        stale=snap.stale,
        data=[
            PaymentMethodOptionResponse(m.code, m.name, list(m.currencies)) for m in snap.methods
        ],
    )


def circuit_response(view: CircuitView | None) -> ProviderCircuitResponse | None:
    if view is None:
        return None
    return ProviderCircuitResponse(
        state=view.state,
        consecutive_failures=view.consecutive_failures,
        opened_at=view.opened_at,
        retry_at=view.retry_at,
    )
