"""Building, paying and waiting for PaySuper payments in API tests."""

import asyncio
import hashlib
import uuid
from typing import Any

import httpx

from tests.api.helpers import idem
from tests.conftest import PAYSUPER_SECRET


def hosted(amount: int = 1250, currency: str = "USD", **options: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "amount": amount,
        "currency": currency,
        "provider": "paysuper",
        "payment_method": {"type": "hosted_page"},
        "customer": {"email": "buyer@example.com", "ip": "8.8.8.8"},
        "merchant_reference": uuid.uuid4().hex,
        "return_url": "https://shop.example/done",
    }
    if options:
        body["provider_options"] = {"paysuper": options}
    return body


async def create_hosted(client: httpx.AsyncClient, **kw: Any) -> dict[str, Any]:
    response = await client.post("/v1/payments", json=hosted(**kw), headers=idem())
    assert response.status_code == 201, response.text
    return response.json()


async def wait_for(
    client: httpx.AsyncClient, payment_id: str, status: str, seconds: float = 8.0
) -> dict[str, Any]:
    """Notifications arrive asynchronously: poll the payment until it reaches `status`."""
    payment: dict[str, Any] = {}
    for _ in range(int(seconds / 0.05)):
        payment = (await client.get(f"/v1/payments/{payment_id}")).json()
        if payment["status"] == status:
            return payment
        await asyncio.sleep(0.05)
    raise AssertionError(f"{payment_id} stayed {payment.get('status')}, wanted {status}")


async def events(client: httpx.AsyncClient, **query: str) -> list[dict[str, Any]]:
    rows = (await client.get("/v1/ops/webhook-events", params=query | {"limit": "200"})).json()
    return rows["data"]


async def settle_deliveries(
    paysuper_sandbox: httpx.AsyncClient, order_id: str, seconds: float = 8.0
) -> None:
    """Wait until the sandbox has nothing left to deliver for this order."""
    for _ in range(int(seconds / 0.05)):
        rows = (await paysuper_sandbox.get("/_sandbox/webhooks")).json()
        mine = [r for r in rows if r["order_id"] == order_id and not r["held"]]
        if mine and all(r["delivered"] or r.get("given_up") for r in mine):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"deliveries for {order_id} did not settle")


def signed(body: bytes, secret: str = PAYSUPER_SECRET) -> dict[str, str]:
    digest = hashlib.sha256(body + secret.encode()).hexdigest()
    return {"Authorization": f"Signature {digest}", "Content-Type": "application/json"}
