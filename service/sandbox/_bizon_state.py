"""The in-memory order book of the Bizon sandbox and its state machine.

Every method is synchronous and awaits nothing, so on one event loop each call reads and
writes an order atomically. The allowed transitions are the supplement's table.
"""

from __future__ import annotations

import base64
import ipaddress
import secrets
from collections.abc import Iterator, Mapping
from decimal import Decimal

from ._bizon_cards import (
    AUTHENTICATION_FAILED,
    DEFAULT_BEHAVIOUR,
    EXPIRED_CARD,
    CardBehaviour,
    Outcome,
)
from ._bizon_input import CardInput, OrderInput, SandboxError, invalid
from ._bizon_input_ops import Cres
from ._bizon_model import (
    Operation,
    Order,
    form_html,
    new_auth_code,
    not_allowed,
    record_card,
    timestamp,
)
from ._bizon_threeds2 import authenticate, frictionless, issue_challenge, prepare_method

_THREEDS2_PENDING = "Order is waiting for 3-D Secure 2.0: complete it with complete3d20"


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


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

    def next_seq(self) -> int:
        """Return the next sequence number (orders and operations share it)."""
        self._seq += 1
        return self._seq

    def new_order(self, data: OrderInput, *, hosted: bool = False) -> Order:
        """Create and index an order in status ``new``."""
        order_id = str(10**16 + secrets.randbelow(9 * 10**16))
        while order_id in self.orders:
            order_id = str(10**16 + secrets.randbelow(9 * 10**16))
        now = timestamp()
        order = Order(order_id, self.next_seq(), data, hosted, now, now)
        order.location = dict(data.location)
        order.secure3d = dict(data.secure3d)
        self.orders[order_id] = order
        if data.merchant_order_id is not None:
            self._by_merchant_id.setdefault(data.merchant_order_id, []).append(order)
        return order

    def create_hosted(self, data: OrderInput) -> Order:
        """Create a ``new`` order waiting for the cardholder on the hosted page."""
        return self.new_order(data, hosted=True)

    def authorize(self, data: OrderInput, card: CardInput) -> Order:
        """Create an order and authorize the card (or prepare 3-D Secure)."""
        order = self.new_order(data, hosted=False)
        self._process_card(order, card)
        return order

    def pay(self, order: Order, card: CardInput, client_ip: str | None) -> None:
        """Process the card typed on the hosted page of a ``new`` order."""
        if client_ip and "ip" not in order.location and _is_ip(client_ip):
            order.location["ip"] = client_ip
        self._process_card(order, card)

    # ---- authorization -------------------------------------------------------------------

    def behaviour_of(self, pan: str) -> CardBehaviour:
        """Return how the sandbox treats a card number (the test-card table)."""
        return self._cards.get(pan, DEFAULT_BEHAVIOUR)

    def _process_card(self, order: Order, card: CardInput) -> None:
        behaviour = self.behaviour_of(card.pan)
        order.card = record_card(
            card.pan, behaviour, card.holder, card.expiration_month, card.expiration_year
        )
        options = order.data.options
        if order.card.expired():
            self.finish_authorization(order, EXPIRED_CARD)
        elif behaviour.threeds2 == "frictionless":
            frictionless(order)
            self.finish_authorization(order, behaviour.outcome)
        elif (
            behaviour.threeds2 == "challenge" and options.secure3d20_return_url and not order.hosted
        ):
            prepare_method(order, self._public_url)
        elif options.has("force3d") or behaviour.requires_3ds:
            self._prepare_3ds(order, "force3d" if options.has("force3d") else "card")
        else:
            self.finish_authorization(order, behaviour.outcome)

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
            raise not_allowed(order, "complete")
        if order.status != "prepared" or order.card is None:
            raise SandboxError(409, "state", "Order already completed")
        if order.threeds2_step is not None:
            raise SandboxError(409, "state", _THREEDS2_PENDING)
        order.form3d = None
        behaviour = order.card.behaviour
        if pares == "FAIL" or behaviour.fails_3ds:
            order.secure3d.update(
                {"version": "1", "scenario": "full", "authorization_status": "N", "eci": "07"}
            )
            self.finish_authorization(order, AUTHENTICATION_FAILED)
            return
        order.secure3d.update(
            {"version": "1", "scenario": "full", "authorization_status": "Y", "eci": "05"}
        )
        self.finish_authorization(order, behaviour.outcome)

    def resume(self, order: Order) -> None:
        """Continue after the 3DS Method step: issue the 3-D Secure 2.0 challenge form."""
        issue_challenge(order, self._public_url)

    def complete3d20(self, order: Order, cres: Cres) -> None:
        """Finish a 3-D Secure 2.0 challenge with the ACS's ``cres``."""
        self.finish_authorization(order, authenticate(order, cres))

    def finish_authorization(self, order: Order, outcome: Outcome) -> None:
        """Record the authorize operation (and the charge with auto_charge)."""
        if outcome.approved:
            order.auth_code = new_auth_code()
        self.record(order, "authorize", order.amount, outcome)
        order.status = outcome.order_status
        if outcome.approved and order.data.options.has("auto_charge"):
            self._charge(order, order.amount)

    def record(
        self, order: Order, kind: str, amount: Decimal, outcome: Outcome | None = None
    ) -> None:
        """Append an operation (``success`` "00" unless an outcome is given) to the order."""
        outcome = outcome or _SUCCESS
        operation = Operation(
            seq=self.next_seq(),
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
        self.record(order, "charge", amount)
        order.amount_charged = amount
        order.status = "charged"

    def charge(self, order: Order, amount: Decimal | None) -> None:
        """Charge an authorized order once, fully or partially."""
        if order.status != "authorized":
            raise not_allowed(order, "charge")
        amount = order.amount if amount is None else amount
        if amount > order.amount:
            raise invalid(f"amount {amount} exceeds the authorized amount {order.amount}")
        self._charge(order, amount)

    def reverse(self, order: Order) -> None:
        """Cancel the authorization of an authorized order."""
        if order.status != "authorized":
            raise not_allowed(order, "reverse")
        self.record(order, "reverse", order.amount)
        order.status = "reversed"

    def refund(self, order: Order, amount: Decimal | None, operation: str = "refund") -> None:
        """Refund part or all of what is left of the charged amount."""
        if order.status not in ("charged", "refunded"):
            raise not_allowed(order, operation)
        remaining = order.amount_charged - order.amount_refunded
        if remaining <= 0:
            raise SandboxError(409, "state", "Order has nothing left to refund")
        amount = remaining if amount is None else amount
        if amount > remaining:
            raise invalid(f"amount {amount} exceeds the refundable amount {remaining}")
        self.record(order, "refund", amount)
        order.amount_refunded += amount
        order.status = "refunded"

    def cancel(self, order: Order, amount: Decimal | None) -> None:
        """Reverse an authorized order, refund a charged one (amount ignored when reversing)."""
        if order.status == "authorized":
            self.reverse(order)
        else:
            self.refund(order, amount, operation="cancel")

    def form3d_html(self, order: Order) -> str:
        """Render the order's current auto-submitting 3-D Secure form (``form3d_html``)."""
        return form_html(order.form3d or {})


_SUCCESS = Outcome("", "success", "00", "Approved")
