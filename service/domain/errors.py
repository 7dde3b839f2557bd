"""The two kinds of failure the domain knows; declines are values, not errors.

`DomainError`s carry a stable snake_case `code` and no HTTP status: the API maps
codes to statuses in one table. `ConnectorError`s are integration failures.
"""

from typing import ClassVar


class FieldError:
    __slots__ = ("field", "message")

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message

    def __repr__(self) -> str:
        return f"FieldError({self.field!r}, {self.message!r})"


class DomainError(Exception):
    code: ClassVar[str] = "domain_error"

    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []


class ValidationFailed(DomainError):
    code = "validation_error"


class InvalidJson(DomainError):
    code = "invalid_json"


class InvalidAmount(ValidationFailed):
    pass


class UnknownCurrency(ValidationFailed):
    def __init__(self, currency: str) -> None:
        super().__init__(
            f"unknown currency {currency!r}", [FieldError("currency", "not an ISO 4217 code")]
        )


class CurrencyMismatch(ValidationFailed):
    def __init__(self, expected: str, got: str) -> None:
        super().__init__(f"currency {got} does not match {expected}")


class NotFound(DomainError):
    code = "not_found"


class InvalidState(DomainError):
    code = "invalid_state"


class AmountExceedsCapturable(DomainError):
    code = "amount_exceeds_capturable"


class AmountExceedsRefundable(DomainError):
    code = "amount_exceeds_refundable"


class IdempotencyKeyMissing(DomainError):
    code = "idempotency_key_missing"


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"


class IdempotencyKeyInUse(DomainError):
    code = "idempotency_key_in_use"


class LedgerInconsistent(DomainError):
    """The ledger holds something it should not (two payments on one order, say)."""

    code = "ledger_inconsistent"


class InvalidSignature(DomainError):
    code = "invalid_signature"


class WebhookInProgress(DomainError):
    """Another delivery of the same event is being processed: deliver again later."""

    code = "webhook_in_progress"


class DependencyUnavailable(DomainError):
    """PostgreSQL or Redis did not answer: fail closed, move no money."""

    code = "dependency_unavailable"


class ConnectorError(Exception):
    code: ClassVar[str] = "provider_error"

    def __init__(self, provider: str, detail: str) -> None:
        super().__init__(f"{provider}: {detail}")
        self.provider = provider
        self.detail = detail


class ProviderUnreachable(ConnectorError):
    """The request provably never reached the provider (connect error): safe to retry."""

    code = "provider_unavailable"


class ProviderCircuitOpen(ProviderUnreachable):
    """Not sent: the provider failed technically too often and its circuit is open.

    A kind of `ProviderUnreachable`, so every "never sent" path applies unchanged.
    """

    code = "provider_circuit_open"

    def __init__(self, provider: str, retry_after_seconds: float) -> None:
        super().__init__(
            provider, f"circuit open after repeated failures; retry in {retry_after_seconds:.1f} s"
        )
        self.retry_after_seconds = retry_after_seconds


class OutcomeUnknown(ConnectorError):
    """Sent, but no usable answer (read timeout, reset, 5xx): only a sync can tell."""

    code = "provider_outcome_unknown"


class ProviderProtocolError(ConnectorError):
    """The provider answered something this connector cannot read."""

    code = "provider_protocol_error"


class ProviderRejected(ConnectorError):
    """The provider refused the request itself (4xx): nothing happened there."""

    code = "provider_error"

    def __init__(
        self, provider: str, detail: str, *, http_status: int, provider_message: str | None
    ) -> None:
        super().__init__(provider, detail)
        self.http_status = http_status
        self.provider_message = provider_message


class ProviderObjectNotFound(ProviderRejected):
    """The provider has no such order (or service): the caller's reference is wrong."""

    code = "provider_order_not_found"


class ProviderServiceNotFound(ProviderObjectNotFound):
    code = "provider_service_not_found"


class ProviderInputRefused(ProviderRejected):
    """The provider's validation refused the request, with its own messages."""

    code = "provider_validation_error"

    def __init__(self, provider: str, messages: list[str]) -> None:
        text = "; ".join(messages) or "refused"
        super().__init__(provider, f"refused: {text}", http_status=422, provider_message=text)
        self.messages = messages


class ConnectorMisconfigured(ConnectorError):
    """Our credentials or settings for the provider are wrong: an operator problem."""

    code = "provider_misconfigured"


class OperationNotSupported(ConnectorError):
    code = "operation_not_supported"


class IdempotencyKeyClaimed(Exception):
    """The ledger holds this request's Idempotency-Key already (Redis had lost it).

    Not an API error: the idempotency guard answers from `existing` (a replay, "in
    use", or taking over a key whose holder died having created nothing).
    """

    def __init__(self, existing: object) -> None:
        super().__init__("the idempotency key is already claimed in the ledger")
        self.existing = existing


class RateLimitExceeded(DomainError):
    """The API key has no token left; `decision` says when it will."""

    code = "rate_limited"

    def __init__(self, decision: object) -> None:
        super().__init__("rate limit exceeded")
        self.decision = decision
