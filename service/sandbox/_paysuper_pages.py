"""The hosted payment form of the PaySuper sandbox (the customer's browser, no auth).

``GET /pay/{id}`` shows the card form of a ``created`` order (its result otherwise);
``GET /pay/token/{token}`` creates the token's order the first time and shows the same form;
``POST /pay/{id}`` (form-encoded ``pan``, ``expiry_month``, ``expiry_year``, ``cvv``,
``holder``; ``action=cancel`` cancels) processes it. Pages are not in the request log.
"""

from __future__ import annotations

import asyncio
from html import escape
from typing import Any
from urllib.parse import parse_qs

from litestar import Request, Response, get, post
from litestar.params import FromPath

from ._paysuper_cards import SLOW_CARD, parse_cvv, parse_expiry, parse_pan, record_card
from ._paysuper_input import PaySuperError, invalid
from ._paysuper_model import Order
from ._paysuper_runtime import PaySuperSandbox, sandbox_of

AnyRequest = Request[Any, Any, Any]
CARD_FIELDS = ("pan", "expiry_month", "expiry_year", "cvv", "holder")
_LABELS = {
    "pan": "Card number",
    "expiry_month": "Expiry month (MM)",
    "expiry_year": "Expiry year (YYYY)",
    "cvv": "CVV",
    "holder": "Cardholder name",
}
CUSTOMER_CANCEL = ("canceled_by_customer", "The customer canceled the payment on the form")


def _page(title: str, body: str, status_code: int = 200) -> Response[str]:
    html = (
        '<!doctype html><html><head><meta charset="utf-8">'
        f"<title>PaySuper sandbox - {escape(title)}</title></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )
    return Response(html, status_code=status_code, media_type="text/html; charset=utf-8")


def _redirect(url: str) -> Response[str]:
    return Response("", status_code=302, headers={"Location": url}, media_type="text/plain")


def _money(order: Order) -> str:
    return f"{order.amount:.2f} {order.currency}"


def _result_page(order: Order) -> Response[str]:
    body = (
        f'<p>Order <span id="order-id">{order.id}</span>: '
        f'<strong id="status">{order.status}</strong></p><p>{_money(order)}</p>'
    )
    return _page("Payment result", body)


def _pay_form(order: Order, error: str | None = None, status_code: int = 200) -> Response[str]:
    inputs = "".join(
        f'<p><label>{_LABELS[name]} <input name="{name}"></label></p>' for name in CARD_FIELDS
    )
    notice = f'<p id="error" role="alert">{escape(error)}</p>' if error else ""
    body = (
        f'<p id="amount">{_money(order)}</p><p>{escape(order.description)}</p>{notice}'
        f'<form method="post" action="/pay/{order.id}">{inputs}'
        '<button name="action" value="pay" type="submit">Pay</button> '
        '<button name="action" value="cancel" type="submit">Cancel</button></form>'
    )
    return _page("Pay by card", body, status_code)


def _not_found(what: str) -> Response[str]:
    return _page("Not found", f"<p>No such {escape(what)}.</p>", 404)


def _form(body: bytes) -> dict[str, str]:
    fields = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {name: values[0].strip() for name, values in fields.items()}


def _after(order: Order) -> Response[str]:
    url = order.redirect_url()
    return _redirect(url) if url else _result_page(order)


def _show(order: Order | None, what: str) -> Response[str]:
    if order is None:
        return _not_found(what)
    return _pay_form(order) if order.status == "created" else _result_page(order)


@get("/pay/{order_id:str}")
async def pay_page(request: AnyRequest, order_id: FromPath[str]) -> Response[str]:
    """Show the card form of a ``created`` order, or its result."""
    return _show(sandbox_of(request).state.orders.get(order_id), "order")


@get("/pay/token/{token:str}")
async def token_page(request: AnyRequest, token: FromPath[str]) -> Response[str]:
    """Open a token's form: the first visit creates the order (status ``created``)."""
    return _show(sandbox_of(request).state.open_token(token), "token")


def _pay(sandbox: PaySuperSandbox, order: Order, form: dict[str, str]) -> str:
    pan = parse_pan(form.get("pan", ""), "pan")
    month, year = parse_expiry(form.get("expiry_month", ""), form.get("expiry_year", ""))
    parse_cvv(form.get("cvv", ""))
    if not form.get("holder"):
        raise invalid("holder is required")
    if sandbox.state.pay(order, pan, record_card(pan, month, year)):
        sandbox.emit("payment.success", order)
    return pan


@post("/pay/{order_id:str}")
async def pay_submit(request: AnyRequest, order_id: FromPath[str]) -> Response[str]:
    """Pay (or cancel) on the form, then redirect to url_success / url_fail when set."""
    form = _form(await request.body())
    sandbox = sandbox_of(request)
    # From here on no await until the state change is applied.
    order = sandbox.state.orders.get(order_id)
    if order is None:
        return _not_found("order")
    if order.status != "created":
        return _result_page(order)
    if form.get("action") == "cancel":
        sandbox.state.cancel(order, *CUSTOMER_CANCEL)
        sandbox.emit("payment.cancel", order)
        return _after(order)
    try:
        pan = _pay(sandbox, order, form)
    except PaySuperError as error:
        return _pay_form(order, error.message, 400)
    if pan == SLOW_CARD:
        await asyncio.sleep(sandbox.config.slow_seconds)
    return _after(order)
