"""IdempotencyGuard over the real Redis cache and the real PostgreSQL ledger."""

import asyncio
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from service.domain.errors import (
    DependencyUnavailable,
    IdempotencyKeyClaimed,
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    InvalidState,
    ProviderUnreachable,
)
from service.domain.ids import new_id
from service.domain.payments import PaymentStatus
from service.domain.ports import ApiKey, CacheState, IdempotencyState
from service.idempotency.store import RedisIdempotencyCache
from service.ledger import PostgresLedger
from service.orchestration.idempotent import (
    Executed,
    IdempotencyGuard,
    StoredResponse,
    current_request,
)
from service.resp import RespClient
from tests.integration import factories as f

LOCK = timedelta(seconds=30)
TTL = timedelta(minutes=5)


class ManualClock:
    def __init__(self) -> None:
        self.at = datetime.now(UTC)

    def now(self) -> datetime:
        return self.at


class Calls:
    """An `execute` that creates a real payment carrying the request's claim, as the
    creation use case does, and counts its calls."""

    def __init__(self, ledger: PostgresLedger, api_key_id: str) -> None:
        self.ledger = ledger
        self.api_key_id = api_key_id
        self.count = 0  # executions started
        self.created = 0  # payments written
        self.raises: Exception | None = None
        self.raises_after_write: Exception | None = None
        self.started = asyncio.Event()
        self.proceed: asyncio.Event | None = None

    async def execute(self) -> Executed:
        self.count += 1
        self.started.set()
        if self.proceed is not None:
            await self.proceed.wait()
        if self.raises is not None:
            raise self.raises
        request = current_request()
        assert request is not None
        pay = f.payment(self.api_key_id)
        claim = request.claim()
        await self.ledger.create_payment(pay, f.operation(pay), claim)
        self.created += 1
        request.wrote(pay.id, claim)
        if self.raises_after_write is not None:
            raise self.raises_after_write
        return Executed(201, f'{{"id": "{pay.id}"}}'.encode(), pay.id)


async def current(resource_id: str) -> StoredResponse:
    return StoredResponse(200, f'{{"id": "{resource_id}", "current": true}}'.encode())


async def not_called(resource_id: str) -> StoredResponse:
    raise AssertionError(f"current({resource_id}) was not expected")


@pytest.fixture
async def key(ledger: PostgresLedger) -> ApiKey:
    return await f.insert_api_key(ledger)


@pytest.fixture
def cache(resp_client: RespClient) -> RedisIdempotencyCache:
    return RedisIdempotencyCache(resp_client, prefix=f"{new_id('idem')}:")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def guard(
    cache: RedisIdempotencyCache, ledger: PostgresLedger, clock: ManualClock
) -> IdempotencyGuard:
    return IdempotencyGuard(cache, ledger, clock, ttl=TTL, lock=LOCK)


@pytest.fixture
def calls(ledger: PostgresLedger, key: ApiKey) -> Calls:
    return Calls(ledger, key.id)


async def test_first_run_executes_and_stores(
    guard: IdempotencyGuard, calls: Calls, key: ApiKey, ledger: PostgresLedger, cache
) -> None:
    idem = new_id("k")
    answer = await guard.run(key.id, idem, "fp-1", calls.execute, not_called)
    assert calls.count == 1
    assert answer.status == 201
    assert answer.replayed is False

    row = await ledger.get_idempotency(key.id, idem)
    assert row is not None
    assert row.state is IdempotencyState.COMPLETED
    assert (row.response_status, row.response_body) == (201, answer.body)
    assert row.resource_id is not None
    assert row.resource_id.encode() in answer.body
    assert await ledger.get_payment(row.resource_id) is not None

    cached = await cache.reserve(f"{key.id}:{idem}", "fp-1", 1000)
    assert (cached.state, cached.response_status, cached.response_body) == (
        CacheState.COMPLETED,
        201,
        answer.body,
    )


async def test_same_key_and_request_replays(
    guard: IdempotencyGuard, calls: Calls, key: ApiKey
) -> None:
    idem = new_id("k")
    first = await guard.run(key.id, idem, "fp-1", calls.execute, not_called)
    again = await guard.run(key.id, idem, "fp-1", calls.execute, not_called)
    assert calls.count == 1
    assert again == msgspec.structs.replace(first, replayed=True)


