"""Send2Sell sandbox: injected faults (late reply after applying, status before or after)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.sandbox.send2sell_fixtures import (
    S2S_BIG,
    S2S_FORM,
    S2S_SMALL,
    s2s_add_fault,
    s2s_credits,
    s2s_in_loop_client,
    s2s_message,
    s2s_order,
    s2s_pay,
)

pytest_plugins = ["tests.sandbox.send2sell_fixtures"]

NO_PAYMENT = "This order does not allow payment. Please contact us."


async def pending_faults(client: AsyncTestClient[Any]) -> list[dict[str, Any]]:
    response = await client.get("/_sandbox/faults")
    assert response.status_code == 200
    faults: list[dict[str, Any]] = response.json()["faults"]
    return faults


async def test_late_reply_after_applying() -> None:
    async with s2s_in_loop_client() as client:
        await s2s_add_fault(client, delay_seconds=0.3, status=None, after_apply=False, times=1)
        started = time.monotonic()
        reply = asyncio.create_task(s2s_pay(client, S2S_SMALL))
        order: dict[str, Any] = {"status": "Payment Pending"}
        while order["status"] != "Paid":
            await asyncio.sleep(0.02)
            order = await s2s_order(client, S2S_SMALL)
        assert not reply.done()  # paid, the reply still on its way
        assert await s2s_credits(client) == "85.00"
        response = await reply
        assert time.monotonic() - started >= 0.3
        assert response.status_code == 200
        assert response.json()["status"] == "Paid"
        # The client gave up and retries: refused, the credits were consumed once.
        retry = await s2s_pay(client, S2S_SMALL)
        assert s2s_message(retry, 403) == NO_PAYMENT
        assert await s2s_credits(client) == "85.00"
        order = await s2s_order(client, S2S_SMALL)
        assert [a["status_code"] for a in order["attempts"]] == [200, 403]


async def test_after_apply_without_status_is_a_late_reply(s2s_client: AsyncTestClient[Any]) -> None:
    await s2s_add_fault(s2s_client, delay_seconds=0.1, after_apply=True)
    started = time.monotonic()
    response = await s2s_pay(s2s_client, S2S_SMALL)
    assert time.monotonic() - started >= 0.1
    assert response.status_code == 200


async def test_a_late_402_saves_the_billing(s2s_client: AsyncTestClient[Any]) -> None:
    await s2s_add_fault(s2s_client, delay_seconds=0.05)
    assert (await s2s_pay(s2s_client, S2S_BIG)).status_code == 402
    assert (await s2s_order(s2s_client, S2S_BIG))["billing"] is not None


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
async def test_status_before_applying(s2s_client: AsyncTestClient[Any], status: int) -> None:
    await s2s_add_fault(s2s_client, status=status)
    response = await s2s_pay(s2s_client, S2S_SMALL)
    assert s2s_message(response, status) == f"Injected fault: HTTP {status}"
    order = await s2s_order(s2s_client, S2S_SMALL)
    assert (order["status"], order["billing"], order["attempts"]) == ("Payment Pending", None, [])
    assert await s2s_credits(s2s_client) == "100.00"
    assert (await s2s_pay(s2s_client, S2S_SMALL)).status_code == 200  # the fault is used up
    assert await s2s_credits(s2s_client) == "85.00"


async def test_status_before_applying_waits_its_delay(s2s_client: AsyncTestClient[Any]) -> None:
    await s2s_add_fault(s2s_client, status=504, delay_seconds=0.1)
    started = time.monotonic()
    assert (await s2s_pay(s2s_client, S2S_SMALL)).status_code == 504
    assert time.monotonic() - started >= 0.1
    assert (await s2s_order(s2s_client, S2S_SMALL))["status"] == "Payment Pending"


async def test_apply_then_500(s2s_client: AsyncTestClient[Any]) -> None:
    await s2s_add_fault(s2s_client, status=500, after_apply=True)
    response = await s2s_pay(s2s_client, S2S_SMALL)
    assert s2s_message(response, 500) == "Injected fault: HTTP 500"
    order = await s2s_order(s2s_client, S2S_SMALL)
    assert order["status"] == "Paid"
    assert order["billing"]["city"] == "Austin"
    assert await s2s_credits(s2s_client) == "85.00"
    retry = await s2s_pay(s2s_client, S2S_SMALL)
    assert s2s_message(retry, 403) == NO_PAYMENT
    assert await s2s_credits(s2s_client) == "85.00"


async def test_apply_then_500_on_a_402(s2s_client: AsyncTestClient[Any]) -> None:
    await s2s_add_fault(s2s_client, status=500, after_apply=True)
    assert (await s2s_pay(s2s_client, S2S_BIG)).status_code == 500
    order = await s2s_order(s2s_client, S2S_BIG)
    assert (order["status"], order["attempts"][0]["status_code"]) == ("Payment Pending", 402)
    assert order["billing"] is not None


async def test_times_and_order_of_faults(s2s_client: AsyncTestClient[Any]) -> None:
    await s2s_add_fault(s2s_client, status=503, times=2)
    await s2s_add_fault(s2s_client, status=500, after_apply=True)
    assert [f["times"] for f in await pending_faults(s2s_client)] == [2, 1]
    codes = [(await s2s_pay(s2s_client, S2S_SMALL)).status_code for _ in range(4)]
    assert codes == [503, 503, 500, 403]
    assert await pending_faults(s2s_client) == []


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"headers": {}}, 401),
        ({"order_id": "abc"}, 404),
        ({"method": "POST", "form": S2S_FORM}, 405),
    ],
    ids=["unauthenticated", "not-integer", "not-spoofed"],
)
async def test_rejected_requests_do_not_take_a_fault(
    s2s_client: AsyncTestClient[Any], kwargs: dict[str, Any], status: int
) -> None:
    await s2s_add_fault(s2s_client, status=503)
    order_id = kwargs.pop("order_id", S2S_SMALL)
    assert (await s2s_pay(s2s_client, order_id, **kwargs)).status_code == status
    assert len(await pending_faults(s2s_client)) == 1
    assert (await s2s_pay(s2s_client, S2S_SMALL)).status_code == 503


async def test_validation_errors_take_a_fault(s2s_client: AsyncTestClient[Any]) -> None:
    await s2s_add_fault(s2s_client, status=502)
    assert (await s2s_pay(s2s_client, S2S_SMALL, {})).status_code == 502
    assert (await s2s_pay(s2s_client, S2S_SMALL, {})).status_code == 422


async def test_fault_views_and_clearing(s2s_client: AsyncTestClient[Any]) -> None:
    response = await s2s_client.post("/_sandbox/faults", json={"delay_seconds": 1.5, "times": 3})
    assert response.status_code == 201
    view = {"delay_seconds": 1.5, "status": None, "after_apply": False, "times": 3}
    assert response.json() == {"faults": [view]}
    assert await pending_faults(s2s_client) == [view]
    cleared = await s2s_client.delete("/_sandbox/faults")
    assert (cleared.status_code, cleared.json()) == (200, {"faults": []})
    assert (await s2s_pay(s2s_client, S2S_SMALL)).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"status": 200},
        {"status": 600},
        {"status": "500"},
        {"status": True},
        {"delay_seconds": -1},
        {"delay_seconds": 601},
        {"delay_seconds": "1"},
        {"after_apply": "yes"},
        {"times": 0},
        {"times": 1.5},
        {"times": None},
        [],
        "x",
    ],
)
async def test_fault_bodies_are_validated(s2s_client: AsyncTestClient[Any], body: Any) -> None:
    response = await s2s_client.post("/_sandbox/faults", json=body)
    assert response.status_code == 400, response.text
    assert set(response.json()) == {"message"}
    assert await pending_faults(s2s_client) == []


async def test_malformed_fault_body(s2s_client: AsyncTestClient[Any]) -> None:
    response = await s2s_client.post("/_sandbox/faults", content=b"{")
    assert response.status_code == 400
