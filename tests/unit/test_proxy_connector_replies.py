"""ProxySolutionsConnector.parse_pay_order on recorded charge replies.

A balance charge is paid at once (captured); any other merchant issues an invoice
(action required, a redirect to its URL). The reply prices the payment: its
`payer_amount` in `payer_currency`, read exactly. Errors: 401 our key, 404 the
order, 422 the provider's list of messages, 5xx unknown.
"""

import pytest

from service.domain.errors import (
    ConnectorMisconfigured,
    OutcomeUnknown,
    ProviderInputRefused,
    ProviderObjectNotFound,
    ProviderProtocolError,
    ProviderRejected,
    ProviderServiceNotFound,
)
from service.domain.money import Money
from service.domain.outcomes import (
    OperationOutcome,
    OutcomeStatus,
    ProviderSnapshot,
    ProviderState,
)
from service.domain.payments import ActionPurpose, NextAction
from tests.unit.test_proxy_connector_support import (
    BALANCE_USD,
    CARD_EUR,
    CARD_JPY,
    EUR_INVOICE_URL,
    JPY_INVOICE_URL,
    KEY,
    connector,
    pay_order,
    raw,
    reply,
    variant,
)

REQUIRED = ["The merchant field is required.", "The currency field is required."]


def parse(options: object, status: int, name: str) -> OperationOutcome:
    return connector().parse_pay_order(pay_order(options), reply(status, name))


# -- successful charges -----------------------------------------------------------------------


def test_a_balance_charge_is_captured_at_the_providers_price() -> None:
    outcome = parse(BALANCE_USD, 200, "charge_balance.json")
    priced = Money(1200, "USD")
    assert outcome == OperationOutcome(
        OutcomeStatus.SUCCEEDED,
        "1001",
        snapshot=ProviderSnapshot("1001", ProviderState.CAPTURED, 1200, 1200, 0),
        priced=priced,
        details={
            "payer_amount": 1200,
            "payer_currency": "USD",
            "discount_percent": "0",
            "merchant": "balance",
            "invoice_url": None,
        },
    )
    assert outcome.snapshot is not None
    assert outcome.snapshot.amount_captured == priced.amount
    assert outcome.next_action is None
    assert outcome.failure is None


def test_an_invoice_sends_the_payer_to_its_url() -> None:
    outcome = parse(CARD_EUR, 200, "charge_invoice_eur.json")
    assert outcome == OperationOutcome(
        OutcomeStatus.ACTION_REQUIRED,
        "1001",
        next_action=NextAction(
            type="redirect", url=EUR_INVOICE_URL, method="GET", purpose=ActionPurpose.HOSTED_PAGE
        ),
        priced=Money(828, "EUR"),
        details={
            "payer_amount": 828,
            "payer_currency": "EUR",
            "discount_percent": "10",
            "merchant": "card",
            "invoice_url": EUR_INVOICE_URL,
        },
    )
    assert outcome.snapshot is None  # nothing is paid until the invoice is


def test_yen_are_whole() -> None:
    outcome = parse(CARD_JPY, 200, "charge_invoice_jpy.json")
    assert outcome.status is OutcomeStatus.ACTION_REQUIRED
    assert outcome.priced == Money(1812, "JPY")
    assert outcome.details["payer_amount"] == 1812
    assert outcome.next_action is not None
    assert outcome.next_action.url == JPY_INVOICE_URL


@pytest.mark.parametrize(
    ("literal", "minor"),
    [
        # Each is off by one cent when read through a float and multiplied by 100.
        (b"0.29", 29),
        (b"1.13", 113),
        (b"4.35", 435),
        (b"8.2", 820),
        (b"8.280", 828),
        (b"0", 0),
        (b"1e1", 1000),
        (b"99999999.99", 9999999999),
    ],
)
def test_the_payer_amount_is_read_exactly(literal: bytes, minor: int) -> None:
    body = variant(
        "charge_invoice_eur.json", b'"payer_amount": 8.28', b'"payer_amount": ' + literal
    )
    outcome = connector().parse_pay_order(pay_order(CARD_EUR), raw(200, body))
    assert outcome.priced == Money(minor, "EUR")


@pytest.mark.parametrize(
    ("literal", "percent"), [(b"12.5", "12.5"), (b"0", "0"), (b"100", "100"), (b"null", None)]
)
def test_the_discount_is_a_decimal_string(literal: bytes, percent: str | None) -> None:
    body = variant("charge_invoice_eur.json", b'"discount": 10', b'"discount": ' + literal)
    outcome = connector().parse_pay_order(pay_order(CARD_EUR), raw(200, body))
    assert outcome.details["discount_percent"] == percent


def test_a_reply_without_discount_or_merchant_keeps_what_was_asked() -> None:
    body = b'{"payment": {"payer_currency": "USD", "payer_amount": 12}}'
    outcome = connector().parse_pay_order(pay_order(BALANCE_USD), raw(200, body))
    assert outcome.status is OutcomeStatus.SUCCEEDED
    assert outcome.details["discount_percent"] is None
    assert outcome.details["merchant"] == "balance"


@pytest.mark.parametrize("status", [200, 201])
def test_any_2xx_is_read(status: int) -> None:
    assert parse(BALANCE_USD, status, "charge_balance.json").priced == Money(1200, "USD")


def test_a_plain_http_invoice_url_is_accepted() -> None:
    body = variant("charge_invoice_eur.json", b'"https://', b'"http://')
    outcome = connector().parse_pay_order(pay_order(CARD_EUR), raw(200, body))
    assert outcome.next_action is not None
    assert outcome.next_action.url.startswith("http://proxy-solutions.net/")


