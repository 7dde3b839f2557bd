"""Bearer API keys, scopes and per-key rate limits for the /v1 routes.

One middleware authenticates the key and takes one token from its bucket, then
stamps `RateLimit-*` headers on the response. Scopes are checked by a guard
reading the route's `opt["scope"]`.
"""

import structlog
from litestar.datastructures import MutableScopeHeaders
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.exceptions.http_exceptions import TooManyRequestsException
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from service.api.context import bind_to_request
from service.api.deps import services_of
from service.domain.errors import DependencyUnavailable
from service.domain.ports import ApiKey, RateDecision, RateLimit

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


def deferred_limit(scope: Scope) -> RateLimit | None:
    """The rate limit an idempotent route takes with its key's reservation, if deferred."""
    limit: RateLimit | None = scope["state"].get(_DEFERRED)
    return limit


def record_decision(scope: Scope, decision: RateDecision) -> None:
    """The decision whose RateLimit-* headers the response carries."""
    scope["state"][_DECISION] = decision


def too_many_requests(decision: RateDecision) -> TooManyRequestsException:
    headers = _rate_headers(decision)
    headers["Retry-After"] = str(decision.retry_after_seconds)
    return TooManyRequestsException(
        f"rate limit of {decision.limit} requests exceeded; retry in "
        f"{decision.retry_after_seconds}s",
        headers=headers,
    )


_DEFERRED = "rate_limit_deferred"
_DECISION = "rate_decision"


def _defers(scope: Scope) -> bool:
    """A money-moving POST with an Idempotency-Key takes its token with the reservation."""
    handler = scope.get("route_handler")
    if scope.get("method") != "POST" or handler is None or not handler.opt.get("idempotent"):
        return False
    return any(name == b"idempotency-key" for name, _ in scope.get("headers", []))


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
        limit = RateLimit(
            key.id,
            key.rate_limit_per_second or services.rate_per_second,
            key.rate_limit_burst or services.rate_burst,
        )
        deferred = _defers(scope)
        if deferred:
            scope["state"][_DEFERRED] = limit
        else:
            decision = await self._limit(scope, limit)
            if decision is not None:
                if not decision.allowed:
                    raise too_many_requests(decision)
                record_decision(scope, decision)
        _require_scope(scope, key)

        async def send_with_headers(message: Message) -> None:
            decision: RateDecision | None = scope["state"].get(_DECISION)
            if message["type"] == "http.response.start" and decision is not None:
                response_headers = MutableScopeHeaders.from_message(message)
                for name, value in _rate_headers(decision).items():
                    response_headers.setdefault(name, value)
            await send(message)

        try:
            await next_app(scope, receive, send_with_headers)
        finally:
            if deferred and _DECISION not in scope["state"]:
                # Refused before its reservation (a bad body, say): the token still counts.
                await self._limit(scope, limit)

    @staticmethod
    async def _limit(scope: Scope, limit: RateLimit) -> RateDecision | None:
        services = services_of(scope["litestar_app"].state)
        try:
            return await services.limiter.hit(limit.key, limit.per_second, limit.burst)
        except DependencyUnavailable:
            # Fail open for the limit only: money-moving POSTs still fail closed,
            # because their idempotency reservation needs Redis too.
            log.warning("rate_limit_unavailable", api_key_id=limit.key)
            return None


def _require_scope(scope: Scope, key: ApiKey) -> None:
    """The key must hold the scope named in the route's `opt["scope"]`.

    Checked here rather than by a Litestar guard: a synchronous guard is run on a
    worker thread, a hop that cost every request more than the check itself.
    """
    handler = scope.get("route_handler")
    needed = handler.opt.get("scope") if handler is not None else None
    if needed and needed not in key.scopes:
        raise PermissionDeniedException(f"this API key lacks the {needed!r} scope")
