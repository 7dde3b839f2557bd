"""Fixtures and helpers of the PaySuper sandbox tests.

Test modules load the fixtures with ``pytest_plugins = ["tests.sandbox.paysuper_fixtures"]``.
Notifications are received by a real Litestar app served with uvicorn on a free 127.0.0.1
port in the test's event loop (``tests/servers.py``): the sandbox (run by AsyncTestClient in
its own thread and loop) POSTs to it over loopback, exactly as to a merchant.

PYTEST_DONT_REWRITE: test modules import the helpers before pytest loads this plugin, so
pytest could not rewrite its asserts anyway (they carry their own messages).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from litestar import Litestar, Request, Response, post
from litestar.testing import AsyncTestClient

from service.sandbox.paysuper import PaySuperSandboxConfig, create_paysuper_sandbox
from tests.servers import serving

PUBLIC_URL = "http://paysuper.test"
PROJECT = "sandbox-project"
SECRET = "sandbox-secret"
FAST_DELAYS = (0.05, 0.05)
APPROVED = "4111111111111111"
REJECTED = "4000000000000002"
SLOW = "4000000000000259"
FORM_CARD = {"expiry_month": "12", "expiry_year": "2035", "cvv": "123", "holder": "John Smith"}
SIMPLE = {"project": PROJECT, "type": "simple", "amount": 12.5, "currency": "EUR"}
TOKEN = {
    "user": {"id": "user-1", "email": {"value": "a@b.test", "verified": True}},
    "settings": {"project_id": PROJECT, "type": "simple", "amount": 3.99, "currency": "USD"},
}


def compact(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def sign(body: bytes, secret: str = SECRET) -> str:
    return hashlib.sha512(body + secret.encode()).hexdigest()


def webhook_signature(body: bytes, secret: str = SECRET) -> str:
    return hashlib.sha256(body + secret.encode()).hexdigest()


async def signed_post(
    client: AsyncTestClient[Any], path: str, payload: Any, signature: str | None = None
) -> Any:
    body = payload if isinstance(payload, bytes) else compact(payload)
    headers = {"X-API-SIGNATURE": sign(body) if signature is None else signature}
    return await client.post(path, content=body, headers=headers)


async def create_order(client: AsyncTestClient[Any], **fields: Any) -> str:
    response = await signed_post(client, "/api/v1/order", SIMPLE | fields)
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


async def control(client: AsyncTestClient[Any], order_id: str, action: str, **body: Any) -> Any:
    return await client.post(f"/_sandbox/orders/{order_id}/{action}", json=body or None)


async def paid_order(client: AsyncTestClient[Any], **fields: Any) -> str:
    order_id = await create_order(client, **fields)
    assert (await control(client, order_id, "pay")).status_code == 200
    return order_id


async def show(client: AsyncTestClient[Any], order_id: str) -> dict[str, Any]:
    response = await client.get(f"/_sandbox/orders/{order_id}")
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def assert_error(response: Any, status: int, code: str, fragment: str = "") -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"message", "code"}
    assert body["code"] == code
    assert fragment in body["message"], body["message"]


async def eventually(check: Callable[[], Any], timeout: float = 5.0) -> None:
    """Poll an async or sync check until it holds (sleeping lets the receiver run)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def webhooks(client: AsyncTestClient[Any]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = (await client.get("/_sandbox/webhooks")).json()
    return result


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.body)
        return result


@dataclass
class Receiver:
    """A merchant's notification endpoint: answers the scripted statuses, then 200."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    statuses: deque[int] = field(default_factory=deque)

    def events(self) -> list[dict[str, Any]]:
        return [item.json for item in self.received]


def receiver_app(receiver: Receiver) -> Litestar:
    @post("/hook", status_code=200)
    async def hook(request: Request[Any, Any, Any]) -> Response[str]:
        body = await request.body()
        receiver.received.append(Received(dict(request.headers), body))
        status = receiver.statuses.popleft() if receiver.statuses else 200
        return Response("", status_code=status, media_type="text/plain")

    return Litestar(route_handlers=[hook], openapi_config=None)


@asynccontextmanager
async def sandbox_client(**config: Any) -> AsyncIterator[AsyncTestClient[Any]]:
    settings = {"public_url": PUBLIC_URL, "slow_seconds": 0.2} | config
    app = create_paysuper_sandbox(PaySuperSandboxConfig(**settings))
    async with AsyncTestClient(app=app) as client:
        client.follow_redirects = False
        yield client


@pytest.fixture
async def paysuper() -> AsyncIterator[AsyncTestClient[Any]]:
    """A sandbox without webhook_url (events are recorded only)."""
    async with sandbox_client() as client:
        yield client


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A notification receiver served on a free loopback port."""
    receiver = Receiver()
    async with serving(receiver_app(receiver)) as url:
        receiver.url = f"{url}/hook"
        yield receiver


@pytest.fixture
async def hooked(receiver: Receiver) -> AsyncIterator[AsyncTestClient[Any]]:
    """A sandbox notifying ``receiver``, with tiny retry delays."""
    async with sandbox_client(webhook_url=receiver.url, webhook_retry_delays=FAST_DELAYS) as client:
        yield client
