"""RFC 9457 problem+json for every error, from one table of stable codes.

Domain and connector errors carry a `code`; the HTTP status comes from here.
Litestar's own exceptions (malformed JSON, validation, unknown routes and
methods) are mapped to the same shape. Unexpected exceptions become a 500
`internal_error` with no stack trace or exception text in the body.
"""

import math
import re
from http import HTTPStatus
from typing import Any

import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import (
    ClientException,
    HTTPException,
    MethodNotAllowedException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    SerializationException,
    ValidationException,
)

from service.api.context import request_id_of
from service.api.schemas import FieldErrorResponse, Problem
from service.domain.errors import (
    ConnectorError,
    ConnectorMisconfigured,
    DomainError,
    FieldError,
    ProviderCircuitOpen,
    ProviderInputRefused,
)

log = structlog.get_logger("api")

PROBLEM_JSON = "application/problem+json"

STATUS_BY_CODE: dict[str, int] = {
    "invalid_json": 400,
    "invalid_request": 400,
    "idempotency_key_missing": 400,
    "unauthorized": 401,
    "invalid_signature": 401,
    "forbidden": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "idempotency_key_in_use": 409,
    "invalid_state": 409,
    "payload_too_large": 413,
    "unsupported_media_type": 415,
    "validation_error": 422,
    "idempotency_key_reused": 422,
    "amount_exceeds_capturable": 422,
    "amount_exceeds_refundable": 422,
    "operation_not_supported": 422,
    "provider_order_not_found": 422,
    "provider_service_not_found": 422,
    "provider_validation_error": 422,
    "rate_limited": 429,
    "internal_error": 500,
    "provider_error": 502,
    "provider_misconfigured": 502,
    "provider_protocol_error": 502,
    "provider_outcome_unknown": 502,
    "provider_unavailable": 503,
    "provider_circuit_open": 503,
    "dependency_unavailable": 503,
    "webhook_in_progress": 503,
    "ledger_inconsistent": 500,
}

_CHILD = re.compile(r"(?:required|unknown) field `([^`]+)`")
_AT_PATH = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)


def problem(
    code: str,
    detail: str,
    request_id: str,
    errors: list[FieldError] | None = None,
    status: int | None = None,
) -> Problem:
    status = status or STATUS_BY_CODE.get(code, 500)
    return Problem(
        type=f"/problems/{code}",
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        code=code,
        request_id=request_id,
        errors=[FieldErrorResponse(e.field, e.message) for e in errors or []],
    )


def problem_response(p: Problem, headers: dict[str, str] | None = None) -> Response[bytes]:
    return Response(
        content=msgspec.json.encode(p),
        status_code=p.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def field_error_from_message(message: str, default_field: str = "body") -> FieldError:
    """Split msgspec's "Expected `int`, got `str` - at `$.amount`" into field and message."""
    match = _AT_PATH.match(message)
    assert match is not None  # the pattern matches any string
    path = (match.group("path") or "").lstrip(".")
    path = re.sub(r"\[(\d+)\]", r".\1", path)
    text = match.group("message")
    # "Object missing required field `cur`" and "unknown field `zz`" name a child.
    child = _CHILD.search(text)
    if child:
        path = f"{path}.{child.group(1)}" if path else child.group(1)
    return FieldError(path or default_field, text)


def _validation_errors(exc: ValidationException) -> list[FieldError]:
    errors = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if not isinstance(item, dict):
            continue
        message = str(item.get("message", "invalid"))
        key = str(item.get("key", ""))
        source = item.get("source")
        default = "body" if key in ("data", "") or source == "body" else key
        errors.append(field_error_from_message(message, default))
    return errors


def _from_http_exception(exc: HTTPException) -> tuple[str, str, list[FieldError]]:
    if isinstance(exc, ValidationException):
        return "validation_error", "the request is invalid", _validation_errors(exc)
    if isinstance(exc, NotFoundException):
        return "not_found", "no such resource or route", []
    if isinstance(exc, MethodNotAllowedException):
        return "method_not_allowed", "this method is not allowed on this route", []
    if isinstance(exc, NotAuthorizedException):
        return "unauthorized", exc.detail or "a valid API key is required", []
    if isinstance(exc, PermissionDeniedException):
        return "forbidden", exc.detail or "the API key lacks the scope", []
    if exc.status_code == 413:
        return "payload_too_large", "the request body is too large", []
    if exc.status_code == 415:
        return "unsupported_media_type", "send application/json", []
    if exc.status_code == 429:
        return "rate_limited", exc.detail or "too many requests", []
    if isinstance(exc, ClientException) and isinstance(exc.__cause__, SerializationException):
        return "invalid_json", "the request body is not valid JSON", []
    if 400 <= exc.status_code < 500:
        return "invalid_request", exc.detail or HTTPStatus(exc.status_code).phrase, []
    return "internal_error", "the server failed to handle the request", []


def handle_exception(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    """The one exception handler: every error leaves as a problem."""
    rid = request_id_of(request.scope)
    status: int | None = None
    if isinstance(exc, DomainError):
        code, detail, errors = exc.code, exc.detail, exc.errors
    elif isinstance(exc, ConnectorError):
        code, detail, errors = exc.code, _connector_detail(exc), []
        if isinstance(exc, ProviderInputRefused):
            errors = [FieldError("provider", message) for message in exc.messages]
        if isinstance(exc, ConnectorMisconfigured):
            # Our credentials or settings are wrong: no caller can fix this, operators must.
            log.error(
                "provider_misconfigured", alert=True, provider=exc.provider, detail=exc.detail
            )
        else:
            log.warning("provider_problem", code=code, provider=exc.provider, detail=exc.detail)
    elif isinstance(exc, HTTPException):
        code, detail, errors = _from_http_exception(exc)
        status = exc.status_code if code == "invalid_request" else None  # any other 4xx
    else:
        log.error("unhandled_exception", exc_info=exc, path=request.url.path)
        code, detail, errors = "internal_error", "the server failed to handle the request", []
    headers = getattr(exc, "headers", None) if isinstance(exc, HTTPException) else None
    if isinstance(exc, ProviderCircuitOpen):
        headers = {"Retry-After": str(math.ceil(exc.retry_after_seconds))}
    return problem_response(problem(code, detail, rid, errors, status), headers)


def _connector_detail(exc: ConnectorError) -> str:
    if exc.code == "provider_unavailable":
        return f"{exc.provider} could not be reached; nothing was sent, it is safe to retry"
    if isinstance(exc, ProviderCircuitOpen):
        return (
            f"{exc.provider} is failing, so its circuit is open; nothing was sent, "
            f"retry in {math.ceil(exc.retry_after_seconds)} s"
        )
    if exc.code == "provider_misconfigured":
        return f"{exc.provider} refused this service's credentials; operators have been alerted"
    if exc.code == "operation_not_supported":
        return exc.detail
    if exc.code in ("provider_order_not_found", "provider_service_not_found"):
        return f"{exc.provider} has no such {exc.code.split('_')[1]}: {exc.detail}"
    if exc.code == "provider_validation_error":
        return f"{exc.provider} refused the request; its messages are in errors"
    return f"{exc.provider} refused the request: {exc.detail}"
