"""Provider notifications: what an event says, and what became of it in the ledger."""

from datetime import datetime
from enum import StrEnum

import msgspec

from service.domain.money import Money
from service.domain.payments import CardSummary


class WebhookKind(StrEnum):
    PAYMENT_SUCCEEDED = "payment_succeeded"
    PAYMENT_REFUNDED = "payment_refunded"
    PAYMENT_CHARGED_BACK = "payment_charged_back"
    PAYMENT_CANCELED = "payment_canceled"
    OTHER = "other"  # an event type this service does not act on: kept, not applied


class WebhookEvent(msgspec.Struct, frozen=True, kw_only=True):
    """A verified notification, in canonical terms (amounts in minor units)."""

    event_id: str
    kind: WebhookKind
    raw_type: str
    provider_reference: str | None  # the provider's order id
    payment_id: str | None = None  # ours, when the provider echoes it back
    money: Money | None = None  # the order's amount and currency
    refund_amount: int | None = None  # this refund's amount, when the event says
    card: CardSummary | None = None
    live: bool = True
    occurred_at: datetime | None = None


class WebhookStatus(StrEnum):
    RECEIVED = "received"  # stored, not processed yet
    APPLIED = "applied"  # moved the ledger
    IGNORED = "ignored"  # nothing to do (already applied, or stale: never move backwards)
    UNMATCHED = "unmatched"  # no payment of ours: kept for operators
    MISMATCH = "mismatch"  # amount/currency/state disagree with the ledger: kept, alerted
    UNREADABLE = "unreadable"  # signed, but not something this connector can read


FINAL = frozenset(set(WebhookStatus) - {WebhookStatus.RECEIVED})


class WebhookRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    provider: str
    event_id: str
    event_type: str
    status: WebhookStatus
    received_at: datetime
    payload: bytes
    delivery_try: int | None = None
    payment_id: str | None = None
    detail: str | None = None
    processed_at: datetime | None = None


class WebhookMark(msgspec.Struct, frozen=True):
    """The outcome to record for a stored event, in the ledger's transaction."""

    record_id: str
    status: WebhookStatus
    payment_id: str | None = None
    detail: str | None = None
