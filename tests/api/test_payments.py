"""Payments through the HTTP API against the Bizon sandbox: the money flows."""

import httpx
import pytest

from tests.api.helpers import APPROVED, DECLINED, INSUFFICIENT, act, card_payment, create


async def _paid(client: httpx.AsyncClient, **kw) -> dict:
    created = await create(client, card_payment(**kw))
    assert created.status_code == 201, created.text
    return created.json()


async def test_authorize_only_records_one_operation(client):
    payment = await _paid(client)
    assert payment["status"] == "authorized"
    assert (payment["amount_authorized"], payment["amount_captured"]) == (999, 0)
    assert payment["amount_capturable"] == 999
    assert payment["provider_reference"]
    assert payment["payment_method"]["card"] == {
        "first6": "411111",
        "last4": "1111",
        "brand": "visa",
        "exp_month": 12,
        "exp_year": 2030,
    }
    assert "number" not in str(payment["payment_method"])
    assert "cvv" not in str(payment)
    [op] = payment["operations"]
    assert (op["type"], op["status"], op["amount"], op["source"]) == (
        "authorize",
        "succeeded",
        999,
        "api",
    )


async def test_automatic_capture_charges_at_once(client):
    payment = await _paid(client, capture="automatic")
    assert payment["status"] == "captured"
    assert payment["amount_captured"] == 999
    kinds = [(op["type"], op["source"]) for op in payment["operations"]]
    assert kinds == [("authorize", "api"), ("capture", "provider")]


async def test_full_flow_authorize_partial_capture_refunds(client):
    payment = await _paid(client, amount=1000)
    pid = payment["id"]
    captured = (await act(client, pid, "capture", {"amount": 600})).json()
    assert (captured["status"], captured["amount_captured"]) == ("captured", 600)
    assert captured["amount_capturable"] == 0
    assert captured["amount_refundable"] == 600
    partial = (await act(client, pid, "refunds", {"amount": 100, "reason": "broken"})).json()
    assert (partial["status"], partial["amount_refunded"]) == ("partially_refunded", 100)
    rest = (await act(client, pid, "refunds")).json()
    assert (rest["status"], rest["amount_refunded"]) == ("refunded", 600)
    types = [(op["type"], op["amount"], op["status"]) for op in rest["operations"]]
    assert types == [
        ("authorize", 1000, "succeeded"),
        ("capture", 600, "succeeded"),
        ("refund", 100, "succeeded"),
        ("refund", 500, "succeeded"),
    ]
    assert rest["operations"][2]["reason"] == "broken"
    fetched = (await client.get(f"/v1/payments/{pid}")).json()
    assert fetched == rest


async def test_capture_limits(client):
    payment = await _paid(client)
    over = await act(client, payment["id"], "capture", {"amount": 1000})
    assert over.status_code == 422
    assert over.json()["code"] == "amount_exceeds_capturable"
    assert over.headers["content-type"].startswith("application/problem+json")
    assert (await act(client, payment["id"], "capture")).json()["amount_captured"] == 999
    again = await act(client, payment["id"], "capture", {"amount": 1})
    assert (again.status_code, again.json()["code"]) == (409, "invalid_state")


async def test_refunds_never_exceed_captured(client):
    payment = await _paid(client, capture="automatic", amount=500)
    first = await act(client, payment["id"], "refunds", {"amount": 300})
    assert first.status_code == 200
    over = await act(client, payment["id"], "refunds", {"amount": 201})
    assert (over.status_code, over.json()["code"]) == (422, "amount_exceeds_refundable")
    ok = await act(client, payment["id"], "refunds", {"amount": 200})
    assert ok.json()["status"] == "refunded"
    done = await act(client, payment["id"], "refunds", {"amount": 1})
    assert (done.status_code, done.json()["code"]) == (409, "invalid_state")


async def test_refund_before_capture_is_invalid_state(client):
    payment = await _paid(client)
    response = await act(client, payment["id"], "refunds", {"amount": 1})
    assert (response.status_code, response.json()["code"]) == (409, "invalid_state")


async def test_void_releases_the_authorization(client):
    payment = await _paid(client)
    voided = await act(client, payment["id"], "void")
    assert voided.status_code == 200
    body = voided.json()
    assert body["status"] == "voided"
    assert body["operations"][-1]["type"] == "void"
    again = await act(client, payment["id"], "capture")
    assert (again.status_code, again.json()["code"]) == (409, "invalid_state")


@pytest.mark.parametrize(
    ("capture", "refund_first", "expected", "last_op"),
    [
        ("manual", None, "voided", "void"),
        ("automatic", None, "refunded", "refund"),
        ("automatic", 100, "refunded", "refund"),
    ],
)
async def test_cancel_voids_or_refunds_by_state(client, capture, refund_first, expected, last_op):
    payment = await _paid(client, capture=capture, amount=700)
    if refund_first:
        await act(client, payment["id"], "refunds", {"amount": refund_first})
    cancelled = (await act(client, payment["id"], "cancel")).json()
    assert cancelled["status"] == expected
    assert cancelled["operations"][-1]["type"] == last_op
    if expected == "refunded":
        assert cancelled["amount_refunded"] == 700
        assert cancelled["operations"][-1]["amount"] == 700 - (refund_first or 0)