async def test_same_key_other_request_is_refused(
    guard: IdempotencyGuard, calls: Calls, key: ApiKey
) -> None:
    idem = new_id("k")
    await guard.run(key.id, idem, "fp-1", calls.execute, not_called)
    with pytest.raises(IdempotencyKeyReused):
        await guard.run(key.id, idem, "fp-2", calls.execute, not_called)
    assert calls.count == 1


async def test_concurrent_same_key_is_in_use(
    guard: IdempotencyGuard, calls: Calls, key: ApiKey
) -> None:
    idem = new_id("k")
    calls.proceed = asyncio.Event()
    first = asyncio.create_task(guard.run(key.id, idem, "fp-1", calls.execute, not_called))
    await asyncio.wait_for(calls.started.wait(), 5)
    try:
        with pytest.raises(IdempotencyKeyInUse):
            await guard.run(key.id, idem, "fp-1", calls.execute, not_called)
        with pytest.raises(IdempotencyKeyReused):
            await guard.run(key.id, idem, "fp-2", calls.execute, not_called)
    finally:
        calls.proceed.set()
    done = await asyncio.wait_for(first, 5)
    assert calls.count == 1
    replay = await guard.run(key.id, idem, "fp-1", calls.execute, not_called)
    assert replay == msgspec.structs.replace(done, replayed=True)


async def test_a_waiting_request_replays_the_holders_answer(
    cache: RedisIdempotencyCache, ledger: PostgresLedger, clock: ManualClock, calls: Calls, key
) -> None:
    guard = IdempotencyGuard(cache, ledger, clock, ttl=TTL, lock=LOCK, wait=timedelta(seconds=5))
    idem = new_id("k")
    calls.proceed = asyncio.Event()
    first = asyncio.create_task(guard.run(key.id, idem, "fp-1", calls.execute, not_called))
    await asyncio.wait_for(calls.started.wait(), 5)
    waiting = asyncio.create_task(guard.run(key.id, idem, "fp-1", calls.execute, not_called))
    await asyncio.sleep(0.1)
    assert not waiting.done()  # it waits for the holder instead of answering 409
    with pytest.raises(IdempotencyKeyReused):  # another request is refused at once
        await guard.run(key.id, idem, "fp-2", calls.execute, not_called)
    calls.proceed.set()
    done, replay = await asyncio.wait_for(asyncio.gather(first, waiting), 5)
    assert calls.count == 1
    assert replay == msgspec.structs.replace(done, replayed=True)


async def test_a_waiting_request_runs_when_the_holder_was_refused(
    cache: RedisIdempotencyCache, ledger: PostgresLedger, clock: ManualClock, calls: Calls, key
) -> None:
    guard = IdempotencyGuard(cache, ledger, clock, ttl=TTL, lock=LOCK, wait=timedelta(seconds=5))
    idem = new_id("k")
    started, proceed = asyncio.Event(), asyncio.Event()

    async def refused() -> Executed:
        started.set()
        await proceed.wait()
        raise InvalidState("cannot")

    first = asyncio.create_task(guard.run(key.id, idem, "fp-1", refused, not_called))
    await asyncio.wait_for(started.wait(), 5)
    waiting = asyncio.create_task(guard.run(key.id, idem, "fp-1", calls.execute, not_called))
    await asyncio.sleep(0.1)
    assert not waiting.done()
    proceed.set()
    with pytest.raises(InvalidState):
        await asyncio.wait_for(first, 5)
    answer = await asyncio.wait_for(waiting, 5)  # the key was released: it runs
    assert (answer.status, answer.replayed) == (201, False)
    assert calls.count == 1


async def test_a_holder_slower_than_the_wait_is_in_use(
    cache: RedisIdempotencyCache, ledger: PostgresLedger, clock: ManualClock, calls: Calls, key
) -> None:
    guard = IdempotencyGuard(cache, ledger, clock, ttl=TTL, lock=LOCK, wait=timedelta(seconds=0.2))
    idem = new_id("k")
    calls.proceed = asyncio.Event()
    first = asyncio.create_task(guard.run(key.id, idem, "fp-1", calls.execute, not_called))
    await asyncio.wait_for(calls.started.wait(), 5)
    try:
        with pytest.raises(IdempotencyKeyInUse):
            await asyncio.wait_for(guard.run(key.id, idem, "fp-1", calls.execute, not_called), 5)
    finally:
        calls.proceed.set()
    await asyncio.wait_for(first, 5)
    assert calls.count == 1


