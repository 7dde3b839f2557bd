"""The /v1/payments routes."""

from datetime import datetime
from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import Body, FromQuery, JSONBody, PathParameter, QueryParameter, SkipValidation

from service.api.convert import new_payment, new_rebill, payment_response
from service.api.deps import services_of
from service.api.docs import (
    CAPTURE,
    CARD_PAYMENT,
    COMMON,
    CRES,
    HOSTED_PAYMENT,
    MONEY,
    PARES,
    REBILL,
    REFUND,
    RESUME,
    VENDOR_BALANCE,
    WALLET_PAYMENT,
    problems,
)
from service.api.errors import field_error_from_message
from service.api.idempotency import IdempotencyKeyHeader, payment_action
from service.api.schemas import (
    AuthenticateRequest,
    CaptureRequest,
    CreatePaymentRequest,
    EmptyRequest,
    PaymentListResponse,
    PaymentResponse,
    RebillRequest,
    RefundRequest,
)
from service.domain.errors import FieldError, ValidationFailed
from service.domain.payments import Authentication, Payment, PaymentStatus
from service.domain.ports import ApiKey, PaymentFilter

T = TypeVar("T")
AnyRequest = Request[Any, Any, Any]
PaymentId = Annotated[str, PathParameter(description="A payment id (pay_…)", max_length=64)]


async def strict_body(request: AnyRequest, kind: type[T]) -> T | None:
    """Decode the body strictly: Litestar's lax parsing would turn "1" into 1.

    No body and a JSON `null` are both "no body" (the schema says `X | null`); the
    handler decides whether that will do.
    """
    raw = await request.body()
    if not raw.strip():
        return None
    if b"\\u0000" in raw:  # valid JSON, but no PostgreSQL text or jsonb can hold it
        raise ValidationFailed(
            "the request is invalid", [FieldError("body", "must not contain NUL characters")]
        )
    try:
        return msgspec.json.decode(raw, type=kind | None)
    except msgspec.ValidationError as exc:
        raise ValidationFailed(
            "the request is invalid", [field_error_from_message(str(exc))]
        ) from None


