"""Per-connector sample inputs for the contract suite, keyed by REGISTRY name.

A connector added to REGISTRY needs an entry here: the suite fails (it does not
skip) for a registered connector without one. Each entry gives a way to build
the connector with known credentials, one valid command per command-taking
capability (even an unsupported one: the suite checks it is refused), a reply
whose payment status the connector cannot know, recorded replies the connector
must read for the capabilities that need them (paying a vendor order, payment
methods, quotes) and, for a connector that takes notifications, one signed as
the provider signs it.
"""

import base64
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from service.connectors import (
    BizonConnector,
    PaySuperConnector,
    PaySuperOptions,
    ProxySolutionsConnector,
    ProxySolutionsOptions,
    Send2SellConnector,
    Send2SellOptions,
)
from service.connectors.base import ConnectorBase
from service.connectors.paysuper import PaySuperUser
from service.connectors.proxy_solutions import ProxySolutionsQuoteRequest
from service.connectors.send2sell import Send2SellBilling
from service.domain.commands import (
    Authenticate,
    Authorize,
    Capture,
    CardDetails,
    Credit,
    Customer,
    PayOrder,
    Rebill,
    Refund,
    Sync,
    Void,
)
from service.domain.money import Money
from service.domain.outcomes import HttpReply
from service.domain.payments import CaptureMethod, PaymentMethodType

FIXTURES = Path(__file__).parents[1] / "fixtures"

# Test card data: Luhn-valid so redaction must treat it as a real PAN.
PAN = "4111111111111111"
CVV = "737"
CARD = CardDetails(number=PAN, cvv=CVV, exp_month=12, exp_year=2030, holder="John Smith")
MONEY = Money(999, "USD")


@dataclass(frozen=True)
class SignedWebhook:
    """A notification body and the headers the provider signs it with."""

    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class Recorded:
    """A request and the provider's recorded 2xx reply to it, which must be read."""

    command: Any  # None for an operation that takes no command (payment methods)
    reply: HttpReply


class NoQuote(msgspec.Struct, frozen=True):
    """The quote request given to a connector that calculates no prices (it must refuse)."""

    service_id: int = 1


@dataclass(frozen=True)
class Samples:
    """What the contract suite needs to exercise one connector."""

    connector: Callable[[], ConnectorBase]
    secrets: tuple[str, ...]  # credential strings that must never survive scrub()
    authorize: Authorize
    capture: Capture
    void: Void
    refund: Refund
    authenticate: Authenticate
    rebill: Rebill
    credit: Credit  # Capability.PAYOUT
    sync: Sync | None  # None: the connector cannot pull a payment's state
    pay_order: PayOrder  # Capability.PAY_ORDER
    quote: msgspec.Struct  # Capability.QUOTES: an instance of the connector's quote_type
    # parse name ("authorize", "capture", …, "credit", "sync", "webhook") -> a reply with
    # an order/payment status the connector does not know (for "webhook", its body);
    # where the provider's reply carries no status at all, a 200 it cannot act on
    unknown_status: Mapping[str, HttpReply] = field(default_factory=dict)
    webhook: SignedWebhook | None = None  # Capability.WEBHOOKS: a correctly signed one
    # operation ("pay_order", "payment_methods", "quote") -> recorded exchanges the
    # connector must build and read; required for each of those it declares
    recorded: Mapping[str, tuple[Recorded, ...]] = field(default_factory=dict)
    pan: str = PAN
    cvv: str = CVV


AUTHORIZE = Authorize(
    payment_id="pay_contract",
    operation_id="op_authorize",
    money=MONEY,
    capture=CaptureMethod.MANUAL,
    method=PaymentMethodType.CARD,
    card=CARD,
    customer=Customer(email="foo@bar.com", ip="8.8.8.8"),
    description="Contract suite",
)
# What a connector that pays no vendor order and quotes no price is given (and refuses).
PAY_ORDER = PayOrder(
    payment_id="pay_contract",
    operation_id="op_pay_order",
    method=PaymentMethodType.HOSTED_PAGE,
    requested_amount=MONEY.amount,
    requested_currency=MONEY.currency,
    customer=Customer(email="foo@bar.com", ip="8.8.8.8"),
    description="Contract suite",
)
NO_QUOTE = NoQuote()


