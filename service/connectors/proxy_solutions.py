"""Proxy-Solutions client API: pay (or extend) a vendor order, merchants, price quotes.

Built from ../shared/providers/proxy-solutions.md (three OpenAPI fragments). Where
the doc is silent this connector takes the safest reading:

* Authentication: the spec names a security scheme `api-key` but defines none.
  The key goes in a header named after the scheme, `api-key`, unless
  PROXY_SOLUTIONS_API_KEY_HEADER names another (`Authorization` sends it as
  `Bearer <key>`). A wrong choice costs a 401 (an operator alert), never money.
  The key is sent only where the spec lists security (the charge), not to the
  public merchant list or price calculation.
* The provider sets the price: a payment is recorded with no amount until the
  reply's `payer_amount` prices it, in `payer_currency`. `amount` (USD) and
  `period` are what was asked and stay in `provider_details.requested`; when
  both are given only the amount is sent ("period is ignored").
* `merchant: "balance"` pays at once: the payment is captured. Any other
  merchant issues an invoice: `requires_action` with the invoice URL. There is
  no status call and no notification, so an invoice payment stays waiting until
  an operator settles it; `sync` is not offered.
* The payer currency is the payment's currency, so it must be an ISO 4217 code
  this service keeps money in: crypto codes (USDT, BTC) are refused, never
  approximated. Amounts are JSON numbers read exactly (Decimal from the literal)
  and refused when they have more decimals than the currency, are negative or
  do not fit.
* Errors: 401 -> our key is wrong (operator alert, 502); 404 -> the order (or
  service) does not exist (422 `provider_order_not_found`); 422 -> the list of
  messages passed through as `errors[]`; 5xx or a timeout -> the outcome is unknown.
* The reply names no payment id; the vendor order id is the provider reference.
* Reconciling (strategy `manual`): with no status call and no notification the
  reconciler cannot learn anything. A balance payment left in doubt by a timeout
  goes to operators at the first look; an invoice waiting for its payer after
  RECONCILE_MAX_ATTEMPTS looks. Operators check the order at Proxy-Solutions and
  resolve the payment (`POST /v1/ops/payments/{id}/resolve`).
"""

from decimal import Decimal
from typing import Annotated, Any, ClassVar, Final, Literal

import msgspec

from service.connectors.base import ConnectorBase, reply_message
from service.domain.commands import PayOrder
from service.domain.errors import (
    ConnectorMisconfigured,
    FieldError,
    InvalidAmount,
    OutcomeUnknown,
    ProviderInputRefused,
    ProviderObjectNotFound,
    ProviderRejected,
    ProviderServiceNotFound,
    UnknownCurrency,
)
from service.domain.money import Money, exponent, format_major, from_major, is_currency
from service.domain.outcomes import (
    HttpCall,
    HttpReply,
    OperationOutcome,
    OutcomeStatus,
    PaymentMethodOption,
    ProviderSnapshot,
    ProviderState,
    Quote,
)
from service.domain.payments import ActionPurpose, NextAction, PaymentMethodType
from service.domain.ports import Capability, ReconcileStrategy

__all__ = ["ProxySolutionsConnector", "ProxySolutionsOptions", "ProxySolutionsQuoteRequest"]

BALANCE: Final = "balance"
_ENCODER: Final = msgspec.json.Encoder(decimal_format="number")
PositiveInt = Annotated[int, msgspec.Meta(ge=1)]