@pytest.mark.parametrize(
    ("number", "code", "provider_code"),
    [(DECLINED, "do_not_honor", "05"), (INSUFFICIENT, "insufficient_funds", "51")],
)
async def test_decline_is_a_failed_payment_not_an_error(client, number, code, provider_code):
    created = await create(client, card_payment(number))
    assert created.status_code == 201
    payment = created.json()
    assert payment["status"] == "failed"
    assert payment["failure"]["code"] == code
    assert payment["failure"]["provider_code"] == provider_code
    assert payment["failure"]["provider_message"]
    assert payment["operations"][0]["status"] == "failed"
    capture = await act(client, payment["id"], "capture")
    assert capture.status_code == 409


async def test_hosted_page_requires_action_then_sync_settles(client, sandbox):
    body = {
        "amount": 2500,
        "currency": "EUR",
        "provider": "bizon",
        "capture": "automatic",
        "payment_method": {"type": "hosted_page"},
        "return_url": "https://shop.example/back",
    }
    created = await create(client, body)
    assert created.status_code == 201, created.text
    payment = created.json()
    assert payment["status"] == "requires_action"
    action = payment["next_action"]
    assert action["type"] == "redirect"
    assert action["method"] == "GET"
    assert "/pay/" in action["url"]
    # Nothing happened yet: sync leaves it waiting.
    waiting = (await client.post(f"/v1/payments/{payment['id']}/sync")).json()
    assert waiting["status"] == "requires_action"
    # The customer pays on the provider's page.
    async with httpx.AsyncClient() as browser:
        form = {
            "pan": APPROVED,
            "number": APPROVED,
            "card_number": APPROVED,
            "expiration_month": "12",
            "expiration_year": "2030",
            "cvv": "123",
            "holder": "Jane Doe",
            "exp_month": "12",
            "exp_year": "2030",
        }
        paid = await browser.post(action["url"], data=form)
        assert paid.status_code in (200, 302, 303), paid.text
    synced = (await client.post(f"/v1/payments/{payment['id']}/sync")).json()
    assert synced["status"] == "captured", synced
    assert synced["next_action"] is None
    assert [op["type"] for op in synced["operations"]] == ["authorize", "capture"]


async def test_sync_imports_a_refund_made_outside_the_service(client, sandbox_url):
    payment = await _paid(client, capture="automatic", amount=800)
    async with httpx.AsyncClient(base_url=sandbox_url, auth=("test", "test-secret")) as bizon:
        outside = await bizon.put(
            f"/orders/{payment['provider_reference']}/refund", json={"amount": "3.00"}
        )
        assert outside.status_code == 200, outside.text
    synced = (await client.post(f"/v1/payments/{payment['id']}/sync")).json()
    assert (synced["status"], synced["amount_refunded"]) == ("partially_refunded", 300)
    imported = synced["operations"][-1]
    assert (imported["type"], imported["source"], imported["amount"]) == ("refund", "sync", 300)
    again = (await client.post(f"/v1/payments/{payment['id']}/sync")).json()
    assert again["operations"] == synced["operations"]


async def test_get_unknown_payment_is_404_problem(client):
    response = await client.get("/v1/payments/pay_nope")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


async def test_list_filters_and_cursor_pagination(client):
    reference = "list-test-ref"
    made = [
        (await _paid(client, merchant_reference=reference, amount=100 + i))["id"] for i in range(5)
    ]
    await create(client, card_payment(DECLINED, merchant_reference=reference))
    seen: list[str] = []
    cursor = None
    while True:
        params = {"merchant_reference": reference, "status": "authorized", "limit": 2}
        if cursor:
            params["starting_after"] = cursor
        page = (await client.get("/v1/payments", params=params)).json()
        assert page["object"] == "list"
        seen += [p["id"] for p in page["data"]]
        if not page["has_more"]:
            assert page["next_cursor"] is None
            break
        cursor = page["next_cursor"]
    assert seen == list(reversed(made))
    failed = (
        await client.get(
            "/v1/payments", params={"merchant_reference": reference, "status": "failed"}
        )
    ).json()
    assert len(failed["data"]) == 1
    bad = await client.get("/v1/payments", params={"status": "nonsense"})
    assert (bad.status_code, bad.json()["code"]) == (422, "validation_error")
    too_many = await client.get("/v1/payments", params={"limit": 1000})
    assert too_many.status_code == 422


async def test_list_created_range(client):
    payment = await _paid(client, merchant_reference="range-ref")
    created = payment["created_at"]
    inside = await client.get(
        "/v1/payments", params={"merchant_reference": "range-ref", "created_gte": created}
    )
    assert [p["id"] for p in inside.json()["data"]] == [payment["id"]]
    before = await client.get(
        "/v1/payments", params={"merchant_reference": "range-ref", "created_lt": created}
    )
    assert before.json()["data"] == []


async def test_providers_lists_bizon(client):
    providers = (await client.get("/v1/providers")).json()["data"]
    bizon = next(p for p in providers if p["name"] == "bizon")
    assert bizon["enabled"] is True
    assert set(bizon["operations"]) == {
        "authorize",
        "capture",
        "void",
        "refund",
        "sync",
        "authenticate",
        "rebill",
        "payout",
        "exchange_rates",
        "health",
    }
    assert set(bizon["payment_methods"]) == {"card", "hosted_page", "wallet_token"}
