"""The command line as a new user runs it: api-keys, migrate, dev (make run), serve."""

import asyncio
import os
import sys
from pathlib import Path

import asyncpg
import httpx

from tests.api.helpers import card_payment, idem
from tests.datastores import create_database, drop_database
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]


async def _cli(*args: str, env: dict[str, str], timeout: float = 60) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "service",
        *args,
        cwd=ROOT,
        env=os.environ | env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    return proc.returncode or 0, out.decode()


async def test_api_keys_create_prints_the_key_alone_on_the_last_line(database_url, service_url):
    code, out = await _cli(
        "api-keys",
        "create",
        "--name",
        "cli",
        "--scope",
        "payments:read",
        env={"DATABASE_URL": database_url},
    )
    assert code == 0, out
    secret = out.strip().splitlines()[-1]
    assert secret.startswith("sk_")
    assert " " not in secret
    async with httpx.AsyncClient(
        base_url=service_url, headers={"Authorization": f"Bearer {secret}"}
    ) as c:
        assert (await c.get("/v1/payments")).status_code == 200
        denied = await c.post("/v1/payments", json=card_payment(), headers=idem())
        assert denied.status_code == 403


async def test_unknown_scope_is_refused(database_url):
    code, out = await _cli(
        "api-keys", "create", "--name", "x", "--scope", "root", env={"DATABASE_URL": database_url}
    )
    assert code != 0
    assert "invalid choice" in out


async def test_migrate_builds_the_schema(datastore_servers):
    server = datastore_servers[0]
    url = await create_database(server)
    try:
        code, out = await _cli("migrate", env={"DATABASE_URL": url})
        assert code == 0, out
        conn = await asyncpg.connect(url)
        tables = {r["tablename"] for r in await conn.fetch("SELECT tablename FROM pg_tables")}
        await conn.close()
        assert {"payments", "operations", "api_keys", "idempotency_keys"} <= tables
    finally:
        await drop_database(server, url)


async def test_serve_fails_fast_with_a_clear_message():
    code, out = await _cli("serve", env={"DATABASE_URL": "", "REDIS_URL": "redis://x:1/0"})
    assert code != 0
    assert "DATABASE_URL is required" in out


async def test_dev_mode_is_a_working_demo(database_url, redis_url):
    port, sandbox_port, paysuper_port, proxy_port, send2sell_port = (free_port() for _ in range(5))
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "service",
        "dev",
        cwd=ROOT,
        env=os.environ
        | {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "PORT": str(port),
            "SANDBOX_PORT": str(sandbox_port),
            "PAYSUPER_SANDBOX_PORT": str(paysuper_port),
            "PROXY_SOLUTIONS_SANDBOX_PORT": str(proxy_port),
            "SEND2SELL_SANDBOX_PORT": str(send2sell_port),
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        secret = None
        while secret is None:
            line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
            assert line, "dev exited before printing a key"
            if "export API_KEY=" in line:
                secret = line.split("=", 1)[1].strip()
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {secret}"}
        ) as c:
            for _ in range(100):
                try:
                    if (await c.get("/health/ready")).status_code == 200:
                        break
                except httpx.ConnectError:
                    await asyncio.sleep(0.1)
            created = await c.post("/v1/payments", json=card_payment(), headers=idem())
            assert created.status_code == 201, created.text
            assert created.json()["status"] == "authorized"
            assert (await c.get("/docs")).status_code == 200
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 20)
