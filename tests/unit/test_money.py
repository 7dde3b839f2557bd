"""service/domain/money.py: minor units, exact conversions, no floats, no rounding."""

from decimal import Decimal

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.domain.currencies import EXPONENTS
from service.domain.errors import (
    CurrencyMismatch,
    InvalidAmount,
    UnknownCurrency,
    ValidationFailed,
)
from service.domain.money import Money, exponent, format_major, from_major, is_currency, to_major

CURRENCIES = sorted(EXPONENTS)
# Realistic amounts: far beyond any payment, well inside Decimal's 28 significant digits.
AMOUNTS = st.integers(min_value=0, max_value=10**18)


@pytest.mark.parametrize(
    ("currency", "digits"),
    [("USD", 2), ("EUR", 2), ("JPY", 0), ("KRW", 0), ("KWD", 3), ("BHD", 3), ("CLF", 4)],
)
def test_exponent(currency: str, digits: int) -> None:
    assert exponent(currency) == digits
    assert is_currency(currency)


@pytest.mark.parametrize(
    ("amount", "currency", "major"),
    [
        (999, "USD", Decimal("9.99")),
        (100, "USD", Decimal("1.00")),
        (0, "USD", Decimal("0")),
        (500, "JPY", Decimal("500")),
        (1234, "KWD", Decimal("1.234")),
        (1, "CLF", Decimal("0.0001")),
    ],
)
def test_to_major(amount: int, currency: str, major: Decimal) -> None:
    assert to_major(amount, currency) == major


@pytest.mark.parametrize(
    ("value", "currency", "minor"),
    [
        ("9.99", "USD", 999),
        ("9.990", "USD", 999),  # trailing zeros are still exact
        (Decimal("9.99"), "USD", 999),
        ("0", "USD", 0),
        ("0.00", "USD", 0),
        ("1E+2", "USD", 10000),
        ("500", "JPY", 500),
        ("500.00", "JPY", 500),
        ("1.234", "KWD", 1234),
        ("1.23", "KWD", 1230),
    ],
)
def test_from_major(value: str | Decimal, currency: str, minor: int) -> None:
    assert from_major(value, currency) == minor
    assert isinstance(from_major(value, currency), int)


@pytest.mark.parametrize(
    ("value", "currency"),
    [
        ("9.999", "USD"),  # money is never rounded silently
        ("0.001", "USD"),
        ("0.5", "JPY"),
        ("1.2345", "KWD"),
        ("NaN", "USD"),
        ("sNaN", "USD"),
        ("inf", "USD"),
        ("-Infinity", "USD"),
        (Decimal("NaN"), "USD"),
        (Decimal("Infinity"), "USD"),
        ("", "USD"),
        ("9,99", "USD"),
        ("nine", "USD"),
        # Beyond Decimal's default 28 digits: still refused, never rounded nor a decimal crash.
        ("12345678901234567890123456.789", "USD"),
        ("1e999999", "USD"),
    ],
)
def test_from_major_refuses_inexact_or_non_finite(value: str | Decimal, currency: str) -> None:
    with pytest.raises(InvalidAmount):
        from_major(value, currency)


@pytest.mark.parametrize(
    ("amount", "currency", "places", "text"),
    [
        (999, "USD", None, "9.99"),
        (5, "USD", None, "0.05"),
        (0, "USD", None, "0.00"),
        (100000, "USD", None, "1000.00"),
        (500, "JPY", None, "500"),
        (1234, "KWD", None, "1.234"),
        (1, "CLF", None, "0.0001"),
        (500, "JPY", 2, "500.00"),  # a provider that always wants two decimals
        (1230, "KWD", 2, "1.23"),
        (999, "USD", 3, "9.990"),
    ],
)
def test_format_major(amount: int, currency: str, places: int | None, text: str) -> None:
    assert format_major(amount, currency, places) == text


@pytest.mark.parametrize(
    ("amount", "currency", "places"), [(1234, "KWD", 2), (999, "USD", 1), (999, "USD", 0)]
)
def test_format_major_refuses_to_round(amount: int, currency: str, places: int) -> None:
    with pytest.raises(InvalidAmount):
        format_major(amount, currency, places)


@pytest.mark.parametrize("currency", ["XXX", "usd", "US", "", "BTC"])
def test_unknown_currency(currency: str) -> None:
    assert not is_currency(currency)
    for call in (
        lambda: exponent(currency),
        lambda: to_major(1, currency),
        lambda: from_major("1", currency),
        lambda: format_major(1, currency),
        lambda: Money(1, currency),
    ):
        with pytest.raises(UnknownCurrency) as caught:
            call()
        assert caught.value.code == "validation_error"
        assert [e.field for e in caught.value.errors] == ["currency"]


# -- Money ---------------------------------------------------------------------------


def test_money_arithmetic() -> None:
    assert Money(999, "USD") + Money(1, "USD") == Money(1000, "USD")
    assert Money(999, "USD") - Money(199, "USD") == Money(800, "USD")
    assert Money(999, "USD") - Money(999, "USD") == Money(0, "USD")
    assert Money(999, "USD") != Money(999, "EUR")
    assert Money(5, "JPY") + Money(0, "JPY") == Money(5, "JPY")


def test_money_is_immutable() -> None:
    money = Money(999, "USD")
    with pytest.raises(AttributeError):
        money.amount = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    "operation",
    [
        lambda: Money(999, "USD") + Money(999, "EUR"),
        lambda: Money(999, "USD") - Money(1, "EUR"),
        lambda: Money(5, "JPY") + Money(5, "KWD"),
    ],
)
def test_currency_mismatch(operation: object) -> None:
    with pytest.raises(CurrencyMismatch) as caught:
        operation()  # type: ignore[operator]
    assert isinstance(caught.value, ValidationFailed)
    assert caught.value.code == "validation_error"


@pytest.mark.parametrize(
    "make", [lambda: Money(-1, "USD"), lambda: Money(100, "USD") - Money(101, "USD")]
)
def test_money_is_never_negative(make: object) -> None:
    with pytest.raises(InvalidAmount):
        make()  # type: ignore[operator]


def test_money_round_trips_through_json() -> None:
    money = Money(999, "USD")
    assert msgspec.json.encode(money) == b'{"amount":999,"currency":"USD"}'
    assert msgspec.json.decode(b'{"amount":999,"currency":"USD"}', type=Money) == money


# -- properties ----------------------------------------------------------------------


@given(amount=AMOUNTS, currency=st.sampled_from(CURRENCIES))
def test_format_major_round_trips(amount: int, currency: str) -> None:
    assert from_major(format_major(amount, currency), currency) == amount
    assert from_major(to_major(amount, currency), currency) == amount


@given(amount=AMOUNTS, currency=st.sampled_from(CURRENCIES))
def test_two_places_round_trip_or_refuse(amount: int, currency: str) -> None:
    """Bizon's two-decimal strings: exact when they can be, refused when not."""
    try:
        text = format_major(amount, currency, places=2)
    except InvalidAmount:
        assert exponent(currency) > 2
        assert amount % 10 ** (exponent(currency) - 2) != 0
    else:
        assert text.count(".") == 1
        assert len(text.split(".")[1]) == 2
        assert from_major(text, currency) == amount


@given(amount=AMOUNTS, other=AMOUNTS, currency=st.sampled_from(CURRENCIES))
def test_addition_matches_integers(amount: int, other: int, currency: str) -> None:
    total = Money(amount, currency) + Money(other, currency)
    assert total == Money(amount + other, currency)
    assert total - Money(other, currency) == Money(amount, currency)
