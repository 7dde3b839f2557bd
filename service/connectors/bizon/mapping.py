"""Bizon's statuses, decline codes and forms in canonical terms (exhaustive tables)."""

from decimal import Decimal, InvalidOperation
from typing import Final

from service.domain.errors import InvalidAmount, ProviderProtocolError
from service.domain.money import format_major, from_major
from service.domain.outcomes import HttpReply, ProviderSnapshot, ProviderState
from service.domain.payments import (
    ActionPurpose,
    Authentication,
    CardSummary,
    Failure,
    NextAction,
)

from .wire import Form3d, Operation, Order

PROVIDER = "bizon"

# Every order status of the supplement's table; an unknown one raises.
STATES: Final[dict[str, ProviderState]] = {
    "new": ProviderState.AWAITING_CUSTOMER,
    "prepared": ProviderState.AWAITING_CUSTOMER,
    "authorized": ProviderState.AUTHORIZED,
    "charged": ProviderState.CAPTURED,
    "reversed": ProviderState.VOIDED,
    "refunded": ProviderState.REFUNDED,
    "credited": ProviderState.CREDITED,
    "rejected": ProviderState.FAILED,
    "fraud": ProviderState.FAILED,
    "declined": ProviderState.FAILED,
    "error": ProviderState.FAILED,
    "chargedback": ProviderState.CHARGED_BACK,
}

# Order statuses that end a payment, with the code we give the caller.
ORDER_FAILURES: Final[dict[str, tuple[str, str]]] = {
    "declined": ("card_declined", "The card was declined by the issuer."),
    "rejected": ("rejected_by_provider", "The payment was rejected by the gateway."),
    "fraud": ("fraud_suspected", "The payment was rejected as suspected fraud."),
    "error": ("processing_error", "The gateway could not process the payment."),
}

# ISO 8583 response codes to our decline codes (ActiveMerchant-style closed set).
ISO_CODES: Final[dict[str, str]] = {
    "05": "do_not_honor",
    "14": "invalid_card_number",
    "41": "lost_or_stolen_card",
    "43": "lost_or_stolen_card",
    "51": "insufficient_funds",
    "54": "expired_card",
    "57": "transaction_not_allowed",
    "58": "transaction_not_allowed",
    "59": "fraud_suspected",
    "61": "exceeds_limit",
    "65": "exceeds_limit",
    "82": "incorrect_cvc",
    "N7": "incorrect_cvc",
    "91": "issuer_unavailable",
    "96": "processing_error",
}

# 3-D Secure authentication results that mean the cardholder was not authenticated.
NOT_AUTHENTICATED: Final = frozenset({"N", "U", "R"})

TWO_PLACES: Final = 2  # "Amounts travel as decimal strings with two decimals" (supplement)


def amount(minor: int, currency: str) -> str:
    return format_major(minor, currency, places=TWO_PLACES)


def minor(value: str, currency: str) -> int:
    try:
        return from_major(value, currency)
    except InvalidAmount as exc:
        raise ProviderProtocolError(PROVIDER, f"unreadable amount {value!r}: {exc}") from None


def operation_failure(op: Operation, code: str | None = None) -> Failure:
    iso = op.iso_response_code or ""
    decline = code or ISO_CODES.get(iso, "card_declined")
    text = (op.iso_message or decline.replace("_", " ")).rstrip(".")
    return Failure(
        code=decline,
        message=f"The {op.type} was declined: {text}.",
        provider_code=iso or None,
        provider_message=op.iso_message,
    )


def credit_failure(order: Order, op: Operation | None) -> Failure:
    """Why a credit failed: its operation's ISO code, else the order's own status."""
    if op is not None and op.status == "error":
        return operation_failure(op, "processing_error")
    if op is not None and (op.iso_response_code or order.status not in ORDER_FAILURES):
        return operation_failure(op)
    if order.status in ORDER_FAILURES:
        return order_failure(order)
    return Failure("payout_declined", "The provider declined the payout.")


