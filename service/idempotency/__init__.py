"""Idempotency keys: Redis fast path (the ledger holds the guarantee)."""

from service.idempotency.store import RedisIdempotencyCache

__all__ = ["RedisIdempotencyCache"]
