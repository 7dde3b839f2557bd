"""BizonConnector build_*/parse_* on recorded Bizon replies (tests/fixtures/bizon).

Pure: no network, no mocks. Replies are copied from bizon.md where it has
examples and built in the same shape where it has none (declines, fraud, errors).
"""

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from service.connectors.bizon import BizonConnector, BizonOptions
from service.domain.commands import Authorize, Capture, CardDetails, Customer, Refund, Sync, Void
from service.domain.errors import (
    ConnectorMisconfigured,
    OutcomeUnknown,
    ProviderProtocolError,
    ProviderRejected,
)
from service.domain.money import Money
from service.domain.outcomes import (
    HttpReply,
    OperationOutcome,
    OutcomeStatus,
    ProviderSnapshot,
    ProviderState,
)
from service.domain.payments import CaptureMethod, NextAction, PaymentMethodType

FIXTURES = Path(__file__).parents[1] / "fixtures" / "bizon"
DOC_AUTH = "Basic cHJvamVjdDpwYXNzd29yZA=="  # bizon.md's own "project:password"
PAN, CVV, BACK = "4111111111111111", "123", "https://shop.example/back"
CARD = CardDetails(number=PAN, cvv=CVV, exp_month=6, exp_year=2030, holder="John Smith")
USD, EUR, PART = Money(999, "USD"), Money(999, "EUR"), Money(199, "USD")
OK, FAILED, ACTION = OutcomeStatus.SUCCEEDED, OutcomeStatus.FAILED, OutcomeStatus.ACTION_REQUIRED
AUTHORIZED, CAPTURED = ProviderState.AUTHORIZED, ProviderState.CAPTURED
REFUNDED = ProviderState.REFUNDED
# Order ids in the fixtures: REF is authorize_approved's (and charge_full's, refund_full's).
REF, PARTIAL, REVERSED = "23014806643308174", "23014806312026412", "23014805692462630"
INFO, PREPARED, HOSTED = "65213580296542862", "23014806078061303", "23014805439541518"

bizon = BizonConnector("project", "password")


