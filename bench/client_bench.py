"""Outbound HTTP client cost: CPU seconds per provider call in the caller's process.

    .venv/bin/python -m bench.client_bench [--requests 5000] [--concurrency 16]

A stub provider (a bare ASGI app answering a Bizon-sized JSON body) runs in its own
process; the clients below call it from this process, and only this process's CPU
time is counted, so the figure is what one outbound call costs the service.
Variants: httpx with its default transport, httpx with the httpx-aiohttp transport,
plain aiohttp, and the service's own transport (`service.http`).
"""

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import httpx
import httpx_aiohttp

from service.domain.outcomes import HttpCall
from service.http import HttpTransport, ProviderEndpoint

BODY = json.dumps({"order": {"id": "12146904138040629", "status": "authorized"}}).encode()
REQUEST = json.dumps(
    {"amount": 999, "currency": "USD", "pan": "4111111111111111", "cvv": "123"}
).encode()

STUB = """
import uvicorn
BODY = %r
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": BODY})
uvicorn.run(app, host="127.0.0.1", port=%d, log_level="warning", loop="uvloop",
            http="httptools", access_log=False)
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_stub(port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", STUB % (BODY, port)], start_new_session=True)


async def _measure(
    name: str, call: Callable[[], Awaitable[None]], n: int, c: int
) -> dict[str, Any]:
    for _ in range(200):  # warm up: connections, code paths
        await call()
    queue = iter(range(n))

    async def worker() -> None:
        for _ in queue:
            await call()

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(c)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {"client": name, "cpu_ms_per_call": 1000 * cpu / n, "calls_per_s": n / wall}


async def main(n: int, c: int) -> list[dict[str, Any]]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    proc = _start_stub(port)
    try:
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.1):
                    break
            except OSError:
                await asyncio.sleep(0.05)
        headers = {"Content-Type": "application/json", "Authorization": "Basic dGVzdDp0ZXN0"}
        results = []

        plain = httpx.AsyncClient(
            base_url=url, transport=httpx.AsyncHTTPTransport(retries=2), timeout=5
        )
        results.append(
            await _measure(
                "httpx (default transport)",
                lambda: _httpx(plain, headers),
                n,
                c,
            )
        )
        await plain.aclose()

        bridged = httpx.AsyncClient(
            base_url=url, transport=httpx_aiohttp.AiohttpTransport(), timeout=5
        )
        results.append(
            await _measure("httpx + httpx-aiohttp", lambda: _httpx(bridged, headers), n, c)
        )
        await bridged.aclose()

        async with aiohttp.ClientSession(base_url=url) as session:

            async def direct() -> None:
                async with session.post("/orders/authorize", data=REQUEST, headers=headers) as r:
                    await r.read()

            results.append(await _measure("aiohttp", direct, n, c))

        endpoint = ProviderEndpoint(url, read_timeout=5, connect_timeout=1, total_timeout=13)
        ours = HttpTransport({"stub": endpoint})
        call = HttpCall("POST", "/orders/authorize", REQUEST, headers)

        async def service_transport() -> None:
            await ours.send("stub", call)

        results.append(await _measure("service.http (the service's)", service_transport, n, c))
        await ours.close()
        return results
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


async def _httpx(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await client.post("/orders/authorize", content=REQUEST, headers=headers)
    response.read()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    rows = asyncio.run(main(args.requests, args.concurrency))
    base = rows[0]["cpu_ms_per_call"]
    print(f"{'client':32} {'CPU ms/call':>12} {'x httpx':>8} {'calls/s':>9}")
    for row in rows:
        print(
            f"{row['client']:32} {row['cpu_ms_per_call']:12.3f} "
            f"{row['cpu_ms_per_call'] / base:8.2f} {row['calls_per_s']:9.0f}"
        )
