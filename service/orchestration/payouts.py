"""Payouts: OCT credits to the card of a past payment or to a card number.

The same shape as every money-moving call: the payout and its `credit`
operation are committed first (`processing`, `pending`), then the call, then the
result in one transaction. An unknown outcome stays `processing` until a sync.
"""

from collections.abc import Mapping
from datetime import timedelta

import msgspec
import structlog

from service.domain.commands import CardDetails, Credit, Customer, Sync
from service.domain.errors import (
    ConnectorMisconfigured,
    FieldError,
    NotFound,
    OutcomeUnknown,
    ProviderProtocolError,
    ProviderRejected,
    ProviderUnreachable,
    ValidationFailed,
)
from service.domain.ids import new_id
from service.domain.money import Money
from service.domain.outcomes import OperationOutcome, OutcomeStatus, ProviderState
from service.domain.payments import (
    CardSummary,
    Failure,
    Operation,
    OperationStatus,
    OperationType,
    check_credit_source,
)
from service.domain.payouts import Payout, PayoutDestination, PayoutStatus
from service.domain.ports import Capability, Clock, Connector, Ledger
from service.orchestration.executor import ConnectorExecutor
from service.orchestration.idempotent import current_request
from service.orchestration.operations import failure_for
from service.orchestration.reconcile import NO_RECORD
from service.orchestration.routing import connector_for

log = structlog.get_logger("payouts")


class NewPayout(msgspec.Struct, frozen=True):
    """A validated payout request (built by the API layer)."""

    money: Money
    provider: str | None
    source_payment_id: str | None
    card: CardDetails | None
    card_summary: CardSummary | None
    customer: Customer
    description: str | None
    merchant_reference: str | None
    metadata: dict[str, str]


