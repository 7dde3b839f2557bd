"""Send2SellConnector.parse_pay_order on the doc's replies, and on what it must refuse.

200 "Paid": captured at the credits consumed, read exactly from major units. 402: a
decline, insufficient_credits, with the doc's figures. Each documented 403 message is
its own decline. 401 our token, 404 the order, 422 Laravel's messages, 5xx unknown.
"""

import pytest

from service.domain.errors import (
    ConnectorError,
    ConnectorMisconfigured,
    OutcomeUnknown,
    ProviderInputRefused,
    ProviderObjectNotFound,
    ProviderProtocolError,
    ProviderRejected,
)
from service.domain.money import Money
from service.domain.outcomes import (
    OperationOutcome,
    OutcomeStatus,
    ProviderSnapshot,
    ProviderState,
)
from tests.unit.test_send2sell_connector_support import (
    FORBIDDEN,
    PAID_FIGURES,
    PENDING_FIGURES,
    REFERENCE,
    TOKEN,
    connector,
    pay_order,
    raw,
    reply,
    variant,
)


def parse(status: int, name: str) -> OperationOutcome:
    return connector().parse_pay_order(pay_order(), reply(status, name))


def parse_raw(status: int, body: bytes) -> OperationOutcome:
    return connector().parse_pay_order(pay_order(), raw(status, body))


def paid(**figures: str) -> bytes:
    """The doc's paid order with some figures replaced by the given JSON literals."""
    body = (
        b'{"id": 370562, "status": "Paid", "created_at": "2020-11-04T14:27:31-06:00",'
        b' "cost": %s, "discount": %s, "tax": %s, "total": %s, "use_credits": "1",'
        b' "consumed_credits": %s, "payment_method": "Prepaid credits",'
        b' "credits_needed": %s, "net_total": %s, "coupon_name": ""}'
    )
    values = {
        "cost": "69",
        "discount": "0",
        "tax": "0",
        "total": "0",
        "consumed_credits": "69",
        "credits_needed": "0",
        "net_total": "0",
    } | figures
    return body % tuple(values[name].encode() for name in values)


# -- paid ------------------------------------------------------------------------------


def test_the_docs_paid_order_is_captured_at_the_credits_consumed() -> None:
    outcome = parse(200, "paid.json")
    assert outcome == OperationOutcome(
        OutcomeStatus.SUCCEEDED,
        REFERENCE,
        snapshot=ProviderSnapshot(REFERENCE, ProviderState.CAPTURED, 6900, 6900, 0),
        priced=Money(6900, "USD"),
        details=PAID_FIGURES,
    )
    assert outcome.failure is None
    assert outcome.next_action is None


@pytest.mark.parametrize(("amount", "currency"), [(None, None), (100, "USD"), (99999, "USD")])
def test_the_provider_sets_the_price_whatever_was_asked(
    amount: int | None, currency: str | None
) -> None:
    cmd = pay_order(requested_amount=amount, requested_currency=currency)
    outcome = connector().parse_pay_order(cmd, reply(200, "paid.json"))
    assert outcome.priced == Money(6900, "USD")
    assert outcome.snapshot is not None
    assert outcome.snapshot.amount_captured == 6900


def test_a_coupon_is_kept_by_name() -> None:
    body = variant("paid.json", b'"coupon_name": ""', b'"coupon_name": "SAVE10"')
    assert parse_raw(200, body).details["coupon_name"] == "SAVE10"


def test_the_figures_of_a_priced_order_are_exact_minor_units() -> None:
    # Floats would make 120.5 - 12.05 + 8.95 = 117.39999999999999.
    body = paid(
        cost="120.5",
        discount="12.05",
        tax="8.95",
        consumed_credits="117.40",
        credits_needed="0",
    )
    outcome = parse_raw(200, body)
    assert outcome.priced == Money(11740, "USD")
    assert {k: outcome.details[k] for k in ("cost", "discount", "tax", "consumed_credits")} == {
        "cost": 12050,
        "discount": 1205,
        "tax": 895,
        "consumed_credits": 11740,
    }


