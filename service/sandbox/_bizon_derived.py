"""Orders made from another order or a wallet token: rebill, OCT credits, token_pay.

Also the chargeback the control endpoint marks. Every function is synchronous, like the
order book's methods, so each reads and writes state atomically on one event loop.
"""

from __future__ import annotations

import secrets

from ._bizon_cards import APPROVED, DO_NOT_HONOR, EXPIRED_CARD, CardBehaviour, Outcome
from ._bizon_input import OrderInput
from ._bizon_input_ops import Dsrp, PayoutCard
from ._bizon_model import CardRecord, Order, new_auth_code, not_allowed, record_card
from ._bizon_state import BizonState
from ._bizon_threeds2 import b64

DECLINING_TOKEN = "decline"  # noqa: S105 - a test value, not a secret
_NO_REBILL = frozenset({"new", "prepared"})
_CREDITABLE = frozenset({"charged", "refunded"})
_APPROVED_TOKEN = CardBehaviour(APPROVED)
_DECLINED_TOKEN = CardBehaviour(DO_NOT_HONOR)


def _outcome(card: CardRecord) -> Outcome:
    return EXPIRED_CARD if card.expired() else card.behaviour.outcome


def _parent_card(parent: Order, operation: str) -> CardRecord:
    if parent.card is None:
        raise not_allowed(parent, operation)
    return parent.card


def rebill(state: BizonState, parent: Order, data: OrderInput) -> Order:
    """Authorize a new order on the parent's card (no 3-D Secure, never auto-charged).

    The outcome is the parent card's test-card outcome (a past expiry declines "54").
    """
    if parent.status in _NO_REBILL:
        raise not_allowed(parent, "rebill")
    card = _parent_card(parent, "rebill")
    order = state.new_order(data)
    order.card = card
    state.finish_authorization(order, _outcome(card))
    return order


def _credit(state: BizonState, order: Order, outcome: Outcome) -> None:
    if outcome.approved:
        order.auth_code = new_auth_code()
    state.record(order, "credit", order.amount, outcome)
    order.status = "credited" if outcome.approved else outcome.order_status


def credit_order(state: BizonState, parent: Order, data: OrderInput) -> Order:
    """OCT on an order: a new ``credited`` order paying ``amount`` to the parent's card."""
    if parent.status not in _CREDITABLE:
        raise not_allowed(parent, "credit")
    card = _parent_card(parent, "credit")
    order = state.new_order(data)
    order.card = card
    _credit(state, order, _outcome(card))
    return order


def credit_card(state: BizonState, data: OrderInput, payout: PayoutCard) -> Order:
    """OCT to a card number: ``credited``, or the decline of a declining test card."""
    order = state.new_order(data)
    order.card = record_card(
        payout.pan,
        state.behaviour_of(payout.pan),
        payout.holder,
        payout.expiration_month,
        payout.expiration_year,
    )
    _credit(state, order, _outcome(order.card))
    return order


def token_pay(state: BizonState, data: OrderInput, dsrp: Dsrp) -> Order:
    """Authorize with a wallet token on the fixed tokenised card; "decline" declines "05"."""
    order = state.new_order(data)
    behaviour = _DECLINED_TOKEN if dsrp.token == DECLINING_TOKEN else _APPROVED_TOKEN
    order.card = CardRecord(
        masked_pan="410937****4320",
        bin="410937",
        type="visa",
        subtype="classic",
        holder=None,
        expiration="7/20",  # the doc's example; a token's card is never checked for expiry
        behaviour=behaviour,
    )
    order.secure3d.update(
        {
            "dsrp_type": dsrp.type,
            "reason": "dsrp",
            "authorization_status": "Y",
            "dsrp": "1",
            "eci": "5",
            "xid": secrets.token_hex(32),
            "cavv": b64(secrets.token_bytes(20)),
            "version": "1",
            "scenario": "unknown",
        }
    )
    state.finish_authorization(order, behaviour.outcome)
    return order


def chargeback(state: BizonState, order: Order) -> None:
    """Mark a charged or refunded order ``chargedback`` for what is left of the charge."""
    if order.status not in _CREDITABLE:
        raise not_allowed(order, "chargeback")
    state.record(order, "chargeback", order.amount_charged - order.amount_refunded)
    order.status = "chargedback"