def order_failure(order: Order) -> Failure:
    code, message = ORDER_FAILURES[order.status]
    moves = [op for op in order.operations if op.type in ("authorize", "charge", "credit")]
    last = moves[-1] if moves else None
    authenticated = order.secure3d.authorization_status if order.secure3d else None
    if order.status == "declined" and authenticated in NOT_AUTHENTICATED:
        return Failure(
            code="authentication_failed",
            message="3-D Secure authentication failed; the card was not charged.",
            provider_code=last.iso_response_code if last else authenticated,
            provider_message=last.iso_message if last else None,
        )
    if order.status == "declined" and last is not None:
        return operation_failure(last)
    return Failure(
        code=code,
        message=message,
        provider_code=last.iso_response_code if last else order.status,
        provider_message=last.iso_message if last else None,
    )


def _three_ds(form: Form3d, version: str | None) -> tuple[ActionPurpose, Authentication]:
    if form.PaReq is not None:
        return ActionPurpose.THREE_D_SECURE_1, Authentication.PARES
    if form.threeDSMethodData is not None:
        return ActionPurpose.THREE_D_SECURE_2_METHOD, Authentication.RESUME
    if form.creq is not None or form.threeDSSessionData is not None or version == "2":
        return ActionPurpose.THREE_D_SECURE_2_CHALLENGE, Authentication.CRES
    return ActionPurpose.THREE_D_SECURE_1, Authentication.PARES


def next_action(order: Order, reply: HttpReply) -> NextAction | None:
    """What the customer must do for an order waiting on them, if anything."""
    if order.status == "prepared" and order.form3d is not None:
        form = order.form3d
        purpose, answer = _three_ds(form, order.secure3d.version if order.secure3d else None)
        return NextAction(
            type="form",
            url=form.action,
            method=form.method.upper(),
            fields=form.fields(),
            purpose=purpose,
            authenticate_with=answer,
        )
    if order.status == "new":
        location = reply.header("Location")
        if location:
            return NextAction(
                type="redirect", url=location, method="GET", purpose=ActionPurpose.HOSTED_PAGE
            )
    return None


def card_summary(order: Order) -> CardSummary | None:
    """The card as Bizon shows it: masked PAN "410937****4320", expiration "7/20"."""
    pan = order.pan or ""
    if len(pan) < 10 or not (pan[:6].isdigit() and pan[-4:].isdigit()):
        return None
    month: int | None = None
    year: int | None = None
    expiration = order.card.expiration if order.card else None
    if expiration and "/" in expiration:
        raw_month, _, raw_year = expiration.partition("/")
        if raw_month.isdigit() and raw_year.isdigit() and 1 <= int(raw_month) <= 12:
            # "0/0" (the doc's credit-without-order example) means no expiry known.
            month = int(raw_month)
            year = int(raw_year) + (2000 if len(raw_year) <= 2 else 0)
            if int(raw_year) == 0:
                month = year = None
    brand = (order.card.type if order.card else None) or "unknown"
    return CardSummary(first6=pan[:6], last4=pan[-4:], brand=brand, exp_month=month, exp_year=year)


def snapshot(order: Order, currency: str, reply: HttpReply) -> ProviderSnapshot:
    try:
        state = STATES[order.status]
    except KeyError:
        raise ProviderProtocolError(PROVIDER, f"unknown order status {order.status!r}") from None
    if order.currency != currency:
        raise ProviderProtocolError(PROVIDER, f"order in {order.currency}, not {currency}")
    authorized = minor(order.amount, currency)
    if state in (ProviderState.FAILED, ProviderState.AWAITING_CUSTOMER, ProviderState.CREDITED):
        authorized = 0
    return ProviderSnapshot(
        reference=str(order.id),
        state=state,
        amount_authorized=authorized,
        amount_captured=minor(order.amount_charged, currency),
        amount_refunded=minor(order.amount_refunded, currency),
        failure=order_failure(order) if state is ProviderState.FAILED else None,
        next_action=next_action(order, reply),
        card=card_summary(order),
    )


def decimal_rate(value: str) -> Decimal:
    try:
        rate = Decimal(value)
    except InvalidOperation:
        raise ProviderProtocolError(PROVIDER, f"unreadable rate {value!r}") from None
    if not rate.is_finite() or rate <= 0:
        raise ProviderProtocolError(PROVIDER, f"impossible rate {value!r}")
    return rate
