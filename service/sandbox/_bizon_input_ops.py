"""Request validation of rebill, the two OCT credits, token_pay and complete3d20.

Same rules as ``_bizon_input``: every problem is a 400 naming the field, unknown fields
are ignored, known ones are checked strictly, amounts are ``Decimal``.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec

from ._bizon_input import (
    Options,
    OrderInput,
    card_fields,
    invalid,
    mapping_of,
    optional_text,
    parse_amount,
    parse_currency,
    parse_digits,
    parse_flag,
    parse_location,
    parse_order,
    parse_pan,
    parse_text,
    text_map,
)

DSRP_TYPES = ("apple_pay", "google_pay")
_REBILL_RECURRING_FIELDS = frozenset({"trace_id", "indicator"})
_TOKEN_PAY_EXCLUDED = ("pan", "card", "secure3d")
_TOKEN_PAY_EXCLUDED_OPTIONS = ("force3d", "return_url", "secure3d20_return_url")
_MAX_TOKEN = 65536
_BAD_CRES = "cres must be a base64-encoded JSON object with a transStatus"


@dataclass(frozen=True, slots=True)
class PayoutCard:
    """The card of ``POST /orders/credit``: only the PAN is required."""

    pan: str
    holder: str | None = None
    expiration_month: int | None = None
    expiration_year: int | None = None


@dataclass(frozen=True, slots=True)
class Dsrp:
    """The wallet token of ``POST /orders/token_pay``."""

    type: str
    token: str


@dataclass(frozen=True, slots=True)
class Cres:
    """The decoded ``cres`` of ``POST /orders/:id/complete3d20``."""

    trans_status: str
    trans_id: str | None


def _amount(payload: dict[str, Any]) -> Decimal:
    if payload.get("amount") is None:
        raise invalid("amount is required")
    return parse_amount(payload["amount"])


def _currency_or(payload: dict[str, Any], default: str) -> str:
    return default if payload.get("currency") is None else parse_currency(payload)


def parse_rebill(payload: dict[str, Any], parent: OrderInput, *, cvv_required: bool) -> OrderInput:
    """Validate ``POST /orders/:id/rebill`` into the new order's input.

    Args:
        payload: the request body.
        parent: the parent order's input (its currency and terminal carry over).
        cvv_required: whether ``cvv`` must be sent (``BizonSandboxConfig.rebill_requires_cvv``).

    Returns:
        The new order's input; ``options`` holds only ``recurring`` (``auto_charge`` and
        every other option are ignored) and the parent's terminal.
    """
    amount = _amount(payload)
    cvv = payload.get("cvv")
    if cvv is None or cvv == "":
        if cvv_required:
            raise invalid("cvv is required")
    else:
        parse_digits(cvv, "cvv", range(3, 5))
    location = parse_location(payload, required=True)
    currency = _currency_or(payload, parent.currency)
    if currency != parent.currency:
        raise invalid(f"currency must be the parent order's currency {parent.currency}")
    text_map(payload, "recurring_details", _REBILL_RECURRING_FIELDS)
    recurring = mapping_of(payload, "options").get("recurring")
    flags = (
        frozenset({"recurring"})
        if recurring is not None and parse_flag(recurring, "options.recurring")
        else frozenset()
    )
    return OrderInput(
        amount=amount,
        currency=currency,
        merchant_order_id=optional_text(payload, "merchant_order_id"),
        description=optional_text(payload, "description"),
        location=location,
        options=Options(flags, terminal=parent.options.terminal),
    )


def _credit_input(payload: dict[str, Any], currency: str, terminal: str | None) -> OrderInput:
    return OrderInput(
        amount=_amount(payload),
        currency=currency,
        merchant_order_id=optional_text(payload, "merchant_order_id"),
        description=optional_text(payload, "description"),
        location=parse_location(payload, required=False),
        options=Options(terminal=terminal),
    )


def parse_credit(payload: dict[str, Any], parent: OrderInput) -> OrderInput:
    """Validate ``POST /orders/:id/credit``; the currency defaults to the parent's."""
    return _credit_input(payload, _currency_or(payload, parent.currency), parent.options.terminal)


def parse_card_credit(payload: dict[str, Any]) -> tuple[OrderInput, PayoutCard]:
    """Validate ``POST /orders/credit``: amount and pan, an optional ``card`` without CVV."""
    data = _credit_input(payload, parse_currency(payload), None)
    pan = parse_pan(payload.get("pan"))
    card = payload.get("card")
    if card is None:
        return data, PayoutCard(pan)
    if not isinstance(card, dict):
        raise invalid("card must be an object")
    holder, month, year = card_fields(card, cvv_required=False)
    return data, PayoutCard(pan, holder, month, year)


def _refuse_excluded(payload: dict[str, Any]) -> None:
    for key in _TOKEN_PAY_EXCLUDED:
        if payload.get(key) is not None:
            raise invalid(f"{key} is not accepted by token_pay")
    options = mapping_of(payload, "options")
    for key in _TOKEN_PAY_EXCLUDED_OPTIONS:
        if options.get(key) is not None:
            raise invalid(f"options.{key} is not accepted by token_pay")


def _dsrp(payload: dict[str, Any]) -> Dsrp:
    dsrp = payload.get("dsrp")
    if dsrp is None:
        raise invalid("dsrp is required")
    if not isinstance(dsrp, dict):
        raise invalid("dsrp must be an object")
    kind = dsrp.get("type")
    if kind is None or kind == "":
        raise invalid("dsrp.type is required")
    if kind not in DSRP_TYPES:
        raise invalid("dsrp.type must be apple_pay or google_pay")
    token = dsrp.get("token")
    if token is None or token == "":
        raise invalid("dsrp.token is required")
    if not isinstance(token, str):
        raise invalid("dsrp.token must be a string")
    return Dsrp(kind, parse_text(token, "dsrp.token", max_length=_MAX_TOKEN))


def parse_token_pay(payload: dict[str, Any]) -> tuple[OrderInput, Dsrp]:
    """Validate ``POST /orders/token_pay``: authorize's fields minus the card ones, plus dsrp.

    ``pan``, ``card``, ``secure3d``, ``options.force3d``, ``options.return_url`` and
    ``options.secure3d20_return_url`` are refused (400) when sent with a non-null value.
    """
    _refuse_excluded(payload)
    data = parse_order(payload, card_present=True)
    return data, _dsrp(payload)


def _b64decode(text: str) -> bytes:
    # Standard or URL-safe alphabet, padding optional (3DS messages are base64url).
    padded = text.strip() + "=" * (-len(text.strip()) % 4)
    return base64.b64decode(padded, altchars=b"-_", validate=True)


def parse_cres(payload: dict[str, Any]) -> Cres:
    """Decode the ``cres`` of ``complete3d20``: base64 of a JSON object with transStatus."""
    value = payload.get("cres")
    if value is None or value == "":
        raise invalid("cres is required")
    if not isinstance(value, str):
        raise invalid("cres must be a string")
    try:
        decoded = msgspec.json.decode(_b64decode(value))
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise invalid(_BAD_CRES) from None
    if not isinstance(decoded, dict) or not isinstance(decoded.get("transStatus"), str):
        raise invalid(_BAD_CRES)
    trans_id = decoded.get("threeDSServerTransID")
    if trans_id is not None and not isinstance(trans_id, str):
        raise invalid("cres.threeDSServerTransID must be a string")
    return Cres(decoded["transStatus"], trans_id)
