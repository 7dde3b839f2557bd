"""Money in minor units: integers with an ISO 4217 currency, never floats."""

from decimal import Decimal, InvalidOperation, localcontext

import msgspec

from service.domain.currencies import EXPONENTS
from service.domain.errors import CurrencyMismatch, InvalidAmount, UnknownCurrency

# Amounts fit in BIGINT minor units (< 10**19); the context holds them exactly.
_MAX_DIGITS = 18
_PRECISION = 40


def exponent(currency: str) -> int:
    try:
        return EXPONENTS[currency]
    except KeyError:
        raise UnknownCurrency(currency) from None


def is_currency(code: str) -> bool:
    return code in EXPONENTS


class Money(msgspec.Struct, frozen=True):
    amount: int
    currency: str

    def __post_init__(self) -> None:
        exponent(self.currency)
        if self.amount < 0:
            raise InvalidAmount(f"negative amount {self.amount}")

    def __add__(self, other: "Money") -> "Money":
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: "Money") -> "Money":
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def _same_currency(self, other: "Money") -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(self.currency, other.currency)


def to_major(amount: int, currency: str) -> Decimal:
    """Minor units to an exact Decimal in major units (999 USD -> 9.99)."""
    return Decimal(amount).scaleb(-exponent(currency))


def from_major(value: Decimal | str, currency: str) -> int:
    """An exact major-unit amount to minor units; refuses anything inexact.

    "9.99" USD -> 999; "9.999" USD raises: money is never rounded silently.
    """
    try:
        dec = Decimal(value) if isinstance(value, str) else value
    except InvalidOperation:
        raise InvalidAmount(f"not a decimal amount: {value!r}") from None
    if not dec.is_finite():
        raise InvalidAmount(f"not a finite amount: {value!r}")
    if dec < 0:
        raise InvalidAmount(f"negative amount {value!r}")
    if dec.adjusted() > _MAX_DIGITS:
        raise InvalidAmount(f"{value} is too large")
    with localcontext(prec=_PRECISION):
        minor = dec.scaleb(exponent(currency))
    if minor != minor.to_integral_value():
        raise InvalidAmount(f"{value} has more precision than {currency} allows")
    return int(minor)


def format_major(amount: int, currency: str, places: int | None = None) -> str:
    """Minor units as a major-unit decimal string with a fixed number of places.

    `places` defaults to the currency's exponent; a provider that always wants two
    decimals passes 2, and an amount that cannot be written exactly raises.
    """
    major = to_major(amount, currency)
    digits = exponent(currency) if places is None else places
    quantum = Decimal(1).scaleb(-digits)
    with localcontext(prec=_PRECISION):
        fixed = major.quantize(quantum)
    if fixed != major:
        raise InvalidAmount(f"{major} {currency} cannot be written with {digits} decimals")
    return f"{fixed:f}"