# -- bizon ---------------------------------------------------------------------------

BIZON_LOGIN, BIZON_PASSWORD = "contract-project", "contract-Secret-42"
BIZON_ORDER = "23014806643308174"
# An order whose status ("weird") Bizon does not document.
_WEIRD = HttpReply(200, (FIXTURES / "bizon" / "order_status_weird.json").read_bytes())


# -- paysuper ------------------------------------------------------------------------

PAYSUPER_PROJECT, PAYSUPER_SECRET = "5dbc4b1ab5a6990001ffdf1e", "contract-paysuper-Secret-42"
PAYSUPER_ORDER = "726d9e07-1dc8-4159-8d52-f95941066bc8"
_PAYSUPER = FIXTURES / "paysuper"
PAYSUPER_AUTHORIZE = Authorize(
    payment_id="pay_contract",
    operation_id="op_authorize",
    money=MONEY,
    capture=CaptureMethod.AUTOMATIC,
    method=PaymentMethodType.HOSTED_PAGE,
    customer=Customer(email="foo@bar.com", ip="8.8.8.8"),
    description="Contract suite",
    return_url="https://shop.example.com/return",
    provider_options=PaySuperOptions(
        project=PAYSUPER_PROJECT,
        user=PaySuperUser(id="user_42", email="foo@bar.com", email_verified=True, ip="8.8.8.8"),
    ),
)
# The doc's Order object in a payment.success notification, signed as the supplement says:
# Authorization: Signature <hex sha256(raw body + secret)>.
_PAYSUPER_NOTE = (_PAYSUPER / "notification_success.json").read_bytes()
_PAYSUPER_SIGNATURE = hashlib.sha256(_PAYSUPER_NOTE + PAYSUPER_SECRET.encode()).hexdigest()


# -- proxy_solutions -----------------------------------------------------------------

# Not a shape scrub_text() knows: only the connector's own scrub() can hide it.
PROXY_KEY = "contract-proxy-Key-42"
PROXY_ORDER = 1001
_PROXY = FIXTURES / "proxy_solutions"


def _proxy_reply(name: str) -> HttpReply:
    return HttpReply(200, (_PROXY / name).read_bytes(), {"Content-Type": "application/json"})


def _proxy_order(merchant: str, currency: str, method: PaymentMethodType) -> PayOrder:
    return PayOrder(
        payment_id=f"pay_contract_{merchant}",
        operation_id=f"op_pay_order_{merchant}",
        method=method,
        customer=Customer(email="foo@bar.com", ip="8.8.8.8"),
        description="Contract suite",
        provider_options=ProxySolutionsOptions(
            order_id=PROXY_ORDER, merchant=merchant, currency=currency, period=30
        ),
    )


# Paid at once from the API balance, and by an invoice (a hosted page) in EUR.
PROXY_BALANCE = _proxy_order("balance", "USD", PaymentMethodType.BALANCE)
PROXY_INVOICE = _proxy_order("card", "EUR", PaymentMethodType.HOSTED_PAGE)
PROXY_QUOTE = ProxySolutionsQuoteRequest(
    service_id=1, period=30, merchant="card", currency="EUR", promocode="SAVE10"
)
PROXY_AUTHORIZE = Authorize(
    payment_id="pay_contract",
    operation_id="op_authorize",
    money=MONEY,
    capture=CaptureMethod.AUTOMATIC,
    method=PaymentMethodType.HOSTED_PAGE,
    customer=Customer(email="foo@bar.com", ip="8.8.8.8"),
    description="Contract suite",
)


# -- send2sell -----------------------------------------------------------------------

# Not a shape scrub_text() knows: only the connector's own scrub() can hide it.
S2S_TOKEN = "contract-send2sell-Token-42"
S2S_ORDER = 370562  # the doc's order
_S2S = FIXTURES / "send2sell"


