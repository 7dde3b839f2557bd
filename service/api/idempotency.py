"""The Idempotency-Key header on money-moving POSTs, in front of the guard."""

import hashlib
import re
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import msgspec
from litestar import Request, Response
from litestar.openapi.spec import Example
from litestar.params import HeaderParameter

from service.api.convert import payment_response, payout_response
from service.api.deps import services_of
from service.api.security import deferred_limit, record_decision, too_many_requests
from service.domain.errors import (
    FieldError,
    IdempotencyKeyMissing,
    InvalidJson,
    RateLimitExceeded,
    ValidationFailed,
)
from service.domain.payments import Payment
from service.domain.payouts import Payout
from service.domain.ports import ApiKey, RateDecision
from service.orchestration.idempotent import Executed, StoredResponse, current_request

_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
JSON = "application/json"

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


Run = Callable[[], Awaitable[tuple[str, bytes]]]
Current = Callable[[str], Awaitable[bytes]]
Encode = Callable[[Any], bytes]


async def idempotent(
    request: Request[Any, Any, Any],
    key: str | None,
    status_code: int,
    run: Run,
    current: Current,
    encode: Encode,
) -> Response[bytes]:
    """Run `run` once per (API key, Idempotency-Key); replay its response afterwards.

    `run` returns the created or changed resource's id and its encoded body;
    `current` encodes a resource by id (for a retry whose first holder died);
    `encode` encodes a resource, so the ledger can store the response with the
    request's last write. The rate-limit token is taken in the same Redis call as
    the key's reservation (the API key middleware leaves it to us).
    """
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

    async def execute() -> Executed:
        resource_id, encoded = await run()
        return Executed(status_code, encoded, resource_id)

    async def replay(resource_id: str) -> StoredResponse:
        return StoredResponse(200, await current(resource_id))

    try:
        stored = await services.idempotency.run(
            api_key.id,
            key,
            fingerprint(request.method, request.url.path, body),
            execute,
            replay,
            render=lambda resource: (status_code, encode(resource)),
            limit=deferred_limit(request.scope),
            on_rate=lambda decision: record_decision(request.scope, decision),
        )
    except RateLimitExceeded as exc:
        decision = exc.decision
        if not isinstance(decision, RateDecision):  # pragma: no cover - set by the guard
            raise
        raise too_many_requests(decision) from None
    headers = {"Idempotent-Replayed": "true"} if stored.replayed else None
    return Response(stored.body, status_code=stored.status, media_type=JSON, headers=headers)


def encode_payment(payment: Payment) -> bytes:
    return msgspec.json.encode(payment_response(payment))


def encode_payout(payout: Payout) -> bytes:
    return msgspec.json.encode(payout_response(payout))


def _body(resource: Any, encode: Encode) -> bytes:
    """The resource's body: the one its last ledger write stored, if it is that object."""
    request = current_request()
    stored = request.rendered(resource) if request is not None else None
    return stored if stored is not None else encode(resource)


def payment_body(payment: Payment) -> tuple[str, bytes]:
    return payment.id, _body(payment, encode_payment)


def payout_body(payout: Payout) -> tuple[str, bytes]:
    return payout.id, _body(payout, encode_payout)


PaymentAction = Callable[[], Awaitable[Payment]]


async def payment_action(
    request: Request[Any, Any, Any], key: str | None, status_code: int, action: PaymentAction
) -> Response[bytes]:
    """`idempotent` for an action whose result is a payment."""
    payments = services_of(request.app.state).payments

    async def run() -> tuple[str, bytes]:
        return payment_body(await action())

    async def current(payment_id: str) -> bytes:
        return encode_payment(await payments.get(payment_id))

    return await idempotent(request, key, status_code, run, current, encode_payment)
