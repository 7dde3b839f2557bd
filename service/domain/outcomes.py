"""What a connector reports back: normalized outcomes and provider snapshots."""

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import msgspec

from service.domain.money import Money
from service.domain.payments import CardSummary, Failure, NextAction
from service.domain.redact import scrub_text


class HttpCall(msgspec.Struct, frozen=True):
    """One outbound request, built by a connector and sent by the executor."""

    method: str
    path: str
    body: bytes | None = None
    headers: dict[str, str] = {}
    query: dict[str, str] = {}

    def __repr__(self) -> str:
        # Bodies carry PANs and headers carry credentials: a stray repr must not.
        body = scrub_text(self.body.decode("utf-8", "replace")) if self.body else None
        return f"HttpCall({self.method} {self.path}, body={body!r}, headers=<{len(self.headers)}>)"

    __str__ = __repr__


class HttpReply(msgspec.Struct, frozen=True):
    status: int
    body: bytes
    headers: dict[str, str] = {}

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None


class OutcomeStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # a decline: the provider said no
    ACTION_REQUIRED = "action_required"  # the customer must act (hosted page, 3DS)


class ProviderState(StrEnum):
    """The provider's order state in canonical words."""

    AWAITING_CUSTOMER = "awaiting_customer"
    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    REFUNDED = "refunded"
    VOIDED = "voided"
    FAILED = "failed"
    CHARGED_BACK = "charged_back"
    CREDITED = "credited"  # an OCT order: the money went to the card


class ProviderSnapshot(msgspec.Struct, frozen=True):
    """The provider's view of one payment, amounts in minor units."""

    reference: str
    state: ProviderState
    amount_authorized: int
    amount_captured: int
    amount_refunded: int
    failure: Failure | None = None
    next_action: NextAction | None = None
    card: CardSummary | None = None  # what the provider knows of the card (masked)
    details: dict[str, Any] = {}  # provider facts to keep on the payment once settled


class OperationOutcome(msgspec.Struct, frozen=True):
    status: OutcomeStatus
    provider_reference: str | None
    failure: Failure | None = None
    next_action: NextAction | None = None
    snapshot: ProviderSnapshot | None = None
    priced: Money | None = None  # what the payer pays, when the provider set the price
    details: dict[str, Any] = {}  # provider facts kept on the payment (discount, ...)


class ExchangeRate(msgspec.Struct, frozen=True):
    base: str
    quote: str
    rate: Decimal  # 1 base = rate quote; never a float


class ProviderHealth(msgspec.Struct, frozen=True):
    status: str  # "up" | "down"
    latency_ms: float
    checked_at: datetime
    detail: str | None = None


class PaymentMethodOption(msgspec.Struct, frozen=True):
    """A way to pay a provider offers (a Proxy-Solutions merchant, say)."""

    code: str
    name: str
    currencies: tuple[str, ...]


class Quote(msgspec.Struct, frozen=True):
    """A provider's price for an order, in minor units."""

    amount: Money  # the list price (Proxy-Solutions: in USD)
    payer_amount: Money  # what the payer pays, discounts included
    converted_amount: Money | None = None  # the list price in the payer's currency
    discount_percent: Decimal | None = None
    merchant: str | None = None
    lang: str | None = None
