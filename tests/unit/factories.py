"""Pure builders of domain values for unit tests."""

from datetime import UTC, datetime, timedelta

import msgspec

from service.domain.payments import (
    CaptureMethod,
    Operation,
    OperationStatus,
    OperationType,
    Payment,
    PaymentMethodSummary,
    PaymentMethodType,
    PaymentStatus,
)

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def payment(status: PaymentStatus = PaymentStatus.AUTHORIZED, **amounts: int) -> Payment:
    base = {"amount_authorized": 1000} if status is not PaymentStatus.FAILED else {}
    return Payment(
        id="pay_1",
        status=status,
        amount=1000,
        currency="USD",
        capture=CaptureMethod.MANUAL,
        provider="bizon",
        payment_method=PaymentMethodSummary(PaymentMethodType.CARD),
        created_at=T0,
        updated_at=T0,
        api_key_id="key_1",
        provider_reference="ord_1",
        **(base | amounts),
    )


def pending(kind: OperationType, amount: int, age: timedelta = timedelta()) -> Operation:
    return Operation(
        id=f"op_{kind}",
        payment_id="pay_1",
        type=kind,
        status=OperationStatus.PENDING,
        amount=amount,
        currency="USD",
        created_at=T0 - age,
    )


def with_pending(p: Payment, op: Operation) -> Payment:
    return msgspec.structs.replace(
        p, status=PaymentStatus.PROCESSING, operations=(*p.operations, op)
    )
