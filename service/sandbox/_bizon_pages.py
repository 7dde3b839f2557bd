"""Browser pages of the Bizon sandbox: the hosted payment page, toy ACSes and the TermUrl.

The 3-D Secure 1 ACS is ``GET /acs/{id}``; the 3-D Secure 2.0 ones are the 3DS Method page
``/acs20/method/{id}`` and the challenge page ``/acs20/challenge/{id}`` (GET or POST).

They take no Basic auth (a cardholder's browser calls them), are not written to the request
log and are not subject to injected faults.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from html import escape
from typing import Any
from urllib.parse import parse_qs

from litestar import Request, Response, get, post, route
from litestar.params import FromPath

from ._bizon_input import SandboxError, parse_card
from ._bizon_model import Order, form_html
from ._bizon_runtime import Sandbox, sandbox_of
from ._bizon_threeds2 import CHALLENGE, challenge_result
from ._bizon_views import money

AnyRequest = Request[Any, Any, Any]
_CARD_FIELDS = ("pan", "expiration_month", "expiration_year", "cvv", "holder")


def _page(title: str, body: str, status_code: int = 200) -> Response[str]:
    html = (
        '<!doctype html><html><head><meta charset="utf-8">'
        f"<title>Bizon sandbox - {escape(title)}</title></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )
    return Response(html, status_code=status_code, media_type="text/html; charset=utf-8")


def _redirect(url: str) -> Response[str]:
    return Response("", status_code=302, headers={"Location": url}, media_type="text/plain")


def _result_page(order: Order) -> Response[str]:
    body = (
        f'<p>Order <span id="order-id">{order.id}</span>: '
        f'<strong id="status">{order.status}</strong></p>'
        f"<p>Amount {money(order.amount)} {order.data.currency}, "
        f"charged {money(order.amount_charged)}</p>"
    )
    return _page("Payment result", body)


def _pay_form(order: Order, error: str | None = None, status_code: int = 200) -> Response[str]:
    inputs = "".join(
        f'<p><label>{name.replace("_", " ")} <input name="{name}"></label></p>'
        for name in _CARD_FIELDS
    )
    notice = f'<p id="error" role="alert">{escape(error)}</p>' if error else ""
    body = (
        f"<p>{money(order.amount)} {order.data.currency} "
        f"{escape(order.data.description or '')}</p>{notice}"
        f'<form method="post" action="/pay/{order.id}">{inputs}'
        '<button type="submit">Pay</button></form>'
    )
    return _page("Pay by card", body, status_code)


def _form(body: bytes) -> dict[str, str]:
    fields = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


async def _after_authorization(sandbox: Sandbox, order: Order) -> Response[str]:
    if order.form3d is not None:
        return _redirect(order.form3d["action"])
    if order.slow_reply():
        await asyncio.sleep(sandbox.config.slow_seconds)
    return_url = order.data.options.return_url
    return _redirect(return_url) if return_url else _result_page(order)


def _not_found() -> Response[str]:
    return _page("Order not found", "<p>No such order.</p>", 404)


def _nothing_to_authenticate(order: Order) -> Response[str]:
    return _page("Nothing to authenticate", f"<p>Order status {order.status}.</p>", 409)


@get("/pay/{order_id:str}")
async def pay_page(request: AnyRequest, order_id: FromPath[str]) -> Response[str]:
    """Show the card form of a ``new`` hosted order (or its result once processed)."""
    order = sandbox_of(request).state.orders.get(order_id)
    if order is None:
        return _not_found()
    return _pay_form(order) if order.status == "new" else _result_page(order)


@post("/pay/{order_id:str}")
async def pay_submit(request: AnyRequest, order_id: FromPath[str]) -> Response[str]:
    """Authorize the typed card with the test-card rules, then go to return_url."""
    form = _form(await request.body())
    sandbox = sandbox_of(request)
    # From here on no await until the state change is applied.
    order = sandbox.state.orders.get(order_id)
    if order is None:
        return _not_found()
    if order.status != "new":
        return _result_page(order)
    card = {name: form.get(name, "").strip() for name in _CARD_FIELDS}
    try:
        card_input = parse_card(card["pan"].replace(" ", ""), card)
    except SandboxError as error:
        return _pay_form(order, error.message, 400)
    sandbox.state.pay(order, card_input, request.client.host if request.client else None)
    return await _after_authorization(sandbox, order)


@get("/acs/{order_id:str}")
async def acs_page(request: AnyRequest, order_id: FromPath[str]) -> Response[str]:
    """A toy ACS: post ``MD`` and a ``PaRes`` (``FAIL`` to fail) to the order's TermUrl."""
    order = sandbox_of(request).state.orders.get(order_id)
    if order is None:
        return _not_found()
    if order.form3d is None or "TermUrl" not in order.form3d:
        return _nothing_to_authenticate(order)
    form = order.form3d
    body = (
        f'<form method="post" action="{escape(form["TermUrl"])}">'
        f'<input type="hidden" name="MD" value="{escape(form["MD"])}">'
        '<button name="PaRes" value="AUTHENTICATED">Authenticate</button> '
        '<button name="PaRes" value="FAIL">Fail authentication</button></form>'
    )
    return _page("3-D Secure", body)


