"""Plumbing shared by the Bizon sandbox's routes.

The per-app sandbox object, the API request pipeline (log, auth, faults, apply, late reply)
and the JSON error shape.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import unquote

from litestar import Request, Response
from litestar.exceptions import HTTPException

from ._bizon_cards import CardBehaviour
from ._bizon_faults import Fault, FaultBook, RequestLog
from ._bizon_input import SandboxError, decode_object
from ._bizon_model import Order
from ._bizon_state import BizonState
from ._bizon_views import order_view

if TYPE_CHECKING:
    from .bizon import BizonSandboxConfig

STATE_KEY = "bizon_sandbox"
_JSON = "application/json"
_NOT_API_PREFIXES = ("/_sandbox", "/pay/", "/acs/", "/acs20/", "/complete/secure3d")
_UNAUTHORIZED = SandboxError(401, "auth", "Missing or invalid Basic credentials")
_AUTH_CHALLENGE = {"WWW-Authenticate": 'Basic realm="bizon-sandbox"'}


class Sandbox:
    """Everything one sandbox app owns: its config, order book, request log and faults."""

    def __init__(self, config: BizonSandboxConfig, cards: Mapping[str, CardBehaviour]) -> None:
        self.config = config
        self.public_url = config.public_url.rstrip("/")
        self.state = BizonState(cards, self.public_url)
        self.log = RequestLog()
        self.faults = FaultBook()

    def reset(self) -> None:
        self.state.reset()
        self.log.clear()
        self.faults.clear()

    def authenticated(self, header: str | None) -> bool:
        scheme, _, encoded = (header or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        login, _, password = decoded.partition(":")
        login_ok = secrets.compare_digest(login.encode(), self.config.login.encode())
        password_ok = secrets.compare_digest(password.encode(), self.config.password.encode())
        return login_ok and password_ok

    def log_request(self, method: str, path: str, mid: object, order_id: str | None = None) -> None:
        if mid is None and order_id is not None:
            order = self.state.orders.get(order_id)
            mid = order.data.merchant_order_id if order is not None else None
        known = isinstance(mid, str | int) and not isinstance(mid, bool)
        self.log.record(method, path, str(mid) if known else None, order_id)


def sandbox_of(request: Request[Any, Any, Any]) -> Sandbox:
    """Return the sandbox object of the app serving ``request``."""
    return cast(Sandbox, request.app.state[STATE_KEY])


def request_path(request: Request[Any, Any, Any]) -> str:
    """The path as the client sent it (litestar's routing strips a trailing slash)."""
    raw = request.scope.get("raw_path")
    if not raw:
        return request.scope["path"]
    return unquote(raw.decode("latin-1").partition("?")[0])


def json_response(
    content: Any, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response[Any]:
    """Build a JSON response."""
    return Response(
        content, status_code=status_code, headers=headers, media_type="application/json"
    )


def error_response(error: SandboxError, headers: dict[str, str] | None = None) -> Response[Any]:
    """Render a ``SandboxError`` as ``{"failure_type", "failure_message"}``."""
    return json_response(error.body(), error.status_code, headers)


def orders_response(
    sandbox: Sandbox, order: Order, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response[Any]:
    """Render ``{"orders": [order]}`` in full."""
    html = sandbox.state.form3d_html(order) if order.form3d is not None else None
    return json_response({"orders": [order_view(order, html)]}, status_code, headers)


@dataclass(frozen=True, slots=True)
class Call:
    """What an API action gets: the decoded body, the query and the order id of the path."""

    payload: dict[str, Any]
    query: dict[str, str] = field(default_factory=dict)
    order_id: str | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """What an API action returns; ``slow`` asks for the slow card's late reply."""

    response: Response[Any]
    slow: bool = False


Action = Callable[[Sandbox, Call], Reply]


async def _fault_reply(fault: Fault) -> Response[Any]:
    if fault.delay_seconds:
        await asyncio.sleep(fault.delay_seconds)
    status = cast(int, fault.status)
    return error_response(SandboxError(status, "fault", f"Injected fault: HTTP {status}"))


def _apply(sandbox: Sandbox, action: Action, call: Call, problem: SandboxError | None) -> Reply:
    # Synchronous on purpose: no await between reading and writing an order's state.
    try:
        if problem is not None:
            raise problem
        return action(sandbox, call)
    except SandboxError as error:
        return Reply(error_response(error))


async def serve_api(
    request: Request[Any, Any, Any], action: Action, order_id: str | None = None
) -> Response[Any]:
    """Run one API request: log it, check Basic auth, honour faults, apply, reply."""
    sandbox = sandbox_of(request)
    method, path = request.method, request_path(request)
    body = await request.body()
    problem: SandboxError | None = None
    try:
        payload = decode_object(body)
    except SandboxError as error:
        payload, problem = {}, error
    query = dict(request.query_params.items())
    mid = payload.get("merchant_order_id") or query.get("merchant_order_id")
    sandbox.log_request(method, path, mid, order_id)
    if not sandbox.authenticated(request.headers.get("authorization")):
        return error_response(_UNAUTHORIZED, _AUTH_CHALLENGE)
    fault = sandbox.faults.take(method, path)
    if fault is not None and fault.status is not None and not fault.after_apply:
        return await _fault_reply(fault)  # the provider failed before processing anything
    reply = _apply(sandbox, action, Call(payload, query, order_id), problem)
    if fault is not None:
        if fault.status is not None:
            return await _fault_reply(fault)  # applied, then the provider failed anyway
        await asyncio.sleep(fault.delay_seconds)  # applied, then the reply was late
    if reply.slow:
        await asyncio.sleep(sandbox.config.slow_seconds)
    return reply.response


def http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """Give unknown routes, wrong methods and framework errors the sandbox's error shape."""
    method, path = request.method, request_path(request)
    status = exc.status_code
    if status == 404:
        error = SandboxError(404, "not_found", f"No route for {method} {path}")
    elif status == 405:
        error = SandboxError(405, "validation", f"Method {method} is not allowed on {path}")
    elif status < 500:
        error = SandboxError(status, "validation", str(exc.detail))
    else:
        error = SandboxError(status, "internal", "Internal sandbox error")
    if status in (404, 405) and not path.startswith(_NOT_API_PREFIXES):
        sandbox_of(request).log_request(method, path, request.query_params.get("merchant_order_id"))
    return error_response(error)


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Answer an unexpected exception with the error shape instead of an HTML 500."""
    return error_response(SandboxError(500, "internal", "Internal sandbox error"))
