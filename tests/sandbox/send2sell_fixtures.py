"""Fixtures and helpers of the Send2Sell sandbox tests.

Test modules load the fixtures with ``pytest_plugins = ["tests.sandbox.send2sell_fixtures"]``.
Every fixture, helper and constant is prefixed ``s2s_`` / ``S2S_`` so that nothing collides
with the other sandboxes' fixtures.

PYTEST_DONT_REWRITE: test modules import the helpers before pytest loads this plugin.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient

from service.sandbox.send2sell import Send2SellSandboxConfig, create_send2sell_sandbox

S2S_TOKEN = "sandbox-token"
S2S_AUTH = {"Authorization": f"Bearer {S2S_TOKEN}"}
S2S_FORM = {
    "first_name": "Jane",
    "city": "Austin",
    "state": "TX",
    "zip": "78701",
    "phone": "+1 512 555 0100",
    "use_credits": "1",
}
S2S_FULL_FORM = S2S_FORM | {
    "last_name": "Doe",
    "company": "Acme",
    "address": "1 Congress Ave",
    "address2": "Suite 2",
    "country": "US",
    "email": "jane@example.com",
}
# The catalogue.
S2S_PLAIN = 370562  # cost 69, tax 5.69
S2S_COUPON = 370563  # cost 120.50, discount 20.50, WELCOME20, tax 8.04
S2S_SMALL = 370564  # cost 15
S2S_FOREIGN = 370565  # another user's
S2S_EMPTY = 370566  # no products
S2S_LOCKED = 370567  # does not allow payment
S2S_BIG = 370568  # cost 500, tax 41.25
S2S_UNKNOWN = 999999
S2S_FORM_TYPE = "application/x-www-form-urlencoded"


@asynccontextmanager
async def s2s_sandbox_client(**config: Any) -> AsyncIterator[AsyncTestClient[Any]]:
    """A test client of a fresh sandbox built with ``Send2SellSandboxConfig(**config)``."""
    app = create_send2sell_sandbox(Send2SellSandboxConfig(**config))
    async with AsyncTestClient(app=app) as client:
        client.follow_redirects = False
        yield client


@asynccontextmanager
async def s2s_in_loop_client(**config: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client running the app in the test's own event loop (concurrent requests)."""
    app = create_send2sell_sandbox(Send2SellSandboxConfig(**config))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://send2sell.test") as client:
        yield client


@pytest.fixture
async def s2s_client() -> AsyncIterator[AsyncTestClient[Any]]:
    """A sandbox with the default config (token ``sandbox-token``, 100.00 credits)."""
    async with s2s_sandbox_client() as client:
        yield client


def s2s_path(order_id: int | str) -> str:
    return f"/api/order/{order_id}/billing"


async def s2s_pay(
    client: AsyncTestClient[Any] | httpx.AsyncClient,
    order_id: int | str,
    form: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    method: str = "PATCH",
) -> httpx.Response:
    """Send a billing form (``S2S_FORM`` and ``S2S_AUTH`` by default)."""
    return await client.request(
        method,
        s2s_path(order_id),
        data=S2S_FORM if form is None else form,
        headers=S2S_AUTH if headers is None else headers,
    )


async def s2s_raw(
    client: AsyncTestClient[Any], order_id: int | str, body: bytes, content_type: str | None
) -> httpx.Response:
    """PATCH a raw body with the given Content-Type (none when ``None``)."""
    headers = dict(S2S_AUTH)
    if content_type is not None:
        headers["Content-Type"] = content_type
    return await client.patch(s2s_path(order_id), content=body, headers=headers)


def s2s_json(response: httpx.Response) -> Any:
    """The response's JSON with every fractional number as a ``Decimal``."""
    return json.loads(response.text, parse_float=Decimal)


def s2s_message(response: httpx.Response, status: int) -> str:
    """The ``message`` of a ``{"message"}`` error."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"message"}, body
    return str(body["message"])


def s2s_errors(response: httpx.Response) -> dict[str, list[str]]:
    """The ``errors`` of a Laravel 422."""
    assert response.status_code == 422, response.text
    body = response.json()
    assert list(body) == ["message", "errors"], body
    assert body["message"] == "The given data was invalid."
    errors: dict[str, list[str]] = body["errors"]
    return errors


async def s2s_order(client: AsyncTestClient[Any] | httpx.AsyncClient, order_id: int) -> Any:
    """The control view of an order."""
    response = await client.get(f"/_sandbox/orders/{order_id}")
    assert response.status_code == 200, response.text
    return response.json()


async def s2s_credits(client: AsyncTestClient[Any] | httpx.AsyncClient) -> str:
    response = await client.get("/_sandbox/credits")
    assert response.status_code == 200, response.text
    return str(response.json()["credits"])


async def s2s_set_credits(client: AsyncTestClient[Any], credits: str) -> None:
    response = await client.post("/_sandbox/credits", json={"credits": credits})
    assert response.status_code == 200, response.text


async def s2s_new_order(client: AsyncTestClient[Any], **fields: Any) -> Any:
    """Create an order through the control endpoint (201)."""
    response = await client.post("/_sandbox/orders", json=fields)
    assert response.status_code == 201, response.text
    return response.json()


async def s2s_add_fault(client: AsyncTestClient[Any] | httpx.AsyncClient, **fault: Any) -> None:
    response = await client.post("/_sandbox/faults", json=fault)
    assert response.status_code == 201, response.text


async def s2s_requests(client: AsyncTestClient[Any]) -> list[dict[str, Any]]:
    response = await client.get("/_sandbox/requests")
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()["requests"]
    return entries
