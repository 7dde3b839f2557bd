"""BizonConnector build_*/parse_* on recorded Bizon replies (tests/fixtures/bizon).

Pure: no network, no mocks. Replies are copied from bizon.md where it has
examples and built in the same shape where it has none (declines, fraud, errors).
"""

import json
from typing import Any

import pytest

from service.connectors.bizon import BizonOptions
from service.domain.commands import Authorize, Customer
from service.domain.errors import (
    ConnectorMisconfigured,
    OutcomeUnknown,
    ProviderProtocolError,
    ProviderRejected,
)
from service.domain.money import Money
from service.domain.outcomes import HttpReply, ProviderSnapshot, ProviderState
from service.domain.payments import (
    ActionPurpose,
    Authentication,
    CaptureMethod,
    CardSummary,
    NextAction,
    PaymentMethodType,
)
from tests.unit.test_bizon_support import (
    ACTION,
    AUTHORIZED,
    BACK,
    CAPTURED,
    CVV,
    DOC_AUTH,
    EUR,
    FAILED,
    HOSTED,
    INFO,
    OK,
    PAN,
    PART,
    PARTIAL,
    PREPARED,
    REF,
    REFUNDED,
    REVERSED,
    USD,
    amounts,
    authorize,
    bizon,
    body,
    capture,
    card,
    edited,
    hosted,
    refund,
    reply,
    summary,
    sync,
    void,
)

# -- build_* -----------------------------------------------------------------------


def test_build_authorize_card_request() -> None:
    call = bizon.build_authorize(authorize())
    assert (call.method, call.path, call.query) == ("POST", "/orders/authorize", {})
    assert call.headers["Authorization"] == DOC_AUTH
    assert call.headers["Content-Type"] == "application/json"
    assert json.loads(call.body or b"") == {
        "amount": "9.99",
        "currency": "USD",
        "merchant_order_id": "pay_01",
        "options": {"auto_charge": 0},
        "location": {"ip": "8.8.8.8"},
        "pan": PAN,
        "card": {"cvv": CVV, "holder": "John Smith", "expiration_month": "06"}
        | {"expiration_year": "2030"},
    }


EVERY = BizonOptions(True, terminal="T12", segment="987", language="en", expiration_timeout="30m")
COMMON_OPTIONS = {"auto_charge": 0, "force3d": 1, "terminal": "T12", "return_url": BACK}
# A card's 3-D Secure 2 notification URL defaults to the return_url; the hosted page has none.
CARD_OPTIONS = COMMON_OPTIONS | {"secure3d20_return_url": BACK}
PAGE_OPTIONS = COMMON_OPTIONS | {"language": "en", "expiration_timeout": "30m"}
NOTIFY = "https://shop.example/3ds2-notify"
OWN_NOTIFY = BizonOptions(secure3d20_return_url=NOTIFY)
RETURNS = {"return_url": BACK, "secure3d20_return_url": BACK}
OWN = {"auto_charge": 0, "return_url": BACK, "secure3d20_return_url": NOTIFY}
ONLY_NOTIFY = {"auto_charge": 0, "secure3d20_return_url": NOTIFY}
CLIENT = Customer(email="foo@bar.com", name="John Smith", ip="6.6.6.6")


@pytest.mark.parametrize(
    ("cmd", "path", "expected"),
    [
        (authorize(money=Money(100, "USD")), "auth", {"amount": "1.00", "currency": "USD"}),
        (authorize(money=Money(5, "EUR")), "auth", {"amount": "0.05", "currency": "EUR"}),
        (authorize(money=Money(500, "JPY")), "auth", {"amount": "500.00", "currency": "JPY"}),
        (authorize(money=Money(1230, "KWD")), "auth", {"amount": "1.23", "currency": "KWD"}),
        (authorize(capture=CaptureMethod.AUTOMATIC), "auth", {"options": {"auto_charge": 1}}),
        (authorize(capture=CaptureMethod.MANUAL), "auth", {"options": {"auto_charge": 0}}),
        (authorize(provider_options=BizonOptions()), "auth", {"options": {"auto_charge": 0}}),
        (authorize(provider_options=EVERY, return_url=BACK), "auth", {"options": CARD_OPTIONS}),
        (authorize(provider_options=EVERY), "auth", {"segment": "987"}),
        (authorize(return_url=BACK), "auth", {"options": {"auto_charge": 0} | RETURNS}),
        (authorize(provider_options=OWN_NOTIFY, return_url=BACK), "auth", {"options": OWN}),
        (authorize(provider_options=OWN_NOTIFY), "auth", {"options": ONLY_NOTIFY}),
        (authorize(), "auth", {"options": {"auto_charge": 0}}),  # no return_url: no notify URL
        (hosted(provider_options=EVERY, return_url=BACK), "create", {"options": PAGE_OPTIONS}),
        (hosted(provider_options=EVERY), "create", {"segment": "987", "pan": None, "card": None}),
        (hosted(customer=CLIENT), "create", {"location": {"ip": "6.6.6.6"}, "currency": "USD"}),
        (
            hosted(customer=CLIENT),
            "create",
            {"client": {"email": CLIENT.email, "name": "John Smith"}},
        ),
        (hosted(description="Book sale #453"), "create", {"description": "Book sale #453"}),
        (hosted(), "create", {"merchant_order_id": "pay_01", "amount": "9.99", "client": None}),
    ],
)
def test_build_authorize_fields(cmd: Authorize, path: str, expected: dict[str, object]) -> None:
    call = bizon.build_authorize(cmd)
    sent = json.loads(call.body or b"")
    assert call.path == {"auth": "/orders/authorize", "create": "/orders/create"}[path]
    assert (call.method, call.headers["Authorization"]) == ("POST", DOC_AUTH)
    assert {key: sent.get(key) for key in expected} == expected


