"""Stripe-style idempotency keys: Redis as the fast path, the ledger as the guarantee.

* Same key, same request: the stored response is replayed.
* Same key, another request: `idempotency_key_reused`.
* Same key while the first is in flight: `idempotency_key_in_use`.
* A request refused before anything moved (validation, state, provider refused or
  unreachable) releases the key, so nothing is stored for it.
* A holder that died mid-request leaves the key locked until its lock expires;
  then, if it had created a payment, the retry gets that payment's current state
  (it is never executed again); if it had created nothing, the retry runs.
"""

from collections.abc import Awaitable, Callable
from datetime import timedelta

import msgspec
import structlog

from service.domain.errors import (
    ConnectorError,
    DependencyUnavailable,
    DomainError,
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
)
from service.domain.ports import (
    CacheState,
    Clock,
    IdempotencyCache,
    IdempotencyRecord,
    IdempotencyState,
    Ledger,
)

log = structlog.get_logger("idempotency")


class StoredResponse(msgspec.Struct, frozen=True):
    status: int
    body: bytes
    replayed: bool = False


class Executed(msgspec.Struct, frozen=True):
    status: int
    body: bytes
    resource_id: str | None


Execute = Callable[[tuple[str, str]], Awaitable[Executed]]
Current = Callable[[str], Awaitable[StoredResponse]]


class IdempotencyGuard:
    def __init__(
        self,
        cache: IdempotencyCache,
        ledger: Ledger,
        clock: Clock,
        ttl: timedelta,
        lock: timedelta,
    ) -> None:
        self._cache = cache
        self._ledger = ledger
        self._clock = clock
        self._ttl_ms = int(ttl.total_seconds() * 1000)
        self._lock = lock

    async def run(
        self, api_key_id: str, key: str, fingerprint: str, execute: Execute, current: Current
    ) -> StoredResponse:
        scope = f"{api_key_id}:{key}"
        claim = await self._cache.reserve(
            scope, fingerprint, int(self._lock.total_seconds() * 1000)
        )
        if claim.state is not CacheState.RESERVED:
            if claim.fingerprint != fingerprint:
                raise IdempotencyKeyReused(_REUSED)
            if claim.state is CacheState.IN_FLIGHT:
                raise IdempotencyKeyInUse(_IN_USE)
            assert claim.response_status is not None
            assert claim.response_body is not None
            return StoredResponse(claim.response_status, claim.response_body, replayed=True)
        record = IdempotencyRecord(
            api_key_id=api_key_id,
            key=key,
            fingerprint=fingerprint,
            state=IdempotencyState.IN_FLIGHT,
            locked_until=self._clock.now() + self._lock,
        )
        try:
            existing = await self._ledger.claim_idempotency(record)
        except BaseException:
            await self._cache.release(scope)
            raise
        if existing is not None:
            replay = await self._from_ledger(scope, record, existing, current)
            if replay is not None:
                return replay
        return await self._execute(scope, record, execute)

    async def _from_ledger(
        self, scope: str, mine: IdempotencyRecord, found: IdempotencyRecord, current: Current
    ) -> StoredResponse | None:
        """Answer from the ledger's record (Redis had lost it); None: run it now."""
        if found.state is IdempotencyState.COMPLETED:
            assert found.response_status is not None
            assert found.response_body is not None
            await self._cache.complete(
                scope, found.fingerprint, found.response_status, found.response_body, self._ttl_ms
            )
            if found.fingerprint != mine.fingerprint:
                raise IdempotencyKeyReused(_REUSED)
            return StoredResponse(found.response_status, found.response_body, replayed=True)
        if found.fingerprint != mine.fingerprint:
            await self._cache.release(scope)
            raise IdempotencyKeyReused(_REUSED)
        now = self._clock.now()
        if found.locked_until > now:
            raise IdempotencyKeyInUse(_IN_USE)
        if found.resource_id is not None:
            # Its holder died after creating something: show it, never redo it.
            log.warning("idempotency_holder_died", scope=scope, resource_id=found.resource_id)
            await self._cache.release(scope)  # let later retries reach the ledger too
            answer = await current(found.resource_id)
            return msgspec.structs.replace(answer, replayed=True)
        if await self._ledger.take_over_idempotency(mine, now):
            log.warning("idempotency_taken_over", scope=scope)
            return None
        raise IdempotencyKeyInUse(_IN_USE)

    async def _execute(
        self, scope: str, record: IdempotencyRecord, execute: Execute
    ) -> StoredResponse:
        try:
            done = await execute((record.api_key_id, record.key))
        except DependencyUnavailable:
            raise  # the outcome may not be recorded yet: keep the key locked
        except (DomainError, ConnectorError):
            # Refused before any money moved: nothing is stored for this key.
            await self._ledger.release_idempotency(record.api_key_id, record.key)
            await self._cache.release(scope)
            raise
        await self._ledger.complete_idempotency(
            record.api_key_id, record.key, done.status, done.body, done.resource_id
        )
        await self._cache.complete(scope, record.fingerprint, done.status, done.body, self._ttl_ms)
        return StoredResponse(done.status, done.body)


_REUSED = "this Idempotency-Key was used with a different request"
_IN_USE = "a request with this Idempotency-Key is still in progress"
