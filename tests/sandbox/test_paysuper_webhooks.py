"""PaySuper sandbox: signed notifications, retries, duplicates, hold/flush, shutdown.

The receiver is a real Litestar app served by uvicorn on a free loopback port in the test's
loop (see paysuper_fixtures); the sandbox runs in AsyncTestClient's own thread and loop.
"""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient

from service.sandbox.paysuper import PaySuperSandboxConfig, create_paysuper_sandbox
from tests.sandbox.paysuper_fixtures import (
    APPROVED,
    FAST_DELAYS,
    FORM_CARD,
    SIMPLE,
    Receiver,
    assert_error,
    compact,
    control,
    create_order,
    eventually,
    paid_order,
    sandbox_client,
    sign,
    webhook_signature,
    webhooks,
)
from tests.servers import serving

pytest_plugins = ["tests.sandbox.paysuper_fixtures"]

DAY = 86_400


async def received(receiver: Receiver, count: int) -> list[dict[str, Any]]:
    await eventually(lambda: len(receiver.received) >= count)
    return receiver.events()


async def webhook(client: AsyncTestClient[Any], event_id: str) -> dict[str, Any]:
    [found] = [item for item in await webhooks(client) if item["event_id"] == event_id]
    return found


async def settled(client: AsyncTestClient[Any], event_id: str) -> dict[str, Any]:
    """Wait until the event is delivered or given up, and return its entry."""
    entry: dict[str, Any] = {}

    async def done() -> bool:
        entry.update(await webhook(client, event_id))
        return bool(entry["delivered"] or entry["given_up"])

    await eventually(done)
    return entry


# ---- the notification ---------------------------------------------------------------------


async def test_success_notification(hooked: AsyncTestClient[Any], receiver: Receiver) -> None:
    order_id = await create_order(hooked, url_success="https://shop.test/ok")
    form = {"pan": APPROVED} | FORM_CARD
    assert (await hooked.post(f"/pay/{order_id}", data=form)).status_code == 302
    [event] = await received(receiver, 1)
    [delivery] = receiver.received
    assert delivery.headers["content-type"] == "application/json"
    assert delivery.headers["authorization"] == f"Signature {webhook_signature(delivery.body)}"
    assert list(event) == [
        "id",
        "type",
        "event",
        "live",
        "created_at",
        "expires_at",
        "delivery_try",
        "object",
    ]
    assert (event["type"], event["event"], event["live"]) == (
        "notification",
        "payment.success",
        False,
    )
    assert event["delivery_try"] == 1
    assert event["expires_at"]["seconds"] == event["created_at"]["seconds"] + DAY
    assert event["expires_at"]["nanos"] == event["created_at"]["nanos"]
    order = event["object"]
    # The supplement's quirk: the paid order still reads "created" in payment.success.
    assert (order["id"], order["status"], order["method"]["title"]) == (
        order_id,
        "created",
        "Bank card",
    )
    assert (order["amount"], order["currency"]) == (12.5, "eur")
    assert b'"amount":12.5' in delivery.body
    entry = await settled(hooked, event["id"])
    assert (entry["attempts"], entry["last_status"], entry["delivered"]) == (1, 200, True)
    assert (await hooked.get(f"/_sandbox/orders/{order_id}")).json()["status"] == "processed"


async def test_signature_uses_the_secret_key(receiver: Receiver) -> None:
    async with sandbox_client(webhook_url=receiver.url, secret_key="k-123") as client:
        body = compact(SIMPLE)
        response = await client.post(
            "/api/v1/order", content=body, headers={"X-API-SIGNATURE": sign(body, "k-123")}
        )
        await control(client, response.json()["id"], "pay")
        await received(receiver, 1)
        [delivery] = receiver.received
        expected = webhook_signature(delivery.body, "k-123")
        assert delivery.headers["authorization"] == f"Signature {expected}"
        assert webhook_signature(delivery.body) != expected


async def test_other_events_embed_the_new_status(
    hooked: AsyncTestClient[Any], receiver: Receiver
) -> None:
    refunded = await paid_order(hooked)
    await received(receiver, 1)
    await control(hooked, refunded, "refund", amount=2)
    charged_back = await paid_order(hooked)
    await received(receiver, 3)
    await control(hooked, charged_back, "chargeback")
    canceled = await create_order(hooked)
    await control(hooked, canceled, "cancel")
    events = await received(receiver, 5)
    by_event = {event["event"]: event["object"] for event in events}
    assert by_event["payment.refund"]["status"] == "refunded"
    assert by_event["payment.refund"]["refund"]["amount"] == 2.0
    assert by_event["payment.refund"]["refunded_at"]["seconds"] > 0
    assert by_event["payment.chargeback"]["status"] == "chargeback"
    assert by_event["payment.cancel"]["status"] == "canceled"
    assert by_event["payment.cancel"]["canceled_at"]["seconds"] > 0
    assert len({event["id"] for event in events}) == 5


