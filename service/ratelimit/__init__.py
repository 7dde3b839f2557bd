"""Per-key rate limits, atomic in Redis."""

from service.ratelimit.limiter import RedisRateLimiter

__all__ = ["RedisRateLimiter"]
