"""Wire schemas of the v1 API: requests, responses and problems (snake_case).

These are not domain types; `api/convert.py` maps between the two. Decoding is
strict (a string is never an integer here) and unknown fields are refused.
"""

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

import msgspec
from msgspec import Meta

from service.connectors import REGISTRY
from service.domain.payments import (
    ActionPurpose,
    Authentication,
    CaptureMethod,
    OperationSource,
    OperationStatus,
    OperationType,
    PaymentMethodType,
    PaymentStatus,
)
from service.domain.payouts import PayoutStatus
from service.domain.webhooks import WebhookStatus
from service.orchestration.circuit import CircuitState

MAX_AMOUNT = 10**15  # far above any real payment, far below BIGINT

Amount = Annotated[
    int, Meta(gt=0, le=MAX_AMOUNT, description="Minor units (999 USD is 9.99)", examples=[999])
]
Currency = Annotated[str, Meta(pattern="^[A-Z]{3}$", description="ISO 4217", examples=["USD"])]
ShortText = Annotated[str, Meta(min_length=1, max_length=255)]


class _Strict(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class ThreeDSInput(_Strict):
    """3-D Secure results the merchant obtained itself (passed to the provider)."""

    cavv: Annotated[str, Meta(max_length=200)] | None = None
    eci: Annotated[str, Meta(pattern=r"^\d{1,2}$")] | None = None
    xid: Annotated[str, Meta(max_length=200)] | None = None
    ds_trans_id: Annotated[str, Meta(max_length=200)] | None = None


class CardInput(_Strict):
    number: Annotated[str, Meta(pattern=r"^\d{12,19}$", examples=["4111111111111111"])]
    exp_month: Annotated[int, Meta(ge=1, le=12, examples=[12])]
    exp_year: Annotated[int, Meta(ge=2000, le=2100, examples=[2030])]
    cvv: Annotated[str, Meta(pattern=r"^\d{3,4}$", examples=["123"])] | None = None
    holder: Annotated[str, Meta(min_length=1, max_length=100, examples=["John Smith"])] | None = (
        None
    )
    three_d_secure: ThreeDSInput | None = None


class WalletTokenInput(_Strict):
    type: Literal["apple_pay", "google_pay"]
    token: Annotated[
        str, Meta(min_length=1, max_length=65_536, description="As the wallet gave it")
    ]


class PaymentMethodInput(_Strict):
    type: PaymentMethodType
    card: CardInput | None = None
    wallet_token: WalletTokenInput | None = None


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


# The quote request of every registered provider that calculates prices.
if TYPE_CHECKING:
    QuoteRequest = msgspec.Struct
else:
    _QUOTES = tuple(c.quote_type for c in REGISTRY.values() if c.quote_type is not None)
    QuoteRequest = _QUOTES[0] if len(_QUOTES) == 1 else Union[_QUOTES]  # noqa: UP007


class CreatePaymentRequest(_Strict):
    """A payment to create and confirm.

    `amount` and `currency` are required except where the provider sets the price
    (a vendor order: Proxy-Solutions, Send2Sell); there they are what is asked for.
    """

    payment_method: PaymentMethodInput
    amount: Amount | None = None
    currency: Currency | None = None
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


class AuthenticateRequest(_Strict):
    """Exactly one: `pares` (3DS 1), `cres` (3DS 2 challenge) or `resume` (3DS 2 method)."""

    pares: Annotated[str, Meta(min_length=1, max_length=65_536)] | None = None
    cres: Annotated[str, Meta(min_length=1, max_length=65_536)] | None = None
    resume: bool = False


class RecurringInput(_Strict):
    trace_id: Annotated[str, Meta(max_length=100)] | None = None
    indicator: Annotated[str, Meta(max_length=20)] | None = None


class RebillRequest(_Strict):
    amount: Amount | None = None
    currency: Currency | None = None
    cvv: Annotated[str, Meta(pattern=r"^\d{3,4}$")] | None = None
    capture: CaptureMethod = CaptureMethod.AUTOMATIC
    customer: CustomerInput | None = None
    description: ShortText | None = None
    merchant_reference: ShortText | None = None
    metadata: Annotated[dict[str, Annotated[str, Meta(max_length=500)]], Meta(max_length=50)] = {}
    recurring: RecurringInput | None = None


class PayoutCardInput(_Strict):
    number: Annotated[str, Meta(pattern=r"^\d{12,19}$", examples=["4111111111111111"])]
    exp_month: Annotated[int, Meta(ge=1, le=12)] | None = None
    exp_year: Annotated[int, Meta(ge=2000, le=2100)] | None = None
    holder: Annotated[str, Meta(min_length=1, max_length=100)] | None = None


class PaymentDestinationInput(_Strict, tag="payment", tag_field="type"):
    """The card a past payment was made with."""

    payment_id: Annotated[str, Meta(max_length=64)]


class CardDestinationInput(_Strict, tag="card", tag_field="type"):
    card: PayoutCardInput


class CreatePayoutRequest(_Strict):
    amount: Amount
    currency: Currency
    destination: PaymentDestinationInput | CardDestinationInput
    provider: Annotated[str, Meta(examples=["bizon"])] | None = None
    customer: CustomerInput | None = None
    description: ShortText | None = None
    merchant_reference: ShortText | None = None
    metadata: Annotated[dict[str, Annotated[str, Meta(max_length=500)]], Meta(max_length=50)] = {}


class CaptureRequest(_Strict):
    amount: Amount | None = None


class RefundRequest(_Strict):
    amount: Amount | None = None
    reason: ShortText | None = None


class CardResponse(msgspec.Struct):
    first6: str
    last4: str
    brand: str
    exp_month: int | None
    exp_year: int | None


class PaymentMethodResponse(msgspec.Struct):
    type: PaymentMethodType
    card: CardResponse | None = None
    wallet: str | None = None


class FailureResponse(msgspec.Struct):
    code: str
    message: str
    provider_code: str | None = None
    provider_message: str | None = None
    details: Annotated[
        dict[str, Any], Meta(description="Figures the provider gave with it, minor units")
    ] = {}


class NextActionResponse(msgspec.Struct):
    type: Annotated[str, Meta(examples=["redirect"])]
    url: str
    method: str
    fields: dict[str, str]
    purpose: ActionPurpose | None
    authenticate_with: Annotated[
        Authentication | None,
        Meta(description="What POST …/authenticate must carry once the customer is done"),
    ]


class OperationResponse(msgspec.Struct):
    id: str
    type: OperationType
    status: OperationStatus
    amount: int | None
    currency: str
    source: OperationSource
    provider_reference: str | None
    failure: FailureResponse | None
    reason: str | None
    created_at: datetime
    resolved_at: datetime | None
    resolution_source: Annotated[
        OperationSource | None,
        Meta(description="`operator`: settled by hand (POST /v1/ops/payments/{id}/resolve)"),
    ]
    resolved_by: Annotated[str | None, Meta(description="The operator's API key id")]
    resolution_reason: Annotated[str | None, Meta(description="Why the operator settled it")]


class PaymentResponse(msgspec.Struct):
    id: Annotated[str, Meta(examples=["pay_01jd2x3y4z5a6b7c8d9e0f1g2h"])]
    status: PaymentStatus
    amount: Annotated[
        int | None,
        Meta(description="Minor units; null until a provider that sets the price answers"),
    ]
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
    parent_payment_id: str | None = None
    provider_details: Annotated[
        dict[str, Any],
        Meta(description="What was asked and what the provider said of the price (vendor orders)"),
    ] = {}
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


class PayoutDestinationResponse(msgspec.Struct):
    type: str
    payment_id: str | None
    card: CardResponse | None


class PayoutResponse(msgspec.Struct):
    id: Annotated[str, Meta(examples=["po_01jd2x3y4z5a6b7c8d9e0f1g2h"])]
    status: PayoutStatus
    amount: int
    currency: str
    provider: str
    provider_reference: str | None
    destination: PayoutDestinationResponse
    failure: FailureResponse | None
    description: str | None
    merchant_reference: str | None
    metadata: dict[str, str]
    operations: list[OperationResponse]
    created_at: datetime
    updated_at: datetime
    object: str = "payout"


class ExchangeRateResponse(msgspec.Struct):
    base: str
    quote: str
    rate: Annotated[
        str, Meta(description="1 base = rate quote, a decimal string", examples=["1.145036"])
    ]


class ExchangeRatesResponse(msgspec.Struct):
    provider: str
    fetched_at: datetime
    data: list[ExchangeRateResponse]
    object: str = "list"


class ProviderHealthResponse(msgspec.Struct):
    status: Annotated[str, Meta(examples=["up"])]
    latency_ms: float
    checked_at: datetime
    detail: str | None


class ProviderCircuitResponse(msgspec.Struct):
    state: Annotated[
        CircuitState,
        Meta(description="open: calls fail at once with 503 provider_circuit_open, unsent"),
    ]
    consecutive_failures: Annotated[
        int, Meta(ge=0, description="Technical failures in a row (never declines)")
    ]
    opened_at: datetime | None
    retry_at: Annotated[
        datetime | None, Meta(description="When an open circuit lets a probe call through")
    ]


class ProviderResponse(msgspec.Struct):
    name: str
    enabled: bool
    operations: Annotated[list[str], Meta(description="What the connector can do")]
    payment_methods: list[str]
    health: ProviderHealthResponse | None
    circuit: Annotated[
        ProviderCircuitResponse | None,
        Meta(
            description="The provider's circuit breaker in the worker process that answered "
            "(each process keeps its own); null when the provider is not enabled"
        ),
    ]


class ProviderListResponse(msgspec.Struct):
    data: list[ProviderResponse]
    object: str = "list"


class HealthResponse(msgspec.Struct):
    status: str
    checks: dict[str, str] = {}


class WebhookEventResponse(msgspec.Struct):
    id: str
    provider: str
    event_id: str
    event_type: str
    status: WebhookStatus
    payment_id: str | None
    detail: str | None
    received_at: datetime
    processed_at: datetime | None
    payload: Any


class WebhookEventListResponse(msgspec.Struct):
    data: list[WebhookEventResponse]
    object: str = "list"


class PaymentMethodOptionResponse(msgspec.Struct):
    code: str
    name: str
    currencies: list[str]


class PaymentMethodsResponse(msgspec.Struct):
    provider: str
    fetched_at: datetime
    stale: Annotated[bool, Meta(description="true: the provider did not answer; its last list")]
    data: list[PaymentMethodOptionResponse]
    object: str = "list"


class MoneyResponse(msgspec.Struct):
    amount: Annotated[int, Meta(description="Minor units")]
    currency: str


class QuoteResponse(msgspec.Struct):
    provider: str
    amount: Annotated[MoneyResponse, Meta(description="The list price (USD for Proxy-Solutions)")]
    payer_amount: Annotated[MoneyResponse, Meta(description="What the payer pays, discounts in")]
    converted_amount: MoneyResponse | None
    discount_percent: Annotated[str | None, Meta(examples=["10"])]
    merchant: str | None
    lang: str | None
    object: str = "quote"
