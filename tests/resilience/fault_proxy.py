"""A TCP front for a provider simulator that breaks calls on demand.

The simulators inject HTTP statuses and delays themselves (Bizon and Send2Sell;
PaySuper and Proxy-Solutions not at all), but none can reset a connection or
answer malformed JSON. This proxy, on a loopback port of its own, passes each
request through to the simulator or breaks it as the next queued fault says:

* ``reset``: the request reaches the simulator (it is applied), then the
  connection is reset (RST) with no answer;
* ``malformed``: applied, then answered 200 with a truncated JSON body;
* ``slow``: applied, then answered only after ``delay`` seconds;
* ``status``: answered ``status`` at once; the simulator never sees it;

and `refuse()` stops listening (connections are refused) until `listen()`.

One request per connection (every answer says ``Connection: close``), so a
fault hits exactly the request it was queued for.
"""

import asyncio
import socket
import struct
from collections import deque
from dataclasses import dataclass

MALFORMED_BODY = b'{"id": 7, "status": "appro'


@dataclass
class Fault:
    kind: str  # reset | malformed | slow | status
    status: int = 503
    delay: float = 0.0


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return head + (await reader.readexactly(length) if length else b"")


def _closing(message: bytes) -> bytes:
    """`message` (a request or a response) with `Connection: close` as its only Connection."""
    head, _, body = message.partition(b"\r\n\r\n")
    lines = [line for line in head.split(b"\r\n") if not line.lower().startswith(b"connection:")]
    return b"\r\n".join([*lines, b"Connection: close"]) + b"\r\n\r\n" + body


def _response(status: int, body: bytes) -> bytes:
    return (
        b"HTTP/1.1 %d Injected\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (status, len(body), body)
    )


class FaultProxy:
    def __init__(self, upstream_port: int) -> None:
        self._upstream_port = upstream_port
        self._faults: deque[Fault] = deque()
        self._server: asyncio.Server | None = None
        self.received = 0  # requests that reached the proxy
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> "FaultProxy":
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def refuse(self) -> None:
        """Stop listening: a connection to the port is refused (nothing is sent)."""
        await self.close()

    async def listen(self) -> None:
        """Listen again, on the same port."""
        if self._server is None:
            await self.start()

    def add(self, kind: str, times: int = 1, status: int = 503, delay: float = 0.0) -> None:
        for _ in range(times):
            self._faults.append(Fault(kind, status, delay))

    def clear(self) -> None:
        self._faults.clear()

    @property
    def pending(self) -> int:
        return len(self._faults)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            try:
                request = await _read_request(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            self.received += 1
            fault = self._faults.popleft() if self._faults else None
            if fault is not None and fault.kind == "status":
                writer.write(_response(fault.status, b'{"message": "Injected fault"}'))
                await writer.drain()
                return
            reply = await self._forward(request)
            if fault is not None and fault.kind == "reset":
                sock = writer.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()
                return
            if fault is not None and fault.kind == "malformed":
                reply = _response(200, MALFORMED_BODY)
            if fault is not None and fault.kind == "slow":
                await asyncio.sleep(fault.delay)
            writer.write(reply)
            await writer.drain()
        except ConnectionError:
            pass  # the client gave up (a slow reply past its timeout)
        finally:
            writer.close()

    async def _forward(self, request: bytes) -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", self._upstream_port)
        try:
            writer.write(_closing(request))
            await writer.drain()
            return _closing(await reader.read())
        finally:
            writer.close()
