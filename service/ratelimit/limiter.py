"""An atomic token bucket in Redis (GCRA, one Lua call per request)."""

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from service.domain.errors import DependencyUnavailable
from service.domain.ports import RateDecision
from service.redis_scripts import GCRA, rate_decision

_HIT = GCRA + "return gcra(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]))"


class RedisRateLimiter:
    def __init__(self, client: aioredis.Redis, prefix: str = "rl:") -> None:
        self._prefix = prefix
        self._script = client.register_script(_HIT)

    async def hit(self, key: str, per_second: float, burst: int) -> RateDecision:
        try:
            reply = await self._script(keys=[self._prefix + key], args=[burst, per_second])
        except RedisError as exc:
            raise DependencyUnavailable(f"Redis is unavailable: {type(exc).__name__}") from exc
        return rate_decision(reply, burst)
