"""``POST /api/user/orders/{order_id}/charge``: the body's checks and the payment's price.

Fields are checked in this order, every bad one named in the 422 list: ``merchant``
(required, an active merchant), ``currency`` (required, one of that merchant's currencies;
any known currency when the merchant is bad), ``period`` (integer 1..3650; checked even
when ``amount`` makes it irrelevant), ``amount`` (number > 0, <= 100000, at most 2
decimals, USD), ``promocode`` (a known code, any case).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ._proxy_catalogue import (
    DAYS_PER_PRICE,
    DECIMALS,
    MERCHANTS,
    USD,
    all_currencies,
    convert,
    days_bought,
    period_cost,
    promo_discount,
)
from ._proxy_input import Fields, validation
from ._proxy_state import Order, Payment

MAX_PERIOD = 3650
MAX_AMOUNT = Decimal(100_000)
TOO_SMALL = "The amount is too small to be paid in the selected currency."


@dataclass(frozen=True, slots=True)
class ChargeInput:
    merchant: str
    currency: str
    period: int | None
    amount: Decimal | None
    discount: Decimal


def promocode(fields: Fields) -> Decimal:
    """The discount percent of the ``promocode`` field (0 when absent; a message if unknown)."""
    code = fields.string("promocode")
    if code is None:
        return Decimal(0)
    discount = promo_discount(code)
    if discount is None:
        fields.fail("promocode")
        return Decimal(0)
    return discount


def currency_choices(merchant: str | None) -> tuple[str, ...]:
    """The currencies a merchant takes (every known one when there is no valid merchant)."""
    return MERCHANTS[merchant].currencies if merchant else all_currencies()


def parse_charge(payload: dict[str, Any]) -> ChargeInput:
    """Validate a charge body, collecting every problem (422 with the list)."""
    fields = Fields(payload)
    merchant = fields.choice("merchant", MERCHANTS, required=True)
    currency = fields.choice("currency", currency_choices(merchant), required=True)
    period = fields.integer("period", (1, MAX_PERIOD))
    amount = fields.amount("amount", DECIMALS[USD], MAX_AMOUNT)
    discount = promocode(fields)
    if fields.errors or merchant is None or currency is None:
        raise validation(*fields.errors)
    return ChargeInput(merchant, currency, period, amount, discount)


def price_charge(order: Order, data: ChargeInput) -> Payment:
    """Price a charge: ``amount`` if given, else the period's cost (30 days by default)."""
    if data.amount is not None:
        usd = data.amount
        days = days_bought(order.price_30d, usd)
    else:
        days = Decimal(data.period or DAYS_PER_PRICE)
        usd = period_cost(order.price_30d, int(days))
    payer_amount = convert(usd, data.currency, data.discount)
    if payer_amount <= 0:
        raise validation(TOO_SMALL)
    return Payment(
        order_id=order.id,
        merchant=data.merchant,
        currency=data.currency,
        discount=data.discount,
        amount_usd=usd,
        payer_amount=payer_amount,
        days=days,
    )
