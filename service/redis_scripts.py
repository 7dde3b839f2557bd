"""Lua shared by the Redis adapters (rate limits, idempotency keys).

The rate limit is a GCRA token bucket: one number per key, the theoretical
arrival time, decided with Redis' own clock inside the script, so replicas with
skewed clocks still share one exact limit. It is a Lua function so that a
money-moving request can take its token and reserve its idempotency key in one
round trip (`service.idempotency`), and any other request just its token
(`service.ratelimit`).
"""

import math

from service.domain.ports import RateDecision

GCRA = """
local function gcra(key, burst, per_second)
  local interval = 1 / per_second
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
  return {1, math.floor((now - allow_at) / interval), '0', tostring(new_tat - now)}
end
"""


def rate_decision(reply: list[object], burst: int) -> RateDecision:
    """The first four values a `gcra` call returned, as a decision."""
    allowed, remaining, retry, reset = reply[:4]
    return RateDecision(
        allowed=bool(allowed),
        limit=burst,
        remaining=max(0, int(str(remaining))),
        reset_seconds=max(0, math.ceil(float(_text(reset)))),
        retry_after_seconds=max(1, math.ceil(float(_text(retry)))) if not allowed else 0,
    )


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
