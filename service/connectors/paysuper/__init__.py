"""PaySuper hosted checkout: orders and tokens, signed calls, signed notifications.

Built from ../shared/providers/paysuper.md and paysuper-supplement.md. Where the
docs are silent this connector takes the safest reading:

* Only a hosted page is offered: capture, refund and void from our side are not
  in PaySuper's API, so they are `operation_not_supported`; so is `sync` (there is
  no order-status call: notifications are the only source of truth).
* Server calls carry `X-API-SIGNATURE`: hex SHA-512 of the exact body bytes plus
  the secret (the supplement's safe form) unless PAYSUPER_SIGNATURE_MODE=secret.
* `order_id` is our payment id on an order; a token carries it in
  `settings.metadata.orchestrator_payment_id` (the Order object has no
  merchant order id, and an order made from a token gets an id we never saw):
  notifications are matched by PaySuper's order id, else by that metadata key.
  The key is reserved: a caller's metadata may not use it.
* Amounts go out as JSON numbers written from Decimal (exactly "9.99", never a
  float) and come back decoded from the literal; a value with more precision
  than the currency, negative or not finite is refused, never rounded.
* product and key orders are priced by PaySuper from their products: no amount
  or currency is sent, and the payment's amount is the price the caller expects;
  a notification with another amount is a mismatch kept for operators.
* `url_success`/`url_fail` need "dynamic notify URLs" enabled in the project:
  they are sent only when given (options, else the payment's `return_url`).
* The event type, not the embedded order status, carries the outcome (the
  supplement's sample success event still reads "created").
* A refund event's amount is `object.refund.amount` (the Order field the doc
  lists without a shape); without it the refund is of all that is left.
* Currencies in Order objects may be lowercase (the doc's table) or upper (its
  example): both are read.
* Reconciling (strategy `webhooks`): there is nothing to ask, so the reconciler
  never calls PaySuper. A payment waiting on its payment form is settled by the
  notification; once the reconciler has looked RECONCILE_MAX_ATTEMPTS times
  without one it goes to operators (a late notification still settles it). A
  payment left `processing` (the order-creation reply was lost, so no customer
  has the form) goes to operators at the first look.
"""

import hashlib
import hmac
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import ClassVar, Final, Literal

import msgspec

from service.connectors.base import ConnectorBase, reply_message
from service.domain.commands import Authorize
from service.domain.errors import (
    ConnectorMisconfigured,
    FieldError,
    InvalidAmount,
    OutcomeUnknown,
    ProviderRejected,
    UnknownCurrency,
)
from service.domain.money import Money, format_major, from_major
from service.domain.outcomes import HttpCall, HttpReply, OperationOutcome, OutcomeStatus
from service.domain.payments import ActionPurpose, CardSummary, NextAction, PaymentMethodType
from service.domain.ports import Capability, ReconcileStrategy
from service.domain.webhooks import WebhookEvent, WebhookKind

from . import wire

__all__ = ["PAYMENT_ID_KEY", "PaySuperConnector", "PaySuperOptions", "PaySuperUser"]

PAYMENT_ID_KEY: Final = "orchestrator_payment_id"
_SIGNATURE_HEADER: Final = re.compile(r"""(x-api-signature["']?\s*[:=]\s*["']?)[^\s"',}]+""", re.I)
PLATFORMS = Literal["steam", "gog", "uplay", "origin", "psn", "xbox", "nintendo", "itch", "egs"]

EVENTS: Final[dict[str, WebhookKind]] = {
    "payment.success": WebhookKind.PAYMENT_SUCCEEDED,
    "payment.refund": WebhookKind.PAYMENT_REFUNDED,
    "payment.chargeback": WebhookKind.PAYMENT_CHARGED_BACK,
    "payment.cancel": WebhookKind.PAYMENT_CANCELED,
}
# The Order statuses of paysuper.md; any other is a protocol error.
STATUSES: Final = frozenset(
    {"created", "processed", "rejected", "canceled", "refunded", "chargeback"}
)