def test_the_tax_and_cost_of_the_brief_are_exact() -> None:
    outcome = parse_raw(200, paid(tax="5.69", cost="120.5", consumed_credits="126.19"))
    assert (outcome.details["tax"], outcome.details["cost"]) == (569, 12050)
    assert outcome.priced == Money(12619, "USD")


@pytest.mark.parametrize(
    ("literal", "minor"),
    [
        ("74.69", 7469),
        ("0.1", 10),
        ("0.2", 20),
        ("0.3", 30),
        ("0.07", 7),
        ("0.29", 29),
        ("1.15", 115),
        ("4.35", 435),
        ("120.5", 12050),
        ("120.50", 12050),
        ("69", 6900),
        ("69.0", 6900),
        ("1e2", 10000),
        ("1234567.89", 123456789),
        ('"74.69"', 7469),
        ("0", 0),
    ],
)
def test_credits_consumed_are_read_exactly(literal: str, minor: int) -> None:
    outcome = parse_raw(200, paid(consumed_credits=literal))
    assert outcome.priced == Money(minor, "USD")
    assert outcome.details["consumed_credits"] == minor


@pytest.mark.parametrize(
    "literal",
    [
        "0.30000000000000004",  # 0.1 + 0.2 in binary floating point
        "74.699",
        "74.691",
        "0.001",
        "-1",
        "-0.01",
        '"abc"',
        "true",
        "1e400",
    ],
)
@pytest.mark.parametrize("figure", ["consumed_credits", "tax", "cost", "net_total"])
def test_an_inexact_or_negative_figure_is_a_protocol_error(figure: str, literal: str) -> None:
    with pytest.raises(ProviderProtocolError):
        parse_raw(200, paid(**{figure: literal}))


# -- declined --------------------------------------------------------------------------


def test_the_docs_402_is_a_decline_for_insufficient_credits() -> None:
    outcome = parse(402, "payment_required.json")
    assert outcome.status is OutcomeStatus.FAILED
    assert outcome.provider_reference == REFERENCE
    assert outcome.priced is None
    assert outcome.snapshot is None
    assert outcome.next_action is None
    assert outcome.details == PENDING_FIGURES
    failure = outcome.failure
    assert failure is not None
    assert (failure.code, failure.provider_code, failure.provider_message) == (
        "insufficient_credits",
        "402",
        "Payment Pending",
    )
    assert failure.message
    # $69 of credits needed; $74.69 due in all (69 + 5.69 tax).
    assert failure.details["credits_needed"] == 6900
    assert failure.details["total"] == 7469
    assert failure.details["net_total"] == 7469
    assert "consumed_credits" not in failure.details


def test_a_402_reads_its_figures_exactly() -> None:
    body = variant("payment_required.json", b'"net_total": 74.69', b'"net_total": 0.30')
    assert parse_raw(402, body).failure.details["net_total"] == 30  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"Payment Required",
        b'{"message": "Payment Required"}',
        b'{"id": 370562, "status": "Payment Pending", "tax": 5.691}',
    ],
)
def test_an_unreadable_402_is_still_a_decline_without_figures(body: bytes) -> None:
    # 402 is the answer that nothing was paid: never left in doubt for its body.
    outcome = parse_raw(402, body)
    assert outcome.status is OutcomeStatus.FAILED
    assert outcome.failure is not None
    assert outcome.failure.code == "insufficient_credits"
    assert outcome.failure.details == {}
    assert outcome.priced is None


def test_a_402_about_another_order_is_a_protocol_error() -> None:
    with pytest.raises(ProviderProtocolError):
        parse_raw(402, b'{"id": 1, "status": "Payment Pending", "cost": 69}')


@pytest.mark.parametrize(("name", "message", "code"), FORBIDDEN)
def test_each_documented_403_is_its_own_decline(name: str, message: str, code: str) -> None:
    outcome = parse(403, name)
    assert outcome.status is OutcomeStatus.FAILED
    assert outcome.provider_reference == REFERENCE
    assert outcome.priced is None
    assert outcome.snapshot is None
    failure = outcome.failure
    assert failure is not None
    assert (failure.code, failure.provider_code, failure.provider_message) == (
        code,
        "403",
        message,
    )
    assert failure.message
    assert failure.message != message  # ours, not the provider's


