"""Provider faults through the HTTP API, for each simulator: outcome, breaker, cap.

Every test runs a service of its own (fresh circuit breakers) whose providers are
reached through a `FaultProxy` in front of the session's simulators. Faults come
from the simulators' own `/_sandbox/faults` where they have them (Bizon and
Send2Sell: 5xx before or after applying, slow replies) and from the proxy for the
rest (a reset or a malformed reply after the request was applied, and any fault
for PaySuper and Proxy-Solutions, which inject none); "connection refused" is a
dead port. What the caller must see:

* never sent (refused, the circuit open, no free outbound slot) -> 503 problem,
  the payment recorded `failed`, nothing reached the provider;
* sent, no usable answer (reset, 5xx, malformed JSON, too slow) -> `processing`,
  sent exactly once, settled later by sync where the provider has one;
* never a 500, never a second charge (the simulator's request log).
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import msgspec
import pytest

from tests.api.helpers import act, card_payment, idem
from tests.api.paysuper_helpers import hosted
from tests.resilience.fault_proxy import FaultProxy
from tests.resilience.provider_service import (
    COOL_DOWN,
    LONG_COOL_DOWN,
    PROVIDERS,
    PROXY_BALANCE,
    SEND2SELL_CREDITS,
    SLOW,
    THRESHOLD,
    TIMEOUT,
    Simulator,
    assert_invariants_of,
    circuit,
    find,
    metric,
    not_a_500,
    proxy_order,
    running,
    send2sell_order,
    service,
    service_settings,
)


@pytest.fixture(scope="module")
def simulators(sandbox, paysuper_sandbox, proxy_sandbox, send2sell_sandbox) -> dict[str, Simulator]:
    return {
        "bizon": Simulator("bizon", sandbox, True, "authorized"),
        "paysuper": Simulator("paysuper", paysuper_sandbox, False, "requires_action"),
        "proxy_solutions": Simulator("proxy_solutions", proxy_sandbox, False, "captured"),
        "send2sell": Simulator("send2sell", send2sell_sandbox, True, "captured"),
    }


@pytest.fixture(scope="module")
async def proxies(
    sandbox_url, paysuper_sandbox_url, proxy_sandbox_url, send2sell_sandbox_url
) -> AsyncIterator[dict[str, FaultProxy]]:
    upstream = {
        "bizon": sandbox_url,
        "paysuper": paysuper_sandbox_url,
        "proxy_solutions": proxy_sandbox_url,
        "send2sell": send2sell_sandbox_url,
    }
    made = {
        name: await FaultProxy(int(url.rsplit(":", 1)[1])).start() for name, url in upstream.items()
    }
    yield made
    for proxy in made.values():
        await proxy.close()


@pytest.fixture(autouse=True)
async def _no_faults_left(proxies, simulators) -> AsyncIterator[None]:
    for proxy in proxies.values():
        proxy.clear()
    await simulators["bizon"].control.delete("/_sandbox/faults")
    await simulators["send2sell"].control.delete("/_sandbox/faults")
    yield
    for proxy in proxies.values():
        proxy.clear()
    await simulators["bizon"].control.delete("/_sandbox/faults")
    await simulators["send2sell"].control.delete("/_sandbox/faults")


@pytest.fixture(scope="module", autouse=True)
async def _balances_restored(simulators) -> AsyncIterator[None]:
    yield
    await simulators["send2sell"].control.post(
        "/_sandbox/credits", json={"credits": SEND2SELL_CREDITS}
    )
    await simulators["proxy_solutions"].control.post(
        "/_sandbox/balance", json={"balance": PROXY_BALANCE}
    )


# -- each fault, each simulator: the documented outcome ---------------------------------------

Inject = Callable[[Simulator, FaultProxy], Awaitable[None]]


async def _status(sim: Simulator, proxy: FaultProxy, status: int, after_apply: bool) -> None:
    if sim.native_faults:
        fault: dict[str, Any] = {"status": status}
        await sim.native_fault(fault | ({"after_apply": True} if after_apply else {}))
    else:
        proxy.add("status", status=status)  # before the simulator: nothing applied


async def _slow(sim: Simulator, proxy: FaultProxy) -> None:
    if sim.native_faults:
        await sim.native_fault({"delay_seconds": SLOW})  # applied, the reply late
    else:
        proxy.add("slow", delay=SLOW)


async def _reset(sim: Simulator, proxy: FaultProxy) -> None:
    proxy.add("reset")


async def _malformed(sim: Simulator, proxy: FaultProxy) -> None:
    proxy.add("malformed")


async def _500(sim: Simulator, proxy: FaultProxy) -> None:
    await _status(sim, proxy, 500, after_apply=True)


async def _503(sim: Simulator, proxy: FaultProxy) -> None:
    await _status(sim, proxy, 503, after_apply=False)


SENT_UNKNOWN: dict[str, Inject] = {
    "reset": _reset,
    "500": _500,
    "503": _503,
    "malformed": _malformed,
    "slow": _slow,
}


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_connection_refused_is_503_and_nothing_is_pending(
    provider, settings, proxies, simulators, key_factory
):
    sim = simulators[provider]
    down = service_settings(settings, proxies, dead=provider)
    before = await sim.log()
    async with running(down, await key_factory()) as (client, _):
        body = await sim.body()
        response = not_a_500(await client.post("/v1/payments", json=body, headers=idem()))
        assert (response.status_code, response.json()["code"]) == (503, "provider_unavailable")
        payment = await find(client, body["merchant_reference"])
    assert payment["status"] == "failed"
    assert payment["failure"]["code"] == "provider_unavailable"
    assert [op["status"] for op in payment["operations"]] == ["failed"]
    assert sim.charges((await sim.log())[len(before) :]) == []


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("fault", list(SENT_UNKNOWN))
async def test_a_fault_after_sending_leaves_the_payment_processing_sent_once(
    provider, fault, settings, proxies, simulators, key_factory, datastore_servers
):
    sim, proxy = simulators[provider], proxies[provider]
    before = await sim.log()
    tuned = service_settings(settings, proxies)
    own_db = provider == "proxy_solutions"
    async with service(tuned, key_factory, datastore_servers, own_db=own_db) as (client, _, db):
        body = await sim.body()
        await SENT_UNKNOWN[fault](sim, proxy)
        response = not_a_500(await client.post("/v1/payments", json=body, headers=idem()))
        assert response.status_code == 201, response.text
        payment = response.json()
        assert payment["status"] == "processing"
        assert payment["failure"] is None
        assert [op["status"] for op in payment["operations"]] == ["pending"]
        assert proxy.pending == 0  # the fault was consumed by this very call
        reached = sim.charges((await sim.log())[len(before) :])
        # The proxy's own 5xx never reaches the simulator; everything else did, once.
        by_proxy = not sim.native_faults and fault in ("500", "503")
        assert len(reached) == (0 if by_proxy else 1)
        if provider in ("bizon", "send2sell"):
            await _settled_by_sync(client, sim, payment, fault, before)
        await assert_invariants_of(db, {payment["id"]})


async def _settled_by_sync(
    client: httpx.AsyncClient,
    sim: Simulator,
    payment: dict[str, Any],
    fault: str,
    before: list[dict[str, Any]],
) -> None:
    """Sync settles what was applied, and nothing is charged a second time."""
    applied = fault != "503"  # the simulator's 503 comes before applying
    if sim.name == "bizon":
        synced = not_a_500(await act(client, payment["id"], "sync")).json()
        # Nothing there yet is no evidence: it stays processing until the reconcile age.
        assert synced["status"] == ("authorized" if applied else "processing")
        assert len(sim.charges((await sim.log())[len(before) :])) == 1
        return
    # Send2Sell settles by confirming again, once the first call cannot be in flight.
    await asyncio.sleep(2 * TIMEOUT)
    synced = not_a_500(await act(client, payment["id"], "sync")).json()
    assert (synced["status"], synced["amount_captured"]) == ("captured", 2500)
    order = int(synced["provider_reference"])
    attempts = (await sim.control.get(f"/_sandbox/orders/{order}")).json()["attempts"]
    assert [a["outcome"] for a in attempts].count("paid") == 1  # never paid twice


# -- the breaker, for each simulator -------------------------------------------------------------


# Each simulator fails its own way here: every kind of technical failure opens it.
# (Proxy-Solutions is refused: a payment in doubt would block its vendor order.)
BREAKER_FAILURES = {
    "bizon": ("status", "processing"),
    "paysuper": ("reset", "processing"),
    "proxy_solutions": ("refused", "failed"),
    "send2sell": ("malformed", "processing"),
}


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_the_breaker_opens_fails_fast_and_closes_after_the_cool_down(
    provider, settings, proxies, simulators, key_factory
):
    sim, proxy = simulators[provider], proxies[provider]
    async with running(service_settings(settings, proxies), await key_factory()) as (client, _):
        kind, left = BREAKER_FAILURES[provider]
        if kind == "refused":
            await proxy.refuse()
        else:
            proxy.add(kind, status=503, times=THRESHOLD)
        try:
            for _ in range(THRESHOLD):
                failing = not_a_500(
                    await client.post("/v1/payments", json=await sim.body(), headers=idem())
                )
                assert failing.status_code in (201, 503), failing.text
                if failing.status_code == 201:
                    assert failing.json()["status"] == left
                else:
                    assert failing.json()["code"] == "provider_unavailable"
        finally:
            await proxy.listen()

        # Open: the next call fails at once and reaches nobody.
        body, key = await sim.body(), idem()
        log_before, received = await sim.log(), proxy.received
        refused = not_a_500(await client.post("/v1/payments", json=body, headers=key))
        assert refused.status_code == 503
        assert refused.json()["code"] == "provider_circuit_open"
        assert 1 <= int(refused.headers["retry-after"]) <= COOL_DOWN + 1
        assert (proxy.received, await sim.log()) == (received, log_before)
        payment = await find(client, body["merchant_reference"])
        assert (payment["status"], payment["failure"]["code"]) == (
            "failed",
            "provider_circuit_open",
        )
        # The key was released: the same request runs again (no stored answer replayed).
        again = not_a_500(await client.post("/v1/payments", json=body, headers=key))
        assert again.status_code == 503
        assert "idempotent-replayed" not in again.headers

        shown = await circuit(client, provider)
        assert (shown["state"], shown["consecutive_failures"]) == ("open", THRESHOLD)
        assert shown["opened_at"] < shown["retry_at"]
        others = {p: (await circuit(client, p))["state"] for p in PROVIDERS if p != provider}
        assert set(others.values()) == {"closed"}
        metrics = (await client.get("/metrics")).text
        assert metric(metrics, "provider_circuit_state", provider=provider, state="open") == 1
        assert metric(metrics, "provider_circuit_state", provider=provider, state="closed") == 0
        rejected = metric(
            metrics, "provider_circuit_rejected_total", provider=provider, operation="authorize"
        ) + metric(
            metrics, "provider_circuit_rejected_total", provider=provider, operation="pay_order"
        )
        assert rejected >= 2

        # After the cool-down a probe goes through; the simulator is healthy: closed.
        await asyncio.sleep(COOL_DOWN)
        assert (await circuit(client, provider))["state"] == "half_open"
        healed = not_a_500(await client.post("/v1/payments", json=body, headers=key))
        assert healed.status_code == 201, healed.text
        assert healed.json()["status"] == sim.paid_status
        shown = await circuit(client, provider)
        assert (shown["state"], shown["consecutive_failures"], shown["opened_at"]) == (
            "closed",
            0,
            None,
        )
        metrics = (await client.get("/metrics")).text
        assert metric(metrics, "provider_circuit_state", provider=provider, state="closed") == 1
        for state in ("open", "half_open", "closed"):
            assert (
                metric(
                    metrics, "provider_circuit_transitions_total", provider=provider, state=state
                )
                >= 1
            )


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_declines_and_refusals_never_open_it(
    provider, settings, proxies, simulators, key_factory
):
    """Answers from a working provider, however negative, keep the circuit closed."""
    sim = simulators[provider]
    async with running(service_settings(settings, proxies), await key_factory()) as (client, _):
        for _ in range(THRESHOLD + 1):
            response = not_a_500(
                await client.post("/v1/payments", json=await _refused_body(sim), headers=idem())
            )
            assert response.status_code in (201, 422, 502), response.text
            if response.status_code == 201:
                assert response.json()["status"] == "failed"  # a decline
        shown = await circuit(client, provider)
        assert (shown["state"], shown["consecutive_failures"]) == ("closed", 0)
        paid = not_a_500(await client.post("/v1/payments", json=await sim.body(), headers=idem()))
        assert paid.json()["status"] == sim.paid_status


async def _refused_body(sim: Simulator) -> dict[str, Any]:
    """A request the provider answers with a decline or a 4xx refusal."""
    if sim.name == "bizon":
        return card_payment("4000000000000002")  # declined
    if sim.name == "paysuper":
        return hosted(project="no-such-project")  # 404 project_not_found
    if sim.name == "proxy_solutions":
        body = proxy_order()
        body["provider_options"]["proxy_solutions"]["order_id"] = 999_999  # no such order
        return body
    response = await sim.control.post("/_sandbox/orders", json={"cost": "25", "locked": True})
    return send2sell_order(int(response.json()["id"]))  # 403: does not allow payment


# -- bizon: every path that calls the provider, with the circuit open --------------------------


async def test_with_the_circuit_open_every_call_is_refused_unsent_and_nothing_is_lost(
    settings, proxies, simulators, key_factory, datastore_servers
):
    """Create, capture, void, refund, sync and the reconciler all meet the open circuit.

    A database of its own: the reconciler pass must see this test's payments only.
    """
    sim, proxy = simulators["bizon"], proxies["bizon"]
    tuned = service_settings(
        settings,
        proxies,
        cool_down=LONG_COOL_DOWN,
        reconcile_after_seconds=0.2,
        reconcile_interval_seconds=0.2,
    )
    async with service(tuned, key_factory, datastore_servers, own_db=True) as (client, app, url):
        authorized = (await client.post("/v1/payments", json=card_payment(), headers=idem())).json()
        captured = (
            await client.post(
                "/v1/payments", json=card_payment(capture="automatic"), headers=idem()
            )
        ).json()
        assert (authorized["status"], captured["status"]) == ("authorized", "captured")
        # One failure a slow reply (the charge applied, the answer lost), then two 503s.
        await sim.native_fault({"delay_seconds": SLOW})
        in_doubt = (await client.post("/v1/payments", json=card_payment(), headers=idem())).json()
        proxy.add("status", status=503, times=THRESHOLD - 1)
        for _ in range(THRESHOLD - 1):
            await client.post("/v1/payments", json=card_payment(), headers=idem())
        assert in_doubt["status"] == "processing"
        assert (await circuit(client, "bizon"))["state"] == "open"

        log_before, received = await sim.log(), proxy.received
        for payment, action, body in (
            (authorized, "capture", {"amount": 500}),
            (authorized, "void", None),
            (captured, "refunds", {"amount": 100}),
            (in_doubt, "sync", None),
        ):
            response = not_a_500(await act(client, payment["id"], action, body))
            assert (response.status_code, response.json()["code"]) == (
                503,
                "provider_circuit_open",
            ), action
            after = (await client.get(f"/v1/payments/{payment['id']}")).json()
            assert after["status"] == payment["status"], action  # as it was
            amounts = ("amount_authorized", "amount_captured", "amount_refunded")
            assert [after[a] for a in amounts] == [payment[a] for a in amounts]
            if action != "sync":  # the refused operation is recorded, failed, not pending
                assert after["operations"][-1]["status"] == "failed"
                assert after["operations"][-1]["failure"]["code"] == "provider_circuit_open"

        await asyncio.sleep(0.3)  # older than reconcile_after_seconds
        reconciler = app.state["services"].reconciler
        counts = await reconciler.run_once()
        assert counts["error"] >= 1  # the sync met the open circuit
        assert counts["settled"] == 0
        assert (proxy.received, await sim.log()) == (received, log_before)  # nothing sent

        await asyncio.sleep(LONG_COOL_DOWN)
        counts = await reconciler.run_once()  # its sync is the probe
        assert counts["settled"] >= 1
        settled = (await client.get(f"/v1/payments/{in_doubt['id']}")).json()
        assert settled["status"] == "authorized"
        assert (await circuit(client, "bizon"))["state"] == "closed"
        charged = [
            e for e in sim.charges(await sim.log()) if e.get("merchant_order_id") == in_doubt["id"]
        ]
        assert len(charged) == 1  # charged once, settled by sync, never sent again
        # Closed again: the capture refused while it was open now goes through.
        after = not_a_500(await act(client, authorized["id"], "capture", {"amount": 500}))
        assert (after.status_code, after.json()["amount_captured"]) == (200, 500)
        listed = (await client.get("/v1/payments", params={"limit": 100})).json()["data"]
        assert len(listed) == 2 + THRESHOLD  # the database is this test's alone
        await assert_invariants_of(url, {p["id"] for p in listed})


# -- the outbound cap ---------------------------------------------------------------------------


async def test_a_call_without_a_free_outbound_slot_is_not_sent(
    settings, proxies, simulators, key_factory
):
    """BIZON_MAX_CONCURRENCY=1: a second call while one is in flight is 503, unsent."""
    sim = simulators["bizon"]
    capped = service_settings(settings, proxies)
    assert capped.bizon is not None
    capped = msgspec.structs.replace(
        capped,
        bizon=msgspec.structs.replace(
            capped.bizon, max_concurrency=1, connect_timeout_seconds=0.1, timeout_seconds=2.0
        ),
    )
    await sim.native_fault({"delay_seconds": 0.8})  # slow, within the read timeout
    async with running(capped, await key_factory()) as (client, _):
        slow_body, second_body = card_payment(), card_payment()
        first = asyncio.create_task(client.post("/v1/payments", json=slow_body, headers=idem()))
        await asyncio.sleep(0.2)  # the first holds the only connection
        second = not_a_500(await client.post("/v1/payments", json=second_body, headers=idem()))
        assert (second.status_code, second.json()["code"]) == (503, "provider_unavailable")
        assert not first.done()
        assert (await first).json()["status"] == "authorized"
        refused = await find(client, second_body["merchant_reference"])
        assert (refused["status"], refused["failure"]["code"]) == ("failed", "provider_unavailable")
        log = await sim.log()
        assert [e for e in sim.charges(log) if e.get("merchant_order_id") == refused["id"]] == []
