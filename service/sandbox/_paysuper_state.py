"""The in-memory order book of the PaySuper sandbox and its state machine.

Every method is synchronous and awaits nothing, so on one event loop each call reads and
writes an order atomically. The transitions are the doc's status table: ``created`` ->
``processed`` | ``canceled`` | ``rejected``; ``processed`` -> ``refunded`` | ``chargeback``;
``refunded`` -> ``refunded`` (further partial refunds while the total stays <= amount).
"""

from __future__ import annotations

import dataclasses
import secrets
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ._paysuper_cards import REJECTED_CARD, CardRecord
from ._paysuper_input import PaySuperError, invalid, opt_str
from ._paysuper_model import Order, Refund, Token, not_allowed, now_ns
from ._paysuper_parse import OrderInput, TokenInput, parse_order

PRODUCT_PRICE = Decimal("10.00")  # each product of a product/key order sent without amount
DEFAULT_CURRENCY = "USD"
_FIRST_TRANSACTION = 2978077


def _price(data: OrderInput) -> tuple[Decimal, str]:
    currency = data.currency or DEFAULT_CURRENCY
    if data.amount is not None:
        return data.amount, currency
    return PRODUCT_PRICE * len(data.products), currency


class PaySuperState:
    """All orders and tokens of one sandbox instance."""

    def __init__(self, project_id: str, public_url: str) -> None:
        self._project_id = project_id
        self._public_url = public_url
        self.orders: dict[str, Order] = {}
        self.tokens: dict[str, Token] = {}
        self._user_ids: dict[str, str] = {}
        self._transaction = _FIRST_TRANSACTION

    def reset(self) -> None:
        """Forget every order, token and user."""
        self.orders.clear()
        self.tokens.clear()
        self._user_ids.clear()

    # ---- reading -------------------------------------------------------------------------

    def get(self, order_id: str) -> Order:
        """Return an order or raise the 404."""
        order = self.orders.get(order_id)
        if order is None:
            raise PaySuperError(404, "order_not_found", f"Order {order_id} not found")
        return order

    def by_token(self, token: str) -> Order:
        """Return the order the customer created by opening a token's form, or raise 404."""
        issued = self.tokens.get(token)
        if issued is None or issued.order_id is None:
            raise PaySuperError(404, "order_not_found", "No order was created from this token")
        return self.orders[issued.order_id]

    # ---- creating ------------------------------------------------------------------------

    def _user_id(self, external_id: str) -> str:
        # One PaySuper user per merchant user id (a fresh one for anonymous orders).
        if not external_id:
            return secrets.token_hex(12)
        return self._user_ids.setdefault(external_id, secrets.token_hex(12))

    def create_order(self, data: OrderInput, token: str | None = None) -> Order:
        """Create an order in status ``created``."""
        order_id = str(uuid.uuid4())
        amount, currency = _price(data)
        receipt_id = str(uuid.uuid4())
        self._transaction += 1
        order = Order(
            id=order_id,
            transaction=str(self._transaction),
            data=data,
            amount=amount,
            currency=currency,
            description=data.text("description") or f"Payment by order # {order_id}",
            user_id=self._user_id(data.user.external_id),
            receipt_id=receipt_id,
            receipt_url=f"{self._public_url}/receipt/purchase/{receipt_id}",
            created_ns=now_ns(),
            token=token,
        )
        self.orders[order_id] = order
        return order

    def with_token(self, payload: Mapping[str, Any]) -> tuple[Mapping[str, Any], Token | None]:
        """Merge the fields of the order body's ``token`` over the body's own (the doc)."""
        value = opt_str(payload, "token", "token")
        if not value:
            return payload, None
        token = self.tokens.get(value)
        if token is None:
            raise invalid("token is not a token issued by this project")
        return {**payload, **token.order_fields}, token

    def create_api_order(self, payload: Mapping[str, Any]) -> Order:
        """Validate a ``POST /api/v1/order`` body and create its order."""
        merged, token = self.with_token(payload)
        data = parse_order(merged, self._project_id)
        if token is not None:
            data = dataclasses.replace(data, metadata=token.metadata)
        return self.create_order(data)

    def issue_token(self, request: TokenInput) -> Token:
        """Store a new token."""
        token = Token(secrets.token_urlsafe(32), request.order_fields, request.metadata)
        self.tokens[token.value] = token
        return token

    def open_token(self, value: str) -> Order | None:
        """The customer opens a token's form: its order (created the first time)."""
        token = self.tokens.get(value)
        if token is None:
            return None
        if token.order_id is None:
            data = parse_order(token.order_fields, self._project_id)
            data = dataclasses.replace(data, metadata=token.metadata)
            token.order_id = self.create_order(data, token=value).id
        return self.orders[token.order_id]

    # ---- transitions ---------------------------------------------------------------------

    def pay(self, order: Order, pan: str, card: CardRecord) -> bool:
        """The customer pays a ``created`` order; return whether it was processed."""
        if order.status != "created":
            raise not_allowed(order, "payment")
        order.card = card
        order.status = "rejected" if pan == REJECTED_CARD else "processed"
        return order.status == "processed"

    def cancel(self, order: Order, code: str, reason: str) -> None:
        """The customer cancels a ``created`` order."""
        if order.status != "created":
            raise not_allowed(order, "cancel")
        order.status = "canceled"
        order.canceled_ns = now_ns()
        order.cancellation = {"code": code, "reason": reason}

    def refund(self, order: Order, amount: Decimal | None, reason: str) -> Refund:
        """Refund part or all of what is left of a processed (or partly refunded) order."""
        if order.status not in ("processed", "refunded"):
            raise not_allowed(order, "refund")
        rest = order.amount - order.refunded_total
        if rest <= 0:
            raise PaySuperError(
                409,
                "order_status_invalid",
                "Order status 'refunded' does not allow refund: the order is fully refunded",
            )
        amount = rest if amount is None else amount
        if amount > rest:
            raise invalid(f"amount {amount} exceeds the refundable rest {rest}")
        refund = Refund(amount, reason, f"R-{secrets.token_hex(6).upper()}", now_ns())
        order.refunds.append(refund)
        order.status = "refunded"
        return refund

    def chargeback(self, order: Order) -> None:
        """The payment system charges a processed order back."""
        if order.status != "processed":
            raise not_allowed(order, "chargeback")
        order.status = "chargeback"
        order.chargeback_ns = now_ns()
