"""Bizon card gateway: direct card authorize/charge/reverse/refund and hosted page.

Built from ../shared/providers/bizon.md and bizon-supplement.md. Where the doc is
silent this connector takes the safest reading, as follows:

* Error bodies are not documented. Any non-2xx is classified by status only
  (401/403: our credentials; other 4xx: refused, nothing happened; 5xx: the
  outcome is unknown) and a message is read best-effort for operators.
* The HTTP status of a decline is not documented: a reply carrying an order is
  read by its order and operation statuses whatever its 2xx/4xx status, so a
  decline is never mistaken for an integration failure or the other way round.
* Bizon has no idempotency key. We send our payment id as `merchant_order_id`
  (the doc's filter on `GET /orders/`), so an authorize whose reply was lost can
  be found again by `sync`; the caller's `merchant_reference` stays in our ledger.
* Amounts are decimal strings with two decimals both ways (supplement, "Notes").
  A currency with three decimals is refused unless the amount is exact in two.
* `card.holder` and `card.cvv` "can be configured as optional" per project; we
  require them, since a project that needs them would refuse the payment.
* Charge is single: the supplement allows charge only from `authorized`, so a
  partial charge releases the rest of the authorization.
* `refunded` covers partial refunds; `amount_refunded` vs `amount_charged` tells.
* `credited` (an OCT made on the order) keeps the payment's money state; it is
  read from the amounts.
"""

from typing import ClassVar, Final
from urllib.parse import quote

import msgspec

from service.connectors.base import (
    ConnectorBase,
    basic_auth,
    encode_json,
    raise_for_status,
)
from service.domain.commands import Authorize, Capture, Customer, Refund, Sync, Void
from service.domain.errors import FieldError, InvalidAmount, ProviderProtocolError
from service.domain.money import format_major, from_major
from service.domain.outcomes import (
    HttpCall,
    HttpReply,
    OperationOutcome,
    OutcomeStatus,
    ProviderSnapshot,
    ProviderState,
)
from service.domain.payments import (
    CaptureMethod,
    Failure,
    NextAction,
    OperationType,
    PaymentMethodType,
)


