"""Send2Sell: pay a vendor order from prepaid credits, through the API, against its sandbox.

Every test pays an order of its own (created through the sandbox's control endpoint):
the sandbox is shared by the session and an order is paid once.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import msgspec
import pytest

from service.app import create_app
from tests.api.helpers import act, idem
from tests.conftest import SEND2SELL_TOKEN
from tests.servers import free_port, serving

START_CREDITS = "1000.00"
BILLING = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "city": "Austin",
    "state": "TX",
    "zip": "73301",
    "phone": "+1 512 555 0100",
}


def order_payment(order_id: int, amount: int | None = None, **billing: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "provider": "send2sell",
        "payment_method": {"type": "prepaid_credits"},
        "merchant_reference": uuid.uuid4().hex,
        "provider_options": {
            "send2sell": {"order_id": order_id, "billing": BILLING | billing},
        },
    }
    if amount is not None:
        body |= {"amount": amount, "currency": "USD"}
    return body


async def new_order(sandbox: httpx.AsyncClient, cost: str = "25", **fields: Any) -> int:
    response = await sandbox.post("/_sandbox/orders", json={"cost": cost} | fields)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def credits(sandbox: httpx.AsyncClient) -> Decimal:
    return Decimal((await sandbox.get("/_sandbox/credits")).json()["credits"])


async def billing_calls(sandbox: httpx.AsyncClient, order_id: int) -> list[dict[str, Any]]:
    """Every billing request the sandbox received for the order."""
    log = (await sandbox.get("/_sandbox/requests")).json()["requests"]
    return [r for r in log if r["path"] == f"/api/order/{order_id}/billing"]


async def order_view(sandbox: httpx.AsyncClient, order_id: int) -> dict[str, Any]:
    """The order as the sandbox sees it, with its payment attempts (status codes)."""
    return (await sandbox.get(f"/_sandbox/orders/{order_id}")).json()


@pytest.fixture
async def s2s(send2sell_sandbox: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """The sandbox with no faults queued, and its credits restored afterwards."""
    await send2sell_sandbox.delete("/_sandbox/faults")
    yield send2sell_sandbox
    await send2sell_sandbox.delete("/_sandbox/faults")
    await send2sell_sandbox.post("/_sandbox/credits", json={"credits": START_CREDITS})


async def pay(client: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    return await client.post("/v1/payments", json=body, headers=idem())


async def until_settled(client: httpx.AsyncClient, payment_id: str) -> httpx.Response:
    """Sync until the attempt is past the time it could still be in flight."""
    for _ in range(60):
        response = await act(client, payment_id, "sync")
        if "may still be in flight" not in response.text:
            return response
        await asyncio.sleep(0.1)
    raise AssertionError("the attempt never left the in-flight window")


# -- paying ----------------------------------------------------------------------------


async def test_paid_order_is_captured_with_its_figures(client, s2s):
    order = await new_order(s2s, "69", tax="5.69")
    before = await credits(s2s)
    response = await pay(client, order_payment(order))
    assert response.status_code == 201, response.text
    payment = response.json()
    assert payment["status"] == "captured"
    assert (payment["amount"], payment["currency"], payment["amount_captured"]) == (
        6900,
        "USD",
        6900,
    )
    assert payment["provider_reference"] == str(order)
    assert [(op["type"], op["amount"], op["status"]) for op in payment["operations"]] == [
        ("authorize", 6900, "succeeded"),
        ("capture", 6900, "succeeded"),
    ]
    details = payment["provider_details"]
    # The doc's success body: the tax is waived with a credit payment, nothing left due.
    assert {k: details[k] for k in ("cost", "discount", "tax", "consumed_credits")} == {
        "cost": 6900,
        "discount": 0,
        "tax": 0,
        "consumed_credits": 6900,
    }
    assert (details["total"], details["net_total"], details["credits_needed"]) == (0, 0, 0)
    assert details["order_status"] == "Paid"
    assert details["requested"]["order_id"] == order
    assert details["requested"]["billing"]["state"] == "TX"
    assert await credits(s2s) == before - Decimal("69")
    view = await order_view(s2s, order)
    assert view["status"] == "Paid"
    assert Decimal(view["consumed_credits"]) == Decimal("69")
    assert view["billing"]["phone"] == BILLING["phone"]
    [call] = await billing_calls(s2s, order)
    assert (call["method"], call["authorized"]) == ("PATCH", True)


async def test_major_unit_figures_are_converted_exactly(client, s2s):
    order = await new_order(s2s, "120.50", discount="12.05", coupon_name="SAVE10", tax="8.95")
    payment = (await pay(client, order_payment(order))).json()
    assert payment["status"] == "captured"
    assert payment["amount"] == payment["amount_captured"] == 10845  # 120.50 - 12.05
    details = payment["provider_details"]
    assert (details["cost"], details["discount"], details["consumed_credits"]) == (
        12050,
        1205,
        10845,
    )
    assert details["coupon_name"] == "SAVE10"
    assert Decimal((await order_view(s2s, order))["consumed_credits"]) == Decimal("108.45")


async def test_insufficient_credits_then_top_up_then_paid(client, s2s):
    order = await new_order(s2s, "69", tax="5.69")
    await s2s.post("/_sandbox/credits", json={"credits": "5.00"})
    first = await pay(client, order_payment(order))
    assert first.status_code == 201, first.text
    failed = first.json()
    assert failed["status"] == "failed"
    assert failed["amount"] is None  # nothing was priced: nothing was paid
    failure = failed["failure"]
    assert failure["code"] == "insufficient_credits"
    assert (failure["provider_code"], failure["provider_message"]) == ("402", "Payment Pending")
    # The doc's own 402: 69 in credits needed, 69 + 5.69 tax = 74.69 to collect otherwise.
    assert failure["details"]["credits_needed"] == 6900
    assert failure["details"]["total"] == failure["details"]["net_total"] == 7469
    assert await credits(s2s) == Decimal("5.00")
    view = await order_view(s2s, order)
    assert view["status"] == "Payment Pending"
    assert view["billing"]["first_name"] == "Ada"  # saved even though unpaid

    topped = await s2s.post("/_sandbox/credits/top-up", json={"amount": "64.00"})
    assert topped.json()["credits"] == "69.00"
    second = await pay(client, order_payment(order))
    paid = second.json()
    assert (paid["status"], paid["amount"], paid["amount_captured"]) == ("captured", 6900, 6900)
    assert paid["id"] != failed["id"]
    assert await credits(s2s) == Decimal("0")
    assert [a["status_code"] for a in (await order_view(s2s, order))["attempts"]] == [402, 200]
    # The failed payment stays failed; syncing it makes no call (it could pay anew).
    calls = len(await billing_calls(s2s, order))
    again = await act(client, failed["id"], "sync")
    assert (again.status_code, again.json()["status"]) == (200, "failed")
    assert len(await billing_calls(s2s, order)) == calls


@pytest.mark.parametrize(
    ("fields", "code", "message"),
    [
        (
            {"other_user": True},
            "provider_forbidden",
            "You are not authorized to access this order.",
        ),
        (
            {"locked": True},
            "payment_not_allowed",
            "This order does not allow payment. Please contact us.",
        ),
        (
            {"has_products": False},
            "order_has_no_products",
            "No cart or products linked to this order.",
        ),
    ],
)
async def test_each_forbidden_answer_is_its_own_decline(client, s2s, fields, code, message):
    order = await new_order(s2s, "10", **fields)
    before = await credits(s2s)
    response = await pay(client, order_payment(order))
    assert response.status_code == 201, response.text
    payment = response.json()
    assert payment["status"] == "failed"
    assert payment["failure"]["code"] == code
    assert (payment["failure"]["provider_code"], payment["failure"]["provider_message"]) == (
        "403",
        message,
    )
    assert await credits(s2s) == before


async def test_an_order_paid_already_is_not_paid_again(client, s2s):
    order = await new_order(s2s, "15")
    first = (await pay(client, order_payment(order))).json()
    assert first["status"] == "captured"
    before = await credits(s2s)
    second = (await pay(client, order_payment(order))).json()
    assert (second["status"], second["failure"]["code"]) == ("failed", "payment_not_allowed")
    assert await credits(s2s) == before


# -- nothing paid twice --------------------------------------------------------------------


async def test_timeout_after_paying_is_settled_without_paying_twice(client, s2s):
    order = await new_order(s2s, "25")
    before = await credits(s2s)
    await s2s.post("/_sandbox/faults", json={"delay_seconds": 1.5, "after_apply": True})
    first = (await pay(client, order_payment(order, amount=2500))).json()
    assert first["status"] == "processing"  # credits consumed, answer lost
    assert await credits(s2s) == before - 25

    # A new payment of the order first settles the attempt in doubt: confirming it again
    # meets "does not allow payment", so the first attempt is what paid the order.
    retry = await pay(client, order_payment(order, amount=2500))
    while "may still be in flight" in retry.text:
        await asyncio.sleep(0.1)
        retry = await pay(client, order_payment(order, amount=2500))
    assert retry.status_code == 409, retry.text
    assert f"was paid by payment {first['id']}" in retry.json()["detail"]
    settled = (await client.get(f"/v1/payments/{first['id']}")).json()
    assert (settled["status"], settled["amount"], settled["amount_captured"]) == (
        "captured",
        2500,
        2500,
    )
    assert await credits(s2s) == before - 25  # consumed once
    attempts = (await order_view(s2s, order))["attempts"]
    assert [a["status_code"] for a in attempts] == [200, 403]
    # Nothing more is sent for it.
    assert (await act(client, first["id"], "sync")).json()["status"] == "captured"
    assert len(await billing_calls(s2s, order)) == 2


async def test_timeout_before_paying_is_settled_by_paying_once(client, s2s):
    order = await new_order(s2s, "25")
    before = await credits(s2s)
    await s2s.post("/_sandbox/faults", json={"status": 504})
    first = (await pay(client, order_payment(order))).json()
    assert first["status"] == "processing"
    assert await credits(s2s) == before

    synced = await until_settled(client, first["id"])
    assert synced.status_code == 200, synced.text
    payment = synced.json()
    assert (payment["status"], payment["amount"], payment["amount_captured"]) == (
        "captured",
        2500,
        2500,
    )
    assert payment["provider_details"]["consumed_credits"] == 2500
    assert await credits(s2s) == before - 25


async def test_in_doubt_with_too_few_credits_fails_then_a_new_payment_works(client, s2s):
    order = await new_order(s2s, "40")
    await s2s.post("/_sandbox/credits", json={"credits": "10.00"})
    await s2s.post("/_sandbox/faults", json={"status": 502})
    first = (await pay(client, order_payment(order))).json()
    assert first["status"] == "processing"

    synced = (await until_settled(client, first["id"])).json()
    assert synced["status"] == "failed"
    assert synced["failure"]["code"] == "insufficient_credits"
    assert synced["failure"]["details"]["credits_needed"] == 4000

    await s2s.post("/_sandbox/credits/top-up", json={"amount": "30.00"})
    second = (await pay(client, order_payment(order))).json()
    assert (second["status"], second["amount"]) == ("captured", 4000)
    assert await credits(s2s) == 0


async def test_paid_in_doubt_without_an_expected_amount_waits_for_an_operator(client, s2s):
    order = await new_order(s2s, "25")
    await s2s.post("/_sandbox/faults", json={"delay_seconds": 1.5, "after_apply": True})
    first = (await pay(client, order_payment(order))).json()
    assert first["status"] == "processing"

    synced = await until_settled(client, first["id"])
    assert synced.status_code == 502
    assert synced.json()["code"] == "provider_protocol_error"
    assert "an operator must settle it" in synced.json()["detail"]
    retry = await pay(client, order_payment(order))
    assert retry.status_code == 409
    assert f"payment {first['id']} in doubt" in retry.json()["detail"]
    still = (await client.get(f"/v1/payments/{first['id']}")).json()
    assert still["status"] == "processing"


async def test_a_new_payment_waits_while_the_first_may_be_in_flight(client, s2s):
    order = await new_order(s2s, "25")
    await s2s.post("/_sandbox/faults", json={"status": 504})
    first = (await pay(client, order_payment(order))).json()
    response = await act(client, first["id"], "sync")
    assert response.status_code == 409
    assert "may still be in flight" in response.json()["detail"]
    retry = await pay(client, order_payment(order))
    assert retry.status_code == 409
    assert "may still be in flight" in retry.json()["detail"]
    assert len(await billing_calls(s2s, order)) == 1


async def test_same_idempotency_key_replays_without_a_call(client, s2s):
    order = await new_order(s2s, "12")
    headers = idem()
    body = order_payment(order)
    first = await client.post("/v1/payments", json=body, headers=headers)
    again = await client.post("/v1/payments", json=body, headers=headers)
    assert first.json() == again.json()
    assert len(await billing_calls(s2s, order)) == 1


# -- refusals before and from the provider ----------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"state": "tx"}, "provider_options.send2sell.billing.state"),
        ({"zip": "123"}, "provider_options.send2sell.billing.zip"),
        ({"first_name": ""}, "provider_options.send2sell.billing.first_name"),
        ({"nickname": "x"}, "provider_options.send2sell.billing"),
    ],
)
async def test_billing_is_validated_before_the_call(client, s2s, change, field):
    order = await new_order(s2s, "5")
    response = await pay(client, order_payment(order, **change))
    assert response.status_code == 422, response.text
    assert field in response.text
    assert await billing_calls(s2s, order) == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"payment_method": {"type": "balance"}}, "payment_method.type"),
        ({"amount": 500, "currency": "EUR"}, "currency"),
    ],
)
async def test_method_and_currency_are_validated_before_the_call(client, s2s, change, field):
    order = await new_order(s2s, "5")
    response = await pay(client, order_payment(order) | change)
    assert response.status_code == 422, response.text
    assert field in response.text
    assert await billing_calls(s2s, order) == []


async def test_missing_billing_is_refused(client):
    body = order_payment(370562)
    del body["provider_options"]["send2sell"]["billing"]
    response = await pay(client, body)
    assert response.status_code == 422
    assert "billing" in response.text


async def test_providers_own_validation_is_passed_through(client, s2s):
    order = await new_order(s2s, "5")
    response = await pay(client, order_payment(order, email="not-an-email"))
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "provider_validation_error"
    assert {"field": "provider", "message": "The email must be a valid email address."} in problem[
        "errors"
    ]
    view = (await s2s.get(f"/_sandbox/orders/{order}")).json()
    assert view["status"] != "Paid"


async def test_unknown_order(client):
    response = await pay(client, order_payment(999_999_999))
    assert (response.status_code, response.json()["code"]) == (422, "provider_order_not_found")


async def test_wrong_token_is_an_operator_problem(settings, key_factory, s2s, capfd):
    wrong = msgspec.structs.replace(
        settings.send2sell, token=type(settings.send2sell.token)("not-the-token")
    )
    secret = await key_factory()
    app = create_app(msgspec.structs.replace(settings, send2sell=wrong))
    headers = {"Authorization": f"Bearer {secret}"}
    order = await new_order(s2s, "5")
    async with serving(app) as url, httpx.AsyncClient(base_url=url, headers=headers) as c:
        response = await c.post("/v1/payments", json=order_payment(order), headers=idem())
    assert response.status_code == 502
    assert response.json()["code"] == "provider_misconfigured"
    assert "not-the-token" not in capfd.readouterr().out


# -- method spoofing ----------------------------------------------------------------------


@pytest.mark.parametrize("spoofing", [True, False])
async def test_method_spoofing_is_a_setting(settings, key_factory, spoofing):
    from service.sandbox.send2sell import Send2SellSandboxConfig, create_send2sell_sandbox

    port = free_port()
    sandbox = create_send2sell_sandbox(Send2SellSandboxConfig(token=SEND2SELL_TOKEN))
    s2s_settings = msgspec.structs.replace(
        settings.send2sell, base_url=f"http://127.0.0.1:{port}", method_spoofing=spoofing
    )
    app = create_app(msgspec.structs.replace(settings, send2sell=s2s_settings))
    headers = {"Authorization": f"Bearer {await key_factory()}"}
    async with (
        serving(sandbox, port) as sandbox_url,
        serving(app) as url,
        httpx.AsyncClient(base_url=url, headers=headers) as c,
        httpx.AsyncClient(base_url=sandbox_url) as control,
    ):
        response = await c.post("/v1/payments", json=order_payment(370564), headers=idem())
        [call] = (await control.get("/_sandbox/requests")).json()["requests"]
        left = (await control.get("/_sandbox/credits")).json()["credits"]
    assert response.json()["status"] == "captured", response.text
    assert call["method"] == ("POST" if spoofing else "PATCH")
    assert left == "85.00"  # order 370564 costs 15
