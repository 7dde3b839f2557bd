"""Plumbing shared by the Send2Sell sandbox's routes.

The per-app sandbox object (config, account state, request log, faults), the Bearer token
check, JSON rendering (amounts as JSON numbers) and the exception handlers that give
unknown routes and wrong methods Laravel's ``{"message"}`` bodies.
"""

from __future__ import annotations

import hmac
import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import unquote

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException

from ._send2sell_faults import FaultBook, RequestLog
from ._send2sell_input import ApiError, parse_id
from ._send2sell_state import Send2SellState, money

if TYPE_CHECKING:
    from .send2sell import Send2SellSandboxConfig

AnyRequest = Request[Any, Any, Any]
STATE_KEY = "send2sell_sandbox"
CONTROL_PREFIX = "/_sandbox"
BILLING_METHODS = "PATCH"
NOT_FOUND = "Not Found"
UNAUTHENTICATED = ApiError(401, {"message": "Unauthenticated."})
_BILLING_PATH = re.compile(r"/api/order/([^/]*)/billing/?")
_ENCODER = msgspec.json.Encoder()


class Send2SellSandbox:
    """Everything one sandbox app owns."""

    def __init__(self, config: Send2SellSandboxConfig) -> None:
        self.config = config
        self.state = Send2SellState(Decimal(config.credits))
        self.log = RequestLog()
        self.faults = FaultBook()
        self._token = config.token.encode()

    def reset(self) -> None:
        self.state.reset()
        self.log.clear()
        self.faults.clear()

    def authorized(self, request: AnyRequest) -> bool:
        """``Authorization: Bearer <token>`` (scheme in any case) with the API user's token."""
        scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return False
        return hmac.compare_digest(token.encode(), self._token)

    def record(self, request: AnyRequest, order_id: int | None) -> bool:
        """Log a request (with whether it was authorized) and return that."""
        authorized = self.authorized(request)
        logged_id = order_id if order_id is not None and order_id >= 0 else None
        self.log.record(request.method, request_path(request), logged_id, authorized)
        return authorized


def sandbox_of(request: AnyRequest) -> Send2SellSandbox:
    """Return the sandbox object of the app serving ``request``."""
    return cast(Send2SellSandbox, request.app.state[STATE_KEY])


def request_path(request: AnyRequest) -> str:
    """The path as the client sent it (litestar's routing strips a trailing slash)."""
    raw = request.scope.get("raw_path")
    if not raw:
        return str(request.scope["path"])
    return unquote(raw.decode("latin-1").partition("?")[0])


def billing_segment(path: str) -> str | None:
    """The id segment of a billing path (``None`` for any other path)."""
    match = _BILLING_PATH.fullmatch(path)
    return None if match is None else match.group(1)


def plain(amount: Decimal) -> str:
    """An amount as the doc writes it: ``69``, ``74.69``, ``120.5`` (cents, half-up)."""
    value = money(amount)
    return "0" if value == 0 else format(value.normalize(), "f")


def number(amount: Decimal) -> msgspec.Raw:
    """An amount written as a JSON number."""
    return msgspec.Raw(plain(amount).encode())


def json_response(
    content: Any, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response[bytes]:
    """Encode ``content`` with msgspec (``number()`` values stay JSON numbers)."""
    return Response(
        _ENCODER.encode(content),
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )


def error_response(error: ApiError) -> Response[bytes]:
    return json_response(error.content, error.status_code, error.headers)


def method_not_allowed(method: str, allowed: str) -> ApiError:
    """Laravel's 405, with the ``Allow`` header."""
    text = f"The {method} method is not supported for this route. Supported methods: {allowed}."
    return ApiError(405, {"message": text}, {"allow": allowed})


def _allowed(exc: HTTPException, path: str) -> str:
    if billing_segment(path) is not None:
        return BILLING_METHODS
    listed = (exc.headers or {}).get("allow", "")
    methods = sorted(m.strip() for m in listed.split(",") if m.strip() not in ("", "OPTIONS"))
    return ", ".join(methods)


def _routing_error(exc: HTTPException, method: str, path: str) -> ApiError:
    segment = billing_segment(path)
    status = exc.status_code
    if status == 405 and segment is not None and parse_id(segment) is None:
        status = 404  # Laravel's route constraint: a non-integer id matches no route
    if status == 404:
        return ApiError(404, {"message": NOT_FOUND})
    if status == 405:
        return method_not_allowed(method, _allowed(exc, path))
    if status < 500:
        return ApiError(status, {"message": str(exc.detail)})
    return ApiError(status, {"message": "Server Error"})


def http_exception_handler(request: AnyRequest, exc: HTTPException) -> Response[bytes]:
    """Give unknown routes, wrong methods and framework errors a ``{"message"}`` body."""
    method, path = request.method, request_path(request)
    error = _routing_error(exc, method, path)
    if not path.startswith(CONTROL_PREFIX):
        segment = billing_segment(path)
        sandbox_of(request).record(request, None if segment is None else parse_id(segment))
    return error_response(error)


def internal_error_handler(request: AnyRequest, exc: Exception) -> Response[bytes]:
    """Answer an unexpected exception with ``{"message"}`` instead of an HTML 500."""
    return json_response({"message": "Server Error"}, 500)
