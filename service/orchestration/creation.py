"""Creating payments: cards, hosted pages and wallets; vendor orders; rebills.

Every creation inserts the payment with its pending first operation, then
calls the provider through the OperationRunner. A vendor order (a provider
that sets the price itself) is recorded with no amount yet: the reply prices it.
"""

from typing import TYPE_CHECKING, Any

import msgspec
import structlog

from service.domain.commands import (
    Authorize,
    CardDetails,
    Customer,
    PayOrder,
    Rebill,
    RecurringDetails,
    WalletToken,
)
from service.domain.errors import (
    ConnectorError,
    DomainError,
    FieldError,
    InvalidState,
    ValidationFailed,
)
from service.domain.ids import new_id
from service.domain.money import Money
from service.domain.payments import (
    CaptureMethod,
    OperationType,
    Payment,
    PaymentMethodSummary,
    PaymentMethodType,
    PaymentStatus,
    check_rebill,
)
from service.domain.ports import Capability, Clock, Connector, Ledger
from service.orchestration.idempotent import current_request
from service.orchestration.operations import OperationRunner

if TYPE_CHECKING:
    from service.orchestration.payments import PaymentService

log = structlog.get_logger("payments")


class NewPayment(msgspec.Struct, frozen=True, kw_only=True):
    """A validated request to create a payment (built by the API layer)."""

    payment_id: str
    operation_id: str
    amount: int | None
    currency: str | None
    capture: CaptureMethod
    method: PaymentMethodType
    provider: str | None
    summary: PaymentMethodSummary
    card: CardDetails | None = None
    wallet: WalletToken | None = None
    customer: Customer = Customer()
    customer_fields: dict[str, object] = {}
    description: str | None = None
    return_url: str | None = None
    merchant_reference: str | None = None
    metadata: dict[str, str] = {}
    provider_options: msgspec.Struct | None = None


class NewRebill(msgspec.Struct, frozen=True):
    """A validated rebill request (built by the API layer)."""

    amount: int | None
    currency: str | None
    capture: CaptureMethod
    cvv: str | None
    customer: Customer
    description: str | None
    merchant_reference: str | None
    metadata: dict[str, str]
    recurring: RecurringDetails | None


def options_for(options: msgspec.Struct | None, provider: str) -> object | None:
    """This provider's member of `provider_options`; another provider's is an error."""
    if options is None:
        return None
    given = {
        name: value for name, value in msgspec.structs.asdict(options).items() if value is not None
    }
    if others := sorted(set(given) - {provider}):
        raise ValidationFailed(
            f"provider_options for {', '.join(others)} but the payment goes to {provider}",
            [FieldError(f"provider_options.{name}", f"not for {provider}") for name in others],
        )
    return given.get(provider)


def known_amount(payment: Payment) -> int:
    if payment.amount is None:
        raise InvalidState("the payment's amount is not known yet")
    return payment.amount


