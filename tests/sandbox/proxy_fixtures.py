"""Fixtures and helpers of the Proxy-Solutions sandbox tests.

Test modules load the fixtures with ``pytest_plugins = ["tests.sandbox.proxy_fixtures"]``.
Every fixture and helper is prefixed ``proxy_`` (or is a plain constant) so that nothing
collides with the other sandboxes' fixtures.

PYTEST_DONT_REWRITE: test modules import the helpers before pytest loads this plugin.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from service.sandbox.proxy_solutions import (
    ProxySolutionsSandboxConfig,
    create_proxy_solutions_sandbox,
)

PUBLIC_URL = "http://proxy.test"
API_KEY = "sandbox-key"
KEY = {"api-key": API_KEY}
WRONG_KEY = {"api-key": "not-the-key"}
CARD_USD = {"merchant": "card", "currency": "USD"}
BALANCE_USD = {"merchant": "balance", "currency": "USD"}


@asynccontextmanager
async def proxy_sandbox_client(**config: Any) -> AsyncIterator[AsyncTestClient[Any]]:
    """A test client of a fresh sandbox (``public_url`` defaults to ``PUBLIC_URL``)."""
    app = create_proxy_solutions_sandbox(
        ProxySolutionsSandboxConfig(**({"public_url": PUBLIC_URL} | config))
    )
    async with AsyncTestClient(app=app) as client:
        client.follow_redirects = False
        yield client


@pytest.fixture
async def proxy_client() -> AsyncIterator[AsyncTestClient[Any]]:
    """A sandbox with the default config (key ``sandbox-key`` in ``api-key``, 100.00 USD)."""
    async with proxy_sandbox_client() as client:
        yield client


def proxy_json(response: Any) -> Any:
    """The response's JSON with every fractional number as a ``Decimal``."""
    return json.loads(response.text, parse_float=Decimal)


async def proxy_charge(
    client: AsyncTestClient[Any],
    order_id: int | str,
    body: Any,
    headers: dict[str, str] | None = None,
) -> Any:
    """POST a charge (``body`` bytes are sent as they are)."""
    path = f"/api/user/orders/{order_id}/charge"
    if isinstance(body, bytes):
        return await client.post(path, content=body, headers=headers)
    return await client.post(path, json=body, headers=headers)


async def proxy_payment(
    client: AsyncTestClient[Any], order_id: int, body: Any, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """A successful charge's ``payment`` object (amounts as Decimal)."""
    response = await proxy_charge(client, order_id, body, headers)
    assert response.status_code == 200, response.text
    payment: dict[str, Any] = proxy_json(response)["payment"]
    return payment


async def proxy_price(
    client: AsyncTestClient[Any], service_id: int | str, body: Any, lang: str | None = None
) -> Any:
    """POST a price calculation."""
    params = {} if lang is None else {"lang": lang}
    return await client.post(f"/api/services/{service_id}/price", json=body, params=params)


async def proxy_order(client: AsyncTestClient[Any], order_id: int) -> dict[str, Any]:
    """The control view of an order."""
    response = await client.get(f"/_sandbox/orders/{order_id}")
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def proxy_balance(client: AsyncTestClient[Any]) -> str:
    """The API balance as the control endpoint writes it."""
    response = await client.get("/_sandbox/balance")
    assert response.status_code == 200, response.text
    return str(response.json()["balance"])


async def proxy_invoices(client: AsyncTestClient[Any]) -> list[dict[str, Any]]:
    response = await client.get("/_sandbox/invoices")
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()
    return result


def proxy_errors(response: Any, status: int = 422) -> list[str]:
    """The list of messages of a validation error."""
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body, list), body
    assert all(isinstance(item, str) for item in body), body
    return body


def proxy_message(response: Any, status: int) -> str:
    """The ``message`` of a ``{"message"}`` error."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"message"}, body
    return str(body["message"])
