"""The in-memory order book of the Bizon sandbox and its state machine.

Every method is synchronous and awaits nothing, so on one event loop each call reads and
writes an order atomically. The allowed transitions are the supplement's table.
"""

from __future__ import annotations

import base64
import ipaddress
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from html import escape

from ._bizon_cards import (
    AUTHENTICATION_FAILED,
    DEFAULT_BEHAVIOUR,
    EXPIRED_CARD,
    CardBehaviour,
    Outcome,
    card_brand,
)
from ._bizon_input import CardInput, OrderInput, SandboxError, invalid

ZERO = Decimal("0.00")
_AUTH_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def timestamp() -> str:
    """Return the current UTC time the way Bizon writes it: ``YYYY-MM-DD HH:MM:SS``."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


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
    """What is kept of a card: never the full PAN nor the CVV."""

    masked_pan: str
    bin: str
    type: str
    subtype: str
    holder: str
    expiration: str
    behaviour: CardBehaviour


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

    @property
    def amount(self) -> Decimal:
        return self.data.amount

    @property
    def descriptor(self) -> str:
        return f"BIZON-SANDBOX/{self.data.options.terminal or 'TERM'}"

    def slow_reply(self) -> bool:
        """Tell whether the reply to the authorization just processed must be late."""
        return self.card is not None and self.card.behaviour.slow and self.status != "prepared"


def _not_allowed(order: Order, operation: str) -> SandboxError:
    return SandboxError(409, "state", f"Order status '{order.status}' does not allow {operation}")


class BizonState:
    """All orders and operations of one sandbox instance."""

    def __init__(self, cards: Mapping[str, CardBehaviour], public_url: str) -> None:
        self._cards = cards
        self._public_url = public_url.rstrip("/")
        self.orders: dict[str, Order] = {}
        self.operations: list[Operation] = []
        self._by_merchant_id: dict[str, list[Order]] = {}
        self._seq = 0

    def reset(self) -> None:
        """Forget every order and operation."""
        self.orders.clear()
        self.operations.clear()
        self._by_merchant_id.clear()

    # ---- reading -------------------------------------------------------------------------

    def get(self, order_id: str) -> Order:
        """Return an order or raise the 404 error."""
        order = self.orders.get(order_id)
        if order is None:
            raise SandboxError(404, "not_found", f"Order {order_id} not found")
        return order

    def newest_first(self, merchant_order_ids: frozenset[str]) -> Iterator[Order]:
        """Orders newest first, narrowed through the index when merchant ids are given."""
        if not merchant_order_ids:
            return reversed(self.orders.values())
        found = [o for mid in merchant_order_ids for o in self._by_merchant_id.get(mid, ())]
        return iter(sorted(found, key=lambda o: o.seq, reverse=True))

    # ---- creating ------------------------------------------------------------------------

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _new_order(self, data: OrderInput, *, hosted: bool) -> Order:
        order_id = str(10**16 + secrets.randbelow(9 * 10**16))
        while order_id in self.orders:
            order_id = str(10**16 + secrets.randbelow(9 * 10**16))
        now = timestamp()
        order = Order(order_id, self._next_seq(), data, hosted, now, now)
        order.location = dict(data.location)
        order.secure3d = dict(data.secure3d)
        self.orders[order_id] = order
        if data.merchant_order_id is not None:
            self._by_merchant_id.setdefault(data.merchant_order_id, []).append(order)
        return order

    def create_hosted(self, data: OrderInput) -> Order:
        """Create a ``new`` order waiting for the cardholder on the hosted page."""
        return self._new_order(data, hosted=True)

    def authorize(self, data: OrderInput, card: CardInput) -> Order:
        """Create an order and authorize the card (or prepare 3-D Secure)."""
        order = self._new_order(data, hosted=False)
        self._process_card(order, card)
        return order

    def pay(self, order: Order, card: CardInput, client_ip: str | None) -> None:
        """Process the card typed on the hosted page of a ``new`` order."""
        if client_ip and "ip" not in order.location and _is_ip(client_ip):
            order.location["ip"] = client_ip
        self._process_card(order, card)

    # ---- authorization -------------------------------------------------------------------

    def _process_card(self, order: Order, card: CardInput) -> None:
        behaviour = self._cards.get(card.pan, DEFAULT_BEHAVIOUR)
        brand, subtype = card_brand(card.pan)
        order.card = CardRecord(
            masked_pan=f"{card.pan[:6]}****{card.pan[-4:]}",
            bin=card.pan[:6],
            type=brand,
            subtype=subtype,
            holder=card.holder,
            expiration=f"{card.expiration_month}/{card.expiration_year % 100:02d}",
            behaviour=behaviour,
        )
        today = datetime.now(UTC)
        if (card.expiration_year, card.expiration_month) < (today.year, today.month):
            self._finish_authorization(order, EXPIRED_CARD)
        elif order.data.options.has("force3d") or behaviour.requires_3ds:
            self._prepare_3ds(order, "force3d" if order.data.options.has("force3d") else "card")
        else:
            self._finish_authorization(order, behaviour.outcome)

    def _prepare_3ds(self, order: Order, reason: str) -> None:
        return_url = order.data.options.return_url
        # A direct-API merchant must receive PaRes to call /complete: its return_url is the
        # TermUrl. Otherwise (hosted page, no return_url) the sandbox completes by itself.
        term_url = return_url if return_url and not order.hosted else None
        pareq = f"{order.id}:{order.amount:.2f}:{order.data.currency}".encode()
        order.form3d = {
            "MD": base64.b64encode(order.id.encode()).decode(),
            "PaReq": base64.b64encode(pareq).decode(),
            "TermUrl": term_url or f"{self._public_url}/complete/secure3d",
            "action": f"{self._public_url}/acs/{order.id}",
            "method": "GET",
        }
        order.secure3d.update({"reason": reason, "scenario": "unknown", "version": "1"})
        order.status = "prepared"
        order.updated = timestamp()

    def complete(self, order: Order, pares: str) -> None:
        """Finish a 3-D Secure 1 authentication with the PaRes the ACS produced."""
        if order.status == "new":
            raise _not_allowed(order, "complete")
        if order.status != "prepared" or order.card is None:
            raise SandboxError(409, "state", "Order already completed")
        order.form3d = None
        behaviour = order.card.behaviour
        if pares == "FAIL" or behaviour.fails_3ds:
            order.secure3d.update({"scenario": "full", "authorization_status": "N", "eci": "07"})
            self._finish_authorization(order, AUTHENTICATION_FAILED)
            return
        order.secure3d.update({"scenario": "full", "authorization_status": "Y", "eci": "05"})
        self._finish_authorization(order, behaviour.outcome)

    def _finish_authorization(self, order: Order, outcome: Outcome) -> None:
        if outcome.approved:
            order.auth_code = "".join(secrets.choice(_AUTH_CODE_ALPHABET) for _ in range(6))
        self._record(order, "authorize", order.amount, outcome)
        order.status = outcome.order_status
        if outcome.approved and order.data.options.has("auto_charge"):
            self._charge(order, order.amount)

    def _record(
        self, order: Order, kind: str, amount: Decimal, outcome: Outcome | None = None
    ) -> None:
        outcome = outcome or _SUCCESS
        operation = Operation(
            seq=self._next_seq(),
            order_id=order.id,
            type=kind,
            status=outcome.operation_status,
            amount=amount,
            currency=order.data.currency,
            created=timestamp(),
            iso_response_code=outcome.iso_response_code,
            iso_message=outcome.iso_message,
            auth_code=order.auth_code if outcome.approved else None,
        )
        order.operations.append(operation)
        self.operations.append(operation)
        order.updated = operation.created

    # ---- money movements -----------------------------------------------------------------

    def _charge(self, order: Order, amount: Decimal) -> None:
        self._record(order, "charge", amount)
        order.amount_charged = amount
        order.status = "charged"

    def charge(self, order: Order, amount: Decimal | None) -> None:
        """Charge an authorized order once, fully or partially."""
        if order.status != "authorized":
            raise _not_allowed(order, "charge")
        amount = order.amount if amount is None else amount
        if amount > order.amount:
            raise invalid(f"amount {amount} exceeds the authorized amount {order.amount}")
        self._charge(order, amount)

    def reverse(self, order: Order) -> None:
        """Cancel the authorization of an authorized order."""
        if order.status != "authorized":
            raise _not_allowed(order, "reverse")
        self._record(order, "reverse", order.amount)
        order.status = "reversed"

    def refund(self, order: Order, amount: Decimal | None, operation: str = "refund") -> None:
        """Refund part or all of what is left of the charged amount."""
        if order.status not in ("charged", "refunded"):
            raise _not_allowed(order, operation)
        remaining = order.amount_charged - order.amount_refunded
        if remaining <= 0:
            raise SandboxError(409, "state", "Order has nothing left to refund")
        amount = remaining if amount is None else amount
        if amount > remaining:
            raise invalid(f"amount {amount} exceeds the refundable amount {remaining}")
        self._record(order, "refund", amount)
        order.amount_refunded += amount
        order.status = "refunded"

    def cancel(self, order: Order, amount: Decimal | None) -> None:
        """Reverse an authorized order, refund a charged one (amount ignored when reversing)."""
        if order.status == "authorized":
            self.reverse(order)
        else:
            self.refund(order, amount, operation="cancel")

    def form3d_html(self, order: Order) -> str:
        """Render the auto-submitting 3-D Secure form, as the doc's ``form3d_html``."""
        form = order.form3d or {}
        fields = "".join(
            f'<input type="hidden" name="{name}" value="{escape(form[name])}">'
            for name in ("MD", "PaReq", "TermUrl")
        )
        return (
            f'<form id="form3d" method="{form.get("method", "GET")}" '
            f'action="{escape(form.get("action", ""))}">{fields}</form>'
            "<script>window.onload = function() {document.forms['form3d'].submit();}</script>"
        )


_SUCCESS = Outcome("", "success", "00", "Approved")