async def test_pay_mismatch_in_the_notification(
    hooked: AsyncTestClient[Any], receiver: Receiver
) -> None:
    order_id = await create_order(hooked)
    await control(hooked, order_id, "pay", amount=1.1, currency="USD")
    [event] = await received(receiver, 1)
    assert (event["object"]["amount"], event["object"]["currency"]) == (1.1, "usd")
    order = (await hooked.get(f"/_sandbox/orders/{order_id}")).json()
    assert (order["amount"], order["currency"]) == (12.5, "eur")


async def test_the_request_does_not_wait_for_the_delivery(
    hooked: AsyncTestClient[Any], receiver: Receiver
) -> None:
    # AsyncTestClient blocks this loop (the receiver's) during a request: a request that
    # waited for its delivery could not finish before the 10 s delivery timeout.
    order_id = await create_order(hooked)
    started = time.monotonic()
    response = await control(hooked, order_id, "pay")
    assert time.monotonic() - started < 2
    assert response.status_code == 200
    await received(receiver, 1)


# ---- retries ------------------------------------------------------------------------------


@pytest.mark.parametrize("first_answers", [[500], [503, 204], [201]])
async def test_retried_until_200(
    hooked: AsyncTestClient[Any], receiver: Receiver, first_answers: list[int]
) -> None:
    receiver.statuses.extend(first_answers)
    order_id = await paid_order(hooked)
    attempts = len(first_answers) + 1
    events = await received(receiver, attempts)
    assert [event["delivery_try"] for event in events] == list(range(1, attempts + 1))
    assert len({event["id"] for event in events}) == 1
    for delivery in receiver.received:  # each attempt is signed over its own body
        assert delivery.headers["authorization"] == f"Signature {webhook_signature(delivery.body)}"
    entry = await settled(hooked, events[0]["id"])
    assert (entry["order_id"], entry["attempts"], entry["last_status"]) == (order_id, attempts, 200)
    assert (entry["delivered"], entry["given_up"]) == (True, False)


async def test_given_up_after_the_delays(hooked: AsyncTestClient[Any], receiver: Receiver) -> None:
    receiver.statuses.extend([500] * 5)
    await paid_order(hooked)
    events = await received(receiver, 1)
    entry = await settled(hooked, events[0]["id"])
    assert (entry["attempts"], entry["last_status"]) == (1 + len(FAST_DELAYS), 500)
    assert (entry["delivered"], entry["given_up"]) == (False, True)
    await asyncio.sleep(0.3)
    assert len(receiver.received) == 1 + len(FAST_DELAYS)  # nothing after giving up


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_connection_errors_are_retried_then_given_up() -> None:
    url = f"http://127.0.0.1:{_closed_port()}/hook"
    async with sandbox_client(webhook_url=url, webhook_retry_delays=FAST_DELAYS) as client:
        order_id = await paid_order(client)
        [event] = await webhooks(client)
        entry = await settled(client, event["event_id"])
        assert (entry["order_id"], entry["attempts"]) == (order_id, 3)
        assert (entry["last_status"], entry["delivered"], entry["given_up"]) == (None, False, True)
        assert "Connect" in entry["last_error"]


# ---- duplicates, hold and flush -----------------------------------------------------------


async def test_duplicates(hooked: AsyncTestClient[Any], receiver: Receiver) -> None:
    order_id = await create_order(hooked)
    response = await control(hooked, order_id, "pay", duplicates=2)
    event_id = response.json()["event_id"]
    events = await received(receiver, 3)
    assert [event["id"] for event in events] == [event_id] * 3
    assert [event["delivery_try"] for event in events] == [1, 2, 3]
    assert [event["object"] for event in events] == [events[0]["object"]] * 3
    entry = await webhook(hooked, event_id)
    assert (entry["attempts"], entry["delivered"], entry["last_status"]) == (3, True, 200)


async def test_duplicates_with_retries(hooked: AsyncTestClient[Any], receiver: Receiver) -> None:
    receiver.statuses.extend([500, 200, 500])
    order_id = await paid_order(hooked)
    await received(receiver, 2)  # the success event: 500, then 200
    await control(hooked, order_id, "refund", duplicates=1)
    events = await received(receiver, 5)
    refunds = [event for event in events if event["event"] == "payment.refund"]
    assert [event["delivery_try"] for event in refunds] == [1, 2, 3]
    assert len({event["id"] for event in refunds}) == 1


