"""Inbound provider notifications, and the operators' view of them.

`POST /v1/webhooks/{provider}` is called by the provider, not by an API key
holder: it is authenticated by the provider's signature instead, and answers
200 with an empty body as providers expect.
"""

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import PathParameter, QueryParameter

from service.api.deps import services_of
from service.api.docs import COMMON, problems
from service.api.schemas import WebhookEventListResponse, WebhookEventResponse
from service.domain.webhooks import WebhookRecord, WebhookStatus

AnyRequest = Request[Any, Any, Any]
WEBHOOK_MAX_BODY = 1024 * 1024


class WebhookController(Controller):
    path = "/webhooks"
    tags = ["webhooks"]

    @post(
        "/{provider:str}",
        operation_id="receiveWebhook",
        summary="A provider's signed notification",
        status_code=200,
        request_max_body_size=WEBHOOK_MAX_BODY,
        security=[],
        responses=problems(
            "invalid_request",
            "invalid_signature",
            "payload_too_large",
            "not_found",
            "validation_error",
            "webhook_in_progress",
        ),
    )
    async def receive(
        self,
        request: AnyRequest,
        provider: Annotated[str, PathParameter(max_length=64, description="e.g. paysuper")],
    ) -> Response[bytes]:
        """Verify the signature, store the event, apply it once to the ledger.

        A redelivery is acknowledged and changes nothing. An event for an unknown
        order, or one that disagrees with the ledger, is acknowledged and kept for
        operators (`GET /v1/ops/webhook-events`). A bad signature is refused (401)
        and nothing is stored.
        """
        body = await request.body()
        headers = dict(request.headers)
        await services_of(request.app.state).webhooks.receive(provider, headers, body)
        return Response(b"", status_code=200, media_type="text/plain")


def _event(record: WebhookRecord) -> WebhookEventResponse:
    try:
        payload: Any = msgspec.json.decode(record.payload)
    except msgspec.DecodeError:
        payload = record.payload.decode("utf-8", "replace")
    return WebhookEventResponse(
        id=record.id,
        provider=record.provider,
        event_id=record.event_id,
        event_type=record.event_type,
        status=record.status,
        payment_id=record.payment_id,
        detail=record.detail,
        received_at=record.received_at,
        processed_at=record.processed_at,
        payload=payload,
    )


class OpsWebhookController(Controller):
    path = "/ops/webhook-events"
    tags = ["operations"]

    @get(
        "/",
        operation_id="listWebhookEvents",
        summary="Stored notifications, e.g. the unmatched and mismatched ones",
        opt={"scope": "ops"},
        responses=problems(*COMMON, "validation_error"),
    )
    async def list_events(
        self,
        request: AnyRequest,
        status: Annotated[WebhookStatus | None, QueryParameter()] = None,
        provider: Annotated[str | None, QueryParameter(max_length=64)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> WebhookEventListResponse:
        """Newest first; `status=mismatch` or `unmatched` lists what needs a person."""
        ledger_rows = await services_of(request.app.state).webhooks.list_events(
            status, provider, limit
        )
        return WebhookEventListResponse(data=[_event(r) for r in ledger_rows])
