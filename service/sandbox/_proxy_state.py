"""The in-memory account of the Proxy-Solutions sandbox: balance, orders and invoices.

Every method is synchronous and awaits nothing, so on one event loop each call reads and
writes the state atomically. A payment (from the balance, or an invoice once paid) extends
its order: ``paid_until = max(paid_until, now) + days`` (fractional days for an ``amount``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from ._proxy_catalogue import ORDER_SEEDS
from ._proxy_input import ProxyError, not_found, validation

SECONDS_PER_DAY = 86_400
CENT = Decimal("0.01")
MAX_BALANCE = Decimal(10) ** 12
INSUFFICIENT_FUNDS = "Insufficient funds on the balance."
ORDER_NOT_FOUND = "Order not found."


def parse_balance(text: object) -> Decimal | None:
    """A balance: a decimal string, 0 <= x <= 10**12, at most 2 decimals (else ``None``)."""
    if not isinstance(text, str):
        return None
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    if not value.is_finite() or not 0 <= value <= MAX_BALANCE or value != value.quantize(CENT):
        return None
    return abs(value.quantize(CENT))  # abs: "-0" is 0.00


def now() -> datetime:
    return datetime.now(UTC)


def iso(at: datetime | None) -> str | None:
    """ISO 8601 in UTC, to the microsecond (``None`` stays ``None``)."""
    return None if at is None else at.isoformat(timespec="microseconds")


@dataclass(frozen=True, slots=True)
class Payment:
    """A priced payment for an order, not applied yet."""

    order_id: int
    merchant: str
    currency: str
    discount: Decimal  # percent
    amount_usd: Decimal  # before the discount
    payer_amount: Decimal  # after the discount, in ``currency``
    days: Decimal  # how far the order is extended

    @property
    def duration(self) -> timedelta:
        seconds = (self.days * SECONDS_PER_DAY).to_integral_value(rounding=ROUND_HALF_UP)
        return timedelta(seconds=int(seconds))


@dataclass(frozen=True, slots=True)
class Charge:
    """A payment applied to an order."""

    payment: Payment
    invoice_id: str | None
    at: datetime
    paid_until: datetime  # the order's new end


@dataclass(slots=True)
class Order:
    id: int
    price_30d: Decimal
    paid_until: datetime
    charges: list[Charge] = field(default_factory=list)

    def status(self, at: datetime) -> str:
        return "active" if self.paid_until > at else "expired"


@dataclass(slots=True)
class Invoice:
    id: str
    payment: Payment
    url: str
    created_at: datetime
    paid_at: datetime | None = None

    @property
    def status(self) -> str:
        return "unpaid" if self.paid_at is None else "paid"


class ProxyState:
    """The balance, the catalogue's orders and the invoices of one sandbox instance."""

    def __init__(self, balance: Decimal, public_url: str) -> None:
        self._initial_balance = balance.quantize(CENT)
        self._public_url = public_url
        self.balance = balance
        self.orders: dict[int, Order] = {}
        self.invoices: dict[str, Invoice] = {}
        self.reset()

    def reset(self) -> None:
        """Back to the configured balance, the catalogue's orders (from now), no invoices."""
        start = now()
        self.balance = self._initial_balance
        self.orders = {
            seed.id: Order(seed.id, seed.price_30d, start + seed.paid_for) for seed in ORDER_SEEDS
        }
        self.invoices.clear()

    def order(self, order_id: int | None) -> Order:
        """Return an order or raise the 404."""
        found = None if order_id is None else self.orders.get(order_id)
        if found is None:
            raise not_found(ORDER_NOT_FOUND)
        return found

    def _apply(self, payment: Payment, invoice_id: str | None) -> Charge:
        order = self.order(payment.order_id)
        at = now()
        order.paid_until = max(order.paid_until, at) + payment.duration
        charge = Charge(payment, invoice_id, at, order.paid_until)
        order.charges.append(charge)
        return charge

    def pay_from_balance(self, payment: Payment) -> Charge:
        """Draw the payment from the balance (422 and no change when it is too small)."""
        if self.balance < payment.payer_amount:
            raise validation(INSUFFICIENT_FUNDS)
        self.balance -= payment.payer_amount
        return self._apply(payment, None)

    def issue_invoice(self, payment: Payment) -> Invoice:
        """Store an unpaid invoice for the payment."""
        invoice_id = str(uuid.uuid4())
        url = f"{self._public_url}/invoice/{invoice_id}"
        invoice = Invoice(invoice_id, payment, url, now())
        self.invoices[invoice_id] = invoice
        return invoice

    def pay_invoice(self, invoice: Invoice) -> bool:
        """Mark an unpaid invoice paid and extend its order; ``False`` if it was paid."""
        if invoice.paid_at is not None:
            return False
        invoice.paid_at = self._apply(invoice.payment, invoice.id).at
        return True

    def set_balance(self, text: object) -> None:
        """Set the balance from a decimal string (400 when it is not a valid balance)."""
        balance = parse_balance(text)
        if balance is None:
            raise ProxyError(
                400,
                {"message": "balance must be a decimal string from 0 to 10**12, 2 decimals"},
            )
        self.balance = balance