# -- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [401, 403])
def test_auth_refused_is_our_misconfiguration(status: int) -> None:
    with pytest.raises(ConnectorMisconfigured) as caught:
        parse(BALANCE_USD, status, "error_401.json")
    assert "Unauthenticated." in caught.value.detail


def test_an_unknown_order() -> None:
    with pytest.raises(ProviderObjectNotFound) as caught:
        parse(BALANCE_USD, 404, "error_404_order.json")
    error = caught.value
    assert type(error) is ProviderObjectNotFound
    assert not isinstance(error, ProviderServiceNotFound)
    assert error.code == "provider_order_not_found"
    assert error.http_status == 404
    assert error.provider_message == "Order not found."


def test_a_validation_error_passes_its_messages_through() -> None:
    with pytest.raises(ProviderInputRefused) as caught:
        parse(CARD_EUR, 422, "error_422.json")
    error = caught.value
    assert error.messages == REQUIRED
    assert error.code == "provider_validation_error"
    assert error.http_status == 422
    assert isinstance(error, ProviderRejected)


def test_the_messages_of_a_validation_error_never_carry_the_key() -> None:
    body = f'["The api-key {KEY} has expired."]'.encode()
    with pytest.raises(ProviderInputRefused) as caught:
        connector().parse_pay_order(pay_order(), raw(422, body))
    assert len(caught.value.messages) == 1
    assert KEY not in caught.value.messages[0]


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, ConnectorMisconfigured),
        (404, ProviderObjectNotFound),
        (409, ProviderRejected),
        (500, OutcomeUnknown),
    ],
)
def test_an_error_echoing_the_key_does_not_carry_it(status: int, error: type[Exception]) -> None:
    # The 422 messages go through scrub(); every other provider message must too.
    body = f'{{"message": "Invalid api-key {KEY}."}}'.encode()
    with pytest.raises(error) as caught:
        connector().parse_pay_order(pay_order(), raw(status, body))
    reported = [str(caught.value), getattr(caught.value, "provider_message", None) or ""]
    assert not [text for text in reported if KEY in text], reported


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            b'{"message": "The given data was invalid.", "errors": {}}',
            "The given data was invalid.",
        ),
        (b'{"error": "Unprocessable"}', "Unprocessable"),
        (b"Unprocessable Entity", "Unprocessable Entity"),
        (b"{}", None),
        (b'"just a string"', None),
        (b"", None),
    ],
)
def test_a_validation_error_that_is_no_list_still_gives_one_message(
    body: bytes, message: str | None
) -> None:
    with pytest.raises(ProviderInputRefused) as caught:
        connector().parse_pay_order(pay_order(), raw(422, body))
    messages = caught.value.messages
    assert len(messages) == 1, messages
    assert messages[0], "the one message says something"
    if message is not None:
        assert messages == [message]


@pytest.mark.parametrize("status", [400, 402, 405, 409, 410, 429])
def test_other_4xx_are_refusals(status: int) -> None:
    with pytest.raises(ProviderRejected) as caught:
        connector().parse_pay_order(pay_order(), raw(status, b'{"message": "Nope."}'))
    assert type(caught.value) is ProviderRejected
    assert caught.value.http_status == status
    assert caught.value.provider_message == "Nope."


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_leaves_the_outcome_unknown(status: int) -> None:
    with pytest.raises(OutcomeUnknown):
        parse(BALANCE_USD, status, "error_500.json")


def test_an_html_5xx_leaves_the_outcome_unknown() -> None:
    with pytest.raises(OutcomeUnknown):
        connector().parse_pay_order(pay_order(), raw(502, b"<html>Bad Gateway</html>"))


# -- replies it cannot use -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "name"),
    [
        (BALANCE_USD, "charge_usd_three_decimals.json"),
        (CARD_JPY, "charge_jpy_fraction.json"),
        (BALANCE_USD, "charge_other_currency.json"),
        (CARD_EUR, "charge_invoice_no_url.json"),
        (BALANCE_USD, "malformed.json"),
        (CARD_EUR, "malformed.json"),
        (CARD_EUR, "charge_balance.json"),  # priced in USD, EUR asked for
        (CARD_JPY, "charge_invoice_eur.json"),
    ],
)
def test_an_unusable_reply_is_a_protocol_error(options: object, name: str) -> None:
    with pytest.raises(ProviderProtocolError):
        parse(options, 200, name)


@pytest.mark.parametrize(
    "url", [b"null", b'""', b'"ftp://proxy-solutions.net/i/1"', b'"/invoice/1"', b'"string"']
)
def test_an_invoice_without_a_usable_url_is_a_protocol_error(url: bytes) -> None:
    body = variant("charge_invoice_eur.json", b'"' + EUR_INVOICE_URL.encode() + b'"', url)
    with pytest.raises(ProviderProtocolError):
        connector().parse_pay_order(pay_order(CARD_EUR), raw(200, body))


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"[]",
        b"{}",
        b'{"payment": null}',
        b'{"payment": {}}',
        b'{"payment": {"payer_currency": "USD"}}',
        b'{"payment": {"payer_amount": 12}}',
        b'{"payment": {"payer_currency": "USD", "payer_amount": -12}}',
        b'{"payment": {"payer_currency": "USD", "payer_amount": true}}',
        b'{"payment": {"payer_currency": "USD", "payer_amount": 1e30}}',
        b'{"payment": {"payer_currency": "USDT", "payer_amount": 12}}',
    ],
)
def test_a_reply_without_a_usable_price_is_a_protocol_error(body: bytes) -> None:
    with pytest.raises(ProviderProtocolError):
        connector().parse_pay_order(pay_order(BALANCE_USD), raw(200, body))