def body(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def reply(name: str, status: int = 200, headers: dict[str, str] | None = None) -> HttpReply:
    return HttpReply(status, body(name), headers or {})


def edited(name: str, **order: Any) -> bytes:
    """A fixture with fields of its one order replaced (None removes the field)."""
    data = json.loads(body(name))
    for key, value in order.items():
        data["orders"][0].pop(key, None)
        if value is not None:
            data["orders"][0][key] = value
    return json.dumps(data).encode()


def card(**changes: Any) -> CardDetails:
    return msgspec.structs.replace(CARD, **changes)


def authorize(**changes: Any) -> Authorize:
    cmd = Authorize(
        payment_id="pay_01",
        operation_id="op_01",
        money=USD,
        capture=CaptureMethod.MANUAL,
        method=PaymentMethodType.CARD,
        card=CARD,
        customer=Customer(ip="8.8.8.8"),
    )
    return msgspec.structs.replace(cmd, **changes)


def hosted(**changes: Any) -> Authorize:
    return authorize(method=PaymentMethodType.HOSTED_PAGE, card=None, **changes)


def capture(money: Money = USD) -> Capture:
    return Capture("pay_01", "op_02", REF, money, full=money == USD)


def void(ref: str = REF, money: Money = USD) -> Void:
    return Void("pay_01", "op_03", ref, money)


def refund(money: Money = USD) -> Refund:
    return Refund("pay_01", "op_04", REF, money, full=money == USD)


def sync(ref: str | None = REF, currency: str = "USD") -> Sync:
    return Sync("pay_01", ref, currency)


def summary(outcome: OperationOutcome) -> tuple[object, ...]:
    failure = outcome.failure
    codes = (failure.code, failure.provider_code, failure.provider_message) if failure else ()
    return (outcome.status, outcome.provider_reference, *codes)


def amounts(snap: ProviderSnapshot | None) -> tuple[object, ...]:
    assert snap is not None
    return (snap.state, snap.amount_authorized, snap.amount_captured, snap.amount_refunded)


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
CARD_OPTIONS = {"auto_charge": 0, "force3d": 1, "terminal": "T12", "return_url": BACK}
PAGE_OPTIONS = CARD_OPTIONS | {"language": "en", "expiration_timeout": "30m"}
CLIENT = Customer(email="foo@bar.com", name="John Smith", ip="6.6.6.6")


@pytest.mark.parametrize(
    ("cmd", "path", "expected"),
    [
        (authorize(money=Money(100, "USD")), "authorize", {"amount": "1.00", "currency": "USD"}),
        (authorize(money=Money(5, "EUR")), "authorize", {"amount": "0.05", "currency": "EUR"}),
        (authorize(money=Money(500, "JPY")), "authorize", {"amount": "500.00", "currency": "JPY"}),
        (authorize(money=Money(1230, "KWD")), "authorize", {"amount": "1.23", "currency": "KWD"}),
        (authorize(capture=CaptureMethod.AUTOMATIC), "authorize", {"options": {"auto_charge": 1}}),
        (authorize(capture=CaptureMethod.MANUAL), "authorize", {"options": {"auto_charge": 0}}),
        (authorize(provider_options=BizonOptions()), "authorize", {"options": {"auto_charge": 0}}),
        (
            authorize(provider_options=EVERY, return_url=BACK),
            "authorize",
            {"options": CARD_OPTIONS},
        ),
        (authorize(provider_options=EVERY), "authorize", {"segment": "987"}),
        (hosted(provider_options=EVERY, return_url=BACK), "create", {"options": PAGE_OPTIONS}),
        (hosted(provider_options=EVERY), "create", {"segment": "987", "pan": None, "card": None}),
        (hosted(customer=CLIENT), "create", {"location": {"ip": "6.6.6.6"}, "currency": "USD"}),
        (
            hosted(customer=CLIENT),
            "create",
            {"client": {"email": "foo@bar.com", "name": "John Smith"}},
        ),
        (hosted(description="Book sale #453"), "create", {"description": "Book sale #453"}),
        (hosted(), "create", {"merchant_order_id": "pay_01", "amount": "9.99", "location": None}),
    ],
)
def test_build_authorize_fields(cmd: Authorize, path: str, expected: dict[str, object]) -> None:
    call = bizon.build_authorize(cmd)
    sent = json.loads(call.body or b"")
    assert (call.method, call.path, call.headers["Authorization"]) == (
        "POST",
        f"/orders/{path}",
        DOC_AUTH,
    )
    assert {key: sent.get(key) for key in expected} == expected


@pytest.mark.parametrize(
    ("call", "path", "payload"),
    [
        (lambda: bizon.build_capture(capture()), f"/orders/{REF}/charge", {"amount": "9.99"}),
        (lambda: bizon.build_capture(capture(PART)), f"/orders/{REF}/charge", {"amount": "1.99"}),
        (lambda: bizon.build_void(void()), f"/orders/{REF}/reverse", None),
        (lambda: bizon.build_refund(refund(PART)), f"/orders/{REF}/refund", {"amount": "1.99"}),
        (lambda: bizon.build_void(void("a/b c")), "/orders/a%2Fb%20c/reverse", None),
    ],
    ids=["capture-full", "capture-partial", "void", "refund-partial", "quoted-reference"],
)
def test_build_order_operations(call: Any, path: str, payload: object) -> None:
    built = call()
    assert (built.method, built.path, built.headers["Authorization"]) == ("PUT", path, DOC_AUTH)
    assert (None if built.body is None else json.loads(built.body)) == payload


@pytest.mark.parametrize(
    ("ref", "path", "query"),
    [(REF, f"/orders/{REF}", {}), (None, "/orders/", {"merchant_order_id": "pay_01"})],
    ids=["by-reference", "by-merchant-order-id"],
)
def test_build_sync(ref: str | None, path: str, query: dict[str, str]) -> None:
    call = bizon.build_sync(sync(ref))
    assert (call.method, call.path, call.body) == ("GET", path, None)
    assert call.query == {"expand": "card,operations.cashflow"} | query
    assert call.headers["Authorization"] == DOC_AUTH


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
        (authorize(method=PaymentMethodType.WALLET_TOKEN, card=None), ["payment_method.type"]),
        (authorize(method=PaymentMethodType.BALANCE, card=None), ["payment_method.type"]),
    ],
)
def test_validate_authorize(cmd: Authorize, fields: list[str]) -> None:
    assert [error.field for error in bizon.validate_authorize(cmd)] == fields


# -- parse_authorize -----------------------------------------------------------------

