"""Stripe-style idempotency keys: Redis as the fast path, the ledger as the guarantee.

* Same key, same request: the stored response is replayed.
* Same key, another request: `idempotency_key_reused`.
* Same key while the first is in flight: the request waits (up to `wait`) for the
  first to finish and answers as it did (or runs, if the first was refused and
  released the key); still in flight after that: `idempotency_key_in_use`.
* A request refused before anything moved (validation, state, provider refused or
  unreachable) releases the key, so nothing is stored for it.
* A holder that died mid-request leaves the key locked until its lock expires;
  then, if it had created a payment, the retry gets that payment's current state
  (it is never executed again); if it had created nothing, the retry runs.

The cost of all this on the hot path: one Redis call before the work (the
rate-limit token and the reservation together), none in the ledger of its own.
The ledger's record of the key (the claim) is written by the request's first
ledger write, in the same transaction as the payment or the pending operation;
the response to replay by its last one, in the same transaction as the outcome
(`IdempotentRequest`, held in a context variable for the duration of the
request, carries both to `OperationRunner` and the creation use cases). Only a
request whose final answer differs from what its last write stored (several
operations in one request), or that wrote nothing, completes the key in a
write of its own. Then one Redis call stores the response for replays.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import msgspec
import structlog

from service.domain.errors import (
    ConnectorError,
    DependencyUnavailable,
    DomainError,
    IdempotencyKeyClaimed,
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    RateLimitExceeded,
)
from service.domain.ports import (
    CacheClaim,
    CacheState,
    Clock,
    IdempotencyCache,
    IdempotencyCompletion,
    IdempotencyRecord,
    IdempotencyState,
    Ledger,
    RateDecision,
    RateLimit,
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


Execute = Callable[[], Awaitable[Executed]]
Current = Callable[[str], Awaitable[StoredResponse]]
# The response a request would give for a resource (a payment or a payout).
Render = Callable[[Any], tuple[int, bytes]]


@dataclass
class IdempotentRequest:
    """What the ledger writes of this request must carry (see the module docstring)."""

    record: IdempotencyRecord
    render: Render | None
    claimed: bool = False  # the ledger holds the claim (written by us, or taken over)
    resource_id: str | None = None
    stored: tuple[int, bytes] | None = None  # the response the last write completed
    stored_for: Any = None  # the resource (object) that response was rendered from

    def claim(self) -> IdempotencyRecord | None:
        """The claim to write with this request's first ledger write (None after it)."""
        return None if self.claimed else self.record

    def wrote(self, resource_id: str, claim: IdempotencyRecord | None) -> None:
        """The first write of `resource_id` went through, with `claim` if not None."""
        if claim is not None:
            self.claimed = True
            self.resource_id = resource_id

    def completion(self, resource: Any) -> IdempotencyCompletion | None:
        """The response to store with a final write of this request's own resource."""
        if self.render is None or resource.id != self.resource_id:
            return None
        status, body = self.render(resource)
        return IdempotencyCompletion(
            self.record.api_key_id,
            self.record.key,
            self.record.fingerprint,
            status,
            body,
            resource.id,
        )

    def completed(self, completion: IdempotencyCompletion, resource: Any) -> None:
        self.stored = (completion.status, completion.body)
        self.stored_for = resource

    def rendered(self, resource: Any) -> bytes | None:
        """The body already rendered for exactly this resource object, if any."""
        if self.stored is not None and self.stored_for is resource:
            return self.stored[1]
        return None


_current: ContextVar[IdempotentRequest | None] = ContextVar("idempotent_request", default=None)


def current_request() -> IdempotentRequest | None:
    """The idempotent request being executed in this task, if any."""
    return _current.get()


