"""Real PostgreSQL and Redis for the test run.

testcontainers when a Docker engine answers; else TEST_DATABASE_URL /
TEST_REDIS_URL; else the local services on their standard ports. Each run gets
a database of its own, migrated with alembic, dropped at the end.
"""

import os
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import asyncpg

from service.devservices import with_database

LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
LOCAL_REDIS = "redis://127.0.0.1:6379/15"


def docker_answers() -> bool:
    try:
        import docker

        client = docker.from_env(timeout=2)
        client.ping()
    except Exception:
        return False
    return True


@contextmanager
def servers() -> Iterator[tuple[str, str, str]]:
    """(PostgreSQL server URL, Redis URL, where they come from)."""
    if docker_answers():
        from testcontainers.postgres import PostgresContainer
        from testcontainers.redis import RedisContainer

        with ExitStack() as stack:
            pg = stack.enter_context(PostgresContainer("postgres:16-alpine", driver=None))
            redis = stack.enter_context(RedisContainer("redis:7-alpine"))
            redis_url = f"redis://{redis.get_container_host_ip()}:{redis.get_exposed_port(6379)}/0"
            yield pg.get_connection_url(), redis_url, "testcontainers"
        return
    pg_url = os.environ.get("TEST_DATABASE_URL", LOCAL_POSTGRES)
    redis_url = os.environ.get("TEST_REDIS_URL", LOCAL_REDIS)
    where = "TEST_DATABASE_URL" if "TEST_DATABASE_URL" in os.environ else "local services"
    yield pg_url, redis_url, where


async def create_database(server_url: str) -> str:
    name = f"test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return with_database(server_url, name)


async def drop_database(server_url: str, database_url: str) -> None:
    name = database_url.rsplit("/", 1)[1].split("?")[0]
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
