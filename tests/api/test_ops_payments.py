"""Payments in doubt for operators: the reconciler hands them over, operators list and
resolve them (GET /v1/ops/payments/stuck, POST /v1/ops/payments/{id}/resolve).

On a database of its own (a reconciler pass claims everything in doubt), against the
Bizon sandbox; payments at providers that cannot be asked are written to the ledger
as a lost reply leaves them.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import msgspec
import pytest

from service.app import create_app, open_services
from service.domain.ids import new_id
from service.domain.payments import (
    CaptureMethod,
    Operation,
    OperationStatus,
    OperationType,
    Payment,
    PaymentMethodSummary,
    PaymentMethodType,
    PaymentStatus,
)
from service.ledger import PostgresLedger
from service.observability import RECONCILE_NEEDS_ATTENTION, RECONCILE_OLDEST_PENDING
from service.settings import Settings
from tests.api.helpers import SLOW, THREE_DS, act, card_payment, create, log_events
from tests.conftest import SANDBOX_SLOW_SECONDS
from tests.isolated import new_key, own_database
from tests.servers import serving

MAX_ATTEMPTS = 2
INTERVAL = 0.05


@pytest.fixture(scope="module")
async def ops_db(datastore_servers: tuple[str, str, str]) -> AsyncIterator[str]:
    async with own_database(datastore_servers[0]) as url:
        yield url


@pytest.fixture(scope="module")
def ops_settings(settings: Settings, ops_db: str) -> Settings:
    return msgspec.structs.replace(
        settings,
        database_url=ops_db,
        reconcile_after_seconds=0.3,
        reconcile_interval_seconds=INTERVAL,
        reconcile_max_attempts=MAX_ATTEMPTS,
        reconcile_batch_size=1000,
    )


@pytest.fixture(scope="module")
async def ops_ledger(ops_db: str) -> AsyncIterator[PostgresLedger]:
    ledger = await PostgresLedger.connect(ops_db, max_size=2)
    yield ledger
    await ledger.close()


@pytest.fixture(scope="module")
async def ops_url(ops_settings: Settings) -> AsyncIterator[str]:
    async with serving(create_app(ops_settings)) as url:
        yield url


@pytest.fixture(scope="module")
async def services(ops_settings: Settings):  # type: ignore[no-untyped-def]
    async with open_services(ops_settings) as opened:
        yield opened


@pytest.fixture(scope="module")
async def ops_key(ops_ledger: PostgresLedger) -> tuple[str, str]:
    return await new_key(ops_ledger, "ops", "payments:read")


@pytest.fixture(scope="module")
async def ops(ops_url: str, ops_key: tuple[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {ops_key[1]}"}
    async with httpx.AsyncClient(base_url=ops_url, headers=headers, timeout=20) as c:
        yield c


@pytest.fixture(scope="module")
async def merchant(ops_url: str, ops_ledger: PostgresLedger) -> AsyncIterator[httpx.AsyncClient]:
    """A caller's key: payments and payouts, no ops."""
    _, secret = await new_key(ops_ledger, "payments:read", "payments:write", "payouts:write")
    headers = {"Authorization": f"Bearer {secret}"}
    async with httpx.AsyncClient(base_url=ops_url, headers=headers, timeout=20) as c:
        yield c


async def passes(services: Any, count: int) -> None:
    """`count` reconciler passes, each after the previous one's backoff."""
    for n in range(count):
        await services.reconciler.run_once()
        await asyncio.sleep(INTERVAL * 2**n + 0.02)


