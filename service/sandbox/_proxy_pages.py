"""The invoice page of the Proxy-Solutions sandbox (the payer's browser, no auth, not logged).

``GET /invoice/{id}`` shows the invoice (order, merchant, amount, discount, status) with a
Pay button while it is unpaid; ``POST /invoice/{id}`` (the button; the form body is
ignored) marks it paid and extends its order, then shows the result. A paid invoice is
shown as paid and a second POST changes nothing (200). An unknown invoice: 404 page.
"""

from __future__ import annotations

from html import escape

from litestar import Response, get, post
from litestar.params import FromPath

from ._proxy_catalogue import MERCHANTS, plain
from ._proxy_runtime import AnyRequest, sandbox_of
from ._proxy_state import Invoice, iso


def _page(title: str, body: str, status_code: int = 200) -> Response[str]:
    html = (
        '<!doctype html><html><head><meta charset="utf-8">'
        f"<title>Proxy-Solutions sandbox - {escape(title)}</title></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )
    return Response(html, status_code=status_code, media_type="text/html; charset=utf-8")


def _details(invoice: Invoice) -> str:
    payment = invoice.payment
    merchant = MERCHANTS[payment.merchant].name
    return (
        f'<p>Order <span id="order-id">{payment.order_id}</span></p>'
        f'<p>Payment method: <span id="merchant">{escape(merchant)}</span></p>'
        f'<p>Amount: <strong id="amount">{plain(payment.payer_amount)}</strong> '
        f'<span id="currency">{escape(payment.currency)}</span></p>'
        f'<p>Discount: <span id="discount">{plain(payment.discount)}</span>%</p>'
        f'<p>Status: <strong id="status">{invoice.status}</strong></p>'
    )


def _invoice_page(invoice: Invoice) -> Response[str]:
    if invoice.paid_at is not None:
        paid = f'<p>Paid at <span id="paid-at">{iso(invoice.paid_at)}</span></p>'
        return _page("Invoice", _details(invoice) + paid)
    form = (
        f'<form method="post" action="/invoice/{escape(invoice.id)}">'
        '<button name="action" value="pay" type="submit">Pay</button></form>'
    )
    return _page("Invoice", _details(invoice) + form)


def _not_found() -> Response[str]:
    return _page("Not found", "<p>No such invoice.</p>", 404)


@get("/invoice/{invoice_id:str}")
async def invoice_page(request: AnyRequest, invoice_id: FromPath[str]) -> Response[str]:
    """Show an invoice, with its Pay button while it is unpaid."""
    invoice = sandbox_of(request).state.invoices.get(invoice_id)
    return _not_found() if invoice is None else _invoice_page(invoice)


@post("/invoice/{invoice_id:str}")
async def invoice_pay(request: AnyRequest, invoice_id: FromPath[str]) -> Response[str]:
    """The payer pays: the invoice is paid and its order extended (once)."""
    await request.body()
    state = sandbox_of(request).state
    invoice = state.invoices.get(invoice_id)
    if invoice is None:
        return _not_found()
    state.pay_invoice(invoice)
    return _invoice_page(invoice)


PAGE_ROUTES = (invoice_page, invoice_pay)
