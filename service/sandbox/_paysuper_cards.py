"""Card knowledge of the PaySuper sandbox: test cards, Luhn, brands and the card record."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ._paysuper_input import invalid

APPROVED_CARD = "4111111111111111"
REJECTED_CARD = "4000000000000002"  # the order becomes ``rejected``, no notification
SLOW_CARD = "4000000000000259"  # processed at once, the form's reply waits slow_seconds
_PAN = re.compile(r"[0-9]{12,19}")
_CVV = re.compile(r"[0-9]{3,4}")
_SEPARATORS = str.maketrans("", "", " -")


@dataclass(frozen=True, slots=True)
class CardRecord:
    """What the order keeps of a card: never the full number nor the CVV."""

    first6: str
    last4: str
    expiry_month: str
    expiry_year: str
    brand: str
    fingerprint: str

    def view(self) -> dict[str, Any]:
        """Render the Order object's ``method.card``."""
        return {
            "first6": self.first6,
            "last4": self.last4,
            "masked": f"{self.first6}...{self.last4}",
            "expiry_month": self.expiry_month,
            "expiry_year": self.expiry_year,
            "brand": self.brand,
            "fingerprint": self.fingerprint,
            "secure3d": False,
        }


def luhn_valid(pan: str) -> bool:
    """Tell whether a string of digits passes the Luhn check."""
    total = 0
    for position, char in enumerate(reversed(pan)):
        digit = int(char)
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def card_brand(pan: str) -> str:
    """Return ``VISA``, ``MASTERCARD`` or ``UNKNOWN`` from the card number's prefix."""
    if pan.startswith("4"):
        return "VISA"
    if 51 <= int(pan[:2]) <= 55 or 2221 <= int(pan[:4]) <= 2720:
        return "MASTERCARD"
    return "UNKNOWN"


def parse_pan(text: str, name: str = "card") -> str:
    """Check a card number (spaces and dashes allowed): 12 to 19 digits, Luhn-valid."""
    pan = text.translate(_SEPARATORS)
    if not _PAN.fullmatch(pan) or not luhn_valid(pan):
        raise invalid(f"{name} must be a valid card number")
    return pan


def parse_expiry(month_text: str, year_text: str) -> tuple[str, str]:
    """Check the expiry date typed on the form: month 1-12, year YY or YYYY, not past."""
    month_text, year_text = month_text.strip(), year_text.strip()
    if not month_text.isdigit() or not 1 <= int(month_text) <= 12:
        raise invalid("expiry_month must be a month from 1 to 12")
    if not year_text.isdigit() or len(year_text) not in (2, 4):
        raise invalid("expiry_year must be a year (YY or YYYY)")
    year = int(year_text) + (2000 if len(year_text) == 2 else 0)
    month = int(month_text)
    today = datetime.now(UTC)
    if (year, month) < (today.year, today.month):
        raise invalid("The card has expired")
    return f"{month:02d}", str(year)


def parse_cvv(text: str) -> None:
    """Check a CVV (3 or 4 digits); it is never kept."""
    if not _CVV.fullmatch(text.strip()):
        raise invalid("cvv must be 3 or 4 digits")


def default_expiry() -> tuple[str, str]:
    """The expiry of the cards the control ``pay`` endpoint uses (December, in 5 years)."""
    return "12", str(datetime.now(UTC).year + 5)


def record_card(pan: str, month: str, year: str) -> CardRecord:
    """Build the card kept on an order; the fingerprint is stable for a card number."""
    digest = base64.b64encode(hashlib.sha256(pan.encode()).digest(), altchars=b"./")
    return CardRecord(
        first6=pan[:6],
        last4=pan[-4:],
        expiry_month=month,
        expiry_year=year,
        brand=card_brand(pan),
        fingerprint="$2a$04$" + digest.decode().rstrip("=")[:53],
    )