@post("/complete/secure3d")
async def complete_secure3d(request: AnyRequest) -> Response[str]:
    """The sandbox's own TermUrl: complete 3-D Secure, then go to return_url."""
    form = _form(await request.body())
    sandbox = sandbox_of(request)
    try:
        order_id = base64.b64decode(form.get("MD", ""), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return _page("Bad request", "<p>MD is not valid.</p>", 400)
    order = sandbox.state.orders.get(order_id)
    if order is None:
        return _not_found()
    if not form.get("PaRes"):
        return _page("Bad request", "<p>PaRes is required.</p>", 400)
    try:
        sandbox.state.complete(order, form["PaRes"])
    except SandboxError as error:
        return _page("Cannot complete", f"<p>{escape(error.message)}</p>", error.status_code)
    return await _after_authorization(sandbox, order)


@route("/acs20/method/{order_id:str}", http_method=["GET", "POST"])
async def acs20_method_page(request: AnyRequest, order_id: FromPath[str]) -> Response[str]:
    """The toy 3DS Method URL: a tiny page that changes nothing (the merchant resumes)."""
    order = sandbox_of(request).state.orders.get(order_id)
    if order is None:
        return _not_found()
    return _page("3DS Method", f'<p id="order-id">{order.id}</p><p>3DS Method done.</p>')


def _challenge_buttons(sandbox: Sandbox, order: Order) -> Response[str]:
    body = (
        f'<form method="post" action="{escape(sandbox.public_url)}/acs20/challenge/{order.id}">'
        '<button name="transStatus" value="Y">Authenticate</button> '
        '<button name="transStatus" value="N">Fail</button></form>'
    )
    return _page("3-D Secure 2.0 challenge", body)


@route("/acs20/challenge/{order_id:str}", http_method=["GET", "POST"])
async def acs20_challenge_page(request: AnyRequest, order_id: FromPath[str]) -> Response[str]:
    """A toy 3-D Secure 2.0 ACS challenge.

    Without ``transStatus`` (the browser arriving with ``creq``) it shows two buttons;
    with ``transStatus`` Y or N it answers the auto-submitting form posting ``cres`` and
    ``threeDSSessionData`` to the order's ``options.secure3d20_return_url``. It changes no
    state: the merchant then calls ``/orders/{id}/complete3d20`` with the ``cres``.
    """
    form = _form(await request.body()) if request.method == "POST" else {}
    sandbox = sandbox_of(request)
    order = sandbox.state.orders.get(order_id)
    if order is None:
        return _not_found()
    return_url = order.data.options.secure3d20_return_url
    if order.threeds2_step != CHALLENGE or not return_url:
        return _nothing_to_authenticate(order)
    choice = form.get("transStatus", "")
    if not choice:
        return _challenge_buttons(sandbox, order)
    if choice not in ("Y", "N"):
        return _page("Bad request", "<p>transStatus must be Y or N.</p>", 400)
    fields = {"action": return_url, "method": "POST"} | challenge_result(order, choice)
    return _page("3-D Secure 2.0 result", form_html(fields))


PAGE_ROUTES = (
    pay_page,
    pay_submit,
    acs_page,
    complete_secure3d,
    acs20_method_page,
    acs20_challenge_page,
)