@pytest.mark.parametrize(
    "error", [InvalidState("cannot"), ProviderUnreachable("bizon", "connect refused")]
)
async def test_refused_request_releases_the_key(
    guard: IdempotencyGuard, calls: Calls, key: ApiKey, error: Exception
) -> None:
    idem = new_id("k")
    calls.raises = error
    with pytest.raises(type(error)):
        await guard.run(key.id, idem, "fp-1", calls.execute, not_called)
    calls.raises = None
    answer = await guard.run(key.id, idem, "fp-2", calls.execute, not_called)
    assert calls.count == 2
    assert (answer.status, answer.replayed) == (201, False)


async def test_unavailable_dependency_keeps_the_key_locked(
    guard: IdempotencyGuard, calls: Calls, key: ApiKey, cache: RedisIdempotencyCache
) -> None:
    idem = new_id("k")
    # PostgreSQL went away after the payment was written, before its outcome was.
    calls.raises_after_write = DependencyUnavailable("PostgreSQL is unavailable")
    with pytest.raises(DependencyUnavailable):
        await guard.run(key.id, idem, "fp-1", calls.execute, not_called)
    calls.raises_after_write = None
    with pytest.raises(IdempotencyKeyInUse):
        await guard.run(key.id, idem, "fp-1", calls.execute, not_called)
    await cache.release(f"{key.id}:{idem}")  # Redis lost it: the ledger still holds the lock
    with pytest.raises(IdempotencyKeyInUse):
        await guard.run(key.id, idem, "fp-1", calls.execute, not_called)
    assert calls.created == 1


async def test_ledger_replays_when_redis_lost_the_entry(
    guard: IdempotencyGuard,
    calls: Calls,
    key: ApiKey,
    cache: RedisIdempotencyCache,
) -> None:
    idem = new_id("k")
    scope = f"{key.id}:{idem}"
    first = await guard.run(key.id, idem, "fp-1", calls.execute, not_called)
    await cache.release(scope)

    replay = await guard.run(key.id, idem, "fp-1", calls.execute, not_called)
    assert calls.created == 1
    assert replay == msgspec.structs.replace(first, replayed=True)
    warmed = await cache.reserve(scope, "fp-1", 1000)
    assert (warmed.state, warmed.response_body) == (CacheState.COMPLETED, first.body)

    await cache.release(scope)
    with pytest.raises(IdempotencyKeyReused):
        await guard.run(key.id, idem, "fp-2", calls.execute, not_called)
    assert calls.created == 1


async def test_live_ledger_lock_without_redis_is_in_use(
    guard: IdempotencyGuard, calls: Calls, key: ApiKey, ledger: PostgresLedger
) -> None:
    record = f.idempotency_record(key.id, fingerprint="fp-1", locked_for=LOCK)
    await f.insert_claim(ledger, record)
    with pytest.raises(IdempotencyKeyInUse):
        await guard.run(key.id, record.key, "fp-1", calls.execute, not_called)
    assert calls.created == 0


async def _died_holder(ledger: PostgresLedger, key: ApiKey, clock: ManualClock) -> tuple[str, str]:
    """An in-flight row whose lock expired after its holder created a payment."""
    record = f.idempotency_record(key.id, fingerprint="fp-1")
    record = msgspec.structs.replace(record, locked_until=clock.now() - timedelta(seconds=1))
    pay = f.payment(key.id)
    await ledger.create_payment(pay, f.operation(pay), record)
    return record.key, pay.id


async def test_dead_holder_with_a_resource_gets_its_current_state(
    guard: IdempotencyGuard, calls: Calls, key: ApiKey, ledger: PostgresLedger, clock
) -> None:
    idem, pay_id = await _died_holder(ledger, key, clock)
    answer = await guard.run(key.id, idem, "fp-1", calls.execute, current)
    assert calls.created == 0
    assert answer.replayed is True
    assert answer == StoredResponse(200, f'{{"id": "{pay_id}", "current": true}}'.encode(), True)


async def test_dead_holder_every_retry_gets_the_current_state(
    guard: IdempotencyGuard, calls: Calls, key: ApiKey, ledger: PostgresLedger, clock
) -> None:
    idem, pay_id = await _died_holder(ledger, key, clock)
    first = await guard.run(key.id, idem, "fp-1", calls.execute, current)
    # The lock has expired and nothing is in flight: a second retry must not be refused.
    second = await guard.run(key.id, idem, "fp-1", calls.execute, current)
    assert first == second
    assert pay_id.encode() in second.body
    assert calls.created == 0


