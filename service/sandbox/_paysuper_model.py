"""The records of the PaySuper sandbox: orders, refunds and tokens."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ._paysuper_cards import CardRecord
from ._paysuper_input import PaySuperError
from ._paysuper_parse import OrderInput

ZERO_TIME_SECONDS = -62135596800  # 0001-01-01T00:00:00Z: Go's zero time, "never"
_NANOS = 1_000_000_000


def now_ns() -> int:
    """Return the current time in nanoseconds since the epoch."""
    return time.time_ns()


def timestamp(at_ns: int | None) -> dict[str, int]:
    """Render a protobuf-style time: ``{seconds, nanos}``, ``{seconds: -62135596800}`` if never."""
    if at_ns is None:
        return {"seconds": ZERO_TIME_SECONDS}
    return {"seconds": at_ns // _NANOS, "nanos": at_ns % _NANOS}


@dataclass(frozen=True, slots=True)
class Refund:
    amount: Decimal
    reason: str
    receipt_number: str
    at_ns: int


@dataclass(slots=True)
class Order:
    """One order and everything that happened to it."""

    id: str
    transaction: str
    data: OrderInput
    amount: Decimal
    currency: str  # as the merchant sent it (uppercase); the Order object writes lowercase
    description: str
    user_id: str
    receipt_id: str
    receipt_url: str
    created_ns: int
    token: str | None = None
    status: str = "created"
    card: CardRecord | None = None
    canceled_ns: int | None = None
    cancellation: dict[str, str] | None = None
    chargeback_ns: int | None = None
    refunds: list[Refund] = field(default_factory=list)

    @property
    def refunded_total(self) -> Decimal:
        return sum((refund.amount for refund in self.refunds), Decimal("0.00"))

    def redirect_url(self) -> str | None:
        """Where the form sends the customer now: url_success once paid, url_fail if not."""
        name = "url_success" if self.status == "processed" else "url_fail"
        return self.data.text(name)


@dataclass(slots=True)
class Token:
    """An issued token: the order-body fields it stands for and its order, once opened."""

    value: str
    order_fields: Mapping[str, Any]
    metadata: Mapping[str, str]
    order_id: str | None = None


def not_allowed(order: Order, action: str) -> PaySuperError:
    """Build the 409 of an action the order's status does not allow."""
    return PaySuperError(
        409, "order_status_invalid", f"Order status '{order.status}' does not allow {action}"
    )
