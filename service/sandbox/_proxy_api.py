"""The Proxy-Solutions client API of the sandbox (everything under ``/api``).

Each request is logged first (with what its API key header said), then checked. The state
is read and written synchronously after the body was read: no await in between.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from litestar import Response, get, post
from litestar.params import FromPath

from ._proxy_catalogue import BALANCE, MERCHANTS, SERVICES, Service
from ._proxy_charge import parse_charge, price_charge
from ._proxy_input import ProxyError, decode_object, not_found, parse_id, validation
from ._proxy_messages import LANGS, message
from ._proxy_price import parse_price, price_view
from ._proxy_runtime import (
    UNAUTHENTICATED,
    AnyRequest,
    KeyCheck,
    ProxySandbox,
    error_response,
    json_response,
    number,
    sandbox_of,
)
from ._proxy_state import Payment

ORDER_ID_NOT_INTEGER = "The order id must be an integer."


def payment_view(payment: Payment, url: str | None) -> dict[str, Any]:
    """The ``payment`` object of a charge's answer."""
    return {
        "discount": number(payment.discount),
        "merchant": payment.merchant,
        "payer_currency": payment.currency,
        "payer_amount": number(payment.payer_amount),
        "url": url,
    }


def _charge(sandbox: ProxySandbox, key: KeyCheck, raw_id: str, body: bytes) -> dict[str, Any]:
    key.require_not_wrong()
    order_id = parse_id(raw_id)
    if order_id is None:
        raise validation(ORDER_ID_NOT_INTEGER)
    order = sandbox.state.order(order_id)
    data = parse_charge(decode_object(body))
    if data.merchant == BALANCE and not key.authenticated:
        raise UNAUTHENTICATED
    payment = price_charge(order, data)
    if data.merchant == BALANCE:
        sandbox.state.pay_from_balance(payment)
        return {"payment": payment_view(payment, None)}
    invoice = sandbox.state.issue_invoice(payment)
    return {"payment": payment_view(payment, invoice.url)}


@post("/api/user/orders/{order_id:str}/charge")
async def charge(request: AnyRequest, order_id: FromPath[str]) -> Response[bytes]:
    """Pay for an order: from the API balance, or by an invoice for the other merchants."""
    sandbox = sandbox_of(request)
    body = await request.body()
    key = sandbox.record(request)
    try:
        return json_response(_charge(sandbox, key, order_id, body))
    except ProxyError as error:
        return error_response(error)


@get("/api/merchants")
async def merchants(request: AnyRequest) -> Response[bytes]:
    """The active merchants (no authentication)."""
    sandbox_of(request).record(request)
    return json_response({"merchants": [merchant.view() for merchant in MERCHANTS.values()]})


def _service(raw_id: str, lang: str) -> Service:
    service_id = parse_id(raw_id)
    if service_id is None:
        raise validation(message(lang, "integer", "service_id"))
    service = SERVICES.get(service_id)
    if service is None:
        raise not_found(message(lang, "service_not_found"))
    return service


def _numbers(view: dict[str, Any]) -> dict[str, Any]:
    return {
        name: number(value) if isinstance(value, Decimal) else value for name, value in view.items()
    }


@post("/api/services/{service_id:str}/price")
async def price(request: AnyRequest, service_id: FromPath[str]) -> Response[bytes]:
    """Calculate an order's cost (no authentication)."""
    sandbox = sandbox_of(request)
    body = await request.body()
    sandbox.record(request)
    raw_lang = request.query_params.get("lang")
    lang = raw_lang if raw_lang in LANGS else "EN"
    try:
        service = _service(service_id, lang)
        data = parse_price(service, decode_object(body, lang), raw_lang)
    except ProxyError as error:
        return error_response(error)
    return json_response(_numbers(price_view(data)))


API_ROUTES = (charge, merchants, price)
