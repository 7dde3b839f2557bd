"""Send2Sell: pay a vendor order from the account's prepaid credits.

Built from ../shared/providers/send2sell.md. Where the doc is silent this
connector takes the safest reading:

* One call, `PATCH /api/order/:id/billing`, form-encoded with `use_credits=1`
  and `Authorization: Bearer <token>`. SEND2SELL_METHOD_SPOOFING=true sends it
  as `POST` with `_method=PATCH` (the doc's own PHP sample) for deployments that
  need it.
* The billing fields required are the ones the doc's sample sends: first_name,
  city, state, zip, phone; last_name, company, address, address2, country and
  email are sent when given.
* The provider prices the order: the payment's amount is the credits consumed
  (`consumed_credits`, USD major units read exactly), known from the reply;
  cost, discount, tax, total and net_total are kept in `provider_details`.
  `amount`, when the caller gives it, is what they expect to pay: kept as asked.
* 402 is a decline, not an error: `insufficient_credits`, with the doc's figures
  (credits_needed, total, net_total, and cost and tax) in `failure.details`; a 402
  whose body is unreadable is still that decline, without figures (the status
  alone says nothing was paid). The three documented
  403 messages are declines with their own codes (`provider_forbidden`,
  `payment_not_allowed`, `order_has_no_products`); another 403 message is
  `provider_forbidden`. 401 is our token (operator alert), 404 an unknown order,
  422 the provider's validation (its messages passed through). A 200 or 402 about
  another order than the one paid is a protocol error.
* Paying twice is impossible at Send2Sell: an order goes to Paid once, and a
  later billing call answers 403 "This order does not allow payment". There is
  no status call, so the way to settle an attempt left in doubt (a timeout) is
  to confirm again (`sync`): 200 Paid means the first attempt never consumed
  credits and this one did; 402 means neither paid; "does not allow payment"
  means the first attempt paid the order (the message read as a payment reads
  it). Then the consumed credits are not in the answer: the payment settles at
  the amount the caller said it expected (in USD); without one it stays in doubt
  for an operator (a 502 `provider_protocol_error` explains why). The same 403
  can also mean the order was locked for another reason: that is the limit of
  this reading, and why only an attempt already in doubt is settled by it. A
  payment whose kept billing is missing or no longer decodes is not confirmed
  again (a protocol error: it stays in doubt). When confirming again, an
  undocumented 403 message is also a protocol error, never a decline: it might
  be "paid already" in other words. Sync only confirms again while an attempt
  is in doubt and its first call is past its time limit (the orchestrator
  enforces it for connectors with `sync_repeats_payment`).
* Reconciling (strategy `confirm_again`): the reconciler runs that sync for an
  attempt in doubt; one it still cannot settle (the protocol error above, a
  provider that keeps failing) goes to operators after RECONCILE_MAX_ATTEMPTS.
"""

from decimal import Decimal
from typing import Annotated, Any, ClassVar, Final
from urllib.parse import urlencode

import msgspec

from service.connectors.base import ConnectorBase, reply_message
from service.domain.commands import PayOrder, Sync
from service.domain.errors import (
    ConnectorMisconfigured,
    FieldError,
    InvalidAmount,
    OutcomeUnknown,
    ProviderInputRefused,
    ProviderObjectNotFound,
    ProviderProtocolError,
    ProviderRejected,
)
from service.domain.money import Money, from_major
from service.domain.outcomes import (
    HttpCall,
    HttpReply,
    OperationOutcome,
    OutcomeStatus,
    ProviderSnapshot,
    ProviderState,
)
from service.domain.payments import Failure, PaymentMethodType
from service.domain.ports import Capability, ReconcileStrategy

__all__ = ["Send2SellBilling", "Send2SellConnector", "Send2SellOptions"]

CURRENCY: Final = "USD"  # "$74.69 has to be collected": credits are dollars
NOT_ALLOWED: Final = "This order does not allow payment"