class PayoutService:
    def __init__(
        self,
        ledger: Ledger,
        connectors: Mapping[str, Connector],
        executor: ConnectorExecutor,
        clock: Clock,
        settle_after: timedelta,
    ) -> None:
        self._ledger = ledger
        self._connectors = connectors
        self._executor = executor
        self._clock = clock
        self._settle_after = settle_after

    async def get(self, payout_id: str) -> Payout:
        payout = await self._ledger.get_payout(payout_id)
        if payout is None:
            raise NotFound(f"no payout {payout_id}")
        return payout

    def _connector(self, provider: str | None) -> Connector:
        return connector_for(self._connectors, provider, Capability.PAYOUT)

    async def _destination(self, new: NewPayout) -> tuple[Connector, PayoutDestination, str | None]:
        if new.source_payment_id is None:
            connector = self._connector(new.provider)
            return connector, PayoutDestination("card", card=new.card_summary), None
        source = await self._ledger.get_payment(new.source_payment_id)
        if source is None:
            raise NotFound(f"no payment {new.source_payment_id}")
        check_credit_source(source)
        connector = self._connector(source.provider)
        if new.provider not in (None, source.provider):
            raise ValidationFailed(
                "a payout to a payment's card goes through that payment's provider",
                [FieldError("provider", f"must be {source.provider}")],
            )
        destination = PayoutDestination(
            "payment", payment_id=source.id, card=source.payment_method.card
        )
        return connector, destination, source.provider_reference

    async def create(self, new: NewPayout, api_key_id: str) -> Payout:
        connector, destination, source_reference = await self._destination(new)
        cmd = Credit(
            payout_id=new_id("po"),
            operation_id=new_id("op"),
            money=new.money,
            source_reference=source_reference,
            card=new.card,
            customer=new.customer,
            description=new.description,
        )
        if errors := connector.validate_credit(cmd):
            raise ValidationFailed("the provider cannot accept this payout", errors)
        now = self._clock.now()
        op = Operation(
            id=cmd.operation_id,
            payout_id=cmd.payout_id,
            type=OperationType.CREDIT,
            status=OperationStatus.PENDING,
            amount=new.money.amount,
            currency=new.money.currency,
            created_at=now,
        )
        payout = Payout(
            id=cmd.payout_id,
            status=PayoutStatus.PROCESSING,
            amount=new.money.amount,
            currency=new.money.currency,
            provider=connector.name,
            destination=destination,
            api_key_id=api_key_id,
            created_at=now,
            updated_at=now,
            description=new.description,
            merchant_reference=new.merchant_reference,
            metadata=new.metadata,
            operations=(op,),
        )
        request = current_request()
        claim = request.claim() if request else None
        await self._ledger.create_payout(payout, op, claim)
        if request is not None:
            request.wrote(payout.id, claim)
        try:
            outcome = await self._executor.execute(
                connector,
                "credit",
                connector.build_credit(cmd),
                lambda r: connector.parse_credit(cmd, r),
            )
        except (OutcomeUnknown, ProviderProtocolError) as exc:
            log.warning("payout_outcome_unknown", payout_id=payout.id, error=exc.detail)
            return payout
        except (ProviderUnreachable, ConnectorMisconfigured, ProviderRejected) as exc:
            await self._settle(payout, op, None, failure_for(exc))
            raise
        return await self._record(payout, op, outcome)

    async def _record(self, payout: Payout, op: Operation, outcome: OperationOutcome) -> Payout:
        if outcome.status is OutcomeStatus.SUCCEEDED:
            return await self._settle(payout, op, outcome.provider_reference, None, final=True)
        if outcome.status is OutcomeStatus.FAILED:
            failure = outcome.failure or Failure("payout_declined", "The provider declined it.")
            return await self._settle(payout, op, outcome.provider_reference, failure, final=True)
        raise ProviderProtocolError(payout.provider, "a credit cannot wait for the customer")

    async def _settle(
        self,
        payout: Payout,
        op: Operation,
        reference: str | None,
        failure: Failure | None,
        *,
        final: bool = False,
    ) -> Payout:
        """Record `op`'s outcome; `final`: it is this request's answer (stored to replay)."""
        now = self._clock.now()
        reference = reference or payout.provider_reference
        done = msgspec.structs.replace(
            op,
            status=OperationStatus.FAILED if failure else OperationStatus.SUCCEEDED,
            failure=failure,
            provider_reference=reference,
            resolved_at=now,
        )
        after = msgspec.structs.replace(
            payout,
            status=PayoutStatus.FAILED if failure else PayoutStatus.SUCCEEDED,
            failure=failure,
            provider_reference=reference,
            updated_at=now,
            version=payout.version + 1,
            operations=tuple(done if o.id == op.id else o for o in payout.operations),
        )
        request = current_request() if final else None
        complete = request.completion(after) if request else None
        if not await self._ledger.save_payout(payout, after, [done], [], complete=complete):
            return await self.get(payout.id)  # a concurrent sync settled it first
        if request is not None and complete is not None:
            request.completed(complete, after)
        return after

    async def sync(self, payout_id: str) -> Payout:
        """Settle a payout in doubt from the provider's view of its order."""
        payout = await self.get(payout_id)
        pending = [o for o in payout.operations if o.status is OperationStatus.PENDING]
        if not pending:
            return payout
        connector = self._connector(payout.provider)
        cmd = Sync(payout.id, payout.provider_reference, payout.currency)
        snap = await self._executor.execute(
            connector, "sync", connector.build_sync(cmd), lambda r: connector.parse_sync(cmd, r)
        )
        op = pending[0]
        if snap is not None and snap.state is ProviderState.CREDITED:
            return await self._settle(payout, op, snap.reference, None)
        if snap is not None and snap.state is ProviderState.FAILED:
            failure = snap.failure or Failure("payout_declined", "The provider declined it.")
            return await self._settle(payout, op, snap.reference, failure)
        if snap is None and self._clock.now() - op.created_at >= self._settle_after:
            return await self._settle(payout, op, None, NO_RECORD)
        return payout