EXPAND = {"expand": "card,secure3d,operations.cashflow"}
LOST = EXPAND | {"merchant_order_id": "pay_01"}  # the authorize reply was lost: find it by our id


@pytest.mark.parametrize(
    ("call", "method", "path", "payload"),
    [
        (lambda: bizon.build_capture(capture()), "PUT", f"/{REF}/charge", {"amount": "9.99"}),
        (lambda: bizon.build_capture(capture(PART)), "PUT", f"/{REF}/charge", {"amount": "1.99"}),
        (lambda: bizon.build_void(void()), "PUT", f"/{REF}/reverse", None),
        (lambda: bizon.build_refund(refund(PART)), "PUT", f"/{REF}/refund", {"amount": "1.99"}),
        (lambda: bizon.build_void(void("a/b c")), "PUT", "/a%2Fb%20c/reverse", None),
        (lambda: bizon.build_sync(sync()), "GET", f"/{REF}", EXPAND),
        (lambda: bizon.build_sync(sync(None)), "GET", "/", LOST),
    ],
    ids=["capture", "capture-partial", "void", "refund-partial", "quoted", "sync", "sync-lost"],
)
def test_build_order_operations(call: Any, method: str, path: str, payload: object) -> None:
    built = call()
    assert (built.method, built.path) == (method, f"/orders{path}")
    assert built.headers["Authorization"] == DOC_AUTH
    sent = built.query if method == "GET" else built.body and json.loads(built.body)
    assert sent == payload


# -- validate_authorize ------------------------------------------------------------


@pytest.mark.parametrize(
    ("cmd", "fields"),
    [
        (authorize(), []),
        (authorize(card=card(holder="Jo")), []),
        (authorize(card=card(holder="J" * 40)), []),
        (authorize(money=Money(1230, "KWD")), []),
        (hosted(customer=Customer()), []),
        (authorize(card=card(cvv=None)), ["payment_method.card.cvv"]),
        (authorize(card=card(holder="J")), ["payment_method.card.holder"]),
        (authorize(card=card(holder="J" * 41)), ["payment_method.card.holder"]),
        (authorize(card=card(holder=None)), ["payment_method.card.holder"]),
        (authorize(customer=Customer(email="foo@bar.com")), ["customer.ip"]),
        (authorize(money=Money(1234, "KWD")), ["amount"]),
        (authorize(card=None), ["payment_method.card"]),
        (
            authorize(method=PaymentMethodType.WALLET_TOKEN, card=None),
            ["payment_method.wallet_token.type"],
        ),
        (authorize(method=PaymentMethodType.BALANCE, card=None), ["payment_method.type"]),
    ],
)
def test_validate_authorize(cmd: Authorize, fields: list[str]) -> None:
    assert [error.field for error in bizon.validate_authorize(cmd)] == fields


# -- parse_authorize -----------------------------------------------------------------

DECLINED = "2301480664330820"  # + 1..6: the order ids of the failure fixtures
FAILURES = {
    "authorize_declined_05": (f"{DECLINED}1", "do_not_honor", "05", "Do not honor"),
    "authorize_declined_51": (f"{DECLINED}2", "insufficient_funds", "51", "Insufficient funds"),
    "authorize_declined_54": (f"{DECLINED}3", "expired_card", "54", "Expired card"),
    "authorize_fraud": (f"{DECLINED}4", "fraud_suspected", "fraud", None),
    "authorize_rejected": (f"{DECLINED}5", "rejected_by_provider", "rejected", None),
    "authorize_error": (f"{DECLINED}6", "processing_error", "96", "System malfunction"),
}


