"""The newer Bizon API routes: rebill, OCT credits, token_pay, resume and complete3d20.

Same pipeline as the other API routes (``serve_api``): request log, Basic auth, faults,
the state change applied before any deliberate delay.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, post
from litestar.params import FromPath

from ._bizon_derived import credit_card, credit_order, rebill, token_pay
from ._bizon_input_ops import (
    parse_card_credit,
    parse_credit,
    parse_cres,
    parse_rebill,
    parse_token_pay,
)
from ._bizon_runtime import Call, Reply, Sandbox, orders_response, serve_api
from ._bizon_threeds2 import check_completable

AnyRequest = Request[Any, Any, Any]


def _rebill(sandbox: Sandbox, call: Call) -> Reply:
    parent = sandbox.state.get(call.order_id or "")
    cvv_required = sandbox.config.rebill_requires_cvv
    data = parse_rebill(call.payload, parent.data, cvv_required=cvv_required)
    order = rebill(sandbox.state, parent, data)
    return Reply(orders_response(sandbox, order), slow=order.slow_reply())


def _credit_order(sandbox: Sandbox, call: Call) -> Reply:
    parent = sandbox.state.get(call.order_id or "")
    order = credit_order(sandbox.state, parent, parse_credit(call.payload, parent.data))
    return Reply(orders_response(sandbox, order), slow=order.slow_reply())


def _credit_card(sandbox: Sandbox, call: Call) -> Reply:
    data, payout = parse_card_credit(call.payload)
    order = credit_card(sandbox.state, data, payout)
    return Reply(orders_response(sandbox, order), slow=order.slow_reply())


def _token_pay(sandbox: Sandbox, call: Call) -> Reply:
    data, dsrp = parse_token_pay(call.payload)
    return Reply(orders_response(sandbox, token_pay(sandbox.state, data, dsrp)))


def _resume(sandbox: Sandbox, call: Call) -> Reply:
    order = sandbox.state.get(call.order_id or "")
    sandbox.state.resume(order)
    return Reply(orders_response(sandbox, order, 201))


def _complete3d20(sandbox: Sandbox, call: Call) -> Reply:
    order = sandbox.state.get(call.order_id or "")
    check_completable(order)  # the order before the body: "no RReq data" wins over cres
    sandbox.state.complete3d20(order, parse_cres(call.payload))
    return Reply(orders_response(sandbox, order), slow=order.slow_reply())


@post("/orders/{order_id:str}/rebill")
async def rebill_order(request: AnyRequest, order_id: FromPath[str]) -> Response[Any]:
    """Authorize a new order on the card of order ``order_id`` (a repeating payment)."""
    return await serve_api(request, _rebill, order_id)


@post("/orders/{order_id:str}/credit")
async def credit_to_order(request: AnyRequest, order_id: FromPath[str]) -> Response[Any]:
    """Pay out (OCT) to the card of a charged or refunded order, as a new order."""
    return await serve_api(request, _credit_order, order_id)


@post("/orders/credit")
async def credit_to_card(request: AnyRequest) -> Response[Any]:
    """Pay out (OCT) to a card number, as a new order."""
    return await serve_api(request, _credit_card)


@post("/orders/token_pay")
async def token_pay_order(request: AnyRequest) -> Response[Any]:
    """Authorize with an Apple Pay or Google Pay token."""
    return await serve_api(request, _token_pay)


@post("/orders/{order_id:str}/resume")
async def resume(request: AnyRequest, order_id: FromPath[str]) -> Response[Any]:
    """Continue a 3-D Secure 2.0 order after the 3DS Method step: 201 with the challenge."""
    return await serve_api(request, _resume, order_id)


@post("/orders/{order_id:str}/complete3d20")
async def complete3d20(request: AnyRequest, order_id: FromPath[str]) -> Response[Any]:
    """Complete a 3-D Secure 2.0 challenge with the ``cres`` of the ACS."""
    return await serve_api(request, _complete3d20, order_id)


API_OPS_ROUTES = (
    rebill_order,
    credit_to_order,
    credit_to_card,
    token_pay_order,
    resume,
    complete3d20,
)
