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
from service.domain.webhooks import WebhookMark, WebhookRecord, WebhookStatus

_encode = msgspec.json.encode
_OPERATIONS = msgspec.json.Decoder(list[Operation])
_METHOD = msgspec.json.Decoder(PaymentMethodSummary)
_NEXT = msgspec.json.Decoder(NextAction)
_FAILURE = msgspec.json.Decoder(Failure)
_DICT = msgspec.json.Decoder(dict[str, Any])
_DESTINATION = msgspec.json.Decoder(PayoutDestination)


def to_json(value: msgspec.Struct | dict[str, Any] | None) -> str | None:
    return None if value is None else _encode(value).decode()


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


def operation_args(op: Operation) -> tuple[Any, ...]:
    return (
        op.id,
        op.payment_id,
        op.payout_id,
        op.currency,
        op.type.value,
        op.status.value,
        op.source.value,
        op.amount,
        op.provider_reference,
        to_json(op.failure),
        op.reason,
        op.created_at,
        op.resolved_at,
    )