def test_the_three_403s_have_three_codes() -> None:
    codes = {parse(403, name).failure.code for name, _, _ in FORBIDDEN}  # type: ignore[union-attr]
    assert codes == {"provider_forbidden", "payment_not_allowed", "order_has_no_products"}


@pytest.mark.parametrize(
    "body",
    [
        b'{"message": "This action is unauthorized."}',
        b'{"message": "Your account is suspended."}',
        b'{"error": "forbidden"}',
        b"{}",
        b"<html>403 Forbidden</html>",
        b"",
    ],
)
def test_another_403_is_provider_forbidden(body: bytes) -> None:
    outcome = parse_raw(403, body)
    assert outcome.status is OutcomeStatus.FAILED
    assert outcome.failure is not None
    assert (outcome.failure.code, outcome.failure.provider_code) == ("provider_forbidden", "403")


def test_a_403_message_is_recognised_despite_surrounding_space() -> None:
    body = b'{"message": "  No cart or products linked to this order.\\n"}'
    failure = parse_raw(403, body).failure
    assert failure is not None
    assert failure.code == "order_has_no_products"


# -- errors ----------------------------------------------------------------------------


def test_401_is_our_token() -> None:
    with pytest.raises(ConnectorMisconfigured, match="401"):
        parse_raw(401, b'{"message": "Unauthenticated."}')


def test_404_is_an_unknown_order() -> None:
    with pytest.raises(ProviderObjectNotFound) as info:
        parse_raw(404, b'{"message": "No query results for model [App\\\\Order] 370562"}')
    assert info.value.http_status == 404
    assert "370562" in (info.value.provider_message or "")


def test_422_passes_laravels_messages_through() -> None:
    body = (
        b'{"message": "The given data was invalid.",'
        b' "errors": {"state": ["The selected state is invalid."]}}'
    )
    with pytest.raises(ProviderInputRefused) as info:
        parse_raw(422, body)
    assert info.value.messages == ["The selected state is invalid."]
    assert info.value.http_status == 422
    assert "The selected state is invalid." in str(info.value)


def test_422_flattens_every_field_in_order() -> None:
    body = (
        b'{"message": "The given data was invalid.", "errors": {'
        b'"zip": ["The zip format is invalid.", "The zip must be 5 characters."],'
        b' "phone": ["The phone field is required."]}}'
    )
    with pytest.raises(ProviderInputRefused) as info:
        parse_raw(422, body)
    assert info.value.messages == [
        "The zip format is invalid.",
        "The zip must be 5 characters.",
        "The phone field is required.",
    ]


@pytest.mark.parametrize(
    ("body", "messages"),
    [
        (b'{"message": "The given data was invalid."}', ["The given data was invalid."]),
        (b'{"message": "Invalid.", "errors": {}}', ["Invalid."]),
        (b"not json", ["HTTP 422"]),
        (b"", ["HTTP 422"]),
    ],
)
def test_422_without_field_errors_keeps_what_it_has(body: bytes, messages: list[str]) -> None:
    with pytest.raises(ProviderInputRefused) as info:
        parse_raw(422, body)
    assert info.value.messages == messages


@pytest.mark.parametrize("status", [400, 405, 409, 415, 429])
def test_another_4xx_is_a_refusal(status: int) -> None:
    with pytest.raises(ProviderRejected) as info:
        parse_raw(status, b'{"message": "Nope."}')
    assert type(info.value) is ProviderRejected
    assert info.value.http_status == status
    assert info.value.provider_message == "Nope."


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_leaves_the_outcome_unknown(status: int) -> None:
    with pytest.raises(OutcomeUnknown, match=str(status)):
        parse_raw(status, b'{"message": "Server Error"}')


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b"null",
        b'{"status": "Paid", "consumed_credits": 69}',  # no id
        b'{"id": 370562, "consumed_credits": 69}',  # no status
        b'{"id": 370562, "status": 1, "consumed_credits": 69}',
    ],
)
def test_an_unreadable_200_is_a_protocol_error(body: bytes) -> None:
    with pytest.raises(ProviderProtocolError):
        parse_raw(200, body)


