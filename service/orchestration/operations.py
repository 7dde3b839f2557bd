"""The one shape of every money-moving call (ARCHITECTURE.md §4).

Commit the operation `pending` (the payment `processing`), call the provider,
then record the result in one transaction. An unknown outcome leaves the
operation pending and the payment `processing` for `sync` to settle; it is never
failed and never sent again. A call that provably never left, or that the
provider refused outright, fails the operation and re-raises for the API.
"""

from collections.abc import Callable

import msgspec
import structlog

from service.domain.errors import (
    ConnectorError,
    ConnectorMisconfigured,
    InvalidState,
    NotFound,
    OutcomeUnknown,
    ProviderCircuitOpen,
    ProviderProtocolError,
    ProviderRejected,
    ProviderUnreachable,
)
from service.domain.ids import new_id
from service.domain.outcomes import HttpCall, HttpReply, OperationOutcome, OutcomeStatus
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
)
from service.domain.ports import Clock, Connector, IdempotencyRecord, Ledger
from service.observability import PAYMENT_OUTCOMES, child
from service.orchestration.executor import ConnectorExecutor
from service.orchestration.idempotent import current_request
from service.orchestration.reconcile import absorb, learn_card, with_operations

log = structlog.get_logger("payments")


def failure_for(exc: ConnectorError) -> Failure:
    if isinstance(exc, ProviderCircuitOpen):
        return Failure(
            "provider_circuit_open",
            "The provider is failing and its circuit is open; nothing was sent.",
        )
    if isinstance(exc, ProviderUnreachable):
        return Failure(
            "provider_unavailable", "The provider could not be reached; nothing was sent."
        )
    if isinstance(exc, ConnectorMisconfigured):
        return Failure("provider_misconfigured", "The provider refused our credentials.")
    message = exc.provider_message if isinstance(exc, ProviderRejected) else None
    code = exc.code if exc.code != "provider_error" else "provider_rejected"
    return Failure(code, "The provider refused the request.", None, message)