# The doc's three 403 messages, each its own decline.
FORBIDDEN: Final[dict[str, tuple[str, str]]] = {
    "You are not authorized to access this order": (
        "provider_forbidden",
        "This account may not access the order.",
    ),
    NOT_ALLOWED: ("payment_not_allowed", "The order is paid already or locked."),
    "No cart or products linked to this order": (
        "order_has_no_products",
        "The order has no products to pay for.",
    ),
}
MESSAGE_LIMIT: Final = 300
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
# msgspec checks a pattern with re.search, whose `$` also matches before a final
# newline: the lookahead refuses "TX\n" (written so JSON Schema reads it the same).
State = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2}$(?!\n)")]
Zip = Annotated[str, msgspec.Meta(pattern=r"^\d{5}(-\d{4})?$(?!\n)")]


class Send2SellBilling(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """The order's complete billing details (the doc's sample fields, and the usual rest)."""

    first_name: Text
    city: Text
    state: State
    zip: Zip
    phone: Annotated[str, msgspec.Meta(min_length=3, max_length=40)]
    last_name: Text | None = None
    company: Text | None = None
    address: Text | None = None
    address2: Text | None = None
    country: Text | None = None
    email: Text | None = None


class Send2SellOptions(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Under `provider_options.send2sell`: the order to pay and its billing details."""

    order_id: Annotated[int, msgspec.Meta(ge=1)]
    billing: Send2SellBilling


class _Order(msgspec.Struct):
    id: int | str
    status: str
    cost: Decimal | None = None
    discount: Decimal | None = None
    tax: Decimal | None = None
    total: Decimal | None = None
    consumed_credits: Decimal | None = None
    credits_needed: Decimal | None = None
    net_total: Decimal | None = None
    coupon_name: str | None = None


_FIGURES: Final = (
    "cost",
    "discount",
    "tax",
    "total",
    "consumed_credits",
    "credits_needed",
    "net_total",
)


# What a 402 tells the caller in `failure.details` (minor units).
_SHORTFALL: Final = ("credits_needed", "total", "net_total", "cost", "tax")


class Send2SellConnector(ConnectorBase):
    name: ClassVar[str] = "send2sell"
    supports: ClassVar[frozenset[Capability]] = frozenset({Capability.PAY_ORDER, Capability.SYNC})
    options_type: ClassVar[type[msgspec.Struct] | None] = Send2SellOptions
    methods: ClassVar[frozenset[PaymentMethodType]] = frozenset({PaymentMethodType.PREPAID_CREDITS})
    sync_repeats_payment: ClassVar[bool] = True  # no status call: confirming again is the sync
    reconcile_strategy: ClassVar[ReconcileStrategy] = ReconcileStrategy.CONFIRM_AGAIN

    def __init__(self, token: str, *, method_spoofing: bool = False) -> None:
        self._token = token
        self._spoof = method_spoofing

    # -- paying -------------------------------------------------------------------------

    @staticmethod
    def _opts(cmd: PayOrder) -> Send2SellOptions | None:
        opts = cmd.provider_options
        return opts if isinstance(opts, Send2SellOptions) else None

    def validate_pay_order(self, cmd: PayOrder) -> list[FieldError]:
        if self._opts(cmd) is None:
            return [FieldError("provider_options.send2sell", "order_id and billing are required")]
        errors = []
        if cmd.method is not PaymentMethodType.PREPAID_CREDITS:
            errors.append(FieldError("payment_method.type", "send2sell takes prepaid_credits"))
        if cmd.requested_currency not in (None, CURRENCY):
            errors.append(FieldError("currency", "Send2Sell credits are in USD"))
        return errors

    def payer_currency(self, cmd: PayOrder) -> str:
        return CURRENCY

    def order_reference(self, cmd: PayOrder) -> str:
        opts = self._opts(cmd)
        assert opts is not None  # validate_pay_order refuses a command without options
        return str(opts.order_id)

    def _billing_call(self, order_id: str, billing: dict[str, Any]) -> HttpCall:
        form = {k: str(v) for k, v in billing.items() if v is not None} | {"use_credits": "1"}
        method = "PATCH"
        if self._spoof:
            method, form = "POST", form | {"_method": "PATCH"}
        headers = {
            "Authorization": f"Bearer {self._token}",
            "Accept": "application/json",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        return HttpCall(method, f"/api/order/{order_id}/billing", urlencode(form).encode(), headers)

    def build_pay_order(self, cmd: PayOrder) -> HttpCall:
        opts = self._opts(cmd)
        assert opts is not None
        return self._billing_call(str(opts.order_id), msgspec.to_builtins(opts.billing))

    def parse_pay_order(self, cmd: PayOrder, reply: HttpReply) -> OperationOutcome:
        return self._outcome(reply, self.order_reference(cmd))

    def _outcome(self, reply: HttpReply, reference: str) -> OperationOutcome:
        if reply.status == 402:
            return self._payment_required(reply, reference)
        if reply.status == 403:
            return OperationOutcome(OutcomeStatus.FAILED, reference, self._forbidden(reply))
        self._raise_for_status(reply)
        order = self._decode(reply, reference)
        if order.status != "Paid" or order.consumed_credits is None:
            raise self.protocol_error(f"a 2xx with order status {order.status!r}")
        figures = self._figures(order)
        priced = Money(figures["consumed_credits"], CURRENCY)
        snap = ProviderSnapshot(reference, ProviderState.CAPTURED, priced.amount, priced.amount, 0)
        return OperationOutcome(
            OutcomeStatus.SUCCEEDED, reference, snapshot=snap, priced=priced, details=figures
        )

    def _payment_required(self, reply: HttpReply, reference: str) -> OperationOutcome:
        """402: nothing was paid. The order's figures come along when they are readable."""
        try:
            order: _Order | None = msgspec.json.decode(reply.body, type=_Order)
        except (msgspec.DecodeError, msgspec.ValidationError):
            order = None
        if order is not None and str(order.id) != reference:
            raise self.protocol_error(f"a reply about order {order.id}, not {reference}")
        try:
            figures = self._figures(order) if order is not None else {}
        except ProviderProtocolError:
            figures = {}
        failure = Failure(
            code="insufficient_credits",
            message="The account's prepaid credits do not cover the order.",
            provider_code="402",
            provider_message=self.scrub(order.status) if order is not None else None,
            details={k: v for k, v in figures.items() if k in _SHORTFALL},
        )
        return OperationOutcome(OutcomeStatus.FAILED, reference, failure, details=figures)

    # -- settling an attempt in doubt: confirm again ----------------------------------

    @staticmethod
    def _requested(cmd: Sync) -> dict[str, Any]:
        requested = cmd.details.get("requested")
        return requested if isinstance(requested, dict) else {}

    def build_sync(self, cmd: Sync) -> HttpCall:
        billing = self._requested(cmd).get("billing")
        if not cmd.provider_reference or not isinstance(billing, dict):
            raise self.protocol_error("the payment kept no billing details to confirm with")
        try:
            kept = msgspec.convert(billing, Send2SellBilling)
        except msgspec.ValidationError as exc:
            raise self.protocol_error(f"the billing details kept are unusable: {exc}") from None
        return self._billing_call(cmd.provider_reference, msgspec.to_builtins(kept))

    def parse_sync(self, cmd: Sync, reply: HttpReply) -> ProviderSnapshot | None:
        reference = cmd.provider_reference or ""
        if reply.status == 403:
            failure = self._forbidden(reply)
            if failure.code == FORBIDDEN[NOT_ALLOWED][0]:
                return self._paid_before(reference, self._requested(cmd))
            if failure.provider_message is None or not any(
                failure.provider_message.startswith(text) for text in FORBIDDEN
            ):
                # Perhaps "paid already" in other words: never fail what may have paid.
                raise self.protocol_error(f"an unknown 403 ({failure.provider_message!r})")
            return ProviderSnapshot(reference, ProviderState.FAILED, 0, 0, 0, failure=failure)
        outcome = self._outcome(reply, reference)
        if outcome.status is OutcomeStatus.FAILED:
            return ProviderSnapshot(
                reference,
                ProviderState.FAILED,
                0,
                0,
                0,
                failure=outcome.failure,
                details=outcome.details,
            )
        assert outcome.snapshot is not None  # a success always carries one
        return msgspec.structs.replace(outcome.snapshot, details=outcome.details)

    def _paid_before(self, reference: str, requested: dict[str, Any]) -> ProviderSnapshot:
        """Pay-once: the order is paid, by the attempt in doubt, at the amount expected.

        Its credits are not in this answer; only an amount the caller said it expected
        (an int, in USD: `bool` is an int too) can stand in.
        """
        expected = requested.get("amount")
        currency = requested.get("amount_currency")
        if type(expected) is not int or expected < 0 or currency not in (None, CURRENCY):
            raise self.protocol_error(
                "the order reports itself paid but the credits consumed are unknown "
                "(no expected amount in USD was given): an operator must settle it"
            )
        return ProviderSnapshot(reference, ProviderState.CAPTURED, expected, expected, 0)

    # -- reading replies -----------------------------------------------------------------

    def _decode(self, reply: HttpReply, reference: str) -> _Order:
        try:
            order = msgspec.json.decode(reply.body, type=_Order)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise self.protocol_error(f"unreadable order: {exc}") from None
        if str(order.id) != reference:
            raise self.protocol_error(f"a reply about order {order.id}, not {reference}")
        return order

    def _figures(self, order: _Order) -> dict[str, Any]:
        """The order's money fields in minor units, read exactly; the coupon as given."""
        figures: dict[str, Any] = {}
        for name in _FIGURES:
            value = getattr(order, name)
            if value is None:
                continue
            try:
                figures[name] = from_major(value, CURRENCY)
            except InvalidAmount as exc:
                raise self.protocol_error(f"unusable {name} {value}: {exc.detail}") from None
        figures["coupon_name"] = self.scrub(order.coupon_name or "") or None
        figures["order_status"] = self.scrub(order.status)
        return figures

    def _forbidden(self, reply: HttpReply) -> Failure:
        message = self._message(reply)
        for text, (code, ours) in FORBIDDEN.items():
            if message.startswith(text):
                return Failure(code, ours, "403", message)
        return Failure(
            "provider_forbidden", "The provider refused this order.", "403", message or None
        )

    def _raise_for_status(self, reply: HttpReply) -> None:
        if 200 <= reply.status < 300:
            return
        message = self._message(reply) or f"HTTP {reply.status}"
        if reply.status == 401:
            raise ConnectorMisconfigured(self.name, f"HTTP 401: {message}")
        if reply.status == 404:
            raise ProviderObjectNotFound(
                self.name, message, http_status=404, provider_message=message
            )
        if reply.status == 422:
            raise ProviderInputRefused(self.name, self._messages(reply))
        if 400 <= reply.status < 500:
            raise ProviderRejected(
                self.name,
                f"HTTP {reply.status}: {message}",
                http_status=reply.status,
                provider_message=message,
            )
        raise OutcomeUnknown(self.name, f"HTTP {reply.status}: {message}")

    def _messages(self, reply: HttpReply) -> list[str]:
        """Laravel's {"message", "errors": {field: [messages]}} flattened."""
        try:
            data = msgspec.json.decode(reply.body)
        except msgspec.DecodeError:
            return [f"HTTP {reply.status}"]
        errors = data.get("errors") if isinstance(data, dict) else None
        if isinstance(errors, dict):
            flat = [
                self.scrub(str(m))
                for ms in errors.values()
                for m in (ms if isinstance(ms, list) else [ms])
            ]
            if flat:
                return flat[:20]
        return [self._message(reply) or f"HTTP {reply.status}"]

    def _message(self, reply: HttpReply) -> str:
        """The reply's message, the token hidden before it is cut (a cut token survives)."""
        body = reply.body.replace(self._token.encode(), b"***") if self._token else reply.body
        whole = reply_message(HttpReply(reply.status, body), limit=len(body)) or ""
        return self.scrub(whole).strip()[:MESSAGE_LIMIT]

    def scrub(self, text: str) -> str:
        # The token first: the generic masks could alter a part of it (a digit run).
        return super().scrub(text.replace(self._token, "***") if self._token else text)

    def protocol_error(self, detail: str) -> ProviderProtocolError:
        return super().protocol_error(self.scrub(detail))
