"""Request decoding and the billing form's validation (Laravel style) of the Send2Sell sandbox.

The billing body is ``application/x-www-form-urlencoded``, decoded as UTF-8 (bad bytes
replaced), every value trimmed (spaces, tabs, newlines, NUL) and an empty value counting as
absent (Laravel's TrimStrings and ConvertEmptyStringsToNull). A repeated field keeps its
last value (PHP); ``name[]`` / ``name[key]`` make ``name`` an array, which is no string.
Unknown fields, ``_method`` included, are ignored. Each bad field gets one message (the
first rule it breaks); every bad field is listed, in the order of ``BILLING_FIELDS``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import msgspec

FORM_TYPE = "application/x-www-form-urlencoded"
INVALID_DATA = "The given data was invalid."
MAX_LENGTH = 255
MAX_ID_DIGITS = 18
_BLANKS = " \t\n\r\0\x0b"
_DECODER = msgspec.json.Decoder(float_hook=Decimal)

BILLING_FIELDS = (
    "first_name",
    "last_name",
    "company",
    "address",
    "address2",
    "city",
    "state",
    "zip",
    "country",
    "phone",
    "email",
    "use_credits",
)
REQUIRED = frozenset({"first_name", "city", "state", "zip", "phone", "use_credits"})


@dataclass(frozen=True, slots=True)
class Rule:
    pattern: re.Pattern[str]
    message: str


FORMATS = {
    "state": Rule(re.compile(r"[A-Z]{2}"), "The {label} format is invalid."),
    "zip": Rule(re.compile(r"[0-9]{5}(-[0-9]{4})?"), "The {label} format is invalid."),
    "email": Rule(
        re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+"), "The {label} must be a valid email address."
    ),
}


class ApiError(Exception):
    """An error answered with ``status_code``, a JSON ``content`` and optional headers."""

    def __init__(
        self, status_code: int, content: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(str(content))
        self.status_code = status_code
        self.content = content
        self.headers = headers


def control_error(text: str) -> ApiError:
    """A 400 ``{"message"}`` of a control endpoint."""
    return ApiError(400, {"message": text})


def parse_id(text: str) -> int | None:
    """An integer path id (ASCII digits only; ``None`` when it is not one).

    More than 18 digits is no id of the sandbox: ``-1`` (unknown), which also spares
    ``int()`` its limit on very long strings.
    """
    if not text.isascii() or not text.isdigit():
        return None
    return int(text) if len(text) <= MAX_ID_DIGITS else -1


@dataclass(slots=True)
class Form:
    """A decoded form: the last value of each plain field, and the fields sent as arrays."""

    values: dict[str, str] = field(default_factory=dict)
    arrays: set[str] = field(default_factory=set)

    def text(self, name: str) -> str:
        """The trimmed value of a plain field (``""`` when absent)."""
        return self.values.get(name, "").strip(_BLANKS)


def media_type(content_type: str) -> str:
    return content_type.partition(";")[0].strip().lower()


def parse_form(content_type: str, body: bytes) -> Form | None:
    """Decode a form-encoded body; ``None`` when the body is not form-encoded.

    A body without a Content-Type counts as a form only when it is empty.
    """
    kind = media_type(content_type)
    if kind != FORM_TYPE and (kind or body.strip()):
        return None
    form = Form()
    for key, value in parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True):
        name, bracket, _ = key.partition("[")
        if bracket and key.endswith("]") and name:
            form.arrays.add(name)
            form.values.pop(name, None)
        else:
            form.values[key] = value
            form.arrays.discard(key)
    return form


def _label(name: str) -> str:
    return name.replace("_", " ")


def _check(form: Form, name: str) -> tuple[str | None, str | None]:
    """The value of one billing field and its error message (either may be ``None``)."""
    label = _label(name)
    if name in form.arrays:
        return None, f"The {label} must be a string."
    value = form.text(name)
    if not value:
        return None, f"The {label} field is required." if name in REQUIRED else None
    if name == "use_credits":
        return (value, None) if value == "1" else (None, f"The selected {label} is invalid.")
    if len(value) > MAX_LENGTH:
        return None, f"The {label} must not be greater than {MAX_LENGTH} characters."
    rule = FORMATS.get(name)
    if rule is not None and rule.pattern.fullmatch(value) is None:
        return None, rule.message.format(label=label)
    return value, None


def validate_billing(form: Form) -> dict[str, str | None]:
    """The billing details (every field, ``None`` when not sent), or the 422."""
    billing: dict[str, str | None] = {}
    errors: dict[str, list[str]] = {}
    for name in BILLING_FIELDS:
        value, error = _check(form, name)
        billing[name] = value
        if error is not None:
            errors[name] = [error]
    if errors:
        raise ApiError(422, {"message": INVALID_DATA, "errors": errors})
    return billing


def decode_object(body: bytes) -> dict[str, Any]:
    """Decode a control endpoint's JSON object; an empty body is ``{}``; else 400."""
    if not body.strip():
        return {}
    try:
        value = _DECODER.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        raise control_error("The request body must be a JSON object.") from None
    if not isinstance(value, dict):
        raise control_error("The request body must be a JSON object.")
    return value
