"""Request decoding and validation for the Bizon sandbox.

Bodies are decoded from raw bytes with msgspec, JSON numbers becoming ``Decimal`` (never
``float``). Every problem raises ``SandboxError`` naming the offending field. Unknown fields
are ignored, as a gateway would; known fields are checked strictly.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any, cast

import msgspec

from ._bizon_cards import luhn_valid

CENT = Decimal("0.01")
_MAX_AMOUNT = Decimal("9999999999.99")
_DIGITS = re.compile(r"[0-9]+")
_DECIMAL_TEXT = re.compile(r"[0-9]+(\.[0-9]+)?")
_CURRENCY = re.compile(r"[A-Z]{3}")
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")
_DECODER = msgspec.json.Decoder(float_hook=Decimal)

CLIENT_FIELDS = frozenset(
    {"address", "city", "country", "email", "name", "phone", "state", "zip", "login"}
)
LOCATION_FIELDS = frozenset({"ip", "country", "city", "region"})
SECURE3D_FIELDS = frozenset({"xid", "cavv", "eci", "ds_trans_id"})
RECURRING_FIELDS = frozenset({"parent_order_id", "trace_id", "indicator"})
_FLAG_OPTIONS = (
    "force3d",
    "auto_charge",
    "recurring",
    "exemption_mit",
    "mobile",
    "apple_pay_enabled",
    "google_pay_enabled",
    "static_link",
)
_TEXT_OPTIONS = ("terminal", "language", "expiration_timeout", "template")
_URL_OPTIONS = ("return_url", "secure3d20_return_url")
ORDER_STATUSES = frozenset(
    {
        "new",
        "prepared",
        "authorized",
        "charged",
        "reversed",
        "refunded",
        "rejected",
        "fraud",
        "declined",
        "chargedback",
        "credited",
        "error",
    }
)


class SandboxError(Exception):
    """An error answered as ``{"failure_type", "failure_message"}`` with an HTTP status."""

    def __init__(self, status_code: int, failure_type: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.failure_type = failure_type
        self.message = message

    def body(self) -> dict[str, str]:
        return {"failure_type": self.failure_type, "failure_message": self.message}


def invalid(message: str) -> SandboxError:
    """Build the 400 validation error for ``message``."""
    return SandboxError(400, "validation", message)


@dataclass(frozen=True, slots=True)
class Options:
    """The order options the sandbox understands (flags already turned into booleans)."""

    flags: frozenset[str] = frozenset()
    return_url: str | None = None
    terminal: str | None = None
    text: dict[str, str] = field(default_factory=dict)

    def has(self, flag: str) -> bool:
        return flag in self.flags

    @property
    def secure3d20_return_url(self) -> str | None:
        return self.text.get("secure3d20_return_url")


@dataclass(frozen=True, slots=True)
class OrderInput:
    """The order-level fields common to ``/orders/create`` and ``/orders/authorize``."""

    amount: Decimal
    currency: str = "USD"
    merchant_order_id: str | None = None
    segment: str | None = None
    description: str | None = None
    client: dict[str, str] = field(default_factory=dict)
    location: dict[str, str] = field(default_factory=dict)
    custom_fields: dict[str, str] = field(default_factory=dict)
    options: Options = field(default_factory=Options)
    secure3d: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CardInput:
    """A validated card; the CVV is checked and then dropped (never stored)."""

    pan: str
    holder: str
    expiration_month: int
    expiration_year: int


def decode_object(body: bytes) -> dict[str, Any]:
    """Decode a JSON object body; an empty body counts as ``{}``."""
    if not body.strip():
        return {}
    try:
        value = _DECODER.decode(body)
    except msgspec.DecodeError as exc:
        raise invalid(f"Malformed JSON body: {exc}") from None
    if not isinstance(value, dict):
        raise invalid("The JSON body must be an object")
    return value


def parse_amount(value: object, name: str = "amount") -> Decimal:
    """Parse a positive amount with at most two decimals from a JSON string or number."""
    text_ok = isinstance(value, str) and _DECIMAL_TEXT.fullmatch(value) is not None
    number_ok = isinstance(value, Decimal | int) and not isinstance(value, bool)
    if not (text_ok or number_ok):
        raise invalid(f'{name} must be a decimal number such as "9.99"')
    amount = Decimal(cast(str | int | Decimal, value))
    if not amount.is_finite() or amount <= 0:
        raise invalid(f"{name} must be greater than 0")
    if amount > _MAX_AMOUNT:
        raise invalid(f"{name} is too large")
    if amount != amount.quantize(CENT, rounding=ROUND_DOWN):
        raise invalid(f"{name} must have at most two decimals")
    return amount.quantize(CENT)


def optional_amount(payload: dict[str, Any]) -> Decimal | None:
    """Parse the optional ``amount`` of charge, refund and cancel."""
    value = payload.get("amount")
    return None if value is None else parse_amount(value)


def parse_text(value: object, name: str, *, max_length: int = 255) -> str:
    """Check a text field (JSON numbers are accepted as their text)."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, int | Decimal) and not isinstance(value, bool):
        text = str(value)
    else:
        raise invalid(f"{name} must be a string")
    if len(text) > max_length:
        raise invalid(f"{name} must be at most {max_length} characters")
    return text


