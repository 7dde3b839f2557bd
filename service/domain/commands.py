"""What the orchestration asks a connector to do, in provider-neutral terms."""

from datetime import datetime
from typing import Any

import msgspec

from service.domain.money import Money
from service.domain.payments import CaptureMethod, PaymentMethodType


class ThreeDSData(msgspec.Struct, frozen=True):
    """3-D Secure results obtained by the merchant elsewhere (its own MPI)."""

    cavv: str | None = None
    eci: str | None = None
    xid: str | None = None
    ds_trans_id: str | None = None


class CardDetails(msgspec.Struct, frozen=True):
    number: str
    cvv: str | None
    exp_month: int | None
    exp_year: int | None
    holder: str | None = None
    three_d_secure: ThreeDSData | None = None

    def __repr__(self) -> str:
        # PAN and CVV must never reach a log line, even through a stray repr().
        return f"CardDetails(number='{self.number[:6]}…{self.number[-4:]}', cvv='***')"

    __str__ = __repr__


class WalletToken(msgspec.Struct, frozen=True):
    type: str  # "apple_pay" | "google_pay"
    token: str

    def __repr__(self) -> str:
        return f"WalletToken(type={self.type!r}, token='***')"

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
    wallet: WalletToken | None = None
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


class Authenticate(msgspec.Struct, frozen=True):
    """Finish a 3-D Secure step; exactly one of pares, cres, resume."""

    payment_id: str
    provider_reference: str
    money: Money
    pares: str | None = None
    cres: str | None = None
    resume: bool = False


class RecurringDetails(msgspec.Struct, frozen=True):
    trace_id: str | None = None
    indicator: str | None = None


class Rebill(msgspec.Struct, frozen=True):
    """A new payment on the stored credential of a past one."""

    payment_id: str
    operation_id: str
    parent_reference: str
    money: Money
    cvv: str | None = None
    customer: Customer = Customer()
    description: str | None = None
    recurring: RecurringDetails | None = None


class Credit(msgspec.Struct, frozen=True):
    """An OCT payout: to the card of a past payment, or to a card number."""

    payout_id: str
    operation_id: str
    money: Money
    source_reference: str | None = None
    card: CardDetails | None = None
    customer: Customer = Customer()
    description: str | None = None


class Sync(msgspec.Struct, frozen=True):
    payment_id: str
    provider_reference: str | None
    currency: str
    since: datetime | None = None
    # What the payment recorded of its request, for providers whose only way to learn
    # an outcome is to confirm again (Send2Sell's pay-once billing call).
    details: dict[str, Any] = {}


class PayOrder(msgspec.Struct, frozen=True):
    """Pay a vendor order whose price the provider sets (invoice, balance, credits)."""

    payment_id: str
    operation_id: str
    method: PaymentMethodType
    requested_amount: int | None = None  # an amount asked for, when the caller gives one
    requested_currency: str | None = None
    customer: Customer = Customer()
    description: str | None = None
    return_url: str | None = None
    provider_options: object | None = None
