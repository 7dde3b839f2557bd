"""PaySuper end to end: hosted checkout, signed calls, signed notifications settling the ledger."""

import json
import uuid

import httpx
import msgspec
import pytest

from service.app import create_app
from tests.api.helpers import act, log_events
from tests.api.paysuper_helpers import (
    create_hosted,
    events,
    hosted,
    settle_deliveries,
    signed,
    wait_for,
)
from tests.conftest import PAYSUPER_PROJECT
from tests.servers import serving
from tests.stub_providers import failing_paysuper


async def test_order_checkout_paid_on_the_form_is_captured(client, paysuper_sandbox):
    payment = await create_hosted(client)
    assert payment["status"] == "requires_action"
    action = payment["next_action"]
    assert (action["type"], action["purpose"]) == ("redirect", "hosted_page")
    order_id = payment["provider_reference"]
    assert action["url"].endswith(f"/pay/{order_id}")
    async with httpx.AsyncClient() as browser:  # the customer on PaySuper's form
        paid = await browser.post(
            action["url"],
            data={
                "pan": "4111111111111111",
                "expiry_month": "12",
                "expiry_year": "2030",
                "cvv": "123",
                "holder": "Jane Doe",
                "action": "pay",
            },
        )
    assert paid.status_code in (200, 302, 303), paid.text
    captured = await wait_for(client, payment["id"], "captured")
    assert captured["amount_captured"] == 1250
    assert [(op["type"], op["status"], op["source"]) for op in captured["operations"]] == [
        ("authorize", "succeeded", "api"),
        ("capture", "succeeded", "provider"),
    ]
    assert captured["payment_method"]["card"]["last4"] == "1111"
    [event] = [e for e in await events(client) if e["payment_id"] == payment["id"]]
    assert (event["event_type"], event["status"]) == ("payment.success", "applied")


async def test_signed_calls_reach_the_sandbox(client, paysuper_sandbox):
    await create_hosted(client)
    log = (await paysuper_sandbox.get("/_sandbox/requests")).json()["requests"]
    assert any(r["method"] == "POST" and r["path"] == "/api/v1/order" for r in log)


async def test_token_checkout_matches_by_our_id(client, paysuper_sandbox):
    payment = await create_hosted(
        client,
        checkout="token",
        user={
            "id": "user-42",
            "email": "buyer@example.com",
            "email_verified": True,
            "locale": "en",
        },
    )
    assert payment["status"] == "requires_action"
    assert payment["provider_reference"] is None  # a token has no order yet
    url = payment["next_action"]["url"]
    token = url.rsplit("/", 1)[1]
    async with httpx.AsyncClient() as browser:
        assert (await browser.get(url)).status_code == 200  # opening the form makes the order
    order = (await paysuper_sandbox.get(f"/_sandbox/orders/by-token/{token}")).json()
    assert (
        await paysuper_sandbox.post(f"/_sandbox/orders/{order['id']}/pay", json={})
    ).status_code == 200
    captured = await wait_for(client, payment["id"], "captured")
    assert captured["provider_reference"] == order["id"]


async def _paid(client: httpx.AsyncClient, paysuper_sandbox: httpx.AsyncClient, **kw) -> dict:
    payment = await create_hosted(client, **kw)
    response = await paysuper_sandbox.post(
        f"/_sandbox/orders/{payment['provider_reference']}/pay", json={}
    )
    assert response.status_code == 200, response.text
    return await wait_for(client, payment["id"], "captured")


async def test_partial_refunds_by_amount(client, paysuper_sandbox):
    payment = await _paid(client, paysuper_sandbox)
    order = payment["provider_reference"]
    await paysuper_sandbox.post(f"/_sandbox/orders/{order}/refund", json={"amount": 2.5})
    partial = await wait_for(client, payment["id"], "partially_refunded")
    assert partial["amount_refunded"] == 250
    await paysuper_sandbox.post(f"/_sandbox/orders/{order}/refund", json={"amount": 10})
    refunded = await wait_for(client, payment["id"], "refunded")
    assert [op["amount"] for op in refunded["operations"] if op["type"] == "refund"] == [250, 1000]


async def test_chargeback(client, paysuper_sandbox):
    payment = await _paid(client, paysuper_sandbox)
    await paysuper_sandbox.post(
        f"/_sandbox/orders/{payment['provider_reference']}/chargeback", json={}
    )
    charged_back = await wait_for(client, payment["id"], "charged_back")
    last = charged_back["operations"][-1]
    assert (last["type"], last["amount"], last["source"]) == ("chargeback", 1250, "provider")


