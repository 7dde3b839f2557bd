"""Bearer API keys, scopes and per-key rate limits for the /v1 routes.

One middleware authenticates the key and takes one token from its bucket, then
stamps `RateLimit-*` headers on the response. Scopes are checked by a guard
reading the route's `opt["scope"]`.
"""

from typing import Any

import structlog
from litestar.connection import ASGIConnection
from litestar.datastructures import MutableScopeHeaders
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.exceptions.http_exceptions import TooManyRequestsException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from service.api.context import bind_to_request
from service.api.deps import services_of
from service.domain.errors import DependencyUnavailable
from service.domain.ports import ApiKey, RateDecision

log = structlog.get_logger("security")

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="payments"'}


def _bearer(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            return None
    return None


def _rate_headers(decision: RateDecision) -> dict[str, str]:
    return {
        "RateLimit-Limit": str(decision.limit),
        "RateLimit-Remaining": str(decision.remaining),
        "RateLimit-Reset": str(decision.reset_seconds),
    }


class ApiKeyMiddleware(ASGIMiddleware):
    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        services = services_of(scope["litestar_app"].state)
        secret = _bearer(scope)
        if secret is None:
            raise NotAuthorizedException("send Authorization: Bearer <api key>", headers=_CHALLENGE)
        key = await services.api_keys.verify(secret)
        if key is None:
            raise NotAuthorizedException("the API key is unknown or revoked", headers=_CHALLENGE)
        scope["state"]["api_key"] = key
        bind_to_request(scope, api_key_id=key.id)
        decision = await self._limit(scope, key)
        if decision is None:
            await next_app(scope, receive, send)
            return
        headers = _rate_headers(decision)
        if not decision.allowed:
            headers["Retry-After"] = str(decision.retry_after_seconds)
            raise TooManyRequestsException(
                f"rate limit of {decision.limit} requests exceeded; retry in "
                f"{decision.retry_after_seconds}s",
                headers=headers,
            )

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableScopeHeaders.from_message(message)
                for name, value in headers.items():
                    response_headers[name] = value
            await send(message)

        await next_app(scope, receive, send_with_headers)

    @staticmethod
    async def _limit(scope: Scope, key: ApiKey) -> RateDecision | None:
        services = services_of(scope["litestar_app"].state)
        rate = key.rate_limit_per_second or services.rate_per_second
        burst = key.rate_limit_burst or services.rate_burst
        try:
            return await services.limiter.hit(key.id, rate, burst)
        except DependencyUnavailable:
            # Fail open for the limit only: money-moving POSTs still fail closed,
            # because their idempotency reservation needs Redis too.
            log.warning("rate_limit_unavailable", api_key_id=key.id)
            return None


def require_scope(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Guard: the key must hold the scope named in the route's `opt["scope"]`."""
    needed = handler.opt.get("scope")
    key: ApiKey | None = connection.scope["state"].get("api_key")
    if needed and (key is None or needed not in key.scopes):
        raise PermissionDeniedException(f"this API key lacks the {needed!r} scope")