class PaymentCreation:
    def __init__(
        self, service: "PaymentService", ledger: Ledger, ops: OperationRunner, clock: Clock
    ) -> None:
        self._service = service
        self._ledger = ledger
        self._ops = ops
        self._clock = clock

    def _payment(
        self, new: NewPayment, connector: Connector, api_key_id: str, **values: Any
    ) -> Payment:
        now = self._clock.now()
        return Payment(
            id=new.payment_id,
            status=PaymentStatus.PROCESSING,
            capture=new.capture,
            provider=connector.name,
            payment_method=new.summary,
            created_at=now,
            updated_at=now,
            api_key_id=api_key_id,
            customer=new.customer_fields,
            description=new.description,
            merchant_reference=new.merchant_reference,
            metadata=new.metadata,
            return_url=new.return_url,
            **values,
        )

    async def create(self, new: NewPayment, api_key_id: str) -> Payment:
        connector = self._service.route(new)
        if Capability.PAY_ORDER in connector.supports:
            return await self._order(connector, new, api_key_id)
        if new.amount is None or new.currency is None:
            missing = [f for f in ("amount", "currency") if getattr(new, f) is None]
            raise ValidationFailed(
                f"{connector.name} needs the amount to charge",
                [FieldError(field, "required") for field in missing],
            )
        cmd = Authorize(
            payment_id=new.payment_id,
            operation_id=new.operation_id,
            money=Money(new.amount, new.currency),
            capture=new.capture,
            method=new.method,
            card=new.card,
            wallet=new.wallet,
            customer=new.customer,
            description=new.description,
            return_url=new.return_url,
            provider_options=options_for(new.provider_options, connector.name),
        )
        if errors := connector.validate_authorize(cmd):
            raise ValidationFailed("the provider cannot accept this payment", errors)
        payment = self._payment(
            new, connector, api_key_id, amount=new.amount, currency=new.currency
        )
        return await self._start(
            payment,
            new.operation_id,
            connector,
            connector.build_authorize(cmd),
            lambda reply: connector.parse_authorize(cmd, reply),
        )

    async def _order(
        self,
        connector: Connector,
        new: NewPayment,
        api_key_id: str,
    ) -> Payment:
        options = options_for(new.provider_options, connector.name)
        cmd = PayOrder(
            payment_id=new.payment_id,
            operation_id=new.operation_id,
            method=new.method,
            requested_amount=new.amount,
            requested_currency=new.currency,
            customer=new.customer,
            description=new.description,
            return_url=new.return_url,
            provider_options=options,
        )
        if errors := connector.validate_pay_order(cmd):
            raise ValidationFailed("the provider cannot accept this payment", errors)
        reference = connector.order_reference(cmd)
        await self._settle_doubt(connector, reference)
        # What was asked stays on the payment next to what the provider will price.
        # `amount_currency` is the asked amount's; options may name the payer's `currency`.
        asked: dict[str, Any] = {"amount": new.amount, "amount_currency": new.currency}
        if isinstance(options, msgspec.Struct):
            asked |= msgspec.to_builtins(options)
        # A vendor order is paid at once or by invoice: there is no separate capture.
        payment = self._payment(
            msgspec.structs.replace(new, capture=CaptureMethod.AUTOMATIC),
            connector,
            api_key_id,
            amount=None,
            currency=connector.payer_currency(cmd),
            provider_reference=reference,
            provider_details={"requested": {k: v for k, v in asked.items() if v is not None}},
        )
        return await self._start(
            payment,
            new.operation_id,
            connector,
            connector.build_pay_order(cmd),
            lambda reply: connector.parse_pay_order(cmd, reply),
        )

    async def _settle_doubt(self, connector: Connector, reference: str) -> None:
        """Settle earlier attempts on this order left in doubt before paying it again.

        The ledger knows every attempt: while one is in doubt a second could pay the order
        twice, and, at a provider that pays an order once, would make the first one's
        answer ambiguous. So the earlier attempt is synced first (at such a provider that
        is the repeated confirm); paying again is refused while it stays in doubt or once
        it turns out to have paid the order.
        """
        doubtful = await self._ledger.payments_on(
            connector.name, reference, [PaymentStatus.PROCESSING, PaymentStatus.NEEDS_ATTENTION]
        )
        for payment_id in doubtful:
            why = "sync it first"
            if Capability.SYNC in connector.supports:
                try:
                    settled = await self._service.sync(payment_id)
                except (ConnectorError, InvalidState) as exc:
                    why = f"it could not be settled now ({exc})"
                else:
                    if settled.status is PaymentStatus.FAILED:
                        continue  # it did not pay: this attempt may
                    if settled.status not in (
                        PaymentStatus.PROCESSING,
                        PaymentStatus.NEEDS_ATTENTION,
                    ):
                        raise InvalidState(
                            f"order {reference} was paid by payment {payment_id} "
                            f"({settled.status}): nothing more to pay"
                        )
            raise InvalidState(f"order {reference} has payment {payment_id} in doubt: {why}")

    async def _start(
        self,
        payment: Payment,
        operation_id: str,
        connector: Connector,
        call: Any,
        parse: Any,
    ) -> Payment:
        first = self._ops.pending(payment, OperationType.AUTHORIZE, payment.amount, operation_id)
        payment = msgspec.structs.replace(payment, operations=(first,))
        request = current_request()
        claim = request.claim() if request else None
        await self._ledger.create_payment(payment, first, claim)
        if request is not None:
            request.wrote(payment.id, claim)
        return await self._ops.run(connector, payment, first, call, parse)

    async def rebill(self, parent_id: str, new: NewRebill, api_key_id: str) -> Payment:
        """A new payment on the stored credential of `parent_id`, linked to it."""
        service = self._service
        parent = await service.get(parent_id)
        check_rebill(parent)
        connector = service.able(parent.provider, Capability.REBILL)
        if new.currency not in (None, parent.currency):
            raise ValidationFailed(
                "a rebill is in its parent's currency",
                [FieldError("currency", f"must be {parent.currency}")],
            )
        money = Money(new.amount or known_amount(parent), parent.currency)
        cmd = Rebill(
            payment_id=new_id("pay"),
            operation_id=new_id("op"),
            parent_reference=service.reference(parent),
            money=money,
            cvv=new.cvv,
            customer=new.customer,
            description=new.description,
            recurring=new.recurring,
        )
        if errors := connector.validate_rebill(cmd):
            raise ValidationFailed("the provider cannot accept this rebill", errors)
        now = self._clock.now()
        payment = Payment(
            id=cmd.payment_id,
            status=PaymentStatus.PROCESSING,
            amount=money.amount,
            currency=money.currency,
            capture=new.capture,
            provider=parent.provider,
            payment_method=parent.payment_method,
            created_at=now,
            updated_at=now,
            api_key_id=api_key_id,
            customer={k: v for k, v in msgspec.structs.asdict(new.customer).items() if v},
            description=new.description,
            merchant_reference=new.merchant_reference,
            metadata=new.metadata,
            parent_payment_id=parent.id,
        )
        result = await self._start(
            payment,
            cmd.operation_id,
            connector,
            connector.build_rebill(cmd),
            lambda reply: connector.parse_rebill(cmd, reply),
        )
        if new.capture is CaptureMethod.AUTOMATIC and result.status is PaymentStatus.AUTHORIZED:
            # Bizon documents no auto_charge for rebill: capture as a second call.
            try:
                return await service.capture(result.id, None)
            except (ConnectorError, DomainError) as exc:
                # The rebill stands; the failed capture is in its operations.
                log.warning("rebill_capture_failed", payment_id=result.id, error=str(exc))
                return await service.get(result.id)
        return result
