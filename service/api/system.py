"""Probes and the provider catalogue."""

import asyncio
import os
from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.params import QueryParameter
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from prometheus_client import REGISTRY as METRICS

from service.api.convert import rates_response
from service.api.deps import services_of
from service.api.docs import COMMON, problems
from service.api.schemas import (
    ExchangeRatesResponse,
    HealthResponse,
    ProviderHealthResponse,
    ProviderListResponse,
    ProviderResponse,
)
from service.connectors import REGISTRY
from service.domain.errors import DependencyUnavailable

AnyRequest = Request[Any, Any, Any]


class HealthController(Controller):
    path = "/health"
    tags = ["operations"]
    include_in_schema = True

    @get("/live", operation_id="live", summary="Liveness: the process answers")
    async def live(self) -> HealthResponse:
        """Always 200 while the event loop runs."""
        return HealthResponse(status="ok")

    @get(
        "/ready",
        operation_id="ready",
        summary="Readiness: PostgreSQL and Redis answer",
        responses={503: problems("dependency_unavailable")[503]},
    )
    async def ready(self, request: AnyRequest) -> Response[HealthResponse]:
        """200 when every dependency answers within a second, else 503 naming the failures."""
        checks = services_of(request.app.state).health_checks
        names = list(checks)
        results = await asyncio.gather(
            *(asyncio.wait_for(checks[name](), 1.0) for name in names), return_exceptions=True
        )
        report = {
            name: "ok" if not isinstance(result, BaseException) else _reason(result)
            for name, result in zip(names, results, strict=True)
        }
        healthy = all(value == "ok" for value in report.values())
        return Response(
            HealthResponse(status="ok" if healthy else "unavailable", checks=report),
            status_code=200 if healthy else 503,
        )


def _reason(exc: BaseException) -> str:
    if isinstance(exc, DependencyUnavailable):
        return exc.detail
    return f"unavailable: {type(exc).__name__}"


class ProviderController(Controller):
    path = "/providers"
    tags = ["providers"]

    @get(
        "/",
        operation_id="listProviders",
        summary="Connectors, their operations and payment methods",
        opt={"scope": "payments:read"},
        responses=problems(*COMMON),
    )
    async def list_providers(self, request: AnyRequest) -> ProviderListResponse:
        """Every connector this build knows; `enabled` when its base URL is configured.

        `health` is the enabled provider's answer to its ping, cached for a few seconds.
        """
        services = services_of(request.app.state)
        enabled = services.payments.providers
        names = list(REGISTRY)
        checks = await asyncio.gather(*(services.providers.health(name) for name in names))
        return ProviderListResponse(
            data=[
                ProviderResponse(
                    name=name,
                    enabled=name in enabled,
                    operations=sorted(c.value for c in REGISTRY[name].supports),
                    payment_methods=sorted(m.value for m in REGISTRY[name].methods),
                    health=ProviderHealthResponse(
                        health.status, health.latency_ms, health.checked_at, health.detail
                    )
                    if health
                    else None,
                )
                for name, health in zip(names, checks, strict=True)
            ]
        )


class ExchangeRateController(Controller):
    path = "/exchange-rates"
    tags = ["providers"]

    @get(
        "/",
        operation_id="listExchangeRates",
        summary="The provider's exchange rates",
        opt={"scope": "payments:read"},
        responses=problems(*COMMON, "validation_error", "provider_unavailable", "provider_error"),
    )
    async def exchange_rates(
        self,
        request: AnyRequest,
        provider: Annotated[str | None, QueryParameter(max_length=64)] = None,
        base: Annotated[str | None, QueryParameter(pattern="^[A-Z]{3}$")] = None,
        quote: Annotated[str | None, QueryParameter(pattern="^[A-Z]{3}$")] = None,
    ) -> ExchangeRatesResponse:
        """Rates as the provider publishes them (Bizon `/exchange_rates/`), cached briefly.

        `rate` is a decimal string: 1 `base` = `rate` `quote`.
        """
        snap = await services_of(request.app.state).providers.exchange_rates(provider)
        return rates_response(snap, base, quote)


class MetricsController(Controller):
    path = "/metrics"
    tags = ["operations"]

    @get(
        "/",
        operation_id="metrics",
        summary="Prometheus metrics",
        media_type="text/plain; version=0.0.4; charset=utf-8",
    )
    async def metrics(self) -> Response[bytes]:
        """Requests by route and status, provider call latency and outcomes.

        With several worker processes set PROMETHEUS_MULTIPROC_DIR so that every
        worker's samples are merged here.
        """
        registry = METRICS
        if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
