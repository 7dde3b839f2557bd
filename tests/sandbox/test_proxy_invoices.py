"""Proxy-Solutions sandbox: invoices of the card and crypto merchants, and the invoice page."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.sandbox.proxy_fixtures import (
    CARD_USD,
    KEY,
    PUBLIC_URL,
    proxy_balance,
    proxy_invoices,
    proxy_order,
    proxy_payment,
    proxy_sandbox_client,
)

pytest_plugins = ["tests.sandbox.proxy_fixtures"]

INVOICE_KEYS = [
    "id",
    "url",
    "order_id",
    "merchant",
    "payer_currency",
    "payer_amount",
    "amount_usd",
    "discount",
    "days",
    "status",
    "created_at",
    "paid_at",
]


def invoice_id(url: str) -> str:
    prefix = f"{PUBLIC_URL}/invoice/"
    assert url.startswith(prefix), url
    return url.removeprefix(prefix)


async def issue(client: AsyncTestClient[Any], order_id: int = 1001, **body: Any) -> str:
    payment = await proxy_payment(client, order_id, CARD_USD | body)
    return invoice_id(payment["url"])


@pytest.mark.parametrize(
    ("merchant", "currency"), [("card", "USD"), ("card", "JPY"), ("crypto", "BTC")]
)
async def test_other_merchants_get_an_invoice(
    proxy_client: AsyncTestClient[Any], merchant: str, currency: str
) -> None:
    before = await proxy_order(proxy_client, 1001)
    body = {"merchant": merchant, "currency": currency, "promocode": "SAVE10"}
    payment = await proxy_payment(proxy_client, 1001, body)
    [invoice] = await proxy_invoices(proxy_client)
    assert list(invoice) == INVOICE_KEYS
    assert invoice["id"] == invoice_id(payment["url"])
    assert invoice["url"] == payment["url"]
    assert invoice["order_id"] == 1001
    assert (invoice["merchant"], invoice["payer_currency"]) == (merchant, currency)
    assert (invoice["amount_usd"], invoice["discount"], invoice["days"]) == ("12.00", "10", "30")
    assert invoice["status"] == "unpaid"
    assert invoice["paid_at"] is None
    assert await proxy_order(proxy_client, 1001) == before  # not extended before payment


async def test_invoice_amount_keeps_the_currency_decimals(
    proxy_client: AsyncTestClient[Any],
) -> None:
    await proxy_payment(proxy_client, 1001, {"merchant": "crypto", "currency": "BTC"})
    await proxy_payment(proxy_client, 1001, {"merchant": "card", "currency": "JPY"})
    btc, jpy = await proxy_invoices(proxy_client)
    assert btc["payer_amount"] == "0.00018000"
    assert jpy["payer_amount"] == "1812"


async def test_each_charge_issues_a_new_invoice(proxy_client: AsyncTestClient[Any]) -> None:
    first = await issue(proxy_client)
    second = await issue(proxy_client)
    assert first != second
    assert [item["id"] for item in await proxy_invoices(proxy_client)] == [first, second]


async def test_invoices_never_touch_the_balance(proxy_client: AsyncTestClient[Any]) -> None:
    identifier = await issue(proxy_client)
    await proxy_client.post(f"/invoice/{identifier}")
    assert await proxy_balance(proxy_client) == "100.00"


async def test_invoice_with_a_key_is_still_an_invoice(proxy_client: AsyncTestClient[Any]) -> None:
    payment = await proxy_payment(proxy_client, 1001, CARD_USD, KEY)
    assert payment["url"].startswith(f"{PUBLIC_URL}/invoice/")


async def test_invoice_page_shows_a_pay_button(proxy_client: AsyncTestClient[Any]) -> None:
    identifier = await issue(proxy_client, 1002, currency="EUR", promocode="HALF")
    response = await proxy_client.get(f"/invoice/{identifier}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert '<strong id="amount">20.7</strong>' in page
    assert '<span id="currency">EUR</span>' in page
    assert '<span id="discount">50</span>' in page
    assert '<span id="merchant">Bank card</span>' in page
    assert '<span id="order-id">1002</span>' in page
    assert '<strong id="status">unpaid</strong>' in page
    assert f'<form method="post" action="/invoice/{identifier}">' in page
    assert ">Pay</button>" in page


async def test_paying_the_invoice_extends_the_order(proxy_client: AsyncTestClient[Any]) -> None:
    before = await proxy_order(proxy_client, 1001)
    identifier = await issue(proxy_client, period=15)
    response = await proxy_client.post(f"/invoice/{identifier}", data={"action": "pay"})
    assert response.status_code == 200
    assert '<strong id="status">paid</strong>' in response.text
    assert ">Pay</button>" not in response.text
    after = await proxy_order(proxy_client, 1001)
    paid_until = datetime.fromisoformat(after["paid_until"])
    assert paid_until - datetime.fromisoformat(before["paid_until"]) == timedelta(days=15)
    [charge] = after["charges"]
    assert (charge["invoice_id"], charge["merchant"], charge["payer_amount"]) == (
        identifier,
        "card",
        "6.00",
    )
    [invoice] = await proxy_invoices(proxy_client)
    assert invoice["status"] == "paid"
    assert invoice["paid_at"] == charge["at"]


async def test_paying_an_expired_orders_invoice(proxy_client: AsyncTestClient[Any]) -> None:
    identifier = await issue(proxy_client, 1003, merchant="crypto", currency="USDT")
    await proxy_client.post(f"/invoice/{identifier}")
    order = await proxy_order(proxy_client, 1003)
    assert order["status"] == "active"
    charge_at = datetime.fromisoformat(order["charges"][0]["at"])
    assert datetime.fromisoformat(order["paid_until"]) - charge_at == timedelta(days=30)


async def test_an_invoice_is_paid_once(proxy_client: AsyncTestClient[Any]) -> None:
    identifier = await issue(proxy_client)
    await proxy_client.post(f"/invoice/{identifier}")
    paid = await proxy_order(proxy_client, 1001)
    again = await proxy_client.post(f"/invoice/{identifier}")
    assert again.status_code == 200
    assert '<strong id="status">paid</strong>' in again.text
    assert await proxy_order(proxy_client, 1001) == paid
    page = await proxy_client.get(f"/invoice/{identifier}")
    assert '<strong id="status">paid</strong>' in page.text
    assert 'id="paid-at"' in page.text


async def test_unpaid_invoices_stay_unpaid(proxy_client: AsyncTestClient[Any]) -> None:
    first = await issue(proxy_client)
    second = await issue(proxy_client)
    await proxy_client.post(f"/invoice/{second}")
    statuses = {item["id"]: item["status"] for item in await proxy_invoices(proxy_client)}
    assert statuses == {first: "unpaid", second: "paid"}


@pytest.mark.parametrize("method", ["get", "post"])
async def test_unknown_invoice_page_is_404(proxy_client: AsyncTestClient[Any], method: str) -> None:
    response = await getattr(proxy_client, method)("/invoice/nope")
    assert response.status_code == 404
    assert "No such invoice." in response.text
    assert response.headers["content-type"].startswith("text/html")


async def test_control_shows_one_invoice(proxy_client: AsyncTestClient[Any]) -> None:
    identifier = await issue(proxy_client)
    response = await proxy_client.get(f"/_sandbox/invoices/{identifier}")
    assert response.json() == (await proxy_invoices(proxy_client))[0]
    missing = await proxy_client.get("/_sandbox/invoices/nope")
    assert missing.status_code == 404
    assert missing.json() == {"message": "Invoice not found."}


async def test_invoice_pages_are_not_logged(proxy_client: AsyncTestClient[Any]) -> None:
    identifier = await issue(proxy_client)
    await proxy_client.get(f"/invoice/{identifier}")
    await proxy_client.post(f"/invoice/{identifier}")
    log = (await proxy_client.get("/_sandbox/requests")).json()["requests"]
    assert [entry["path"] for entry in log] == ["/api/user/orders/1001/charge"]


async def test_public_url_builds_the_invoice_url() -> None:
    async with proxy_sandbox_client(public_url="https://pay.example.test/") as client:
        payment = await proxy_payment(client, 1001, CARD_USD)
        assert payment["url"].startswith("https://pay.example.test/invoice/")
