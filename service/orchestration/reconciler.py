"""The reconciler: settle what the ledger holds in doubt, in the background.

An operation left `pending` (a timeout after sending, a process killed between
the call and the write) is settled by the same `sync` an operator would run:
the provider's view decides, positive evidence at once, "nothing there" only
once the operation is old enough. Each pass claims a batch of subjects that no
other reconciler holds (the ledger's claim rows, `FOR UPDATE SKIP LOCKED`), so
any number of replicas may run; a subject that stays in doubt is looked at again
after a backoff that doubles up to a ceiling. Connectors without a way to sync
are left to operators.
"""

import asyncio
import contextlib
from collections.abc import Mapping
from datetime import timedelta
from typing import Literal

import structlog

from service.domain.errors import ConnectorError, DomainError
from service.domain.payments import OperationStatus
from service.domain.ports import Capability, Clock, Connector, Ledger, ReconcileClaim
from service.observability import RECONCILE_OLDEST_PENDING, RECONCILE_OUTCOMES
from service.orchestration.payments import PaymentService
from service.orchestration.payouts import PayoutService

log = structlog.get_logger("reconciler")

Kind = Literal["payment", "payout"]


class Reconciler:
    def __init__(
        self,
        ledger: Ledger,
        payments: PaymentService,
        payouts: PayoutService,
        connectors: Mapping[str, Connector],
        clock: Clock,
        *,
        pending_for: timedelta,
        interval: timedelta,
        batch: int,
        longest_backoff: timedelta = timedelta(hours=1),
    ) -> None:
        self._ledger = ledger
        self._payments = payments
        self._payouts = payouts
        self._clock = clock
        self._pending_for = pending_for
        self._interval = interval
        self._batch = batch
        self._longest_backoff = longest_backoff
        self._providers: dict[Kind, tuple[str, ...]] = {
            "payment": tuple(n for n, c in connectors.items() if Capability.SYNC in c.supports),
            "payout": tuple(
                n
                for n, c in connectors.items()
                if {Capability.SYNC, Capability.PAYOUT} <= c.supports
            ),
        }

    async def run_once(self) -> dict[str, int]:
        """One pass over both kinds; the count of subjects by outcome."""
        counts = {"settled": 0, "still_pending": 0, "error": 0}
        for kind in ("payment", "payout"):
            for subject_id, attempts in await self._claim(kind):
                outcome = await self._settle(kind, subject_id, attempts)
                counts[outcome] += 1
                RECONCILE_OUTCOMES.labels(kind, outcome).inc()
        oldest = await self._ledger.oldest_pending()
        age = (self._clock.now() - oldest).total_seconds() if oldest else 0.0
        RECONCILE_OLDEST_PENDING.set(max(age, 0.0))
        if any(counts.values()):
            log.info("reconcile_pass", **counts)
        return counts

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

    async def _settle(self, kind: Kind, subject_id: str, attempts: int) -> str:
        try:
            if kind == "payment":
                payment = await self._payments.sync(subject_id)
                pending = bool(payment.pending_operations())
                status = str(payment.status)
            else:
                payout = await self._payouts.sync(subject_id)
                pending = any(o.status is OperationStatus.PENDING for o in payout.operations)
                status = str(payout.status)
        except (ConnectorError, DomainError) as exc:
            log.warning(
                "reconcile_failed", kind=kind, id=subject_id, attempts=attempts, error=str(exc)
            )
            await self._ledger.note_claim(subject_id, str(exc), self._clock.now())
            return "error"
        if pending:
            log.info("reconcile_still_pending", kind=kind, id=subject_id, attempts=attempts)
            return "still_pending"
        await self._ledger.release_claim(subject_id)
        log.info("reconcile_settled", kind=kind, id=subject_id, status=status, attempts=attempts)
        return "settled"
