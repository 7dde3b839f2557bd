"""The reconciler: settle what the ledger holds in doubt, in the background.

An operation left `pending` (a timeout after sending, a process killed between
the call and the write) is settled by the same `sync` an operator would run:
the provider's view decides, positive evidence at once, "nothing there" only
once the operation is old enough. Each pass claims a batch of subjects that no
other reconciler holds (the ledger's claim rows, `FOR UPDATE SKIP LOCKED`), so
any number of replicas may run; a subject that stays in doubt is looked at again
after a backoff that doubles up to a ceiling.

It never guesses. Each connector declares how it can be reconciled
(`ReconcileStrategy`): a provider that can be asked is synced; one that only
notifies is waited for while its customer may still act; one that can tell
nothing is handed over at once. A subject still in doubt after `max_attempts`
looks, or one nothing can settle, is marked `needs_attention` with the reason,
for operators (`GET /v1/ops/payments/stuck`); the reconciler claims it no more,
while a sync, a notification or an operator's verdict still settles it.
"""

import asyncio
import contextlib
from collections.abc import Mapping
from datetime import timedelta
from typing import Literal

import structlog

from service.domain.errors import ConnectorError, DomainError, NotFound
from service.domain.payments import OperationStatus, Payment, PaymentStatus
from service.domain.payouts import Payout, PayoutStatus
from service.domain.ports import (
    Capability,
    Clock,
    Connector,
    Ledger,
    ReconcileClaim,
    ReconcileStrategy,
)
from service.observability import (
    RECONCILE_NEEDS_ATTENTION,
    RECONCILE_OLDEST_PENDING,
    RECONCILE_OUTCOMES,
)
from service.orchestration.attention import AttentionService
from service.orchestration.payments import PaymentService
from service.orchestration.payouts import PayoutService

log = structlog.get_logger("reconciler")

Kind = Literal["payment", "payout"]
Outcome = Literal["settled", "still_pending", "error", "needs_attention"]
_SCRAPE_SECONDS = 1.0  # what a scrape of /metrics waits for the ledger at most


