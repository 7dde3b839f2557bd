"""The Idempotency-Key header on money-moving POSTs, in front of the guard."""

import hashlib
import re
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import msgspec
from litestar import Request, Response
from litestar.openapi.spec import Example
from litestar.params import HeaderParameter

from service.api.convert import payment_response
from service.api.deps import services_of
from service.domain.errors import (
    FieldError,
    IdempotencyKeyMissing,
    InvalidJson,
    ValidationFailed,
)
from service.domain.payments import Payment
from service.domain.ports import ApiKey
from service.orchestration.idempotent import Executed, StoredResponse

_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
JSON = "application/json"

Action = Callable[[tuple[str, str]], Awaitable[Payment]]

# Declared as required for the OpenAPI document (so Swagger UI asks for it) but
# checked here, so that a missing key is our 400 `idempotency_key_missing`.
IdempotencyKeyHeader = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=True,
        description="Unique per money-moving request (1-255 visible ASCII characters); "
        "a retry with the same key and body replays the first response.",
        examples=[Example(value="3f1c8a52-9d0e-4c1b-8f7a-2b6d5e4c3a10")],
    ),
]


def fingerprint(method: str, path: str, body: bytes) -> str:
    """Same request, same fingerprint: whitespace and key order do not count."""
    canonical = b""
    if body.strip():
        try:
            canonical = msgspec.json.encode(msgspec.json.decode(body), order="sorted")
        except msgspec.DecodeError:
            raise InvalidJson("the request body is not valid JSON") from None
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), canonical):
        digest.update(part)
        digest.update(b"\0")
    return digest.hexdigest()


def _encode(payment: Payment) -> bytes:
    return msgspec.json.encode(payment_response(payment))


async def idempotent(
    request: Request[Any, Any, Any], key: str | None, status_code: int, action: Action
) -> Response[bytes]:
    """Run `action` once per (API key, Idempotency-Key); replay it afterwards."""
    if not key:
        raise IdempotencyKeyMissing("send an Idempotency-Key header with every money-moving POST")
    if not _KEY.match(key):
        raise ValidationFailed(
            "invalid Idempotency-Key",
            [FieldError("Idempotency-Key", "1 to 255 visible ASCII characters")],
        )
    services = services_of(request.app.state)
    api_key: ApiKey = request.scope["state"]["api_key"]
    body = await request.body()

    async def execute(scope: tuple[str, str]) -> Executed:
        payment = await action(scope)
        return Executed(status_code, _encode(payment), payment.id)

    async def current(resource_id: str) -> StoredResponse:
        return StoredResponse(200, _encode(await services.payments.get(resource_id)))

    stored = await services.idempotency.run(
        api_key.id, key, fingerprint(request.method, request.url.path, body), execute, current
    )
    headers = {"Idempotent-Replayed": "true"} if stored.replayed else None
    return Response(stored.body, status_code=stored.status, media_type=JSON, headers=headers)
