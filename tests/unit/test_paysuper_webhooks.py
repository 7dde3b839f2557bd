"""PaySuperConnector.verify_webhook and parse_webhook on recorded notifications.

Every notification fixture embeds the Order object example of paysuper.md
(status "created", 595 RUB, card 400000…0002 VISA 11/2023); the envelope is the
supplement's {id, type, event, live, created_at, expires_at, delivery_try, object}.
"""

import hashlib
from datetime import UTC, datetime

import pytest

from service.domain.errors import ProviderProtocolError
from service.domain.money import Money
from service.domain.payments import CardSummary
from service.domain.webhooks import WebhookEvent, WebhookKind
from tests.unit.test_paysuper_support import ORDER, SECRET, connector, fixture, sign, variant

SUCCESS = fixture("notification_success.json")
DOC_CARD = CardSummary("400000", "0002", "visa", 11, 2023)
ORDER_AMOUNT = b'\n  "amount": 595,'
ORDER_CURRENCY = b'\n  "currency": "RUB",'


def parse(body: bytes) -> WebhookEvent:
    return connector().parse_webhook(body)


def swap(body: bytes, old: bytes, new: bytes) -> bytes:
    """`body` with one exact, unique piece of text replaced."""
    assert body.count(old) == 1, f"{old!r} is not unique"
    return body.replace(old, new)


# -- verify_webhook ---------------------------------------------------------------------


def test_a_correct_signature_is_accepted() -> None:
    assert connector().verify_webhook({"Authorization": f"Signature {sign(SUCCESS)}"}, SUCCESS)


@pytest.mark.parametrize("header", ["authorization", "AUTHORIZATION", "AuThOrIzAtIoN"])
def test_the_header_name_is_case_insensitive(header: str) -> None:
    assert connector().verify_webhook({header: f"Signature {sign(SUCCESS)}"}, SUCCESS)


def test_the_hex_is_case_insensitive() -> None:
    headers = {"Authorization": f"Signature {sign(SUCCESS).upper()}"}
    assert connector().verify_webhook(headers, SUCCESS)


def test_other_headers_do_not_matter() -> None:
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "PaySuper",
        "Authorization": f"Signature {sign(SUCCESS)}",
    }
    assert connector().verify_webhook(headers, SUCCESS)


def test_a_wrong_secret_is_refused() -> None:
    headers = {"Authorization": f"Signature {sign(SUCCESS, 'not-the-secret')}"}
    assert connector().verify_webhook(headers, SUCCESS) is False
    assert (
        connector(secret="another").verify_webhook(
            {"Authorization": f"Signature {sign(SUCCESS)}"}, SUCCESS
        )
        is False
    )


@pytest.mark.parametrize("position", [0, 1, len(SUCCESS) // 2, len(SUCCESS) - 1])
def test_one_flipped_byte_is_refused(position: int) -> None:
    headers = {"Authorization": f"Signature {sign(SUCCESS)}"}
    flipped = SUCCESS[:position] + bytes([SUCCESS[position] ^ 0x20]) + SUCCESS[position + 1 :]
    assert flipped != SUCCESS
    assert connector().verify_webhook(headers, flipped) is False


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Content-Type": "application/json"},
        {"Authorization": ""},
        {"Authorization": "Signature"},
        {"Authorization": "Signature "},
        {"Authorization": f"Bearer {sign(SUCCESS)}"},
        {"Authorization": f"Basic {sign(SUCCESS)}"},
        {"Authorization": sign(SUCCESS)},
        {"X-Signature": f"Signature {sign(SUCCESS)}"},
        {"Authorization": f"Signature {sign(SUCCESS)[:-2]}"},
        {"Authorization": f"Signature {sign(SUCCESS)}00"},
        {"Authorization": f"Signature {SECRET}"},
    ],
    ids=[
        "none",
        "no-authorization",
        "empty",
        "scheme-only",
        "scheme-and-space",
        "bearer",
        "basic",
        "bare-hex",
        "other-header",
        "truncated",
        "extended",
        "the-secret-itself",
    ],
)
def test_anything_else_is_refused(headers: dict[str, str]) -> None:
    assert connector().verify_webhook(headers, SUCCESS) is False


def test_a_sha512_signature_is_refused() -> None:
    wrong = hashlib.sha512(SUCCESS + SECRET.encode()).hexdigest()
    assert connector().verify_webhook({"Authorization": f"Signature {wrong}"}, SUCCESS) is False


