"""Send2Sell sandbox: control endpoints (credits, orders, request log, reset) and the config."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from service.sandbox.send2sell import Send2SellSandboxConfig
from tests.sandbox.send2sell_fixtures import (
    S2S_AUTH,
    S2S_BIG,
    S2S_PLAIN,
    S2S_SMALL,
    s2s_add_fault,
    s2s_credits,
    s2s_message,
    s2s_new_order,
    s2s_order,
    s2s_path,
    s2s_pay,
    s2s_requests,
)

pytest_plugins = ["tests.sandbox.send2sell_fixtures"]

ORDER_KEYS = [
    "id",
    "status",
    "created_at",
    "cost",
    "discount",
    "tax",
    "coupon_name",
    "credits_needed",
    "total",
    "consumed_credits",
    "other_user",
    "has_products",
    "locked",
    "billing",
    "attempts",
]


# ---- credits ---------------------------------------------------------------------------------


async def test_credits_get_and_set(s2s_client: AsyncTestClient[Any]) -> None:
    assert (await s2s_client.get("/_sandbox/credits")).json() == {"credits": "100.00"}
    response = await s2s_client.post("/_sandbox/credits", json={"credits": "12.5"})
    assert (response.status_code, response.json()) == (200, {"credits": "12.50"})
    assert await s2s_credits(s2s_client) == "12.50"


@pytest.mark.parametrize(
    ("value", "stored"), [("0", "0.00"), ("-0", "0.00"), (" 7.10 ", "7.10"), (5, "5.00")]
)
async def test_credit_values(s2s_client: AsyncTestClient[Any], value: Any, stored: str) -> None:
    assert (await s2s_client.post("/_sandbox/credits", json={"credits": value})).is_success
    assert await s2s_credits(s2s_client) == stored


@pytest.mark.parametrize(
    "body",
    [
        b'{"credits": "abc"}',
        b'{"credits": "-1"}',
        b'{"credits": "1.234"}',
        b'{"credits": "NaN"}',
        b'{"credits": "Infinity"}',
        b'{"credits": "1e13"}',
        b'{"credits": true}',
        b'{"credits": null}',
        b"{}",
        b"",
        b"[]",
        b"{",
    ],
)
async def test_bad_credits_are_400(s2s_client: AsyncTestClient[Any], body: bytes) -> None:
    response = await s2s_client.post("/_sandbox/credits", content=body)
    assert response.status_code == 400
    assert set(response.json()) == {"message"}
    assert await s2s_credits(s2s_client) == "100.00"


async def test_top_up(s2s_client: AsyncTestClient[Any]) -> None:
    response = await s2s_client.post("/_sandbox/credits/top-up", json={"amount": "0.01"})
    assert (response.status_code, response.json()) == (200, {"credits": "100.01"})
    response = await s2s_client.post("/_sandbox/credits/top-up", json={"amount": 10})
    assert response.json() == {"credits": "110.01"}


@pytest.mark.parametrize("amount", ["0", "-5", "1.001", "x", None, "1000000000000"])
async def test_bad_top_up_is_400(s2s_client: AsyncTestClient[Any], amount: Any) -> None:
    response = await s2s_client.post("/_sandbox/credits/top-up", json={"amount": amount})
    assert response.status_code == 400
    assert await s2s_credits(s2s_client) == "100.00"


# ---- orders ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("order_id", "amounts", "flags"),
    [
        (370562, ("69.00", "0.00", "5.69", "", "69.00", "74.69"), (False, True, False)),
        (
            370563,
            ("120.50", "20.50", "8.04", "WELCOME20", "100.00", "108.04"),
            (False, True, False),
        ),
        (370564, ("15.00", "0.00", "0.00", "", "15.00", "15.00"), (False, True, False)),
        (370565, ("25.00", "0.00", "2.06", "", "25.00", "27.06"), (True, True, False)),
        (370566, ("0.00", "0.00", "0.00", "", "0.00", "0.00"), (False, False, False)),
        (370567, ("49.99", "0.00", "4.12", "", "49.99", "54.11"), (False, True, True)),
        (370568, ("500.00", "0.00", "41.25", "", "500.00", "541.25"), (False, True, False)),
    ],
)
async def test_catalogue(
    s2s_client: AsyncTestClient[Any],
    order_id: int,
    amounts: tuple[str, ...],
    flags: tuple[bool, ...],
) -> None:
    order = await s2s_order(s2s_client, order_id)
    assert list(order) == ORDER_KEYS
    assert (order["id"], order["status"], order["billing"], order["attempts"]) == (
        order_id,
        "Payment Pending",
        None,
        [],
    )
    keys = ("cost", "discount", "tax", "coupon_name", "credits_needed", "total")
    assert tuple(order[key] for key in keys) == amounts
    assert (order["other_user"], order["has_products"], order["locked"]) == flags
    assert order["created_at"].startswith("2020-11-0")
    assert order["created_at"].endswith("-06:00")


@pytest.mark.parametrize("order_id", ["999999", "abc", "-1"])
async def test_unknown_order_view(s2s_client: AsyncTestClient[Any], order_id: str) -> None:
    response = await s2s_client.get(f"/_sandbox/orders/{order_id}")
    assert s2s_message(response, 404) == f"Order {order_id} not found."


async def test_create_order(s2s_client: AsyncTestClient[Any]) -> None:
    order = await s2s_new_order(
        s2s_client, id=42, cost="30.00", tax="2.48", discount="5", coupon_name="FIVE"
    )
    assert list(order) == ORDER_KEYS
    assert order["id"] == 42
    assert (order["cost"], order["discount"], order["tax"], order["coupon_name"]) == (
        "30.00",
        "5.00",
        "2.48",
        "FIVE",
    )
    assert (order["credits_needed"], order["total"], order["status"]) == (
        "25.00",
        "27.48",
        "Payment Pending",
    )
    assert (order["other_user"], order["has_products"], order["locked"]) == (False, True, False)
    assert order["created_at"].endswith("-06:00")
    response = await s2s_pay(s2s_client, 42)
    assert response.status_code == 200, response.text
    assert response.json()["coupon_name"] == "FIVE"
    assert await s2s_credits(s2s_client) == "75.00"


async def test_created_orders_get_the_next_id(s2s_client: AsyncTestClient[Any]) -> None:
    first = await s2s_new_order(s2s_client, cost=12)
    second = await s2s_new_order(s2s_client, cost=12.5)
    assert (first["id"], second["id"]) == (370569, 370570)
    assert (first["cost"], second["cost"], first["tax"], first["coupon_name"]) == (
        "12.00",
        "12.50",
        "0.00",
        "",
    )


async def test_an_order_id_is_created_once(s2s_client: AsyncTestClient[Any]) -> None:
    response = await s2s_client.post("/_sandbox/orders", json={"id": S2S_PLAIN, "cost": "1"})
    assert s2s_message(response, 409) == f"Order {S2S_PLAIN} already exists."


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"cost": "abc"},
        {"cost": "-1"},
        {"cost": "1.001"},
        {"cost": None},
        {"cost": "5", "discount": "6"},
        {"cost": "5", "tax": "x"},
        {"cost": "5", "id": 0},
        {"cost": "5", "id": "7"},
        {"cost": "5", "id": True},
        {"cost": "5", "id": 10**18},
        {"cost": "5", "coupon_name": 3},
        {"cost": "5", "coupon_name": "x" * 256},
        {"cost": "5", "locked": "yes"},
        {"cost": "5", "other_user": 1},
        {"cost": "5", "has_products": None},
    ],
)
async def test_bad_new_orders_are_400(s2s_client: AsyncTestClient[Any], body: Any) -> None:
    response = await s2s_client.post("/_sandbox/orders", json=body)
    assert response.status_code == 400, response.text
    assert set(response.json()) == {"message"}


# ---- request log -----------------------------------------------------------------------------


async def test_request_log(s2s_client: AsyncTestClient[Any]) -> None:
    await s2s_pay(s2s_client, S2S_SMALL)
    await s2s_pay(s2s_client, S2S_BIG, headers={})
    await s2s_pay(s2s_client, "abc")
    await s2s_client.get("/api/nowhere", headers=S2S_AUTH)
    await s2s_client.get(s2s_path(S2S_PLAIN))
    await s2s_credits(s2s_client)  # control endpoints are not logged
    entries = await s2s_requests(s2s_client)
    assert [list(entry) for entry in entries] == [
        ["method", "path", "at", "order_id", "authorized"]
    ] * 5
    assert [(e["method"], e["path"], e["order_id"], e["authorized"]) for e in entries] == [
        ("PATCH", s2s_path(S2S_SMALL), S2S_SMALL, True),
        ("PATCH", s2s_path(S2S_BIG), S2S_BIG, False),
        ("PATCH", s2s_path("abc"), None, True),
        ("GET", "/api/nowhere", None, True),
        ("GET", s2s_path(S2S_PLAIN), S2S_PLAIN, False),
    ]
    assert all(e["at"].endswith("+00:00") for e in entries)
    cleared = await s2s_client.delete("/_sandbox/requests")
    assert (cleared.status_code, cleared.json()) == (200, {"requests": []})
    assert await s2s_requests(s2s_client) == []


# ---- reset, routing of the control endpoints, config -----------------------------------------


async def test_reset(s2s_client: AsyncTestClient[Any]) -> None:
    assert (await s2s_pay(s2s_client, S2S_PLAIN)).status_code == 200
    await s2s_new_order(s2s_client, id=7, cost="1")
    await s2s_add_fault(s2s_client, status=500)
    response = await s2s_client.post("/_sandbox/reset")
    assert (response.status_code, response.json()) == (200, {"reset": True})
    assert await s2s_credits(s2s_client) == "100.00"
    order = await s2s_order(s2s_client, S2S_PLAIN)
    assert (order["status"], order["billing"], order["attempts"]) == ("Payment Pending", None, [])
    assert (await s2s_client.get("/_sandbox/orders/7")).status_code == 404
    assert (await s2s_client.get("/_sandbox/faults")).json() == {"faults": []}
    assert await s2s_requests(s2s_client) == []
    assert (await s2s_pay(s2s_client, S2S_PLAIN)).status_code == 200


async def test_control_routes_answer_json_errors(s2s_client: AsyncTestClient[Any]) -> None:
    wrong_method = await s2s_client.put("/_sandbox/credits")
    assert s2s_message(wrong_method, 405).startswith("The PUT method is not supported")
    unknown = await s2s_client.get("/_sandbox/nothing")
    assert s2s_message(unknown, 404) == "Not Found"
    assert await s2s_requests(s2s_client) == []


@pytest.mark.parametrize(
    "config",
    [
        {"token": ""},
        {"token": "two words"},
        {"token": " padded"},
        {"credits": "-1"},
        {"credits": "abc"},
        {"credits": "1.005"},
    ],
)
def test_bad_config(config: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Send2SellSandboxConfig(**config)


def test_default_config() -> None:
    config = Send2SellSandboxConfig()
    assert (config.token, config.credits, config.allow_method_spoofing) == (
        "sandbox-token",
        "100.00",
        True,
    )
