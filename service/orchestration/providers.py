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
    OperationNotSupported,
)
from service.domain.outcomes import ExchangeRate, PaymentMethodOption, ProviderHealth, Quote
from service.domain.ports import Capability, Clock, Connector
from service.orchestration.circuit import CircuitView
from service.orchestration.executor import ConnectorExecutor
from service.orchestration.routing import connector_for

T = TypeVar("T")


class RatesSnapshot(msgspec.Struct, frozen=True):
    provider: str
    fetched_at: datetime
    rates: tuple[ExchangeRate, ...]


class MethodsSnapshot(msgspec.Struct, frozen=True):
    provider: str
    fetched_at: datetime
    methods: tuple[PaymentMethodOption, ...]
    stale: bool = False  # the provider did not answer: this is the last list it gave


class _Cache:
    def __init__(self) -> None:
        self._values: dict[str, tuple[float, object]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def get(
        self, key: str, ttl: float, load: Callable[[], Awaitable[T]], stale_ok: bool = False
    ) -> tuple[T, bool]:
        """The cached value while fresh, else a new one; (value, stale)."""
        hit = self._values.get(key)
        if hit and time.monotonic() - hit[0] < ttl:
            return hit[1], False  # type: ignore[return-value]
        async with self._locks.setdefault(key, asyncio.Lock()):
            hit = self._values.get(key)
            if hit and time.monotonic() - hit[0] < ttl:
                return hit[1], False  # type: ignore[return-value]
            try:
                value = await load()
            except ConnectorError:
                if stale_ok and hit is not None:
                    return hit[1], True  # type: ignore[return-value]
                raise
            self._values[key] = (time.monotonic(), value)
            return value, False


class ProviderInfo:
    def __init__(
        self,
        connectors: Mapping[str, Connector],
        executor: ConnectorExecutor,
        clock: Clock,
        *,
        rates_ttl: float = 60.0,
        health_ttl: float = 10.0,
        methods_ttl: float = 300.0,
    ) -> None:
        self._connectors = connectors
        self._executor = executor
        self._clock = clock
        self._rates_ttl = rates_ttl
        self._health_ttl = health_ttl
        self._methods_ttl = methods_ttl
        self._cache = _Cache()

    def circuit(self, provider: str) -> CircuitView | None:
        """The provider's circuit breaker in this process; None when it is not enabled."""
        return self._executor.circuit(provider)

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

        rates, _ = await self._cache.get(f"rates:{connector.name}", self._rates_ttl, load)
        return rates

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

        health, _ = await self._cache.get(f"health:{provider}", self._health_ttl, load)
        return health

    async def payment_methods(self, provider: str) -> MethodsSnapshot:
        """The provider's ways to pay, cached; the last list when it is down."""
        connector = self._able(provider, Capability.PAYMENT_METHODS)

        async def load() -> MethodsSnapshot:
            methods = await self._executor.execute(
                connector,
                "payment_methods",
                connector.build_payment_methods(),
                connector.parse_payment_methods,
            )
            return MethodsSnapshot(connector.name, self._clock.now(), tuple(methods))

        snap, stale = await self._cache.get(
            f"methods:{provider}", self._methods_ttl, load, stale_ok=True
        )
        return msgspec.structs.replace(snap, stale=True) if stale else snap

    def quote_type(self, provider: str) -> type[msgspec.Struct]:
        connector = self._able(provider, Capability.QUOTES)
        if connector.quote_type is None:
            raise OperationNotSupported(provider, f"{provider} has no quote request")
        return connector.quote_type

    async def quote(self, provider: str, request: msgspec.Struct) -> Quote:
        connector = self._able(provider, Capability.QUOTES)
        return await self._executor.execute(
            connector,
            "quote",
            connector.build_quote(request),
            lambda reply: connector.parse_quote(request, reply),
        )
