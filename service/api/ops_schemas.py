"""Wire schemas of the operators' routes (/v1/ops/payments/...)."""

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from service.api.schemas import MAX_AMOUNT, OperationResponse
from service.domain.payments import PaymentStatus
from service.domain.ports import ReconcileStrategy

Reason = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=1000,
        description="Why: what the operator checked and found (kept in the ledger)",
        examples=["Bizon back office shows order 23014806643308174 charged at 10:42"],
    ),
]


class ResolveRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The operator's verdict for the payment's pending operation(s)."""

    outcome: Annotated[
        Literal["succeeded", "failed"],
        Meta(description="What happened at the provider to the operation(s) in doubt"),
    ]
    reason: Reason
    provider_reference: (
        Annotated[
            str,
            Meta(
                min_length=1,
                max_length=255,
                description="The provider's id of the order, when the ledger lacks it",
            ),
        ]
        | None
    ) = None
    amount: (
        Annotated[
            int,
            Meta(
                gt=0,
                le=MAX_AMOUNT,
                description="Minor units: what the provider charged, for a payment whose "
                "price the provider sets (only then, and required then when it succeeded)",
            ),
        ]
        | None
    ) = None


class StuckPaymentResponse(msgspec.Struct):
    id: str
    status: PaymentStatus
    provider: str
    provider_reference: str | None
    amount: Annotated[int | None, Meta(description="Minor units; null until priced")]
    currency: str
    amount_authorized: int
    amount_captured: int
    amount_refunded: int
    age_seconds: Annotated[
        int, Meta(ge=0, description="Seconds since its oldest pending operation was started")
    ]
    reason: Annotated[str, Meta(description="Why it is in doubt, or was handed to operators")]
    attempts: Annotated[int, Meta(ge=0, description="Reconciler passes that looked at it")]
    last_error: Annotated[str | None, Meta(description="What the reconciler's last sync met")]
    needs_attention_since: datetime | None
    reconcile_strategy: Annotated[
        ReconcileStrategy | None,
        Meta(description="How its provider is reconciled; null when it is not enabled"),
    ]
    pending_operations: list[OperationResponse]
    created_at: datetime
    updated_at: datetime
    object: str = "stuck_payment"


class StuckPaymentListResponse(msgspec.Struct):
    data: list[StuckPaymentResponse]
    has_more: bool
    next_cursor: str | None
    object: str = "list"
