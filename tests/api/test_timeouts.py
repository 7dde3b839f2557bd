"""Unknown outcomes: a timeout or a 5xx after sending leaves the payment processing,
never failed and never sent twice; sync settles it from the provider's state."""

import asyncio

import httpx
import msgspec
import pytest

from service.app import create_app
from service.settings import Secret
from tests.api.helpers import SLOW, act, card_payment, create, log_events
from tests.conftest import SANDBOX_SLOW_SECONDS, SETTLE_AFTER
from tests.servers import free_port, serving


async def _requests(sandbox: httpx.AsyncClient, **match: str) -> list[dict]:
    rows = (await sandbox.get("/_sandbox/requests")).json()["requests"]
    return [r for r in rows if all(r.get(k) == v for k, v in match.items())]


async def _fault(sandbox: httpx.AsyncClient, **fault) -> None:
    response = await sandbox.post("/_sandbox/faults", json={"times": 1, **fault})
    assert response.status_code in (200, 201), response.text


@pytest.fixture(autouse=True)
async def _clean_faults(sandbox):
    await sandbox.delete("/_sandbox/faults")
    yield
    await sandbox.delete("/_sandbox/faults")


async def test_authorize_timeout_leaves_processing_then_sync_settles(client, sandbox):
    created = await create(client, card_payment(SLOW))
    assert created.status_code == 201, created.text
    payment = created.json()
    assert payment["status"] == "processing"
    assert payment["failure"] is None
    assert payment["provider_reference"] is None
    [op] = payment["operations"]
    assert (op["type"], op["status"]) == ("authorize", "pending")
    # Only sync moves it on; a capture meanwhile is refused, not sent.
    blocked = await act(client, payment["id"], "capture")
    assert (blocked.status_code, blocked.json()["code"]) == (409, "invalid_state")
    await asyncio.sleep(SANDBOX_SLOW_SECONDS)
    synced = (await client.post(f"/v1/payments/{payment['id']}/sync")).json()
    assert synced["status"] == "authorized"
    assert synced["provider_reference"]
    assert synced["operations"][0]["status"] == "succeeded"
    sent = await _requests(sandbox, merchant_order_id=payment["id"])
    assert [r["path"] for r in sent if r["method"] == "POST"] == ["/orders/authorize"]


async def test_capture_timeout_then_sync_captures_once(client, sandbox):
    payment = (await create(client, card_payment())).json()
    await _fault(sandbox, method="PUT", path_prefix="/orders/", delay_seconds=1.0)
    timed_out = (await act(client, payment["id"], "capture", {"amount": 400})).json()
    assert timed_out["status"] == "processing"
    assert timed_out["operations"][-1]["status"] == "pending"
    await asyncio.sleep(1.0)
    synced = (await client.post(f"/v1/payments/{payment['id']}/sync")).json()
    assert (synced["status"], synced["amount_captured"]) == ("captured", 400)
    assert [op["status"] for op in synced["operations"]] == ["succeeded", "succeeded"]
    charges = [
        r
        for r in await _requests(sandbox, order_id=payment["provider_reference"])
        if r["path"].endswith("/charge")
    ]
    assert len(charges) == 1


async def test_5xx_after_the_charge_is_unknown_not_failed(client, sandbox):
    payment = (await create(client, card_payment())).json()
    await _fault(sandbox, method="PUT", path_prefix="/orders/", status=500, after_apply=True)
    answered = (await act(client, payment["id"], "capture")).json()
    assert answered["status"] == "processing"
    synced = (await client.post(f"/v1/payments/{payment['id']}/sync")).json()
    assert (synced["status"], synced["amount_captured"]) == ("captured", 999)


async def test_5xx_before_the_charge_settles_as_failed_only_after_the_reconcile_age(
    client, sandbox
):
    payment = (await create(client, card_payment())).json()
    await _fault(sandbox, method="PUT", path_prefix="/orders/", status=503)
    answered = (await act(client, payment["id"], "capture")).json()
    assert answered["status"] == "processing"
    early = (await client.post(f"/v1/payments/{payment['id']}/sync")).json()
    assert early["status"] == "processing"  # no evidence yet: never guess
    await asyncio.sleep(SETTLE_AFTER.total_seconds())
    late = (await client.post(f"/v1/payments/{payment['id']}/sync")).json()
    assert late["status"] == "authorized"
    assert late["operations"][-1]["status"] == "failed"
    assert late["operations"][-1]["failure"]["code"] == "provider_no_record"
    retried = (await act(client, payment["id"], "capture")).json()
    assert (retried["status"], retried["amount_captured"]) == ("captured", 999)


async def test_unreachable_provider_is_503_and_nothing_is_pending(settings, key_factory):
    dead = msgspec.structs.replace(settings.bizon, base_url=f"http://127.0.0.1:{free_port()}")
    down = msgspec.structs.replace(settings, bizon=dead)
    secret = await key_factory()
    async with (
        serving(create_app(down)) as url,
        httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {secret}"}) as c,
    ):
        body = card_payment()
        response = await create(c, body)
        assert response.status_code == 503
        problem = response.json()
        assert problem["code"] == "provider_unavailable"
        query = {"merchant_reference": body["merchant_reference"]}
        payments = (await c.get("/v1/payments", params=query)).json()["data"]
        assert payments[0]["status"] == "failed"
        assert payments[0]["failure"]["code"] == "provider_unavailable"
        assert payments[0]["operations"][0]["status"] == "failed"


async def test_refused_credentials_are_an_operator_alert(settings, key_factory, capfd):
    wrong = msgspec.structs.replace(settings.bizon, password=Secret("wrong"))
    secret = await key_factory()
    headers = {"Authorization": f"Bearer {secret}"}
    app = create_app(msgspec.structs.replace(settings, bizon=wrong))
    async with serving(app) as url, httpx.AsyncClient(base_url=url, headers=headers) as c:
        body = card_payment()
        key = {"Idempotency-Key": "cred-test-" + body["merchant_reference"]}
        response = await c.post("/v1/payments", json=body, headers=key)
        assert response.status_code == 502
        assert response.json()["code"] == "provider_misconfigured"
        query = {"merchant_reference": body["merchant_reference"]}
        [payment] = (await c.get("/v1/payments", params=query)).json()["data"]
        assert payment["status"] == "failed"
        assert payment["failure"]["code"] == "provider_misconfigured"
        again = await c.post("/v1/payments", json=body, headers=key)
        assert again.status_code == 502  # not stored: a retry runs again
    out, _ = capfd.readouterr()
    assert any(e.get("alert") is True for e in log_events(out))
    assert "wrong" not in out
