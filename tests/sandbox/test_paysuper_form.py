"""PaySuper sandbox: the hosted payment form, from an order or from a token."""

from __future__ import annotations

import time
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.sandbox.paysuper_fixtures import (
    APPROVED,
    FORM_CARD,
    PROJECT,
    REJECTED,
    SLOW,
    TOKEN,
    create_order,
    show,
    signed_post,
    webhooks,
)

pytest_plugins = ["tests.sandbox.paysuper_fixtures"]

OK_URL = "https://shop.test/ok"
KO_URL = "https://shop.test/ko"


async def submit(client: AsyncTestClient[Any], order_id: str, **fields: str) -> Any:
    form = {"pan": APPROVED} | FORM_CARD | fields
    return await client.post(f"/pay/{order_id}", data=form)


async def test_form_page(paysuper: AsyncTestClient[Any]) -> None:
    order_id = await create_order(paysuper, description="Pack of <gems>")
    page = await paysuper.get(f"/pay/{order_id}")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    for name in ("pan", "expiry_month", "expiry_year", "cvv", "holder"):
        assert f'name="{name}"' in page.text
    assert "12.50 EUR" in page.text
    assert "Pack of &lt;gems&gt;" in page.text
    assert f'action="/pay/{order_id}"' in page.text
    assert (await paysuper.get("/pay/unknown")).status_code == 404
    assert (await submit(paysuper, "unknown")).status_code == 404


async def test_pay_approved_without_redirect(paysuper: AsyncTestClient[Any]) -> None:
    order_id = await create_order(paysuper)
    response = await submit(paysuper, order_id, pan="4111 1111 1111 1111")
    assert response.status_code == 200
    assert '<strong id="status">processed</strong>' in response.text
    order = await show(paysuper, order_id)
    assert order["status"] == "processed"
    card = order["method"]["card"]
    assert (card["masked"], card["expiry_month"], card["expiry_year"]) == (
        "411111...1111",
        "12",
        "2035",
    )
    [event] = await webhooks(paysuper)
    assert (event["event"], event["order_id"]) == ("payment.success", order_id)
    assert event["attempts"] == 0  # no webhook_url: recorded, never sent


async def test_pay_approved_redirects_to_url_success(paysuper: AsyncTestClient[Any]) -> None:
    order_id = await create_order(paysuper, url_success=OK_URL, url_fail=KO_URL)
    response = await submit(paysuper, order_id, expiry_year="35")
    assert (response.status_code, response.headers["location"]) == (302, OK_URL)
    assert (await show(paysuper, order_id))["method"]["card"]["expiry_year"] == "2035"


async def test_rejected_card_redirects_to_url_fail(paysuper: AsyncTestClient[Any]) -> None:
    order_id = await create_order(paysuper, url_success=OK_URL, url_fail=KO_URL)
    response = await submit(paysuper, order_id, pan=REJECTED)
    assert (response.status_code, response.headers["location"]) == (302, KO_URL)
    order = await show(paysuper, order_id)
    assert order["status"] == "rejected"
    assert order["method"]["card"]["last4"] == "0002"
    assert await webhooks(paysuper) == []  # the supplement lists no event for a rejection


async def test_rejected_without_redirect_shows_the_result(paysuper: AsyncTestClient[Any]) -> None:
    order_id = await create_order(paysuper, url_success=OK_URL)
    response = await submit(paysuper, order_id, pan=REJECTED)
    assert response.status_code == 200
    assert '<strong id="status">rejected</strong>' in response.text


async def test_cancel_on_the_form(paysuper: AsyncTestClient[Any]) -> None:
    order_id = await create_order(paysuper, url_fail=KO_URL)
    response = await paysuper.post(f"/pay/{order_id}", data={"action": "cancel"})
    assert (response.status_code, response.headers["location"]) == (302, KO_URL)
    order = await show(paysuper, order_id)
    assert (order["status"], order["canceled"]) == ("canceled", True)
    assert order["cancellation"]["code"] == "canceled_by_customer"
    assert [event["event"] for event in await webhooks(paysuper)] == ["payment.cancel"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"pan": "4111111111111112"}, "pan must be a valid card number"),
        ({"pan": "4111"}, "pan must be a valid card number"),
        ({"pan": ""}, "pan must be a valid card number"),
        ({"expiry_month": "13"}, "expiry_month must be a month"),
        ({"expiry_month": ""}, "expiry_month must be a month"),
        ({"expiry_year": "235"}, "expiry_year must be a year"),
        ({"expiry_month": "01", "expiry_year": "2020"}, "The card has expired"),
        ({"cvv": "12"}, "cvv must be 3 or 4 digits"),
        ({"holder": " "}, "holder is required"),
    ],
)
async def test_bad_card_fields_show_the_form_again(
    paysuper: AsyncTestClient[Any], fields: dict[str, str], message: str
) -> None:
    order_id = await create_order(paysuper, url_fail=KO_URL)
    response = await submit(paysuper, order_id, **fields)
    assert response.status_code == 400
    assert message in response.text
    assert 'name="pan"' in response.text
    assert (await show(paysuper, order_id))["status"] == "created"
    assert await webhooks(paysuper) == []


