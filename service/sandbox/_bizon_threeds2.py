"""3-D Secure 2.0 of the Bizon sandbox: frictionless, the 3DS Method step and the challenge.

The challenge flow: authorize answers 201 ``prepared`` with the 3DS Method form
(``threeDSMethodData``); ``POST /orders/:id/resume`` replaces it with the challenge form
(``creq``, ``threeDSSessionData``), after which the order holds RReq data;
``POST /orders/:id/complete3d20`` with the ``cres`` the ACS page produced finishes it.
These functions only move 3-D Secure state; the order book records the operations.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from typing import Any

import msgspec

from ._bizon_cards import AUTHENTICATION_FAILED, Outcome
from ._bizon_input import SandboxError, invalid
from ._bizon_input_ops import Cres
from ._bizon_model import Order, not_allowed, timestamp

METHOD = "method"
CHALLENGE = "challenge"
_NO_RREQ = "no RReq data for this order"


def b64(data: bytes) -> str:
    """Encode bytes in standard base64 (with padding)."""
    return base64.b64encode(data).decode()


def b64json(value: dict[str, Any]) -> str:
    """Encode a JSON object (compact) in standard base64."""
    return b64(msgspec.json.encode(value))


def frictionless(order: Order) -> None:
    """Record a 3-D Secure 2.0 authentication passed without a challenge."""
    order.secure3d.update(
        {
            "version": "2",
            "authorization_status": "Y",
            "scenario": "frictionless",
            "eci": "05",
            "reason": "3ds",
        }
    )


def prepare_method(order: Order, public_url: str) -> None:
    """Put the order in ``prepared`` with the 3DS Method form (step one of a challenge)."""
    trans_id = str(uuid.uuid4())
    order.threeds2_trans_id = trans_id
    order.threeds2_step = METHOD
    order.form3d = {
        "action": f"{public_url}/acs20/method/{order.id}",
        "method": "POST",
        "threeDSMethodData": b64json({"threeDSServerTransID": trans_id}),
    }
    order.secure3d.update({"version": "2", "reason": "3ds", "scenario": "unknown"})
    order.status = "prepared"
    order.updated = timestamp()


def issue_challenge(order: Order, public_url: str) -> None:
    """Answer ``resume``: replace the 3DS Method form by the challenge form."""
    if order.status != "prepared":
        raise not_allowed(order, "resume")
    if order.threeds2_step != METHOD:
        raise SandboxError(409, "state", "Order is not waiting for the 3DS Method step")
    creq = {
        "threeDSServerTransID": order.threeds2_trans_id,
        "acsTransID": str(uuid.uuid4()),
        "messageType": "CReq",
        "messageVersion": "2.1.0",
        "challengeWindowSize": "05",
    }
    order.form3d = {
        "action": f"{public_url}/acs20/challenge/{order.id}",
        "method": "POST",
        "creq": b64json(creq),
        "threeDSSessionData": b64(order.id.encode()),
    }
    order.threeds2_step = CHALLENGE
    order.updated = timestamp()


def check_completable(order: Order) -> None:
    """Refuse ``complete3d20`` unless the order waits for the challenge result.

    409 for ``new`` and for any order no longer ``prepared`` ("Order already completed");
    400 "no RReq data for this order" while the challenge form was not issued (the 3DS
    Method step, or a 3-D Secure 1 order), the order staying ``prepared``.
    """
    if order.status == "new":
        raise not_allowed(order, "complete3d20")
    if order.status != "prepared":
        raise SandboxError(409, "state", "Order already completed")
    if order.threeds2_step != CHALLENGE:
        raise invalid(_NO_RREQ)


def authenticate(order: Order, cres: Cres) -> Outcome:
    """Apply the challenge result; return the authorization outcome to record."""
    check_completable(order)
    if cres.trans_id is not None and cres.trans_id != order.threeds2_trans_id:
        raise invalid("cres.threeDSServerTransID does not match this order")
    assert order.card is not None  # a prepared order always has its card
    order.form3d = None
    order.threeds2_step = None
    if cres.trans_status != "Y" or order.card.behaviour.fails_3ds:
        order.secure3d.update(
            {"version": "2", "scenario": "full", "authorization_status": "N", "eci": "07"}
        )
        return AUTHENTICATION_FAILED
    order.secure3d.update(
        {
            "version": "2",
            "scenario": "full",
            "authorization_status": "Y",
            "eci": "05",
            "cavv": b64(secrets.token_bytes(20)),
            "xid": order.threeds2_trans_id or "",
        }
    )
    return order.card.behaviour.outcome


def challenge_result(order: Order, trans_status: str) -> dict[str, str]:
    """The fields the ACS challenge page posts to the merchant's secure3d20_return_url."""
    cres = {"transStatus": trans_status, "threeDSServerTransID": order.threeds2_trans_id}
    return {"cres": b64json(cres), "threeDSSessionData": b64(order.id.encode())}
