"""API keys: created once and shown once, stored as a SHA-256 hash.

Keys carry 256 bits of randomness, so a fast hash is the right tool (a slow
password hash protects low-entropy secrets and would cost every request).
"""

import hashlib
import secrets
import time
from collections import OrderedDict
from datetime import timedelta

import msgspec

from service.domain.errors import FieldError, ValidationFailed
from service.domain.ids import new_id
from service.domain.ports import ApiKey, Clock, Ledger

SCOPES: tuple[str, ...] = ("payments:read", "payments:write", "payouts:write", "ops")
_PREFIX_LENGTH = 12


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class NewApiKey(msgspec.Struct, frozen=True):
    key: ApiKey
    secret: str


class ApiKeyService:
    """Create, verify and revoke API keys.

    Keys are verified from an in-process cache of `cache_ttl`: a revocation (or a
    new key tried before it existed) takes effect within that time, never later.
    """

    def __init__(
        self,
        ledger: Ledger,
        clock: Clock,
        cache_ttl: timedelta = timedelta(0),
        cache_size: int = 10_000,
    ) -> None:
        self._ledger = ledger
        self._clock = clock
        self._ttl = cache_ttl.total_seconds()
        self._size = cache_size
        # secret hash -> (key or None, when it was read, monotonic seconds)
        self._cache: OrderedDict[str, tuple[ApiKey | None, float]] = OrderedDict()

    async def create(
        self,
        name: str,
        scopes: list[str],
        rate_limit_per_second: float | None = None,
        rate_limit_burst: int | None = None,
    ) -> NewApiKey:
        unknown = sorted(set(scopes) - set(SCOPES))
        if unknown or not scopes:
            raise ValidationFailed(
                f"scopes must be among {', '.join(SCOPES)}",
                [FieldError("scope", f"unknown: {', '.join(unknown) or 'none given'}")],
            )
        secret = "sk_" + secrets.token_urlsafe(32)
        key = ApiKey(
            id=new_id("key"),
            name=name,
            prefix=secret[:_PREFIX_LENGTH],
            scopes=tuple(dict.fromkeys(scopes)),
            created_at=self._clock.now(),
            rate_limit_per_second=rate_limit_per_second,
            rate_limit_burst=rate_limit_burst,
        )
        await self._ledger.create_api_key(key, hash_secret(secret))
        return NewApiKey(key, secret)

    async def verify(self, secret: str) -> ApiKey | None:
        """The live key for `secret`, or None (unknown or revoked)."""
        if not secret.startswith("sk_") or len(secret) > 200:
            return None
        digest = hash_secret(secret)
        now = time.monotonic()
        cached = self._cache.get(digest)
        if cached is not None and now - cached[1] < self._ttl:
            return cached[0]
        key = await self._ledger.find_api_key(digest)
        if key is not None and key.revoked_at is not None:
            key = None
        if self._ttl > 0:
            self._cache[digest] = (key, now)
            self._cache.move_to_end(digest)
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return key

    async def revoke(self, key_id: str) -> bool:
        """Revoke a key (effective everywhere within the cache TTL); False if unknown."""
        return await self._ledger.revoke_api_key(key_id, self._clock.now())
