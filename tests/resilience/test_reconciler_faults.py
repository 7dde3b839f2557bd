"""The reconciler after real faults: nothing lost, nothing paid twice.

* The provider charges, then its reply is late (the slow card, or an injected
  delay): the caller's request times out, the payment is `processing`, and the
  reconciler running inside the service settles it `captured` by itself; the
  provider saw exactly one authorize.
* The service process is killed with SIGKILL while the charge is at the
  provider: the pending operation was committed before the call, so after a
  restart the reconciler finds the payment and settles it from the provider;
  exactly one authorize at the provider, the ledger's invariants hold.

Each runs on a database of its own (the reconciler claims everything in doubt).
"""

import asyncio
import os
import signal
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest

from service.app import create_app
from service.dev import SANDBOX_LOGIN, SANDBOX_PASSWORD
from service.ledger import PostgresLedger
from service.settings import Settings
from tests.api.helpers import APPROVED, SLOW, card_payment
from tests.isolated import new_key, own_database
from tests.resilience.invariants import assert_ledger_invariants
from tests.servers import free_port, serving

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def database(datastore_servers: tuple[str, str, str]) -> AsyncIterator[str]:
    async with own_database(datastore_servers[0]) as url:
        yield url


async def _secret(database_url: str) -> str:
    ledger = await PostgresLedger.connect(database_url, max_size=1)
    try:
        _, secret = await new_key(ledger, "payments:read", "payments:write")
    finally:
        await ledger.close()
    return secret


async def _until(check: Callable[[], Awaitable[Any]], seconds: float) -> Any:
    """Poll `check` until it returns something truthy or `seconds` pass."""
    deadline = time.monotonic() + seconds
    while True:
        result = await check()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.1)


async def _authorizes(sandbox: httpx.AsyncClient, payment_id: str | None = None) -> int:
    rows = (await sandbox.get("/_sandbox/requests")).json()["requests"]
    return sum(
        1
        for r in rows
        if r["path"] == "/orders/authorize"
        and (payment_id is None or r.get("merchant_order_id") == payment_id)
    )


