"""Rows to domain structs and domain structs to query arguments."""

from datetime import UTC, datetime
from typing import Any

import asyncpg
import msgspec

from service.domain.payments import (
    CaptureMethod,
    Failure,
    NextAction,
    Operation,
    Payment,
    PaymentMethodSummary,
    PaymentStatus,
)
from service.domain.payouts import Payout, PayoutDestination, PayoutStatus
from service.domain.ports import IdempotencyCompletion, IdempotencyRecord
from service.domain.webhooks import WebhookMark, WebhookRecord, WebhookStatus

_encode = msgspec.json.encode
_OPERATIONS = msgspec.json.Decoder(list[Operation])
_METHOD = msgspec.json.Decoder(PaymentMethodSummary)
_NEXT = msgspec.json.Decoder(NextAction)
_FAILURE = msgspec.json.Decoder(Failure)
_DICT = msgspec.json.Decoder(dict[str, Any])
_DESTINATION = msgspec.json.Decoder(PayoutDestination)


def payment_from(row: asyncpg.Record) -> Payment:
    return Payment(
        id=row["id"],
        api_key_id=row["api_key_id"],
        status=PaymentStatus(row["status"]),
        provider=row["provider"],
        provider_reference=row["provider_reference"],
        capture=CaptureMethod(row["capture_method"]),
        currency=row["currency"],
        amount=row["amount"],
        amount_authorized=row["amount_authorized"],
        amount_captured=row["amount_captured"],
        amount_refunded=row["amount_refunded"],
        payment_method=_METHOD.decode(row["payment_method"]),
        customer=_DICT.decode(row["customer"]),
        description=row["description"],
        merchant_reference=row["merchant_reference"],
        metadata=_DICT.decode(row["metadata"]),
        return_url=row["return_url"],
        next_action=_NEXT.decode(row["next_action"]) if row["next_action"] else None,
        failure=_FAILURE.decode(row["failure"]) if row["failure"] else None,
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        operations=tuple(_OPERATIONS.decode(row["operations"])),
        parent_payment_id=row["parent_payment_id"],
        provider_details=_DICT.decode(row["provider_details"]),
    )


def payout_from(row: asyncpg.Record) -> Payout:
    return Payout(
        id=row["id"],
        api_key_id=row["api_key_id"],
        status=PayoutStatus(row["status"]),
        provider=row["provider"],
        provider_reference=row["provider_reference"],
        currency=row["currency"],
        amount=row["amount"],
        destination=_DESTINATION.decode(row["destination"]),
        description=row["description"],
        merchant_reference=row["merchant_reference"],
        metadata=_DICT.decode(row["metadata"]),
        failure=_FAILURE.decode(row["failure"]) if row["failure"] else None,
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        operations=tuple(_OPERATIONS.decode(row["operations"])),
    )


def webhook_from(row: asyncpg.Record) -> WebhookRecord:
    return WebhookRecord(
        id=row["id"],
        provider=row["provider"],
        event_id=row["event_id"],
        event_type=row["event_type"],
        status=WebhookStatus(row["status"]),
        payload=bytes(row["payload"]),
        delivery_try=row["delivery_try"],
        payment_id=row["payment_id"],
        detail=row["detail"],
        received_at=row["received_at"],
        processed_at=row["processed_at"],
    )


def mark_args(mark: WebhookMark) -> tuple[Any, ...]:
    return (mark.record_id, mark.status.value, mark.payment_id, mark.detail, datetime.now(UTC))


# -- rows as the jsonb objects the ledger functions take (migration 0006) -------------
# A None is left out: the functions read a missing key as SQL NULL.