async def test_hold_and_flush_in_a_chosen_order(
    hooked: AsyncTestClient[Any], receiver: Receiver
) -> None:
    first, second, third = [await create_order(hooked) for _ in range(3)]
    ids = {}
    ids[first] = (await control(hooked, first, "pay", hold=True)).json()["event_id"]
    ids[second] = (await control(hooked, second, "pay", hold=True)).json()["event_id"]
    ids[third] = (await control(hooked, third, "cancel", hold=True)).json()["event_id"]
    await asyncio.sleep(0.2)
    assert receiver.received == []
    assert [(e["held"], e["attempts"]) for e in await webhooks(hooked)] == [(True, 0)] * 3

    flushed = await hooked.post(
        "/_sandbox/webhooks/flush", json={"order": [ids[third], ids[first]]}
    )
    assert flushed.json() == {"flushed": [ids[third], ids[first]]}
    events = await received(receiver, 2)
    assert [event["id"] for event in events] == [ids[third], ids[first]]
    assert (await webhook(hooked, ids[second]))["held"] is True

    assert (await hooked.post("/_sandbox/webhooks/flush")).json() == {"flushed": [ids[second]]}
    events = await received(receiver, 3)
    assert events[2]["id"] == ids[second]
    assert events[2]["delivery_try"] == 1
    assert not any(entry["held"] for entry in await webhooks(hooked))


async def test_flush_refuses_events_that_are_not_held(
    hooked: AsyncTestClient[Any], receiver: Receiver
) -> None:
    order_id = await create_order(hooked)
    held = (await control(hooked, order_id, "pay", hold=True)).json()["event_id"]
    refund = (await control(hooked, order_id, "refund")).json()["event_id"]  # sent at once
    for body, fragment in [
        ({"order": ["nope"]}, "event nope is not a held event"),
        ({"order": [held, refund]}, f"event {refund} is not a held event"),
        ({"order": [held, held]}, "must not repeat"),
        ({"order": held}, "order must be a list of event ids"),
        ({"order": [1]}, "order must be a list of event ids"),
    ]:
        response = await hooked.post("/_sandbox/webhooks/flush", json=body)
        assert_error(response, 400, "validation_failed", fragment)
    assert (await webhook(hooked, held))["held"] is True  # nothing was flushed
    assert [event["id"] for event in await received(receiver, 1)] == [refund]


async def test_without_webhook_url_events_are_only_recorded(
    paysuper: AsyncTestClient[Any],
) -> None:
    order_id = await create_order(paysuper)
    event_id = (await control(paysuper, order_id, "pay", hold=True)).json()["event_id"]
    assert (await paysuper.post("/_sandbox/webhooks/flush", json={})).json() == {
        "flushed": [event_id]
    }
    entry = await webhook(paysuper, event_id)
    assert (entry["held"], entry["attempts"], entry["delivered"]) == (False, 0, False)


# ---- lifecycle ----------------------------------------------------------------------------


def _deliveries() -> list[asyncio.Task[Any]]:
    return [
        task
        for task in asyncio.all_tasks()
        if getattr(task.get_coro(), "__qualname__", "").startswith("WebhookDispatcher.")
    ]


async def test_reset_and_shutdown_cancel_the_deliveries(receiver: Receiver) -> None:
    # Here the sandbox runs on this loop (uvicorn, lifespan on), so its tasks are visible.
    receiver.statuses.extend([500] * 10)
    config = PaySuperSandboxConfig(webhook_url=receiver.url, webhook_retry_delays=(30.0,))
    async with (
        serving(create_paysuper_sandbox(config)) as url,
        httpx.AsyncClient(base_url=url) as client,
    ):
        body = compact(SIMPLE)
        created = await client.post(
            "/api/v1/order", content=body, headers={"X-API-SIGNATURE": sign(body)}
        )
        await client.post(f"/_sandbox/orders/{created.json()['id']}/pay")
        await received(receiver, 1)
        assert len(_deliveries()) == 1  # waiting 30 s before its retry
        await client.post("/_sandbox/reset")
        await eventually(lambda: not _deliveries())

        created = await client.post(
            "/api/v1/order", content=body, headers={"X-API-SIGNATURE": sign(body)}
        )
        await client.post(f"/_sandbox/orders/{created.json()['id']}/pay")
        await received(receiver, 2)
        assert len(_deliveries()) == 1
        started = time.monotonic()
    assert time.monotonic() - started < 5  # the shutdown did not wait for the retry
    assert not _deliveries()
    assert len(receiver.received) == 2
