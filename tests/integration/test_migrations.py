"""The alembic migrations on a database of their own: up, all the way down, up again."""

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from alembic.script import ScriptDirectory

from service.ledger.migrate import alembic_config, downgrade, upgrade_async
from tests.datastores import create_database, drop_database

TABLES = {
    "api_keys",
    "payments",
    "payouts",
    "operations",
    "idempotency_keys",
    "webhook_events",
    "reconcile_claims",
}
HEAD = ScriptDirectory.from_config(alembic_config("postgresql://unused")).get_current_head()
FUNCTIONS = {
    "operations_append_only",
    "operations_no_truncate",
    "payments_match_operations",
    "ledger_claim",
    "ledger_operations",
    "ledger_resolve",
    "ledger_finish",
    "ledger_create_payment",
    "ledger_save_payment",
    "ledger_create_payout",
    "ledger_save_payout",
}
TRIGGERS = {
    "operations_append_only",
    "operations_no_truncate",
    "payments_match_operations",
    "operations_match_payment",
}


@pytest.fixture
async def fresh_url(datastore_servers: tuple[str, str, str]) -> AsyncIterator[str]:
    server, _, _ = datastore_servers
    url = await create_database(server)
    yield url
    await drop_database(server, url)


async def schema(url: str) -> dict[str, set[str]]:
    conn = await asyncpg.connect(url)
    try:
        tables = await conn.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        )
        functions = await conn.fetch(
            "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
            " WHERE n.nspname = 'public'"
        )
        triggers = await conn.fetch("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        versions: list[asyncpg.Record] = []
        if await conn.fetchval("SELECT to_regclass('public.alembic_version') IS NOT NULL"):
            versions = await conn.fetch("SELECT version_num FROM alembic_version")
    finally:
        await conn.close()
    return {
        "tables": {r[0] for r in tables} - {"alembic_version"},
        "functions": {r[0] for r in functions},
        "triggers": {r[0] for r in triggers},
        "version": {r[0] for r in versions},
    }


async def test_upgrade_downgrade_upgrade(fresh_url: str) -> None:
    assert (await schema(fresh_url))["tables"] == set()

    await upgrade_async(fresh_url)
    up = await schema(fresh_url)
    assert up["tables"] == TABLES
    assert up["functions"] == FUNCTIONS
    assert up["triggers"] == TRIGGERS
    assert up["version"] == {HEAD}

    await asyncio.to_thread(downgrade, fresh_url, "base")
    down = await schema(fresh_url)
    assert down == {"tables": set(), "functions": set(), "triggers": set(), "version": set()}

    await upgrade_async(fresh_url)
    assert await schema(fresh_url) == up


async def test_upgrade_is_idempotent_at_head(fresh_url: str) -> None:
    await upgrade_async(fresh_url)
    first = await schema(fresh_url)
    await upgrade_async(fresh_url)
    assert await schema(fresh_url) == first


async def test_concurrent_migrate_runs_queue_instead_of_colliding(fresh_url: str) -> None:
    # Four `python -m service migrate` at once (a retried hook, compose, two deploys).
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "service",
            "migrate",
            env=os.environ | {"DATABASE_URL": fresh_url},
            cwd=Path(__file__).resolve().parents[2],
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        for _ in range(4)
    ]
    outputs = [(await p.communicate())[0].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], outputs
    after = await schema(fresh_url)
    assert (after["tables"], after["version"]) == (TABLES, {HEAD})


async def test_upgrading_a_populated_0001_ledger_keeps_it_readable(fresh_url: str) -> None:
    from service.ledger import PostgresLedger

    await upgrade_async(fresh_url, "0001")
    conn = await asyncpg.connect(fresh_url)
    try:
        await conn.execute(
            "INSERT INTO api_keys (id, name, prefix, secret_hash, scopes)"
            " VALUES ('key_m', 'm', 'sk_m', 'h', '{payments:read}')"
        )
        tx = conn.transaction()  # the totals check runs at commit: payment and op together
        await tx.start()
        await conn.execute(
            "INSERT INTO payments (id, api_key_id, status, provider, capture_method, currency,"
            " amount, amount_authorized, payment_method, version, created_at, updated_at)"
            " VALUES ('pay_m', 'key_m', 'authorized', 'bizon', 'manual', 'USD', 500, 500,"
            ' \'{"type": "card"}\', 1, now(), now())'
        )
        await conn.execute(
            "INSERT INTO operations (id, payment_id, currency, type, status, source, amount,"
            " created_at, resolved_at)"
            " VALUES ('op_m', 'pay_m', 'USD', 'authorize', 'succeeded', 'api', 500, now(), now())"
        )
        await tx.commit()
    finally:
        await conn.close()
    await upgrade_async(fresh_url)
    ledger = await PostgresLedger.connect(fresh_url, max_size=1)
    try:
        payment = await ledger.get_payment("pay_m")
    finally:
        await ledger.close()
    assert payment is not None
    assert payment.amount_authorized == 500
    assert payment.parent_payment_id is None
    assert [op.payment_id for op in payment.operations] == ["pay_m"]
