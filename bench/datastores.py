"""The run's own PostgreSQL database and Redis database, and where their servers run."""

import asyncio
import os
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import redis

from bench.metrics import postgres_root

DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"


def server_url() -> str:
    """The PostgreSQL server to use (any database on it): BENCH_DATABASE_URL or local."""
    return os.environ.get("BENCH_DATABASE_URL") or DEFAULT_SERVER_URL


def redis_url() -> str:
    return os.environ.get("BENCH_REDIS_URL") or DEFAULT_REDIS_URL


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


@dataclass(frozen=True, slots=True)
class ServerInfo:
    version: str
    postmaster_pid: int | None  # None: the server does not run on this machine


async def _execute(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def create_database(server: str, name: str) -> str:
    asyncio.run(_execute(server, f'CREATE DATABASE "{name}"'))
    return with_database(server, name)


def drop_database(server: str, name: str) -> None:
    asyncio.run(_execute(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _server_info(url: str) -> ServerInfo:
    conn = await asyncpg.connect(url, timeout=10)
    try:
        version = await conn.fetchval("SHOW server_version")
        backend = await conn.fetchval("SELECT pg_backend_pid()")
        # While the connection is open, its backend process exists: its parent is the server.
        postmaster = postgres_root(int(backend))
    finally:
        await conn.close()
    return ServerInfo(str(version), postmaster)


def postgres_info(url: str) -> ServerInfo:
    return asyncio.run(_server_info(url))


def bench_databases(server: str) -> list[str]:
    """Databases named like a bench run's (bench_<pid>)."""

    async def names() -> list[str]:
        conn = await asyncpg.connect(server, timeout=10)
        try:
            rows = await conn.fetch(
                "SELECT datname FROM pg_database WHERE datname ~ '^bench_[0-9]+$'"
            )
        finally:
            await conn.close()
        return [str(row[0]) for row in rows]

    return asyncio.run(names())


def database_exists(server: str, name: str) -> bool:
    async def check() -> bool:
        conn = await asyncpg.connect(server, timeout=10)
        try:
            return bool(await conn.fetchval("SELECT 1 FROM pg_database WHERE datname=$1", name))
        finally:
            await conn.close()

    return asyncio.run(check())


def redis_flush(url: str) -> tuple[str, int]:
    """Flush the run's Redis database; return (server version, server process id)."""
    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        client.flushdb()
        info = client.info("server")
    finally:
        client.close()
    return str(info.get("redis_version", "?")), int(info.get("process_id", 0))


class PgActivity:
    """Transactions committed or rolled back, in this database and in the others.

    From pg_stat_database, which backends update at most about once a second, so a
    delta over a measurement is approximate at its edges. The others' count says
    whether someone else loaded the server (and so PostgreSQL's CPU) meanwhile.
    """

    QUERY = """
        SELECT coalesce(sum(xact_commit + xact_rollback) FILTER (WHERE datname = $1), 0),
               coalesce(sum(xact_commit + xact_rollback) FILTER (WHERE datname <> $1), 0)
        FROM pg_stat_database
    """

    def __init__(self, url: str, database: str) -> None:
        self._database = database
        self._loop = asyncio.new_event_loop()
        self._conn: asyncpg.Connection | None = self._loop.run_until_complete(
            asyncpg.connect(url, timeout=10)
        )

    def sample(self) -> tuple[int, int]:
        """(this database's, the other databases') transactions so far."""
        assert self._conn is not None
        ours, others = self._loop.run_until_complete(
            self._conn.fetchrow(self.QUERY, self._database)
        )
        return int(ours), int(others)

    def close(self) -> None:
        if self._conn is not None:
            self._loop.run_until_complete(self._conn.close(timeout=5))
            self._conn = None
        self._loop.close()