class ProxySolutionsOptions(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Under `provider_options.proxy_solutions`: which order, how and in what to pay."""

    order_id: PositiveInt
    merchant: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    currency: Annotated[str, msgspec.Meta(pattern="^[A-Z]{3}$", description="payer currency")]
    period: PositiveInt | None = None
    promocode: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None


class ServerOptions(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    os: str | None = None
    ram: str | None = None
    drive: str | None = None
    additional_ip: Annotated[int, msgspec.Meta(ge=0)] | None = None
    backup: str | None = None


class ProxySolutionsQuoteRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A price calculation, every option of `POST /services/{service_id}/price`."""

    service_id: PositiveInt
    lang: Literal["EN", "RU", "UA"] = "EN"
    uid: int | None = None
    location_id: int | None = None
    quantity: PositiveInt | None = None
    period: PositiveInt | None = None
    multiport: bool | None = None
    server_config_id: str | None = None
    server_options: ServerOptions | None = None
    promocode: str | None = None
    merchant: str | None = None
    currency: Annotated[str, msgspec.Meta(pattern="^[A-Z]{3,5}$")] | None = None


class _Payment(msgspec.Struct):
    payer_amount: Decimal
    payer_currency: str
    merchant: str | None = None
    discount: Decimal | None = None
    url: str | None = None


class _Charged(msgspec.Struct):
    payment: _Payment


class _Merchant(msgspec.Struct):
    code: str
    name: str = ""
    currencies: list[str] = []


class _Merchants(msgspec.Struct):
    merchants: list[_Merchant]


class _Price(msgspec.Struct):
    amount: Decimal
    payer_amount: Decimal
    payer_currency: str = "USD"
    converted_amount: Decimal | None = None
    discount: Decimal | None = None
    merchant: str | None = None
    lang: str | None = None


def _field(name: str) -> str:
    return f"provider_options.proxy_solutions.{name}"


def _present(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


class ProxySolutionsConnector(ConnectorBase):
    name: ClassVar[str] = "proxy_solutions"
    supports: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.PAY_ORDER, Capability.PAYMENT_METHODS, Capability.QUOTES}
    )
    reconcile_strategy: ClassVar[ReconcileStrategy] = ReconcileStrategy.MANUAL
    options_type: ClassVar[type[msgspec.Struct] | None] = ProxySolutionsOptions
    quote_type: ClassVar[type[msgspec.Struct] | None] = ProxySolutionsQuoteRequest
    methods: ClassVar[frozenset[PaymentMethodType]] = frozenset(
        {PaymentMethodType.BALANCE, PaymentMethodType.HOSTED_PAGE}
    )

    def __init__(self, api_key: str, *, header: str = "api-key") -> None:
        value = f"Bearer {api_key}" if header.lower() == "authorization" else api_key
        self._auth = {header: value}
        self._key = api_key

    # -- paying an order ---------------------------------------------------------------

    @staticmethod
    def _opts(cmd: PayOrder) -> ProxySolutionsOptions | None:
        opts = cmd.provider_options
        return opts if isinstance(opts, ProxySolutionsOptions) else None

    def validate_pay_order(self, cmd: PayOrder) -> list[FieldError]:
        opts = self._opts(cmd)
        if opts is None:
            return [FieldError("provider_options.proxy_solutions", "order_id, merchant, currency")]
        errors = []
        wanted = (
            PaymentMethodType.BALANCE if opts.merchant == BALANCE else PaymentMethodType.HOSTED_PAGE
        )
        if cmd.method is not wanted:
            errors.append(
                FieldError("payment_method.type", f"{wanted} for merchant {opts.merchant}")
            )
        if not is_currency(opts.currency) or exponent(opts.currency) > 3:
            errors.append(FieldError(_field("currency"), "an ISO 4217 currency this service keeps"))
        if cmd.requested_currency not in (None, "USD"):
            errors.append(FieldError("currency", "the amount asked for is in USD"))
        if cmd.requested_amount is not None:
            try:
                format_major(cmd.requested_amount, "USD")
            except InvalidAmount as exc:
                errors.append(FieldError("amount", str(exc)))
        return errors

    def payer_currency(self, cmd: PayOrder) -> str:
        opts = self._opts(cmd)
        assert opts is not None  # validate_pay_order refuses a command without options
        return opts.currency

    def order_reference(self, cmd: PayOrder) -> str:
        opts = self._opts(cmd)
        assert opts is not None
        return str(opts.order_id)

    def build_pay_order(self, cmd: PayOrder) -> HttpCall:
        opts = self._opts(cmd)
        assert opts is not None
        amount = cmd.requested_amount
        body = _present(
            {
                "merchant": opts.merchant,
                "currency": opts.currency,
                # "If payment amount is specified, the period field is ignored": send one.
                "period": opts.period if amount is None else None,
                "amount": Decimal(format_major(amount, "USD")) if amount is not None else None,
                "promocode": opts.promocode,
            }
        )
        headers = {"Content-Type": "application/json", "Accept": "application/json", **self._auth}
        path = f"/user/orders/{opts.order_id}/charge"
        return HttpCall("POST", path, _ENCODER.encode(body), headers)

    def parse_pay_order(self, cmd: PayOrder, reply: HttpReply) -> OperationOutcome:
        opts = self._opts(cmd)
        assert opts is not None
        self._raise_for_status(reply, ProviderObjectNotFound)
        paid = self._decode(reply, _Charged).payment
        currency = paid.payer_currency.upper()
        if currency != opts.currency:
            raise self.protocol_error(f"priced in {currency}, asked for {opts.currency}")
        priced = Money(self._minor(paid.payer_amount, currency), currency)
        details: dict[str, Any] = {
            "payer_amount": priced.amount,
            "payer_currency": currency,
            "discount_percent": f"{paid.discount:f}" if paid.discount is not None else None,
            "merchant": paid.merchant or opts.merchant,
            "invoice_url": paid.url,
        }
        reference = str(opts.order_id)
        if opts.merchant == BALANCE:
            snap = ProviderSnapshot(
                reference, ProviderState.CAPTURED, priced.amount, priced.amount, 0
            )
            return OperationOutcome(
                OutcomeStatus.SUCCEEDED, reference, snapshot=snap, priced=priced, details=details
            )
        if not paid.url or not paid.url.startswith(("https://", "http://")):
            raise self.protocol_error("an invoice without a URL")
        action = NextAction(
            type="redirect", url=paid.url, method="GET", purpose=ActionPurpose.HOSTED_PAGE
        )
        return OperationOutcome(
            OutcomeStatus.ACTION_REQUIRED,
            reference,
            next_action=action,
            priced=priced,
            details=details,
        )

    # -- merchants and quotes -----------------------------------------------------------

    def build_payment_methods(self) -> HttpCall:
        return HttpCall("GET", "/merchants", None, {"Accept": "application/json"})

    def parse_payment_methods(self, reply: HttpReply) -> list[PaymentMethodOption]:
        self._raise_for_status(reply, ProviderObjectNotFound)
        merchants = self._decode(reply, _Merchants).merchants
        return [PaymentMethodOption(m.code, m.name, tuple(m.currencies)) for m in merchants]

    def build_quote(self, request: msgspec.Struct) -> HttpCall:
        assert isinstance(request, ProxySolutionsQuoteRequest)
        given = msgspec.to_builtins(request)
        if isinstance(given.get("server_options"), dict):
            given["server_options"] = _present(given["server_options"])
        body = {k: v for k, v in given.items() if k not in ("service_id", "lang") and v is not None}
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        path = f"/services/{request.service_id}/price"
        return HttpCall("POST", path, _ENCODER.encode(body), headers, {"lang": request.lang})

    def parse_quote(self, request: msgspec.Struct, reply: HttpReply) -> Quote:
        self._raise_for_status(reply, ProviderServiceNotFound)
        price = self._decode(reply, _Price)
        currency = price.payer_currency.upper()
        converted = price.converted_amount
        return Quote(
            amount=Money(self._minor(price.amount, "USD"), "USD"),
            payer_amount=Money(self._minor(price.payer_amount, currency), currency),
            converted_amount=Money(self._minor(converted, currency), currency)
            if converted is not None
            else None,
            discount_percent=price.discount,
            merchant=price.merchant,
            lang=price.lang,
        )

    # -- reading replies -----------------------------------------------------------------

    def _minor(self, value: Decimal, currency: str) -> int:
        try:
            return from_major(value, currency)
        except (InvalidAmount, UnknownCurrency) as exc:
            raise self.protocol_error(f"unusable amount {value} {currency}: {exc.detail}") from None

    def _decode(self, reply: HttpReply, kind: type[Any]) -> Any:
        try:
            return msgspec.json.decode(reply.body, type=kind)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise self.protocol_error(f"unreadable reply: {exc}") from None

    def _raise_for_status(self, reply: HttpReply, not_found: type[ProviderObjectNotFound]) -> None:
        if 200 <= reply.status < 300:
            return
        # Our own scrub: a provider that echoes the key must not carry it into logs.
        message = self.scrub(reply_message(reply) or "") or f"HTTP {reply.status}"
        if reply.status in (401, 403):
            raise ConnectorMisconfigured(self.name, f"HTTP {reply.status}: {message}")
        if reply.status == 404:
            raise not_found(self.name, message, http_status=404, provider_message=message)
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
        try:
            data = msgspec.json.decode(reply.body)
        except msgspec.DecodeError:
            text = self.scrub(reply.body[:300].decode("utf-8", "replace").strip())
            return [text or f"HTTP {reply.status}"]
        if isinstance(data, list) and data:
            return [self.scrub(str(item))[:300] for item in data][:20]
        return [self.scrub(reply_message(reply) or "") or f"HTTP {reply.status}"]

    def scrub(self, text: str) -> str:
        return super().scrub(text).replace(self._key, "***") if self._key else super().scrub(text)