async def test_dead_holder_without_a_resource_is_taken_over(
    guard: IdempotencyGuard, calls: Calls, key: ApiKey, ledger: PostgresLedger, clock
) -> None:
    record = f.idempotency_record(key.id, fingerprint="fp-1")
    record = msgspec.structs.replace(record, locked_until=clock.now() - timedelta(seconds=1))
    await f.insert_claim(ledger, record)

    answer = await guard.run(key.id, record.key, "fp-1", calls.execute, not_called)
    assert calls.created == 1
    assert (answer.status, answer.replayed) == (201, False)
    row = await ledger.get_idempotency(key.id, record.key)
    assert row is not None
    assert row.state is IdempotencyState.COMPLETED
    assert row.resource_id is not None
    assert row.resource_id.encode() in answer.body


async def test_dead_holder_of_another_request_is_refused(
    guard: IdempotencyGuard, calls: Calls, key: ApiKey, ledger: PostgresLedger, clock
) -> None:
    idem, _ = await _died_holder(ledger, key, clock)
    with pytest.raises(IdempotencyKeyReused):
        await guard.run(key.id, idem, "fp-2", calls.execute, not_called)
    assert calls.created == 0


async def test_a_refusal_after_the_first_write_releases_the_ledgers_claim_too(
    guard: IdempotencyGuard, calls: Calls, key: ApiKey, ledger: PostgresLedger
) -> None:
    idem = new_id("k")
    calls.raises_after_write = ProviderUnreachable("bizon", "connect refused")
    with pytest.raises(ProviderUnreachable):
        await guard.run(key.id, idem, "fp-1", calls.execute, not_called)
    assert await ledger.get_idempotency(key.id, idem) is None
    calls.raises_after_write = None
    answer = await guard.run(key.id, idem, "fp-1", calls.execute, not_called)
    assert (answer.status, answer.replayed, calls.count) == (201, False, 2)


async def test_a_held_key_stops_the_first_write_and_writes_nothing(
    ledger: PostgresLedger, key: ApiKey
) -> None:
    record = f.idempotency_record(key.id, fingerprint="fp-1", locked_for=LOCK)
    first = f.payment(key.id)
    await ledger.create_payment(first, f.operation(first), record)
    second = f.payment(key.id)
    with pytest.raises(IdempotencyKeyClaimed) as caught:
        await ledger.create_payment(second, f.operation(second), record)
    assert caught.value.existing.resource_id == first.id
    assert await ledger.get_payment(second.id) is None


async def test_the_response_is_stored_with_the_last_write_not_after_it(
    cache: RedisIdempotencyCache, ledger: PostgresLedger, clock: ManualClock, key: ApiKey
) -> None:
    """A request whose final write stored its answer makes no ledger write of its own."""
    writes: list[str] = []

    class Counting:
        def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
            attr = getattr(ledger, name)
            if name in ("complete_idempotency", "release_idempotency", "take_over_idempotency"):
                writes.append(name)
            return attr

    guard = IdempotencyGuard(cache, Counting(), clock, ttl=TTL, lock=LOCK)  # type: ignore[arg-type]

    async def execute() -> Executed:
        request = current_request()
        assert request is not None
        pay = f.payment(key.id)
        claim = request.claim()
        await ledger.create_payment(pay, f.operation(pay), claim)
        request.wrote(pay.id, claim)
        before = await ledger.get_payment(pay.id)
        assert before is not None
        [op] = before.operations
        done = f.resolved(op)
        after = msgspec.structs.replace(
            before,
            status=PaymentStatus.AUTHORIZED,
            amount_authorized=pay.amount,
            version=before.version + 1,
            operations=(done,),
        )
        complete = request.completion(after)
        assert complete is not None
        assert await ledger.save(before, after, [done], [], complete=complete)
        request.completed(complete, after)
        return Executed(201, render(after)[1], pay.id)

    def render(payment) -> tuple[int, bytes]:  # type: ignore[no-untyped-def]
        return 201, f'{{"id": "{payment.id}", "status": "{payment.status}"}}'.encode()

    idem = new_id("k")
    answer = await guard.run(key.id, idem, "fp-1", execute, not_called, render=render)
    assert writes == []  # no third transaction
    row = await ledger.get_idempotency(key.id, idem)
    assert row is not None
    assert (row.state, row.response_body) == (IdempotencyState.COMPLETED, answer.body)
    assert b"authorized" in answer.body
