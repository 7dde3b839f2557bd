"""The service's Redis client against the real Redis, and against servers that misbehave."""

import asyncio
from collections.abc import AsyncIterator

import pytest
import uvloop

from service.domain.ids import new_id
from service.resp import RedisReplyError, RedisUnavailable, RespClient, Script, pack


def test_commands_are_packed_as_bulk_strings() -> None:
    assert pack(("SET", "k", b"\x00v", 5, 0.25)) == (
        b"*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n\x00v\r\n$1\r\n5\r\n$4\r\n0.25\r\n"
    )
    with pytest.raises(TypeError):
        pack(("SET", "k", None))


async def test_replies_of_every_kind(resp_client: RespClient) -> None:
    key = new_id("resp")
    assert await resp_client.execute("SET", key, b"\xff\x00bytes", "PX", 60_000) == b"OK"
    assert await resp_client.execute("GET", key) == b"\xff\x00bytes"
    assert await resp_client.execute("GET", key + "-missing") is None
    assert await resp_client.execute("INCRBY", key + "-n", 5) == 5
    assert await resp_client.execute("DEL", key, key + "-n") == 2
    with pytest.raises(RedisReplyError, match="unknown command"):
        await resp_client.execute("NOT-A-COMMAND")
    await resp_client.ping()  # an error reply leaves the connection usable


async def test_many_concurrent_commands_get_their_own_replies(resp_client: RespClient) -> None:
    prefix = new_id("resp")
    values = [f"{prefix}-{i}" for i in range(500)]
    await asyncio.gather(*(resp_client.execute("SET", v, v, "PX", 60_000) for v in values))
    got = await asyncio.gather(*(resp_client.execute("GET", v) for v in values))
    assert got == [v.encode() for v in values]


async def test_scripts_run_by_sha_and_load_themselves(resp_client: RespClient) -> None:
    script = Script(f"-- {new_id('s')}\nreturn {{KEYS[1], ARGV[1]}}")
    assert await resp_client.run(script, ["k"], ["v"]) == [b"k", b"v"]  # NOSCRIPT -> EVAL
    assert await resp_client.execute("SCRIPT", "EXISTS", script.sha) == [1]
    assert await resp_client.run(script, ["k2"], [3]) == [b"k2", b"3"]  # EVALSHA


async def test_the_database_in_the_url_is_selected(redis_url: str) -> None:
    base = redis_url.rsplit("/", 1)[0]
    one, two = RespClient(f"{base}/13", connections=1), RespClient(f"{base}/14", connections=1)
    key = new_id("resp")
    try:
        await one.execute("SET", key, "13", "PX", 60_000)
        assert await two.execute("GET", key) is None
        assert await one.execute("GET", key) == b"13"
    finally:
        await one.execute("DEL", key)
        await one.close()
        await two.close()


class FakeRedis:
    """A TCP server that answers +OK, stays silent, or hangs up, as told."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.connections = 0
        self.server: asyncio.Server | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while data := await reader.read(65536):
                if self.mode == "ok":
                    writer.write(b"+OK\r\n" * data.count(b"*"))
                    await writer.drain()
                elif self.mode == "hang_up":
                    return
                # "silent": read, never answer
        finally:
            writer.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"redis://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/0"


@pytest.fixture
async def fake() -> AsyncIterator[FakeRedis]:
    server = FakeRedis()
    server.server = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    yield server
    server.server.close()


async def test_a_slow_reply_fails_its_command_and_the_client_reconnects(fake: FakeRedis) -> None:
    client = RespClient(fake.url, connections=1, timeout=0.2)
    try:
        assert await client.execute("PING") == b"OK"
        fake.mode = "silent"
        first, second = await asyncio.gather(
            client.execute("PING"), client.execute("PING"), return_exceptions=True
        )
        assert isinstance(first, RedisUnavailable)
        assert isinstance(second, RedisUnavailable)  # the whole pipeline is abandoned
        fake.mode = "ok"
        assert await client.execute("PING") == b"OK"  # a new connection
        assert fake.connections == 2
    finally:
        await client.close()


async def test_a_lost_connection_fails_what_waits_on_it_then_heals(fake: FakeRedis) -> None:
    client = RespClient(fake.url, connections=1, timeout=2)
    try:
        await client.execute("PING")
        fake.mode = "hang_up"
        with pytest.raises(RedisUnavailable):
            await client.execute("PING")
        fake.mode = "ok"
        assert await client.execute("PING") == b"OK"
    finally:
        await client.close()


async def test_a_cancelled_command_does_not_shift_the_replies(resp_client: RespClient) -> None:
    key = new_id("resp")
    await resp_client.execute("SET", key, "value", "PX", 60_000)
    # BLPOP on an empty list answers (nil) only after its 0.3 s timeout.
    slow = asyncio.create_task(resp_client.execute("BLPOP", key + "-empty", "0.3"))
    await asyncio.sleep(0.05)
    assert not slow.done()
    slow.cancel()
    # The next command on the same pipeline still gets its own reply, not DEBUG's.
    results = await asyncio.gather(*(resp_client.execute("GET", key) for _ in range(4)))
    assert results == [b"value"] * 4


async def test_nothing_listening_is_unavailable() -> None:
    client = RespClient("redis://127.0.0.1:1/0", connections=1, timeout=1)
    with pytest.raises(RedisUnavailable, match="cannot connect"):
        await client.execute("PING")


def test_urls() -> None:
    client = RespClient("rediss://user:p%40ss@cache.example:6380/5")
    assert (client._host, client._port, client._tls, client._db) == ("cache.example", 6380, True, 5)
    assert (client._username, client._password) == ("user", "p@ss")
    unix = RespClient("unix:///run/redis.sock?db=3&password=s3")
    assert (unix._unix, unix._db, unix._password) == ("/run/redis.sock", 3, "s3")


def test_it_works_on_uvloop_as_served(redis_url: str) -> None:
    """The service runs on uvloop, whose transports are not asyncio.Transport."""

    async def roundtrip() -> list[bytes | None]:
        client = RespClient(redis_url, connections=2)
        try:
            key = new_id("resp")
            await client.execute("SET", key, "u", "PX", 60_000)
            return list(
                await asyncio.gather(client.execute("GET", key), client.execute("GET", key))
            )
        finally:
            await client.close()

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        assert runner.run(roundtrip()) == [b"u", b"u"]
