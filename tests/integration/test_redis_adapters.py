"""The Redis adapters against a real Redis: the idempotency cache and the GCRA limiter."""

import asyncio

import pytest

from service.domain.ids import new_id
from service.domain.ports import CacheClaim, CacheState
from service.idempotency.store import RedisIdempotencyCache
from service.ratelimit.limiter import RedisRateLimiter
from service.resp import RespClient

LOCK_MS = 30_000
TTL_MS = 60_000


@pytest.fixture
def cache(resp_client: RespClient) -> RedisIdempotencyCache:
    return RedisIdempotencyCache(resp_client, prefix=f"{new_id('idem')}:")


@pytest.fixture
def limiter(resp_client: RespClient) -> RedisRateLimiter:
    return RedisRateLimiter(resp_client, prefix=f"{new_id('rl')}:")


# -- idempotency cache ---------------------------------------------------------------------


async def test_reserve_a_free_key_then_it_is_in_flight(cache: RedisIdempotencyCache) -> None:
    assert await cache.reserve("key_1:a", "fp-1", LOCK_MS) == CacheClaim(CacheState.RESERVED)
    again = await cache.reserve("key_1:a", "fp-2", LOCK_MS)
    assert again == CacheClaim(CacheState.IN_FLIGHT, fingerprint="fp-1")
    # Another scope is another key.
    assert (await cache.reserve("key_1:b", "fp-1", LOCK_MS)).state is CacheState.RESERVED
    assert (await cache.reserve("key_2:a", "fp-1", LOCK_MS)).state is CacheState.RESERVED


async def test_completed_key_replays_its_response(cache: RedisIdempotencyCache) -> None:
    assert (await cache.reserve("s", "fp-1", LOCK_MS)).state is CacheState.RESERVED
    await cache.complete("s", "fp-1", 201, b'{"id": "pay_1"}', TTL_MS)
    claim = await cache.reserve("s", "fp-1", LOCK_MS)
    assert claim == CacheClaim(CacheState.COMPLETED, "fp-1", 201, b'{"id": "pay_1"}')
    # A different request under the same key sees the first one's fingerprint.
    other = await cache.reserve("s", "fp-other", LOCK_MS)
    assert other.state is CacheState.COMPLETED
    assert other.fingerprint == "fp-1"


async def test_release_frees_the_key(cache: RedisIdempotencyCache) -> None:
    assert (await cache.reserve("s", "fp-1", LOCK_MS)).state is CacheState.RESERVED
    await cache.release("s")
    assert (await cache.reserve("s", "fp-2", LOCK_MS)).state is CacheState.RESERVED
    assert (await cache.reserve("s", "fp-1", LOCK_MS)).fingerprint == "fp-2"
    await cache.release("never-reserved")  # releasing a free key is harmless


async def test_in_flight_reservation_expires_after_lock_ms(cache: RedisIdempotencyCache) -> None:
    assert (await cache.reserve("s", "fp-1", 100)).state is CacheState.RESERVED
    assert (await cache.reserve("s", "fp-1", 100)).state is CacheState.IN_FLIGHT
    await asyncio.sleep(0.25)
    assert (await cache.reserve("s", "fp-1", LOCK_MS)).state is CacheState.RESERVED


async def test_completed_entry_expires_after_its_ttl(cache: RedisIdempotencyCache) -> None:
    assert (await cache.reserve("s", "fp-1", LOCK_MS)).state is CacheState.RESERVED
    await cache.complete("s", "fp-1", 200, b"{}", 100)
    assert (await cache.reserve("s", "fp-1", LOCK_MS)).state is CacheState.COMPLETED
    await asyncio.sleep(0.25)
    assert (await cache.reserve("s", "fp-1", LOCK_MS)).state is CacheState.RESERVED


async def test_concurrent_reservations_have_one_winner(cache: RedisIdempotencyCache) -> None:
    claims = await asyncio.gather(*(cache.reserve("s", f"fp-{i}", LOCK_MS) for i in range(50)))
    winners = [i for i, c in enumerate(claims) if c.state is CacheState.RESERVED]
    assert len(winners) == 1
    assert {c.fingerprint for c in claims if c.state is CacheState.IN_FLIGHT} == {
        f"fp-{winners[0]}"
    }


# -- rate limiter (GCRA) -------------------------------------------------------------------


async def test_fresh_key_allows_exactly_burst_then_denies(limiter: RedisRateLimiter) -> None:
    decisions = [await limiter.hit("k", 1, 5) for _ in range(5)]
    assert all(d.allowed for d in decisions)
    assert [d.remaining for d in decisions] == [4, 3, 2, 1, 0]
    assert all(d.limit == 5 and d.retry_after_seconds == 0 for d in decisions)
    assert decisions[-1].reset_seconds >= 1

    denied = await limiter.hit("k", 1, 5)
    assert not denied.allowed
    assert denied.remaining == 0
    assert denied.limit == 5
    assert denied.retry_after_seconds >= 1
    assert not (await limiter.hit("k", 1, 5)).allowed


async def test_tokens_come_back_with_time(limiter: RedisRateLimiter) -> None:
    assert [(await limiter.hit("k", 20, 2)).allowed for _ in range(3)] == [True, True, False]
    await asyncio.sleep(0.12)  # 20/s: one token every 50 ms
    back = await limiter.hit("k", 20, 2)
    assert back.allowed
    assert back.remaining >= 0


async def test_retry_after_is_at_least_one_second_at_high_rates(
    limiter: RedisRateLimiter,
) -> None:
    assert (await limiter.hit("k", 1000, 1)).allowed
    denied = await limiter.hit("k", 1000, 1)
    if not denied.allowed:  # 1 ms later the token may already be back
        assert denied.retry_after_seconds == 1


async def test_keys_are_independent(limiter: RedisRateLimiter) -> None:
    assert [(await limiter.hit("a", 0.01, 2)).allowed for _ in range(3)] == [True, True, False]
    b = await limiter.hit("b", 0.01, 2)
    assert b.allowed
    assert b.remaining == 1


async def test_limiters_with_other_prefixes_do_not_share_keys(resp_client: RespClient) -> None:
    one = RedisRateLimiter(resp_client, prefix=f"{new_id('rl')}:")
    two = RedisRateLimiter(resp_client, prefix=f"{new_id('rl')}:")
    assert (await one.hit("k", 0.01, 1)).allowed
    assert not (await one.hit("k", 0.01, 1)).allowed
    assert (await two.hit("k", 0.01, 1)).allowed


async def test_concurrent_hits_are_atomic(resp_client: RespClient) -> None:
    # 200 requests at once over the client's two pipelined connections.
    limiter = RedisRateLimiter(resp_client, prefix=f"{new_id('rl')}:")
    decisions = await asyncio.gather(*(limiter.hit("k", 0.001, 50) for _ in range(200)))
    assert sum(d.allowed for d in decisions) == 50
    assert sorted(d.remaining for d in decisions if d.allowed) == list(range(50))
    assert all(d.retry_after_seconds >= 1 for d in decisions if not d.allowed)
