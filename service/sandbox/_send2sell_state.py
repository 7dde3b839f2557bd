"""The in-memory account of the Send2Sell sandbox: the prepaid credits and the orders.

Every method is synchronous and awaits nothing, so on one event loop each call reads and
writes the state atomically: two concurrent billing requests for one order cannot both pay
it. Money is ``Decimal``, rounded half-up to cents.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from ._send2sell_input import ApiError, control_error

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_AMOUNT = Decimal(10) ** 12
MAX_ORDER_ID = 10**18 - 1
PAID = "Paid"
PENDING = "Payment Pending"
# Times of orders are written in the doc's offset (UTC-06:00, US Central Standard Time).
ORDER_TZ = timezone(timedelta(hours=-6))
NOT_AUTHORIZED = "You are not authorized to access this order."
NO_PRODUCTS = "No cart or products linked to this order."
NO_PAYMENT = "This order does not allow payment. Please contact us."
MODEL_NOT_FOUND = "No query results for model [App\\Models\\Order] {id}"

Billing = dict[str, str | None]


def money(amount: Decimal) -> Decimal:
    """Round to cents, half-up (``-0`` becomes ``0.00``)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP) + ZERO


def parse_amount(value: object) -> Decimal | None:
    """An amount: a decimal string or a JSON number, 0..10**12, at most 2 decimals."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        return None
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        return None
    if not amount.is_finite() or not 0 <= amount <= MAX_AMOUNT or amount != money(amount):
        return None
    return money(amount)


def now() -> datetime:
    return datetime.now(UTC)


def iso(at: datetime) -> str:
    """ISO 8601 in UTC, to the microsecond (request log, payment attempts)."""
    return at.isoformat(timespec="microseconds")


def order_time(at: datetime) -> str:
    """An order's ``created_at``: to the second, with the -06:00 offset."""
    return at.astimezone(ORDER_TZ).isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class OrderSeed:
    """One order of the fixed catalogue."""

    id: int
    created_at: str
    cost: str
    tax: str = "0"
    discount: str = "0"
    coupon_name: str = ""
    other_user: bool = False
    has_products: bool = True
    locked: bool = False


CATALOGUE = (
    OrderSeed(370562, "2020-11-04T14:27:31-06:00", "69", tax="5.69"),
    OrderSeed(
        370563, "2020-11-04T15:02:10-06:00", "120.50", "8.04", "20.50", coupon_name="WELCOME20"
    ),
    OrderSeed(370564, "2020-11-05T09:12:44-06:00", "15"),
    OrderSeed(370565, "2020-11-05T10:30:00-06:00", "25", "2.06", other_user=True),
    OrderSeed(370566, "2020-11-05T11:45:19-06:00", "0", has_products=False),
    OrderSeed(370567, "2020-11-06T08:05:53-06:00", "49.99", "4.12", locked=True),
    OrderSeed(370568, "2020-11-06T16:40:27-06:00", "500", "41.25"),
)


@dataclass(frozen=True, slots=True)
class Attempt:
    """One billing request that reached the order's checks (after validation).

    ``status_code`` is the API's answer (200, 402 or 403) before any injected fault.
    """

    at: datetime
    status_code: int
    outcome: str  # "paid" | "payment_required" | "refused"
    message: str | None
    credits_needed: Decimal
    consumed_credits: Decimal
    credits_after: Decimal


@dataclass(slots=True)
class Order:
    id: int
    created_at: datetime
    cost: Decimal
    tax: Decimal
    discount: Decimal
    coupon_name: str = ""
    other_user: bool = False
    has_products: bool = True
    locked: bool = False
    status: str = PENDING
    consumed_credits: Decimal = ZERO
    billing: Billing | None = None
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def paid(self) -> bool:
        return self.status == PAID

    @property
    def credits_needed(self) -> Decimal:
        """Credits still needed: cost - discount (tax is not charged in credits)."""
        return ZERO if self.paid else money(self.cost - self.discount)

    @property
    def total(self) -> Decimal:
        """What is still due: cost - discount + tax (0 once paid: the tax is waived)."""
        return ZERO if self.paid else money(self.cost - self.discount + self.tax)

    @property
    def tax_due(self) -> Decimal:
        return ZERO if self.paid else self.tax

    def refusal(self) -> str | None:
        """The 403 message refusing a payment, in the order of precedence."""
        if self.other_user:
            return NOT_AUTHORIZED
        if not self.has_products:
            return NO_PRODUCTS
        if self.paid or self.locked:
            return NO_PAYMENT
        return None


def _seeded(seed: OrderSeed) -> Order:
    return Order(
        id=seed.id,
        created_at=datetime.fromisoformat(seed.created_at),
        cost=money(Decimal(seed.cost)),
        tax=money(Decimal(seed.tax)),
        discount=money(Decimal(seed.discount)),
        coupon_name=seed.coupon_name,
        other_user=seed.other_user,
        has_products=seed.has_products,
        locked=seed.locked,
    )


class Send2SellState:
    """The API user's credits and every order (the catalogue's and those created later)."""

    def __init__(self, credits: Decimal) -> None:
        self._initial_credits = money(credits)
        self.credits = self._initial_credits
        self.orders: dict[int, Order] = {}
        self.reset()

    def reset(self) -> None:
        """Back to the configured credits and the catalogue's orders, all Payment Pending."""
        self.credits = self._initial_credits
        self.orders = {seed.id: _seeded(seed) for seed in CATALOGUE}

    def find(self, order_id: int | None, raw_id: str) -> Order:
        """Return an order or raise the API's 404 (Laravel's model-not-found message)."""
        order = None if order_id is None else self.orders.get(order_id)
        if order is None:
            raise ApiError(404, {"message": MODEL_NOT_FOUND.format(id=raw_id)})
        return order

    def pay(self, order: Order, billing: Billing) -> Attempt:
        """Refuse (403), or save the billing details and try to consume the credits."""
        refused = order.refusal()
        if refused is not None:
            attempt = Attempt(
                now(), 403, "refused", refused, order.credits_needed, ZERO, self.credits
            )
        else:
            order.billing = billing
            attempt = self._consume(order)
        order.attempts.append(attempt)
        return attempt

    def _consume(self, order: Order) -> Attempt:
        needed = order.credits_needed
        if self.credits < needed:
            return Attempt(now(), 402, "payment_required", None, needed, ZERO, self.credits)
        self.credits = money(self.credits - needed)
        order.status = PAID
        order.consumed_credits = needed
        return Attempt(now(), 200, "paid", None, needed, needed, self.credits)

    def set_credits(self, value: object) -> Decimal:
        """Set the credits from a decimal string (400 when it is not a valid amount)."""
        amount = parse_amount(value)
        if amount is None:
            raise control_error("credits must be a decimal string from 0 to 10**12, 2 decimals")
        self.credits = amount
        return amount

    def top_up(self, value: object) -> Decimal:
        """Add to the credits (400 unless 0 < amount and the result stays <= 10**12)."""
        amount = parse_amount(value)
        if amount is None or amount == 0 or self.credits + amount > MAX_AMOUNT:
            raise control_error(
                "amount must be a decimal string > 0 with 2 decimals (credits <= 10**12)"
            )
        self.credits = money(self.credits + amount)
        return self.credits

    def add_order(self, order: Order) -> Order:
        """Store a new order (409 when its id is taken)."""
        if order.id in self.orders:
            raise ApiError(409, {"message": f"Order {order.id} already exists."})
        self.orders[order.id] = order
        return order

    def next_id(self) -> int:
        return max(self.orders, default=CATALOGUE[-1].id) + 1
