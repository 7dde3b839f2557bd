"""Payouts (OCT credits to a card): their own state, their own ledger rows."""

from datetime import datetime
from enum import StrEnum

import msgspec

from service.domain.payments import CardSummary, Failure, Operation


class PayoutStatus(StrEnum):
    PROCESSING = "processing"  # sent, outcome not known yet
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    NEEDS_ATTENTION = "needs_attention"  # in doubt, handed to operators (a sync still settles it)


class PayoutDestination(msgspec.Struct, frozen=True):
    type: str  # "payment": the card of a past payment; "card": a card number
    payment_id: str | None = None
    card: CardSummary | None = None


class Payout(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    status: PayoutStatus
    amount: int
    currency: str
    provider: str
    destination: PayoutDestination
    api_key_id: str
    created_at: datetime
    updated_at: datetime
    provider_reference: str | None = None
    failure: Failure | None = None
    description: str | None = None
    merchant_reference: str | None = None
    metadata: dict[str, str] = {}
    version: int = 0
    operations: tuple[Operation, ...] = ()