@pytest.mark.parametrize("status", ["Payment Pending", "paid", "PAID", "Processing", ""])
def test_a_200_whose_order_is_not_paid_is_a_protocol_error(status: str) -> None:
    body = variant("paid.json", b'"status": "Paid"', f'"status": "{status}"'.encode())
    with pytest.raises(ProviderProtocolError, match="status"):
        parse_raw(200, body)


def test_a_paid_order_without_credits_consumed_is_a_protocol_error() -> None:
    body = variant("paid.json", b'"consumed_credits": 69,', b"")
    with pytest.raises(ProviderProtocolError):
        parse_raw(200, body)


@pytest.mark.parametrize("status", [200, 402])
def test_a_reply_about_another_order_is_a_protocol_error(status: int) -> None:
    name = "paid.json" if status == 200 else "payment_required.json"
    body = variant(name, b'"id": 370562', b'"id": 370563')
    with pytest.raises(ProviderProtocolError, match="370563"):
        parse_raw(status, body)


def test_the_order_id_may_come_as_a_string() -> None:
    body = variant("paid.json", b'"id": 370562', b'"id": "370562"')
    assert parse_raw(200, body).status is OutcomeStatus.SUCCEEDED


# -- the token never leaks -------------------------------------------------------------

ECHO = f'{{"message": "Bad token {TOKEN} for order 370562"}}'.encode()


@pytest.mark.parametrize("status", [400, 401, 404, 405, 422, 429, 500, 503])
def test_an_error_echoing_the_token_does_not_repeat_it(status: int) -> None:
    with pytest.raises(ConnectorError) as info:
        parse_raw(status, ECHO)
    error = info.value
    shown = [str(error), error.detail, repr(error)]
    shown += [getattr(error, "provider_message", None) or ""]
    shown += getattr(error, "messages", [])
    assert not [text for text in shown if TOKEN in text]


def test_422_field_messages_echoing_the_token_do_not_repeat_it() -> None:
    body = f'{{"errors": {{"phone": ["{TOKEN} is not a phone"]}}}}'.encode()
    with pytest.raises(ProviderInputRefused) as info:
        parse_raw(422, body)
    assert TOKEN not in str(info.value)
    assert not [m for m in info.value.messages if TOKEN in m]


def test_a_403_echoing_the_token_does_not_keep_it_on_the_failure() -> None:
    failure = parse_raw(403, ECHO).failure
    assert failure is not None
    assert failure.code == "provider_forbidden"
    assert TOKEN not in repr(failure)
    assert "for order 370562" in (failure.provider_message or "")


def test_a_200_status_echoing_the_token_does_not_repeat_it() -> None:
    body = variant("paid.json", b'"status": "Paid"', f'"status": "{TOKEN}"'.encode())
    with pytest.raises(ProviderProtocolError) as info:
        parse_raw(200, body)
    assert TOKEN not in str(info.value)


def test_a_402_status_echoing_the_token_is_not_kept() -> None:
    old = b'"status": "Payment Pending"'
    body = variant("payment_required.json", old, f'"status": "{TOKEN}"'.encode())
    outcome = parse_raw(402, body)
    assert outcome.failure is not None
    assert outcome.failure.code == "insufficient_credits"
    assert TOKEN not in repr(outcome)


def test_a_token_cut_by_the_message_limit_does_not_leak_in_part() -> None:
    # Messages are cut to 300 characters: the token must go before the cut, not after.
    pad = "x" * (300 - len(TOKEN) // 2)
    body = f'{{"message": "{pad}{TOKEN}"}}'.encode()
    for status in (401, 403, 404, 400, 500):
        try:
            outcome = parse_raw(status, body)
        except ConnectorError as exc:
            text = str(exc)
        else:
            text = repr(outcome)
        assert TOKEN[: len(TOKEN) // 2] not in text, status