async def test_a_finished_order_shows_its_result(paysuper: AsyncTestClient[Any]) -> None:
    order_id = await create_order(paysuper, url_success=OK_URL)
    await submit(paysuper, order_id)
    for response in (await paysuper.get(f"/pay/{order_id}"), await submit(paysuper, order_id)):
        assert response.status_code == 200
        assert '<strong id="status">processed</strong>' in response.text
    assert len(await webhooks(paysuper)) == 1  # paying again changed nothing


async def test_slow_card_commits_then_replies_late(paysuper: AsyncTestClient[Any]) -> None:
    order_id = await create_order(paysuper)
    started = time.monotonic()
    response = await submit(paysuper, order_id, pan=SLOW)
    assert time.monotonic() - started >= 0.2  # slow_seconds of the fixture
    assert response.status_code == 200
    assert (await show(paysuper, order_id))["status"] == "processed"


# ---- tokens -------------------------------------------------------------------------------


async def test_token_form_creates_the_order(paysuper: AsyncTestClient[Any]) -> None:
    body = {
        "user": {
            "id": "player-7",
            "email": {"value": "p7@game.test", "verified": True},
            "phone": {"value": "+100200300"},
            "name": {"value": "Player Seven"},
            "ip": {"value": "10.0.0.7"},
            "locale": {"value": "en-US"},
            "address": {"country": "US", "state": "CA"},
            "metadata": {"level": "12"},
        },
        "settings": {
            "project_id": PROJECT,
            "type": "simple",
            "amount": 4.2,
            "currency": "USD",
            "description": "Season pass",
            "return_url": {"success": OK_URL, "fail": KO_URL},
            "metadata": {"cart_id": "c-1", "merchant_order": "m-77"},
        },
    }
    token = (await signed_post(paysuper, "/api/v1/tokens", body)).json()["token"]
    page = await paysuper.get(f"/pay/token/{token}")
    assert page.status_code == 200
    assert 'name="pan"' in page.text
    order = (await paysuper.get(f"/_sandbox/orders/by-token/{token}")).json()
    assert (order["status"], order["amount"], order["currency"]) == ("created", 4.2, "usd")
    assert order["description"] == "Season pass"
    assert order["metadata"] == {"cart_id": "c-1", "merchant_order": "m-77"}
    user = order["user"]
    assert (user["external_id"], user["email"], user["email_verified"]) == (
        "player-7",
        "p7@game.test",
        True,
    )
    assert (user["phone"], user["phone_verified"], user["name"]) == (
        "+100200300",
        False,
        "Player Seven",
    )
    assert (user["ip"], user["locale"], user["metadata"]) == ("10.0.0.7", "en-US", {"level": "12"})
    assert user["address"] == {"country": "US", "city": "", "postal_code": "", "state": "CA"}
    assert f'action="/pay/{order["id"]}"' in page.text

    paid = await submit(paysuper, order["id"])
    assert (paid.status_code, paid.headers["location"]) == (302, OK_URL)
    # Opening the token again shows the same, now processed, order.
    again = await paysuper.get(f"/pay/token/{token}")
    assert order["id"] in again.text
    assert '<strong id="status">processed</strong>' in again.text
    same = (await paysuper.get(f"/_sandbox/orders/by-token/{token}")).json()
    assert (same["id"], same["status"]) == (order["id"], "processed")


async def test_token_return_url_fail(paysuper: AsyncTestClient[Any]) -> None:
    body = TOKEN | {"settings": TOKEN["settings"] | {"return_url": {"fail": KO_URL}}}
    token = (await signed_post(paysuper, "/api/v1/tokens", body)).json()["token"]
    await paysuper.get(f"/pay/token/{token}")
    order_id = (await paysuper.get(f"/_sandbox/orders/by-token/{token}")).json()["id"]
    response = await submit(paysuper, order_id, pan=REJECTED)
    assert (response.status_code, response.headers["location"]) == (302, KO_URL)


async def test_product_token(paysuper: AsyncTestClient[Any]) -> None:
    settings = {"project_id": PROJECT, "type": "product", "products_ids": ["gem", "gold"]}
    body = {"user": {"id": "u"}, "settings": settings}
    token = (await signed_post(paysuper, "/api/v1/tokens", body)).json()["token"]
    await paysuper.get(f"/pay/token/{token}")
    order = (await paysuper.get(f"/_sandbox/orders/by-token/{token}")).json()
    assert (order["type"], order["amount"], order["currency"]) == ("product", 20.0, "usd")
    assert [item["id"] for item in order["items"]] == ["gem", "gold"]
    assert order["metadata"] == {}


async def test_unknown_token_page(paysuper: AsyncTestClient[Any]) -> None:
    assert (await paysuper.get("/pay/token/nope")).status_code == 404
    response = await paysuper.get("/_sandbox/orders/by-token/nope")
    assert (response.status_code, response.json()["code"]) == (404, "order_not_found")
