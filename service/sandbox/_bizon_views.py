"""Wire views of the Bizon sandbox: orders and operations as bizon.md writes them.

A single order (every order endpoint's reply, ``GET /orders/:id``) is always rendered in
full, with each operation's ``cashflow``: that is what every single-order example of the doc
shows, so ``expand`` is accepted there but changes nothing. ``GET /orders/`` renders the
summary fields of the doc's list example plus what ``expand`` asks for, and
``GET /operations/`` adds ``cashflow`` only with ``expand=cashflow``.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ._bizon_input import CENT
from ._bizon_model import CardRecord, Operation, Order

# The doc's examples (9.99 -> fee 0.30, 1.99 -> fee 0.06) fit a 3 % fee on charges.
_FEE_RATE = Decimal("0.03")
_ZERO = "0.00"
_OUTGOING = frozenset({"refund", "credit", "chargeback"})  # money going back to the card
ORDER_EXPANDS = frozenset(
    {
        "card",
        "client",
        "location",
        "custom_fields",
        "issuer",
        "secure3d",
        "operations",
        "operations.cashflow",
    }
)
OPERATION_EXPANDS = frozenset({"cashflow", "extra"})
EXCHANGE_RATES = (
    {"from": "EUR", "to": "RUB", "rate": "75.132109"},
    {"from": "EUR", "to": "UAH", "rate": "31.562887"},
    {"from": "EUR", "to": "UBT", "rate": "334.000000"},
    {"from": "EUR", "to": "USD", "rate": "1.145036"},
)


def money(amount: Decimal) -> str:
    """Format an amount as Bizon does: a string with two decimals."""
    return f"{amount:.2f}"


def _cashflow(operation: Operation) -> dict[str, str]:
    amount = incoming = fee = Decimal(0)
    if operation.status == "success" and operation.type == "charge":
        fee = (operation.amount * _FEE_RATE).quantize(CENT, rounding=ROUND_HALF_UP)
        amount, incoming = operation.amount, operation.amount - fee
    elif operation.status == "success" and operation.type in _OUTGOING:
        amount = incoming = -operation.amount
    return {
        "amount": money(amount),
        "currency": operation.currency,
        "fee": money(fee),
        "incoming": money(incoming),
        "receivable": money(incoming),
        "reserve": _ZERO,
    }


def operation_view(
    operation: Operation, *, cashflow: bool, order_id: bool = False
) -> dict[str, Any]:
    """Render one operation."""
    view: dict[str, Any] = {
        "amount": money(operation.amount),
        "auth_code": operation.auth_code,
        "created": operation.created,
        "currency": operation.currency,
        "iso_message": operation.iso_message,
        "iso_response_code": operation.iso_response_code,
        "status": operation.status,
        "type": operation.type,
    }
    if order_id:
        view["order_id"] = operation.order_id
    if cashflow:
        view["cashflow"] = _cashflow(operation)
    return view


def _summary(order: Order) -> dict[str, Any]:
    data = order.data
    view: dict[str, Any] = {
        "amount": money(order.amount),
        "amount_charged": money(order.amount_charged),
        "amount_refunded": money(order.amount_refunded),
        "created": order.created,
        "currency": data.currency,
        "description": data.description,
        "id": order.id,
        "merchant_order_id": data.merchant_order_id,
        "status": order.status,
        "updated": order.updated,
    }
    if order.operations:  # the doc shows no auth_code/descriptor before any authorization
        view["auth_code"] = order.auth_code
        view["descriptor"] = order.descriptor
    if order.card is not None:
        view["pan"] = order.card.masked_pan
    if data.segment is not None:
        view["segment"] = data.segment
    return view


def _card_view(card: CardRecord | None) -> dict[str, str]:
    if card is None:
        return {}
    view = {"subtype": card.subtype, "type": card.type, "expiration": card.expiration}
    return view if card.holder is None else {"holder": card.holder} | view


def _expansions(order: Order) -> dict[str, Any]:
    card = order.card
    return {
        "card": _card_view(card),
        "client": dict(order.data.client),
        "location": dict(order.location),
        "custom_fields": dict(order.data.custom_fields),
        "issuer": {}
        if card is None
        else {"bin": card.bin, "country": "USA", "title": "Bizon Sandbox Bank"},
        "secure3d": dict(order.secure3d),
    }


def order_view(order: Order, form3d_html: str | None = None) -> dict[str, Any]:
    """Render an order in full (every expand, operations with cashflow, 3-D Secure form)."""
    view = _summary(order) | _expansions(order)
    view["operations"] = [operation_view(op, cashflow=True) for op in order.operations]
    if order.form3d is not None:
        view["form3d"] = dict(order.form3d)
        view["form3d_html"] = form3d_html
    return view


def order_list_view(order: Order, expand: frozenset[str]) -> dict[str, Any]:
    """Render an order of ``GET /orders/``: summary fields plus the requested expands."""
    view = _summary(order)
    if expand:
        view.update({k: v for k, v in _expansions(order).items() if k in expand})
        cashflow = "operations.cashflow" in expand
        if cashflow or "operations" in expand:
            view["operations"] = [operation_view(op, cashflow=cashflow) for op in order.operations]
    return view
