"""PostgreSQL and Redis stopped and started under a running service.

The service here runs against a private PostgreSQL and Redis (private_datastores)
that the tests crash and restart; the Bizon simulator is the shared one. What must
hold (README, "Failure modes"):

* PostgreSQL down: money-moving requests get a 503 problem and nothing reaches the
  provider; reads get a 503; /health/ready fails; all heal by themselves.
* PostgreSQL lost between the provider's answer and the ledger write: a 503, the
  payment stays `processing` with its operation pending (committed before the
  call), and a sync once PostgreSQL is back settles it; the provider saw one call.
* Redis down: idempotent POSTs fail closed (503, nothing sent), reads still work,
  rate limiting fails open; all heal by themselves.
"""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import msgspec
import pytest

from service.app import create_app
from service.ledger import PostgresLedger
from service.ledger.migrate import upgrade_async
from service.orchestration.api_keys import SCOPES, ApiKeyService
from service.orchestration.clock import SystemClock
from service.settings import Settings
from tests.api.helpers import APPROVED, SLOW, card_payment
from tests.resilience.invariants import assert_ledger_invariants
from tests.resilience.private_datastores import PrivatePostgres, PrivateRedis, private_datastores
from tests.servers import serving

pytestmark = pytest.mark.timeout(120)

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def stores() -> Iterator[tuple[PrivatePostgres, PrivateRedis]]:
    with private_datastores() as found:
        yield found


@pytest.fixture(scope="module")
async def outage_client(
    stores: tuple[PrivatePostgres, PrivateRedis], settings: Settings
) -> AsyncIterator[httpx.AsyncClient]:
    pg, redis = stores
    await upgrade_async(pg.url)
    ledger = await PostgresLedger.connect(pg.url, max_size=2)
    made = await ApiKeyService(ledger, SystemClock()).create("outages", list(SCOPES), None, None)
    await ledger.close()
    own = msgspec.structs.replace(
        settings,
        database_url=pg.url,
        redis_url=redis.url,
        # A reply slower than the sandbox's slow card (1.5 s) still arrives: the
        # mid-request outage below needs the provider's answer to come back.
        bizon=msgspec.structs.replace(settings.bizon, timeout_seconds=4.0),
        api_key_cache_seconds=0.0,  # every request asks PostgreSQL for its key
    )
    async with serving(create_app(own)) as url:
        headers = {"Authorization": f"Bearer {made.secret}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=20) as client:
            yield client


def _idem() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


async def _provider_calls(sandbox: httpx.AsyncClient) -> int:
    return len((await sandbox.get("/_sandbox/requests")).json()["requests"])


async def _until(check: Callable[[], Any], seconds: float = 20.0) -> Any:
    """Poll `check` (async, returns a truthy value when done) until it passes."""
    deadline = time.monotonic() + seconds
    while True:
        result = await check()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.2)


