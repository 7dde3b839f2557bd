"""The ``/_sandbox`` control endpoints of the Send2Sell sandbox (no auth, not logged).

Amounts here are decimal STRINGS with two decimals (``"100.00"``), unlike the API's JSON
numbers; the control bodies accept decimal strings or JSON numbers. Errors are
``{"message"}``: 400 bad body, 404 unknown order, 409 order id taken.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from litestar import Response, delete, get, post
from litestar.params import FromPath

from ._send2sell_faults import parse_fault
from ._send2sell_input import MAX_LENGTH, ApiError, control_error, decode_object, parse_id
from ._send2sell_runtime import AnyRequest, error_response, json_response, sandbox_of
from ._send2sell_state import (
    MAX_ORDER_ID,
    ZERO,
    Attempt,
    Order,
    Send2SellState,
    iso,
    now,
    order_time,
    parse_amount,
)


def attempt_view(attempt: Attempt) -> dict[str, Any]:
    """One billing request that reached the order's checks."""
    return {
        "at": iso(attempt.at),
        "status_code": attempt.status_code,
        "outcome": attempt.outcome,
        "message": attempt.message,
        "credits_needed": str(attempt.credits_needed),
        "consumed_credits": str(attempt.consumed_credits),
        "credits_after": str(attempt.credits_after),
    }


def order_view(order: Order) -> dict[str, Any]:
    """An order with its catalogue amounts, what is still due, its billing and attempts."""
    return {
        "id": order.id,
        "status": order.status,
        "created_at": order_time(order.created_at),
        "cost": str(order.cost),
        "discount": str(order.discount),
        "tax": str(order.tax),
        "coupon_name": order.coupon_name,
        "credits_needed": str(order.credits_needed),
        "total": str(order.total),
        "consumed_credits": str(order.consumed_credits),
        "other_user": order.other_user,
        "has_products": order.has_products,
        "locked": order.locked,
        "billing": order.billing,
        "attempts": [attempt_view(attempt) for attempt in order.attempts],
    }


def _amount(payload: dict[str, Any], name: str, *, required: bool = False) -> Decimal:
    value = payload.get(name)
    if value is None and not required:
        return ZERO
    amount = parse_amount(value)
    if amount is None:
        raise control_error(f"{name} must be a decimal string from 0 to 10**12, 2 decimals")
    return amount


def _flag(payload: dict[str, Any], name: str, default: bool) -> bool:
    value = payload.get(name, default)
    if not isinstance(value, bool):
        raise control_error(f"{name} must be a boolean")
    return value


def _new_id(payload: dict[str, Any], state: Send2SellState) -> int:
    value = payload.get("id")
    if value is None:
        return state.next_id()
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ORDER_ID:
        raise control_error(f"id must be an integer from 1 to {MAX_ORDER_ID}")
    return value


def _coupon(payload: dict[str, Any]) -> str:
    value = payload.get("coupon_name", "")
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > MAX_LENGTH:
        raise control_error(f"coupon_name must be a string of at most {MAX_LENGTH} characters")
    return value


def new_order(payload: dict[str, Any], state: Send2SellState) -> Order:
    """Build the order of ``POST /_sandbox/orders`` (400 on a bad field)."""
    order = Order(
        id=_new_id(payload, state),
        created_at=now(),
        cost=_amount(payload, "cost", required=True),
        tax=_amount(payload, "tax"),
        discount=_amount(payload, "discount"),
        coupon_name=_coupon(payload),
        other_user=_flag(payload, "other_user", False),
        has_products=_flag(payload, "has_products", True),
        locked=_flag(payload, "locked", False),
    )
    if order.discount > order.cost:
        raise control_error("discount must not be greater than cost")
    return order


async def _payload(request: AnyRequest) -> dict[str, Any]:
    return decode_object(await request.body())


@get("/_sandbox/credits")
async def show_credits(request: AnyRequest) -> Response[bytes]:
    """The API user's prepaid credits, a decimal string in USD."""
    return json_response({"credits": str(sandbox_of(request).state.credits)})


@post("/_sandbox/credits")
async def set_credits(request: AnyRequest) -> Response[bytes]:
    """Set the credits: ``{"credits": "<decimal string>"}``."""
    state = sandbox_of(request).state
    try:
        state.set_credits((await _payload(request)).get("credits"))
    except ApiError as error:
        return error_response(error)
    return json_response({"credits": str(state.credits)})


@post("/_sandbox/credits/top-up")
async def top_up(request: AnyRequest) -> Response[bytes]:
    """Add to the credits: ``{"amount": "<decimal string>"}``."""
    state = sandbox_of(request).state
    try:
        state.top_up((await _payload(request)).get("amount"))
    except ApiError as error:
        return error_response(error)
    return json_response({"credits": str(state.credits)})


@get("/_sandbox/orders/{order_id:str}")
async def show_order(request: AnyRequest, order_id: FromPath[str]) -> Response[bytes]:
    """One order, with its saved billing details and payment attempts."""
    parsed = parse_id(order_id)
    order = None if parsed is None else sandbox_of(request).state.orders.get(parsed)
    if order is None:
        return json_response({"message": f"Order {order_id} not found."}, 404)
    return json_response(order_view(order))


@post("/_sandbox/orders")
async def create_order(request: AnyRequest) -> Response[bytes]:
    """Create a fresh Payment Pending order: ``{"id"?, "cost", "tax"?, "discount"?, ...}``."""
    state = sandbox_of(request).state
    try:
        order = state.add_order(new_order(await _payload(request), state))
    except ApiError as error:
        return error_response(error)
    return json_response(order_view(order), 201)


@get("/_sandbox/faults")
async def list_faults(request: AnyRequest) -> Response[bytes]:
    """The faults still pending."""
    return json_response({"faults": sandbox_of(request).faults.views()})


@post("/_sandbox/faults")
async def add_fault(request: AnyRequest) -> Response[bytes]:
    """Register a fault for the next ``times`` billing requests."""
    faults = sandbox_of(request).faults
    try:
        faults.add(parse_fault(await _payload(request)))
    except ApiError as error:
        return error_response(error)
    return json_response({"faults": faults.views()}, 201)


@delete("/_sandbox/faults", status_code=200)
async def clear_faults(request: AnyRequest) -> Response[bytes]:
    """Drop every pending fault."""
    sandbox_of(request).faults.clear()
    return json_response({"faults": []})


@get("/_sandbox/requests")
async def requests_log(request: AnyRequest) -> Response[bytes]:
    """Every request received outside ``/_sandbox``, oldest first."""
    return json_response({"requests": sandbox_of(request).log.entries()})


@delete("/_sandbox/requests", status_code=200)
async def clear_requests_log(request: AnyRequest) -> Response[bytes]:
    """Empty the request log."""
    sandbox_of(request).log.clear()
    return json_response({"requests": []})


@post("/_sandbox/reset")
async def reset(request: AnyRequest) -> Response[bytes]:
    """Back to the configured credits and the catalogue; no faults, an empty log."""
    sandbox_of(request).reset()
    return json_response({"reset": True})


CONTROL_ROUTES = (
    show_credits,
    set_credits,
    top_up,
    show_order,
    create_order,
    list_faults,
    add_fault,
    clear_faults,
    requests_log,
    clear_requests_log,
    reset,
)