def _obj(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def jsonb(value: Any) -> str | None:
    return None if value is None else _encode(value).decode()


def payment_row(p: Payment) -> dict[str, Any]:
    return _obj(
        {
            "id": p.id,
            "api_key_id": p.api_key_id,
            "status": p.status.value,
            "provider": p.provider,
            "provider_reference": p.provider_reference,
            "capture_method": p.capture.value,
            "currency": p.currency,
            "amount": p.amount,
            "amount_authorized": p.amount_authorized,
            "amount_captured": p.amount_captured,
            "amount_refunded": p.amount_refunded,
            "payment_method": p.payment_method,
            "customer": p.customer,
            "description": p.description,
            "merchant_reference": p.merchant_reference,
            "metadata": p.metadata,
            "return_url": p.return_url,
            "next_action": p.next_action,
            "failure": p.failure,
            "version": p.version,
            "created_at": p.created_at,
            "updated_at": p.updated_at,
            "parent_payment_id": p.parent_payment_id,
            "provider_details": p.provider_details,
        }
    )


def payment_changes(p: Payment) -> dict[str, Any]:
    """What a save may change of a payment (ledger_save_payment)."""
    return _obj(
        {
            "status": p.status.value,
            "provider_reference": p.provider_reference,
            "amount_authorized": p.amount_authorized,
            "amount_captured": p.amount_captured,
            "amount_refunded": p.amount_refunded,
            "next_action": p.next_action,
            "failure": p.failure,
            "payment_method": p.payment_method,
            "updated_at": p.updated_at,
            "amount": p.amount,
            "provider_details": p.provider_details,
        }
    )


def payout_row(p: Payout) -> dict[str, Any]:
    return _obj(
        {
            "id": p.id,
            "api_key_id": p.api_key_id,
            "status": p.status.value,
            "provider": p.provider,
            "provider_reference": p.provider_reference,
            "currency": p.currency,
            "amount": p.amount,
            "destination": p.destination,
            "source_payment_id": p.destination.payment_id,
            "description": p.description,
            "merchant_reference": p.merchant_reference,
            "metadata": p.metadata,
            "failure": p.failure,
            "version": p.version,
            "created_at": p.created_at,
            "updated_at": p.updated_at,
        }
    )


def payout_changes(p: Payout) -> dict[str, Any]:
    return _obj(
        {
            "status": p.status.value,
            "provider_reference": p.provider_reference,
            "failure": p.failure,
            "updated_at": p.updated_at,
        }
    )


def operation_row(op: Operation) -> dict[str, Any]:
    return _obj(
        {
            "id": op.id,
            "payment_id": op.payment_id,
            "payout_id": op.payout_id,
            "currency": op.currency,
            "type": op.type.value,
            "status": op.status.value,
            "source": op.source.value,
            "amount": op.amount,
            "provider_reference": op.provider_reference,
            "failure": op.failure,
            "reason": op.reason,
            "created_at": op.created_at,
            "resolved_at": op.resolved_at,
            "resolution_source": op.resolution_source,
            "resolved_by": op.resolved_by,
            "resolution_reason": op.resolution_reason,
        }
    )


def outcome_row(op: Operation) -> dict[str, Any]:
    """A resolved operation's outcome (ledger_resolve)."""
    return _obj(
        {
            "id": op.id,
            "status": op.status.value,
            "provider_reference": op.provider_reference,
            "failure": op.failure,
            "resolved_at": op.resolved_at,
            "amount": op.amount,
            "resolution_source": op.resolution_source,
            "resolved_by": op.resolved_by,
            "resolution_reason": op.resolution_reason,
        }
    )


def claim_row(record: IdempotencyRecord | None) -> str | None:
    if record is None:
        return None
    return jsonb(
        {
            "api_key_id": record.api_key_id,
            "key": record.key,
            "fingerprint": record.fingerprint,
            "locked_until": record.locked_until,
        }
    )


def completion_row(c: IdempotencyCompletion | None) -> tuple[str | None, bytes | None]:
    if c is None:
        return None, None
    values = {"api_key_id": c.api_key_id, "key": c.key, "status": c.status}
    return jsonb(_obj(values | {"resource_id": c.resource_id})), c.body


def event_row(mark: WebhookMark | None) -> str | None:
    if mark is None:
        return None
    return jsonb(
        _obj(
            {
                "id": mark.record_id,
                "status": mark.status.value,
                "payment_id": mark.payment_id,
                "detail": mark.detail,
                "processed_at": datetime.now(UTC),
            }
        )
    )
