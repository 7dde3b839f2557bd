"""Wire schemas of the v1 API: requests, responses and problems (snake_case).

These are not domain types; `api/convert.py` maps between the two. Decoding is
strict (a string is never an integer here) and unknown fields are refused.
"""

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from msgspec import Meta

from service.connectors import REGISTRY
from service.domain.payments import (
    CaptureMethod,
    OperationSource,
    OperationStatus,
    OperationType,
    PaymentMethodType,
    PaymentStatus,
)

MAX_AMOUNT = 10**15  # far above any real payment, far below BIGINT

Amount = Annotated[
    int, Meta(gt=0, le=MAX_AMOUNT, description="Minor units (999 USD is 9.99)", examples=[999])
]
Currency = Annotated[str, Meta(pattern="^[A-Z]{3}$", description="ISO 4217", examples=["USD"])]
ShortText = Annotated[str, Meta(min_length=1, max_length=255)]


class _Strict(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class CardInput(_Strict):
    number: Annotated[str, Meta(pattern=r"^\d{12,19}$", examples=["4111111111111111"])]
    exp_month: Annotated[int, Meta(ge=1, le=12, examples=[12])]
    exp_year: Annotated[int, Meta(ge=2000, le=2100, examples=[2030])]
    cvv: Annotated[str, Meta(pattern=r"^\d{3,4}$", examples=["123"])] | None = None
    holder: Annotated[str, Meta(min_length=1, max_length=100, examples=["John Smith"])] | None = (
        None
    )


class PaymentMethodInput(_Strict):
    type: PaymentMethodType
    card: CardInput | None = None


class CustomerInput(_Strict):
    email: Annotated[str, Meta(max_length=255, examples=["foo@bar.com"])] | None = None
    ip: Annotated[str, Meta(max_length=45, examples=["8.8.8.8"])] | None = None
    name: ShortText | None = None
    phone: Annotated[str, Meta(max_length=40)] | None = None
    address: ShortText | None = None
    city: ShortText | None = None
    state: ShortText | None = None
    zip: Annotated[str, Meta(max_length=20)] | None = None
    country: Annotated[str, Meta(pattern="^[A-Z]{2,3}$")] | None = None


# One optional, typed member per registered provider that has options.
if TYPE_CHECKING:
    ProviderOptions = msgspec.Struct
else:
    ProviderOptions = msgspec.defstruct(
        "ProviderOptions",
        [
            (name, cls.options_type | None, None)
            for name, cls in REGISTRY.items()
            if cls.options_type is not None
        ],
        forbid_unknown_fields=True,
        kw_only=True,
    )


class CreatePaymentRequest(_Strict):
    amount: Amount
    currency: Currency
    payment_method: PaymentMethodInput
    provider: Annotated[str, Meta(examples=["bizon"])] | None = None
    capture: CaptureMethod = CaptureMethod.AUTOMATIC
    customer: CustomerInput | None = None
    description: ShortText | None = None
    merchant_reference: ShortText | None = None
    metadata: Annotated[dict[str, Annotated[str, Meta(max_length=500)]], Meta(max_length=50)] = {}
    return_url: Annotated[str, Meta(pattern="^https?://", max_length=2000)] | None = None
    provider_options: ProviderOptions | None = None


class EmptyRequest(_Strict):
    """No fields: the body may be empty or `{}`."""


class CaptureRequest(_Strict):
    amount: Amount | None = None


class RefundRequest(_Strict):
    amount: Amount | None = None
    reason: ShortText | None = None


class CardResponse(msgspec.Struct):
    first6: str
    last4: str
    brand: str
    exp_month: int
    exp_year: int


class PaymentMethodResponse(msgspec.Struct):
    type: PaymentMethodType
    card: CardResponse | None = None


class FailureResponse(msgspec.Struct):
    code: str
    message: str
    provider_code: str | None = None
    provider_message: str | None = None


class NextActionResponse(msgspec.Struct):
    type: Annotated[str, Meta(examples=["redirect"])]
    url: str
    method: str
    fields: dict[str, str]


class OperationResponse(msgspec.Struct):
    id: str
    type: OperationType
    status: OperationStatus
    amount: int
    currency: str
    source: OperationSource
    provider_reference: str | None
    failure: FailureResponse | None
    reason: str | None
    created_at: datetime
    resolved_at: datetime | None


class PaymentResponse(msgspec.Struct):
    id: Annotated[str, Meta(examples=["pay_01jd2x3y4z5a6b7c8d9e0f1g2h"])]
    status: PaymentStatus
    amount: int
    currency: str
    amount_authorized: int
    amount_captured: int
    amount_refunded: int
    amount_capturable: int
    amount_refundable: int
    capture: CaptureMethod
    provider: str
    provider_reference: str | None
    payment_method: PaymentMethodResponse
    next_action: NextActionResponse | None
    failure: FailureResponse | None
    customer: dict[str, Any]
    description: str | None
    merchant_reference: str | None
    metadata: dict[str, str]
    return_url: str | None
    operations: list[OperationResponse]
    created_at: datetime
    updated_at: datetime
    object: str = "payment"


class PaymentListResponse(msgspec.Struct):
    data: list[PaymentResponse]
    has_more: bool
    next_cursor: str | None
    object: str = "list"


class FieldErrorResponse(msgspec.Struct):
    field: str
    message: str


class Problem(msgspec.Struct, omit_defaults=True):
    """An RFC 9457 problem: every error this API returns has this shape."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    request_id: str
    errors: list[FieldErrorResponse] = []


class ProviderResponse(msgspec.Struct):
    name: str
    enabled: bool
    operations: list[str]
    payment_methods: list[str]


class ProviderListResponse(msgspec.Struct):
    data: list[ProviderResponse]
    object: str = "list"


class HealthResponse(msgspec.Struct):
    status: str
    checks: dict[str, str] = {}
