"""Payments in doubt, for operators: handed over by the reconciler, listed, resolved by hand.

The reconciler hands a subject over (`needs_attention`) when it stops guessing;
operators list what is in doubt (`stuck`) and settle a payment by hand
(`resolve`) with a mandatory reason, recorded on the resolved operations with
their API key. An operator never resolves an operation whose call may still be
in flight: its reply would contradict the verdict.
"""

import math
from datetime import datetime, timedelta

import msgspec
import structlog

from service.domain.attention import (
    OperatorVerdict,
    check_in_doubt,
    mark_needs_attention,
    resolve_by_operator,
)
from service.domain.errors import InvalidState
from service.domain.payments import Payment, PaymentStatus
from service.domain.payouts import Payout, PayoutStatus
from service.domain.ports import (
    Clock,
    Connector,
    InDoubt,
    InDoubtQuery,
    Ledger,
    ReconcileStrategy,
)
from service.observability import RECONCILE_NEEDS_ATTENTION_MARKED, child
from service.orchestration.executor import ConnectorExecutor
from service.orchestration.idempotent import current_request
from service.orchestration.operations import OperationRunner
from service.orchestration.payments import PaymentService

log = structlog.get_logger("attention")
audit = structlog.get_logger("audit")


class StuckPayment(msgspec.Struct, frozen=True):
    """A payment in doubt as operators see it."""

    in_doubt: InDoubt
    age_seconds: float  # since its oldest pending operation was started
    reason: str
    strategy: ReconcileStrategy | None  # how its provider is reconciled (None: not enabled)


class AttentionService:
    def __init__(
        self,
        ledger: Ledger,
        payments: PaymentService,
        executor: ConnectorExecutor,
        clock: Clock,
        *,
        stuck_after: timedelta,
    ) -> None:
        self._ledger = ledger
        self._payments = payments
        self._executor = executor
        self._clock = clock
        self._stuck_after = stuck_after
        self._ops = OperationRunner(ledger, executor, clock)

    # -- handing over (the reconciler) -------------------------------------------------

    async def hand_over_payment(self, payment: Payment, reason: str, attempts: int) -> bool:
        """Mark `payment` needs_attention with `reason`; False if it changed meanwhile."""
        if payment.status is not PaymentStatus.NEEDS_ATTENTION:
            after = mark_needs_attention(payment, self._clock.now())
            if await self._ops.save(payment, after, [], []) is None:
                return False
            child(RECONCILE_NEEDS_ATTENTION_MARKED, "payment", payment.provider).inc()
            log.warning(
                "payment_needs_attention",
                payment_id=payment.id,
                provider=payment.provider,
                attempts=attempts,
                reason=reason,
            )
        await self._ledger.flag_claim(payment.id, reason, self._clock.now())
        return True

    async def hand_over_payout(self, payout: Payout, reason: str, attempts: int) -> bool:
        """Mark `payout` needs_attention with `reason`; False if it changed meanwhile."""
        now = self._clock.now()
        if payout.status is PayoutStatus.PROCESSING:
            after = msgspec.structs.replace(
                payout,
                status=PayoutStatus.NEEDS_ATTENTION,
                updated_at=now,
                version=payout.version + 1,
            )
            if not await self._ledger.save_payout(payout, after):
                return False
            child(RECONCILE_NEEDS_ATTENTION_MARKED, "payout", payout.provider).inc()
            log.warning(
                "payout_needs_attention",
                payout_id=payout.id,
                provider=payout.provider,
                attempts=attempts,
                reason=reason,
            )
        await self._ledger.flag_claim(payout.id, reason, now)
        return True

    # -- the operators' view -------------------------------------------------------------

    async def stuck(
        self,
        *,
        older_than: timedelta | None,
        limit: int,
        starting_after: str | None,
        provider: str | None,
    ) -> tuple[list[StuckPayment], bool]:
        """Payments in doubt (pending past `older_than`, or needs_attention), newest first."""
        now = self._clock.now()
        query = InDoubtQuery(
            pending_since=now - (self._stuck_after if older_than is None else older_than),
            limit=limit + 1,
            starting_after=starting_after,
            provider=provider,
        )
        rows = list(await self._ledger.list_in_doubt(query))
        connectors = self._payments.providers
        page = [
            StuckPayment(
                in_doubt=row,
                age_seconds=_age(row.payment, now),
                reason=_reason(row),
                strategy=_strategy(connectors.get(row.payment.provider)),
            )
            for row in rows[:limit]
        ]
        return page, len(rows) > limit

    async def resolve(self, payment_id: str, verdict: OperatorVerdict) -> Payment:
        """Settle a payment in doubt by hand: the verdict resolves its pending operations."""
        payment = await self._payments.get(payment_id)
        pending = check_in_doubt(payment)
        # The latest call was started with its operation, or (3-D Secure) by the
        # request that moved the payment back to processing.
        started = max(op.created_at for op in pending)
        if payment.status is PaymentStatus.PROCESSING:
            started = max(started, payment.updated_at)
        self._not_in_flight(payment, started)
        after, resolved, inserted = resolve_by_operator(payment, verdict, self._clock.now())
        request = current_request()
        claim = request.claim() if request else None
        saved = await self._ops.save(payment, after, resolved, inserted, claim=claim, final=True)
        if saved is None:
            raise InvalidState("the payment changed while it was being resolved: look again")
        if request is not None:
            request.wrote(payment.id, claim)
        await self._ledger.release_claim(payment.id)
        audit.info(
            "payment_resolved_by_operator",
            payment_id=payment.id,
            provider=payment.provider,
            api_key_id=verdict.actor,
            outcome="succeeded" if verdict.succeeded else "failed",
            reason=verdict.reason,
            operations=[op.id for op in resolved],
            recorded=[op.id for op in inserted],
            status_before=payment.status,
            status=saved.status,
        )
        return saved

    def _not_in_flight(self, payment: Payment, started: datetime) -> None:
        """Refuse while the call of a pending operation may still be answered."""
        age = (self._clock.now() - started).total_seconds()
        wait = self._executor.longest_call(payment.provider) - age
        if wait > 0:
            raise InvalidState(
                f"the call may still be in flight at {payment.provider}: "
                f"resolve it in {math.ceil(wait)} s, or sync it"
            )


def _age(payment: Payment, now: datetime) -> float:
    pending = payment.pending_operations()
    if not pending:
        return 0.0
    oldest = min(op.created_at for op in pending)
    return max((now - oldest).total_seconds(), 0.0)


def _reason(row: InDoubt) -> str:
    if row.reason:
        return row.reason
    if row.payment.status is PaymentStatus.NEEDS_ATTENTION:
        return "handed to operators"
    if row.attempts == 0:
        return "pending; the reconciler has not looked at it yet"
    tail = f"; the last try failed: {row.last_error}" if row.last_error else ""
    return f"still in doubt after {row.attempts} reconciler tries (it keeps trying){tail}"


def _strategy(connector: Connector | None) -> ReconcileStrategy | None:
    return None if connector is None else connector.reconcile_strategy
