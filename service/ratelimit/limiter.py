"""An atomic token bucket in Redis (GCRA, one Lua call per request)."""

from service.domain.errors import DependencyUnavailable
from service.domain.ports import RateDecision
from service.redis_scripts import GCRA, rate_decision
from service.resp import RedisReplyError, RedisUnavailable, RespClient, Script

_HIT = Script(GCRA + "return gcra(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]))")


class RedisRateLimiter:
    def __init__(self, client: RespClient, prefix: str = "rl:") -> None:
        self._redis = client
        self._prefix = prefix

    async def hit(self, key: str, per_second: float, burst: int) -> RateDecision:
        try:
            reply = await self._redis.run(_HIT, [self._prefix + key], [burst, per_second])
        except (RedisUnavailable, RedisReplyError) as exc:
            raise DependencyUnavailable(f"Redis is unavailable: {exc}") from exc
        return rate_decision(reply, burst)
