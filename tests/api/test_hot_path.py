"""What a request costs in round trips, counted on the real datastores (issue #8).

A money-moving request: one Redis call before the provider call (the rate-limit
token and the idempotency reservation), one after (the response to replay); two
PostgreSQL statements, each its own transaction (the payment or pending operation
with the key's claim; the outcome with the response). An API key is verified from
memory. Counted by an asyncpg query logger on every pooled connection and by
counting the commands of the Redis client, with the service in this process.
"""

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest

from service.app import create_app
from service.resp import RespClient
from tests.api.helpers import card_payment, idem
from tests.servers import serving

ROOT = Path(__file__).resolve().parents[2]


class Counter:
    def __init__(self) -> None:
        self.queries: list[str] = []
        self.redis: list[str] = []
        self.on = False

    def reset(self) -> None:
        self.queries.clear()
        self.redis.clear()


@pytest.fixture
async def counted(
    settings, key_factory, monkeypatch
) -> AsyncIterator[tuple[httpx.AsyncClient, Counter]]:
    counter = Counter()
    real_pool = asyncpg.create_pool

    def log_query(record: Any) -> None:
        if counter.on:
            counter.queries.append(" ".join(record.query.split())[:80])

    async def init(conn: asyncpg.Connection) -> None:
        conn.add_query_logger(log_query)

    def create_pool(*args: Any, **kwargs: Any) -> Any:
        return real_pool(*args, init=init, **kwargs)

    real_execute = RespClient.execute

    async def execute(self: RespClient, *command: Any) -> Any:
        if counter.on:
            counter.redis.append(str(command[0]))
        return await real_execute(self, *command)

    monkeypatch.setattr("service.ledger.repository.asyncpg.create_pool", create_pool)
    monkeypatch.setattr(RespClient, "execute", execute)
    app = create_app(msgspec.structs.replace(settings, api_key_cache_seconds=60))
    headers = {"Authorization": f"Bearer {await key_factory()}"}
    async with (
        serving(app) as url,
        httpx.AsyncClient(base_url=url, headers=headers, timeout=10) as client,
    ):
        # Warm up: the key into the cache, statements prepared, scripts loaded.
        await client.post("/v1/payments", json=card_payment(capture="automatic"), headers=idem())
        yield client, counter


async def _counting(counter: Counter, call: Any) -> httpx.Response:
    counter.reset()
    counter.on = True
    try:
        return await call
    finally:
        counter.on = False


async def test_a_card_charge_is_two_statements_and_two_redis_calls(counted) -> None:
    client, counter = counted
    response = await _counting(
        counter,
        client.post("/v1/payments", json=card_payment(capture="automatic"), headers=idem()),
    )
    assert response.json()["status"] == "captured", response.text
    assert [q.split("(")[0] for q in counter.queries] == [
        "SELECT ledger_create_payment",
        "SELECT ledger_save_payment",
    ]
    assert counter.redis == ["EVALSHA", "SET"]  # token + reservation; the response


async def test_a_capture_is_two_statements_and_two_redis_calls(counted) -> None:
    client, counter = counted
    payment = (await client.post("/v1/payments", json=card_payment(), headers=idem())).json()
    response = await _counting(
        counter,
        client.post(f"/v1/payments/{payment['id']}/capture", json={"amount": 500}, headers=idem()),
    )
    assert response.status_code == 200, response.text
    assert response.json()["amount_captured"] == 500
    queries = [q.split("(")[0] for q in counter.queries]
    # The payment read to check the action, then the two writes.
    assert queries[0].startswith("SELECT p.id, p.api_key_id")
    assert queries[1:] == ["SELECT ledger_save_payment", "SELECT ledger_save_payment"]
    assert counter.redis == ["EVALSHA", "SET"]


async def test_a_replay_is_one_redis_call_and_no_statement(counted) -> None:
    client, counter = counted
    body, headers = card_payment(capture="automatic"), idem()
    first = await client.post("/v1/payments", json=body, headers=headers)
    again = await _counting(counter, client.post("/v1/payments", json=body, headers=headers))
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    assert counter.queries == []
    assert counter.redis == ["EVALSHA"]


async def test_a_read_is_one_statement_and_one_redis_call(counted) -> None:
    client, counter = counted
    payment = (await client.post("/v1/payments", json=card_payment(), headers=idem())).json()
    response = await _counting(counter, client.get(f"/v1/payments/{payment['id']}"))
    assert response.status_code == 200
    assert len(counter.queries) == 1  # the key came from memory
    assert counter.redis == ["EVALSHA"]  # the rate-limit token


async def test_a_revoked_key_is_refused_within_the_cache_time(
    settings, key_factory, database_url
) -> None:
    app = create_app(msgspec.structs.replace(settings, api_key_cache_seconds=0.5))
    secret = await key_factory()
    conn = await asyncpg.connect(database_url)
    try:
        key_id = await conn.fetchval(
            "SELECT id FROM api_keys WHERE secret_hash = encode(sha256($1::bytea), 'hex')",
            secret.encode(),
        )
    finally:
        await conn.close()
    headers = {"Authorization": f"Bearer {secret}"}
    async with serving(app) as url, httpx.AsyncClient(base_url=url, headers=headers) as client:
        assert (await client.get("/v1/payments")).status_code == 200
        revoked = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "service", "api-keys", "revoke", key_id],
            cwd=ROOT,
            env={"DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert revoked.returncode == 0, revoked.stderr
        assert f"revoked {key_id}" in revoked.stdout
        # Trusted from memory for at most the cache time, then refused.
        status = 200
        for _ in range(40):
            status = (await client.get("/v1/payments")).status_code
            if status == 401:
                break
            await asyncio.sleep(0.05)
        assert status == 401
    again = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "service", "api-keys", "revoke", key_id],
        cwd=ROOT,
        env={"DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode != 0
    assert "no live key" in again.stderr