FAILURES = {
    "authorize_declined_05": ("23014806643308201", "do_not_honor", "05", "Do not honor"),
    "authorize_declined_51": (
        "23014806643308202",
        "insufficient_funds",
        "51",
        "Insufficient funds",
    ),
    "authorize_declined_54": ("23014806643308203", "expired_card", "54", "Expired card"),
    "authorize_fraud": ("23014806643308204", "fraud_suspected", "fraud", None),
    "authorize_rejected": ("23014806643308205", "rejected_by_provider", "rejected", None),
    "authorize_error": ("23014806643308206", "processing_error", "96", "System malfunction"),
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


def test_3ds_prepared_asks_for_the_form() -> None:
    outcome = bizon.parse_authorize(authorize(), reply("authorize_3ds_prepared", 201))
    assert summary(outcome) == (ACTION, PREPARED)
    assert amounts(outcome.snapshot) == (ProviderState.AWAITING_CUSTOMER, 0, 0, 0)
    fields = {"MD": "MjMwMTQ4MDYwNzgwNjEzMDM=", "PaReq": "PaReq"}
    fields["TermUrl"] = "http://localhost:5002/complete/secure3d"
    assert outcome.next_action == NextAction(
        "form", "http://localhost:5002/test/bank", "GET", fields
    )


@pytest.mark.parametrize("header", ["Location", "location"])
def test_hosted_order_redirects_to_the_payment_page(header: str) -> None:
    page = f"http://localhost:5002/pay/{HOSTED}"
    outcome = bizon.parse_authorize(hosted(), reply("hosted_order_created", 201, {header: page}))
    assert summary(outcome) == (ACTION, HOSTED)
    assert outcome.next_action == NextAction(type="redirect", url=page, method="GET")


@pytest.mark.parametrize(
    ("cmd", "raw"),
    [
        (hosted(), body("hosted_order_created")),
        (authorize(), edited("authorize_3ds_prepared", form3d=None)),
        (authorize(), edited("authorize_approved", status="reversed")),
    ],
    ids=["new-without-location", "prepared-without-form", "reversed"],
)
def test_authorize_without_a_usable_result_is_a_protocol_error(cmd: Authorize, raw: bytes) -> None:
    with pytest.raises(ProviderProtocolError):
        bizon.parse_authorize(cmd, HttpReply(201, raw))


# -- parse capture / void / refund ---------------------------------------------------

PARSERS = {
    "authorize": lambda r, money=USD: bizon.parse_authorize(authorize(money=money), r),
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
    operation: str, fixture: str, money: Money, expected: Any, snapshot: Any
) -> None:
    outcome = PARSERS[operation](reply(fixture), money)
    assert summary(outcome) == expected
    assert amounts(outcome.snapshot) == snapshot


@pytest.mark.parametrize(
    ("operation", "raw"),
    [
        ("capture", body("authorize_approved")),
        ("void", body("authorize_approved")),
        ("refund", body("charge_full")),
        ("capture", edited("charge_full", operations=[{"type": "charge", "status": "pending"}])),
    ],
    ids=["capture", "void", "refund", "unknown-operation-status"],
)
def test_reply_without_the_operation_is_a_protocol_error(operation: str, raw: bytes) -> None:
    with pytest.raises(ProviderProtocolError):
        PARSERS[operation](HttpReply(200, raw))


# -- HTTP classification and unreadable replies through parse_* ----------------------


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize(
    ("status", "raw", "error"),
    [
        (401, body("http_401_auth"), ConnectorMisconfigured),
        (403, b"Forbidden", ConnectorMisconfigured),
        (500, body("http_500_internal"), OutcomeUnknown),
        (502, b"<html>502 Bad Gateway</html>", OutcomeUnknown),
        (503, body("charge_full"), OutcomeUnknown),  # an order in a 5xx is never trusted
        (200, body("malformed"), ProviderProtocolError),
        (200, body("authorize_approved")[:200], ProviderProtocolError),
        (200, b"<html>ok</html>", ProviderProtocolError),
        (200, body("orders_empty"), ProviderProtocolError),
        (200, body("orders_two"), ProviderProtocolError),
        (200, body("order_status_weird"), ProviderProtocolError),  # never FAILED
    ],
    ids="401 403 500 502 503-with-order malformed cut html no-order two-orders weird".split(),
)
def test_reply_classification(operation: str, status: int, raw: bytes, error: type) -> None:
    with pytest.raises(error):
        PARSERS[operation](HttpReply(status, raw))


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize(
    ("status", "fixture", "message"),
    [
        (400, "http_400_validation", "Field 'card.holder' must be 2 to 40 characters"),
        (404, "http_404_not_found", f"Order {REF} not found"),
        (409, "http_409_state", "Order status 'charged' does not allow reverse"),
    ],
)
def test_refusal_without_an_order_is_rejected(
    operation: str, status: int, fixture: str, message: str
) -> None:
    with pytest.raises(ProviderRejected) as caught:
        PARSERS[operation](reply(fixture, status))
    assert (caught.value.http_status, caught.value.provider_message) == (status, message)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("operation", "fixture"),
    [
        ("authorize", "authorize_approved"),
        ("capture", "charge_full"),
        ("void", "reverse"),
        ("refund", "refund_full"),
        ("sync", "order_info"),
    ],
)
def test_currency_mismatch_is_a_protocol_error(operation: str, fixture: str) -> None:
    with pytest.raises(ProviderProtocolError):
        PARSERS[operation](reply(fixture), EUR)


# -- parse_sync ------------------------------------------------------------------------


def snap(ref: str, *values: Any) -> ProviderSnapshot:
    return ProviderSnapshot(ref, *values, card_brand="visa")


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


# -- scrub ---------------------------------------------------------------------------


def transcript(form: str) -> str:
    call = bizon.build_authorize(authorize())
    raw = (call.body or b"").decode()
    if form == "wire":
        head = [f"{call.method} {call.path} HTTP/1.1"]
        return "\n".join(head + [f"{k}: {v}" for k, v in call.headers.items()] + ["", raw])
    if form == "repr":
        return f"{call.body!r} {call.headers}"
    return json.dumps({"headers": call.headers, "body": json.loads(raw)})


@pytest.mark.parametrize("form", ["wire", "repr", "json"])
def test_scrub_removes_pan_cvv_and_credentials(form: str) -> None:
    text = transcript(form)
    assert PAN in text
    assert DOC_AUTH in text  # the transcript really carries them
    scrubbed = bizon.scrub(text)
    assert PAN not in scrubbed
    assert "411111******1111" in scrubbed  # first6/last4 kept
    assert f'"cvv":"{CVV}"' not in scrubbed.replace(" ", "")
    assert DOC_AUTH.split()[1] not in scrubbed
