"""The services the API needs, held in `app.state` and wired by `service.app`."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from litestar.datastructures import State

from service.domain.ports import RateLimiter
from service.orchestration.api_keys import ApiKeyService
from service.orchestration.attention import AttentionService
from service.orchestration.idempotent import IdempotencyGuard
from service.orchestration.payments import PaymentService
from service.orchestration.payouts import PayoutService
from service.orchestration.providers import ProviderInfo
from service.orchestration.reconciler import Reconciler
from service.orchestration.webhooks import WebhookService

HealthCheck = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Services:
    payments: PaymentService
    payouts: PayoutService
    providers: ProviderInfo
    webhooks: WebhookService
    idempotency: IdempotencyGuard
    api_keys: ApiKeyService
    limiter: RateLimiter
    rate_per_second: float
    rate_burst: int
    health_checks: dict[str, HealthCheck]
    attention: AttentionService
    reconciler: Reconciler


def services_of(state: State | Any) -> Services:
    services: Services = state["services"]
    return services
