"""Bizon card gateway: every documented action.

Cards, hosted page, wallet tokens, 3-D Secure 1 and 2, rebill, OCT payouts,
exchange rates and health. Built from ../shared/providers/bizon.md and
bizon-supplement.md. Where the doc is silent this connector takes the safest
reading, as follows:

* Error bodies are not documented. Any non-2xx is classified by status only
  (401/403: our credentials; other 4xx: refused, nothing happened; 5xx: the
  outcome is unknown) and a message is read best-effort for operators.
* The HTTP status of a decline is not documented: a reply carrying an order is
  read by its order and operation statuses whatever its 2xx/4xx status, so a
  decline is never mistaken for an integration failure or the other way round.
* Bizon has no idempotency key. We send our payment (or payout) id as
  `merchant_order_id` (the doc's filter on `GET /orders/`), so an order whose
  reply was lost can be found again by `sync`; the caller's `merchant_reference`
  stays in our ledger. Rebill's optional fields do not list merchant_order_id;
  we send it anyway (an Authorize field, "optional parameters" elsewhere are the
  Authorize ones) because a rebill whose reply is lost could not be found without it.
* Amounts are decimal strings with two decimals both ways (supplement, "Notes").
  A currency with three decimals is refused unless the amount is exact in two.
* `card.holder` and `card.cvv` "can be configured as optional" per project; we
  require them for a card authorize, since a project that needs them would refuse
  the payment. Rebill's cvv is required unless BIZON_REBILL_REQUIRES_CVV=false.
* Charge is single: the supplement allows charge only from `authorized`, so a
  partial charge releases the rest of the authorization.
* `refunded` covers partial refunds; `amount_refunded` vs `amount_charged` tells.
* Rebill and credit answer with a NEW order (the doc's examples show new ids):
  its id becomes the new payment's / the payout's provider reference.
* `auto_charge` is documented for authorize, create and token_pay, not for
  rebill: a rebill is authorized only, and the orchestration captures after it.
* 3-D Secure: the `form3d` fields tell the step (PaReq: 3DS 1, answer with the
  PaRes; threeDSMethodData: 3DS 2 method, then `/resume`; creq or
  threeDSSessionData: 3DS 2 challenge, answer with the cres). Without any of
  them, `secure3d.version` "2" means a challenge, anything else 3DS 1.
  `secure3d20_return_url` defaults to the payment's `return_url`.
  A declined order whose `secure3d.authorization_status` is N, U or R failed
  authentication (`authentication_failed`), not the issuer's decision.
* token_pay takes none of pan, card.*, secure3d.*, force3d, return_url,
  secure3d20_return_url (the doc's hint), so none are sent; force3d is refused.
* `PUT /orders/:id/cancel` is not used: our cancel decides void or refund from
  the ledger and calls `reverse` or `refund` itself, so the operation recorded as
  pending is the one sent, and an order in an unexpected state is refused by
  Bizon instead of being refunded where a void was meant.
* `GET /operations/` (all operations across orders) is not needed for one
  payment: `GET /orders/:id?expand=operations.cashflow` carries them.
* Reconciling (strategy `status_call`): an operation left in doubt is settled by
  `sync`, which reads `GET /orders/:id`, or `GET /orders/?merchant_order_id=` when
  the authorize reply was lost before it named the order. An order still
  `prepared` (the customer never finished 3-D Secure or the hosted page) stays
  in doubt; after RECONCILE_MAX_ATTEMPTS looks it goes to operators.
"""

from typing import ClassVar
from urllib.parse import quote

import msgspec

from service.connectors.base import ConnectorBase, basic_auth, encode_json, raise_for_status
from service.domain.commands import (
    Authenticate,
    Authorize,
    Capture,
    Credit,
    Customer,
    Rebill,
    Refund,
    Sync,
    Void,
)
from service.domain.errors import FieldError, InvalidAmount, ProviderProtocolError
from service.domain.outcomes import (
    ExchangeRate,
    HttpCall,
    HttpReply,
    OperationOutcome,
    OutcomeStatus,
    ProviderSnapshot,
    ProviderState,
)
from service.domain.payments import CaptureMethod, PaymentMethodType
from service.domain.ports import Capability, ReconcileStrategy