class PaySuperAddress(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    country: str | None = None
    city: str | None = None
    postal_code: str | None = None
    state: str | None = None


class PaySuperUser(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The customer as PaySuper knows them; `id` is required for a token."""

    id: str | None = None
    name: str | None = None
    email: str | None = None
    email_verified: bool = False
    phone: str | None = None
    phone_verified: bool = False
    ip: str | None = None
    locale: str | None = None
    address: PaySuperAddress | None = None
    metadata: dict[str, str] = {}


class PaySuperOptions(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """PaySuper-specific inputs, under `provider_options.paysuper`.

    `checkout: "token"` pre-fills the form with `user`, encrypted by PaySuper.
    """

    checkout: Literal["order", "token"] = "order"
    project: str | None = None
    type: Literal["simple", "product", "key"] = "simple"
    products: list[str] = []
    platform_id: PLATFORMS | None = None
    account: str | None = None
    user: PaySuperUser | None = None
    url_success: str | None = None
    url_fail: str | None = None
    metadata: dict[str, str] = {}


def _field(name: str) -> str:
    return f"provider_options.paysuper.{name}"


def _verified(value: str | None, verified: bool | None = None) -> dict[str, object] | None:
    if value is None:
        return None
    return {"value": value} if verified is None else {"value": value, "verified": verified}


def _present(fields: Mapping[str, object]) -> dict[str, object]:
    return {k: v for k, v in fields.items() if v not in (None, {}, [])}


class PaySuperConnector(ConnectorBase):
    name: ClassVar[str] = "paysuper"
    supports: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.AUTHORIZE, Capability.WEBHOOKS}
    )
    reconcile_strategy: ClassVar[ReconcileStrategy] = ReconcileStrategy.WEBHOOKS
    options_type: ClassVar[type[msgspec.Struct] | None] = PaySuperOptions
    methods: ClassVar[frozenset[PaymentMethodType]] = frozenset({PaymentMethodType.HOSTED_PAGE})

    def __init__(
        self, project_id: str | None, secret_key: str, *, signature_mode: str = "sha512"
    ) -> None:
        self._project = project_id
        self._secret = secret_key.encode()
        self._mode = signature_mode

    # -- creating an order or a token ------------------------------------------------

    @staticmethod
    def _opts(cmd: Authorize) -> PaySuperOptions:
        opts = cmd.provider_options
        return opts if isinstance(opts, PaySuperOptions) else PaySuperOptions()

    def validate_authorize(self, cmd: Authorize) -> list[FieldError]:
        opts = self._opts(cmd)
        errors: list[FieldError] = []
        if cmd.method is not PaymentMethodType.HOSTED_PAGE:
            errors.append(FieldError("payment_method.type", "paysuper offers hosted_page only"))
        if not (opts.project or self._project):
            errors.append(FieldError(_field("project"), "required (no PAYSUPER_PROJECT_ID set)"))
        try:
            format_major(cmd.money.amount, cmd.money.currency, places=2)
        except InvalidAmount as exc:
            errors.append(FieldError("amount", str(exc)))
        if opts.type == "simple" and opts.products:
            errors.append(FieldError(_field("products"), "only for type product or key"))
        if opts.type != "simple" and not opts.products:
            errors.append(FieldError(_field("products"), f"required for type {opts.type}"))
        if opts.platform_id is not None and opts.type != "key":
            errors.append(FieldError(_field("platform_id"), "only for type key"))
        if opts.checkout == "token" and not (opts.user and opts.user.id):
            errors.append(FieldError(_field("user.id"), "required for a token checkout"))
        if opts.metadata and opts.checkout != "token":
            errors.append(
                FieldError(_field("metadata"), "an order carries no metadata: use a token")
            )
        if PAYMENT_ID_KEY in opts.metadata:
            errors.append(FieldError(_field("metadata"), f"{PAYMENT_ID_KEY} is reserved"))
        return errors

    def _sign(self, body: bytes) -> str:
        if self._mode == "secret":
            return self._secret.decode()
        return hashlib.sha512(body + self._secret).hexdigest()

    def _signed(self, path: str, payload: dict[str, object]) -> HttpCall:
        body = wire.ENCODER.encode(payload)
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "X-API-SIGNATURE": self._sign(body),
        }
        return HttpCall("POST", path, body, headers)

    def build_authorize(self, cmd: Authorize) -> HttpCall:
        opts = self._opts(cmd)
        if opts.checkout == "token":
            return self._signed("/api/v1/tokens", self._token_body(cmd, opts))
        return self._signed("/api/v1/order", self._order_body(cmd, opts))

    def _priced(self, cmd: Authorize, opts: PaySuperOptions) -> dict[str, object]:
        if opts.type != "simple":
            return {}  # PaySuper prices product and key orders from their products
        amount = format_major(cmd.money.amount, cmd.money.currency, places=2)
        return {"amount": Decimal(amount), "currency": cmd.money.currency}

    def _user(self, cmd: Authorize, opts: PaySuperOptions) -> PaySuperUser:
        if opts.user is not None:
            return opts.user
        c = cmd.customer
        address = PaySuperAddress(country=c.country, city=c.city, postal_code=c.zip, state=c.state)
        return PaySuperUser(
            name=c.name,
            email=c.email,
            phone=c.phone,
            ip=c.ip,
            address=address if any(msgspec.structs.astuple(address)) else None,
        )

    def _order_body(self, cmd: Authorize, opts: PaySuperOptions) -> dict[str, object]:
        user = self._user(cmd, opts)
        address = msgspec.structs.asdict(user.address) if user.address else {}
        return _present(
            {
                "project": opts.project or self._project,
                "type": opts.type,
                "order_id": cmd.payment_id,
                "description": cmd.description,
                **self._priced(cmd, opts),
                "products": list(opts.products),
                "platform_id": opts.platform_id,
                "account": opts.account,
                "url_success": opts.url_success or cmd.return_url,
                "url_fail": opts.url_fail or cmd.return_url,
                "user": _present(
                    {
                        "external_id": user.id,
                        "name": user.name,
                        "email": user.email,
                        "email_verified": user.email_verified if user.email else None,
                        "phone": user.phone,
                        "phone_verified": user.phone_verified if user.phone else None,
                        "ip": user.ip,
                        "locale": user.locale,
                        "address": _present(address),
                        "metadata": dict(user.metadata),
                    }
                ),
            }
        )

    def _token_body(self, cmd: Authorize, opts: PaySuperOptions) -> dict[str, object]:
        user = self._user(cmd, opts)
        address = msgspec.structs.asdict(user.address) if user.address else {}
        success, fail = opts.url_success or cmd.return_url, opts.url_fail or cmd.return_url
        priced = self._priced(cmd, opts)
        return {
            "user": _present(
                {
                    "id": user.id,
                    "email": _verified(user.email, user.email_verified),
                    "phone": _verified(user.phone, user.phone_verified),
                    "name": _verified(user.name),
                    "ip": _verified(user.ip),
                    "locale": _verified(user.locale),
                    "address": _present(address),
                    "metadata": dict(user.metadata),
                }
            ),
            "settings": _present(
                {
                    "project_id": opts.project or self._project,
                    "type": opts.type,
                    "return_url": _present({"success": success, "fail": fail}),
                    "currency": priced.get("currency"),
                    "amount": priced.get("amount"),
                    "products_ids": list(opts.products),
                    "description": cmd.description,
                    "metadata": {**opts.metadata, PAYMENT_ID_KEY: cmd.payment_id},
                }
            ),
        }

    def parse_authorize(self, cmd: Authorize, reply: HttpReply) -> OperationOutcome:
        self._raise_for_status(reply)
        try:
            created = msgspec.json.decode(reply.body, type=wire.Created)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise self.protocol_error(f"unreadable reply: {exc}") from None
        if not created.payment_form_url.startswith(("https://", "http://")):
            raise self.protocol_error("payment_form_url is not a URL")
        token_mode = self._opts(cmd).checkout == "token"
        if not (created.token if token_mode else created.id):
            # Without PaySuper's order id its notifications could never be matched.
            raise self.protocol_error(f"the reply carries no {'token' if token_mode else 'id'}")
        action = NextAction(
            type="redirect",
            url=created.payment_form_url,
            method="GET",
            purpose=ActionPurpose.HOSTED_PAGE,
        )
        # A token has no order yet: the order's id arrives with the first notification.
        return OperationOutcome(OutcomeStatus.ACTION_REQUIRED, created.id, next_action=action)

    def _raise_for_status(self, reply: HttpReply) -> None:
        if 200 <= reply.status < 300:
            return
        try:
            error = msgspec.json.decode(reply.body, type=wire.Error)
            text = f"{error.message} (code {error.code})" if error.code else error.message
        except (msgspec.DecodeError, msgspec.ValidationError):
            text = reply_message(reply) or ""
        text = self.scrub(text[:300]) or "no message"
        if reply.status in (401, 403):
            raise ConnectorMisconfigured(self.name, f"HTTP {reply.status}: {text}")
        if 400 <= reply.status < 500:
            raise ProviderRejected(
                self.name,
                f"HTTP {reply.status}: {text}",
                http_status=reply.status,
                provider_message=text,
            )
        raise OutcomeUnknown(self.name, f"HTTP {reply.status}: {text}")

    def scrub(self, text: str) -> str:
        # In "secret" mode X-API-SIGNATURE carries the project key itself.
        scrubbed = super().scrub(text).replace(self._secret.decode(), "***")
        return _SIGNATURE_HEADER.sub(r"\1***", scrubbed)

    # -- notifications ---------------------------------------------------------------

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        given = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        scheme, _, signature = given.partition(" ")
        expected = hashlib.sha256(body + self._secret).hexdigest()
        return scheme.lower() == "signature" and hmac.compare_digest(
            signature.strip().lower().encode(), expected.encode()
        )

    def parse_webhook(self, body: bytes) -> WebhookEvent:
        try:
            note = msgspec.json.decode(body, type=wire.Notification)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise self.protocol_error(f"unreadable notification: {exc}") from None
        order = note.object
        if order.status not in STATUSES:
            raise self.protocol_error(f"unknown order status {order.status!r}")
        currency = order.currency.upper()
        try:
            money = Money(from_major(order.amount, currency), currency)
            refunded = self._refund_amount(order, currency)
        except (InvalidAmount, UnknownCurrency) as exc:
            raise self.protocol_error(f"unusable amount: {exc.detail}") from None
        meta = order.metadata or {}
        ours = meta.get(PAYMENT_ID_KEY)
        return WebhookEvent(
            event_id=note.id,
            kind=EVENTS.get(note.event, WebhookKind.OTHER),
            raw_type=note.event,
            provider_reference=order.id,
            payment_id=ours if isinstance(ours, str) else None,
            money=money,
            refund_amount=refunded,
            card=_card(order),
            live=note.live,
            occurred_at=note.created_at.when() if note.created_at else None,
        )

    @staticmethod
    def _refund_amount(order: wire.Order, currency: str) -> int | None:
        refund = order.refund
        if refund is None or refund.amount is None:
            return None
        if refund.currency and refund.currency.upper() != currency:
            raise InvalidAmount(f"refund in {refund.currency}, order in {currency}")
        return from_major(refund.amount, currency)


def _card(order: wire.Order) -> CardSummary | None:
    card = order.method.card if order.method else None
    if card is None or not card.first6 or not card.last4:
        return None
    raw_month, raw_year = card.expiry_month or "", card.expiry_year or ""
    month = int(raw_month) if raw_month.isdigit() else None
    year = int(raw_year) if raw_year.isdigit() else None
    if month is not None and not 1 <= month <= 12:
        month = year = None
    return CardSummary(card.first6, card.last4, (card.brand or "unknown").lower(), month, year)