def _s2s_reply(name: str, status: int = 200) -> HttpReply:
    return HttpReply(status, (_S2S / name).read_bytes(), {"Content-Type": "application/json"})


S2S_BILLING = Send2SellBilling(
    first_name="Jane", city="Austin", state="TX", zip="78701", phone="+1 512 555 0100"
)
# Paid from the account's prepaid credits, expecting the doc's $69.00.
S2S_PAY = PayOrder(
    payment_id="pay_contract",
    operation_id="op_pay_order",
    method=PaymentMethodType.PREPAID_CREDITS,
    requested_amount=6900,
    requested_currency="USD",
    customer=Customer(email="foo@bar.com", ip="8.8.8.8"),
    description="Contract suite",
    provider_options=Send2SellOptions(order_id=S2S_ORDER, billing=S2S_BILLING),
)
# What the payment keeps of its request (provider_details["requested"]): the connector
# re-sends the billing to learn the fate of an attempt left in doubt.
S2S_SYNC = Sync(
    "pay_contract",
    str(S2S_ORDER),
    "USD",
    details={
        "requested": {
            "order_id": S2S_ORDER,
            "billing": msgspec.to_builtins(S2S_BILLING),
            "amount": 6900,
            "amount_currency": "USD",
        }
    },
)
S2S_AUTHORIZE = Authorize(
    payment_id="pay_contract",
    operation_id="op_authorize",
    money=MONEY,
    capture=CaptureMethod.AUTOMATIC,
    method=PaymentMethodType.PREPAID_CREDITS,
    customer=Customer(email="foo@bar.com", ip="8.8.8.8"),
    description="Contract suite",
)