@pytest.mark.parametrize(
    ("fixture", "status", "expected", "snapshot"),
    [
        ("authorize_approved", 200, (OK, REF), (AUTHORIZED, 999, 0, 0)),
        ("authorize_auto_charged", 200, (OK, "23014806643308207"), (CAPTURED, 999, 999, 0)),
        # A decline's HTTP status is undocumented: a reply with an order is read on 2xx and 4xx.
        *[
            (name, status, (FAILED, *codes), (ProviderState.FAILED, 0, 0, 0))
            for name, codes in FAILURES.items()
            for status in (200, 402)
        ],
    ],
)
def test_parse_authorize(fixture: str, status: int, expected: Any, snapshot: Any) -> None:
    outcome = bizon.parse_authorize(authorize(), reply(fixture, status))
    assert summary(outcome) == expected
    assert outcome.next_action is None
    assert amounts(outcome.snapshot) == snapshot
    assert outcome.failure is None or outcome.failure.message


FORM = {"MD": "MjMwMTQ4MDYwNzgwNjEzMDM=", "PaReq": "PaReq"}
FORM["TermUrl"] = "http://localhost:5002/complete/secure3d"
ACS_FORM = NextAction(
    "form",
    "http://localhost:5002/test/bank",
    "GET",
    FORM,
    ActionPurpose.THREE_D_SECURE_1,
    Authentication.PARES,
)
PAGE = f"http://localhost:5002/pay/{HOSTED}"


@pytest.mark.parametrize(
    ("cmd", "http", "expected"),
    [
        (authorize(), reply("authorize_3ds_prepared", 201), (PREPARED, ACS_FORM)),
        (hosted(), reply("hosted_order_created", 201, {"Location": PAGE}), (HOSTED, PAGE)),
        (hosted(), reply("hosted_order_created", 201, {"location": PAGE}), (HOSTED, PAGE)),
    ],
    ids=["3ds-form", "hosted-page", "lowercase-header"],
)
def test_customer_action_required(cmd: Authorize, http: HttpReply, expected: Any) -> None:
    reference, action = expected
    if isinstance(action, str):
        action = NextAction("redirect", action, "GET", purpose=ActionPurpose.HOSTED_PAGE)
    outcome = bizon.parse_authorize(cmd, http)
    assert summary(outcome) == (ACTION, reference)
    assert outcome.next_action == action
    assert amounts(outcome.snapshot) == (ProviderState.AWAITING_CUSTOMER, 0, 0, 0)


# -- parse capture / void / refund ---------------------------------------------------

PARSERS = {
    "authorize": lambda r, money=USD: bizon.parse_authorize(authorize(money=money), r),
    "hosted": lambda r, money=USD: bizon.parse_authorize(hosted(money=money), r),
    "capture": lambda r, money=USD: bizon.parse_capture(capture(money), r),
    "void": lambda r, money=USD: bizon.parse_void(void(money=money), r),
    "refund": lambda r, money=USD: bizon.parse_refund(refund(money), r),
    "sync": lambda r, money=USD: bizon.parse_sync(sync(currency=money.currency), r),
}
OPERATIONS = ["authorize", "capture", "void", "refund"]
DECLINE = (FAILED, REF, "do_not_honor", "05", "Do not honor")
BROKEN = (FAILED, REF, "processing_error", "96", "System malfunction")
REFUSED = (FAILED, REF, "transaction_not_allowed", "57", "Transaction not permitted to cardholder")


@pytest.mark.parametrize(
    ("operation", "fixture", "money", "expected", "snapshot"),
    [
        ("capture", "charge_full", USD, (OK, REF), (CAPTURED, 999, 999, 0)),
        ("capture", "charge_partial", PART, (OK, PARTIAL), (CAPTURED, 999, 199, 0)),
        ("void", "reverse", USD, (OK, REVERSED), (ProviderState.VOIDED, 999, 0, 0)),
        ("refund", "refund_full", USD, (OK, REF), (REFUNDED, 999, 999, 999)),
        ("refund", "refund_partial", PART, (OK, PARTIAL), (REFUNDED, 999, 199, 199)),
        ("capture", "charge_failed", USD, DECLINE, (AUTHORIZED, 999, 0, 0)),
        ("void", "reverse_failed", USD, BROKEN, (AUTHORIZED, 999, 0, 0)),
        ("refund", "refund_failed", USD, REFUSED, (CAPTURED, 999, 999, 0)),
    ],
)
def test_parse_operation(
    operation: str, fixture: str, money: Any, expected: Any, snapshot: Any
) -> None:
    outcome = PARSERS[operation](reply(fixture), money)
    assert summary(outcome) == expected
    assert amounts(outcome.snapshot) == snapshot


