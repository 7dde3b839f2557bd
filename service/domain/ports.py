"""The ports: what the orchestration needs from the outside world.

Adapters (`ledger`, `idempotency`, `ratelimit`, `connectors`, the HTTP
transport) implement these; only `service.app` wires them together.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import ClassVar, Literal, Protocol

import msgspec

from service.domain.commands import (
    Authenticate,
    Authorize,
    Capture,
    Credit,
    PayOrder,
    Rebill,
    Refund,
    Sync,
    Void,
)
from service.domain.errors import FieldError
from service.domain.outcomes import (
    ExchangeRate,
    HttpCall,
    HttpReply,
    OperationOutcome,
    PaymentMethodOption,
    ProviderSnapshot,
    Quote,
)
from service.domain.payments import (
    Operation,
    Payment,
    PaymentMethodType,
    PaymentStatus,
)
from service.domain.payouts import Payout
from service.domain.webhooks import WebhookEvent, WebhookMark, WebhookRecord, WebhookStatus


class Capability(StrEnum):
    """What a connector can do, as listed by GET /v1/providers."""

    AUTHORIZE = "authorize"
    CAPTURE = "capture"
    VOID = "void"
    REFUND = "refund"
    SYNC = "sync"
    AUTHENTICATE = "authenticate"
    REBILL = "rebill"
    PAYOUT = "payout"
    EXCHANGE_RATES = "exchange_rates"
    HEALTH = "health"
    WEBHOOKS = "webhooks"
    PAY_ORDER = "pay_order"  # pay a vendor order the provider prices
    PAYMENT_METHODS = "payment_methods"
    QUOTES = "quotes"


class ReconcileStrategy(StrEnum):
    """How the reconciler learns the fate of an operation left in doubt at a provider."""

    STATUS_CALL = "status_call"  # sync asks the provider's status call (Bizon GET /orders)
    # sync sends the attempt again where the provider pays an order once (Send2Sell)
    CONFIRM_AGAIN = "confirm_again"
    WEBHOOKS = "webhooks"  # nothing to ask: only the provider's notifications tell
    MANUAL = "manual"  # nothing to ask and nothing notified: operators settle it

    @property
    def asks(self) -> bool:
        """Whether a sync can learn anything from the provider."""
        return self in (ReconcileStrategy.STATUS_CALL, ReconcileStrategy.CONFIRM_AGAIN)


class Connector(Protocol):
    """A translator between domain commands and one provider's wire format.

    Connectors are pure: `build_*` turns a command into an `HttpCall`, `parse_*`
    turns the provider's `HttpReply` into a normalized outcome. They never do I/O,
    retries or logging; the executor does, once for all providers.
    """

    name: ClassVar[str]
    supports: ClassVar[frozenset[Capability]]
    options_type: ClassVar[type[msgspec.Struct] | None]
    quote_type: ClassVar[type[msgspec.Struct] | None]
    methods: ClassVar[frozenset[PaymentMethodType]]
    # True where the only way to learn an attempt's fate is to send it again (a provider
    # that pays once per order and has no status call): sync then runs only while an
    # attempt is in doubt, never on a settled payment, where it could pay anew.
    sync_repeats_payment: ClassVar[bool]
    # What the reconciler does with an operation left in doubt: sync (the strategies that
    # ask), or wait for a notification, or nothing; either way a subject it cannot settle
    # goes to `needs_attention` instead of being ignored forever.
    reconcile_strategy: ClassVar[ReconcileStrategy]

    def validate_authorize(self, cmd: Authorize) -> list[FieldError]:
        """Field errors that make the provider certain to refuse `cmd`."""
        ...

    def build_authorize(self, cmd: Authorize) -> HttpCall: ...
    def parse_authorize(self, cmd: Authorize, reply: HttpReply) -> OperationOutcome: ...
    def build_capture(self, cmd: Capture) -> HttpCall: ...
    def parse_capture(self, cmd: Capture, reply: HttpReply) -> OperationOutcome: ...
    def build_void(self, cmd: Void) -> HttpCall: ...
    def parse_void(self, cmd: Void, reply: HttpReply) -> OperationOutcome: ...
    def build_refund(self, cmd: Refund) -> HttpCall: ...
    def parse_refund(self, cmd: Refund, reply: HttpReply) -> OperationOutcome: ...
    def build_authenticate(self, cmd: Authenticate) -> HttpCall: ...
    def parse_authenticate(self, cmd: Authenticate, reply: HttpReply) -> OperationOutcome: ...
    def validate_rebill(self, cmd: Rebill) -> list[FieldError]: ...
    def validate_credit(self, cmd: Credit) -> list[FieldError]: ...
    def build_rebill(self, cmd: Rebill) -> HttpCall: ...
    def parse_rebill(self, cmd: Rebill, reply: HttpReply) -> OperationOutcome: ...
    def build_credit(self, cmd: Credit) -> HttpCall: ...
    def parse_credit(self, cmd: Credit, reply: HttpReply) -> OperationOutcome: ...
    def build_exchange_rates(self) -> HttpCall: ...
    def parse_exchange_rates(self, reply: HttpReply) -> list[ExchangeRate]: ...
    def build_ping(self) -> HttpCall: ...

    def parse_ping(self, reply: HttpReply) -> str | None:
        """None when the provider answers as healthy, else what is wrong."""
        ...

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        """Whether the notification is signed by the provider (constant-time)."""
        ...

    def parse_webhook(self, body: bytes) -> WebhookEvent: ...

    def validate_pay_order(self, cmd: PayOrder) -> list[FieldError]: ...

    def payer_currency(self, cmd: PayOrder) -> str:
        """The currency the payer will pay in (the payment's currency)."""
        ...

    def order_reference(self, cmd: PayOrder) -> str:
        """The provider's id of the vendor order being paid (known before the call)."""
        ...

    def build_pay_order(self, cmd: PayOrder) -> HttpCall: ...
    def parse_pay_order(self, cmd: PayOrder, reply: HttpReply) -> OperationOutcome: ...
    def build_payment_methods(self) -> HttpCall: ...
    def parse_payment_methods(self, reply: HttpReply) -> list[PaymentMethodOption]: ...
    def build_quote(self, request: msgspec.Struct) -> HttpCall: ...
    def parse_quote(self, request: msgspec.Struct, reply: HttpReply) -> Quote: ...

    def build_sync(self, cmd: Sync) -> HttpCall: ...

    def parse_sync(self, cmd: Sync, reply: HttpReply) -> ProviderSnapshot | None:
        """The provider's view of the payment, or None when it has no record of it."""
        ...

    def scrub(self, text: str) -> str:
        """The exchange transcript with card data and secrets removed."""
        ...


class Transport(Protocol):
    async def send(self, provider: str, call: HttpCall) -> HttpReply:
        """Send one call; raise ProviderUnreachable or OutcomeUnknown on failure."""
        ...

    def longest_call(self, provider: str) -> float:
        """Seconds after which a call sent to `provider` has certainly ended."""
        ...


class PaymentFilter(msgspec.Struct, frozen=True):
    status: PaymentStatus | None = None
    provider: str | None = None
    merchant_reference: str | None = None
    created_gte: datetime | None = None
    created_lt: datetime | None = None


class IdempotencyState(StrEnum):
    IN_FLIGHT = "in_flight"
    COMPLETED = "completed"


class IdempotencyRecord(msgspec.Struct, frozen=True):
    api_key_id: str
    key: str
    fingerprint: str
    state: IdempotencyState
    locked_until: datetime
    resource_id: str | None = None
    response_status: int | None = None
    response_body: bytes | None = None


class IdempotencyCompletion(msgspec.Struct, frozen=True):
    """The response to replay for a key, written with the request's last ledger write."""

    api_key_id: str
    key: str
    fingerprint: str
    status: int
    body: bytes
    resource_id: str | None = None


class ApiKey(msgspec.Struct, frozen=True):
    id: str
    name: str
    prefix: str
    scopes: tuple[str, ...]
    created_at: datetime
    rate_limit_per_second: float | None = None
    rate_limit_burst: int | None = None
    revoked_at: datetime | None = None


class ReconcileClaim(msgspec.Struct, frozen=True):
    """What a reconciler asks for: subjects in doubt since `pending_since` or earlier."""

    kind: Literal["payment", "payout"]
    now: datetime
    pending_since: datetime
    providers: tuple[str, ...]  # the ones able to sync this kind
    limit: int
    backoff: timedelta  # the first wait before the same subject is tried again
    longest_backoff: timedelta


class InDoubtQuery(msgspec.Struct, frozen=True):
    """Payments in doubt: `needs_attention`, or an operation pending since `pending_since`."""

    pending_since: datetime
    limit: int
    starting_after: str | None = None
    provider: str | None = None


class InDoubt(msgspec.Struct, frozen=True):
    """A payment in doubt with what the reconciler knows of it."""

    payment: Payment
    attempts: int = 0  # reconciler passes that looked at it
    last_error: str | None = None  # the last sync's failure
    reason: str | None = None  # why it was handed to operators
    marked_at: datetime | None = None  # when it was


class Ledger(Protocol):
    """The canonical payment ledger; each method is one transaction."""

    async def create_payment(
        self, payment: Payment, first: Operation, claim: IdempotencyRecord | None = None
    ) -> None:
        """Insert a payment with its first (pending) operation and the request's claim.

        One transaction. Raises IdempotencyKeyClaimed (nothing written) when the
        claim's key is already held.
        """
        ...

    async def get_payment(self, payment_id: str) -> Payment | None: ...

    async def list_payments(
        self, where: PaymentFilter, limit: int, starting_after: str | None
    ) -> Sequence[Payment]: ...

    async def save(
        self,
        before: Payment,
        after: Payment,
        resolve: Sequence[Operation] = (),
        insert: Sequence[Operation] = (),
        event: WebhookMark | None = None,
        *,
        claim: IdempotencyRecord | None = None,
        complete: IdempotencyCompletion | None = None,
    ) -> bool:
        """Compare-and-set `before` -> `after`; False (and nothing written) on a race.

        `resolve` are pending operations now final (pending -> succeeded/failed);
        `insert` are new operations; `event` records what a notification did;
        `claim` is the request's idempotency claim (IdempotencyKeyClaimed, nothing
        written, when its key is held); `complete` stores the response to replay.
        All in one transaction, one round trip.
        """
        ...

    async def find_payment(self, provider: str, provider_reference: str) -> Payment | None: ...

    async def payments_on(
        self, provider: str, provider_reference: str, statuses: Sequence[PaymentStatus]
    ) -> Sequence[str]:
        """Ids of the payments on one provider order that are in one of `statuses`."""
        ...

    async def record_webhook(self, record: WebhookRecord) -> WebhookRecord | None:
        """Store a notification; None when new, else the one stored before (a redelivery)."""
        ...

    async def claim_in_doubt(self, claim: ReconcileClaim) -> Sequence[tuple[str, int]]:
        """(subject id, attempts) taken for this reconciler until its backoff passes.

        Safe with any number of reconcilers: a subject is held by one at a time.
        """
        ...

    async def note_claim(self, subject_id: str, error: str, now: datetime) -> None: ...
    async def release_claim(self, subject_id: str) -> None: ...

    async def flag_claim(self, subject_id: str, reason: str, now: datetime) -> None:
        """Record why a subject went to operators; the reconciler claims it no more."""
        ...

    async def oldest_pending(self) -> datetime | None:
        """When the oldest operation the reconciler still works on was started.

        None: nothing in doubt. Subjects handed to operators are not counted.
        """
        ...

    async def needs_attention(self) -> Mapping[str, int]:
        """How many payments and payouts are `needs_attention`, by kind."""
        ...

    async def list_in_doubt(self, query: InDoubtQuery) -> Sequence[InDoubt]:
        """Payments in doubt, newest first, with the reconciler's notes."""
        ...

    async def mark_webhook(self, mark: WebhookMark) -> None: ...

    async def list_webhooks(
        self, status: WebhookStatus | None, provider: str | None, limit: int
    ) -> Sequence[WebhookRecord]: ...

    async def create_payout(
        self, payout: Payout, first: Operation, claim: IdempotencyRecord | None = None
    ) -> None:
        """Insert a payout with its pending credit operation and the request's claim."""
        ...

    async def get_payout(self, payout_id: str) -> Payout | None: ...

    async def save_payout(
        self,
        before: Payout,
        after: Payout,
        resolve: Sequence[Operation] = (),
        insert: Sequence[Operation] = (),
        *,
        complete: IdempotencyCompletion | None = None,
    ) -> bool:
        """Compare-and-set like `save`, for a payout."""
        ...

    async def get_idempotency(self, api_key_id: str, key: str) -> IdempotencyRecord | None:
        """The record a key holds, if any."""
        ...

    async def take_over_idempotency(self, record: IdempotencyRecord, now: datetime) -> bool:
        """Re-lock an in-flight record whose holder died, when nothing was created."""
        ...

    async def complete_idempotency(self, completion: IdempotencyCompletion) -> None:
        """Store the response to replay (inserting the record if the request wrote none)."""
        ...

    async def release_idempotency(self, api_key_id: str, key: str) -> None: ...

    async def create_api_key(self, key: ApiKey, secret_hash: str) -> None: ...

    async def find_api_key(self, secret_hash: str) -> ApiKey | None: ...

    async def revoke_api_key(self, key_id: str, at: datetime) -> bool:
        """Mark a key revoked; False when there is no such live key."""
        ...

    async def ping(self) -> None: ...


class CacheState(StrEnum):
    RESERVED = "reserved"  # the key was free and is now ours
    IN_FLIGHT = "in_flight"
    COMPLETED = "completed"
    RATE_LIMITED = "rate_limited"  # no token left: nothing was reserved


class RateDecision(msgspec.Struct, frozen=True):
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int
    retry_after_seconds: int


class RateLimit(msgspec.Struct, frozen=True):
    """The bucket a request takes its token from."""

    key: str
    per_second: float
    burst: int


class CacheClaim(msgspec.Struct, frozen=True):
    state: CacheState
    fingerprint: str | None = None
    response_status: int | None = None
    response_body: bytes | None = None
    rate: RateDecision | None = None


class IdempotencyCache(Protocol):
    """The fast path for idempotency keys (Redis); the ledger is the guarantee."""

    async def reserve(
        self, scope: str, fingerprint: str, lock_ms: int, limit: RateLimit | None = None
    ) -> CacheClaim:
        """Reserve `scope` unless taken; with `limit`, take a token first, atomically.

        One round trip. Out of tokens: RATE_LIMITED and nothing reserved.
        """
        ...

    async def complete(
        self, scope: str, fingerprint: str, status: int, body: bytes, ttl_ms: int
    ) -> None: ...

    async def release(self, scope: str) -> None: ...


class RateLimiter(Protocol):
    async def hit(self, key: str, per_second: float, burst: int) -> RateDecision: ...


class Clock(Protocol):
    def now(self) -> datetime: ...
