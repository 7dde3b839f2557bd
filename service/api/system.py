"""Probes and the provider catalogue."""

import asyncio
import os
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import Body, PathParameter, QueryParameter, SkipValidation
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from prometheus_client import REGISTRY as METRICS

from service.api.convert import (
    circuit_response,
    methods_response,
    quote_response,
    rates_response,
)
from service.api.deps import services_of
from service.api.docs import COMMON, QUOTE, problems
from service.api.payments import strict_body
from service.api.schemas import (
    ExchangeRatesResponse,
    HealthResponse,
    PaymentMethodsResponse,
    ProviderHealthResponse,
    ProviderListResponse,
    ProviderResponse,
    QuoteRequest,
    QuoteResponse,
)
from service.connectors import REGISTRY
from service.domain.errors import DependencyUnavailable, FieldError, ValidationFailed

AnyRequest = Request[Any, Any, Any]
ProviderName = Annotated[str, PathParameter(max_length=64, description="e.g. proxy_solutions")]


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
        `circuit` is its circuit breaker in the worker process that answered: `open`
        after repeated technical failures (connect errors, timeouts, 5xx, unreadable
        replies; never declines), when calls fail at once with 503
        `provider_circuit_open` without being sent, until `retry_at`; then
        `half_open` lets a probe call through, whose success closes it again.
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
                    circuit=circuit_response(services.providers.circuit(name)),
                )
                for name, health in zip(names, checks, strict=True)
            ]
        )

    @get(
        "/{provider:str}/payment-methods",
        operation_id="listProviderPaymentMethods",
        summary="A provider's ways to pay (e.g. Proxy-Solutions merchants)",
        opt={"scope": "payments:read"},
        responses=problems(
            *COMMON,
            "validation_error",
            "operation_not_supported",
            "provider_unavailable",
            "provider_circuit_open",
        ),
    )
    async def payment_methods(
        self, request: AnyRequest, provider: ProviderName
    ) -> PaymentMethodsResponse:
        """The provider's active ways to pay with their currencies, cached.

        When the provider does not answer, the last list it gave is served with
        `stale: true`; with no list at all, 503.
        """
        snap = await services_of(request.app.state).providers.payment_methods(provider)
        return methods_response(snap)

    @post(
        "/{provider:str}/quotes",
        operation_id="createProviderQuote",
        summary="A provider's price for an order (e.g. Proxy-Solutions with a promo code)",
        status_code=200,
        opt={"scope": "payments:read"},
        responses=problems(
            *COMMON,
            "invalid_json",
            "validation_error",
            "operation_not_supported",
            "provider_service_not_found",
            "provider_validation_error",
            "provider_unavailable",
            "provider_circuit_open",
        ),
    )
    async def quote(
        self,
        request: AnyRequest,
        provider: ProviderName,
        data: Annotated[SkipValidation[QuoteRequest], Body(examples=[QUOTE])],
    ) -> QuoteResponse:
        """Calculate what an order would cost, amounts in minor units; moves no money.

        The body is the provider's own quote request (Proxy-Solutions: service_id,
        location_id, quantity, period, multiport, server_config_id,
        server_options, promocode, merchant, currency, lang EN|RU|UA).
        """
        providers = services_of(request.app.state).providers
        body = await strict_body(request, providers.quote_type(provider))
        if body is None:
            raise ValidationFailed("a JSON body is required", [FieldError("body", "required")])
        return quote_response(provider, await providers.quote(provider, body))


class ExchangeRateController(Controller):
    path = "/exchange-rates"
    tags = ["providers"]

    @get(
        "/",
        operation_id="listExchangeRates",
        summary="The provider's exchange rates",
        opt={"scope": "payments:read"},
        responses=problems(
            *COMMON,
            "validation_error",
            "provider_unavailable",
            "provider_circuit_open",
            "provider_error",
        ),
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
    async def metrics(self, request: AnyRequest) -> Response[bytes]:
        """Requests by route and status, provider call latency and outcomes.

        With several worker processes set PROMETHEUS_MULTIPROC_DIR so that every
        worker's samples are merged here. The reconciler's gauges (pending age,
        payments needing attention) are read from the ledger at each scrape.
        """
        await services_of(request.app.state).reconciler.refresh_gauges()
        registry = METRICS
        if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
