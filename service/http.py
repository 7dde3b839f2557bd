"""The outbound HTTP transport (aiohttp): one connection pool per provider.

Connectors never see it: they build `HttpCall`s and read `HttpReply`s (the
`Transport` port), so the client library is this module's business alone.
aiohttp costs about a tenth of httpx's CPU per call (`bench/client_bench.py`
measures httpx, httpx over the httpx-aiohttp transport, aiohttp and this module
side by side), and on a payment's hot path the outbound call was the largest
single cost.

Failures are classified for the executor, and that is what matters for money:
the connection could not be made (refused, DNS, connect timeout, no free pooled
connection in time) means the request never left, and only those are retried
(twice, while the call's hard limit leaves room for a whole attempt, so that
limit never ends a call still connecting); anything once the connection is up —
a reset, a read timeout, the hard per-call limit, a malformed response — is an
unknown outcome, never a failure. (httpx-aiohttp maps aiohttp's connection
errors after sending to httpx.ConnectTimeout, which would call a request that
may have charged "never sent"; hence a transport of our own.)

The pool's connection limit is the provider's outbound concurrency cap
(`<PROVIDER>_MAX_CONCURRENCY`): a connection is held from sending until the
reply is read, so at most that many calls are in flight per provider and
process. A call that gets no free connection within the connect timeout fails
as "not sent", like a connect error (and is tried again like one).
"""

import asyncio
from collections.abc import Mapping

import aiohttp

from service.domain.errors import OutcomeUnknown, ProviderUnreachable
from service.domain.outcomes import HttpCall, HttpReply

# The connection was never made: nothing was sent. (ConnectionTimeoutError covers
# both the socket connect and the wait for a free pooled connection.)
_NEVER_LEFT = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)
_CONNECT_RETRIES = 2
KEEPALIVE_SECONDS = 4.0


class ProviderEndpoint:
    def __init__(
        self,
        base_url: str,
        *,
        read_timeout: float,
        connect_timeout: float,
        total_timeout: float,
        max_connections: int = 100,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.read_timeout = read_timeout
        self.connect_timeout = connect_timeout
        # The hard limit of one call, connect retries included (settings compute it).
        self.total_timeout = total_timeout
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        """The pool, made on first use (inside the running event loop)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=self._max_connections,
                    limit_per_host=self._max_connections,
                    # Shorter than common servers' idle timeouts (uvicorn, Apache: 5 s), so
                    # a pooled connection is dropped here before the server closes it: a
                    # request written into a closing connection is an unknown outcome.
                    keepalive_timeout=KEEPALIVE_SECONDS,
                    ttl_dns_cache=300,
                ),
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    connect=self.connect_timeout,
                    sock_connect=self.connect_timeout,
                    sock_read=self.read_timeout,
                ),
                auto_decompress=True,
                raise_for_status=False,
                trust_env=False,
                # The connector's headers are sent as built: no guessed Content-Type.
                skip_auto_headers=("Content-Type",),
            )
        return self._session

    async def request(self, call: HttpCall) -> HttpReply:
        url = self.base_url + call.path
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.total_timeout
        whole_attempt = self.connect_timeout + self.read_timeout
        for attempt in range(_CONNECT_RETRIES + 1):
            try:
                async with self.session().request(
                    call.method,
                    url,
                    data=call.body,
                    headers=call.headers,
                    params=call.query or None,
                    allow_redirects=False,
                ) as response:
                    body = await response.read()
                    headers = {k.lower(): v for k, v in response.headers.items()}
                    return HttpReply(response.status, body, headers)
            except _NEVER_LEFT:
                if attempt == _CONNECT_RETRIES or deadline - loop.time() < whole_attempt:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


class HttpTransport:
    def __init__(self, endpoints: Mapping[str, ProviderEndpoint]) -> None:
        self._endpoints = dict(endpoints)

    async def send(self, provider: str, call: HttpCall) -> HttpReply:
        endpoint = self._endpoints[provider]
        try:
            async with asyncio.timeout(endpoint.total_timeout):
                return await endpoint.request(call)
        except _NEVER_LEFT as exc:
            raise ProviderUnreachable(provider, f"{type(exc).__name__}: not sent") from exc
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise OutcomeUnknown(provider, f"{type(exc).__name__} after sending") from exc

    def longest_call(self, provider: str) -> float:
        return self._endpoints[provider].total_timeout

    async def close(self) -> None:
        for endpoint in self._endpoints.values():
            await endpoint.close()
