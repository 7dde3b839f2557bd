"""The records of the Bizon sandbox: orders, operations and the card kept on an order."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from html import escape

from ._bizon_cards import CardBehaviour, card_brand
from ._bizon_input import OrderInput, SandboxError

ZERO = Decimal("0.00")
_AUTH_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
_FORM_KEYS = frozenset({"action", "method"})


def timestamp() -> str:
    """Return the current UTC time the way Bizon writes it: ``YYYY-MM-DD HH:MM:SS``."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


def new_auth_code() -> str:
    """Return a random six-character authorization code."""
    return "".join(secrets.choice(_AUTH_CODE_ALPHABET) for _ in range(6))


@dataclass(slots=True)
class Operation:
    seq: int
    order_id: str
    type: str
    status: str
    amount: Decimal
    currency: str
    created: str
    iso_response_code: str
    iso_message: str
    auth_code: str | None


@dataclass(frozen=True, slots=True)
class CardRecord:
    """What is kept of a card: never the full PAN nor the CVV.

    Attributes:
        expiration: as the wire shows it (``"12/35"``; ``"0/0"`` when unknown).
        expires: the (year, month) checked for expiry, ``None`` when not checked.
    """

    masked_pan: str
    bin: str
    type: str
    subtype: str
    holder: str | None
    expiration: str
    behaviour: CardBehaviour
    expires: tuple[int, int] | None = None

    def expired(self) -> bool:
        """Tell whether the card's expiry month is in the past."""
        today = datetime.now(UTC)
        return self.expires is not None and self.expires < (today.year, today.month)


def record_card(
    pan: str,
    behaviour: CardBehaviour,
    holder: str | None = None,
    month: int | None = None,
    year: int | None = None,
) -> CardRecord:
    """Build the card kept on an order from a full PAN (expiry ``0/0`` when not given)."""
    brand, subtype = card_brand(pan)
    expiration = "0/0"
    expires: tuple[int, int] | None = None
    if month is not None and year is not None:
        expiration, expires = f"{month}/{year % 100:02d}", (year, month)
    return CardRecord(
        masked_pan=f"{pan[:6]}****{pan[-4:]}",
        bin=pan[:6],
        type=brand,
        subtype=subtype,
        holder=holder,
        expiration=expiration,
        behaviour=behaviour,
        expires=expires,
    )


@dataclass(slots=True)
class Order:
    id: str
    seq: int
    data: OrderInput
    hosted: bool
    created: str
    updated: str
    status: str = "new"
    location: dict[str, str] = field(default_factory=dict)
    card: CardRecord | None = None
    secure3d: dict[str, str] = field(default_factory=dict)
    form3d: dict[str, str] | None = None
    auth_code: str | None = None
    amount_charged: Decimal = ZERO
    amount_refunded: Decimal = ZERO
    operations: list[Operation] = field(default_factory=list)
    threeds2_step: str | None = None  # "method" or "challenge" while 3DS 2.0 is pending
    threeds2_trans_id: str | None = None  # the 3DS Server transaction id (a UUID)

    @property
    def amount(self) -> Decimal:
        return self.data.amount

    @property
    def descriptor(self) -> str:
        return f"BIZON-SANDBOX/{self.data.options.terminal or 'TERM'}"

    def slow_reply(self) -> bool:
        """Tell whether the reply to the authorization just processed must be late."""
        return self.card is not None and self.card.behaviour.slow and self.status != "prepared"


def not_allowed(order: Order, operation: str) -> SandboxError:
    """Build the 409 error of an operation the order's status does not allow."""
    return SandboxError(409, "state", f"Order status '{order.status}' does not allow {operation}")


def form_html(form: Mapping[str, str]) -> str:
    """Render an auto-submitting form, as the doc's ``form3d_html``.

    Every key other than ``action`` and ``method`` becomes a hidden field, in order.
    """
    fields = "".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'
        for name, value in form.items()
        if name not in _FORM_KEYS
    )
    return (
        f'<form id="form3d" method="{escape(form.get("method", "GET"))}" '
        f'action="{escape(form.get("action", ""))}">{fields}</form>'
        "<script>window.onload = function() {document.forms['form3d'].submit();}</script>"
    )
