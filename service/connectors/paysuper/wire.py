"""PaySuper's JSON as paysuper.md and the supplement show it (private to the connector).

Amounts are JSON floats in major units; they are decoded straight into Decimal
from the literal text, so 0.12 stays exactly 0.12. Timestamps are protobuf
`{seconds, nanos}`; `seconds == -62135596800` is the zero time, "never".
"""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

import msgspec

ZERO_TIME: Final = -62135596800


class Timestamp(msgspec.Struct):
    seconds: int
    nanos: int = 0

    def when(self) -> datetime | None:
        if self.seconds == ZERO_TIME:
            return None
        return datetime.fromtimestamp(self.seconds + self.nanos / 1e9, tz=UTC)


class Refund(msgspec.Struct):
    amount: Decimal | None = None
    currency: str | None = None
    reason: str | None = None
    receipt_number: str | None = None


class Card(msgspec.Struct):
    first6: str | None = None
    last4: str | None = None
    expiry_month: str | None = None
    expiry_year: str | None = None
    brand: str | None = None


class Method(msgspec.Struct):
    card: Card | None = None


class Order(msgspec.Struct):
    id: str
    status: str
    amount: Decimal
    currency: str
    metadata: dict[str, Any] | None = None
    refund: Refund | None = None
    method: Method | None = None
    created_at: Timestamp | None = None
    canceled_at: Timestamp | None = None
    refunded_at: Timestamp | None = None


class Notification(msgspec.Struct):
    id: str
    event: str
    object: Order
    type: str = "notification"
    live: bool = False
    delivery_try: int | None = None
    created_at: Timestamp | None = None
    expires_at: Timestamp | None = None


class Created(msgspec.Struct):
    """The reply to POST /api/v1/order (`id`) or POST /api/v1/tokens (`token`)."""

    payment_form_url: str
    id: str | None = None
    token: str | None = None


class Error(msgspec.Struct):
    message: str = ""
    code: str = ""


ENCODER: Final = msgspec.json.Encoder(decimal_format="number")