async def lost_reply(
    ledger: PostgresLedger,
    provider: str,
    status: PaymentStatus = PaymentStatus.PROCESSING,
    *,
    age: timedelta = timedelta(minutes=5),
    amount: int | None = 1500,
    order: str = "1001",
) -> str:
    """A payment as a lost reply leaves it: its authorize pending since `age` ago."""
    key_id, _ = await new_key(ledger, "payments:write")
    at = datetime.now(UTC) - age
    method = PaymentMethodType.BALANCE if provider == "proxy_solutions" else "hosted_page"
    pay = Payment(
        id=new_id("pay"),
        status=status,
        amount=amount,
        currency="USD",
        capture=CaptureMethod.AUTOMATIC,
        provider=provider,
        payment_method=PaymentMethodSummary(PaymentMethodType(method)),
        created_at=at,
        updated_at=at,
        api_key_id=key_id,
        provider_reference=order if provider == "proxy_solutions" else None,
    )
    op = Operation(
        id=new_id("op"),
        payment_id=pay.id,
        type=OperationType.AUTHORIZE,
        status=OperationStatus.PENDING,
        amount=amount,
        currency="USD",
        created_at=at,
    )
    await ledger.create_payment(pay, op, None)
    return pay.id


async def stuck(ops: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    response = await ops.get("/v1/ops/payments/stuck", params=params)
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


def resolve_body(outcome: str = "failed", **extra: Any) -> dict[str, Any]:
    return {"outcome": outcome, "reason": "back office checked by jane", **extra}


async def resolve(
    client: httpx.AsyncClient, payment_id: str, body: Any, key: str | None = None
) -> httpx.Response:
    headers = {"Idempotency-Key": key or uuid.uuid4().hex}
    return await client.post(f"/v1/ops/payments/{payment_id}/resolve", json=body, headers=headers)


# -- the reconciler hands over what it cannot settle ------------------------------------


async def test_a_payment_still_in_doubt_after_max_attempts_needs_attention(merchant, ops, services):
    created = (await create(merchant, card_payment(THREE_DS))).json()
    assert created["status"] == "requires_action"  # the customer never comes back
    await asyncio.sleep(0.4)
    await passes(services, MAX_ATTEMPTS - 1)
    assert (await merchant.get(f"/v1/payments/{created['id']}")).json()["status"] == (
        "requires_action"
    )
    await passes(services, 1)
    marked = (await merchant.get(f"/v1/payments/{created['id']}")).json()
    assert marked["status"] == "needs_attention"
    assert marked["operations"][0]["status"] == "pending"  # nothing guessed
    # Money stays put while nobody knows: a clear 409.
    refused = await act(merchant, created["id"], "capture")
    assert (refused.status_code, refused.json()["code"]) == (409, "invalid_state")
    assert "needs attention" in refused.json()["detail"]
    [row] = [r for r in await stuck(ops) if r["id"] == created["id"]]
    assert row["status"] == "needs_attention"
    assert row["attempts"] == MAX_ATTEMPTS
    assert row["reason"] == f"bizon still waits for the customer after {MAX_ATTEMPTS} tries"
    assert row["reconcile_strategy"] == "status_call"
    assert row["needs_attention_since"] is not None
    assert row["age_seconds"] >= 0
    assert (row["amount"], row["currency"], row["provider"]) == (999, "USD", "bizon")
    assert [op["type"] for op in row["pending_operations"]] == ["authorize"]
    # Handed over once: later passes leave it alone.
    counts = await services.reconciler.run_once()
    assert counts["needs_attention"] == 0
    metrics = (await merchant.get("/metrics")).text
    assert 'reconcile_needs_attention_marked_total{kind="payment",provider="bizon"}' in metrics
    assert 'reconcile_needs_attention{kind="payment"}' in metrics


async def test_the_last_sync_error_is_the_reason(merchant, ops, services, sandbox):
    created = (await create(merchant, card_payment(THREE_DS))).json()
    await asyncio.sleep(0.4)
    await sandbox.post(
        "/_sandbox/faults",
        json={"method": "GET", "path_prefix": "/orders/", "status": 503, "times": 1000},
    )
    try:
        await passes(services, MAX_ATTEMPTS)
    finally:
        await sandbox.delete("/_sandbox/faults")
    [row] = [r for r in await stuck(ops) if r["id"] == created["id"]]
    assert row["status"] == "needs_attention"
    assert row["reason"].startswith(f"still in doubt after {MAX_ATTEMPTS} tries; the last sync")
    assert "503" in row["reason"]
    assert "503" in row["last_error"]


async def test_a_provider_that_cannot_be_asked_is_handed_over_not_ignored(
    ops, ops_ledger, services
):
    # Proxy-Solutions: no status call, no notification. A lost reply goes at once.
    lost = await lost_reply(ops_ledger, "proxy_solutions", amount=None)
    # PaySuper: notifications only; its customer may still pay for a while.
    waiting = await lost_reply(ops_ledger, "paysuper", PaymentStatus.REQUIRES_ACTION)
    await passes(services, 1)
    rows = {r["id"]: r for r in await stuck(ops)}
    assert rows[lost]["status"] == "needs_attention"
    assert rows[lost]["reconcile_strategy"] == "manual"
    assert "cannot be asked" in rows[lost]["reason"]
    assert rows[waiting]["status"] == "requires_action"
    await passes(services, MAX_ATTEMPTS)
    rows = {r["id"]: r for r in await stuck(ops)}
    assert rows[waiting]["status"] == "needs_attention"
    assert rows[waiting]["reason"].startswith("no notification from paysuper")


async def test_a_sync_still_settles_a_payment_that_needs_attention(
    merchant, ops, services, sandbox
):
    # The provider charged; the reply was lost and its status call kept failing.
    created = (await create(merchant, card_payment(SLOW, capture="automatic"))).json()
    assert created["status"] == "processing"
    await sandbox.post(
        "/_sandbox/faults",
        json={"method": "GET", "path_prefix": "/orders", "status": 500, "times": 1000},
    )
    try:
        await asyncio.sleep(0.4)
        await passes(services, MAX_ATTEMPTS)
    finally:
        await sandbox.delete("/_sandbox/faults")
    assert (await merchant.get(f"/v1/payments/{created['id']}")).json()["status"] == (
        "needs_attention"
    )
    # The provider answers again: its evidence settles the payment, no operator needed.
    await asyncio.sleep(SANDBOX_SLOW_SECONDS)
    synced = (await merchant.post(f"/v1/payments/{created['id']}/sync")).json()
    assert (synced["status"], synced["amount_captured"]) == ("captured", 999)
    assert created["id"] not in {r["id"] for r in await stuck(ops)}


async def test_a_payout_still_in_doubt_needs_attention_and_a_sync_settles_it(
    merchant, services, sandbox
):
    await sandbox.post(
        "/_sandbox/faults",
        json={"method": "POST", "path_prefix": "/orders/credit", "delay_seconds": 1.0},
    )
    payout = (
        await merchant.post(
            "/v1/payouts",
            json={
                "amount": 700,
                "currency": "USD",
                "destination": {"type": "card", "card": {"number": "4111111111111111"}},
            },
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
    ).json()
    assert payout["status"] == "processing"
    await sandbox.post(
        "/_sandbox/faults",
        json={"method": "GET", "path_prefix": "/orders", "status": 500, "times": 1000},
    )
    try:
        await asyncio.sleep(0.4)
        await passes(services, MAX_ATTEMPTS)
    finally:
        await sandbox.delete("/_sandbox/faults")
    marked = (await merchant.get(f"/v1/payouts/{payout['id']}")).json()
    assert marked["status"] == "needs_attention"
    assert marked["operations"][0]["status"] == "pending"
    await asyncio.sleep(1.0)
    synced = (await merchant.post(f"/v1/payouts/{payout['id']}/sync")).json()
    assert synced["status"] == "succeeded"


async def test_metrics_read_the_gauges_from_the_ledger_at_each_scrape(
    merchant, ops_ledger, services
):
    await lost_reply(ops_ledger, "bizon", PaymentStatus.NEEDS_ATTENTION)
    # Where the reconciler runs as a process of its own, nothing here sets them.
    RECONCILE_NEEDS_ATTENTION.labels("payment").set(-1)
    RECONCILE_OLDEST_PENDING.set(-1)
    text = (await merchant.get("/metrics")).text
    values = {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("reconcile_")
    }
    counts = await ops_ledger.needs_attention()
    assert values['reconcile_needs_attention{kind="payment"}'] == counts["payment"] >= 1
    assert values['reconcile_needs_attention{kind="payout"}'] == counts["payout"]
    assert values["reconcile_oldest_pending_seconds"] >= 0


# -- the stuck listing ---------------------------------------------------------------------


async def test_stuck_lists_old_pending_payments_with_age_and_pages(ops, ops_ledger):
    old = [await lost_reply(ops_ledger, "bizon", age=timedelta(hours=2)) for _ in range(3)]
    fresh = await lost_reply(ops_ledger, "bizon", age=timedelta(seconds=1))
    rows = await stuck(ops, older_than_seconds=3600, provider="bizon")
    ids = [r["id"] for r in rows]
    assert set(old) <= set(ids)
    assert fresh not in ids
    row = rows[ids.index(old[0])]
    assert 7200 <= row["age_seconds"] < 7300
    assert row["reason"] == "pending; the reconciler has not looked at it yet"
    assert (row["attempts"], row["last_error"]) == (0, None)
    first = (await ops.get("/v1/ops/payments/stuck", params={"limit": 1})).json()
    assert first["has_more"] is True
    assert len(first["data"]) == 1
    second = (
        await ops.get(
            "/v1/ops/payments/stuck", params={"limit": 1, "starting_after": first["next_cursor"]}
        )
    ).json()
    assert second["data"][0]["id"] < first["data"][0]["id"]


async def test_the_ops_routes_need_the_ops_scope(merchant):
    listing = await merchant.get("/v1/ops/payments/stuck")
    assert (listing.status_code, listing.json()["code"]) == (403, "forbidden")
    refused = await resolve(merchant, "pay_x", resolve_body())
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")


# -- resolving by hand -----------------------------------------------------------------


async def test_resolve_needs_a_reason(ops, ops_ledger):
    payment_id = await lost_reply(ops_ledger, "bizon")
    for body in ({"outcome": "failed"}, {"outcome": "failed", "reason": "   "}, None):
        refused = await resolve(ops, payment_id, body)
        assert (refused.status_code, refused.json()["code"]) == (422, "validation_error")
    refused = await resolve(ops, payment_id, {"outcome": "maybe", "reason": "x"})
    assert refused.status_code == 422
    # Nothing was written, and the key was not kept for a refused request.
    payment = await ops_ledger.get_payment(payment_id)
    assert payment is not None
    assert payment.status is PaymentStatus.PROCESSING


async def test_resolve_records_the_verdict_with_the_operators_key_and_replays(
    ops, ops_key, ops_ledger, capfd
):
    payment_id = await lost_reply(ops_ledger, "bizon", PaymentStatus.NEEDS_ATTENTION)
    key = uuid.uuid4().hex
    body = resolve_body("failed")
    first = await resolve(ops, payment_id, body, key)
    assert first.status_code == 200, first.text
    resolved = first.json()
    assert resolved["status"] == "failed"
    [op] = resolved["operations"]
    assert (op["status"], op["failure"]["code"]) == ("failed", "operator_verdict")
    assert (op["resolution_source"], op["resolved_by"], op["resolution_reason"]) == (
        "operator",
        ops_key[0],
        "back office checked by jane",
    )
    # The ledger holds it (not just the answer).
    stored = await ops_ledger.get_payment(payment_id)
    assert stored is not None
    assert (stored.operations[0].resolved_by, stored.operations[0].resolution_reason) == (
        ops_key[0],
        "back office checked by jane",
    )
    # The same key and body: the same answer, replayed, nothing done again.
    again = await resolve(ops, payment_id, body, key)
    assert again.status_code == 200
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == resolved
    # The same key with another verdict: refused.
    reused = await resolve(ops, payment_id, resolve_body("succeeded"), key)
    assert (reused.status_code, reused.json()["code"]) == (422, "idempotency_key_reused")
    # An audit line, with who and why.
    out, _ = capfd.readouterr()
    [audit] = [e for e in log_events(out) if e.get("event") == "payment_resolved_by_operator"]
    assert (audit["payment_id"], audit["api_key_id"], audit["outcome"]) == (
        payment_id,
        ops_key[0],
        "failed",
    )
    assert audit["reason"] == "back office checked by jane"


async def test_resolve_refuses_a_payment_not_in_doubt(ops, merchant):
    settled = (await create(merchant, card_payment())).json()
    assert settled["status"] == "authorized"
    refused = await resolve(ops, settled["id"], resolve_body())
    assert (refused.status_code, refused.json()["code"]) == (409, "invalid_state")
    assert "nothing in doubt" in refused.json()["detail"]
    missing = await resolve(ops, "pay_unknown", resolve_body())
    assert missing.status_code == 404


async def test_resolve_refuses_while_the_call_may_be_in_flight(ops, ops_ledger):
    payment_id = await lost_reply(ops_ledger, "bizon", age=timedelta(0))
    refused = await resolve(ops, payment_id, resolve_body())
    assert (refused.status_code, refused.json()["code"]) == (409, "invalid_state")
    assert "in flight" in refused.json()["detail"]


async def test_a_succeeded_automatic_payment_is_captured_and_priced(ops, ops_ledger):
    payment_id = await lost_reply(
        ops_ledger, "proxy_solutions", PaymentStatus.NEEDS_ATTENTION, amount=None
    )
    unpriced = await resolve(ops, payment_id, resolve_body("succeeded"))
    assert (unpriced.status_code, unpriced.json()["errors"][0]["field"]) == (422, "amount")
    done = await resolve(ops, payment_id, resolve_body("succeeded", amount=1234))
    assert done.status_code == 200, done.text
    payment = done.json()
    assert (payment["status"], payment["amount"], payment["amount_captured"]) == (
        "captured",
        1234,
        1234,
    )
    assert [(op["type"], op["source"]) for op in payment["operations"]] == [
        ("authorize", "api"),
        ("capture", "operator"),
    ]


async def test_a_vendor_order_needing_attention_is_not_paid_again(
    merchant, ops_ledger, proxy_sandbox
):
    payment_id = await lost_reply(
        ops_ledger, "proxy_solutions", PaymentStatus.NEEDS_ATTENTION, amount=None, order="2002"
    )
    sent = len((await proxy_sandbox.get("/_sandbox/requests")).json()["requests"])
    again = await merchant.post(
        "/v1/payments",
        json={
            "provider": "proxy_solutions",
            "payment_method": {"type": "balance"},
            "provider_options": {
                "proxy_solutions": {"order_id": 2002, "merchant": "balance", "currency": "USD"}
            },
        },
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert (again.status_code, again.json()["code"]) == (409, "invalid_state")
    assert payment_id in again.json()["detail"]
    assert len((await proxy_sandbox.get("/_sandbox/requests")).json()["requests"]) == sent


async def test_the_ops_routes_are_documented_with_their_scope(ops):
    spec = (await ops.get("/docs/openapi.json")).json()
    for path, method in (
        ("/v1/ops/payments/stuck", "get"),
        ("/v1/ops/payments/{payment_id}/resolve", "post"),
    ):
        operation = spec["paths"][path][method]
        assert operation["security"] == [{"BearerAuth": ["ops"]}]
        assert "`ops` scope" in operation["description"]