from . import mapping as m
from . import wire

__all__ = ["BizonConnector", "BizonOptions"]


class BizonOptions(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Bizon-specific inputs, under `provider_options.bizon`."""

    force3d: bool = False
    secure3d20_return_url: str | None = None
    terminal: str | None = None
    segment: str | None = None
    language: str | None = None
    expiration_timeout: str | None = None
    recurring: bool = False
    exemption_mit: bool = False


_SUCCEEDED = (ProviderState.AUTHORIZED, ProviderState.CAPTURED)
_WALLETS = ("apple_pay", "google_pay")


def _client(customer: Customer) -> dict[str, str]:
    fields = msgspec.structs.asdict(customer)
    fields.pop("ip")
    return {key: value for key, value in fields.items() if value}


def _order_outcome(order: wire.Order, currency: str, reply: HttpReply) -> OperationOutcome:
    """Read authorize, complete, resume and rebill replies: the order state is the outcome."""
    snap = m.snapshot(order, currency, reply)
    if snap.state in _SUCCEEDED:
        return OperationOutcome(OutcomeStatus.SUCCEEDED, snap.reference, snapshot=snap)
    if snap.state is ProviderState.FAILED:
        return OperationOutcome(OutcomeStatus.FAILED, snap.reference, snap.failure, snapshot=snap)
    if snap.state is ProviderState.AWAITING_CUSTOMER and snap.next_action is not None:
        return OperationOutcome(
            OutcomeStatus.ACTION_REQUIRED,
            snap.reference,
            next_action=snap.next_action,
            snapshot=snap,
        )
    raise ProviderProtocolError(m.PROVIDER, f"order status {order.status!r} is no outcome here")


class BizonConnector(ConnectorBase):
    name: ClassVar[str] = "bizon"
    # Listed, not derived from the enum: a new capability must be a decision per connector.
    supports: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.AUTHORIZE,
            Capability.CAPTURE,
            Capability.VOID,
            Capability.REFUND,
            Capability.SYNC,
            Capability.AUTHENTICATE,
            Capability.REBILL,
            Capability.PAYOUT,
            Capability.EXCHANGE_RATES,
            Capability.HEALTH,
        }
    )
    # GET /orders/?merchant_order_id= finds an order whose reply was lost (see above).
    reconcile_strategy: ClassVar[ReconcileStrategy] = ReconcileStrategy.STATUS_CALL
    options_type: ClassVar[type[msgspec.Struct] | None] = BizonOptions
    methods: ClassVar[frozenset[PaymentMethodType]] = frozenset(
        {PaymentMethodType.CARD, PaymentMethodType.HOSTED_PAGE, PaymentMethodType.WALLET_TOKEN}
    )

    def __init__(self, login: str, password: str, *, rebill_requires_cvv: bool = True) -> None:
        self._headers = {
            "Authorization": basic_auth(login, password),
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        self._rebill_requires_cvv = rebill_requires_cvv

    def _call(self, method: str, path: str, body: object = None) -> HttpCall:
        payload = None if body is None else encode_json(body)
        return HttpCall(method, path, payload, self._headers)

    def _order_path(self, reference: str, action: str) -> str:
        return f"/orders/{quote(reference, safe='')}/{action}"

    # -- authorize: card, hosted page, wallet token ----------------------------------

    def validate_authorize(self, cmd: Authorize) -> list[FieldError]:
        errors: list[FieldError] = []
        try:
            m.amount(cmd.money.amount, cmd.money.currency)
        except InvalidAmount as exc:
            errors.append(FieldError("amount", str(exc)))
        opts = self._opts(cmd)
        if cmd.method is PaymentMethodType.CARD:
            errors += self._card_errors(cmd)
        elif cmd.method is PaymentMethodType.WALLET_TOKEN:
            if cmd.wallet is None or cmd.wallet.type not in _WALLETS:
                errors.append(
                    FieldError("payment_method.wallet_token.type", "apple_pay or google_pay")
                )
            if opts.force3d:
                errors.append(FieldError("provider_options.bizon.force3d", "not for wallet tokens"))
        elif cmd.method is not PaymentMethodType.HOSTED_PAGE:
            errors.append(FieldError("payment_method.type", f"{cmd.method} is not offered"))
        if cmd.method is not PaymentMethodType.HOSTED_PAGE and not cmd.customer.ip:
            errors.append(FieldError("customer.ip", "required by bizon (location.ip)"))
        return errors

    @staticmethod
    def _card_errors(cmd: Authorize) -> list[FieldError]:
        card = cmd.card
        if card is None:
            return [FieldError("payment_method.card", "required")]
        errors = []
        if not card.cvv:
            errors.append(FieldError("payment_method.card.cvv", "required by bizon"))
        if not card.holder or not 2 <= len(card.holder) <= 40:
            errors.append(
                FieldError("payment_method.card.holder", "bizon needs 2 to 40 characters")
            )
        return errors

    @staticmethod
    def _opts(cmd: Authorize) -> BizonOptions:
        opts = cmd.provider_options
        return opts if isinstance(opts, BizonOptions) else BizonOptions()

    def _options(self, cmd: Authorize) -> dict[str, object]:
        opts = self._opts(cmd)
        method = cmd.method
        options: dict[str, object] = {
            "auto_charge": 1 if cmd.capture is CaptureMethod.AUTOMATIC else 0
        }
        flags = {"recurring": opts.recurring, "exemption_mit": opts.exemption_mit}
        if method is not PaymentMethodType.WALLET_TOKEN:
            flags["force3d"] = opts.force3d
            if cmd.return_url:
                options["return_url"] = cmd.return_url
        options |= {name: 1 for name, on in flags.items() if on}
        if opts.terminal:
            options["terminal"] = opts.terminal
        if method is PaymentMethodType.CARD:
            notify = opts.secure3d20_return_url or cmd.return_url
            if notify:
                options["secure3d20_return_url"] = notify
        if method is PaymentMethodType.HOSTED_PAGE:
            if opts.language:
                options["language"] = opts.language
            if opts.expiration_timeout:
                options["expiration_timeout"] = opts.expiration_timeout
        return options

    def _common(self, cmd: Authorize) -> dict[str, object]:
        body: dict[str, object] = {
            "amount": m.amount(cmd.money.amount, cmd.money.currency),
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
        if self._opts(cmd).segment:
            body["segment"] = self._opts(cmd).segment
        return body

    def build_authorize(self, cmd: Authorize) -> HttpCall:
        body = self._common(cmd)
        if cmd.method is PaymentMethodType.HOSTED_PAGE:
            return self._call("POST", "/orders/create", body)
        if cmd.method is PaymentMethodType.WALLET_TOKEN:
            if cmd.wallet is None:
                raise ProviderProtocolError(self.name, "wallet payment without a token")
            body["dsrp"] = {"type": cmd.wallet.type, "token": cmd.wallet.token}
            return self._call("POST", "/orders/token_pay", body)
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
        if card.three_d_secure is not None:
            given = msgspec.structs.asdict(card.three_d_secure)
            if secure3d := {key: value for key, value in given.items() if value}:
                body["secure3d"] = secure3d
        return self._call("POST", "/orders/authorize", body)

    def parse_authorize(self, cmd: Authorize, reply: HttpReply) -> OperationOutcome:
        return _order_outcome(self._order(reply), cmd.money.currency, reply)

    # -- 3-D Secure: complete (PaRes), complete3d20 (cres), resume -------------------

    def build_authenticate(self, cmd: Authenticate) -> HttpCall:
        if cmd.pares is not None:
            path, body = "complete", {"PaRes": cmd.pares}
        elif cmd.cres is not None:
            path, body = "complete3d20", {"cres": cmd.cres}
        else:
            path, body = "resume", None
        return self._call("POST", self._order_path(cmd.provider_reference, path), body)

    def parse_authenticate(self, cmd: Authenticate, reply: HttpReply) -> OperationOutcome:
        return _order_outcome(self._order(reply), cmd.money.currency, reply)

    # -- capture / void / refund -------------------------------------------------------

    def build_capture(self, cmd: Capture) -> HttpCall:
        body = {"amount": m.amount(cmd.money.amount, cmd.money.currency)}
        return self._call("PUT", self._order_path(cmd.provider_reference, "charge"), body)

    def parse_capture(self, cmd: Capture, reply: HttpReply) -> OperationOutcome:
        return self._operation_outcome("charge", cmd.money.currency, reply)

    def build_void(self, cmd: Void) -> HttpCall:
        return self._call("PUT", self._order_path(cmd.provider_reference, "reverse"))

    def parse_void(self, cmd: Void, reply: HttpReply) -> OperationOutcome:
        return self._operation_outcome("reverse", cmd.money.currency, reply)

    def build_refund(self, cmd: Refund) -> HttpCall:
        body = {"amount": m.amount(cmd.money.amount, cmd.money.currency)}
        return self._call("PUT", self._order_path(cmd.provider_reference, "refund"), body)

    def parse_refund(self, cmd: Refund, reply: HttpReply) -> OperationOutcome:
        return self._operation_outcome("refund", cmd.money.currency, reply)

    def _operation_outcome(
        self, wire_type: str, currency: str, reply: HttpReply
    ) -> OperationOutcome:
        order = self._order(reply)
        snap = m.snapshot(order, currency, reply)
        matching = [op for op in order.operations if op.type == wire_type]
        if not matching:
            raise self.protocol_error(f"{wire_type} reply lists no {wire_type} operation")
        last = matching[-1]
        if last.status == "success":
            return OperationOutcome(OutcomeStatus.SUCCEEDED, snap.reference, snapshot=snap)
        if last.status in ("failure", "error"):
            code = "processing_error" if last.status == "error" else None
            failure = m.operation_failure(last, code)
            return OperationOutcome(OutcomeStatus.FAILED, snap.reference, failure, snapshot=snap)
        raise self.protocol_error(f"unknown operation status {last.status!r}")

    # -- rebill and OCT credit: both answer with a new order ----------------------------

    def validate_rebill(self, cmd: Rebill) -> list[FieldError]:
        errors = []
        try:
            m.amount(cmd.money.amount, cmd.money.currency)
        except InvalidAmount as exc:
            errors.append(FieldError("amount", str(exc)))
        if self._rebill_requires_cvv and not cmd.cvv:
            errors.append(FieldError("cvv", "required by bizon for a rebill"))
        if not cmd.customer.ip:
            errors.append(FieldError("customer.ip", "required by bizon (location.ip)"))
        return errors

    def validate_credit(self, cmd: Credit) -> list[FieldError]:
        errors = []
        try:
            m.amount(cmd.money.amount, cmd.money.currency)
        except InvalidAmount as exc:
            errors.append(FieldError("amount", str(exc)))
        card = cmd.card
        # Authorize's card.* fields come together; a credit may send none or all of them.
        given = [card.holder, card.exp_month, card.exp_year] if card else []
        if any(given) and not all(given):
            errors.append(
                FieldError("destination.card", "bizon needs holder and expiry together, or none")
            )
        return errors

    def build_rebill(self, cmd: Rebill) -> HttpCall:
        body: dict[str, object] = {
            "amount": m.amount(cmd.money.amount, cmd.money.currency),
            "location": {"ip": cmd.customer.ip},
            "merchant_order_id": cmd.payment_id,
            "options": {"recurring": 1},
        }
        if cmd.cvv:
            body["cvv"] = cmd.cvv
        # Rebill documents no description: it stays in our ledger only.
        if cmd.recurring is not None:
            details = {k: v for k, v in msgspec.structs.asdict(cmd.recurring).items() if v}
            if details:
                body["recurring_details"] = details
        return self._call("POST", self._order_path(cmd.parent_reference, "rebill"), body)

    def parse_rebill(self, cmd: Rebill, reply: HttpReply) -> OperationOutcome:
        return _order_outcome(self._order(reply), cmd.money.currency, reply)

    def build_credit(self, cmd: Credit) -> HttpCall:
        body: dict[str, object] = {
            "amount": m.amount(cmd.money.amount, cmd.money.currency),
            "currency": cmd.money.currency,
            "merchant_order_id": cmd.payout_id,
        }
        if cmd.customer.ip:
            body["location"] = {"ip": cmd.customer.ip}
        if cmd.description:
            body["description"] = cmd.description
        if cmd.source_reference is not None:
            return self._call("POST", self._order_path(cmd.source_reference, "credit"), body)
        if cmd.card is None:
            raise ProviderProtocolError(self.name, "a credit needs a source order or a card")
        body["pan"] = cmd.card.number
        card = {"holder": cmd.card.holder}
        if cmd.card.exp_month and cmd.card.exp_year:
            card |= {
                "expiration_month": f"{cmd.card.exp_month:02d}",
                "expiration_year": str(cmd.card.exp_year),
            }
        if any(card.values()):
            body["card"] = {k: v for k, v in card.items() if v}
        return self._call("POST", "/orders/credit", body)

    def parse_credit(self, cmd: Credit, reply: HttpReply) -> OperationOutcome:
        order = self._order(reply)
        snap = m.snapshot(order, cmd.money.currency, reply)
        credits = [op for op in order.operations if op.type == "credit"]
        if snap.state is ProviderState.CREDITED and credits and credits[-1].status == "success":
            return OperationOutcome(OutcomeStatus.SUCCEEDED, snap.reference, snapshot=snap)
        if snap.state is ProviderState.FAILED or (credits and credits[-1].status != "success"):
            failure = m.credit_failure(order, credits[-1] if credits else None)
            return OperationOutcome(OutcomeStatus.FAILED, snap.reference, failure, snapshot=snap)
        raise self.protocol_error(f"credit answered with order status {order.status!r}")

    # -- sync -------------------------------------------------------------------------

    def build_sync(self, cmd: Sync) -> HttpCall:
        query = {"expand": "card,secure3d,operations.cashflow"}
        if cmd.provider_reference:
            path = f"/orders/{quote(cmd.provider_reference, safe='')}"
            return HttpCall("GET", path, None, self._headers, query)
        # The reply was lost: find the order by the id we sent as merchant_order_id.
        query |= {"merchant_order_id": cmd.payment_id}
        return HttpCall("GET", "/orders/", None, self._headers, query)

    def parse_sync(self, cmd: Sync, reply: HttpReply) -> ProviderSnapshot | None:
        if reply.status == 404 and cmd.provider_reference is None:
            return None
        raise_for_status(self.name, reply)
        orders = wire.decode_orders(reply.body)
        if orders is None:
            raise self.protocol_error("unreadable order list")
        if not orders:
            return None
        if len(orders) > 1:
            refs = ", ".join(str(o.id) for o in orders)
            raise self.protocol_error(f"{len(orders)} orders for {cmd.payment_id}: {refs}")
        return m.snapshot(orders[0], cmd.currency, reply)

    # -- exchange rates and health -------------------------------------------------------

    def build_exchange_rates(self) -> HttpCall:
        return HttpCall("GET", "/exchange_rates/", None, self._headers)

    def parse_exchange_rates(self, reply: HttpReply) -> list[ExchangeRate]:
        raise_for_status(self.name, reply)
        try:
            rates = msgspec.json.decode(reply.body, type=wire.Rates).exchange_rates
            return [ExchangeRate(r.base, r.quote, m.decimal_rate(r.rate)) for r in rates]
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise self.protocol_error(f"unreadable exchange rates: {exc}") from None

    def build_ping(self) -> HttpCall:
        return HttpCall("GET", "/ping", None, self._headers)

    def parse_ping(self, reply: HttpReply) -> str | None:
        if reply.status != 200:
            return f"HTTP {reply.status}"
        try:
            pong = msgspec.json.decode(reply.body, type=wire.Pong)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return "unreadable /ping reply"
        return None if pong.message.upper().startswith("PONG") else f"ping said {pong.message!r}"

    # -- reading replies -----------------------------------------------------------------

    def _order(self, reply: HttpReply) -> wire.Order:
        orders = wire.decode_orders(reply.body) if reply.status < 500 else None
        if orders is not None and len(orders) == 1:
            return orders[0]
        raise_for_status(self.name, reply)
        raise self.protocol_error(f"HTTP {reply.status} without a readable order")
