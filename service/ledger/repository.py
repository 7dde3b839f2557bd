"""The PostgreSQL ledger (asyncpg). Returns domain structs, never records.

Each public method is one transaction. Transitions are compare-and-set on the
payment's `version`, and a pending operation is resolved at most once
(`WHERE status = 'pending'`); the SQL triggers keep operations append-only and
the payment's totals equal to its succeeded operations.
"""

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from service.domain.errors import (
    DependencyUnavailable,
    IdempotencyKeyClaimed,
    LedgerInconsistent,
)
from service.domain.payments import (
    Operation,
    Payment,
    PaymentStatus,
)
from service.domain.payouts import Payout
from service.domain.ports import (
    ApiKey,
    IdempotencyCompletion,
    IdempotencyRecord,
    IdempotencyState,
    InDoubt,
    InDoubtQuery,
    PaymentFilter,
    ReconcileClaim,
)
from service.domain.webhooks import WebhookMark, WebhookRecord, WebhookStatus
from service.ledger import queries as q
from service.ledger.rows import (
    claim_row,
    completion_row,
    event_row,
    jsonb,
    mark_args,
    operation_row,
    outcome_row,
    payment_changes,
    payment_from,
    payment_row,
    payout_changes,
    payout_from,
    payout_row,
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


# Raised by the ledger functions (migration 0006).
OPERATION_RESOLVED = "LE001"  # an operation to resolve was resolved meanwhile: a race
KEY_CLAIMED = "LE002"  # the request's idempotency key is held


def _idempotency_from(api_key_id: str, key: str, row: asyncpg.Record) -> IdempotencyRecord:
    return IdempotencyRecord(
        api_key_id=api_key_id,
        key=key,
        fingerprint=row["fingerprint"],
        state=IdempotencyState(row["state"]),
        locked_until=row["locked_until"],
        resource_id=row["resource_id"],
        response_status=row["response_status"],
        response_body=None if row["response_body"] is None else bytes(row["response_body"]),
    )


async def _reset(conn: asyncpg.Connection) -> None:
    """Make a connection clean for the next user, without a round trip when it is.

    asyncpg's default reset sends `SELECT pg_advisory_unlock_all(); CLOSE ALL;
    UNLISTEN *; RESET ALL` on every release: a second round trip per query. This
    ledger takes no session locks, opens no cursors, listens to nothing and sets
    nothing; only an abandoned transaction needs undoing.
    """
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


class PostgresLedger:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @classmethod
    async def connect(cls, dsn: str, *, min_size: int = 1, max_size: int = 10) -> "PostgresLedger":
        pool = await asyncpg.create_pool(
            dsn, min_size=min_size, max_size=max_size, command_timeout=10, reset=_reset
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
        self, payment: Payment, first: Operation, claim: IdempotencyRecord | None = None
    ) -> None:
        async with self._conn() as conn:
            created = await conn.fetchval(
                q.CREATE_PAYMENT,
                jsonb(payment_row(payment)),
                jsonb(operation_row(first)),
                claim_row(claim),
            )
            if not created:
                assert claim is not None  # only a claim can stop the insert
                raise IdempotencyKeyClaimed(await self._idempotency(conn, claim))

    async def get_payment(self, payment_id: str) -> Payment | None:
        async with self._conn() as conn:
            row = await conn.fetchrow(q.GET_PAYMENT, payment_id)
        return None if row is None else payment_from(row)

    async def list_payments(
        self, where: PaymentFilter, limit: int, starting_after: str | None
    ) -> Sequence[Payment]:
        given = {
            "status": where.status.value if where.status else None,
            "provider": where.provider,
            "merchant_reference": where.merchant_reference,
            "created_gte": where.created_gte,
            "created_lt": where.created_lt,
            "starting_after": starting_after,
        }
        filters = {name: value for name, value in given.items() if value is not None}
        async with self._conn() as conn:
            rows = await conn.fetch(q.list_payments(tuple(filters)), *filters.values(), limit)
        return [payment_from(row) for row in rows]

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
        return await self._save(
            q.SAVE_PAYMENT,
            before.id,
            before.version,
            payment_changes(after),
            resolve,
            insert,
            event,
            claim,
            complete,
        )

    async def _save(
        self,
        function: str,
        subject_id: str,
        version: int,
        changes: dict[str, Any],
        resolve: Sequence[Operation],
        insert: Sequence[Operation],
        event: WebhookMark | None,
        claim: IdempotencyRecord | None,
        complete: IdempotencyCompletion | None,
    ) -> bool:
        """One call of a ledger_save_* function: one transaction, one round trip.

        False, and nothing written, on any race; IdempotencyKeyClaimed when the
        claim's key is held.
        """
        completion, body = completion_row(complete)
        async with self._conn() as conn:
            try:
                saved = await conn.fetchval(
                    function,
                    subject_id,
                    version,
                    jsonb(changes),
                    jsonb([outcome_row(op) for op in resolve]) if resolve else None,
                    jsonb([operation_row(op) for op in insert]) if insert else None,
                    claim_row(claim),
                    completion,
                    body,
                    event_row(event),
                )
            except asyncpg.PostgresError as exc:
                if exc.sqlstate == OPERATION_RESOLVED:
                    return False
                if exc.sqlstate == KEY_CLAIMED and claim is not None:
                    raise IdempotencyKeyClaimed(await self._idempotency(conn, claim)) from None
                raise
        return bool(saved)

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

    async def flag_claim(self, subject_id: str, reason: str, now: datetime) -> None:
        async with self._conn() as conn:
            await conn.execute(q.FLAG_CLAIM, subject_id, reason[:1000], now)

    async def oldest_pending(self) -> datetime | None:
        async with self._conn() as conn:
            value: datetime | None = await conn.fetchval(q.OLDEST_PENDING)
        return value

    async def needs_attention(self) -> Mapping[str, int]:
        async with self._conn() as conn:
            row = await conn.fetchrow(q.NEEDS_ATTENTION)
        return {"payment": row["payment"], "payout": row["payout"]}

    async def list_in_doubt(self, query: InDoubtQuery) -> Sequence[InDoubt]:
        async with self._conn() as conn:
            rows = await conn.fetch(
                q.LIST_IN_DOUBT,
                query.pending_since,
                query.starting_after,
                query.provider,
                query.limit,
            )
        return [
            InDoubt(
                payment=payment_from(row),
                attempts=row["claim_attempts"] or 0,
                last_error=row["claim_last_error"],
                reason=row["claim_reason"],
                marked_at=row["claim_attention_at"],
            )
            for row in rows
        ]

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
        self, payout: Payout, first: Operation, claim: IdempotencyRecord | None = None
    ) -> None:
        async with self._conn() as conn:
            created = await conn.fetchval(
                q.CREATE_PAYOUT,
                jsonb(payout_row(payout)),
                jsonb(operation_row(first)),
                claim_row(claim),
            )
            if not created:
                assert claim is not None
                raise IdempotencyKeyClaimed(await self._idempotency(conn, claim))

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
        *,
        complete: IdempotencyCompletion | None = None,
    ) -> bool:
        return await self._save(
            q.SAVE_PAYOUT,
            before.id,
            before.version,
            payout_changes(after),
            resolve,
            insert,
            None,
            None,
            complete,
        )

    # -- idempotency ---------------------------------------------------------------

    async def get_idempotency(self, api_key_id: str, key: str) -> IdempotencyRecord | None:
        async with self._conn() as conn:
            row = await conn.fetchrow(q.GET_IDEMPOTENCY, api_key_id, key)
        return None if row is None else _idempotency_from(api_key_id, key, row)

    @staticmethod
    async def _idempotency(conn: asyncpg.Connection, claim: IdempotencyRecord) -> IdempotencyRecord:
        """The record that holds `claim`'s key (or `claim` itself if it was just released)."""
        row = await conn.fetchrow(q.GET_IDEMPOTENCY, claim.api_key_id, claim.key)
        return claim if row is None else _idempotency_from(claim.api_key_id, claim.key, row)

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

    async def complete_idempotency(self, completion: IdempotencyCompletion) -> None:
        async with self._conn() as conn:
            await conn.execute(
                q.COMPLETE_IDEMPOTENCY,
                completion.api_key_id,
                completion.key,
                completion.status,
                completion.body,
                completion.resource_id,
                completion.fingerprint,
            )

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

    async def revoke_api_key(self, key_id: str, at: datetime) -> bool:
        async with self._conn() as conn:
            status = await conn.execute(q.REVOKE_API_KEY, key_id, at)
        return bool(status == "UPDATE 1")

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
