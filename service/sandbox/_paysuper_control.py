"""The ``/_sandbox`` control endpoints of the PaySuper sandbox (no auth, not logged).

Bodies are optional JSON objects. An unknown order is 404 ``order_not_found``, a bad body
400 ``validation_failed``, a status that does not allow the action 409
``order_status_invalid`` (checked in that order). Order actions answer 200
``{"order": <Order object now>, "event_id": <the notification's id, or null>}``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from litestar import Request, Response, delete, get, post
from litestar.params import FromPath

from ._paysuper_cards import APPROVED_CARD, default_expiry, parse_pan, record_card
from ._paysuper_input import (
    Payload,
    PaySuperError,
    decode_object,
    invalid,
    opt_amount,
    opt_bool,
    opt_int,
    opt_str,
)
from ._paysuper_model import Order
from ._paysuper_runtime import PaySuperSandbox, error_response, json_response, sandbox_of
from ._paysuper_view import order_view
from ._paysuper_webhooks import DeliveryOptions, Event

AnyRequest = Request[Any, Any, Any]
MAX_DUPLICATES = 20
DEFAULT_CANCEL = ("canceled_by_customer", "The customer canceled the payment")
DEFAULT_REFUND_REASON = "Refunded by the merchant"
_ANY_CURRENCY = re.compile(r"[A-Za-z]{3}")
Action = Callable[[PaySuperSandbox, Order, Payload], Event | None]


def _options(payload: Payload) -> DeliveryOptions:
    duplicates = opt_int(payload, "duplicates", "duplicates", 0, MAX_DUPLICATES)
    hold = opt_bool(payload, "hold", "hold")
    return DeliveryOptions(duplicates=duplicates or 0, hold=bool(hold))


async def _payload(request: AnyRequest) -> dict[str, Any]:
    return decode_object(await request.body(), empty_ok=True)


async def _act(request: AnyRequest, order_id: str, action: Action) -> Response[Any]:
    try:
        body = await request.body()
        sandbox = sandbox_of(request)
        order = sandbox.state.get(order_id)
        payload = decode_object(body, empty_ok=True)
        event = action(sandbox, order, payload)
    except PaySuperError as error:
        return error_response(error)
    return json_response({"order": order_view(order), "event_id": event.id if event else None})


def _overrides(payload: Payload) -> tuple[Decimal | None, str | None]:
    amount = opt_amount(payload, "amount", "amount")
    currency = opt_str(payload, "currency", "currency")
    if currency is not None and not _ANY_CURRENCY.fullmatch(currency):
        raise invalid("currency must be a three-letter ISO 4217 code")
    return amount, currency


def _pay(sandbox: PaySuperSandbox, order: Order, payload: Payload) -> Event | None:
    options = _options(payload)
    pan = parse_pan(opt_str(payload, "card", "card") or APPROVED_CARD)
    overrides = _overrides(payload)
    if not sandbox.state.pay(order, pan, record_card(pan, *default_expiry())):
        return None
    return sandbox.emit("payment.success", order, options, overrides)


def _refund(sandbox: PaySuperSandbox, order: Order, payload: Payload) -> Event | None:
    options = _options(payload)
    amount = opt_amount(payload, "amount", "amount")
    reason = opt_str(payload, "reason", "reason") or DEFAULT_REFUND_REASON
    sandbox.state.refund(order, amount, reason)
    return sandbox.emit("payment.refund", order, options)


def _chargeback(sandbox: PaySuperSandbox, order: Order, payload: Payload) -> Event | None:
    options = _options(payload)
    sandbox.state.chargeback(order)
    return sandbox.emit("payment.chargeback", order, options)


def _cancel(sandbox: PaySuperSandbox, order: Order, payload: Payload) -> Event | None:
    options = _options(payload)
    code = opt_str(payload, "code", "code") or DEFAULT_CANCEL[0]
    reason = opt_str(payload, "reason", "reason") or DEFAULT_CANCEL[1]
    sandbox.state.cancel(order, code, reason)
    return sandbox.emit("payment.cancel", order, options)


@post("/_sandbox/orders/{order_id:str}/pay")
async def pay(request: AnyRequest, order_id: FromPath[str]) -> Response[Any]:
    """Pay a ``created`` order as the customer would (``card``, ``amount``/``currency``)."""
    return await _act(request, order_id, _pay)


@post("/_sandbox/orders/{order_id:str}/refund")
async def refund(request: AnyRequest, order_id: FromPath[str]) -> Response[Any]:
    """Refund a processed order (``amount``: default the rest; ``reason``)."""
    return await _act(request, order_id, _refund)


@post("/_sandbox/orders/{order_id:str}/chargeback")
async def chargeback(request: AnyRequest, order_id: FromPath[str]) -> Response[Any]:
    """Charge a processed order back."""
    return await _act(request, order_id, _chargeback)


@post("/_sandbox/orders/{order_id:str}/cancel")
async def cancel(request: AnyRequest, order_id: FromPath[str]) -> Response[Any]:
    """Cancel a ``created`` order (``code``, ``reason``)."""
    return await _act(request, order_id, _cancel)


@get("/_sandbox/orders/{order_id:str}")
async def show_order(request: AnyRequest, order_id: FromPath[str]) -> Response[Any]:
    """Return the current Order object."""
    try:
        return json_response(order_view(sandbox_of(request).state.get(order_id)))
    except PaySuperError as error:
        return error_response(error)


@get("/_sandbox/orders/by-token/{token:str}")
async def order_by_token(request: AnyRequest, token: FromPath[str]) -> Response[Any]:
    """Return the order created when the customer opened the token's form (404 before)."""
    try:
        return json_response(order_view(sandbox_of(request).state.by_token(token)))
    except PaySuperError as error:
        return error_response(error)


@get("/_sandbox/webhooks")
async def list_webhooks(request: AnyRequest) -> Response[Any]:
    """Return every notification and its delivery state, oldest first."""
    return json_response(sandbox_of(request).webhooks.views())


def _flush_order(payload: Payload) -> list[str] | None:
    order = payload.get("order")
    if order is None:
        return None
    if not isinstance(order, list) or not all(isinstance(item, str) for item in order):
        raise invalid("order must be a list of event ids")
    return order


@post("/_sandbox/webhooks/flush")
async def flush_webhooks(request: AnyRequest) -> Response[Any]:
    """Deliver held notifications: all, or the ones of ``order`` in that order."""
    try:
        event_ids = _flush_order(await _payload(request))
        flushed = sandbox_of(request).webhooks.flush(event_ids)
    except PaySuperError as error:
        return error_response(error)
    return json_response({"flushed": flushed})


@get("/_sandbox/requests")
async def requests_log(request: AnyRequest) -> Response[Any]:
    """Return every API request received so far, oldest first."""
    return json_response({"requests": sandbox_of(request).log.entries()})


@delete("/_sandbox/requests", status_code=200)
async def clear_requests_log(request: AnyRequest) -> Response[Any]:
    """Empty the request log."""
    sandbox_of(request).log.clear()
    return json_response({"requests": []})


@post("/_sandbox/reset")
async def reset(request: AnyRequest) -> Response[Any]:
    """Forget orders, tokens, notifications (cancelling deliveries) and the request log."""
    sandbox_of(request).reset()
    return json_response({"reset": True})


CONTROL_ROUTES = (
    pay,
    refund,
    chargeback,
    cancel,
    show_order,
    order_by_token,
    list_webhooks,
    flush_webhooks,
    requests_log,
    clear_requests_log,
    reset,
)
