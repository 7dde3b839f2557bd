"""The /v1/payouts routes: OCT credits to a card."""

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import Body, JSONBody, PathParameter, SkipValidation

from service.api.convert import new_payout, payout_response
from service.api.deps import services_of
from service.api.docs import COMMON, MONEY, PAYOUT_TO_CARD, PAYOUT_TO_PAYMENT, problems
from service.api.idempotency import (
    IdempotencyKeyHeader,
    encode_payout,
    idempotent,
    payout_body,
)
from service.api.payments import strict_body
from service.api.schemas import CreatePayoutRequest, EmptyRequest, PayoutResponse
from service.domain.errors import FieldError, ValidationFailed
from service.domain.ports import ApiKey

AnyRequest = Request[Any, Any, Any]
PayoutId = Annotated[str, PathParameter(description="A payout id (po_…)", max_length=64)]


class PayoutController(Controller):
    path = "/payouts"
    tags = ["payouts"]
    opt = {"scope": "payouts:write"}

    @post(
        "/",
        operation_id="createPayout",
        summary="Send money to a card (OCT)",
        status_code=201,
        opt={"idempotent": True},
        responses=problems(*MONEY, "not_found", "invalid_state", "operation_not_supported"),
    )
    async def create(
        self,
        request: AnyRequest,
        data: Annotated[
            SkipValidation[CreatePayoutRequest], Body(examples=[PAYOUT_TO_PAYMENT, PAYOUT_TO_CARD])
        ],
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[PayoutResponse]:
        """Credit the card of a past payment, or a card number.

        The payout is its own resource (`po_…`) with its own ledger operation. A
        provider timeout leaves it `processing` until `POST /v1/payouts/{id}/sync`.
        """
        req = await strict_body(request, CreatePayoutRequest)
        if req is None:
            raise ValidationFailed("a JSON body is required", [FieldError("body", "required")])
        new = new_payout(req)
        api_key: ApiKey = request.scope["state"]["api_key"]
        payouts = services_of(request.app.state).payouts

        async def run() -> tuple[str, bytes]:
            return payout_body(await payouts.create(new, api_key.id))

        async def current(payout_id: str) -> bytes:
            return encode_payout(await payouts.get(payout_id))

        return await idempotent(  # type: ignore[return-value]
            request, idempotency_key, 201, run, current, encode_payout
        )

    @get(
        "/{payout_id:str}",
        operation_id="getPayout",
        summary="Get a payout with its operations",
        responses=problems(*COMMON, "not_found"),
    )
    async def retrieve(self, request: AnyRequest, payout_id: PayoutId) -> PayoutResponse:
        """One payout and its ledger operations."""
        return payout_response(await services_of(request.app.state).payouts.get(payout_id))

    @post(
        "/{payout_id:str}/sync",
        operation_id="syncPayout",
        summary="Settle a payout in doubt from the provider's state",
        status_code=200,
        responses=problems(
            *COMMON,
            "invalid_json",
            "payload_too_large",
            "not_found",
            "provider_error",
            "provider_unavailable",
            "provider_circuit_open",
        ),
    )
    async def sync(
        self,
        request: AnyRequest,
        payout_id: PayoutId,
        data: JSONBody[SkipValidation[EmptyRequest | None]] = None,
    ) -> PayoutResponse:
        """Resolve a `processing` payout from the provider's order; moves no money."""
        await strict_body(request, EmptyRequest)
        return payout_response(await services_of(request.app.state).payouts.sync(payout_id))
