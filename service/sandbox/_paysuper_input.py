"""Request decoding and field checks shared by the PaySuper sandbox's endpoints.

Bodies are decoded from the raw bytes with msgspec; a JSON number with a fraction or an
exponent becomes a ``Decimal`` (never a ``float``), an integer stays an ``int``. A JSON
``null`` counts as an absent field. Every problem raises ``PaySuperError`` naming the field.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from decimal import Decimal
from typing import Any

import msgspec

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999.99")
_CURRENCY = re.compile(r"[A-Z]{3}")
_DECODER = msgspec.json.Decoder(float_hook=Decimal)

Payload = Mapping[str, Any]


class PaySuperError(Exception):
    """An error answered as PaySuper does: ``{"message": ..., "code": ...}``."""

    def __init__(self, status_code: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message

    def body(self) -> dict[str, str]:
        return {"message": self.message, "code": self.code}


def invalid(message: str) -> PaySuperError:
    """Build the 400 ``validation_failed`` error for ``message``."""
    return PaySuperError(400, "validation_failed", message)


def decode_object(body: bytes, *, empty_ok: bool = False) -> dict[str, Any]:
    """Decode a JSON object (an empty body is ``{}`` when ``empty_ok``)."""
    if empty_ok and not body.strip():
        return {}
    try:
        value = _DECODER.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError):  # bad JSON, or invalid UTF-8 in it
        raise invalid("The request body must be a JSON object") from None
    if not isinstance(value, dict):
        raise invalid("The request body must be a JSON object")
    return value


def opt_str(obj: Payload, key: str, path: str) -> str | None:
    """Return a string field, ``None`` when absent."""
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid(f"{path} must be a string")
    return value


def req_str(obj: Payload, key: str, path: str) -> str:
    """Return a required, non-empty string field."""
    value = opt_str(obj, key, path)
    if not value:
        raise invalid(f"{path} is required")
    return value


def opt_bool(obj: Payload, key: str, path: str) -> bool | None:
    """Return a boolean field, ``None`` when absent."""
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise invalid(f"{path} must be a boolean")
    return value


def opt_obj(obj: Payload, key: str, path: str) -> dict[str, Any] | None:
    """Return an object field, ``None`` when absent."""
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise invalid(f"{path} must be an object")
    return value


def req_obj(obj: Payload, key: str, path: str) -> dict[str, Any]:
    """Return a required object field."""
    value = opt_obj(obj, key, path)
    if value is None:
        raise invalid(f"{path} is required")
    return value


def str_map(obj: Payload, key: str, path: str) -> dict[str, str]:
    """Return an object of strings (``{}`` when absent)."""
    value = opt_obj(obj, key, path) or {}
    for name, item in value.items():
        if not isinstance(item, str):
            raise invalid(f"{path}.{name} must be a string")
    return dict(value)


def amount_of(value: object, path: str) -> Decimal:
    """Check a money amount: a JSON number > 0 with at most two decimals."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise invalid(f"{path} must be a number")
    amount = Decimal(value)
    if not amount.is_finite() or amount <= 0:
        raise invalid(f"{path} must be greater than 0")
    if amount > MAX_AMOUNT:
        raise invalid(f"{path} must not exceed {MAX_AMOUNT}")
    if amount != amount.quantize(CENT):
        raise invalid(f"{path} must have at most 2 decimal places")
    return amount.quantize(CENT)


def opt_amount(obj: Payload, key: str, path: str) -> Decimal | None:
    """Return an amount field, ``None`` when absent."""
    value = obj.get(key)
    return None if value is None else amount_of(value, path)


def opt_currency(obj: Payload, key: str, path: str) -> str | None:
    """Return a currency field: three uppercase letters (ISO 4217), ``None`` when absent."""
    value = opt_str(obj, key, path)
    if value is not None and not _CURRENCY.fullmatch(value):
        raise invalid(f"{path} must be a three-letter uppercase ISO 4217 code")
    return value


def opt_str_list(obj: Payload, key: str, path: str) -> tuple[str, ...] | None:
    """Return a non-empty list of non-empty strings, ``None`` when absent."""
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not value:
        raise invalid(f"{path} must be a non-empty list of strings")
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item:
            raise invalid(f"{path}[{index}] must be a non-empty string")
    return tuple(value)


def opt_choice(obj: Payload, key: str, path: str, choices: Collection[str]) -> str | None:
    """Return a string field that must be one of ``choices``, ``None`` when absent."""
    value = opt_str(obj, key, path)
    if value is not None and value not in choices:
        raise invalid(f"{path} must be one of: {', '.join(choices)}")
    return value


def opt_int(obj: Payload, key: str, path: str, low: int, high: int) -> int | None:
    """Return an integer field within ``[low, high]``, ``None`` when absent."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise invalid(f"{path} must be an integer from {low} to {high}")
    return value
