"""API keys: created once and shown once, stored as a SHA-256 hash.

Keys carry 256 bits of randomness, so a fast hash is the right tool (a slow
password hash protects low-entropy secrets and would cost every request).
"""

import hashlib
import secrets

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
    def __init__(self, ledger: Ledger, clock: Clock) -> None:
        self._ledger = ledger
        self._clock = clock

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
        key = await self._ledger.find_api_key(hash_secret(secret))
        if key is None or key.revoked_at is not None:
            return None
        return key