async def test_full_refund(client, paysuper_sandbox):
    payment = await _paid(client, paysuper_sandbox)
    await paysuper_sandbox.post(f"/_sandbox/orders/{payment['provider_reference']}/refund", json={})
    refunded = await wait_for(client, payment["id"], "refunded")
    assert refunded["amount_refunded"] == 1250


async def test_cancel_voids(client, paysuper_sandbox):
    payment = await create_hosted(client)
    await paysuper_sandbox.post(f"/_sandbox/orders/{payment['provider_reference']}/cancel", json={})
    voided = await wait_for(client, payment["id"], "voided")
    assert voided["operations"][0]["status"] == "failed"
    assert voided["operations"][0]["failure"]["code"] == "canceled"
    assert voided["operations"][-1]["type"] == "void"


async def test_duplicate_deliveries_apply_once(client, paysuper_sandbox):
    payment = await create_hosted(client)
    order = payment["provider_reference"]
    await paysuper_sandbox.post(f"/_sandbox/orders/{order}/pay", json={"duplicates": 3})
    await settle_deliveries(paysuper_sandbox, order)
    captured = await wait_for(client, payment["id"], "captured")
    assert len(captured["operations"]) == 2  # authorize + capture, once
    assert len([e for e in await events(client) if e["payment_id"] == payment["id"]]) == 1
    deliveries = [
        r
        for r in (await paysuper_sandbox.get("/_sandbox/webhooks")).json()
        if r["order_id"] == order
    ]
    assert sum(r["attempts"] for r in deliveries) >= 4  # all of them acknowledged with 200
    assert all(r["last_status"] == 200 for r in deliveries)


async def test_refund_before_success_never_moves_backwards(client, paysuper_sandbox):
    payment = await create_hosted(client)
    order = payment["provider_reference"]
    success = (
        await paysuper_sandbox.post(f"/_sandbox/orders/{order}/pay", json={"hold": True})
    ).json()
    refund = (
        await paysuper_sandbox.post(
            f"/_sandbox/orders/{order}/refund", json={"amount": 5, "hold": True}
        )
    ).json()
    flushed = await paysuper_sandbox.post(
        "/_sandbox/webhooks/flush", json={"order": [refund["event_id"], success["event_id"]]}
    )
    assert flushed.status_code == 200, flushed.text
    await settle_deliveries(paysuper_sandbox, order)
    final = await wait_for(client, payment["id"], "partially_refunded")
    assert (final["amount_captured"], final["amount_refunded"]) == (1250, 500)
    statuses = {
        e["event_type"]: e["status"]
        for e in await events(client)
        if e["payment_id"] == payment["id"]
    }
    assert statuses == {"payment.refund": "applied", "payment.success": "ignored"}


async def test_amount_mismatch_moves_no_money(client, paysuper_sandbox, capfd):
    payment = await create_hosted(client)
    order = payment["provider_reference"]
    await paysuper_sandbox.post(f"/_sandbox/orders/{order}/pay", json={"amount": 1.0})
    await settle_deliveries(paysuper_sandbox, order)
    still = (await client.get(f"/v1/payments/{payment['id']}")).json()
    assert still["status"] == "requires_action"
    assert still["amount_captured"] == 0
    [event] = [
        e for e in await events(client, status="mismatch") if e["payment_id"] == payment["id"]
    ]
    assert "amount" in event["detail"]
    out, _ = capfd.readouterr()
    assert any(e.get("alert") is True for e in log_events(out))


async def test_unknown_order_is_kept_unmatched(anonymous, client):
    event_id = str(uuid.uuid4())
    order = {"id": str(uuid.uuid4()), "status": "created", "amount": 10.5, "currency": "usd"}
    body = json.dumps(
        {"id": event_id, "type": "notification", "event": "payment.success", "object": order}
    ).encode()
    response = await anonymous.post("/v1/webhooks/paysuper", content=body, headers=signed(body))
    assert response.status_code == 200
    assert response.content == b""
    [kept] = [e for e in await events(client, status="unmatched") if e["event_id"] == event_id]
    assert kept["payload"]["object"]["id"] == order["id"]


async def test_forged_signature_is_refused_and_not_stored(anonymous, client):
    event_id = str(uuid.uuid4())
    body = json.dumps(
        {
            "id": event_id,
            "event": "payment.success",
            "object": {"id": "x", "status": "created", "amount": 1, "currency": "usd"},
        }
    ).encode()
    for headers in (signed(body, "not-the-secret"), {"Authorization": "Signature 00"}, {}):
        response = await anonymous.post("/v1/webhooks/paysuper", content=body, headers=headers)
        assert response.status_code == 401
        assert response.json()["code"] == "invalid_signature"
    assert [e for e in await events(client) if e["event_id"] == event_id] == []


