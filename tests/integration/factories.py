"""Builders of domain values for the integration tests: every id is fresh."""

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from service.domain.ids import new_id
from service.domain.payments import (
    CaptureMethod,
    CardSummary,
    Operation,
    OperationSource,
    OperationStatus,
    OperationType,
    Payment,
    PaymentMethodSummary,
    PaymentMethodType,
    PaymentStatus,
)
from service.domain.ports import ApiKey, IdempotencyRecord, IdempotencyState, Ledger

CARD = PaymentMethodSummary(
    type=PaymentMethodType.CARD,
    card=CardSummary(first6="411111", last4="1111", brand="visa", exp_month=12, exp_year=2030),
)


def now() -> datetime:
    """The current time at PostgreSQL's precision (microseconds, UTC)."""
    return datetime.now(UTC)


def unique(prefix: str = "t") -> str:
    return new_id(prefix)


def api_key(**overrides: Any) -> ApiKey:
    values: dict[str, Any] = {
        "id": new_id("key"),
        "name": "integration",
        "prefix": "sk_test_1234",
        "scopes": ("payments:read", "payments:write"),
        "created_at": now(),
    }
    values.update(overrides)
    return ApiKey(**values)


def secret_hash() -> str:
    return hashlib.sha256(new_id("secret").encode()).hexdigest()


async def insert_api_key(ledger: Ledger, **overrides: Any) -> ApiKey:
    """Insert an API key (payments and idempotency rows reference one)."""
    key = api_key(**overrides)
    await ledger.create_api_key(key, secret_hash())
    return key


def payment(api_key_id: str, **overrides: Any) -> Payment:
    at = overrides.pop("created_at", None) or now()
    values: dict[str, Any] = {
        "id": new_id("pay"),
        "api_key_id": api_key_id,
        "status": PaymentStatus.PROCESSING,
        "amount": 1000,
        "currency": "EUR",
        "capture": CaptureMethod.MANUAL,
        "provider": "bizon",
        "payment_method": CARD,
        "created_at": at,
        "updated_at": at,
    }
    values.update(overrides)
    return Payment(**values)


def operation(pay: Payment, **overrides: Any) -> Operation:
    values: dict[str, Any] = {
        "id": new_id("op"),
        "payment_id": pay.id,
        "type": OperationType.AUTHORIZE,
        "status": OperationStatus.PENDING,
        "amount": pay.amount,
        "currency": pay.currency,
        "created_at": now(),
        "source": OperationSource.API,
    }
    values.update(overrides)
    return Operation(**values)


def resolved(op: Operation, status: OperationStatus = OperationStatus.SUCCEEDED) -> Operation:
    return msgspec.structs.replace(
        op, status=status, provider_reference=f"ref-{op.id}", resolved_at=now()
    )


async def created_payment(
    ledger: Ledger, api_key_id: str, idempotency: tuple[str, str] | None = None, **overrides: Any
) -> tuple[Payment, Operation]:
    """A payment stored with its first (pending authorize) operation, as read back."""
    pay = payment(api_key_id, **overrides)
    first = operation(pay)
    await ledger.create_payment(pay, first, idempotency)
    stored = await ledger.get_payment(pay.id)
    assert stored is not None
    return stored, first


async def authorized_payment(ledger: Ledger, api_key_id: str, **overrides: Any) -> Payment:
    """A payment whose authorize succeeded, saved through the ledger."""
    before, first = await created_payment(ledger, api_key_id, **overrides)
    after = msgspec.structs.replace(
        before, status=PaymentStatus.AUTHORIZED, amount_authorized=before.amount
    )
    assert await ledger.save(before, after, resolve=[resolved(first)])
    stored = await ledger.get_payment(before.id)
    assert stored is not None
    return stored


def idempotency_record(
    api_key_id: str,
    key: str | None = None,
    fingerprint: str = "fp-1",
    locked_for: timedelta = timedelta(seconds=30),
) -> IdempotencyRecord:
    return IdempotencyRecord(
        api_key_id=api_key_id,
        key=key or new_id("idem"),
        fingerprint=fingerprint,
        state=IdempotencyState.IN_FLIGHT,
        locked_until=now() + locked_for,
    )


async def insert_claim(ledger: Any, record: IdempotencyRecord) -> None:
    """An idempotency record as a request's first write leaves it, without a resource."""
    async with ledger._pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO idempotency_keys (api_key_id, key, fingerprint, state, locked_until)"
            " VALUES ($1, $2, $3, 'in_flight', $4)",
            record.api_key_id,
            record.key,
            record.fingerprint,
            record.locked_until,
        )
