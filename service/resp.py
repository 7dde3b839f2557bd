"""A lean Redis client: RESP over a few pipelined connections, parsed by hiredis.

Why not redis-py: every money-moving request makes two Redis calls and every
read one, and redis-py's asyncio client costs ~0.07-0.12 ms of CPU per call in
its Python layers (pool locks, retries, event dispatch) — eight times this
client (`bench/README.md` has the figures). The hard part, parsing the protocol,
is hiredis, the Redis project's own C parser; what is here is the transport:

* a fixed number of connections per process, each pipelined: commands are
  written at once and their replies matched in order (Redis answers in order);
* a connection is opened when first needed (AUTH and SELECT first) and again
  after it is lost, so the client heals by itself when Redis comes back;
* a reply that takes longer than `timeout` abandons its connection (its replies
  could no longer be matched) and fails every command waiting on it;
* scripts run by SHA (EVALSHA), loaded on first NOSCRIPT.

Errors: `RedisUnavailable` (no connection, lost, timed out) and `RedisReplyError`
(Redis answered with an error). Callers turn them into DependencyUnavailable.
"""

import asyncio
import collections
import hashlib
import ssl
from typing import Any, cast
from urllib.parse import parse_qs, unquote, urlsplit

import hiredis


class RedisUnavailable(Exception):
    """No answer from Redis: not connected, the connection was lost, or too slow."""


class RedisReplyError(Exception):
    """Redis answered the command with an error."""


def pack(args: tuple[Any, ...]) -> bytes:
    """A command in RESP (an array of bulk strings), packed by hiredis."""
    for arg in args:
        if not isinstance(arg, str | bytes | int | float) or isinstance(arg, bool):
            raise TypeError(f"cannot send {type(arg).__name__} to Redis")
    packed: bytes = hiredis.pack_command(args)
    return packed


class Script:
    """A Lua script, run by its SHA."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self._reader = hiredis.Reader(replyError=RedisReplyError)
        self._waiting: collections.deque[asyncio.Future[Any]] = collections.deque()
        self._transport: asyncio.WriteTransport | None = None
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses: no isinstance here.
        self._transport = cast(asyncio.WriteTransport, transport)

    def data_received(self, data: bytes) -> None:
        self._reader.feed(data)
        while (reply := self._reader.gets()) is not False:
            waiter = self._waiting.popleft()
            if waiter.done():  # its caller gave up (cancelled): the reply is dropped
                continue
            if isinstance(reply, RedisReplyError):
                waiter.set_exception(reply)
            else:
                waiter.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self._fail(RedisUnavailable(f"connection lost: {exc!r}"))

    def _fail(self, error: Exception) -> None:
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_exception(error)

    def send(self, payload: bytes, loop: asyncio.AbstractEventLoop) -> "asyncio.Future[Any]":
        if self.lost or self._transport is None or self._transport.is_closing():
            raise RedisUnavailable("not connected")
        waiter: asyncio.Future[Any] = loop.create_future()
        self._waiting.append(waiter)
        self._transport.write(payload)
        return waiter

    def abandon(self, why: str) -> None:
        """Drop the connection: its replies can no longer be matched to commands."""
        self.lost = True
        self._fail(RedisUnavailable(why))
        if self._transport is not None:
            self._transport.abort()


class RespClient:
    """`execute(*command)` and `run(script, keys, args)` over `connections` pipelines."""

    def __init__(self, url: str, *, connections: int = 4, timeout: float = 2.0) -> None:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        self._unix = parts.path if parts.scheme == "unix" else None
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 6379
        self._tls = parts.scheme == "rediss"
        self._username = unquote(parts.username) if parts.username else None
        password = parts.password or next(iter(query.get("password", [])), None)
        self._password = unquote(password) if password else None
        db = next(iter(query.get("db", [])), None)
        if db is None and self._unix is None:
            db = parts.path.strip("/") or None
        self._db = int(db) if db else 0
        self._timeout = timeout
        self._slots: list[_Connection | None] = [None] * max(1, connections)
        self._locks = [asyncio.Lock() for _ in self._slots]
        self._next = 0

    async def execute(self, *command: Any) -> Any:
        connection = await self._connection()
        return await self._await(connection, pack(command))

    async def run(self, script: Script, keys: list[str], args: list[Any]) -> Any:
        """EVALSHA, loading the script on NOSCRIPT (after a restart or SCRIPT FLUSH)."""
        try:
            return await self.execute("EVALSHA", script.sha, len(keys), *keys, *args)
        except RedisReplyError as exc:
            if not str(exc).startswith("NOSCRIPT"):
                raise
            return await self.execute("EVAL", script.source, len(keys), *keys, *args)

    async def ping(self) -> None:
        await self.execute("PING")

    async def close(self) -> None:
        for index, connection in enumerate(self._slots):
            if connection is not None:
                connection.abandon("closed")
                self._slots[index] = None

    async def _await(self, connection: _Connection, payload: bytes) -> Any:
        waiter = connection.send(payload, asyncio.get_running_loop())
        try:
            async with asyncio.timeout(self._timeout):
                return await waiter
        except TimeoutError:
            connection.abandon(f"no reply within {self._timeout} s")
            raise RedisUnavailable(f"no reply within {self._timeout} s") from None

    async def _connection(self) -> _Connection:
        index = self._next
        self._next = (index + 1) % len(self._slots)
        connection = self._slots[index]
        if connection is not None and not connection.lost:
            return connection
        async with self._locks[index]:
            connection = self._slots[index]
            if connection is None or connection.lost:
                connection = await self._open()
                self._slots[index] = connection
            return connection

    async def _open(self) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._timeout):
                if self._unix is not None:
                    _, connection = await loop.create_unix_connection(_Connection, self._unix)
                else:
                    _, connection = await loop.create_connection(
                        _Connection,
                        self._host,
                        self._port,
                        ssl=ssl.create_default_context() if self._tls else None,
                    )
        except (OSError, TimeoutError) as exc:
            raise RedisUnavailable(f"cannot connect: {exc!r}") from exc
        try:
            if self._password is not None:
                auth = ("AUTH", self._username, self._password) if self._username else None
                await self._await(connection, pack(auth or ("AUTH", self._password)))
            if self._db:
                await self._await(connection, pack(("SELECT", self._db)))
        except BaseException:
            connection.abandon("set-up failed")
            raise
        return connection
