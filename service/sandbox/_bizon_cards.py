"""Card knowledge of the Bizon sandbox: outcomes, test-card behaviour, Luhn and brands."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an authorization ends in: the order status and the authorize operation."""

    order_status: str
    operation_status: str
    iso_response_code: str
    iso_message: str

    @property
    def approved(self) -> bool:
        return self.operation_status == "success"


APPROVED = Outcome("authorized", "success", "00", "Approved")
EXPIRED_CARD = Outcome("declined", "failure", "54", "Expired card")
AUTHENTICATION_FAILED = Outcome("declined", "failure", "05", "3-D Secure authentication failed")
DO_NOT_HONOR = Outcome("declined", "failure", "05", "Do not honor")


@dataclass(frozen=True, slots=True)
class CardBehaviour:
    """How the sandbox treats one card number.

    Attributes:
        outcome: the authorization result once any 3-D Secure step has passed.
        slow: commit the result, then sleep ``slow_seconds`` before replying.
        requires_3ds: answer 201 ``prepared`` with a 3-D Secure form even without force3d.
        fails_3ds: 3-D Secure authentication fails whatever PaRes (or cres) is sent.
        threeds2: ``"frictionless"`` or ``"challenge"`` for the 3-D Secure 2.0 cards.
    """

    outcome: Outcome = APPROVED
    slow: bool = False
    requires_3ds: bool = False
    fails_3ds: bool = False
    threeds2: str | None = None


DEFAULT_BEHAVIOUR = CardBehaviour()


def luhn_valid(pan: str) -> bool:
    """Tell whether a string of digits passes the Luhn check."""
    total = 0
    for position, char in enumerate(reversed(pan)):
        digit = int(char)
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


# (first prefix, last prefix, brand): prefixes compared on as many digits as they have.
_BRAND_RANGES: tuple[tuple[int, int, str], ...] = (
    (4, 4, "visa"),
    (51, 55, "mastercard"),
    (2221, 2720, "mastercard"),
    (34, 34, "amex"),
    (37, 37, "amex"),
    (2200, 2204, "mir"),
    (6011, 6011, "discover"),
    (65, 65, "discover"),
    (3528, 3589, "jcb"),
    (62, 62, "unionpay"),
    (50, 50, "maestro"),
    (56, 69, "maestro"),
)

_SUBTYPES = {"visa": "classic", "mastercard": "standard"}


def card_brand(pan: str) -> tuple[str, str]:
    """Return the (type, subtype) of a card number from its leading digits."""
    for low, high, brand in _BRAND_RANGES:
        prefix = int(pan[: len(str(low))])
        if low <= prefix <= high:
            return brand, _SUBTYPES.get(brand, "unknown")
    return "unknown", "unknown"
