"""An atomic token bucket in Redis (GCRA, one Lua call per request).

The generic cell rate algorithm keeps one number per key, the theoretical
arrival time, and decides with Redis' own clock inside the script, so replicas
of the service with skewed clocks still share one exact limit.
"""

import math

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from service.domain.errors import DependencyUnavailable
from service.domain.ports import RateDecision

_GCRA = """
local key = KEYS[1]
local burst = tonumber(ARGV[1])
local interval = 1 / tonumber(ARGV[2])
local t = redis.call('TIME')
local now = (t[1] - 1700000000) + t[2] / 1000000
local tat = tonumber(redis.call('GET', key) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - burst * interval
if now < allow_at then
  return {0, 0, tostring(allow_at - now), tostring(tat - now)}
end
redis.call('SET', key, tostring(new_tat), 'PX', math.ceil((new_tat - now) * 1000) + 1)
local remaining = math.floor((now - allow_at) / interval)
return {1, remaining, '0', tostring(new_tat - now)}
"""


class RedisRateLimiter:
    def __init__(self, client: aioredis.Redis, prefix: str = "rl:") -> None:
        self._prefix = prefix
        self._script = client.register_script(_GCRA)

    async def hit(self, key: str, per_second: float, burst: int) -> RateDecision:
        try:
            allowed, remaining, retry, reset = await self._script(
                keys=[self._prefix + key], args=[burst, per_second]
            )
        except RedisError as exc:
            raise DependencyUnavailable(f"Redis is unavailable: {type(exc).__name__}") from exc
        return RateDecision(
            allowed=bool(allowed),
            limit=burst,
            remaining=max(0, int(remaining)),
            reset_seconds=max(0, math.ceil(float(reset))),
            retry_after_seconds=max(1, math.ceil(float(retry))) if not allowed else 0,
        )