def _is_problem(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    assert "Traceback" not in response.text


async def test_postgres_down_refuses_money_and_heals(
    stores: tuple[PrivatePostgres, PrivateRedis],
    outage_client: httpx.AsyncClient,
    sandbox: httpx.AsyncClient,
) -> None:
    pg, _ = stores
    before = await outage_client.post("/v1/payments", json=card_payment(), headers=_idem())
    assert before.status_code == 201, before.text
    payment_id = before.json()["id"]
    pg.stop()
    try:
        sent = await _provider_calls(sandbox)
        for _ in range(3):
            refused = await outage_client.post("/v1/payments", json=card_payment(), headers=_idem())
            _is_problem(refused, 503)
        _is_problem(
            await outage_client.post(f"/v1/payments/{payment_id}/void", headers=_idem()), 503
        )
        _is_problem(await outage_client.get(f"/v1/payments/{payment_id}"), 503)
        ready = await outage_client.get("/health/ready")
        assert ready.status_code == 503, ready.text
        assert await _provider_calls(sandbox) == sent  # nothing moved while it was down
    finally:
        pg.start()

    async def healed() -> bool:
        r = await outage_client.post("/v1/payments", json=card_payment(), headers=_idem())
        return r.status_code == 201

    assert await _until(healed), "the service did not recover from PostgreSQL's restart"
    assert (await outage_client.get("/health/ready")).status_code == 200
    voided = await outage_client.post(f"/v1/payments/{payment_id}/void", headers=_idem())
    assert voided.json()["status"] == "voided", voided.text
    await assert_ledger_invariants(pg.url)


async def test_postgres_lost_mid_payment_leaves_it_processing_until_synced(
    stores: tuple[PrivatePostgres, PrivateRedis],
    outage_client: httpx.AsyncClient,
    sandbox: httpx.AsyncClient,
) -> None:
    pg, _ = stores
    reference = uuid.uuid4().hex
    body = card_payment(SLOW, merchant_reference=reference)
    seen = await _provider_calls(sandbox)
    call = asyncio.create_task(outage_client.post("/v1/payments", json=body, headers=_idem()))

    async def arrived() -> bool:  # the sandbox logs a request when it arrives
        rows = (await sandbox.get("/_sandbox/requests")).json()["requests"]
        return any(r["path"] == "/orders/authorize" for r in rows[seen:])

    assert await _until(arrived, 5)  # committed pending, sent, and the provider charges
    pg.stop()  # ... and PostgreSQL goes before the provider answers (1.5 s)
    try:
        answer = await asyncio.wait_for(call, 30)
        _is_problem(answer, 503)
    finally:
        pg.start()
    assert await _until(lambda: _ready(outage_client)), (
        "the service did not recover from PostgreSQL's restart"
    )
    listed = (
        await outage_client.get("/v1/payments", params={"merchant_reference": reference})
    ).json()
    [payment] = listed["data"]
    assert payment["status"] == "processing", payment  # in doubt, not failed, not lost
    assert [o["status"] for o in payment["operations"]] == ["pending"]
    synced = await outage_client.post(f"/v1/payments/{payment['id']}/sync", headers=_idem())
    assert synced.json()["status"] == "authorized", synced.text
    rows = (await sandbox.get("/_sandbox/requests")).json()["requests"]
    authorizes = [
        r
        for r in rows
        if r["path"] == "/orders/authorize" and r.get("merchant_order_id") == payment["id"]
    ]
    assert len(authorizes) == 1
    await assert_ledger_invariants(pg.url)


async def _ready(client: httpx.AsyncClient) -> bool:
    return (await client.get("/health/ready")).status_code == 200


async def test_redis_down_fails_money_closed_keeps_reads_and_heals(
    stores: tuple[PrivatePostgres, PrivateRedis],
    outage_client: httpx.AsyncClient,
    sandbox: httpx.AsyncClient,
) -> None:
    pg, redis = stores
    made = await outage_client.post("/v1/payments", json=card_payment(APPROVED), headers=_idem())
    assert made.status_code == 201, made.text
    payment_id = made.json()["id"]
    redis.stop()
    try:
        sent = await _provider_calls(sandbox)
        for _ in range(3):
            refused = await outage_client.post("/v1/payments", json=card_payment(), headers=_idem())
            _is_problem(refused, 503)
        _is_problem(
            await outage_client.post(
                f"/v1/payments/{payment_id}/capture", json={"amount": 100}, headers=_idem()
            ),
            503,
        )
        assert await _provider_calls(sandbox) == sent  # no unguarded money movement
        read = await outage_client.get(f"/v1/payments/{payment_id}")
        assert read.status_code == 200, read.text  # reads work; the limit fails open
        assert read.json()["status"] == "authorized"
        assert (await outage_client.get("/v1/payments", params={"limit": 5})).status_code == 200
        assert (await outage_client.get("/health/ready")).status_code == 503
    finally:
        redis.start()

    async def healed() -> bool:
        r = await outage_client.post(
            f"/v1/payments/{payment_id}/capture", json={"amount": 100}, headers=_idem()
        )
        return r.status_code == 200

    assert await _until(healed), "the service did not recover from Redis's restart"
    assert (await outage_client.get("/health/ready")).status_code == 200
    await assert_ledger_invariants(pg.url)
