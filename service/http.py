"""The outbound HTTP transport (httpx): one client per provider.

Classifies failures for the executor: a connect error or connect/pool timeout
means the request never left (httpx retries those, and only those, via the
transport's `retries`); anything after sending is an unknown outcome.
"""

import asyncio
from collections.abc import Mapping

import httpx

from service.domain.errors import OutcomeUnknown, ProviderUnreachable
from service.domain.outcomes import HttpCall, HttpReply

_NEVER_LEFT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


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
        self.read_timeout = read_timeout
        self.connect_timeout = connect_timeout
        # The hard limit of one call, connect retries included (settings compute it).
        self.total_timeout = total_timeout
        self.client = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            transport=httpx.AsyncHTTPTransport(
                retries=2, limits=httpx.Limits(max_connections=max_connections)
            ),
            follow_redirects=False,
        )


class HttpxTransport:
    def __init__(self, endpoints: Mapping[str, ProviderEndpoint]) -> None:
        self._endpoints = dict(endpoints)

    async def send(self, provider: str, call: HttpCall) -> HttpReply:
        endpoint = self._endpoints[provider]
        try:
            async with asyncio.timeout(endpoint.total_timeout):
                response = await endpoint.client.request(
                    call.method,
                    call.path,
                    content=call.body,
                    headers=call.headers,
                    params=call.query or None,
                )
        except _NEVER_LEFT as exc:
            raise ProviderUnreachable(provider, f"{type(exc).__name__}: not sent") from exc
        except (httpx.HTTPError, TimeoutError) as exc:
            raise OutcomeUnknown(provider, f"{type(exc).__name__} after sending") from exc
        return HttpReply(response.status_code, response.content, dict(response.headers))

    def longest_call(self, provider: str) -> float:
        return self._endpoints[provider].total_timeout

    async def close(self) -> None:
        for endpoint in self._endpoints.values():
            await endpoint.client.aclose()
