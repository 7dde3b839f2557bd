"""The outbound transport against real sockets: what was sent, and how failures are named.

Only a connection never made is "not sent" (ProviderUnreachable, retried twice);
everything after the connection is up is an unknown outcome, never a failure.
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from service.domain.errors import OutcomeUnknown, ProviderUnreachable
from service.domain.outcomes import HttpCall
from service.http import HttpTransport, ProviderEndpoint
from tests.servers import free_port

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class Server:
    def __init__(self) -> None:
        self.requests: list[bytes] = []
        self.connections = 0


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return head + (await reader.readexactly(length) if length else b"")


async def _respond(writer: asyncio.StreamWriter, status: int = 200, body: bytes = b"{}") -> None:
    writer.write(
        b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\nX-Trace: AbC\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (status, len(body), body)
    )
    await writer.drain()


def _serve(behaviour: str, server: Server) -> Handler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        server.connections += 1
        try:
            while True:
                try:
                    request = await _read_request(reader)
                except asyncio.IncompleteReadError:
                    return
                server.requests.append(request)
                if behaviour == "close_after_reading":
                    return  # the request arrived; no answer
                if behaviour == "slow":
                    await asyncio.sleep(2)
                if behaviour == "garbage":
                    writer.write(b"NOT HTTP\r\n\r\n")
                    await writer.drain()
                    return
                await _respond(writer, 201, b'{"ok": true}')
        finally:
            writer.close()

    return handle


@pytest.fixture
async def make() -> AsyncIterator[Callable[[str], Awaitable[tuple[HttpTransport, Server]]]]:
    servers: list[asyncio.Server] = []
    transports: list[HttpTransport] = []

    async def start(behaviour: str) -> tuple[HttpTransport, Server]:
        state = Server()
        srv = await asyncio.start_server(_serve(behaviour, state), "127.0.0.1", 0)
        servers.append(srv)
        port = srv.sockets[0].getsockname()[1]
        endpoint = ProviderEndpoint(
            f"http://127.0.0.1:{port}/api/", read_timeout=0.3, connect_timeout=0.3, total_timeout=1
        )
        transport = HttpTransport({"p": endpoint})
        transports.append(transport)
        return transport, state

    yield start
    for transport in transports:
        await transport.close()
    for srv in servers:
        srv.close()
        await srv.wait_closed()


CALL = HttpCall("POST", "/orders", b'{"amount": 1}', {"Authorization": "Basic eDp5"}, {"a": "1"})


async def test_the_call_is_sent_as_built(make) -> None:
    transport, server = await make("ok")
    reply = await transport.send("p", CALL)
    assert (reply.status, reply.body) == (201, b'{"ok": true}')
    assert reply.headers["x-trace"] == "AbC"  # header names lower-cased, values kept
    [request] = server.requests
    head, body = request.split(b"\r\n\r\n")
    assert head.startswith(b"POST /api/orders?a=1 HTTP/1.1")
    assert b"Authorization: Basic eDp5" in head
    assert b"content-type" not in head.lower()  # none guessed when the connector gave none
    assert body == b'{"amount": 1}'


async def test_connections_are_reused(make) -> None:
    transport, server = await make("ok")
    for _ in range(5):
        await transport.send("p", CALL)
    assert (len(server.requests), server.connections) == (5, 1)


async def test_a_refused_connection_was_not_sent() -> None:
    endpoint = ProviderEndpoint(
        f"http://127.0.0.1:{free_port()}", read_timeout=1, connect_timeout=1, total_timeout=5
    )
    transport = HttpTransport({"p": endpoint})
    try:
        with pytest.raises(ProviderUnreachable, match="not sent"):
            await transport.send("p", CALL)
    finally:
        await transport.close()


@pytest.mark.parametrize("behaviour", ["close_after_reading", "slow", "garbage"])
async def test_after_sending_the_outcome_is_unknown(make, behaviour: str) -> None:
    transport, server = await make(behaviour)
    with pytest.raises(OutcomeUnknown, match="after sending"):
        await transport.send("p", CALL)
    assert len(server.requests) == 1  # it did arrive: never "not sent", never sent twice


async def test_the_hard_limit_bounds_a_trickling_answer() -> None:
    async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
        for _ in range(100):  # a byte every 0.2 s: never a read timeout, 20 s in all
            writer.write(b"x")
            await writer.drain()
            await asyncio.sleep(0.2)

    srv = await asyncio.start_server(trickle, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    endpoint = ProviderEndpoint(
        f"http://127.0.0.1:{port}", read_timeout=0.3, connect_timeout=0.3, total_timeout=1
    )
    slow = HttpTransport({"p": endpoint})
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        with pytest.raises(OutcomeUnknown):
            await slow.send("p", CALL)
    finally:
        await slow.close()
        srv.close()
    assert loop.time() - started < 5
    assert slow.longest_call("p") == 1
