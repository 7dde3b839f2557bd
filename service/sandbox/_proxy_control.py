"""The ``/_sandbox`` control endpoints of the Proxy-Solutions sandbox (no auth, not logged).

Amounts here are decimal STRINGS (``"100.00"``, ``"0.00018000"``), unlike the API's JSON
numbers; times are ISO 8601 UTC. Errors are ``{"message"}`` (400 bad body, 404 unknown).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from litestar import Response, delete, get, post
from litestar.params import FromPath

from ._proxy_catalogue import USD, plain, round_to
from ._proxy_input import ProxyError, decode_object, not_found, parse_id
from ._proxy_runtime import AnyRequest, error_response, json_response, sandbox_of
from ._proxy_state import Charge, Invoice, Order, Payment, iso, now

MICRO_DAY = Decimal("0.000001")  # days are shown to six decimals
BAD_BODY = ProxyError(400, {"message": "The request body must be a JSON object."})


def _payment(payment: Payment) -> dict[str, Any]:
    return {
        "merchant": payment.merchant,
        "payer_currency": payment.currency,
        "payer_amount": str(payment.payer_amount),
        "amount_usd": str(round_to(payment.amount_usd, USD)),
        "discount": plain(payment.discount),
        "days": plain(payment.days.quantize(MICRO_DAY, rounding=ROUND_HALF_UP)),
    }


def charge_view(charge: Charge) -> dict[str, Any]:
    """One payment applied to an order."""
    return {
        **_payment(charge.payment),
        "invoice_id": charge.invoice_id,
        "at": iso(charge.at),
        "paid_until": iso(charge.paid_until),
    }


def order_view(order: Order) -> dict[str, Any]:
    """An order: its price, where its paid period ends and the payments applied to it."""
    return {
        "id": order.id,
        "status": order.status(now()),
        "price_30d": str(order.price_30d),
        "paid_until": iso(order.paid_until),
        "charges": [charge_view(charge) for charge in order.charges],
    }


def invoice_view(invoice: Invoice) -> dict[str, Any]:
    """An invoice issued by a charge with a merchant other than ``balance``."""
    return {
        "id": invoice.id,
        "url": invoice.url,
        "order_id": invoice.payment.order_id,
        **_payment(invoice.payment),
        "status": invoice.status,
        "created_at": iso(invoice.created_at),
        "paid_at": iso(invoice.paid_at),
    }


@get("/_sandbox/balance")
async def show_balance(request: AnyRequest) -> Response[bytes]:
    """The API balance, a decimal string in USD."""
    return json_response({"balance": str(sandbox_of(request).state.balance)})


@post("/_sandbox/balance")
async def set_balance(request: AnyRequest) -> Response[bytes]:
    """Set the API balance: ``{"balance": "<decimal string>"}``."""
    body = await request.body()
    state = sandbox_of(request).state
    try:
        payload = decode_object(body)
        state.set_balance(payload.get("balance"))
    except ProxyError as error:
        return error_response(error if error.status_code == 400 else BAD_BODY)
    return json_response({"balance": str(state.balance)})


@get("/_sandbox/orders/{order_id:str}")
async def show_order(request: AnyRequest, order_id: FromPath[str]) -> Response[bytes]:
    """One order of the catalogue."""
    try:
        order = sandbox_of(request).state.order(parse_id(order_id))
    except ProxyError as error:
        return error_response(error)
    return json_response(order_view(order))


@get("/_sandbox/invoices")
async def list_invoices(request: AnyRequest) -> Response[bytes]:
    """Every invoice issued, oldest first."""
    invoices = sandbox_of(request).state.invoices.values()
    return json_response([invoice_view(invoice) for invoice in invoices])


@get("/_sandbox/invoices/{invoice_id:str}")
async def show_invoice(request: AnyRequest, invoice_id: FromPath[str]) -> Response[bytes]:
    """One invoice."""
    invoice = sandbox_of(request).state.invoices.get(invoice_id)
    if invoice is None:
        return error_response(not_found("Invoice not found."))
    return json_response(invoice_view(invoice))


@get("/_sandbox/requests")
async def requests_log(request: AnyRequest) -> Response[bytes]:
    """Every API request received so far, oldest first."""
    return json_response({"requests": sandbox_of(request).log.entries()})


@delete("/_sandbox/requests", status_code=200)
async def clear_requests_log(request: AnyRequest) -> Response[bytes]:
    """Empty the request log."""
    sandbox_of(request).log.clear()
    return json_response({"requests": []})


@post("/_sandbox/reset")
async def reset(request: AnyRequest) -> Response[bytes]:
    """Back to the configured balance and the catalogue's orders; no invoices, empty log."""
    sandbox_of(request).reset()
    return json_response({"reset": True})


CONTROL_ROUTES = (
    show_balance,
    set_balance,
    show_order,
    list_invoices,
    show_invoice,
    requests_log,
    clear_requests_log,
    reset,
)