class BizonOptions(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Bizon-specific inputs, under `provider_options.bizon`."""

    force3d: bool = False
    terminal: str | None = None
    segment: str | None = None
    language: str | None = None
    expiration_timeout: str | None = None


# --- private wire structs (Bizon's JSON) -------------------------------------


class _Operation(msgspec.Struct):
    type: str
    status: str
    amount: str | None = None
    iso_response_code: str | None = None
    iso_message: str | None = None


class _Form3d(msgspec.Struct):
    action: str
    method: str = "POST"
    MD: str | None = None
    PaReq: str | None = None
    TermUrl: str | None = None


class _Card(msgspec.Struct):
    type: str | None = None


class _Order(msgspec.Struct):
    id: str | int
    status: str
    amount: str
    amount_charged: str = "0.00"
    amount_refunded: str = "0.00"
    currency: str = "USD"
    operations: list[_Operation] = []
    form3d: _Form3d | None = None
    card: _Card | None = None


class _Orders(msgspec.Struct):
    orders: list[_Order]


# --- mapping tables -----------------------------------------------------------

_STATES: Final[dict[str, ProviderState]] = {
    "new": ProviderState.AWAITING_CUSTOMER,
    "prepared": ProviderState.AWAITING_CUSTOMER,
    "authorized": ProviderState.AUTHORIZED,
    "charged": ProviderState.CAPTURED,
    "reversed": ProviderState.VOIDED,
    "refunded": ProviderState.REFUNDED,
    "credited": ProviderState.CAPTURED,
    "rejected": ProviderState.FAILED,
    "fraud": ProviderState.FAILED,
    "declined": ProviderState.FAILED,
    "error": ProviderState.FAILED,
    "chargedback": ProviderState.CHARGED_BACK,
}

# Order statuses that end a payment, with the code we give the caller.
_ORDER_FAILURES: Final[dict[str, tuple[str, str]]] = {
    "declined": ("card_declined", "The card was declined by the issuer."),
    "rejected": ("rejected_by_provider", "The payment was rejected by the gateway."),
    "fraud": ("fraud_suspected", "The payment was rejected as suspected fraud."),
    "error": ("processing_error", "The gateway could not process the payment."),
}

# ISO 8583 response codes to our decline codes (ActiveMerchant-style closed set).
_ISO_CODES: Final[dict[str, str]] = {
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

_OPERATION_NAMES: Final = {"capture": "charge", "void": "reverse", "refund": "refund"}

_TWO_PLACES: Final = 2


def _amount(minor: int, currency: str) -> str:
    return format_major(minor, currency, places=_TWO_PLACES)


def _minor(value: str, currency: str) -> int:
    try:
        return from_major(value, currency)
    except InvalidAmount as exc:
        raise ProviderProtocolError("bizon", f"unreadable amount {value!r}: {exc}") from None


def _client(customer: Customer) -> dict[str, str]:
    fields = {
        "email": customer.email,
        "name": customer.name,
        "phone": customer.phone,
        "address": customer.address,
        "city": customer.city,
        "state": customer.state,
        "zip": customer.zip,
        "country": customer.country,
    }
    return {key: value for key, value in fields.items() if value}


def _decode_order(reply: HttpReply) -> _Order | None:
    """The order in the reply, or None when the reply carries no order at all."""
    try:
        orders = msgspec.json.decode(reply.body, type=_Orders).orders
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    if len(orders) != 1:
        return None
    return orders[0]


class BizonConnector(ConnectorBase):
    name: ClassVar[str] = "bizon"
    supports: ClassVar[frozenset[OperationType]] = frozenset(
        {OperationType.AUTHORIZE, OperationType.CAPTURE, OperationType.VOID, OperationType.REFUND}
    )
    options_type: ClassVar[type[msgspec.Struct] | None] = BizonOptions
    methods: ClassVar[frozenset[PaymentMethodType]] = frozenset(
        {PaymentMethodType.CARD, PaymentMethodType.HOSTED_PAGE}
    )

    def __init__(self, login: str, password: str) -> None:
        self._headers = {
            "Authorization": basic_auth(login, password),
            "Content-Type": "application/json",
            "Accept": "application/json",
        }

    # -- authorize -------------------------------------------------------------

    def validate_authorize(self, cmd: Authorize) -> list[FieldError]:
        errors: list[FieldError] = []
        try:
            _amount(cmd.money.amount, cmd.money.currency)
        except InvalidAmount as exc:
            errors.append(FieldError("amount", str(exc)))
        if cmd.method is PaymentMethodType.CARD:
            card = cmd.card
            if card is None:
                errors.append(FieldError("payment_method.card", "required"))
            else:
                if not card.cvv:
                    errors.append(FieldError("payment_method.card.cvv", "required by bizon"))
                if not card.holder or not 2 <= len(card.holder) <= 40:
                    errors.append(
                        FieldError("payment_method.card.holder", "bizon needs 2 to 40 characters")
                    )
            if not cmd.customer.ip:
                errors.append(FieldError("customer.ip", "required by bizon for card payments"))
        elif cmd.method is not PaymentMethodType.HOSTED_PAGE:
            errors.append(FieldError("payment_method.type", f"{cmd.method} is not offered"))
        return errors

    def _options(self, cmd: Authorize) -> dict[str, object]:
        opts = cmd.provider_options if isinstance(cmd.provider_options, BizonOptions) else None
        options: dict[str, object] = {
            "auto_charge": 1 if cmd.capture is CaptureMethod.AUTOMATIC else 0
        }
        if cmd.return_url:
            options["return_url"] = cmd.return_url
        if opts is not None:
            if opts.force3d:
                options["force3d"] = 1
            if opts.terminal:
                options["terminal"] = opts.terminal
            if cmd.method is PaymentMethodType.HOSTED_PAGE:
                if opts.language:
                    options["language"] = opts.language
                if opts.expiration_timeout:
                    options["expiration_timeout"] = opts.expiration_timeout
        return options

    def build_authorize(self, cmd: Authorize) -> HttpCall:
        body: dict[str, object] = {
            "amount": _amount(cmd.money.amount, cmd.money.currency),
            "currency": cmd.money.currency,
            "merchant_order_id": cmd.payment_id,
            "options": self._options(cmd),
        }
        if cmd.description:
            body["description"] = cmd.description
        if client := _client(cmd.customer):
            body["client"] = client
        if cmd.customer.ip:
            body["location"] = {"ip": cmd.customer.ip}
        opts = cmd.provider_options
        if isinstance(opts, BizonOptions) and opts.segment:
            body["segment"] = opts.segment
        if cmd.method is PaymentMethodType.HOSTED_PAGE:
            return HttpCall("POST", "/orders/create", encode_json(body), self._headers)
        card = cmd.card
        if card is None:  # validate_authorize refuses this first
            raise ProviderProtocolError(self.name, "card payment without a card")
        body["pan"] = card.number
        body["card"] = {
            "cvv": card.cvv,
            "holder": card.holder,
            "expiration_month": f"{card.exp_month:02d}",
            "expiration_year": str(card.exp_year),
        }
        return HttpCall("POST", "/orders/authorize", encode_json(body), self._headers)

    def parse_authorize(self, cmd: Authorize, reply: HttpReply) -> OperationOutcome:
        order = self._order_or_raise(reply)
        snapshot = self._snapshot(order, cmd.money.currency, reply)
        state = snapshot.state
        if state in (ProviderState.AUTHORIZED, ProviderState.CAPTURED):
            return OperationOutcome(OutcomeStatus.SUCCEEDED, snapshot.reference, snapshot=snapshot)
        if state is ProviderState.FAILED:
            return OperationOutcome(
                OutcomeStatus.FAILED, snapshot.reference, snapshot.failure, snapshot=snapshot
            )
        if state is ProviderState.AWAITING_CUSTOMER:
            if snapshot.next_action is None:
                raise self.protocol_error(f"order {order.status} without a page or 3DS form")
            return OperationOutcome(
                OutcomeStatus.ACTION_REQUIRED,
                snapshot.reference,
                next_action=snapshot.next_action,
                snapshot=snapshot,
            )
        raise self.protocol_error(f"authorize answered with order status {order.status!r}")

    # -- capture / void / refund ----------------------------------------------

    def _order_call(self, method: str, reference: str, action: str, body: object) -> HttpCall:
        payload = None if body is None else encode_json(body)
        return HttpCall(
            method, f"/orders/{quote(reference, safe='')}/{action}", payload, self._headers
        )

    def build_capture(self, cmd: Capture) -> HttpCall:
        body = {"amount": _amount(cmd.money.amount, cmd.money.currency)}
        return self._order_call("PUT", cmd.provider_reference, "charge", body)

    def parse_capture(self, cmd: Capture, reply: HttpReply) -> OperationOutcome:
        return self._operation_outcome("capture", cmd.money.currency, reply)

    def build_void(self, cmd: Void) -> HttpCall:
        return self._order_call("PUT", cmd.provider_reference, "reverse", None)

    def parse_void(self, cmd: Void, reply: HttpReply) -> OperationOutcome:
        return self._operation_outcome("void", cmd.money.currency, reply)

    def build_refund(self, cmd: Refund) -> HttpCall:
        body = {"amount": _amount(cmd.money.amount, cmd.money.currency)}
        return self._order_call("PUT", cmd.provider_reference, "refund", body)

    def parse_refund(self, cmd: Refund, reply: HttpReply) -> OperationOutcome:
        return self._operation_outcome("refund", cmd.money.currency, reply)

    def _operation_outcome(self, ours: str, currency: str, reply: HttpReply) -> OperationOutcome:
        order = self._order_or_raise(reply)
        snapshot = self._snapshot(order, currency, reply)
        wire_type = _OPERATION_NAMES[ours]
        matching = [op for op in order.operations if op.type == wire_type]
        if not matching:
            raise self.protocol_error(f"{wire_type} reply lists no {wire_type} operation")
        last = matching[-1]
        if last.status == "success":
            return OperationOutcome(OutcomeStatus.SUCCEEDED, snapshot.reference, snapshot=snapshot)
        if last.status in ("failure", "error"):
            failure = self._operation_failure(
                last, "processing_error" if last.status == "error" else None
            )
            return OperationOutcome(
                OutcomeStatus.FAILED, snapshot.reference, failure, snapshot=snapshot
            )
        raise self.protocol_error(f"unknown operation status {last.status!r}")

    # -- sync ------------------------------------------------------------------

    def build_sync(self, cmd: Sync) -> HttpCall:
        query = {"expand": "card,operations.cashflow"}
        if cmd.provider_reference:
            path = f"/orders/{quote(cmd.provider_reference, safe='')}"
            return HttpCall("GET", path, None, self._headers, query)
        # The authorize reply was lost: find the order by the id we sent.
        return HttpCall(
            "GET", "/orders/", None, self._headers, query | {"merchant_order_id": cmd.payment_id}
        )

    def parse_sync(self, cmd: Sync, reply: HttpReply) -> ProviderSnapshot | None:
        if reply.status == 404 and cmd.provider_reference is None:
            return None
        raise_for_status(self.name, reply)
        try:
            orders = msgspec.json.decode(reply.body, type=_Orders).orders
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise self.protocol_error(f"unreadable order: {exc}") from None
        if not orders:
            return None
        if len(orders) > 1:
            refs = ", ".join(str(o.id) for o in orders)
            raise self.protocol_error(f"{len(orders)} orders for {cmd.payment_id}: {refs}")
        return self._snapshot(orders[0], cmd.currency, reply)

    # -- reading orders --------------------------------------------------------

    def _order_or_raise(self, reply: HttpReply) -> _Order:
        order = _decode_order(reply) if reply.status < 500 else None
        if order is not None:
            return order
        raise_for_status(self.name, reply)
        raise self.protocol_error(f"HTTP {reply.status} without a readable order")

    def _snapshot(self, order: _Order, currency: str, reply: HttpReply) -> ProviderSnapshot:
        try:
            state = _STATES[order.status]
        except KeyError:
            raise self.protocol_error(f"unknown order status {order.status!r}") from None
        if order.currency != currency:
            raise self.protocol_error(f"order in {order.currency}, payment in {currency}")
        authorized = _minor(order.amount, currency)
        if state is ProviderState.FAILED or state is ProviderState.AWAITING_CUSTOMER:
            authorized = 0
        captured = _minor(order.amount_charged, currency)
        refunded = _minor(order.amount_refunded, currency)
        if order.status == "credited":
            state = ProviderState.REFUNDED if refunded else ProviderState.CAPTURED
        return ProviderSnapshot(
            reference=str(order.id),
            state=state,
            amount_authorized=authorized,
            amount_captured=captured,
            amount_refunded=refunded,
            failure=self._order_failure(order) if state is ProviderState.FAILED else None,
            next_action=self._next_action(order, reply),
            card_brand=order.card.type if order.card else None,
        )

    def _next_action(self, order: _Order, reply: HttpReply) -> NextAction | None:
        if order.status == "prepared" and order.form3d is not None:
            form = order.form3d
            fields = {"MD": form.MD, "PaReq": form.PaReq, "TermUrl": form.TermUrl}
            return NextAction(
                type="form",
                url=form.action,
                method=form.method.upper(),
                fields={k: v for k, v in fields.items() if v is not None},
            )
        if order.status == "new":
            location = reply.header("Location")
            if location:
                return NextAction(type="redirect", url=location, method="GET")
        return None

    def _order_failure(self, order: _Order) -> Failure:
        code, message = _ORDER_FAILURES[order.status]
        auths = [op for op in order.operations if op.type in ("authorize", "charge")]
        if order.status == "declined" and auths:
            return self._operation_failure(auths[-1], None)
        last = auths[-1] if auths else None
        return Failure(
            code=code,
            message=message,
            provider_code=last.iso_response_code if last else order.status,
            provider_message=last.iso_message if last else None,
        )

    @staticmethod
    def _operation_failure(op: _Operation, code: str | None) -> Failure:
        iso = op.iso_response_code or ""
        decline = code or _ISO_CODES.get(iso, "card_declined")
        text = (op.iso_message or decline.replace("_", " ")).rstrip(".")
        return Failure(
            code=decline,
            message=f"The {op.type} was declined: {text}.",
            provider_code=iso or None,
            provider_message=op.iso_message,
        )
