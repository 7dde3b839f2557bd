"""The composition root: the only module that wires adapters into ports."""

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from importlib import resources
from pathlib import Path

import structlog
from litestar import Litestar, Router
from litestar.datastructures import CacheControlHeader, State
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme, Server
from litestar.static_files import create_static_files_router
from prometheus_client import start_http_server

from service.api.context import RequestContextMiddleware, stamp_response
from service.api.deps import HealthCheck, Services
from service.api.errors import handle_exception
from service.api.ops import OpsPaymentController
from service.api.payments import PaymentController
from service.api.payouts import PayoutController
from service.api.security import ApiKeyMiddleware
from service.api.system import (
    ExchangeRateController,
    HealthController,
    MetricsController,
    ProviderController,
)
from service.api.webhooks import OpsWebhookController, WebhookController
from service.connectors import (
    BizonConnector,
    PaySuperConnector,
    ProxySolutionsConnector,
    Send2SellConnector,
)
from service.domain.errors import DependencyUnavailable
from service.domain.ports import Connector
from service.http import HttpTransport, ProviderEndpoint
from service.idempotency import RedisIdempotencyCache
from service.ledger import PostgresLedger
from service.logs import configure_logging
from service.orchestration.api_keys import ApiKeyService
from service.orchestration.attention import AttentionService
from service.orchestration.circuit import CircuitPolicy, Circuits
from service.orchestration.clock import SystemClock
from service.orchestration.executor import ConnectorExecutor
from service.orchestration.idempotent import IdempotencyGuard
from service.orchestration.payments import PaymentService
from service.orchestration.payouts import PayoutService
from service.orchestration.providers import ProviderInfo
from service.orchestration.reconciler import Reconciler
from service.orchestration.webhooks import WebhookService
from service.ratelimit import RedisRateLimiter
from service.resp import RedisReplyError, RedisUnavailable, RespClient
from service.settings import ProviderSection, Settings, load_settings, total_timeout

VERSION = "0.1.0"
# Swagger UI's own files, served from the swagger-ui-py wheel: no CDN needed.
DOCS_ASSETS = "/docs/assets"
MAX_BODY_BYTES = 64 * 1024


def build_connectors(
    settings: Settings,
) -> tuple[dict[str, Connector], dict[str, ProviderEndpoint]]:
    connectors: dict[str, Connector] = {}
    endpoints: dict[str, ProviderEndpoint] = {}
    if settings.bizon is not None:
        bizon = settings.bizon
        connectors["bizon"] = BizonConnector(
            bizon.login, bizon.password.reveal(), rebill_requires_cvv=bizon.rebill_requires_cvv
        )
        endpoints["bizon"] = _endpoint(bizon)
    if settings.paysuper is not None:
        paysuper = settings.paysuper
        connectors["paysuper"] = PaySuperConnector(
            paysuper.project_id,
            paysuper.secret_key.reveal(),
            signature_mode=paysuper.signature_mode,
        )
        endpoints["paysuper"] = _endpoint(paysuper)
    if settings.proxy_solutions is not None:
        proxy = settings.proxy_solutions
        connectors["proxy_solutions"] = ProxySolutionsConnector(
            proxy.api_key.reveal(), header=proxy.api_key_header
        )
        endpoints["proxy_solutions"] = _endpoint(proxy)
    if settings.send2sell is not None:
        s2s = settings.send2sell
        connectors["send2sell"] = Send2SellConnector(
            s2s.token.reveal(), method_spoofing=s2s.method_spoofing
        )
        endpoints["send2sell"] = _endpoint(s2s)
    return connectors, endpoints


def _endpoint(section: ProviderSection) -> ProviderEndpoint:
    return ProviderEndpoint(
        section.base_url,
        read_timeout=section.timeout_seconds,
        connect_timeout=section.connect_timeout_seconds,
        total_timeout=total_timeout(section),
        max_connections=section.max_concurrency,
    )


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Payment orchestrator",
        version=VERSION,
        description=(
            "One normalized API over several payment providers. Amounts are integers in "
            "minor units. Every money-moving POST needs an `Idempotency-Key`. Errors are "
            "RFC 9457 problems. Authorize with an API key (`Bearer sk_…`)."
        ),
        servers=[Server(url="/")],
        path="/docs",
        render_plugins=[
            SwaggerRenderPlugin(
                path="/",
                js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
                css_url=f"{DOCS_ASSETS}/swagger-ui.css",
                standalone_preset_js_url=f"{DOCS_ASSETS}/swagger-ui-standalone-preset.js",
                favicon=f'<link rel="icon" href="{DOCS_ASSETS}/favicon-32x32.png">',
            )
        ],
        components=Components(
            security_schemes={
                "BearerAuth": SecurityScheme(
                    type="http", scheme="bearer", description="An API key: sk_…"
                )
            }
        ),
        use_handler_docstrings=True,
    )


@asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[Services]:
    """Every adapter wired into the orchestration services; closed on exit."""
    ledger = await PostgresLedger.connect(
        settings.database_url, max_size=settings.database_pool_size
    )
    # A few pipelined connections per process (service.resp): Redis answers in order.
    redis = RespClient(settings.redis_url, connections=settings.redis_pool_size, timeout=2.0)
    connectors, endpoints = build_connectors(settings)
    transport = HttpTransport(endpoints)
    clock = SystemClock()
    longest = settings.longest_call_seconds() or 30.0
    circuits = Circuits(
        CircuitPolicy(
            failure_threshold=settings.circuit_failure_threshold,
            open_seconds=settings.circuit_open_seconds,
            half_open_probes=settings.circuit_half_open_probes,
        ),
        clock,
        providers=connectors,
    )
    executor = ConnectorExecutor(transport, circuits)
    settle_after = timedelta(seconds=settings.reconcile_after_seconds)
    payments = PaymentService(ledger, connectors, executor, clock, settle_after)
    payouts = PayoutService(ledger, connectors, executor, clock, settle_after)
    attention = AttentionService(ledger, payments, executor, clock, stuck_after=settle_after)
    try:
        yield Services(
            payments=payments,
            payouts=payouts,
            webhooks=WebhookService(ledger, connectors, clock),
            providers=ProviderInfo(
                connectors,
                executor,
                clock,
                rates_ttl=settings.exchange_rates_ttl_seconds,
                methods_ttl=settings.proxy_solutions.merchants_ttl_seconds
                if settings.proxy_solutions
                else 300.0,
            ),
            idempotency=IdempotencyGuard(
                RedisIdempotencyCache(redis),
                ledger,
                clock,
                ttl=timedelta(seconds=settings.idempotency_ttl_seconds),
                lock=timedelta(seconds=longest + 30),
                wait=timedelta(seconds=settings.idempotency_wait_seconds),
            ),
            api_keys=ApiKeyService(
                ledger, clock, cache_ttl=timedelta(seconds=settings.api_key_cache_seconds)
            ),
            limiter=RedisRateLimiter(redis),
            rate_per_second=settings.rate_limit_per_second,
            rate_burst=settings.rate_limit_burst,
            health_checks={"postgres": ledger.ping, "redis": _redis_ping(redis)},
            attention=attention,
            reconciler=Reconciler(
                ledger,
                payments,
                payouts,
                attention,
                connectors,
                clock,
                pending_for=settle_after,
                interval=timedelta(seconds=settings.reconcile_interval_seconds),
                batch=settings.reconcile_batch_size,
                max_attempts=settings.reconcile_max_attempts,
            ),
        )
    finally:
        await transport.close()
        await redis.close()
        await ledger.close()


@asynccontextmanager
async def _lifespan(app: Litestar) -> AsyncIterator[None]:
    settings: Settings = app.state["settings"]
    async with open_services(settings) as services:
        app.state["services"] = services
        stop = asyncio.Event()
        task = None
        if settings.reconcile_in_process:
            task = asyncio.create_task(services.reconciler.run(stop), name="reconciler")
        try:
            yield
        finally:
            stop.set()
            if task is not None:
                await task


async def run_reconciler(
    settings: Settings, *, once: bool = False, metrics_host: str = "127.0.0.1"
) -> None:
    """`python -m service reconcile`: passes until SIGTERM/SIGINT (or one with `once`).

    With RECONCILE_METRICS_PORT it serves Prometheus' /metrics from a thread
    (prometheus_client's own server): its pass outcomes, provider calls and circuits
    are not in any HTTP server's metrics, since it runs as a process of its own.
    """
    configure_logging(settings.log_level, settings.log_json)
    if settings.reconcile_metrics_port and not once:
        start_http_server(settings.reconcile_metrics_port, addr=metrics_host)
        structlog.get_logger("reconciler").info(
            "metrics_served", host=metrics_host, port=settings.reconcile_metrics_port
        )
    async with open_services(settings) as services:
        if once:
            await services.reconciler.run_once()
            return
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await services.reconciler.run(stop)


def _redis_ping(redis: RespClient) -> HealthCheck:
    async def ping() -> None:
        try:
            await redis.ping()
        except (RedisUnavailable, RedisReplyError) as exc:
            raise DependencyUnavailable(f"Redis is unavailable: {exc}") from exc

    return ping


def create_app(settings: Settings | None = None) -> Litestar:
    """The service as an ASGI app; settings default to the environment."""
    settings = settings or load_settings(os.environ)
    configure_logging(settings.log_level, settings.log_json)
    v1 = Router(
        path="/v1",
        route_handlers=[
            PaymentController,
            PayoutController,
            ProviderController,
            ExchangeRateController,
        ],
        middleware=[ApiKeyMiddleware()],
        security=[{"BearerAuth": []}],
    )
    # The operators' routes: the same keys, documented with the scope they need (OpenAPI
    # 3.1 lets a bearer scheme's requirement list roles).
    ops = Router(
        path="/v1",
        route_handlers=[OpsWebhookController, OpsPaymentController],
        middleware=[ApiKeyMiddleware()],
        security=[{"BearerAuth": ["ops"]}],
    )
    # Providers call this one: their signature, not an API key, authenticates them.
    webhooks = Router(path="/v1", route_handlers=[WebhookController])
    return Litestar(
        route_handlers=[
            v1,
            ops,
            webhooks,
            HealthController,
            MetricsController,
            create_static_files_router(
                DOCS_ASSETS,
                directories=[Path(str(resources.files("swagger_ui") / "static"))],
                name="docs-assets",
                cache_control=CacheControlHeader(max_age=86_400, public=True),
            ),
        ],
        middleware=[RequestContextMiddleware()],
        before_send=[stamp_response],
        exception_handlers={Exception: handle_exception},
        openapi_config=openapi_config(),
        lifespan=[_lifespan],
        state=State({"settings": settings}),
        request_max_body_size=MAX_BODY_BYTES,
        debug=False,
        logging_config=None,
    )