async def test_signed_but_unreadable_is_kept(anonymous, client):
    body = b'{"id": "e1", "event": "payment.success", "object": {"amount": "lots"}}'
    response = await anonymous.post("/v1/webhooks/paysuper", content=body, headers=signed(body))
    assert response.status_code == 200
    assert any(e["status"] == "unreadable" for e in await events(client, status="unreadable"))


async def test_webhooks_for_an_unknown_provider(anonymous):
    response = await anonymous.post("/v1/webhooks/nobody", content=b"{}")
    assert response.status_code == 404


@pytest.mark.parametrize("action", ["capture", "void", "refunds", "cancel", "sync"])
async def test_operations_paysuper_does_not_offer(client, paysuper_sandbox, action):
    payment = await _paid(client, paysuper_sandbox)
    response = await act(client, payment["id"], action)
    assert (response.status_code, response.json()["code"]) == (422, "operation_not_supported")
    unchanged = (await client.get(f"/v1/payments/{payment['id']}")).json()
    assert unchanged["operations"] == payment["operations"]


async def test_providers_show_paysuper_capabilities(client):
    providers = {p["name"]: p for p in (await client.get("/v1/providers")).json()["data"]}
    assert providers["paysuper"]["enabled"] is True
    assert providers["paysuper"]["operations"] == ["authorize", "webhooks"]
    assert providers["paysuper"]["payment_methods"] == ["hosted_page"]


@pytest.mark.parametrize(
    ("options", "fields"),
    [
        ({"type": "product"}, ["provider_options.paysuper.products"]),
        ({"type": "simple", "products": ["p1"]}, ["provider_options.paysuper.products"]),
        (
            {"type": "product", "products": ["p1"], "platform_id": "steam"},
            ["provider_options.paysuper.platform_id"],
        ),
        ({"checkout": "token"}, ["provider_options.paysuper.user.id"]),
        (
            {
                "checkout": "token",
                "user": {"id": "u"},
                "metadata": {"orchestrator_payment_id": "x"},
            },
            ["provider_options.paysuper.metadata"],
        ),
        ({"metadata": {"campaign": "spring"}}, ["provider_options.paysuper.metadata"]),
        ({"type": "lease"}, ["provider_options.paysuper.type"]),
    ],
)
async def test_doc_rules_are_enforced_before_the_call(client, paysuper_sandbox, options, fields):
    before = len((await paysuper_sandbox.get("/_sandbox/requests")).json()["requests"])
    response = await client.post(
        "/v1/payments", json=hosted(**options), headers={"Idempotency-Key": uuid.uuid4().hex}
    )
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == fields
    after = len((await paysuper_sandbox.get("/_sandbox/requests")).json()["requests"])
    assert after == before  # nothing was sent


async def test_product_order_is_priced_by_paysuper(client, paysuper_sandbox):
    payment = await create_hosted(
        client, amount=2000, type="key", products=["game-1", "game-2"], platform_id="steam"
    )
    await paysuper_sandbox.post(f"/_sandbox/orders/{payment['provider_reference']}/pay", json={})
    captured = await wait_for(client, payment["id"], "captured")  # 2 x 10.00 as expected
    assert captured["amount_captured"] == 2000


async def test_provider_errors_are_clear_problems(client):
    body = hosted(project="no-such-project")
    response = await client.post(
        "/v1/payments", json=body, headers={"Idempotency-Key": uuid.uuid4().hex}
    )
    assert response.status_code == 502
    problem = response.json()
    assert problem["code"] == "provider_error"
    assert "project_not_found" in problem["detail"]
    assert PAYSUPER_PROJECT not in problem["detail"]


async def test_5xx_or_timeout_after_sending_leaves_processing(settings, key_factory):
    secret = await key_factory()
    async with serving(failing_paysuper()) as stub:
        paysuper_sandbox = msgspec.structs.replace(
            settings.paysuper, base_url=stub, timeout_seconds=0.5
        )
        app = create_app(msgspec.structs.replace(settings, paysuper=paysuper_sandbox))
        headers = {"Authorization": f"Bearer {secret}"}
        async with serving(app) as url, httpx.AsyncClient(base_url=url, headers=headers) as c:
            for description in ("answer 502", "answer slow"):
                body = hosted() | {"description": description}
                key = {"Idempotency-Key": uuid.uuid4().hex}
                response = await c.post("/v1/payments", json=body, headers=key)
                assert response.status_code == 201, response.text
                payment = response.json()
                assert payment["status"] == "processing"  # sent: the outcome is unknown
                assert payment["failure"] is None
                assert payment["operations"][0]["status"] == "pending"
