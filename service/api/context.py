"""The request context: X-Request-Id, structlog binding, the access log and HTTP metrics.

Litestar runs route middleware only for matched routes, so the context is made
lazily by whichever runs first (middleware, exception handler, or `before_send`
for a 404) and `before_send` stamps every response with the id.
"""

import re
import time
import uuid
from typing import Any

import structlog
from litestar.datastructures import MutableScopeHeaders
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from service.domain.errors import FieldError, ValidationFailed
from service.observability import observe_request

_VALID_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
_KEY = "request_context"
access_log = structlog.get_logger("access")


def _context(scope: Scope) -> dict[str, Any]:
    state: dict[str, Any] = scope.setdefault("state", {})
    ctx = state.get(_KEY)
    if ctx is None:
        given = ""
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                given = value.decode("latin-1")
                break
        ctx = {
            "id": given if _VALID_ID.match(given) else uuid.uuid4().hex,
            "started": time.perf_counter(),
        }
        state[_KEY] = ctx
    return ctx


def request_id_of(scope: Scope) -> str:
    return str(_context(scope)["id"])


def bind_to_request(scope: Scope, **values: Any) -> None:
    """Attach values (the API key id, say) to the access log line of this request."""
    _context(scope).update(values)
    structlog.contextvars.bind_contextvars(**values)


class RequestContextMiddleware(ASGIMiddleware):
    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        ctx = _context(scope)
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=ctx["id"])
        try:
            _refuse_nul(scope)
            await next_app(scope, receive, send)
        finally:
            structlog.contextvars.clear_contextvars()


def _refuse_nul(scope: Scope) -> None:
    """A NUL in the path or query is refused here: PostgreSQL's text cannot hold one."""
    if "\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b""):
        raise ValidationFailed(
            "the request is invalid", [FieldError("query", "must not contain NUL characters")]
        )


async def stamp_response(message: Message, scope: Scope) -> None:
    """before_send hook: X-Request-Id on every response, one access-log line each."""
    if message["type"] != "http.response.start":
        return
    ctx = _context(scope)
    headers = MutableScopeHeaders.from_message(message)
    headers["X-Request-Id"] = ctx["id"]
    seconds = time.perf_counter() - ctx["started"]
    method, status = str(scope.get("method") or ""), message["status"]
    # The route's template, never the raw path: a 404 would add a series per URL.
    route = scope.get("path_template") or "<unmatched>"
    observe_request(method, route, status, seconds)
    if route in ("/health/live", "/health/ready", "/metrics"):
        return
    access_log.info(
        "request",
        request_id=ctx["id"],
        method=method,
        path=scope.get("path"),
        status=status,
        duration_ms=round(seconds * 1000, 1),
        api_key_id=ctx.get("api_key_id"),
    )
