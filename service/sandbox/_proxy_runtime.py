"""Plumbing shared by the Proxy-Solutions sandbox's routes.

The per-app sandbox object (config, account state, request log), the optional API key
check, JSON rendering (amounts as JSON numbers) and the exception handlers.
"""

from __future__ import annotations

import hmac
from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import unquote

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException

from ._proxy_catalogue import plain
from ._proxy_input import ProxyError
from ._proxy_state import ProxyState, iso, now

if TYPE_CHECKING:
    from .proxy_solutions import ProxySolutionsSandboxConfig

AnyRequest = Request[Any, Any, Any]
STATE_KEY = "proxy_solutions_sandbox"
API_PREFIX = "/api/"
REQUEST_LOG_LIMIT = 100_000  # long runs keep the newest entries only
UNAUTHENTICATED = ProxyError(401, {"message": "Unauthenticated."})
_ENCODER = msgspec.json.Encoder()


@dataclass(frozen=True, slots=True)
class KeyCheck:
    """What the request's API key header said: absent, or present and (in)valid."""

    present: bool
    valid: bool | None

    @property
    def authenticated(self) -> bool:
        return self.valid is True

    def require_not_wrong(self) -> None:
        """Refuse a key that is present but wrong (401)."""
        if self.valid is False:
            raise UNAUTHENTICATED


class RequestLog:
    """Every API request received (``/api/...``), oldest first."""

    def __init__(self) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=REQUEST_LOG_LIMIT)

    def record(self, method: str, path: str, key: KeyCheck) -> None:
        self._entries.append(
            {
                "method": method,
                "path": path,
                "at": iso(now()),
                "api_key_present": key.present,
                "api_key_valid": key.valid,
            }
        )

    def entries(self) -> list[dict[str, Any]]:
        return list(self._entries)

    def clear(self) -> None:
        self._entries.clear()


class ProxySandbox:
    """Everything one sandbox app owns."""

    def __init__(self, config: ProxySolutionsSandboxConfig) -> None:
        self.config = config
        self.public_url = config.public_url.rstrip("/")
        self.state = ProxyState(Decimal(config.balance), self.public_url)
        self.log = RequestLog()
        self._header = config.api_key_header.lower()
        self._key = config.api_key.encode()

    def reset(self) -> None:
        self.state.reset()
        self.log.clear()

    def check_key(self, request: AnyRequest) -> KeyCheck:
        """Read the API key header: a missing or blank one is absent."""
        given = request.headers.get(self._header, "").strip()
        if not given:
            return KeyCheck(present=False, valid=None)
        return KeyCheck(present=True, valid=hmac.compare_digest(given.encode(), self._key))

    def record(self, request: AnyRequest) -> KeyCheck:
        """Log an API request (with what its key said) and return the key check."""
        key = self.check_key(request)
        self.log.record(request.method, request_path(request), key)
        return key


def sandbox_of(request: AnyRequest) -> ProxySandbox:
    """Return the sandbox object of the app serving ``request``."""
    return cast(ProxySandbox, request.app.state[STATE_KEY])


def request_path(request: AnyRequest) -> str:
    """The path as the client sent it (litestar's routing strips a trailing slash)."""
    raw = request.scope.get("raw_path")
    if not raw:
        return str(request.scope["path"])
    return unquote(raw.decode("latin-1").partition("?")[0])


def number(amount: Decimal) -> msgspec.Raw:
    """An amount written as a JSON number (``10.8``, ``1500``, ``0.00018``)."""
    return msgspec.Raw(plain(amount).encode())


def json_response(content: Any, status_code: int = 200) -> Response[bytes]:
    """Encode ``content`` with msgspec (``number()`` values stay JSON numbers)."""
    return Response(
        _ENCODER.encode(content), status_code=status_code, media_type="application/json"
    )


def error_response(error: ProxyError) -> Response[bytes]:
    """Render a ``ProxyError``: a list of messages (422) or ``{"message"}``."""
    return json_response(error.content, error.status_code)


def http_exception_handler(request: AnyRequest, exc: HTTPException) -> Response[bytes]:
    """Give unknown routes, wrong methods and framework errors a ``{"message"}`` body."""
    method, path = request.method, request_path(request)
    status = exc.status_code
    if status == 404:
        text = f"The route {path.lstrip('/')} could not be found."
    elif status == 405:
        text = f"The {method} method is not supported for route {path.lstrip('/')}."
    elif status < 500:
        text = str(exc.detail)
    else:
        text = "Server Error"
    if path.startswith(API_PREFIX):
        sandbox_of(request).record(request)
    return json_response({"message": text}, status)


def internal_error_handler(request: AnyRequest, exc: Exception) -> Response[bytes]:
    """Answer an unexpected exception with ``{"message"}`` instead of an HTML 500."""
    return json_response({"message": "Server Error"}, 500)
