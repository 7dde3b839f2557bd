"""Plumbing shared by the PaySuper sandbox's routes.

The per-app sandbox object (config, order book, request log, webhooks), the signature check,
the JSON error shape and the exception handlers.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import deque
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import unquote

from litestar import Request, Response
from litestar.exceptions import HTTPException

from ._paysuper_input import PaySuperError
from ._paysuper_model import Order
from ._paysuper_state import PaySuperState
from ._paysuper_view import event_object
from ._paysuper_webhooks import DeliveryOptions, Event, WebhookDispatcher

if TYPE_CHECKING:
    from .paysuper import PaySuperSandboxConfig

STATE_KEY = "paysuper_sandbox"
API_PREFIX = "/api/"
REQUEST_LOG_LIMIT = 100_000  # long benchmark runs keep the newest entries only


class RequestLog:
    """Every API request received (``/api/...``), oldest first."""

    def __init__(self) -> None:
        self._entries: deque[dict[str, str]] = deque(maxlen=REQUEST_LOG_LIMIT)

    def record(self, method: str, path: str) -> None:
        at = datetime.now(UTC).isoformat(timespec="microseconds")
        self._entries.append({"method": method, "path": path, "at": at})

    def entries(self) -> list[dict[str, str]]:
        return list(self._entries)

    def clear(self) -> None:
        self._entries.clear()


class PaySuperSandbox:
    """Everything one sandbox app owns."""

    def __init__(self, config: PaySuperSandboxConfig) -> None:
        self.config = config
        self.public_url = config.public_url.rstrip("/")
        self.state = PaySuperState(config.project_id, self.public_url)
        self.log = RequestLog()
        self.webhooks = WebhookDispatcher(
            config.webhook_url, config.secret_key, config.webhook_retry_delays
        )

    def reset(self) -> None:
        self.state.reset()
        self.log.clear()
        self.webhooks.reset()

    def check_signature(self, header: str | None, body: bytes) -> None:
        """Check ``X-API-SIGNATURE`` against the raw body (400 missing, 401 wrong)."""
        given = (header or "").strip()
        if not given:
            raise PaySuperError(400, "signature_required", "X-API-SIGNATURE header is required")
        secret = self.config.secret_key.encode()
        if self.config.signature_mode == "secret":
            expected = secret
        else:
            expected = hashlib.sha512(body + secret).hexdigest().encode()
        if not hmac.compare_digest(given.encode(), expected):
            raise PaySuperError(401, "signature_invalid", "X-API-SIGNATURE header is invalid")

    def emit(
        self,
        event: str,
        order: Order,
        options: DeliveryOptions | None = None,
        overrides: tuple[Decimal | None, str | None] = (None, None),
    ) -> Event:
        """Record the notification of ``event`` for ``order`` as it is now, and send it."""
        snapshot = event_object(order, event, *overrides)
        return self.webhooks.emit(event, order.id, snapshot, options or DeliveryOptions())


def sandbox_of(request: Request[Any, Any, Any]) -> PaySuperSandbox:
    """Return the sandbox object of the app serving ``request``."""
    return cast(PaySuperSandbox, request.app.state[STATE_KEY])


def request_path(request: Request[Any, Any, Any]) -> str:
    """The path as the client sent it (litestar's routing strips a trailing slash)."""
    raw = request.scope.get("raw_path")
    if not raw:
        return request.scope["path"]
    return unquote(raw.decode("latin-1").partition("?")[0])


def json_response(content: Any, status_code: int = 200) -> Response[Any]:
    """Build a JSON response."""
    return Response(content, status_code=status_code, media_type="application/json")


def error_response(error: PaySuperError) -> Response[Any]:
    """Render a ``PaySuperError`` as ``{"message", "code"}``."""
    return json_response(error.body(), error.status_code)


def http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """Give unknown routes, wrong methods and framework errors PaySuper's error shape."""
    method, path = request.method, request_path(request)
    status = exc.status_code
    if status == 404:
        error = PaySuperError(404, "not_found", f"No route for {method} {path}")
    elif status == 405:
        error = PaySuperError(405, "method_not_allowed", f"Method {method} is not allowed")
    elif status < 500:
        error = PaySuperError(status, "bad_request", str(exc.detail))
    else:
        error = PaySuperError(status, "internal_error", "Internal sandbox error")
    if path.startswith(API_PREFIX):
        sandbox_of(request).log.record(method, path)
    return error_response(error)


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Answer an unexpected exception with the error shape instead of an HTML 500."""
    return error_response(PaySuperError(500, "internal_error", "Internal sandbox error"))