async def _pending(database_url: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(database_url)
    try:
        return list(
            await conn.fetch(
                "SELECT p.id, p.status, o.type, o.status AS op_status FROM payments p"
                " JOIN operations o ON o.payment_id = p.id"
            )
        )
    finally:
        await conn.close()


# -- (a) the provider charged, the reply was late ---------------------------------------


@pytest.fixture
async def reconciling(settings: Settings, database: str) -> AsyncIterator[httpx.AsyncClient]:
    """The service with its reconciler in process, on the test's own database."""
    own = msgspec.structs.replace(
        settings,
        database_url=database,
        reconcile_in_process=True,
        reconcile_after_seconds=1.0,
        reconcile_interval_seconds=0.2,
        reconcile_batch_size=1000,
    )
    headers = {"Authorization": f"Bearer {await _secret(database)}"}
    async with (
        serving(create_app(own)) as url,
        httpx.AsyncClient(base_url=url, headers=headers, timeout=20) as client,
    ):
        yield client


@pytest.fixture
async def clean_faults(sandbox: httpx.AsyncClient) -> AsyncIterator[None]:
    await sandbox.delete("/_sandbox/faults")
    yield
    await sandbox.delete("/_sandbox/faults")


@pytest.mark.parametrize("late", ["slow_card", "injected_delay"])
@pytest.mark.usefixtures("clean_faults")
async def test_a_charge_whose_reply_timed_out_is_captured_by_the_reconciler(
    late: str, reconciling: httpx.AsyncClient, sandbox: httpx.AsyncClient, database: str
) -> None:
    number = SLOW
    if late == "injected_delay":
        number = APPROVED
        fault = {"method": "POST", "path_prefix": "/orders/authorize", "delay_seconds": 1.5}
        assert (await sandbox.post("/_sandbox/faults", json=fault)).status_code in (200, 201)
    created = await reconciling.post(
        "/v1/payments",
        json=card_payment(number, capture="automatic"),
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert created.status_code == 201, created.text
    payment = created.json()
    assert payment["status"] == "processing"  # the reply never came in time
    assert payment["operations"][0]["status"] == "pending"

    async def settled() -> dict[str, Any] | None:
        body = (await reconciling.get(f"/v1/payments/{payment['id']}")).json()
        return body if body["status"] != "processing" else None

    done = await _until(settled, 20)
    assert done is not None, "the reconciler did not settle the payment"
    assert (done["status"], done["amount_captured"]) == ("captured", 999)
    assert [(op["type"], op["status"]) for op in done["operations"]] == [
        ("authorize", "succeeded"),
        ("capture", "succeeded"),
    ]
    assert await _authorizes(sandbox, payment["id"]) == 1  # never sent again
    assert await assert_ledger_invariants(database) == 1


# -- (b) the service killed while the charge is at the provider ------------------------


async def _spawn(*args: str, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "service",
        *args,
        cwd=ROOT,
        env=os.environ | env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,  # a group of its own: the test's signals stay out
    )


async def _stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.kill()
        await proc.wait()


async def _up(url: str, path: str, seconds: float = 30) -> None:
    async def answers() -> bool:
        try:
            async with httpx.AsyncClient(timeout=1) as probe:
                return (await probe.get(f"{url}{path}")).status_code == 200
        except httpx.HTTPError:
            return False

    assert await _until(answers, seconds), f"{url} did not come up"


@pytest.fixture
async def simulator() -> AsyncIterator[httpx.AsyncClient]:
    """The Bizon simulator as its own process (slow card: 5 s late)."""
    port = free_port()
    proc = await _spawn("sandbox", "--provider", "bizon", "--port", str(port), env={})
    url = f"http://127.0.0.1:{port}"
    try:
        await _up(url, "/_sandbox/requests")
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            yield client
    finally:
        await _stop(proc)


def _service_env(database: str, redis_url: str, bizon_url: str, *, reconcile: bool) -> dict:
    return {
        "DATABASE_URL": database,
        "REDIS_URL": redis_url,
        "BIZON_BASE_URL": bizon_url,
        "BIZON_LOGIN": SANDBOX_LOGIN,
        "BIZON_PASSWORD": SANDBOX_PASSWORD,
        "BIZON_TIMEOUT_SECONDS": "30",  # the service waits for the slow reply: in flight
        "RECONCILE_IN_PROCESS": "true" if reconcile else "false",
        "RECONCILE_AFTER_SECONDS": "1",
        "RECONCILE_INTERVAL_SECONDS": "0.2",
        "LOG_FORMAT": "json",
    }


async def test_a_service_killed_mid_charge_is_settled_after_restart(
    database: str, redis_url: str, simulator: httpx.AsyncClient
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    bizon = str(simulator.base_url).rstrip("/")
    env = _service_env(database, redis_url, bizon, reconcile=False)
    headers = {"Authorization": f"Bearer {await _secret(database)}"}
    service = await _spawn("serve", "--port", str(port), env=env)
    restarted = None
    try:
        await _up(url, "/health/ready")
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
            charge = asyncio.create_task(
                client.post(
                    "/v1/payments",
                    json=card_payment(SLOW, capture="automatic"),
                    headers={"Idempotency-Key": uuid.uuid4().hex},
                )
            )

            async def arrived() -> bool:
                return await _authorizes(simulator) == 1

            assert await _until(arrived, 15), "the authorize never reached the provider"
            os.kill(service.pid, signal.SIGKILL)  # between sending and recording
            await service.wait()
            with pytest.raises(httpx.HTTPError):
                await charge
        # The ledger holds what was committed before the call: the payment in doubt.
        [row] = await _pending(database)
        assert (row["status"], row["type"], row["op_status"]) == (
            "processing",
            "authorize",
            "pending",
        )
        payment_id = row["id"]
        restarted = await _spawn(
            "serve",
            "--port",
            str(port),
            env=_service_env(database, redis_url, bizon, reconcile=True),
        )
        await _up(url, "/health/ready")
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:

            async def settled() -> dict[str, Any] | None:
                body = (await client.get(f"/v1/payments/{payment_id}")).json()
                return body if body["status"] != "processing" else None

            done = await _until(settled, 30)
    finally:
        await _stop(service)
        if restarted is not None:
            await _stop(restarted)
    assert done is not None, "the restarted service did not settle the payment"
    assert (done["status"], done["amount_captured"]) == ("captured", 999)
    assert await _authorizes(simulator, payment_id) == 1
    assert await _authorizes(simulator) == 1  # and nothing else was sent
    assert await assert_ledger_invariants(database) == 1
