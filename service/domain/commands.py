"""What the orchestration asks a connector to do, in provider-neutral terms."""

from datetime import datetime

import msgspec

from service.domain.money import Money
from service.domain.payments import CaptureMethod, PaymentMethodType


class CardDetails(msgspec.Struct, frozen=True):
    number: str
    cvv: str | None
    exp_month: int
    exp_year: int
    holder: str | None = None

    def __repr__(self) -> str:
        # PAN and CVV must never reach a log line, even through a stray repr().
        return f"CardDetails(number='{self.number[:6]}…{self.number[-4:]}', cvv='***')"

    __str__ = __repr__


class Customer(msgspec.Struct, frozen=True):
    email: str | None = None
    ip: str | None = None
    name: str | None = None
    phone: str | None = None
    address: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None


class Authorize(msgspec.Struct, frozen=True):
    payment_id: str
    operation_id: str
    money: Money
    capture: CaptureMethod
    method: PaymentMethodType
    card: CardDetails | None = None
    customer: Customer = Customer()
    description: str | None = None
    return_url: str | None = None
    provider_options: object | None = None


class Capture(msgspec.Struct, frozen=True):
    payment_id: str
    operation_id: str
    provider_reference: str
    money: Money
    full: bool


class Void(msgspec.Struct, frozen=True):
    payment_id: str
    operation_id: str
    provider_reference: str
    money: Money


class Refund(msgspec.Struct, frozen=True):
    payment_id: str
    operation_id: str
    provider_reference: str
    money: Money
    full: bool
    reason: str | None = None


class Sync(msgspec.Struct, frozen=True):
    payment_id: str
    provider_reference: str | None
    currency: str
    since: datetime | None = None
