"""Request decoding and field checks of the Proxy-Solutions sandbox.

Bodies are decoded from the raw bytes with msgspec: a JSON number with a fraction or an
exponent becomes a ``Decimal`` (never a ``float``), an integer stays an ``int``. A missing
key, JSON ``null`` and ``""`` all count as an absent field. Checks never stop at the first
problem: each field adds at most one message to the list answered with 422, in the order
the endpoint checks its fields. Messages are English, Russian or Ukrainian (``lang``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from decimal import Decimal
from typing import Any

import msgspec

from ._proxy_messages import message

_DECODER = msgspec.json.Decoder(float_hook=Decimal)


class ProxyError(Exception):
    """An error answered with ``status_code`` and ``content`` (a list of strings or a dict)."""

    def __init__(self, status_code: int, content: list[str] | dict[str, str]) -> None:
        super().__init__(str(content))
        self.status_code = status_code
        self.content = content


def validation(*messages: str) -> ProxyError:
    """The 422 of a list of validation messages."""
    return ProxyError(422, list(messages))


def not_found(text: str) -> ProxyError:
    """A 404 ``{"message": text}``."""
    return ProxyError(404, {"message": text})


def decode_object(body: bytes, lang: str = "EN") -> dict[str, Any]:
    """Decode a JSON object; an empty body is ``{}``; anything else is 422."""
    if not body.strip():
        return {}
    try:
        value = _DECODER.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        raise validation(message(lang, "body")) from None
    if not isinstance(value, dict):
        raise validation(message(lang, "body"))
    return value


def parse_id(text: str) -> int | None:
    """An integer path parameter (``None`` when it is not one).

    An integer of more than 18 digits is no id of the sandbox: ``-1`` (an unknown one),
    which also spares ``int()`` its limit on very long strings.
    """
    digits = text[1:] if text.startswith("-") else text
    if not digits.isascii() or not digits.isdigit():
        return None
    return int(text) if len(digits) <= 18 else -1


def is_absent(value: object) -> bool:
    """A missing key, ``null`` and ``""`` are all "not sent"."""
    return value is None or value == ""


class Fields:
    """Checks the fields of one JSON object, collecting one message per bad field."""

    def __init__(self, payload: Mapping[str, Any], lang: str = "EN", prefix: str = "") -> None:
        self.payload = payload
        self.lang = lang
        self.prefix = prefix
        self.errors: list[str] = []

    def fail(self, key: str, name: str = "", **params: object) -> None:
        """Record the message ``key`` for the field ``name``."""
        self.errors.append(message(self.lang, key, self.prefix + name, **params))

    def nested(self, name: str) -> Fields | None:
        """Checks for an object field (``None`` when absent or not an object)."""
        value = self.payload.get(name)
        if is_absent(value):
            return None
        if not isinstance(value, dict):
            self.fail("object", name)
            return None
        child = Fields(value, self.lang, f"{self.prefix}{name}.")
        child.errors = self.errors
        return child

    def present(self, name: str) -> bool:
        return not is_absent(self.payload.get(name))

    def string(self, name: str, *, required: bool = False) -> str | None:
        """A string field (``None`` when absent or bad)."""
        value = self.payload.get(name)
        if is_absent(value):
            if required:
                self.fail("required", name)
            return None
        if not isinstance(value, str):
            self.fail("string", name)
            return None
        return value

    def choice(self, name: str, choices: Collection[str], *, required: bool = False) -> str | None:
        """A string field that must be one of ``choices``."""
        value = self.string(name, required=required)
        if value is not None and value not in choices:
            self.fail("selected", name)
            return None
        return value

    def integer(self, name: str, bounds: tuple[int, int] | None = None) -> int | None:
        """An integer field, within ``bounds`` (inclusive) when given."""
        value = self.payload.get(name)
        if is_absent(value):
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail("integer", name)
            return None
        if bounds is not None and not bounds[0] <= value <= bounds[1]:
            self.fail("between", name, low=bounds[0], high=bounds[1])
            return None
        return int(value)

    def boolean(self, name: str) -> bool | None:
        """A boolean field."""
        value = self.payload.get(name)
        if is_absent(value):
            return None
        if not isinstance(value, bool):
            self.fail("boolean", name)
            return None
        return value

    def amount(self, name: str, places: int, high: Decimal) -> Decimal | None:
        """A JSON number > 0, <= ``high``, with at most ``places`` decimals."""
        value = self.payload.get(name)
        if is_absent(value):
            return None
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            self.fail("number", name)
            return None
        amount = Decimal(value)
        if amount <= 0:
            self.fail("greater", name, low=0)
        elif amount > high:
            self.fail("max", name, high=high)
        elif amount != amount.quantize(Decimal(1).scaleb(-places)):
            self.fail("decimals", name, places=places)
        else:
            return amount
        return None
