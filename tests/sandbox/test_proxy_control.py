"""Proxy-Solutions sandbox: merchants, control endpoints, the request log, routing, config."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from service.sandbox.proxy_solutions import ProxySolutionsSandboxConfig
from tests.sandbox.proxy_fixtures import (
    BALANCE_USD,
    CARD_USD,
    KEY,
    WRONG_KEY,
    proxy_balance,
    proxy_charge,
    proxy_invoices,
    proxy_message,
    proxy_order,
    proxy_payment,
    proxy_price,
    proxy_sandbox_client,
)

pytest_plugins = ["tests.sandbox.proxy_fixtures"]

MERCHANTS = {
    "merchants": [
        {"code": "balance", "name": "API balance", "currencies": ["USD"]},
        {"code": "card", "name": "Bank card", "currencies": ["USD", "EUR", "RUB", "JPY"]},
        {"code": "crypto", "name": "Crypto wallet", "currencies": ["USDT", "BTC"]},
    ]
}


async def log(client: AsyncTestClient[Any]) -> list[dict[str, Any]]:
    response = await client.get("/_sandbox/requests")
    assert response.status_code == 200
    entries: list[dict[str, Any]] = response.json()["requests"]
    return entries


# ---- merchants -------------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [None, KEY, WRONG_KEY], ids=["none", "key", "wrong-key"])
async def test_merchants(proxy_client: AsyncTestClient[Any], headers: Any) -> None:
    response = await proxy_client.get("/api/merchants", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == MERCHANTS


# ---- balance ---------------------------------------------------------------------------------


async def test_balance_get_and_set(proxy_client: AsyncTestClient[Any]) -> None:
    assert (await proxy_client.get("/_sandbox/balance")).json() == {"balance": "100.00"}
    response = await proxy_client.post("/_sandbox/balance", json={"balance": "12.5"})
    assert response.status_code == 200
    assert response.json() == {"balance": "12.50"}
    assert await proxy_balance(proxy_client) == "12.50"


@pytest.mark.parametrize(("text", "stored"), [("0", "0.00"), ("-0", "0.00"), (" 7.10 ", "7.10")])
async def test_balance_values(proxy_client: AsyncTestClient[Any], text: str, stored: str) -> None:
    assert (await proxy_client.post("/_sandbox/balance", json={"balance": text})).is_success
    assert await proxy_balance(proxy_client) == stored


@pytest.mark.parametrize(
    "body",
    [
        b'{"balance": 5}',
        b'{"balance": 5.5}',
        b'{"balance": "abc"}',
        b'{"balance": "-1"}',
        b'{"balance": "1.234"}',
        b'{"balance": "NaN"}',
        b'{"balance": "Infinity"}',
        b'{"balance": "1e13"}',
        b"{}",
        b"",
        b"[]",
        b"{",
    ],
)
async def test_bad_balance_is_400(proxy_client: AsyncTestClient[Any], body: bytes) -> None:
    response = await proxy_client.post("/_sandbox/balance", content=body)
    assert response.status_code == 400
    assert set(response.json()) == {"message"}
    assert await proxy_balance(proxy_client) == "100.00"


# ---- orders ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("order_id", "price", "status", "days"),
    [(1001, "12.00", "active", 20), (1002, "45.00", "active", 5), (1003, "9.00", "expired", -3)],
)
async def test_catalogue_orders(
    proxy_client: AsyncTestClient[Any], order_id: int, price: str, status: str, days: int
) -> None:
    order = await proxy_order(proxy_client, order_id)
    assert list(order) == ["id", "status", "price_30d", "paid_until", "charges"]
    assert (order["id"], order["price_30d"], order["status"]) == (order_id, price, status)
    assert order["charges"] == []
    left = datetime.fromisoformat(order["paid_until"]) - datetime.now(UTC)
    assert abs(left - timedelta(days=days)) < timedelta(minutes=1)


@pytest.mark.parametrize("order_id", ["9999", "abc"])
async def test_unknown_order(proxy_client: AsyncTestClient[Any], order_id: str) -> None:
    response = await proxy_client.get(f"/_sandbox/orders/{order_id}")
    assert proxy_message(response, 404) == "Order not found."


# ---- request log -----------------------------------------------------------------------------


async def test_request_log_records_the_key(proxy_client: AsyncTestClient[Any]) -> None:
    await proxy_charge(proxy_client, 1001, CARD_USD)
    await proxy_charge(proxy_client, 1001, BALANCE_USD, KEY)
    await proxy_charge(proxy_client, 1001, CARD_USD, WRONG_KEY)
    await proxy_client.get("/api/merchants", headers=WRONG_KEY)
    await proxy_price(proxy_client, 1, {}, lang="RU")
    entries = await log(proxy_client)
    assert [list(entry) for entry in entries] == [
        ["method", "path", "at", "api_key_present", "api_key_valid"]
    ] * 5
    assert [
        (e["method"], e["path"], e["api_key_present"], e["api_key_valid"]) for e in entries
    ] == [
        ("POST", "/api/user/orders/1001/charge", False, None),
        ("POST", "/api/user/orders/1001/charge", True, True),
        ("POST", "/api/user/orders/1001/charge", True, False),
        ("GET", "/api/merchants", True, False),
        ("POST", "/api/services/1/price", False, None),
    ]
    times = [datetime.fromisoformat(entry["at"]) for entry in entries]
    assert times == sorted(times)


async def test_request_log_covers_errors_not_controls(proxy_client: AsyncTestClient[Any]) -> None:
    await proxy_charge(proxy_client, "abc", {})
    await proxy_client.get("/api/nowhere", headers=KEY)
    await proxy_client.delete("/api/merchants")
    await proxy_client.get("/_sandbox/balance")
    await proxy_client.get("/_sandbox/orders/1001")
    await proxy_client.get("/nowhere")
    assert [(e["method"], e["path"], e["api_key_valid"]) for e in await log(proxy_client)] == [
        ("POST", "/api/user/orders/abc/charge", None),
        ("GET", "/api/nowhere", True),
        ("DELETE", "/api/merchants", None),
    ]


async def test_request_log_can_be_cleared(proxy_client: AsyncTestClient[Any]) -> None:
    await proxy_client.get("/api/merchants")
    response = await proxy_client.delete("/_sandbox/requests")
    assert response.status_code == 200
    assert response.json() == {"requests": []}
    assert await log(proxy_client) == []


# ---- reset -----------------------------------------------------------------------------------


async def test_reset(proxy_client: AsyncTestClient[Any]) -> None:
    fresh = await proxy_order(proxy_client, 1003)
    await proxy_payment(proxy_client, 1003, BALANCE_USD, KEY)
    await proxy_payment(proxy_client, 1001, CARD_USD)
    await proxy_client.post("/_sandbox/balance", json={"balance": "3"})
    response = await proxy_client.post("/_sandbox/reset")
    assert response.status_code == 200
    assert response.json() == {"reset": True}
    assert await proxy_balance(proxy_client) == "100.00"
    assert await proxy_invoices(proxy_client) == []
    assert await log(proxy_client) == []
    order = await proxy_order(proxy_client, 1003)
    assert (order["status"], order["charges"]) == ("expired", [])
    assert order["paid_until"] >= fresh["paid_until"]


async def test_each_app_has_its_own_state() -> None:
    async with proxy_sandbox_client() as first, proxy_sandbox_client() as second:
        await proxy_payment(first, 1001, BALANCE_USD, KEY)
        assert await proxy_balance(first) == "88.00"
        assert await proxy_balance(second) == "100.00"
        assert await log(second) == []


# ---- routing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status", "message"),
    [
        ("get", "/api/nowhere", 404, "The route api/nowhere could not be found."),
        ("get", "/nowhere", 404, "The route nowhere could not be found."),
        (
            "post",
            "/api/merchants",
            405,
            "The POST method is not supported for route api/merchants.",
        ),
        (
            "get",
            "/api/services/1/price",
            405,
            "The GET method is not supported for route api/services/1/price.",
        ),
        (
            "put",
            "/_sandbox/balance",
            405,
            "The PUT method is not supported for route _sandbox/balance.",
        ),
    ],
)
async def test_unknown_routes_and_methods_answer_json(
    proxy_client: AsyncTestClient[Any], method: str, path: str, status: int, message: str
) -> None:
    response = await getattr(proxy_client, method)(path)
    assert proxy_message(response, status) == message
    assert response.headers["content-type"].startswith("application/json")


# ---- config ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"api_key": ""},
        {"api_key": " padded "},
        {"api_key_header": ""},
        {"api_key_header": "api key"},
        {"api_key_header": "api:key"},
        {"balance": "-1"},
        {"balance": "abc"},
        {"balance": "1.005"},
    ],
)
def test_bad_config_is_refused(fields: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        ProxySolutionsSandboxConfig(**fields)


def test_default_config() -> None:
    config = ProxySolutionsSandboxConfig()
    assert (config.api_key, config.api_key_header) == ("sandbox-key", "api-key")
    assert (config.public_url, config.balance) == ("http://127.0.0.1:8103", "100.00")
