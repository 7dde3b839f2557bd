"""The operators' view of payments in doubt (API key scope `ops`)."""

from datetime import timedelta
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.openapi.spec import Example
from litestar.params import Body, QueryParameter, SkipValidation

from service.api.convert import payment_response
from service.api.deps import services_of
from service.api.docs import COMMON, MONEY, problems
from service.api.idempotency import IdempotencyKeyHeader, payment_action
from service.api.ops_schemas import (
    ResolveRequest,
    StuckPaymentListResponse,
    StuckPaymentResponse,
)
from service.api.payments import PaymentId, strict_body
from service.api.schemas import PaymentResponse
from service.domain.attention import OperatorVerdict
from service.domain.errors import FieldError, ValidationFailed
from service.domain.payments import OperationStatus
from service.domain.ports import ApiKey
from service.orchestration.attention import StuckPayment

AnyRequest = Request[Any, Any, Any]

RESOLVE_SUCCEEDED = Example(
    summary="The provider shows it charged",
    value={
        "outcome": "succeeded",
        "reason": "Bizon back office: order 23014806643308174 charged 9.99 USD",
        "provider_reference": "23014806643308174",
    },
)
RESOLVE_FAILED = Example(
    summary="The provider has no such payment",
    value={"outcome": "failed", "reason": "No order for this payment at Proxy-Solutions"},
)


def _stuck(item: StuckPayment) -> StuckPaymentResponse:
    row = item.in_doubt
    p = row.payment
    shown = payment_response(p)
    return StuckPaymentResponse(
        id=p.id,
        status=p.status,
        provider=p.provider,
        provider_reference=p.provider_reference,
        amount=p.amount,
        currency=p.currency,
        amount_authorized=p.amount_authorized,
        amount_captured=p.amount_captured,
        amount_refunded=p.amount_refunded,
        age_seconds=int(item.age_seconds),
        reason=item.reason,
        attempts=row.attempts,
        last_error=row.last_error,
        needs_attention_since=row.marked_at,
        reconcile_strategy=item.strategy,
        pending_operations=[op for op in shown.operations if op.status is OperationStatus.PENDING],
        created_at=p.created_at,
        updated_at=p.updated_at,
    )


class OpsPaymentController(Controller):
    path = "/ops/payments"
    tags = ["operations"]

    @get(
        "/stuck",
        operation_id="listStuckPayments",
        summary="Payments in doubt: pending too long, or needing attention",
        opt={"scope": "ops"},
        responses=problems(*COMMON, "validation_error"),
    )
    async def stuck(
        self,
        request: AnyRequest,
        older_than_seconds: Annotated[
            int | None,
            QueryParameter(
                ge=0,
                le=31_536_000,
                description="Pending at least this long (default RECONCILE_AFTER_SECONDS)",
            ),
        ] = None,
        provider: Annotated[str | None, QueryParameter(max_length=64)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
        starting_after: Annotated[
            str | None,
            QueryParameter(max_length=64, description="next_cursor of the previous page"),
        ] = None,
    ) -> StuckPaymentListResponse:
        """Payments in doubt, newest first.

        Every payment with an operation pending longer than the threshold, and every
        payment the reconciler marked `needs_attention`. Each shows its age (since its
        oldest pending operation), why it is in doubt, the reconciler's attempts and
        last error, and how its provider is reconciled. Needs an API key with the
        `ops` scope.
        """
        older = None if older_than_seconds is None else timedelta(seconds=older_than_seconds)
        page, more = await services_of(request.app.state).attention.stuck(
            older_than=older, limit=limit, starting_after=starting_after, provider=provider
        )
        return StuckPaymentListResponse(
            data=[_stuck(item) for item in page],
            has_more=more,
            next_cursor=page[-1].in_doubt.payment.id if more and page else None,
        )

    @post(
        "/{payment_id:str}/resolve",
        operation_id="resolvePayment",
        summary="Settle a payment in doubt by hand, with a reason",
        status_code=200,
        opt={"scope": "ops", "idempotent": True},
        responses=problems(*MONEY, "not_found", "invalid_state"),
    )
    async def resolve(
        self,
        request: AnyRequest,
        payment_id: PaymentId,
        data: Annotated[
            SkipValidation[ResolveRequest], Body(examples=[RESOLVE_SUCCEEDED, RESOLVE_FAILED])
        ],
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[PaymentResponse]:
        """Record what an operator found at the provider for the pending operation(s).

        `outcome` resolves every pending operation (succeeded or failed); `reason` is
        mandatory and kept on each resolved operation with the operator's API key
        (`resolution_source: operator`). An automatic payment whose authorization
        succeeded is recorded as captured too. Refused (409 `invalid_state`) for a
        payment with nothing in doubt, and while a call may still be in flight.
        Idempotent: the same Idempotency-Key and body replays the answer. Needs an
        API key with the `ops` scope.
        """
        req = await strict_body(request, ResolveRequest)
        if req is None:
            raise ValidationFailed("a JSON body is required", [FieldError("body", "required")])
        if not req.reason.strip():
            raise ValidationFailed("the reason is empty", [FieldError("reason", "required")])
        api_key: ApiKey = request.scope["state"]["api_key"]
        verdict = OperatorVerdict(
            succeeded=req.outcome == "succeeded",
            reason=req.reason.strip(),
            actor=api_key.id,
            provider_reference=req.provider_reference,
            amount=req.amount,
        )
        attention = services_of(request.app.state).attention
        return await payment_action(  # type: ignore[return-value]
            request, idempotency_key, 200, lambda: attention.resolve(payment_id, verdict)
        )


__all__ = ["OpsPaymentController"]