@pytest.mark.parametrize(
    ("operation", "raw", "money"),
    [
        ("hosted", body("hosted_order_created"), USD),  # "new" without a Location header
        ("authorize", edited("authorize_3ds_prepared", form3d=None), USD),  # "prepared", no form
        ("authorize", edited("authorize_approved", status="reversed"), USD),
        ("capture", body("authorize_approved"), USD),  # no charge operation in the reply
        ("void", body("authorize_approved"), USD),  # no reverse operation
        ("refund", body("charge_full"), USD),  # no refund operation
        ("capture", edited("charge_full", operations=[{"type": "charge", "status": "?"}]), USD),
        ("authorize", body("authorize_approved"), EUR),  # currency mismatch from here on
        ("capture", body("charge_full"), EUR),
        ("void", body("reverse"), EUR),
        ("refund", body("refund_full"), EUR),
        ("sync", body("order_info"), EUR),
    ],
)
def test_unusable_reply_is_a_protocol_error(operation: str, raw: bytes, money: Money) -> None:
    with pytest.raises(ProviderProtocolError):
        PARSERS[operation](HttpReply(201, raw), money)


# -- HTTP classification and unreadable replies through parse_* ----------------------


INVALID = "Field 'card.holder' must be 2 to 40 characters"  # the messages of the error fixtures
NOT_FOUND, CONFLICT = f"Order {REF} not found", "Order status 'charged' does not allow reverse"


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize(
    ("status", "raw", "error", "message"),
    [
        (401, body("http_401_auth"), ConnectorMisconfigured, None),
        (403, b"Forbidden", ConnectorMisconfigured, None),
        (400, body("http_400_validation"), ProviderRejected, INVALID),
        (404, body("http_404_not_found"), ProviderRejected, NOT_FOUND),
        (409, body("http_409_state"), ProviderRejected, CONFLICT),
        (500, body("http_500_internal"), OutcomeUnknown, None),
        (502, b"<html>502 Bad Gateway</html>", OutcomeUnknown, None),
        (503, body("charge_full"), OutcomeUnknown, None),  # an order in a 5xx is never trusted
        (200, body("malformed"), ProviderProtocolError, None),
        (200, body("authorize_approved")[:200], ProviderProtocolError, None),
        (200, b"<html>ok</html>", ProviderProtocolError, None),
        (200, body("orders_empty"), ProviderProtocolError, None),
        (200, body("orders_two"), ProviderProtocolError, None),
        (200, body("order_status_weird"), ProviderProtocolError, None),  # never FAILED
    ],
)
def test_reply_classification(
    operation: str, status: int, raw: bytes, error: Any, message: Any
) -> None:
    with pytest.raises(error) as caught:
        PARSERS[operation](HttpReply(status, raw))
    if error is ProviderRejected:  # refused, nothing happened: the body's message is kept
        assert (caught.value.http_status, caught.value.provider_message) == (status, message)
        assert message in str(caught.value)


# -- parse_sync ------------------------------------------------------------------------


def snap(ref: str, *values: Any) -> ProviderSnapshot:
    return ProviderSnapshot(ref, *values, card=CardSummary("411111", "1111", "visa"))


@pytest.mark.parametrize(
    ("ref", "status", "fixture", "expected"),
    [
        (REF, 200, "order_info", snap(INFO, AUTHORIZED, 999, 0, 0)),
        (None, 200, "order_info", snap(INFO, AUTHORIZED, 999, 0, 0)),
        (REF, 200, "refund_partial", snap(PARTIAL, ProviderState.REFUNDED, 999, 199, 199)),
        (REF, 200, "reverse", snap(REVERSED, ProviderState.VOIDED, 999, 0, 0)),
        (None, 200, "orders_empty", None),
        (REF, 200, "orders_empty", None),
        (None, 404, "http_404_not_found", None),
        (None, 200, "orders_two", ProviderProtocolError),
        (REF, 200, "order_status_weird", ProviderProtocolError),
        (REF, 200, "malformed", ProviderProtocolError),
        (REF, 404, "http_404_not_found", ProviderRejected),
        (REF, 401, "http_401_auth", ConnectorMisconfigured),
        (None, 500, "http_500_internal", OutcomeUnknown),
    ],
)
def test_parse_sync(ref: str | None, status: int, fixture: str, expected: Any) -> None:
    if isinstance(expected, type):
        with pytest.raises(expected):
            bizon.parse_sync(sync(ref), reply(fixture, status))
    else:
        assert bizon.parse_sync(sync(ref), reply(fixture, status)) == expected