class Reconciler:
    def __init__(
        self,
        ledger: Ledger,
        payments: PaymentService,
        payouts: PayoutService,
        attention: AttentionService,
        connectors: Mapping[str, Connector],
        clock: Clock,
        *,
        pending_for: timedelta,
        interval: timedelta,
        batch: int,
        max_attempts: int = 10,
        longest_backoff: timedelta = timedelta(hours=1),
    ) -> None:
        self._ledger = ledger
        self._payments = payments
        self._payouts = payouts
        self._attention = attention
        self._connectors = connectors
        self._clock = clock
        self._pending_for = pending_for
        self._interval = interval
        self._batch = batch
        self._max_attempts = max_attempts
        self._longest_backoff = longest_backoff
        # Every enabled provider: one that cannot be asked is still looked at, so that
        # what stays in doubt there reaches operators instead of being ignored forever.
        self._providers: dict[Kind, tuple[str, ...]] = {
            "payment": tuple(connectors),
            "payout": tuple(n for n, c in connectors.items() if Capability.PAYOUT in c.supports),
        }

    async def run_once(self) -> dict[str, int]:
        """One pass over both kinds; the count of subjects by outcome."""
        counts = {"settled": 0, "still_pending": 0, "error": 0, "needs_attention": 0}
        for kind in ("payment", "payout"):
            for subject_id, attempts in await self._claim(kind):
                outcome = await self._look(kind, subject_id, attempts)
                counts[outcome] += 1
                RECONCILE_OUTCOMES.labels(kind, outcome).inc()
        await self.update_gauges()
        if any(counts.values()):
            log.info("reconcile_pass", **counts)
        return counts

    async def update_gauges(self) -> None:
        """The pending age and the needs_attention counts, from the ledger."""
        oldest = await self._ledger.oldest_pending()
        age = (self._clock.now() - oldest).total_seconds() if oldest else 0.0
        RECONCILE_OLDEST_PENDING.set(max(age, 0.0))
        for kind, count in (await self._ledger.needs_attention()).items():
            RECONCILE_NEEDS_ATTENTION.labels(kind).set(count)

    async def refresh_gauges(self) -> None:
        """`update_gauges` for a scrape of /metrics: bounded, and never failing it.

        The gauges are ledger facts, so any process can set them: the server does at
        each scrape, which keeps them right where the reconciler runs as a process of
        its own (it serves no HTTP). With PostgreSQL away they keep their last values.
        """
        try:
            await asyncio.wait_for(self.update_gauges(), _SCRAPE_SECONDS)
        except Exception as exc:  # an outage: the scrape still answers
            log.debug("reconcile_gauges_stale", error=repr(exc))

    async def run(self, stop: asyncio.Event) -> None:
        """Pass after pass until `stop` is set; a failing pass is logged, not fatal."""
        log.info("reconciler_started", interval_s=self._interval.total_seconds())
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:  # a datastore outage: try again next interval
                log.exception("reconcile_pass_failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._interval.total_seconds())
        log.info("reconciler_stopped")

    async def _claim(self, kind: Kind) -> list[tuple[str, int]]:
        providers = self._providers[kind]
        if not providers:
            return []
        now = self._clock.now()
        claim = ReconcileClaim(
            kind=kind,
            now=now,
            pending_since=now - self._pending_for,
            providers=providers,
            limit=self._batch,
            backoff=self._interval,
            longest_backoff=self._longest_backoff,
        )
        return list(await self._ledger.claim_in_doubt(claim))

    def _strategy(self, provider: str) -> ReconcileStrategy:
        connector = self._connectors.get(provider)
        return connector.reconcile_strategy if connector else ReconcileStrategy.MANUAL

    async def _look(self, kind: Kind, subject_id: str, attempts: int) -> Outcome:
        try:
            if kind == "payment":
                return await self._look_at_payment(subject_id, attempts)
            return await self._look_at_payout(subject_id, attempts)
        except NotFound:
            await self._ledger.release_claim(subject_id)
            return "settled"

    async def _look_at_payment(self, payment_id: str, attempts: int) -> Outcome:
        payment = await self._payments.get(payment_id)
        if not payment.pending_operations():
            return await self._settled("payment", payment_id, payment.status, attempts)
        if payment.status is PaymentStatus.NEEDS_ATTENTION:
            # Handed over before its claim was flagged (a crash between the two writes).
            await self._attention.hand_over_payment(payment, "handed to operators", attempts)
            return "needs_attention"
        strategy = self._strategy(payment.provider)
        error: str | None = None
        if strategy.asks:
            try:
                payment = await self._payments.sync(payment_id)
            except (ConnectorError, DomainError) as exc:
                error = await self._failed("payment", payment_id, attempts, exc)
            if not payment.pending_operations():
                return await self._settled("payment", payment_id, payment.status, attempts)
        if attempts < self._max_attempts and _worth_waiting(payment, strategy):
            log.info("reconcile_still_pending", kind="payment", id=payment_id, attempts=attempts)
            return "error" if error else "still_pending"
        reason = _payment_reason(payment, strategy, attempts, error)
        handed = await self._attention.hand_over_payment(payment, reason, attempts)
        return "needs_attention" if handed else "still_pending"

    async def _look_at_payout(self, payout_id: str, attempts: int) -> Outcome:
        payout = await self._payouts.get(payout_id)
        if not _payout_pending(payout):
            return await self._settled("payout", payout_id, payout.status, attempts)
        if payout.status is PayoutStatus.NEEDS_ATTENTION:
            await self._attention.hand_over_payout(payout, "handed to operators", attempts)
            return "needs_attention"
        strategy = self._strategy(payout.provider)
        error: str | None = None
        if strategy.asks:
            try:
                payout = await self._payouts.sync(payout_id)
            except (ConnectorError, DomainError) as exc:
                error = await self._failed("payout", payout_id, attempts, exc)
            if not _payout_pending(payout):
                return await self._settled("payout", payout_id, payout.status, attempts)
            if attempts < self._max_attempts:
                return "error" if error else "still_pending"
        reason = _reason(strategy, payout.provider, attempts, error, waiting=False)
        handed = await self._attention.hand_over_payout(payout, reason, attempts)
        return "needs_attention" if handed else "still_pending"

    async def _failed(self, kind: Kind, subject_id: str, attempts: int, exc: Exception) -> str:
        log.warning("reconcile_failed", kind=kind, id=subject_id, attempts=attempts, error=str(exc))
        await self._ledger.note_claim(subject_id, str(exc), self._clock.now())
        return str(exc)

    async def _settled(self, kind: Kind, subject_id: str, status: str, attempts: int) -> Outcome:
        await self._ledger.release_claim(subject_id)
        log.info("reconcile_settled", kind=kind, id=subject_id, status=status, attempts=attempts)
        return "settled"


def _payout_pending(payout: Payout) -> bool:
    return any(o.status is OperationStatus.PENDING for o in payout.operations)


def _worth_waiting(payment: Payment, strategy: ReconcileStrategy) -> bool:
    """Whether another look may change anything.

    True with a provider to ask, or a customer who may still act (a notification, or
    an operator, then settles the payment).
    """
    return strategy.asks or payment.status is PaymentStatus.REQUIRES_ACTION


def _payment_reason(
    payment: Payment, strategy: ReconcileStrategy, attempts: int, error: str | None
) -> str:
    waiting = payment.status is PaymentStatus.REQUIRES_ACTION
    return _reason(strategy, payment.provider, attempts, error, waiting=waiting)


def _reason(
    strategy: ReconcileStrategy, provider: str, attempts: int, error: str | None, *, waiting: bool
) -> str:
    """Why a subject goes to operators, in words they can act on."""
    tries = f"{attempts} {'try' if attempts == 1 else 'tries'}"
    if strategy.asks:
        if error:
            return f"still in doubt after {tries}; the last sync failed: {error}"
        if waiting:
            return f"{provider} still waits for the customer after {tries}"
        return f"{provider} shows no outcome yet after {tries}"
    if strategy is ReconcileStrategy.WEBHOOKS:
        if waiting:
            return f"no notification from {provider} after {tries}: the customer may have left"
        return (
            f"{provider} cannot be asked and only notifies about a payment form the "
            "customer reached: check the payment at the provider"
        )
    if waiting:
        return (
            f"{provider} cannot be asked and sends no notifications: after {tries}, check "
            "whether the customer paid at the provider"
        )
    return f"{provider} cannot be asked and sends no notifications: check it at the provider"