class PaymentController(Controller):
    path = "/payments"
    tags = ["payments"]

    @post(
        "/",
        operation_id="createPayment",
        summary="Create and confirm a payment",
        status_code=201,
        opt={"scope": "payments:write", "idempotent": True},
        responses=problems(*MONEY, "provider_order_not_found", "provider_validation_error"),
    )
    async def create(
        self,
        request: AnyRequest,
        data: Annotated[
            SkipValidation[CreatePaymentRequest],
            Body(examples=[CARD_PAYMENT, HOSTED_PAYMENT, WALLET_PAYMENT, VENDOR_BALANCE]),
        ],
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[PaymentResponse]:
        """Authorize a card, charge it at once, or open a hosted payment page.

        `capture: "manual"` authorizes only; `"automatic"` charges at once; a
        `hosted_page` payment answers `requires_action` with a `next_action` redirect.
        A decline is not an HTTP error: the payment is created with status `failed`
        and a `failure`. A provider timeout leaves it `processing` until synced.
        """
        api_key: ApiKey = request.scope["state"]["api_key"]
        payments = services_of(request.app.state).payments

        async def create() -> Payment:
            # Decoded and checked only once the key is ours: a replay answers without
            # either. (`data` documents the body; SkipValidation leaves decoding to us.)
            req = await strict_body(request, CreatePaymentRequest)
            if req is None:
                raise ValidationFailed("a JSON body is required", [FieldError("body", "required")])
            return await payments.create(new_payment(req), api_key.id)

        return await payment_action(  # type: ignore[return-value]
            request, idempotency_key, 201, create
        )

    @get(
        "/{payment_id:str}",
        operation_id="getPayment",
        summary="Get a payment with its operations",
        opt={"scope": "payments:read"},
        responses=problems(*COMMON, "not_found"),
    )
    async def retrieve(self, request: AnyRequest, payment_id: PaymentId) -> PaymentResponse:
        """One payment and its ledger operations, oldest first."""
        payment = await services_of(request.app.state).payments.get(payment_id)
        return payment_response(payment)

    @get(
        "/",
        operation_id="listPayments",
        summary="List payments, newest first",
        opt={"scope": "payments:read"},
        responses=problems(*COMMON, "validation_error"),
    )
    async def list_payments(
        self,
        request: AnyRequest,
        status: FromQuery[PaymentStatus | None] = None,
        provider: Annotated[str | None, QueryParameter(max_length=64)] = None,
        merchant_reference: Annotated[str | None, QueryParameter(max_length=255)] = None,
        created_gte: Annotated[datetime | None, QueryParameter(description="ISO 8601")] = None,
        created_lt: Annotated[datetime | None, QueryParameter(description="ISO 8601")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
        starting_after: Annotated[
            str | None,
            QueryParameter(max_length=64, description="next_cursor of the previous page"),
        ] = None,
    ) -> PaymentListResponse:
        """Filter by status, provider, merchant_reference and a created range.

        Page with `starting_after` set to the previous page's `next_cursor`.
        """
        where = PaymentFilter(status, provider, merchant_reference, created_gte, created_lt)
        services = services_of(request.app.state)
        rows, more = await services.payments.list_payments(where, limit, starting_after)
        return PaymentListResponse(
            data=[payment_response(p) for p in rows],
            has_more=more,
            next_cursor=rows[-1].id if more and rows else None,
        )

    @post(
        "/{payment_id:str}/capture",
        operation_id="capturePayment",
        summary="Capture an authorization, in full or in part",
        status_code=200,
        opt={"scope": "payments:write", "idempotent": True},
        responses=problems(*MONEY, "not_found", "invalid_state", "amount_exceeds_capturable"),
    )
    async def capture(
        self,
        request: AnyRequest,
        payment_id: PaymentId,
        data: Annotated[SkipValidation[CaptureRequest | None], Body(examples=[CAPTURE])] = None,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[PaymentResponse]:
        """Capture `amount` (default: all of it).

        One capture per payment; a partial capture releases the rest of the authorization.
        """
        req = await strict_body(request, CaptureRequest) or CaptureRequest()
        payments = services_of(request.app.state).payments
        return await payment_action(  # type: ignore[return-value]
            request, idempotency_key, 200, lambda: payments.capture(payment_id, req.amount)
        )

    @post(
        "/{payment_id:str}/void",
        operation_id="voidPayment",
        summary="Release an authorization",
        status_code=200,
        opt={"scope": "payments:write", "idempotent": True},
        responses=problems(*MONEY, "not_found", "invalid_state"),
    )
    async def void(
        self,
        request: AnyRequest,
        payment_id: PaymentId,
        data: JSONBody[SkipValidation[EmptyRequest | None]] = None,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[PaymentResponse]:
        """Void an authorized, uncaptured payment."""
        await strict_body(request, EmptyRequest)
        payments = services_of(request.app.state).payments
        return await payment_action(  # type: ignore[return-value]
            request, idempotency_key, 200, lambda: payments.void(payment_id)
        )

    @post(
        "/{payment_id:str}/refunds",
        operation_id="refundPayment",
        summary="Refund a captured payment, in full or in part",
        status_code=200,
        opt={"scope": "payments:write", "idempotent": True},
        responses=problems(*MONEY, "not_found", "invalid_state", "amount_exceeds_refundable"),
    )
    async def refund(
        self,
        request: AnyRequest,
        payment_id: PaymentId,
        data: Annotated[SkipValidation[RefundRequest | None], Body(examples=[REFUND])] = None,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[PaymentResponse]:
        """Refund `amount` (default: all that is left).

        Several refunds are allowed; together they never exceed what was captured.
        """
        req = await strict_body(request, RefundRequest) or RefundRequest()
        payments = services_of(request.app.state).payments
        return await payment_action(  # type: ignore[return-value]
            request,
            idempotency_key,
            200,
            lambda: payments.refund(payment_id, req.amount, req.reason),
        )

    @post(
        "/{payment_id:str}/cancel",
        operation_id="cancelPayment",
        summary="Void or refund, whichever the state calls for",
        status_code=200,
        opt={"scope": "payments:write", "idempotent": True},
        responses=problems(*MONEY, "not_found", "invalid_state"),
    )
    async def cancel(
        self,
        request: AnyRequest,
        payment_id: PaymentId,
        data: JSONBody[SkipValidation[EmptyRequest | None]] = None,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[PaymentResponse]:
        """Void an authorized payment, or refund all that is left of a captured one."""
        await strict_body(request, EmptyRequest)
        payments = services_of(request.app.state).payments
        return await payment_action(  # type: ignore[return-value]
            request, idempotency_key, 200, lambda: payments.cancel(payment_id)
        )

    @post(
        "/{payment_id:str}/sync",
        operation_id="syncPayment",
        summary="Pull the provider's state and reconcile the ledger",
        status_code=200,
        opt={"scope": "payments:write"},
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
        payment_id: PaymentId,
        data: JSONBody[SkipValidation[EmptyRequest | None]] = None,
    ) -> PaymentResponse:
        """Settle operations in doubt from the provider's view of the payment.

        Resolves operations left pending (e.g. by a timeout) and imports operations the
        provider has that the ledger lacks. Moves no money: no Idempotency-Key needed.
        """
        await strict_body(request, EmptyRequest)
        payment = await services_of(request.app.state).payments.sync(payment_id)
        return payment_response(payment)

    @post(
        "/{payment_id:str}/authenticate",
        operation_id="authenticatePayment",
        summary="Finish 3-D Secure: PaRes, cres, or resume after the 3DS Method",
        status_code=200,
        opt={"scope": "payments:write", "idempotent": True},
        responses=problems(*MONEY, "not_found", "invalid_state"),
    )
    async def authenticate(
        self,
        request: AnyRequest,
        payment_id: PaymentId,
        data: Annotated[SkipValidation[AuthenticateRequest], Body(examples=[PARES, CRES, RESUME])],
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[PaymentResponse]:
        """Send what the cardholder's 3-D Secure step produced; the payment moves on.

        The payment's `next_action.authenticate_with` says which field to send:
        `pares` (3DS 1, posted by the ACS to TermUrl), `cres` (3DS 2 challenge,
        posted to your return URL) or `resume: true` (3DS 2 method finished or
        timed out). A payment already past the step is answered from the ledger.
        """
        req = await strict_body(request, AuthenticateRequest) or AuthenticateRequest()
        given = {
            Authentication.PARES: req.pares,
            Authentication.CRES: req.cres,
            Authentication.RESUME: "resume" if req.resume else None,
        }
        chosen = [(kind, value) for kind, value in given.items() if value is not None]
        if len(chosen) != 1:
            raise ValidationFailed(
                "send exactly one of pares, cres or resume",
                [FieldError("body", "exactly one of pares, cres, resume")],
            )
        kind, value = chosen[0]
        payments = services_of(request.app.state).payments
        return await payment_action(  # type: ignore[return-value]
            request,
            idempotency_key,
            200,
            lambda: payments.authenticate(
                payment_id, kind, None if kind is Authentication.RESUME else value
            ),
        )

    @post(
        "/{payment_id:str}/rebill",
        operation_id="rebillPayment",
        summary="A new payment on the stored card of this one",
        status_code=201,
        opt={"scope": "payments:write", "idempotent": True},
        responses=problems(*MONEY, "not_found", "invalid_state", "operation_not_supported"),
    )
    async def rebill(
        self,
        request: AnyRequest,
        payment_id: PaymentId,
        data: Annotated[SkipValidation[RebillRequest | None], Body(examples=[REBILL])] = None,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[PaymentResponse]:
        """Charge the card of a past payment again (a recurring payment).

        The new payment has `parent_payment_id` set; amount defaults to the parent's,
        currency is the parent's. `capture` "automatic" (the default) captures right
        after the authorization.
        """
        req = await strict_body(request, RebillRequest) or RebillRequest()
        new = new_rebill(req)
        api_key: ApiKey = request.scope["state"]["api_key"]
        payments = services_of(request.app.state).payments
        return await payment_action(  # type: ignore[return-value]
            request,
            idempotency_key,
            201,
            lambda: payments.rebill(payment_id, new, api_key.id),
        )
