"""The fixed catalogue of the Proxy-Solutions sandbox and its money arithmetic.

Orders, merchants, exchange rates, promo codes and the priced services are constants (see
``proxy_solutions.py`` for the list). Money is ``Decimal`` only: every result is rounded
once, half-up, to the currency's decimals (JPY 0, BTC 8, everything else 2).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Context, Decimal
from types import MappingProxyType

USD = "USD"
DAYS_PER_PRICE = 30  # an order's price is for 30 days
HUNDRED = Decimal(100)
# Wide enough that no bounded input loses a digit before the final rounding.
_MATH = Context(prec=60, rounding=ROUND_HALF_UP)

# Currency -> decimals of its amounts.
DECIMALS = MappingProxyType({"USD": 2, "EUR": 2, "RUB": 2, "JPY": 0, "USDT": 2, "BTC": 8})
# Currency -> how much of it one USD buys.
RATES = MappingProxyType(
    {
        "USD": Decimal(1),
        "EUR": Decimal("0.92"),
        "RUB": Decimal("92.5"),
        "JPY": Decimal(151),
        "USDT": Decimal(1),
        "BTC": Decimal("0.000015"),
    }
)
PROMO_CODES = MappingProxyType({"SAVE10": Decimal(10), "HALF": Decimal(50)})


@dataclass(frozen=True, slots=True)
class Merchant:
    code: str
    name: str
    currencies: tuple[str, ...]

    def view(self) -> dict[str, object]:
        return {"code": self.code, "name": self.name, "currencies": list(self.currencies)}


BALANCE = "balance"
MERCHANTS = MappingProxyType(
    {
        merchant.code: merchant
        for merchant in (
            Merchant(BALANCE, "API balance", ("USD",)),
            Merchant("card", "Bank card", ("USD", "EUR", "RUB", "JPY")),
            Merchant("crypto", "Crypto wallet", ("USDT", "BTC")),
        )
    }
)


@dataclass(frozen=True, slots=True)
class OrderSeed:
    """An order of the catalogue: its 30-day price and where its paid period ends at start."""

    id: int
    price_30d: Decimal
    paid_for: timedelta  # from the sandbox's start (negative: already expired)


ORDER_SEEDS = (
    OrderSeed(1001, Decimal("12.00"), timedelta(days=20)),
    OrderSeed(1002, Decimal("45.00"), timedelta(days=5)),
    OrderSeed(1003, Decimal("9.00"), timedelta(days=-3)),
)

MOBILE, HOSTING, DATACENTER = 1, 2, 3


@dataclass(frozen=True, slots=True)
class Service:
    id: int
    name: str
    per_day: Decimal  # per address per day; hosting: 0 (the configuration gives the price)
    locations: tuple[int, ...]


SERVICES = MappingProxyType(
    {
        service.id: service
        for service in (
            Service(MOBILE, "Mobile proxy", Decimal("2.00"), (10, 11)),
            Service(HOSTING, "Hosting server", Decimal(0), ()),
            Service(DATACENTER, "Datacenter proxy", Decimal("0.50"), (20,)),
        )
    }
)
SERVER_CONFIGS = MappingProxyType({"vps-s": Decimal("5.00"), "vps-m": Decimal("9.00")})
# Hosting option -> allowed value -> extra USD per day ("" is "none").
SERVER_OPTIONS = MappingProxyType(
    {
        "os": MappingProxyType({"ubuntu-22": Decimal(0), "debian-12": Decimal(0)}),
        "ram": MappingProxyType({"": Decimal(0), "+4G": Decimal("1.00")}),
        "drive": MappingProxyType({"": Decimal(0), "+100G": Decimal("0.50")}),
        "backup": MappingProxyType({"": Decimal(0), "daily": Decimal("0.30")}),
    }
)
ADDITIONAL_IP_PRICE = Decimal("0.10")
ADDITIONAL_IP_MAX = 8


def all_currencies() -> tuple[str, ...]:
    """Every currency the sandbox can convert into."""
    return tuple(RATES)


def promo_discount(code: str) -> Decimal | None:
    """The percent of a promo code (case-insensitive), ``None`` when unknown."""
    return PROMO_CODES.get(code.upper())


def round_to(amount: Decimal, currency: str) -> Decimal:
    """Round half-up to the currency's decimals."""
    exponent = Decimal(1).scaleb(-DECIMALS[currency])
    return amount.quantize(exponent, rounding=ROUND_HALF_UP, context=_MATH)


def convert(usd: Decimal, currency: str, discount: Decimal = Decimal(0)) -> Decimal:
    """Apply the discount (percent) to a USD amount, convert it, round once."""
    after = _MATH.multiply(usd, _MATH.divide(HUNDRED - discount, HUNDRED))
    return round_to(_MATH.multiply(after, RATES[currency]), currency)


def period_cost(price_30d: Decimal, days: int) -> Decimal:
    """The USD cost of ``days`` days of an order (price per day = 30-day price / 30)."""
    return _MATH.divide(_MATH.multiply(price_30d, Decimal(days)), Decimal(DAYS_PER_PRICE))


def days_bought(price_30d: Decimal, usd: Decimal) -> Decimal:
    """How many days (fractional) ``usd`` buys of an order."""
    return _MATH.divide(_MATH.multiply(usd, Decimal(DAYS_PER_PRICE)), price_30d)


def multiply(*factors: Decimal) -> Decimal:
    """Multiply exactly (wide context)."""
    result = Decimal(1)
    for factor in factors:
        result = _MATH.multiply(result, factor)
    return result


def plain(amount: Decimal) -> str:
    """The shortest fixed-point text of an amount (``10.8``, ``1500``, ``0.00018``)."""
    text = format(amount.normalize(_MATH), "f")
    return "0" if text in ("-0", "0") else text
