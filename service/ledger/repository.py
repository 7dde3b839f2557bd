"""The PostgreSQL ledger (asyncpg). Returns domain structs, never records.

Each public method is one transaction. Transitions are compare-and-set on the
payment's `version`, and a pending operation is resolved at most once
(`WHERE status = 'pending'`); the SQL triggers keep operations append-only and
the payment's totals equal to its succeeded operations.
"""

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from service.domain.errors import DependencyUnavailable, LedgerInconsistent
from service.domain.payments import (
    Operation,
    Payment,
    PaymentStatus,
)
from service.domain.payouts import Payout
from service.domain.ports import (
    ApiKey,
    IdempotencyRecord,
    IdempotencyState,
    PaymentFilter,
    ReconcileClaim,
)
from service.domain.webhooks import WebhookMark, WebhookRecord, WebhookStatus
from service.ledger import queries as q
from service.ledger.rows import (
    mark_args,
    operation_args,
    payment_from,
    payout_from,
    to_json,
    webhook_from,
)


class _Race(Exception):
    """Another writer got there first: roll back and report False."""


# Errors that mean "the database is not there", as opposed to a bug in our SQL.
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.AdminShutdownError,
    TimeoutError,
)


class PostgresLedger:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @classmethod
    async def connect(cls, dsn: str, *, min_size: int = 1, max_size: int = 10) -> "PostgresLedger":
        pool = await asyncpg.create_pool(
            dsn, min_size=min_size, max_size=max_size, command_timeout=10
        )
        return cls(pool)

    async def close(self) -> None:
        await self._pool.close()

    @asynccontextmanager
    async def _conn(self) -> AsyncIterator[asyncpg.Connection]:
        try:
            async with self._pool.acquire(timeout=5) as conn:
                yield conn
        except _UNAVAILABLE as exc:
            raise DependencyUnavailable(f"PostgreSQL is unavailable: {type(exc).__name__}") from exc

    async def ping(self) -> None:
        async with self._conn() as conn:
            await conn.fetchval("SELECT 1")

    # -- payments ----------------------------------------------------------------

    async def create_payment(
        self, payment: Payment, first: Operation, idempotency: tuple[str, str] | None
    ) -> None:
        async with self._conn() as conn, conn.transaction():
            await conn.execute(
                q.INSERT_PAYMENT,
                payment.id,
                payment.api_key_id,
                payment.status.value,
                payment.provider,
                payment.provider_reference,
                payment.capture.value,
                payment.currency,
                payment.amount,
                payment.amount_authorized,
                payment.amount_captured,
                payment.amount_refunded,
                to_json(payment.payment_method),
                to_json(payment.customer),
                payment.description,
                payment.merchant_reference,
                to_json(payment.metadata),
                payment.return_url,
                to_json(payment.next_action),
                to_json(payment.failure),
                payment.version,
                payment.created_at,
                payment.updated_at,
                payment.parent_payment_id,
                to_json(payment.provider_details),
            )
            await conn.execute(q.INSERT_OPERATION, *operation_args(first))
            if idempotency is not None:
                await conn.execute(q.LINK_IDEMPOTENCY, *idempotency, payment.id)

    async def get_payment(self, payment_id: str) -> Payment | None:
        async with self._conn() as conn:
            row = await conn.fetchrow(q.GET_PAYMENT, payment_id)
        return None if row is None else payment_from(row)

    async def list_payments(
        self, where: PaymentFilter, limit: int, starting_after: str | None
    ) -> Sequence[Payment]:
        async with self._conn() as conn:
            rows = await conn.fetch(
                q.LIST_PAYMENTS,
                where.status.value if where.status else None,
                where.provider,
                where.merchant_reference,
                where.created_gte,
                where.created_lt,
                starting_after,
                limit,
            )
        return [payment_from(row) for row in rows]

    async def save(
        self,
        before: Payment,
        after: Payment,
        resolve: Sequence[Operation] = (),
        insert: Sequence[Operation] = (),
        event: WebhookMark | None = None,
    ) -> bool:
        args = (
            after.status.value,
            after.provider_reference,
            after.amount_authorized,
            after.amount_captured,
            after.amount_refunded,
            to_json(after.next_action),
            to_json(after.failure),
            to_json(after.payment_method),
            after.updated_at,
            after.amount,
            to_json(after.provider_details),
        )
        return await self._compare_and_set(
            q.UPDATE_PAYMENT, (before.id, before.version, *args), resolve, insert, event
        )

    async def _compare_and_set(
        self,
        update: str,
        args: tuple[Any, ...],
        resolve: Sequence[Operation],
        insert: Sequence[Operation],
        event: WebhookMark | None = None,
    ) -> bool:
        """One transaction: the versioned UPDATE, operations, the event's outcome.

        False, and nothing written, on any race.
        """
        try:
            async with self._conn() as conn, conn.transaction():
                if await conn.execute(update, *args) != "UPDATE 1":
                    raise _Race
                for op in resolve:
                    done = await conn.execute(
                        q.RESOLVE_OPERATION,
                        op.id,
                        op.status.value,
                        op.provider_reference,
                        to_json(op.failure),
                        op.resolved_at,
                        op.amount,
                    )
                    if done != "UPDATE 1":
                        raise _Race
                if insert:
                    await conn.executemany(q.INSERT_OPERATION, [operation_args(o) for o in insert])
                if event is not None:
                    await conn.execute(q.MARK_WEBHOOK, *mark_args(event))
        except _Race:
            return False
        return True

    async def find_payment(self, provider: str, provider_reference: str) -> Payment | None:
        async with self._conn() as conn:
            rows = await conn.fetch(q.FIND_PAYMENT, provider, provider_reference)
        if len(rows) > 1:  # two payments on one provider order: never guess which
            raise LedgerInconsistent(f"{len(rows)} payments on {provider} {provider_reference}")
        return payment_from(rows[0]) if rows else None

    async def payments_on(
        self, provider: str, provider_reference: str, statuses: Sequence[PaymentStatus]
    ) -> Sequence[str]:
        async with self._conn() as conn:
            rows = await conn.fetch(
                q.PAYMENTS_ON, provider, provider_reference, [s.value for s in statuses]
            )
        return [row["id"] for row in rows]

    # -- the reconciler ---------------------------------------------------------------

    async def claim_in_doubt(self, claim: ReconcileClaim) -> Sequence[tuple[str, int]]:
        """Take up to `claim.limit` subjects in doubt no other reconciler holds."""
        seed = q.SEED_PAYMENT_CLAIMS if claim.kind == "payment" else q.SEED_PAYOUT_CLAIMS
        async with self._conn() as conn:
            await conn.execute(seed, claim.now, claim.pending_since, list(claim.providers))
            rows = await conn.fetch(
                q.CLAIM,
                claim.now,
                claim.kind,
                claim.limit,
                claim.backoff.total_seconds(),
                claim.longest_backoff.total_seconds(),
                list(claim.providers),
            )
        return [(row["subject_id"], row["attempts"]) for row in rows]

    async def note_claim(self, subject_id: str, error: str, now: datetime) -> None:
        async with self._conn() as conn:
            await conn.execute(q.NOTE_CLAIM, subject_id, error[:1000], now)

    async def release_claim(self, subject_id: str) -> None:
        async with self._conn() as conn:
            await conn.execute(q.RELEASE_CLAIM, subject_id)

    async def oldest_pending(self) -> datetime | None:
        async with self._conn() as conn:
            value: datetime | None = await conn.fetchval(q.OLDEST_PENDING)
        return value

    # -- webhooks --------------------------------------------------------------------

    async def record_webhook(self, record: WebhookRecord) -> WebhookRecord | None:
        async with self._conn() as conn:
            inserted = await conn.fetchval(
                q.RECORD_WEBHOOK,
                record.id,
                record.provider,
                record.event_id,
                record.event_type,
                record.status.value,
                record.payload,
                record.delivery_try,
                record.payment_id,
                record.detail,
                record.received_at,
                record.processed_at,
            )
            if inserted:
                return None
            row = await conn.fetchrow(q.GET_WEBHOOK, record.provider, record.event_id)
        return None if row is None else webhook_from(row)

    async def mark_webhook(self, mark: WebhookMark) -> None:
        async with self._conn() as conn:
            await conn.execute(q.MARK_WEBHOOK, *mark_args(mark))

    async def list_webhooks(
        self, status: WebhookStatus | None, provider: str | None, limit: int
    ) -> Sequence[WebhookRecord]:
        async with self._conn() as conn:
            rows = await conn.fetch(
                q.LIST_WEBHOOKS, status.value if status else None, provider, limit
            )
        return [webhook_from(row) for row in rows]

    # -- payouts -----------------------------------------------------------------------

    async def create_payout(
        self, payout: Payout, first: Operation, idempotency: tuple[str, str] | None
    ) -> None:
        async with self._conn() as conn, conn.transaction():
            await conn.execute(
                q.INSERT_PAYOUT,
                payout.id,
                payout.api_key_id,
                payout.status.value,
                payout.provider,
                payout.provider_reference,
                payout.currency,
                payout.amount,
                to_json(payout.destination),
                payout.destination.payment_id,
                payout.description,
                payout.merchant_reference,
                to_json(payout.metadata),
                to_json(payout.failure),
                payout.version,
                payout.created_at,
                payout.updated_at,
            )
            await conn.execute(q.INSERT_OPERATION, *operation_args(first))
            if idempotency is not None:
                await conn.execute(q.LINK_IDEMPOTENCY, *idempotency, payout.id)

    async def get_payout(self, payout_id: str) -> Payout | None:
        async with self._conn() as conn:
            row = await conn.fetchrow(q.GET_PAYOUT, payout_id)
        return None if row is None else payout_from(row)

    async def save_payout(
        self,
        before: Payout,
        after: Payout,
        resolve: Sequence[Operation] = (),
        insert: Sequence[Operation] = (),
        event: WebhookMark | None = None,
    ) -> bool:
        args = (
            after.status.value,
            after.provider_reference,
            to_json(after.failure),
            after.updated_at,
        )
        return await self._compare_and_set(
            q.UPDATE_PAYOUT, (before.id, before.version, *args), resolve, insert
        )

    # -- idempotency ---------------------------------------------------------------

    async def claim_idempotency(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        async with self._conn() as conn:
            inserted = await conn.fetchval(
                q.CLAIM_IDEMPOTENCY,
                record.api_key_id,
                record.key,
                record.fingerprint,
                record.locked_until,
            )
            if inserted:
                return None
            row = await conn.fetchrow(q.GET_IDEMPOTENCY, record.api_key_id, record.key)
        if row is None:  # released between the two statements: the caller retries
            return record
        return IdempotencyRecord(
            api_key_id=record.api_key_id,
            key=record.key,
            fingerprint=row["fingerprint"],
            state=IdempotencyState(row["state"]),
            locked_until=row["locked_until"],
            resource_id=row["resource_id"],
            response_status=row["response_status"],
            response_body=row["response_body"],
        )

    async def take_over_idempotency(self, record: IdempotencyRecord, now: datetime) -> bool:
        async with self._conn() as conn:
            status = await conn.execute(
                q.TAKE_OVER_IDEMPOTENCY,
                record.api_key_id,
                record.key,
                record.fingerprint,
                record.locked_until,
                now,
            )
        return bool(status == "UPDATE 1")

    async def complete_idempotency(
        self, api_key_id: str, key: str, status: int, body: bytes, resource_id: str | None
    ) -> None:
        async with self._conn() as conn:
            await conn.execute(q.COMPLETE_IDEMPOTENCY, api_key_id, key, status, body, resource_id)

    async def release_idempotency(self, api_key_id: str, key: str) -> None:
        async with self._conn() as conn:
            await conn.execute(q.RELEASE_IDEMPOTENCY, api_key_id, key)

    # -- API keys --------------------------------------------------------------------

    async def create_api_key(self, key: ApiKey, secret_hash: str) -> None:
        async with self._conn() as conn:
            await conn.execute(
                q.INSERT_API_KEY,
                key.id,
                key.name,
                key.prefix,
                secret_hash,
                list(key.scopes),
                None
                if key.rate_limit_per_second is None
                else Decimal(str(key.rate_limit_per_second)),
                key.rate_limit_burst,
                key.created_at,
            )

    async def find_api_key(self, secret_hash: str) -> ApiKey | None:
        async with self._conn() as conn:
            row = await conn.fetchrow(q.FIND_API_KEY, secret_hash)
        if row is None:
            return None
        rate = row["rate_limit_per_second"]
        return ApiKey(
            id=row["id"],
            name=row["name"],
            prefix=row["prefix"],
            scopes=tuple(row["scopes"]),
            created_at=row["created_at"],
            rate_limit_per_second=float(rate) if rate is not None else None,
            rate_limit_burst=row["rate_limit_burst"],
            revoked_at=row["revoked_at"],
        )
