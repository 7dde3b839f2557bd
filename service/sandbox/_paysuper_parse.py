"""Validation of the bodies of ``POST /api/v1/order`` and ``POST /api/v1/tokens``.

Checks follow the doc's parameter tables, in their order (the first problem wins). Unknown
fields are ignored; known ones are checked strictly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ._paysuper_input import (
    Payload,
    PaySuperError,
    invalid,
    opt_amount,
    opt_bool,
    opt_choice,
    opt_currency,
    opt_obj,
    opt_str,
    opt_str_list,
    req_obj,
    req_str,
    str_map,
)

ORDER_TYPES = ("key", "product", "simple")
PLATFORMS = ("steam", "gog", "uplay", "origin", "psn", "xbox", "nintendo", "itch", "egs")
ADDRESS_FIELDS = ("country", "city", "postal_code", "state")
_ORDER_STRINGS = ("description", "order_id", "account", "url_success", "url_fail", "token")
_TOKEN_VALUES = ("email", "phone", "name", "ip", "locale")


@dataclass(frozen=True, slots=True)
class UserInput:
    """The customer as the merchant described it (``""`` for what was not sent)."""

    external_id: str = ""
    name: str = ""
    email: str = ""
    email_verified: bool = False
    phone: str = ""
    phone_verified: bool = False
    ip: str = ""
    locale: str = ""
    address: Mapping[str, str] | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OrderInput:
    """A validated order request (from the API body, or from a token)."""

    project: str
    type: str
    amount: Decimal | None
    currency: str | None
    products: tuple[str, ...]
    platform_id: str
    texts: Mapping[str, str]
    user: UserInput
    metadata: Mapping[str, str] = field(default_factory=dict)

    def text(self, name: str) -> str | None:
        """Return one of the optional strings (description, order_id, url_success ...)."""
        return self.texts.get(name)


@dataclass(frozen=True, slots=True)
class TokenInput:
    """A validated token request, kept as the order-body fields it stands for."""

    order_fields: Mapping[str, Any]
    metadata: Mapping[str, str]


def project_not_found(project: str) -> PaySuperError:
    """Build the 404 of an unknown project."""
    return PaySuperError(404, "project_not_found", f"Project {project} not found")


def _check_project(project: str, project_id: str) -> None:
    if project != project_id:
        raise project_not_found(project)


def _address(obj: Payload, path: str) -> dict[str, str] | None:
    address = opt_obj(obj, "address", path)
    if address is None:
        return None
    return {name: opt_str(address, name, f"{path}.{name}") or "" for name in ADDRESS_FIELDS}


def parse_user(payload: Payload) -> UserInput:
    """Validate the order body's optional ``user`` object."""
    user = opt_obj(payload, "user", "user")
    if user is None:
        return UserInput()

    def text(name: str) -> str:
        return opt_str(user, name, f"user.{name}") or ""

    def flag(name: str) -> bool:
        return opt_bool(user, name, f"user.{name}") or False

    return UserInput(
        external_id=text("external_id"),
        name=text("name"),
        email=text("email"),
        email_verified=flag("email_verified"),
        phone=text("phone"),
        phone_verified=flag("phone_verified"),
        ip=text("ip"),
        locale=text("locale"),
        address=_address(user, "user.address"),
        metadata=str_map(user, "metadata", "user.metadata"),
    )


def _require_price(kind: str, amount: object, currency: object, prefix: str) -> None:
    if kind != "simple":
        return
    if amount is None:
        raise invalid(f"{prefix}amount is required for type simple")
    if currency is None:
        raise invalid(f"{prefix}currency is required for type simple")


def _require_products(kind: str, products: object, name: str) -> None:
    if kind != "simple" and products is None:
        raise invalid(f"{name} is required for type {kind}")


def parse_order(payload: Payload, project_id: str) -> OrderInput:
    """Validate a ``POST /api/v1/order`` body (the token's fields already merged in)."""
    project = req_str(payload, "project", "project")
    _check_project(project, project_id)
    kind = opt_choice(payload, "type", "type", ORDER_TYPES)
    if kind is None:
        raise invalid("type is required")
    amount = opt_amount(payload, "amount", "amount")
    currency = opt_currency(payload, "currency", "currency")
    _require_price(kind, amount, currency, "")
    products = opt_str_list(payload, "products", "products")
    _require_products(kind, products, "products")
    platform_id = opt_choice(payload, "platform_id", "platform_id", PLATFORMS)
    if platform_id is not None and kind != "key":
        raise invalid("platform_id is only allowed for type key")
    texts = {name: opt_str(payload, name, name) for name in _ORDER_STRINGS}
    return OrderInput(
        project=project,
        type=kind,
        amount=amount,
        currency=currency,
        products=products or (),
        platform_id=platform_id or "",
        texts={name: value for name, value in texts.items() if value},
        user=parse_user(payload),
    )


def _token_value(user: Payload, name: str) -> tuple[str, bool] | None:
    path = f"user.{name}"
    holder = opt_obj(user, name, path)
    if holder is None:
        return None
    value = req_str(holder, "value", f"{path}.value")
    return value, opt_bool(holder, "verified", f"{path}.verified") or False


def _token_user(payload: Payload) -> dict[str, Any]:
    user = req_obj(payload, "user", "user")
    fields: dict[str, Any] = {"external_id": req_str(user, "id", "user.id")}
    for name in _TOKEN_VALUES:
        found = _token_value(user, name)
        if found is None:
            continue
        fields[name] = found[0]
        if name in ("email", "phone"):
            fields[f"{name}_verified"] = found[1]
    address = _address(user, "user.address")
    if address is not None:
        fields["address"] = address
    fields["metadata"] = str_map(user, "metadata", "user.metadata")
    return fields


def _token_settings(payload: Payload, project_id: str) -> dict[str, Any]:
    settings = req_obj(payload, "settings", "settings")
    project = req_str(settings, "project_id", "settings.project_id")
    _check_project(project, project_id)
    kind = opt_choice(settings, "type", "settings.type", ORDER_TYPES)
    if kind is None:
        raise invalid("settings.type is required")
    amount = opt_amount(settings, "amount", "settings.amount")
    currency = opt_currency(settings, "currency", "settings.currency")
    _require_price(kind, amount, currency, "settings.")
    products = opt_str_list(settings, "products_ids", "settings.products_ids")
    _require_products(kind, products, "settings.products_ids")
    return_url = opt_obj(settings, "return_url", "settings.return_url") or {}
    fields = {
        "project": project,
        "type": kind,
        "amount": amount,
        "currency": currency,
        "products": list(products) if products else None,
        "url_success": opt_str(return_url, "success", "settings.return_url.success"),
        "url_fail": opt_str(return_url, "fail", "settings.return_url.fail"),
        "description": opt_str(settings, "description", "settings.description"),
    }
    return {name: value for name, value in fields.items() if value is not None}


def parse_token(payload: Payload, project_id: str) -> TokenInput:
    """Validate a ``POST /api/v1/tokens`` body (``user`` first, then ``settings``)."""
    user = _token_user(payload)
    settings = _token_settings(payload, project_id)
    metadata = str_map(req_obj(payload, "settings", "settings"), "metadata", "settings.metadata")
    return TokenInput(order_fields={**settings, "user": user}, metadata=metadata)
