"""Idempotency keys in Redis: the fast path in front of the ledger's guarantee.

A key's value is a msgpack record: its request fingerprint, its state and, once
completed, the response to replay. A reservation is one Lua call (check and set
in one step, compatible with Redis 6 which lacks `SET NX GET`).
"""

import msgspec

from service.domain.errors import DependencyUnavailable
from service.domain.ports import CacheClaim, CacheState, RateLimit
from service.redis_scripts import GCRA, rate_decision
from service.resp import RedisReplyError, RedisUnavailable, RespClient, Script

_RESERVE = Script("""
local current = redis.call('GET', KEYS[1])
if current then return current end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false
""")

# The rate-limit token and the reservation in one call: a money-moving request
# makes one Redis round trip before the provider call.
GATE = Script(
    GCRA
    + """
local d = gcra(KEYS[2], tonumber(ARGV[3]), tonumber(ARGV[4]))
if d[1] == 0 then return {d[1], d[2], d[3], d[4], false} end
local current = redis.call('GET', KEYS[1])
if current then return {d[1], d[2], d[3], d[4], current} end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return {d[1], d[2], d[3], d[4], false}
"""
)


class _Entry(msgspec.Struct, array_like=True):
    state: str
    fingerprint: str
    status: int | None = None
    body: bytes | None = None


_REDIS_DOWN = (RedisUnavailable, RedisReplyError)
_encode = msgspec.msgpack.encode
_decode = msgspec.msgpack.Decoder(_Entry).decode


class RedisIdempotencyCache:
    def __init__(self, client: RespClient, prefix: str = "idem:", rate_prefix: str = "rl:") -> None:
        self._redis = client
        self._prefix = prefix
        self._rate_prefix = rate_prefix  # the rate limiter's buckets (service.ratelimit)

    async def reserve(
        self, scope: str, fingerprint: str, lock_ms: int, limit: RateLimit | None = None
    ) -> CacheClaim:
        entry = _encode(_Entry(CacheState.IN_FLIGHT.value, fingerprint))
        key = self._prefix + scope
        rate = None
        try:
            if limit is None:
                current = await self._redis.run(_RESERVE, [key], [entry, lock_ms])
            else:
                reply = await self._redis.run(
                    GATE,
                    [key, self._rate_prefix + limit.key],
                    [entry, lock_ms, limit.burst, limit.per_second],
                )
                rate = rate_decision(reply, limit.burst)
                current = reply[4]
        except _REDIS_DOWN as exc:
            raise DependencyUnavailable(f"Redis is unavailable: {exc}") from exc
        if rate is not None and not rate.allowed:
            return CacheClaim(CacheState.RATE_LIMITED, rate=rate)
        if not current:
            return CacheClaim(CacheState.RESERVED, rate=rate)
        found = _decode(current)
        return CacheClaim(
            state=CacheState(found.state),
            fingerprint=found.fingerprint,
            response_status=found.status,
            response_body=found.body,
            rate=rate,
        )

    async def complete(
        self, scope: str, fingerprint: str, status: int, body: bytes, ttl_ms: int
    ) -> None:
        entry = _encode(_Entry(CacheState.COMPLETED.value, fingerprint, status, body))
        try:
            await self._redis.execute("SET", self._prefix + scope, entry, "PX", ttl_ms)
        except _REDIS_DOWN as exc:
            raise DependencyUnavailable(f"Redis is unavailable: {exc}") from exc

    async def release(self, scope: str) -> None:
        try:
            await self._redis.execute("DEL", self._prefix + scope)
        except _REDIS_DOWN as exc:
            raise DependencyUnavailable(f"Redis is unavailable: {exc}") from exc
