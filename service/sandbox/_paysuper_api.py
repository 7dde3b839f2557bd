"""The PaySuper server-to-server API of the sandbox: ``POST /api/v1/order`` and ``/tokens``.

Each request is logged, then its ``X-API-SIGNATURE`` is checked against the raw body bytes,
then the body is decoded and validated; errors are ``{"message", "code"}``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request, Response, post

from ._paysuper_input import PaySuperError, decode_object
from ._paysuper_parse import parse_token
from ._paysuper_runtime import (
    PaySuperSandbox,
    error_response,
    json_response,
    request_path,
    sandbox_of,
)

AnyRequest = Request[Any, Any, Any]
Action = Callable[[PaySuperSandbox, dict[str, Any]], dict[str, Any]]


async def _serve(request: AnyRequest, action: Action) -> Response[Any]:
    sandbox = sandbox_of(request)
    body = await request.body()
    sandbox.log.record(request.method, request_path(request))
    try:
        sandbox.check_signature(request.headers.get("x-api-signature"), body)
        # Synchronous from here: no await between reading and writing the state.
        return json_response(action(sandbox, decode_object(body)))
    except PaySuperError as error:
        return error_response(error)


def _create_order(sandbox: PaySuperSandbox, payload: dict[str, Any]) -> dict[str, Any]:
    order = sandbox.state.create_api_order(payload)
    return {"id": order.id, "payment_form_url": f"{sandbox.public_url}/pay/{order.id}"}


def _create_token(sandbox: PaySuperSandbox, payload: dict[str, Any]) -> dict[str, Any]:
    token = sandbox.state.issue_token(parse_token(payload, sandbox.config.project_id))
    return {
        "token": token.value,
        "payment_form_url": f"{sandbox.public_url}/pay/token/{token.value}",
    }


@post("/api/v1/order")
async def create_order(request: AnyRequest) -> Response[Any]:
    """Create a payment order: 200 ``{id, payment_form_url}``."""
    return await _serve(request, _create_order)


@post("/api/v1/tokens")
async def create_token(request: AnyRequest) -> Response[Any]:
    """Create a customer token: 200 ``{token, payment_form_url}``."""
    return await _serve(request, _create_token)


API_ROUTES = (create_order, create_token)