SAMPLES: dict[str, Samples] = {
    "bizon": Samples(
        connector=lambda: BizonConnector(BIZON_LOGIN, BIZON_PASSWORD),
        secrets=(
            BIZON_PASSWORD,
            f"{BIZON_LOGIN}:{BIZON_PASSWORD}",
            base64.b64encode(f"{BIZON_LOGIN}:{BIZON_PASSWORD}".encode()).decode(),
        ),
        authorize=AUTHORIZE,
        capture=Capture("pay_contract", "op_capture", BIZON_ORDER, MONEY, full=True),
        void=Void("pay_contract", "op_void", BIZON_ORDER, MONEY),
        refund=Refund("pay_contract", "op_refund", BIZON_ORDER, MONEY, full=True),
        authenticate=Authenticate("pay_contract", BIZON_ORDER, MONEY, pares="eJzVWNmSokgUfe"),
        rebill=Rebill(
            payment_id="pay_contract_rebill",
            operation_id="op_rebill",
            parent_reference=BIZON_ORDER,
            money=MONEY,
            cvv=CVV,
            customer=Customer(ip="8.8.8.8"),
        ),
        credit=Credit(
            payout_id="po_contract",
            operation_id="op_credit",
            money=MONEY,
            card=CARD,
            customer=Customer(ip="8.8.8.8"),
        ),
        sync=Sync("pay_contract", BIZON_ORDER, MONEY.currency),
        pay_order=PAY_ORDER,
        quote=NO_QUOTE,
        unknown_status=dict.fromkeys(
            ["authorize", "capture", "void", "refund", "authenticate", "rebill", "credit", "sync"],
            _WEIRD,
        ),
    ),
    "paysuper": Samples(
        connector=lambda: PaySuperConnector(PAYSUPER_PROJECT, PAYSUPER_SECRET),
        secrets=(PAYSUPER_SECRET,),
        authorize=PAYSUPER_AUTHORIZE,
        capture=Capture("pay_contract", "op_capture", PAYSUPER_ORDER, MONEY, full=True),
        void=Void("pay_contract", "op_void", PAYSUPER_ORDER, MONEY),
        refund=Refund("pay_contract", "op_refund", PAYSUPER_ORDER, MONEY, full=True),
        authenticate=Authenticate("pay_contract", PAYSUPER_ORDER, MONEY, resume=True),
        rebill=Rebill(
            payment_id="pay_contract_rebill",
            operation_id="op_rebill",
            parent_reference=PAYSUPER_ORDER,
            money=MONEY,
        ),
        credit=Credit(payout_id="po_contract", operation_id="op_credit", money=MONEY, card=CARD),
        sync=None,  # PaySuper has no order-status call: notifications are the only source
        pay_order=PAY_ORDER,
        quote=NO_QUOTE,
        unknown_status={
            # An order reply carries no status: the nearest is a 200 with no usable form
            # URL (the doc's own placeholder reply, payment_form_url "string").
            "authorize": HttpReply(
                200, (_PAYSUPER / "order_created_doc_placeholder.json").read_bytes()
            ),
            "webhook": HttpReply(
                200, (_PAYSUPER / "notification_unknown_status.json").read_bytes()
            ),
        },
        webhook=SignedWebhook(
            {"Authorization": f"Signature {_PAYSUPER_SIGNATURE}"}, _PAYSUPER_NOTE
        ),
    ),
    "proxy_solutions": Samples(
        connector=lambda: ProxySolutionsConnector(PROXY_KEY),
        secrets=(PROXY_KEY,),
        authorize=PROXY_AUTHORIZE,
        capture=Capture("pay_contract", "op_capture", str(PROXY_ORDER), MONEY, full=True),
        void=Void("pay_contract", "op_void", str(PROXY_ORDER), MONEY),
        refund=Refund("pay_contract", "op_refund", str(PROXY_ORDER), MONEY, full=True),
        authenticate=Authenticate("pay_contract", str(PROXY_ORDER), MONEY, resume=True),
        rebill=Rebill(
            payment_id="pay_contract_rebill",
            operation_id="op_rebill",
            parent_reference=str(PROXY_ORDER),
            money=MONEY,
        ),
        credit=Credit(payout_id="po_contract", operation_id="op_credit", money=MONEY, card=CARD),
        sync=None,  # no status call and no notification: an invoice waits for an operator
        pay_order=PROXY_BALANCE,
        quote=PROXY_QUOTE,
        unknown_status={
            # A charge reply carries no status: the nearest is a 200 priced in a currency
            # other than the one asked for (EUR for a USD balance payment).
            "pay_order": _proxy_reply("charge_other_currency.json"),
        },
        recorded={
            "pay_order": (
                Recorded(PROXY_BALANCE, _proxy_reply("charge_balance.json")),
                Recorded(PROXY_INVOICE, _proxy_reply("charge_invoice_eur.json")),
            ),
            "payment_methods": (Recorded(None, _proxy_reply("merchants.json")),),
            "quote": (Recorded(PROXY_QUOTE, _proxy_reply("price_eur.json")),),
        },
    ),
    "send2sell": Samples(
        connector=lambda: Send2SellConnector(S2S_TOKEN),
        secrets=(S2S_TOKEN,),
        authorize=S2S_AUTHORIZE,
        capture=Capture("pay_contract", "op_capture", str(S2S_ORDER), MONEY, full=True),
        void=Void("pay_contract", "op_void", str(S2S_ORDER), MONEY),
        refund=Refund("pay_contract", "op_refund", str(S2S_ORDER), MONEY, full=True),
        authenticate=Authenticate("pay_contract", str(S2S_ORDER), MONEY, resume=True),
        rebill=Rebill(
            payment_id="pay_contract_rebill",
            operation_id="op_rebill",
            parent_reference=str(S2S_ORDER),
            money=MONEY,
        ),
        credit=Credit(payout_id="po_contract", operation_id="op_credit", money=MONEY, card=CARD),
        sync=S2S_SYNC,
        pay_order=S2S_PAY,
        quote=NO_QUOTE,
        unknown_status={
            # A billing reply's status is the order's: the nearest to one it cannot know
            # is a 200 whose order is not "Paid" (the doc's reply, status "Processing").
            "pay_order": _s2s_reply("paid_status_processing.json"),
            "sync": _s2s_reply("paid_status_processing.json"),
        },
        recorded={"pay_order": (Recorded(S2S_PAY, _s2s_reply("paid.json")),)},
    ),
}
