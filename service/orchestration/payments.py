"""Payment use cases: create, capture, void, refund, cancel, sync, and routing.

Each money-moving use case checks the state machine, then hands the call to the
`OperationRunner` (orchestration/operations.py), which owns the one shape every
provider call follows.
"""

import math
from collections.abc import Mapping
from datetime import timedelta

import msgspec
import structlog

from service.domain.commands import (
    Authenticate,
    Capture,
    Refund,
    Sync,
    Void,
)
from service.domain.errors import (
    FieldError,
    InvalidState,
    NotFound,
    OperationNotSupported,
    ProviderRejected,
    ValidationFailed,
)
from service.domain.money import Money
from service.domain.payments import (
    Authentication,
    OperationType,
    Payment,
    PaymentStatus,
    cancel_plan,
    check_capture,
    check_refund,
    check_void,
)
from service.domain.ports import Capability, Clock, Connector, Ledger, PaymentFilter
from service.orchestration.creation import NewPayment, NewRebill, PaymentCreation, known_amount
from service.orchestration.executor import ConnectorExecutor
from service.orchestration.operations import OperationRunner
from service.orchestration.reconcile import reconcile

log = structlog.get_logger("payments")


class PaymentService:
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
        self._ops = OperationRunner(ledger, executor, clock)
        self._creation = PaymentCreation(self, ledger, self._ops, clock)

    def able(self, provider: str, capability: Capability) -> Connector:
        """The payment's connector, if it can do `capability` (else 422, nothing written)."""
        connector = self.connector(provider)
        if capability not in connector.supports:
            raise OperationNotSupported(
                connector.name, f"{connector.name} does not offer {capability} from our side"
            )
        return connector

    def connector(self, provider: str) -> Connector:
        try:
            return self._connectors[provider]
        except KeyError:
            enabled = ", ".join(sorted(self._connectors)) or "none"
            raise ValidationFailed(
                f"provider {provider!r} is not enabled (enabled: {enabled})",
                [FieldError("provider", f"not enabled; one of: {enabled}")],
            ) from None

    def route(self, new: NewPayment) -> Connector:
        """The explicit provider, or the first enabled one that takes the method."""
        method = new.method
        if new.provider is not None:
            connector = self.connector(new.provider)
            if method not in connector.methods:
                raise ValidationFailed(
                    f"{new.provider} does not take {method} payments",
                    [FieldError("payment_method.type", f"not offered by {new.provider}")],
                )
            return connector
        for connector in self._connectors.values():
            if method in connector.methods:
                return connector
        raise ValidationFailed(
            f"no enabled provider takes {method} payments",
            [FieldError("provider", "no enabled provider takes this payment method")],
        )

    @property
    def providers(self) -> Mapping[str, Connector]:
        return self._connectors

    # -- queries -------------------------------------------------------------------

    async def get(self, payment_id: str) -> Payment:
        payment = await self._ledger.get_payment(payment_id)
        if payment is None:
            raise NotFound(f"no payment {payment_id}")
        return payment

    async def list_payments(
        self, where: PaymentFilter, limit: int, starting_after: str | None
    ) -> tuple[list[Payment], bool]:
        rows = list(await self._ledger.list_payments(where, limit + 1, starting_after))
        return rows[:limit], len(rows) > limit

    # -- create --------------------------------------------------------------------

    # -- actions on a payment -----------------------------------------------------

    async def capture(self, payment_id: str, amount: int | None) -> Payment:
        payment = await self.get(payment_id)
        connector = self.able(payment.provider, Capability.CAPTURE)
        value = check_capture(payment, amount)
        payment, op = await self._ops.begin(payment, OperationType.CAPTURE, value)
        cmd = Capture(
            payment.id,
            op.id,
            self.reference(payment),
            Money(value, payment.currency),
            full=value == payment.amount_authorized,
        )
        return await self._ops.run(
            connector,
            payment,
            op,
            connector.build_capture(cmd),
            lambda reply: connector.parse_capture(cmd, reply),
        )

    async def void(self, payment_id: str) -> Payment:
        payment = await self.get(payment_id)
        return await self._void(payment)

    async def _void(self, payment: Payment) -> Payment:
        connector = self.able(payment.provider, Capability.VOID)
        value = check_void(payment)
        payment, op = await self._ops.begin(payment, OperationType.VOID, value)
        cmd = Void(payment.id, op.id, self.reference(payment), Money(value, payment.currency))
        return await self._ops.run(
            connector,
            payment,
            op,
            connector.build_void(cmd),
            lambda reply: connector.parse_void(cmd, reply),
        )

    async def refund(self, payment_id: str, amount: int | None, reason: str | None) -> Payment:
        payment = await self.get(payment_id)
        return await self._refund(payment, amount, reason)

    async def _refund(self, payment: Payment, amount: int | None, reason: str | None) -> Payment:
        connector = self.able(payment.provider, Capability.REFUND)
        value = check_refund(payment, amount)
        payment, op = await self._ops.begin(payment, OperationType.REFUND, value, reason)
        cmd = Refund(
            payment.id,
            op.id,
            self.reference(payment),
            Money(value, payment.currency),
            full=value == payment.refundable,
            reason=reason,
        )
        return await self._ops.run(
            connector,
            payment,
            op,
            connector.build_refund(cmd),
            lambda reply: connector.parse_refund(cmd, reply),
        )

    async def cancel(self, payment_id: str) -> Payment:
        payment = await self.get(payment_id)
        plan = cancel_plan(payment)
        self.able(
            payment.provider, Capability.VOID if plan is OperationType.VOID else Capability.REFUND
        )
        if plan is OperationType.VOID:
            return await self._void(payment)
        return await self._refund(payment, None, "cancel")

    async def sync(self, payment_id: str) -> Payment:
        """Pull the provider's view and reconcile the ledger with it."""
        payment = await self.get(payment_id)
        connector = self.able(payment.provider, Capability.SYNC)
        if connector.sync_repeats_payment:
            self._may_repeat(payment)
            if not payment.pending_operations():
                return payment  # settled: sending it again could only pay anew
        cmd = Sync(
            payment.id,
            payment.provider_reference,
            payment.currency,
            details=dict(payment.provider_details),
        )
        snapshot = await self._executor.execute(
            connector, "sync", connector.build_sync(cmd), lambda r: connector.parse_sync(cmd, r)
        )
        now = self._clock.now()
        result = reconcile(payment, snapshot, now, self._settle_after)
        if result.payment == payment:
            return payment
        after = msgspec.structs.replace(result.payment, updated_at=now)
        saved = await self._ops.save(
            payment, after, list(result.resolve), list(result.insert), final=True
        )
        if saved is None:
            return await self.get(payment_id)
        log.info(
            "payment_synced",
            payment_id=payment.id,
            status=saved.status,
            resolved=len(result.resolve),
            imported=len(result.insert),
        )
        return saved

    def _may_repeat(self, payment: Payment) -> None:
        """Refuse to send an attempt again while the first may still be in flight.

        Where sync repeats the payment, a repeat racing the original call would meet the
        provider's pay-once answer meant for the other one. Every call ends within its
        time limit, counted from when its operation was committed, before the call.
        """
        pending = payment.pending_operations()
        if not pending:
            return
        age = self._clock.now() - min(op.created_at for op in pending)
        wait = self._executor.longest_call(payment.provider) - age.total_seconds()
        if wait > 0:
            raise InvalidState(
                f"the attempt may still be in flight at {payment.provider}: "
                f"sync again in {math.ceil(wait)} s"
            )

    # -- the shared shape ------------------------------------------------------------

    async def authenticate(
        self, payment_id: str, kind: Authentication, value: str | None
    ) -> Payment:
        """Finish a 3-D Secure step; a payment past it is answered from the ledger."""
        payment = await self.get(payment_id)
        if payment.status is PaymentStatus.NEEDS_ATTENTION:
            raise InvalidState(
                "the payment needs attention: sync it, or an operator resolves it first"
            )
        if payment.status is not PaymentStatus.REQUIRES_ACTION:
            return payment  # a repeated completion: no second call
        action = payment.next_action
        if action is None or action.authenticate_with is None:
            raise InvalidState("nothing to authenticate: the customer pays on the hosted page")
        if kind is not action.authenticate_with:
            raise ValidationFailed(
                f"this step is finished with {action.authenticate_with}",
                [FieldError(kind.value, f"send {action.authenticate_with.value} instead")],
            )
        op = next(o for o in payment.pending_operations() if o.type is OperationType.AUTHORIZE)
        connector = self.able(payment.provider, Capability.AUTHENTICATE)
        started = await self._ops.save(
            payment,
            msgspec.structs.replace(
                payment, status=PaymentStatus.PROCESSING, updated_at=self._clock.now()
            ),
            [],
            [],
        )
        if started is None:  # another request got there first
            return await self.authenticate(payment_id, kind, value)
        cmd = Authenticate(
            payment.id,
            self.reference(payment),
            Money(known_amount(payment), payment.currency),
            pares=value if kind is Authentication.PARES else None,
            cres=value if kind is Authentication.CRES else None,
            resume=kind is Authentication.RESUME,
        )
        try:
            return await self._ops.run(
                connector,
                started,
                op,
                connector.build_authenticate(cmd),
                lambda reply: connector.parse_authenticate(cmd, reply),
                restore_on_failure=payment,
            )
        except ProviderRejected:
            # Refused: ask the provider what it did (e.g. "Order already completed").
            synced = await self.sync(payment_id)
            if synced.status is PaymentStatus.REQUIRES_ACTION:
                raise
            return synced

    async def create(self, new: NewPayment, api_key_id: str) -> Payment:
        return await self._creation.create(new, api_key_id)

    async def rebill(self, parent_id: str, new: NewRebill, api_key_id: str) -> Payment:
        return await self._creation.rebill(parent_id, new, api_key_id)

    @staticmethod
    def reference(payment: Payment) -> str:
        if payment.provider_reference is None:  # authorized payments always have one
            raise InvalidState("the payment has no provider reference yet; sync it first")
        return payment.provider_reference