class IdempotencyGuard:
    def __init__(
        self,
        cache: IdempotencyCache,
        ledger: Ledger,
        clock: Clock,
        ttl: timedelta,
        lock: timedelta,
        wait: timedelta = timedelta(0),
    ) -> None:
        self._cache = cache
        self._ledger = ledger
        self._clock = clock
        self._ttl_ms = int(ttl.total_seconds() * 1000)
        self._lock = lock
        self._wait = wait.total_seconds()

    async def run(
        self,
        api_key_id: str,
        key: str,
        fingerprint: str,
        execute: Execute,
        current: Current,
        *,
        render: Render | None = None,
        limit: RateLimit | None = None,
        on_rate: Callable[[RateDecision], None] | None = None,
    ) -> StoredResponse:
        """Execute once per (API key, key); `limit` takes the rate-limit token too."""
        scope = f"{api_key_id}:{key}"
        lock_ms = int(self._lock.total_seconds() * 1000)
        claim = await self._cache.reserve(scope, fingerprint, lock_ms, limit)
        if claim.rate is not None and on_rate is not None:
            on_rate(claim.rate)
        if claim.state is CacheState.RATE_LIMITED:
            assert claim.rate is not None
            raise RateLimitExceeded(claim.rate)
        if claim.state is CacheState.IN_FLIGHT and claim.fingerprint == fingerprint:
            claim = await self._await_holder(scope, fingerprint, lock_ms, claim)
        if claim.state is not CacheState.RESERVED:
            if claim.fingerprint != fingerprint:
                raise IdempotencyKeyReused(_REUSED)
            if claim.state is CacheState.IN_FLIGHT:
                raise IdempotencyKeyInUse(_IN_USE)
            assert claim.response_status is not None
            assert claim.response_body is not None
            return StoredResponse(claim.response_status, claim.response_body, replayed=True)
        request = IdempotentRequest(
            IdempotencyRecord(
                api_key_id=api_key_id,
                key=key,
                fingerprint=fingerprint,
                state=IdempotencyState.IN_FLIGHT,
                locked_until=self._clock.now() + self._lock,
            ),
            render,
        )
        token = _current.set(request)
        try:
            return await self._execute(scope, request, execute, current)
        finally:
            _current.reset(token)

    async def _await_holder(
        self, scope: str, fingerprint: str, lock_ms: int, claim: CacheClaim
    ) -> CacheClaim:
        """Poll the reservation until its holder finishes or `wait` runs out.

        The answer is then the holder's (a replay), or ours to run (the holder was
        refused and released the key: the reservation is now this request's).
        The rate-limit token was taken by the first reserve; polls take none.
        """
        deadline = time.monotonic() + self._wait
        pause = 0.01
        while claim.state is CacheState.IN_FLIGHT and time.monotonic() < deadline:
            await asyncio.sleep(min(pause, max(0.0, deadline - time.monotonic())))
            pause = min(pause * 2, 0.2)
            claim = await self._cache.reserve(scope, fingerprint, lock_ms, None)
        return claim

    async def _execute(
        self, scope: str, request: IdempotentRequest, execute: Execute, current: Current
    ) -> StoredResponse:
        try:
            done = await execute()
        except IdempotencyKeyClaimed as exc:
            # The ledger held the key (Redis had lost it): nothing was written.
            found = exc.existing
            assert isinstance(found, IdempotencyRecord)
            replay = await self._from_ledger(scope, request.record, found, current)
            if replay is not None:
                return replay
            # Taken over (its holder died having created nothing): run it now; our
            # first write links the record, whose lock is now ours, to what it creates.
            return await self._execute(scope, request, execute, current)
        except DependencyUnavailable:
            raise  # the outcome may not be recorded yet: keep the key locked
        except (DomainError, ConnectorError):
            # Refused before any money moved: nothing is stored for this key.
            if request.claimed:
                await self._ledger.release_idempotency(
                    request.record.api_key_id, request.record.key
                )
            await self._cache.release(scope)
            raise
        except BaseException:
            if not request.claimed:  # nothing in the ledger: a retry may run at once
                await self._cache.release(scope)
            raise
        if request.stored != (done.status, done.body):
            await self._ledger.complete_idempotency(
                IdempotencyCompletion(
                    request.record.api_key_id,
                    request.record.key,
                    request.record.fingerprint,
                    done.status,
                    done.body,
                    done.resource_id,
                )
            )
        await self._cache.complete(
            scope, request.record.fingerprint, done.status, done.body, self._ttl_ms
        )
        return StoredResponse(done.status, done.body)

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


_REUSED = "this Idempotency-Key was used with a different request"
_IN_USE = "a request with this Idempotency-Key is still in progress"
