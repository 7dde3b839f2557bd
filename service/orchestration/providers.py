"""Provider facts that are not payments: exchange rates and health, cached briefly.

One in-process cache per worker, with a lock per key so that a burst of
requests makes one provider call, not one each.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import TypeVar

import msgspec

from service.domain.errors import (
    ConnectorError,
)
from service.domain.outcomes import ExchangeRate, ProviderHealth
from service.domain.ports import Capability, Clock, Connector
from service.orchestration.executor import ConnectorExecutor
from service.orchestration.routing import connector_for

T = TypeVar("T")


class RatesSnapshot(msgspec.Struct, frozen=True):
    provider: str
    fetched_at: datetime
    rates: tuple[ExchangeRate, ...]


class _Cache:
    def __init__(self) -> None:
        self._values: dict[str, tuple[float, object]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def get(self, key: str, ttl: float, load: Callable[[], Awaitable[T]]) -> T:
        hit = self._values.get(key)
        if hit and time.monotonic() - hit[0] < ttl:
            return hit[1]  # type: ignore[return-value]
        async with self._locks.setdefault(key, asyncio.Lock()):
            hit = self._values.get(key)
            if hit and time.monotonic() - hit[0] < ttl:
                return hit[1]  # type: ignore[return-value]
            value = await load()
            self._values[key] = (time.monotonic(), value)
            return value


class ProviderInfo:
    def __init__(
        self,
        connectors: Mapping[str, Connector],
        executor: ConnectorExecutor,
        clock: Clock,
        *,
        rates_ttl: float = 60.0,
        health_ttl: float = 10.0,
    ) -> None:
        self._connectors = connectors
        self._executor = executor
        self._clock = clock
        self._rates_ttl = rates_ttl
        self._health_ttl = health_ttl
        self._cache = _Cache()

    def _able(self, provider: str | None, capability: Capability) -> Connector:
        return connector_for(self._connectors, provider, capability)

    async def exchange_rates(self, provider: str | None) -> RatesSnapshot:
        connector = self._able(provider, Capability.EXCHANGE_RATES)

        async def load() -> RatesSnapshot:
            rates = await self._executor.execute(
                connector,
                "exchange_rates",
                connector.build_exchange_rates(),
                connector.parse_exchange_rates,
            )
            return RatesSnapshot(connector.name, self._clock.now(), tuple(rates))

        return await self._cache.get(f"rates:{connector.name}", self._rates_ttl, load)

    async def health(self, provider: str) -> ProviderHealth | None:
        """The provider's answer to its ping, cached briefly; None if it has no ping."""
        connector = self._connectors.get(provider)
        if connector is None or Capability.HEALTH not in connector.supports:
            return None

        async def load() -> ProviderHealth:
            started = time.perf_counter()
            try:
                problem = await self._executor.execute(
                    connector, "ping", connector.build_ping(), connector.parse_ping
                )
            except ConnectorError as exc:
                problem = exc.detail
            return ProviderHealth(
                status="down" if problem else "up",
                latency_ms=round((time.perf_counter() - started) * 1000, 1),
                checked_at=self._clock.now(),
                detail=problem,
            )

        return await self._cache.get(f"health:{provider}", self._health_ttl, load)