def optional_text(payload: dict[str, Any], key: str, prefix: str = "") -> str | None:
    """Return an optional text field, ``None`` when absent or null."""
    value = payload.get(key)
    return None if value is None else parse_text(value, prefix + key)


def mapping_of(payload: dict[str, Any], key: str) -> dict[str, Any]:
    """Return an optional JSON object field, ``{}`` when absent or null."""
    value = payload.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid(f"{key} must be an object")
    return value


def text_map(payload: dict[str, Any], key: str, known: frozenset[str]) -> dict[str, str]:
    """Return the ``known`` text fields of an optional object, others ignored."""
    source = mapping_of(payload, key)
    return {
        name: parse_text(value, f"{key}.{name}")
        for name, value in source.items()
        if name in known and value is not None
    }


def _custom_fields(payload: dict[str, Any]) -> dict[str, str]:
    source = mapping_of(payload, "custom_fields")
    if len(source) > 10:
        raise invalid("custom_fields accepts at most 10 values")
    return {str(k): parse_text(v, f"custom_fields.{k}") for k, v in source.items() if v is not None}


def parse_flag(value: object, name: str) -> bool:
    """Parse a 0/1 flag (also ``true``/``false`` and ``"0"``/``"1"``)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return value == 1
    if value in ("0", "1"):
        return value == "1"
    raise invalid(f"{name} must be 0 or 1")


def _url(value: object, name: str) -> str:
    url = parse_text(value, name, max_length=2048)
    if not url.startswith(("http://", "https://")):
        raise invalid(f"{name} must be an http(s) URL")
    return url


def _options(payload: dict[str, Any]) -> Options:
    source = mapping_of(payload, "options")
    flags = frozenset(
        name
        for name in _FLAG_OPTIONS
        if source.get(name) is not None and parse_flag(source[name], f"options.{name}")
    )
    text = {
        name: parse_text(source[name], f"options.{name}")
        for name in _TEXT_OPTIONS
        if source.get(name) is not None
    }
    text.update(
        {name: _url(source[name], f"options.{name}") for name in _URL_OPTIONS if source.get(name)}
    )
    return Options(flags, text.get("return_url"), text.get("terminal") or None, text)


def parse_currency(payload: dict[str, Any]) -> str:
    """Return ``currency`` (an ISO 4217 code), ``"USD"`` when absent."""
    value = payload.get("currency")
    if value is None:
        return "USD"
    if not isinstance(value, str) or not _CURRENCY.fullmatch(value):
        raise invalid('currency must be a 3-letter ISO 4217 code such as "USD"')
    return value


def parse_location(payload: dict[str, Any], *, required: bool) -> dict[str, str]:
    """Validate ``location``; with ``required`` it must hold a valid ``ip``."""
    if required and not isinstance(payload.get("location"), dict):
        raise invalid("location is required")
    location = text_map(payload, "location", LOCATION_FIELDS)
    if "ip" not in location:
        if required:
            raise invalid("location.ip is required")
        return location
    try:
        ipaddress.ip_address(location["ip"])
    except ValueError:
        raise invalid("location.ip must be an IP address") from None
    return location


def parse_order(payload: dict[str, Any], *, card_present: bool) -> OrderInput:
    """Validate the order-level fields of ``/orders/create`` or ``/orders/authorize``."""
    if payload.get("amount") is None:
        raise invalid("amount is required")
    text_map(payload, "recurring_details", RECURRING_FIELDS)
    return OrderInput(
        amount=parse_amount(payload["amount"]),
        currency=parse_currency(payload),
        merchant_order_id=optional_text(payload, "merchant_order_id"),
        segment=optional_text(payload, "segment"),
        description=optional_text(payload, "description"),
        client=text_map(payload, "client", CLIENT_FIELDS),
        location=parse_location(payload, required=card_present),
        custom_fields=_custom_fields(payload),
        options=_options(payload),
        secure3d=text_map(payload, "secure3d", SECURE3D_FIELDS) if card_present else {},
    )


def parse_digits(value: object, name: str, lengths: range) -> str:
    """Check a string (or integer) of digits whose length is in ``lengths``."""
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not _DIGITS.fullmatch(text) or len(text) not in lengths:
        low, high = lengths.start, lengths.stop - 1
        size = f"{low}" if low == high else f"{low}-{high}"
        raise invalid(f"{name} must be {size} digits")
    return text


def required_value(source: dict[str, Any], key: str, name: str) -> object:
    """Return ``source[key]``, refusing a missing, null or empty value."""
    value = source.get(key)
    if value is None or value == "":
        raise invalid(f"{name} is required")
    return value


def parse_pan(pan: object) -> str:
    """Validate a card number: 13-19 digits passing the Luhn check."""
    if pan is None or pan == "":
        raise invalid("pan is required")
    if not isinstance(pan, str) or not _DIGITS.fullmatch(pan) or not 13 <= len(pan) <= 19:
        raise invalid("pan must be a string of 13-19 digits")
    if not luhn_valid(pan):
        raise invalid("pan fails the Luhn check")
    return pan


def card_fields(card: dict[str, Any], *, cvv_required: bool) -> tuple[str, int, int]:
    """Validate a ``card`` object; return (holder, expiration month, expiration year).

    The holder and the expiration date are required; the CVV too when ``cvv_required``,
    else it is only checked when present. The CVV is never returned (never stored).
    """
    if cvv_required or card.get("cvv") not in (None, ""):
        parse_digits(required_value(card, "cvv", "card.cvv"), "card.cvv", range(3, 5))
    holder = required_value(card, "holder", "card.holder")
    if not isinstance(holder, str) or not 2 <= len(holder.strip()) <= 40:
        raise invalid("card.holder must be 2-40 characters")
    month = int(
        parse_digits(
            required_value(card, "expiration_month", "card.expiration_month"),
            "card.expiration_month",
            range(1, 3),
        )
    )
    if not 1 <= month <= 12:
        raise invalid("card.expiration_month must be between 1 and 12")
    year = parse_digits(
        required_value(card, "expiration_year", "card.expiration_year"),
        "card.expiration_year",
        range(4, 5),
    )
    return holder.strip(), month, int(year)


def parse_card(pan: object, card: object) -> CardInput:
    """Validate a PAN and the ``card`` object (cvv, holder, expiration month and year)."""
    number = parse_pan(pan)
    if not isinstance(card, dict):
        raise invalid("card is required" if card is None else "card must be an object")
    holder, month, year = card_fields(card, cvv_required=True)
    return CardInput(number, holder, month, year)


def parse_pares(payload: dict[str, Any]) -> str:
    """Return the PaRes of ``/orders/:id/complete``."""
    value = payload.get("PaRes")
    if value is None or value == "":
        raise invalid("PaRes is required")
    return parse_text(value, "PaRes", max_length=20000)


def parse_list(raw: str | None, name: str, allowed: frozenset[str] | None) -> frozenset[str]:
    """Split a comma-separated query value, checking each item against ``allowed``."""
    items = frozenset(item.strip() for item in (raw or "").split(",") if item.strip())
    unknown = sorted(items - allowed) if allowed is not None else []
    if unknown:
        raise invalid(f"{name}: unknown value {unknown[0]!r}")
    return items


def parse_timestamp(raw: str | None, name: str) -> str | None:
    """Check a ``YYYY-MM-DD HH:MM:SS`` filter; such strings compare correctly as text."""
    if raw is None or raw == "":
        return None
    if not _TIMESTAMP.fullmatch(raw):
        raise invalid(f"{name} must look like 2016-01-31 23:59:59")
    return raw