# -- parse_webhook: the four events -------------------------------------------------------


def test_payment_success() -> None:
    event = parse(SUCCESS)
    assert event == WebhookEvent(
        event_id="5dcf8b3cf6a8e700012b7d01",
        kind=WebhookKind.PAYMENT_SUCCEEDED,
        raw_type="payment.success",
        provider_reference=ORDER,
        payment_id=None,  # the doc's order metadata has no orchestrator_payment_id
        money=Money(59500, "RUB"),
        refund_amount=None,
        card=DOC_CARD,
        live=False,
        occurred_at=datetime(2019, 11, 16, 5, 38, 20, 123456, tzinfo=UTC),
    )


def test_the_event_not_the_embedded_status_carries_the_outcome() -> None:
    # The supplement's sample success event still reads "created".
    assert b'\n  "status": "created",' in SUCCESS
    assert parse(SUCCESS).kind is WebhookKind.PAYMENT_SUCCEEDED


@pytest.mark.parametrize(
    ("name", "kind", "raw"),
    [
        ("notification_success.json", WebhookKind.PAYMENT_SUCCEEDED, "payment.success"),
        ("notification_refund.json", WebhookKind.PAYMENT_REFUNDED, "payment.refund"),
        ("notification_chargeback.json", WebhookKind.PAYMENT_CHARGED_BACK, "payment.chargeback"),
        ("notification_cancel.json", WebhookKind.PAYMENT_CANCELED, "payment.cancel"),
        ("notification_unknown_event.json", WebhookKind.OTHER, "payment.dispute_opened"),
    ],
)
def test_event_kinds(name: str, kind: WebhookKind, raw: str) -> None:
    event = parse(fixture(name))
    assert event.kind is kind
    assert event.raw_type == raw
    assert event.provider_reference == ORDER
    assert event.money == Money(59500, "RUB")


def test_payment_refund_reads_the_refund_object() -> None:
    event = parse(fixture("notification_refund.json"))
    assert event.event_id == "5dcf8b3cf6a8e700012b7d02"
    assert event.refund_amount == 10050  # refund.amount 100.5 RUB
    assert event.money == Money(59500, "RUB")
    assert event.occurred_at == datetime(2019, 11, 17, 5, 37, 59, tzinfo=UTC)


def test_a_refund_without_a_refund_object_is_of_all_that_is_left() -> None:
    body = swap(SUCCESS, b'"event": "payment.success"', b'"event": "payment.refund"')
    event = parse(body)
    assert event.kind is WebhookKind.PAYMENT_REFUNDED
    assert event.refund_amount is None


def test_a_refund_in_lowercase_currency_is_the_same_currency() -> None:
    body = variant(
        "notification_refund.json",
        b'"currency": "RUB",\n      "reason"',
        b'"currency": "rub",\n      "reason"',
    )
    assert parse(body).refund_amount == 10050


def test_a_refund_in_another_currency_is_a_protocol_error() -> None:
    body = variant(
        "notification_refund.json",
        b'"currency": "RUB",\n      "reason"',
        b'"currency": "USD",\n      "reason"',
    )
    with pytest.raises(ProviderProtocolError):
        parse(body)


@pytest.mark.parametrize("amount", [b"-100.5", b"100.505", b"1e-3"])
def test_an_unusable_refund_amount_is_a_protocol_error(amount: bytes) -> None:
    body = variant("notification_refund.json", b'"amount": 100.5,', b'"amount": ' + amount + b",")
    with pytest.raises(ProviderProtocolError):
        parse(body)


def test_our_payment_id_from_the_metadata() -> None:
    event = parse(fixture("notification_success_token.json"))
    assert event.payment_id == "pay_token_1"
    assert event.provider_reference == ORDER
    assert event.live is True


def test_a_non_string_payment_id_in_metadata_is_ignored() -> None:
    body = variant(
        "notification_success.json", b'"param1": "val1",', b'"orchestrator_payment_id": 7,'
    )
    assert parse(body).payment_id is None


