"""PaySuperConnector.parse_authorize on recorded replies (tests/fixtures/paysuper).

The 200 replies have the doc's shapes ({id, payment_form_url} for an order,
{token, payment_form_url} for a token); errors are the doc's {message, code}.
"""

import pytest

from service.connectors.paysuper import PaySuperOptions, PaySuperUser
from service.domain.errors import (
    ConnectorMisconfigured,
    OutcomeUnknown,
    ProviderProtocolError,
    ProviderRejected,
)
from service.domain.outcomes import HttpReply, OperationOutcome, OutcomeStatus
from service.domain.payments import ActionPurpose, NextAction
from tests.unit.test_paysuper_support import ORDER, authorize, connector, fixture, reply

TOKEN = PaySuperOptions(checkout="token", user=PaySuperUser(id="user_42"))
FORM = "https://order.pay.super.com/?order_id=726d9e07-1dc8-4159-8d52-f95941066bc8"
TOKEN_FORM = "https://order.pay.super.com/?token=f0b9d2a1c3e4b5a69788d9eab0c1d2e3f4a5b6c7d8e9fa0b"


def test_an_order_reply_sends_the_customer_to_the_form() -> None:
    outcome = connector().parse_authorize(authorize(), reply(200, "order_created.json"))
    assert outcome == OperationOutcome(
        OutcomeStatus.ACTION_REQUIRED,
        ORDER,
        next_action=NextAction(
            type="redirect", url=FORM, method="GET", purpose=ActionPurpose.HOSTED_PAGE
        ),
    )
    assert outcome.failure is None
    assert outcome.snapshot is None


def test_a_token_reply_has_no_order_yet() -> None:
    outcome = connector().parse_authorize(authorize(TOKEN), reply(200, "token_created.json"))
    assert outcome.status is OutcomeStatus.ACTION_REQUIRED
    assert outcome.provider_reference is None
    assert outcome.next_action is not None
    assert outcome.next_action.url == TOKEN_FORM
    assert outcome.next_action.type == "redirect"
    assert outcome.next_action.purpose is ActionPurpose.HOSTED_PAGE


def test_any_2xx_is_read() -> None:
    outcome = connector().parse_authorize(authorize(), reply(201, "order_created.json"))
    assert outcome.provider_reference == ORDER


def test_a_plain_http_form_url_is_accepted() -> None:
    body = b'{"id": "o_1", "payment_form_url": "http://order.pay.super.com/?order_id=o_1"}'
    outcome = connector().parse_authorize(authorize(), HttpReply(200, body))
    assert outcome.next_action is not None
    assert outcome.next_action.url.startswith("http://")


@pytest.mark.parametrize(
    "name",
    [
        "order_created_no_url.json",
        "order_created_ftp_url.json",
        # The doc's own example reply: payment_form_url "string" is no URL.
        "order_created_doc_placeholder.json",
    ],
)
def test_a_reply_without_a_usable_url_is_a_protocol_error(name: str) -> None:
    with pytest.raises(ProviderProtocolError):
        connector().parse_authorize(authorize(), reply(200, name))


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b'{"payment_form_url": 42}',
        b'{"id": "o_1", "payment_form_url": ""}',
    ],
    ids=["empty", "text", "array", "url-not-a-string", "empty-url"],
)
def test_an_unreadable_200_is_a_protocol_error(body: bytes) -> None:
    with pytest.raises(ProviderProtocolError):
        connector().parse_authorize(authorize(), HttpReply(200, body))


def test_an_order_reply_without_an_id_is_a_protocol_error() -> None:
    # An order's notifications are matched by PaySuper's order id alone (an order
    # carries no metadata of ours): a 200 without `id` leaves the payment unmatchable.
    body = (
        b'{"payment_form_url": "https://order.pay.super.com/?order_id='
        b'726d9e07-1dc8-4159-8d52-f95941066bc8"}'
    )
    with pytest.raises(ProviderProtocolError):
        connector().parse_authorize(authorize(), HttpReply(200, body))


@pytest.mark.parametrize(
    ("status", "name", "message", "code"),
    [
        (400, "error_400.json", "Project with specified identifier not found", "ma000021"),
        (404, "error_404.json", "Object not found", "ma000009"),
    ],
)
def test_4xx_is_rejected_with_message_and_code(
    status: int, name: str, message: str, code: str
) -> None:
    with pytest.raises(ProviderRejected) as caught:
        connector().parse_authorize(authorize(), reply(status, name))
    error = caught.value
    assert error.http_status == status
    assert error.provider == "paysuper"
    assert error.provider_message is not None
    assert message in error.provider_message
    assert code in error.provider_message
    assert message in error.detail
    assert code in error.detail
    assert str(status) in error.detail


def test_401_is_a_misconfiguration() -> None:
    with pytest.raises(ConnectorMisconfigured) as caught:
        connector().parse_authorize(authorize(), reply(401, "error_401.json"))
    assert "Request signature is invalid" in caught.value.detail
    assert "401" in caught.value.detail


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, fixture("error_500.json")),
        (502, b"<html><body>502 Bad Gateway</body></html>"),
        (503, b""),
    ],
)
def test_5xx_leaves_the_outcome_unknown(status: int, body: bytes) -> None:
    with pytest.raises(OutcomeUnknown) as caught:
        connector().parse_authorize(authorize(), HttpReply(status, body))
    assert str(status) in caught.value.detail


def test_500_keeps_the_providers_message() -> None:
    with pytest.raises(OutcomeUnknown) as caught:
        connector().parse_authorize(authorize(), reply(500, "error_500.json"))
    assert "Unknown error. Try request later" in caught.value.detail
    assert "ma000001" in caught.value.detail


def test_a_400_that_is_not_json_is_still_rejected() -> None:
    with pytest.raises(ProviderRejected) as caught:
        connector().parse_authorize(authorize(), reply(400, "error_400_not_json.html"))
    assert caught.value.http_status == 400
    assert caught.value.provider_message is not None
    assert "Invalid order data" in caught.value.provider_message


def test_a_400_with_an_empty_body_is_still_rejected() -> None:
    with pytest.raises(ProviderRejected) as caught:
        connector().parse_authorize(authorize(), HttpReply(400, b""))
    assert caught.value.http_status == 400


def test_a_400_without_code_keeps_the_message() -> None:
    with pytest.raises(ProviderRejected) as caught:
        connector().parse_authorize(authorize(), HttpReply(400, b'{"message": "amount invalid"}'))
    assert caught.value.provider_message == "amount invalid"


def test_an_error_message_is_scrubbed() -> None:
    body = b'{"message": "card 4111111111111111 refused", "code": "ma000030"}'
    with pytest.raises(ProviderRejected) as caught:
        connector().parse_authorize(authorize(), HttpReply(400, body))
    assert "4111111111111111" not in caught.value.detail
    assert "411111" in caught.value.detail
