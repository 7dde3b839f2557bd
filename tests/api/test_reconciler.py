"""The reconciler settles what a timeout left in doubt, without anyone calling sync.

Against the Bizon sandbox (the slow card answers after the client gave up), the real
ledger and, for the CLI, a real subprocess.
"""

import asyncio
import os
import signal
import sys
from pathlib import Path

import httpx
import msgspec

from service.app import create_app, open_services
from tests.api.helpers import SLOW, card_payment, create
from tests.conftest import SANDBOX_SLOW_SECONDS, SETTLE_AFTER
from tests.servers import free_port, serving

ROOT = Path(__file__).resolve().parents[2]


async def _authorizes(sandbox: httpx.AsyncClient, payment_id: str) -> int:
    rows = (await sandbox.get("/_sandbox/requests")).json()["requests"]
    return sum(
        1
        for r in rows
        if r.get("merchant_order_id") == payment_id and r["path"] == "/orders/authorize"
    )


async def _timed_out(client: httpx.AsyncClient) -> str:
    payment = (await create(client, card_payment(SLOW))).json()
    assert payment["status"] == "processing"
    return str(payment["id"])


async def test_a_pass_settles_a_timed_out_authorize(client, sandbox, settings):
    payment_id = await _timed_out(client)
    # Before the reconcile age nothing is claimed: the call may still be in flight.
    async with open_services(
        msgspec.structs.replace(settings, reconcile_batch_size=10_000)
    ) as services:
        await services.reconciler.run_once()
        early = (await client.get(f"/v1/payments/{payment_id}")).json()
        assert early["status"] == "processing"
        await asyncio.sleep(max(SANDBOX_SLOW_SECONDS, SETTLE_AFTER.total_seconds()) + 0.2)
        counts = await services.reconciler.run_once()
    assert counts["settled"] >= 1
    settled = (await client.get(f"/v1/payments/{payment_id}")).json()
    assert settled["status"] == "authorized"
    assert settled["operations"][0]["status"] == "succeeded"
    assert await _authorizes(sandbox, payment_id) == 1  # never sent again


async def test_in_process_reconciler_settles_by_itself(settings, key_factory, sandbox):
    fast = msgspec.structs.replace(
        settings,
        reconcile_in_process=True,
        reconcile_interval_seconds=0.2,
        reconcile_batch_size=10_000,
    )
    headers = {"Authorization": f"Bearer {await key_factory()}"}
    async with (
        serving(create_app(fast)) as url,
        httpx.AsyncClient(base_url=url, headers=headers, timeout=10) as c,
    ):
        payment_id = await _timed_out(c)
        status = "processing"
        for _ in range(100):
            status = (await c.get(f"/v1/payments/{payment_id}")).json()["status"]
            if status != "processing":
                break
            await asyncio.sleep(0.1)
        metrics = (await c.get("/metrics")).text
    assert status == "authorized"
    assert await _authorizes(sandbox, payment_id) == 1
    assert 'reconcile_subjects_total{kind="payment",outcome="settled"}' in metrics


def _env(settings) -> dict[str, str]:
    assert settings.bizon is not None
    return os.environ | {
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "BIZON_BASE_URL": settings.bizon.base_url,
        "BIZON_LOGIN": settings.bizon.login,
        "BIZON_PASSWORD": settings.bizon.password.reveal(),
        "RECONCILE_AFTER_SECONDS": "1",
        "RECONCILE_INTERVAL_SECONDS": "0.2",
        "RECONCILE_BATCH_SIZE": "10000",
        "LOG_FORMAT": "json",
    }


async def test_the_reconcile_command_settles_and_stops_on_sigterm(client, sandbox, settings):
    payment_id = await _timed_out(client)
    await asyncio.sleep(SANDBOX_SLOW_SECONDS)
    metrics_port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "service",
        "reconcile",
        cwd=ROOT,
        env=_env(settings) | {"RECONCILE_METRICS_PORT": str(metrics_port)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        status = "processing"
        for _ in range(100):
            status = (await client.get(f"/v1/payments/{payment_id}")).json()["status"]
            if status != "processing":
                break
            await asyncio.sleep(0.1)
        assert status == "authorized"
        # Its own /metrics: what it did, which no HTTP server of the service saw.
        async with httpx.AsyncClient() as scraper:
            scraped = (await scraper.get(f"http://127.0.0.1:{metrics_port}/metrics")).text
        settled = [
            line
            for line in scraped.splitlines()
            if line.startswith('reconcile_subjects_total{kind="payment",outcome="settled"}')
        ]
        assert settled, scraped
        assert float(settled[0].split()[-1]) >= 1
        assert "provider_requests_total{" in scraped
    finally:
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 20)
    out = (await proc.stdout.read()).decode()
    assert code == 0, out
    assert "reconciler_stopped" in out
    assert f'"id": "{payment_id}"' in out or payment_id in out


async def test_the_reconcile_command_once(settings):
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "service",
        "reconcile",
        "--once",
        cwd=ROOT,
        env=_env(settings),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, out.decode()
