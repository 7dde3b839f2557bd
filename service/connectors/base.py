"""What every connector shares: unsupported-operation defaults, scrubbing, replies.

A connector subclasses `ConnectorBase` and overrides the build_/parse_ pairs it
supports; the rest raise `OperationNotSupported` (Hyperswitch's trait defaults).
"""

import base64
from collections.abc import Mapping
from typing import ClassVar, NoReturn

import msgspec

from service.domain.commands import (
    Authenticate,
    Authorize,
    Capture,
    Credit,
    PayOrder,
    Rebill,
    Refund,
    Sync,
    Void,
)
from service.domain.errors import (
    ConnectorMisconfigured,
    FieldError,
    OperationNotSupported,
    OutcomeUnknown,
    ProviderProtocolError,
    ProviderRejected,
)
from service.domain.outcomes import (
    ExchangeRate,
    HttpCall,
    HttpReply,
    OperationOutcome,
    PaymentMethodOption,
    ProviderSnapshot,
    Quote,
)
from service.domain.payments import PaymentMethodType
from service.domain.ports import Capability, ReconcileStrategy
from service.domain.redact import scrub_text
from service.domain.webhooks import WebhookEvent


def basic_auth(login: str, password: str) -> str:
    token = base64.b64encode(f"{login}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def encode_json(payload: object) -> bytes:
    return msgspec.json.encode(payload)


def reply_message(reply: HttpReply, limit: int = 300) -> str | None:
    """A short human message from an error body of unknown shape, if it has one."""
    try:
        data = msgspec.json.decode(reply.body)
    except msgspec.DecodeError:
        text = reply.body.decode("utf-8", "replace").strip()
        return scrub_text(text[:limit]) or None
    if isinstance(data, dict):
        for key in ("failure_message", "message", "error_description", "error", "detail"):
            value = data.get(key)
            if isinstance(value, str) and value:
                return scrub_text(value[:limit])
            if isinstance(value, dict) and isinstance(value.get("message"), str):
                return scrub_text(value["message"][:limit])
    return None


def raise_for_status(provider: str, reply: HttpReply) -> None:
    """Turn a non-2xx reply into the right ConnectorError.

    401/403: our credentials are wrong (an operator problem). Other 4xx: the
    provider refused the request and did nothing. 5xx: the request arrived and we
    do not know what the provider did with it, so the outcome is unknown.
    """
    if 200 <= reply.status < 300:
        return
    message = reply_message(reply)
    if reply.status in (401, 403):
        raise ConnectorMisconfigured(provider, f"HTTP {reply.status}: {message or 'auth refused'}")
    if 400 <= reply.status < 500:
        raise ProviderRejected(
            provider,
            f"HTTP {reply.status}: {message or 'request refused'}",
            http_status=reply.status,
            provider_message=message,
        )
    raise OutcomeUnknown(provider, f"HTTP {reply.status}: {message or 'server error'}")


class ConnectorBase:
    name: ClassVar[str] = "base"
    supports: ClassVar[frozenset[Capability]] = frozenset()
    options_type: ClassVar[type[msgspec.Struct] | None] = None
    quote_type: ClassVar[type[msgspec.Struct] | None] = None
    methods: ClassVar[frozenset[PaymentMethodType]] = frozenset()
    sync_repeats_payment: ClassVar[bool] = False
    # The safe default: nothing can be asked, so operators settle what stays in doubt.
    reconcile_strategy: ClassVar[ReconcileStrategy] = ReconcileStrategy.MANUAL

    def _unsupported(self, operation: str) -> NoReturn:
        raise OperationNotSupported(self.name, f"{operation} is not supported by {self.name}")

    def validate_authorize(self, cmd: Authorize) -> list[FieldError]:
        return []

    def build_authorize(self, cmd: Authorize) -> HttpCall:
        self._unsupported("authorize")

    def parse_authorize(self, cmd: Authorize, reply: HttpReply) -> OperationOutcome:
        self._unsupported("authorize")

    def build_capture(self, cmd: Capture) -> HttpCall:
        self._unsupported("capture")

    def parse_capture(self, cmd: Capture, reply: HttpReply) -> OperationOutcome:
        self._unsupported("capture")

    def build_void(self, cmd: Void) -> HttpCall:
        self._unsupported("void")

    def parse_void(self, cmd: Void, reply: HttpReply) -> OperationOutcome:
        self._unsupported("void")

    def build_refund(self, cmd: Refund) -> HttpCall:
        self._unsupported("refund")

    def parse_refund(self, cmd: Refund, reply: HttpReply) -> OperationOutcome:
        self._unsupported("refund")

    def validate_rebill(self, cmd: Rebill) -> list[FieldError]:
        return []

    def validate_credit(self, cmd: Credit) -> list[FieldError]:
        return []

    def build_authenticate(self, cmd: Authenticate) -> HttpCall:
        self._unsupported("authenticate")

    def parse_authenticate(self, cmd: Authenticate, reply: HttpReply) -> OperationOutcome:
        self._unsupported("authenticate")

    def build_rebill(self, cmd: Rebill) -> HttpCall:
        self._unsupported("rebill")

    def parse_rebill(self, cmd: Rebill, reply: HttpReply) -> OperationOutcome:
        self._unsupported("rebill")

    def build_credit(self, cmd: Credit) -> HttpCall:
        self._unsupported("payout")

    def parse_credit(self, cmd: Credit, reply: HttpReply) -> OperationOutcome:
        self._unsupported("payout")

    def build_exchange_rates(self) -> HttpCall:
        self._unsupported("exchange_rates")

    def parse_exchange_rates(self, reply: HttpReply) -> list[ExchangeRate]:
        self._unsupported("exchange_rates")

    def build_ping(self) -> HttpCall:
        self._unsupported("health")

    def parse_ping(self, reply: HttpReply) -> str | None:
        self._unsupported("health")

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        self._unsupported("webhooks")

    def parse_webhook(self, body: bytes) -> WebhookEvent:
        self._unsupported("webhooks")

    def validate_pay_order(self, cmd: PayOrder) -> list[FieldError]:
        return []

    def payer_currency(self, cmd: PayOrder) -> str:
        self._unsupported("pay_order")

    def order_reference(self, cmd: PayOrder) -> str:
        self._unsupported("pay_order")

    def build_pay_order(self, cmd: PayOrder) -> HttpCall:
        self._unsupported("pay_order")

    def parse_pay_order(self, cmd: PayOrder, reply: HttpReply) -> OperationOutcome:
        self._unsupported("pay_order")

    def build_payment_methods(self) -> HttpCall:
        self._unsupported("payment_methods")

    def parse_payment_methods(self, reply: HttpReply) -> list[PaymentMethodOption]:
        self._unsupported("payment_methods")

    def build_quote(self, request: msgspec.Struct) -> HttpCall:
        self._unsupported("quotes")

    def parse_quote(self, request: msgspec.Struct, reply: HttpReply) -> Quote:
        self._unsupported("quotes")

    def build_sync(self, cmd: Sync) -> HttpCall:
        self._unsupported("sync")

    def parse_sync(self, cmd: Sync, reply: HttpReply) -> ProviderSnapshot | None:
        self._unsupported("sync")

    def scrub(self, text: str) -> str:
        return scrub_text(text)

    def protocol_error(self, detail: str) -> ProviderProtocolError:
        return ProviderProtocolError(self.name, detail)