# -- amounts and currencies -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        (b"595", b"RUB", 59500),
        (b"0.12", b"RUB", 12),
        (b"1.15", b"USD", 115),  # 1.15 * 100 == 114.99999999999999 as a float
        (b"0.29", b"EUR", 29),  # 0.29 * 100 == 28.999999999999996 as a float
        (b"9.99", b"USD", 999),
        (b"595.00", b"RUB", 59500),
        (b"1.234", b"KWD", 1234),
        (b"500", b"JPY", 500),
        (b"0", b"RUB", 0),
    ],
)
def test_money_in_minor_units_from_the_literal(amount: bytes, currency: bytes, minor: int) -> None:
    body = swap(SUCCESS, ORDER_AMOUNT, b'\n  "amount": ' + amount + b",")
    body = swap(body, ORDER_CURRENCY, b'\n  "currency": "' + currency + b'",')
    assert parse(body).money == Money(minor, currency.decode())


@pytest.mark.parametrize("wire", [b"rub", b"RUB", b"Rub"])
def test_currency_is_upper_cased(wire: bytes) -> None:
    body = variant("notification_success.json", ORDER_CURRENCY, b'\n  "currency": "' + wire + b'",')
    assert parse(body).money == Money(59500, "RUB")


@pytest.mark.parametrize(
    "name",
    [
        "notification_amount_three_decimals.json",  # 9.999 USD
        "notification_negative_amount.json",
        "notification_unknown_currency.json",  # RUR, retired in 1998
        "notification_unknown_status.json",
        "notification_malformed.json",
    ],
)
def test_bad_notifications_are_protocol_errors(name: str) -> None:
    with pytest.raises(ProviderProtocolError):
        parse(fixture(name))


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"[]",
        b'{"id": "e_1", "event": "payment.success"}',
        swap(SUCCESS, b'"id": "5dcf8b3cf6a8e700012b7d01",\n', b""),
        swap(SUCCESS, ORDER_AMOUNT, b'\n  "amount": "lots",'),
        swap(SUCCESS, ORDER_CURRENCY, b'\n  "currency": "",'),
    ],
    ids=["empty", "array", "no-object", "no-event-id", "amount-not-a-number", "no-currency"],
)
def test_unreadable_notifications_are_protocol_errors(body: bytes) -> None:
    with pytest.raises(ProviderProtocolError):
        parse(body)


@pytest.mark.parametrize(
    "status", ["created", "processed", "rejected", "canceled", "refunded", "chargeback"]
)
def test_every_documented_status_is_read(status: str) -> None:
    body = variant(
        "notification_success.json",
        b'\n  "status": "created",',
        b'\n  "status": "' + status.encode() + b'",',
    )
    assert parse(body).provider_reference == ORDER


# -- card and time ----------------------------------------------------------------------------


def test_card_summary_from_method_card() -> None:
    assert parse(SUCCESS).card == DOC_CARD


@pytest.mark.parametrize(
    ("old", "new", "card"),
    [
        (
            b'"brand": "VISA",',
            b'"brand": "MasterCard",',
            CardSummary("400000", "0002", "mastercard", 11, 2023),
        ),
        (b'"brand": "VISA",', b"", CardSummary("400000", "0002", "unknown", 11, 2023)),
        (b'"expiry_month": "11",', b'"expiry_month": "13",', CardSummary("400000", "0002", "visa")),
        (
            b'"expiry_year": "2023",',
            b'"expiry_year": "",',
            CardSummary("400000", "0002", "visa", 11),
        ),
        (b'"last4": "0002",', b"", None),
    ],
    ids=["brand-lower-cased", "no-brand", "bad-month", "no-year", "no-last4"],
)
def test_card_summary_edges(old: bytes, new: bytes, card: CardSummary | None) -> None:
    assert parse(variant("notification_success.json", old, new)).card == card


def test_no_card_without_a_card_method() -> None:
    body = variant("notification_success.json", b'"wallet": null,', b'"wallet": "qiwi",')
    body = swap(body, b'"card": {', b'"card_unused": {')
    assert parse(body).card is None


def test_occurred_at_from_the_envelope_not_the_order() -> None:
    event = parse(SUCCESS)
    # The order's own created_at is 1573882679.069; the envelope's is 1573882700.123456.
    assert event.occurred_at == datetime(2019, 11, 16, 5, 38, 20, 123456, tzinfo=UTC)
    assert event.occurred_at is not None
    assert event.occurred_at.tzinfo is UTC


def test_no_occurred_at_when_the_envelope_has_none_or_the_zero_time() -> None:
    stamp = b'"created_at": {"seconds": 1573882700, "nanos": 123456000},\n'
    assert parse(swap(SUCCESS, stamp, b"")).occurred_at is None
    zero = b'"created_at": {"seconds": -62135596800},\n'
    assert parse(swap(SUCCESS, stamp, zero)).occurred_at is None
