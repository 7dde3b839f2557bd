"""The outbound cap and the total timeout of the transport, against real sockets.

A provider's `max_connections` (<PROVIDER>_MAX_CONCURRENCY) bounds its calls in flight:
one that finds no free connection within the connect timeout was never sent. A total
timeout shorter than three connects never ends a call while it is still connecting
(that would turn "never sent" into "outcome unknown").
"""

import asyncio
from collections.abc import AsyncIterator

import pytest

from service.domain.errors import ProviderUnreachable
from service.domain.outcomes import HttpCall
from service.http import HttpTransport, ProviderEndpoint

CALL = HttpCall("POST", "/charge", b"{}", {}, {})


class SlowServer:
    """Answers every request a byte every 0.1 s (never a read timeout); counts requests."""

    def __init__(self, body_bytes: int) -> None:
        self.body_bytes = body_bytes
        self.requests = 0
        self.port = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                (
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ),
                0,
            )
            await reader.readexactly(length)
            self.requests += 1
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % self.body_bytes)
            for _ in range(self.body_bytes):
                await asyncio.sleep(0.1)
                writer.write(b"x")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def slow_server() -> AsyncIterator[SlowServer]:
    server = SlowServer(body_bytes=10)  # a second per answer
    srv = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    server.port = srv.sockets[0].getsockname()[1]
    yield server
    srv.close()
    await srv.wait_closed()


def _transport(port: int, *, cap: int, connect: float, read: float, total: float) -> HttpTransport:
    endpoint = ProviderEndpoint(
        f"http://127.0.0.1:{port}",
        read_timeout=read,
        connect_timeout=connect,
        total_timeout=total,
        max_connections=cap,
    )
    return HttpTransport({"p": endpoint})


async def test_calls_past_the_cap_are_not_sent(slow_server: SlowServer) -> None:
    transport = _transport(slow_server.port, cap=2, connect=0.1, read=2.0, total=5.0)
    try:
        results = await asyncio.gather(
            *(transport.send("p", CALL) for _ in range(3)), return_exceptions=True
        )
    finally:
        await transport.close()
    refused = [r for r in results if isinstance(r, ProviderUnreachable)]
    assert len(refused) == 1, results  # no slot within the connect timeout (tried 3 times)
    assert "not sent" in refused[0].detail
    assert [getattr(r, "status", None) for r in results].count(200) == 2
    assert slow_server.requests == 2  # the third never reached the provider


async def test_a_short_total_timeout_never_ends_a_call_still_connecting(
    slow_server: SlowServer,
) -> None:
    # One slot, held until the first call's hard limit (0.5 s). The waiting call's tries
    # for a slot take 0.2 s each; after one, a whole attempt (0.2 + 0.2) no longer fits
    # the 0.3 s left of its hard limit, so it stops at "not sent" instead of being cut
    # off by that limit mid-wait (or just after sending) as an unknown outcome.
    transport = _transport(slow_server.port, cap=1, connect=0.2, read=0.2, total=0.5)
    loop = asyncio.get_running_loop()
    try:
        holding = asyncio.create_task(transport.send("p", CALL))
        await asyncio.sleep(0.05)
        started = loop.time()
        with pytest.raises(ProviderUnreachable):
            await transport.send("p", CALL)
        waited = loop.time() - started
        holding.cancel()
    finally:
        await transport.close()
    assert waited < 0.45
    assert slow_server.requests == 1
