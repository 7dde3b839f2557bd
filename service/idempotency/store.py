"""Idempotency keys in Redis: the fast path in front of the ledger's guarantee.

A key's value is a msgpack record: its request fingerprint, its state and, once
completed, the response to replay. A reservation is one Lua call (check and set
in one step, compatible with Redis 6 which lacks `SET NX GET`).
"""

import msgspec
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from service.domain.errors import DependencyUnavailable
from service.domain.ports import CacheClaim, CacheState

_RESERVE = """
local current = redis.call('GET', KEYS[1])
if current then return current end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false
"""


class _Entry(msgspec.Struct, array_like=True):
    state: str
    fingerprint: str
    status: int | None = None
    body: bytes | None = None


_encode = msgspec.msgpack.encode
_decode = msgspec.msgpack.Decoder(_Entry).decode


class RedisIdempotencyCache:
    def __init__(self, client: aioredis.Redis, prefix: str = "idem:") -> None:
        self._redis = client
        self._prefix = prefix
        self._reserve = client.register_script(_RESERVE)

    async def reserve(self, scope: str, fingerprint: str, lock_ms: int) -> CacheClaim:
        entry = _encode(_Entry(CacheState.IN_FLIGHT.value, fingerprint))
        try:
            current = await self._reserve(keys=[self._prefix + scope], args=[entry, lock_ms])
        except RedisError as exc:
            raise DependencyUnavailable(f"Redis is unavailable: {type(exc).__name__}") from exc
        if not current:
            return CacheClaim(CacheState.RESERVED)
        found = _decode(current)
        return CacheClaim(
            state=CacheState(found.state),
            fingerprint=found.fingerprint,
            response_status=found.status,
            response_body=found.body,
        )

    async def complete(
        self, scope: str, fingerprint: str, status: int, body: bytes, ttl_ms: int
    ) -> None:
        entry = _encode(_Entry(CacheState.COMPLETED.value, fingerprint, status, body))
        try:
            await self._redis.set(self._prefix + scope, entry, px=ttl_ms)
        except RedisError as exc:
            raise DependencyUnavailable(f"Redis is unavailable: {type(exc).__name__}") from exc

    async def release(self, scope: str) -> None:
        try:
            await self._redis.delete(self._prefix + scope)
        except RedisError as exc:
            raise DependencyUnavailable(f"Redis is unavailable: {type(exc).__name__}") from exc
