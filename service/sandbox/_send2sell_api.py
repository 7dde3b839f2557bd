"""The Send2Sell order-payment API of the sandbox: ``PATCH /api/order/{id}/billing``.

The pipeline of a billing request, each step answering and stopping on a problem:

1. the body is read and the request logged (with whether its token was right);
2. routing: a non-integer id -> 404 "Not Found"; then the method: PATCH, or a POST whose
   form-encoded body says ``_method=PATCH`` (when spoofing is allowed) -> else 405;
3. the Bearer token -> 401;
4. a pending fault is taken; one with a ``status`` and not ``after_apply`` answers that
   status (after its delay) without applying anything;
5. applying, synchronously (no await between reading and writing the state): an unknown
   order -> 404, a body that is not form-encoded -> 415, the form -> 422, the order's
   refusals -> 403, then the billing details are saved and the credits consumed (200) or
   not (402);
6. a fault taken at step 4 then sleeps its delay and, with a ``status``, answers it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import HttpMethod, Response, route
from litestar.params import FromPath

from ._send2sell_faults import Fault
from ._send2sell_input import FORM_TYPE, ApiError, Form, parse_form, parse_id, validate_billing
from ._send2sell_runtime import (
    BILLING_METHODS,
    NOT_FOUND,
    UNAUTHENTICATED,
    AnyRequest,
    Send2SellSandbox,
    error_response,
    json_response,
    method_not_allowed,
    number,
    sandbox_of,
)
from ._send2sell_state import Attempt, Order, order_time

USE_CREDITS = "1"
PAYMENT_METHOD = "Prepaid credits"
UNSUPPORTED_MEDIA = ApiError(
    415, {"message": f"The request body must be form-encoded ({FORM_TYPE})."}
)


def _amounts(order: Order) -> dict[str, Any]:
    return {
        "cost": number(order.cost),
        "discount": number(order.discount),
        "tax": number(order.tax_due),
        "total": number(order.total),
    }


def paid_view(order: Order) -> dict[str, Any]:
    """The 200 body of a paid order (the doc's success sample)."""
    return {
        "id": order.id,
        "status": order.status,
        "created_at": order_time(order.created_at),
        **_amounts(order),
        "use_credits": USE_CREDITS,
        "consumed_credits": number(order.consumed_credits),
        "payment_method": PAYMENT_METHOD,
        "credits_needed": number(order.credits_needed),
        "net_total": number(order.total),
        "coupon_name": order.coupon_name,
    }


def pending_view(order: Order) -> dict[str, Any]:
    """The 402 body of an order still waiting for its payment (the doc's sample)."""
    return {
        "id": order.id,
        "status": order.status,
        "created_at": order_time(order.created_at),
        **_amounts(order),
        "use_credits": USE_CREDITS,
        "credits_needed": number(order.credits_needed),
        "net_total": number(order.total),
        "coupon_name": order.coupon_name,
    }


def _attempt_response(order: Order, attempt: Attempt) -> Response[bytes]:
    if attempt.status_code == 200:
        return json_response(paid_view(order))
    if attempt.status_code == 402:
        return json_response(pending_view(order), 402)
    return json_response({"message": attempt.message}, attempt.status_code)


def _effective_method(method: str, form: Form | None, spoofing: bool) -> str:
    """The method Laravel routes: a POST's form field ``_method`` overrides it."""
    if method != "POST" or not spoofing or form is None:
        return method
    spoofed = form.text("_method").upper()
    return spoofed if spoofed.isascii() and spoofed.isalpha() else method


def _route(
    sandbox: Send2SellSandbox, request: AnyRequest, order_id: int | None, form: Form | None
) -> None:
    """Routing (404, 405), then authentication (401)."""
    if order_id is None:
        raise ApiError(404, {"message": NOT_FOUND})
    method = _effective_method(request.method, form, sandbox.config.allow_method_spoofing)
    if method != BILLING_METHODS:
        raise method_not_allowed(method, BILLING_METHODS)
    if not sandbox.authorized(request):
        raise UNAUTHENTICATED


def _apply(
    sandbox: Send2SellSandbox, raw_id: str, order_id: int, form: Form | None
) -> Response[bytes]:
    try:
        order = sandbox.state.find(order_id, raw_id)
        if form is None:
            raise UNSUPPORTED_MEDIA
        billing = validate_billing(form)
    except ApiError as error:
        return error_response(error)
    return _attempt_response(order, sandbox.state.pay(order, billing))


def fault_response(fault: Fault) -> Response[bytes]:
    status = fault.status or 500
    return json_response({"message": f"Injected fault: HTTP {status}"}, status)


@route("/api/order/{order_id:str}/billing", http_method=[HttpMethod.PATCH, HttpMethod.POST])
async def billing(request: AnyRequest, order_id: FromPath[str]) -> Response[bytes]:
    """Save an order's billing details, then pay it with the prepaid credits."""
    sandbox = sandbox_of(request)
    body = await request.body()
    parsed_id = parse_id(order_id)
    sandbox.record(request, parsed_id)
    form = parse_form(request.headers.get("content-type", ""), body)
    try:
        _route(sandbox, request, parsed_id, form)
    except ApiError as error:
        return error_response(error)
    assert parsed_id is not None  # _route answered 404 otherwise
    fault = sandbox.faults.take()
    if fault is not None and not fault.applies_first:
        await asyncio.sleep(fault.delay_seconds)
        return fault_response(fault)  # the provider failed before processing anything
    response = _apply(sandbox, order_id, parsed_id, form)
    if fault is None:
        return response
    await asyncio.sleep(fault.delay_seconds)  # applied, then the reply is late
    return response if fault.status is None else fault_response(fault)


API_ROUTES = (billing,)