class OperationRunner:
    def __init__(self, ledger: Ledger, executor: ConnectorExecutor, clock: Clock) -> None:
        self._ledger = ledger
        self._executor = executor
        self._clock = clock

    async def _reload(self, payment_id: str) -> Payment:
        payment = await self._ledger.get_payment(payment_id)
        if payment is None:  # payments are never deleted
            raise NotFound(f"no payment {payment_id}")
        return payment

    def pending(
        self,
        payment: Payment,
        kind: OperationType,
        amount: int | None,
        op_id: str | None = None,
        reason: str | None = None,
    ) -> Operation:
        return Operation(
            id=op_id or new_id("op"),
            payment_id=payment.id,
            type=kind,
            status=OperationStatus.PENDING,
            amount=amount,
            currency=payment.currency,
            created_at=self._clock.now(),
            source=OperationSource.API,
            reason=reason,
        )

    async def begin(
        self, payment: Payment, kind: OperationType, amount: int, reason: str | None = None
    ) -> tuple[Payment, Operation]:
        """Record the pending operation and mark the payment processing (CAS)."""
        op = self.pending(payment, kind, amount, reason=reason)
        started = with_operations(
            msgspec.structs.replace(
                payment, status=PaymentStatus.PROCESSING, updated_at=op.created_at
            ),
            [],
            [op],
        )
        request = current_request()
        claim = request.claim() if request else None
        saved = await self.save(payment, started, [], [op], claim=claim)
        if saved is None:
            raise InvalidState("the payment changed while this request was checked; retry")
        if request is not None:
            request.wrote(payment.id, claim)
        return saved, op

    async def save(
        self,
        before: Payment,
        after: Payment,
        resolve: list[Operation],
        insert: list[Operation],
        *,
        claim: IdempotencyRecord | None = None,
        final: bool = False,
    ) -> Payment | None:
        """Compare-and-set; None on a race. `final`: the request's answer (stored to replay).

        The request's idempotency claim rides on its first write, the response to
        replay on its final one (see `service.orchestration.idempotent`).
        """
        after = msgspec.structs.replace(after, version=before.version + 1)
        request = current_request() if final else None
        complete = request.completion(after) if request else None
        if not await self._ledger.save(
            before, after, resolve, insert, claim=claim, complete=complete
        ):
            return None
        if request is not None and complete is not None:
            request.completed(complete, after)
        for op in resolve + insert:
            if op.status is not OperationStatus.PENDING:
                child(PAYMENT_OUTCOMES, before.provider, op.type.value, op.status.value).inc()
        return after

    async def run(
        self,
        connector: Connector,
        payment: Payment,
        op: Operation,
        call: HttpCall,
        parse: Callable[[HttpReply], OperationOutcome],
        *,
        restore_on_failure: Payment | None = None,
    ) -> Payment:
        """Send `call` for the pending `op` and record what came of it.

        A call that provably did nothing (unreachable, refused, our credentials)
        fails `op` — unless `restore_on_failure` is given: then the payment goes
        back to that state with `op` still pending (a 3-D Secure step the
        provider refused leaves its order waiting). Either way the error is raised.
        """
        try:
            outcome = await self._executor.execute(connector, op.type.value, call, parse)
        except (OutcomeUnknown, ProviderProtocolError) as exc:
            # Sent, answer unusable: the money may have moved. Leave it pending.
            log.warning(
                "operation_outcome_unknown",
                payment_id=payment.id,
                operation_id=op.id,
                type=op.type,
                provider=connector.name,
                error=exc.detail,
            )
            return payment
        except (ProviderUnreachable, ConnectorMisconfigured, ProviderRejected) as exc:
            if restore_on_failure is None:
                await self._settle_failed(payment, op, failure_for(exc))
            else:
                restored = msgspec.structs.replace(
                    restore_on_failure, updated_at=self._clock.now(), operations=payment.operations
                )
                await self.save(payment, restored, [], [])
            raise
        return await self._apply(payment, op, outcome)

    async def _settle_failed(self, payment: Payment, op: Operation, failure: Failure) -> Payment:
        now = self._clock.now()
        done = msgspec.structs.replace(
            op, status=OperationStatus.FAILED, failure=failure, resolved_at=now
        )
        after = msgspec.structs.replace(apply_failure(payment, done, failure), updated_at=now)
        after = with_operations(after, [done], [])
        return await self.save(payment, after, [done], []) or await self._reload(payment.id)

    async def _apply(self, payment: Payment, op: Operation, outcome: OperationOutcome) -> Payment:
        now = self._clock.now()
        reference = outcome.provider_reference or payment.provider_reference
        priced = _with_price(payment, outcome)
        if outcome.status is OutcomeStatus.ACTION_REQUIRED:
            after = apply_action_required(priced, outcome.next_action)
            after = msgspec.structs.replace(after, provider_reference=reference, updated_at=now)
            saved = await self.save(payment, after, [], [], final=True)
            return saved or await self._reload(payment.id)
        if outcome.status is OutcomeStatus.FAILED:
            failure = outcome.failure or Failure("card_declined", "The provider declined it.")
            done = msgspec.structs.replace(
                op,
                status=OperationStatus.FAILED,
                failure=failure,
                provider_reference=reference,
                resolved_at=now,
            )
            after = apply_failure(priced, done, failure)
        else:
            done = msgspec.structs.replace(
                op,
                status=OperationStatus.SUCCEEDED,
                provider_reference=reference,
                resolved_at=now,
                amount=op.amount if op.amount is not None else priced.amount,
            )
            after = apply_success(priced, done)
        after = with_operations(
            msgspec.structs.replace(after, provider_reference=reference, updated_at=now), [done], []
        )
        if outcome.snapshot is not None:
            after = learn_card(after, outcome.snapshot)
        imported: list[Operation] = []
        if outcome.snapshot is not None and done.status is OperationStatus.SUCCEEDED:
            after, imported = absorb(after, outcome.snapshot, now, OperationSource.PROVIDER)
            after = with_operations(after, [], imported)
        saved = await self.save(payment, after, [done], imported, final=True)
        if saved is None:  # a concurrent sync settled it first: its answer stands
            return await self._reload(payment.id)
        return saved


def _with_price(payment: Payment, outcome: OperationOutcome) -> Payment:
    """The payment with what the provider said of the price (connectors check currency)."""
    after = payment
    if outcome.details:
        after = msgspec.structs.replace(
            after, provider_details={**after.provider_details, **outcome.details}
        )
    if outcome.priced is not None and after.amount is None:
        after = msgspec.structs.replace(after, amount=outcome.priced.amount)
    return after
