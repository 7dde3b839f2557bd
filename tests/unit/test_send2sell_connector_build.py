"""Send2SellConnector: the billing call, the command's checks, the options, scrub().

PATCH /api/order/{id}/billing, form-encoded: the billing fields given (first_name,
city, state, zip, phone required) and use_credits=1; `Authorization: Bearer <token>`.
With method spoofing, the doc's PHP sample: POST with _method=PATCH.
"""

import msgspec
import pytest

from service.connectors.proxy_solutions import ProxySolutionsOptions
from service.connectors.send2sell import Send2SellBilling, Send2SellOptions
from service.domain.errors import FieldError
from service.domain.payments import PaymentMethodType
from service.domain.redact import scrub_text
from tests.unit.test_send2sell_connector_support import (
    BASE_FORM,
    BILLING,
    FORM,
    FULL_BILLING,
    JSON,
    OPTIONS,
    ORDER_ID,
    TOKEN,
    connector,
    form,
    pay_order,
    transcript,
)

HEADERS = {"Authorization": f"Bearer {TOKEN}", "Accept": JSON, "Content-Type": FORM}


def fields(errors: list[FieldError]) -> list[str]:
    return [error.field for error in errors]


def with_billing(**billing: object) -> Send2SellOptions:
    return Send2SellOptions(order_id=ORDER_ID, billing=msgspec.structs.replace(BILLING, **billing))


# -- the request -----------------------------------------------------------------------


@pytest.mark.parametrize("order_id", [1, ORDER_ID, 987654321])
def test_patches_the_orders_billing_path(order_id: int) -> None:
    options = msgspec.structs.replace(OPTIONS, order_id=order_id)
    call = connector().build_pay_order(pay_order(options))
    assert call.method == "PATCH"
    assert call.path == f"/api/order/{order_id}/billing"
    assert call.query == {}


def test_sends_a_form_with_a_bearer_token_and_accepts_json() -> None:
    call = connector().build_pay_order(pay_order())
    assert call.headers == HEADERS
    assert isinstance(call.body, bytes)


def test_the_form_is_the_billing_and_use_credits_exactly() -> None:
    call = connector().build_pay_order(pay_order())
    assert form(call) == BASE_FORM
    assert b"_method" not in (call.body or b"")


def test_every_optional_field_given_is_sent() -> None:
    options = Send2SellOptions(order_id=ORDER_ID, billing=FULL_BILLING)
    call = connector().build_pay_order(pay_order(options))
    assert form(call) == {
        "first_name": ["Jane"],
        "city": ["Austin"],
        "state": ["TX"],
        "zip": ["78701-1234"],
        "phone": ["+1 512 555 0100"],
        "last_name": ["Doe"],
        "company": ["Acme & Sons"],
        "address": ["1 Congress Ave"],
        "address2": ["Suite 200"],
        "country": ["US"],
        "email": ["jane@example.com"],
        "use_credits": ["1"],
    }


@pytest.mark.parametrize(
    "given",
    [
        {"last_name": "Doe"},
        {"email": "jane@example.com", "country": "US"},
        {"company": "Acme", "address": "1 Congress Ave", "address2": "Suite 200"},
    ],
)
def test_only_the_optional_fields_given_are_sent(given: dict[str, str]) -> None:
    call = connector().build_pay_order(pay_order(with_billing(**given)))
    assert form(call) == BASE_FORM | {name: [value] for name, value in given.items()}
    assert b"None" not in (call.body or b""), "an absent field is left out, not sent as None"


def test_values_are_form_encoded() -> None:
    # "+" is a space in a form and "&"/"=" separate fields: each must be escaped.
    call = connector().build_pay_order(
        pay_order(with_billing(first_name="Zoë & Co=1", city="Saint-Jean d'Arc"))
    )
    assert call.body is not None
    assert b"phone=%2B1+512+555+0100" in call.body
    assert b"first_name=Zo%C3%AB+%26+Co%3D1" in call.body
    assert form(call)["first_name"] == ["Zoë & Co=1"]
    assert form(call)["city"] == ["Saint-Jean d'Arc"]
    assert form(call)["phone"] == ["+1 512 555 0100"]


def test_the_billing_cannot_override_use_credits() -> None:
    call = connector().build_pay_order(pay_order(with_billing(company="use_credits=0")))
    assert form(call)["use_credits"] == ["1"]
    assert form(call)["company"] == ["use_credits=0"]


def test_method_spoofing_posts_with_method_patch() -> None:
    plain = connector().build_pay_order(pay_order())
    call = connector(spoof=True).build_pay_order(pay_order())
    assert call.method == "POST"
    assert call.path == plain.path == f"/api/order/{ORDER_ID}/billing"
    assert call.headers == plain.headers == HEADERS
    assert form(call) == BASE_FORM | {"_method": ["PATCH"]}


def test_the_token_goes_in_the_authorization_header_only() -> None:
    call = connector().build_pay_order(pay_order())
    assert call.headers["Authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in f"{call.path} {call.query} {call.body!r}"


@pytest.mark.parametrize("currency", [None, "USD", "EUR"])
def test_the_payer_pays_in_usd(currency: str | None) -> None:
    cmd = pay_order(requested_currency=currency)
    assert connector().payer_currency(cmd) == "USD"


def test_the_order_reference_is_the_order_id() -> None:
    assert connector().order_reference(pay_order()) == str(ORDER_ID)


# -- checks before sending -----------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency"), [(6900, "USD"), (None, None), (1, "USD"), (None, "USD")]
)
def test_a_valid_command_passes(amount: int | None, currency: str | None) -> None:
    cmd = pay_order(requested_amount=amount, requested_currency=currency)
    assert connector().validate_pay_order(cmd) == []


@pytest.mark.parametrize(
    "options",
    [None, ProxySolutionsOptions(order_id=ORDER_ID, merchant="balance", currency="USD")],
)
def test_options_are_required(options: object) -> None:
    errors = connector().validate_pay_order(pay_order(options))
    assert fields(errors) == ["provider_options.send2sell"]
    assert "order_id" in errors[0].message


@pytest.mark.parametrize(
    "method",
    [
        PaymentMethodType.CARD,
        PaymentMethodType.BALANCE,
        PaymentMethodType.HOSTED_PAGE,
    ],
)
def test_only_prepaid_credits_are_taken(method: PaymentMethodType) -> None:
    errors = connector().validate_pay_order(pay_order(method=method))
    assert fields(errors) == ["payment_method.type"]


@pytest.mark.parametrize("currency", ["EUR", "JPY", "usd"])
def test_credits_are_dollars(currency: str) -> None:
    errors = connector().validate_pay_order(pay_order(requested_currency=currency))
    assert fields(errors) == ["currency"]


def test_every_problem_is_reported_at_once() -> None:
    cmd = pay_order(method=PaymentMethodType.CARD, requested_currency="EUR")
    assert fields(connector().validate_pay_order(cmd)) == ["payment_method.type", "currency"]


# -- the options (provider_options.send2sell, as the API decodes them) ------------------

VALID = {
    "order_id": ORDER_ID,
    "billing": {
        "first_name": "Jane",
        "city": "Austin",
        "state": "TX",
        "zip": "78701",
        "phone": "+1 512 555 0100",
    },
}


def decode(changes: dict[str, object] | None = None, **top: object) -> Send2SellOptions:
    billing = dict(VALID["billing"]) | (changes or {})  # type: ignore[call-overload]
    return msgspec.convert(VALID | {"billing": billing} | top, type=Send2SellOptions)


def refused(changes: dict[str, object] | None = None, **top: object) -> str:
    with pytest.raises(msgspec.ValidationError) as info:
        decode(changes, **top)
    return str(info.value)


def test_the_doc_billing_decodes() -> None:
    assert decode() == OPTIONS


def test_every_optional_field_decodes_and_null_is_absent() -> None:
    full = msgspec.to_builtins(FULL_BILLING)
    assert decode(full) == Send2SellOptions(order_id=ORDER_ID, billing=FULL_BILLING)
    assert decode({"last_name": None, "email": None}) == OPTIONS


@pytest.mark.parametrize("state", ["TX", "CA", "NY"])
def test_a_state_is_two_capitals(state: str) -> None:
    assert decode({"state": state}).billing.state == state


@pytest.mark.parametrize("state", ["tx", "Tx", "TEX", "T", "", "T1", " TX", "TX\n"])
def test_another_state_is_refused(state: str) -> None:
    assert "billing.state" in refused({"state": state})


@pytest.mark.parametrize("zip_code", ["78701", "78701-1234", "00501"])
def test_a_zip_is_five_digits_with_an_optional_four(zip_code: str) -> None:
    assert decode({"zip": zip_code}).billing.zip == zip_code


@pytest.mark.parametrize(
    "zip_code", ["7870", "787011", "78701-12", "78701 1234", "78701-", "ABCDE", "", "78701\n"]
)
def test_another_zip_is_refused(zip_code: str) -> None:
    assert "billing.zip" in refused({"zip": zip_code})


@pytest.mark.parametrize("name", ["first_name", "city", "state", "zip", "phone"])
def test_each_doc_field_is_required(name: str) -> None:
    billing = {k: v for k, v in VALID["billing"].items() if k != name}  # type: ignore[attr-defined]
    with pytest.raises(msgspec.ValidationError, match=f"`{name}`"):
        msgspec.convert(VALID | {"billing": billing}, type=Send2SellOptions)


@pytest.mark.parametrize("name", ["order_id", "billing"])
def test_the_order_and_its_billing_are_required(name: str) -> None:
    options = {k: v for k, v in VALID.items() if k != name}
    with pytest.raises(msgspec.ValidationError, match=f"`{name}`"):
        msgspec.convert(options, type=Send2SellOptions)


@pytest.mark.parametrize("order_id", [0, -1, "370562", 1.5, None])
def test_the_order_id_is_a_positive_integer(order_id: object) -> None:
    assert "order_id" in refused(order_id=order_id)


@pytest.mark.parametrize("field", ["use_credits", "_method", "coupon", "amount"])
def test_an_unknown_billing_field_is_refused(field: str) -> None:
    assert field in refused({field: "1"})


def test_an_unknown_option_is_refused() -> None:
    assert "amount" in refused(amount=6900)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("first_name", ""),
        ("first_name", "x" * 256),
        ("city", ""),
        ("email", ""),
        ("phone", "12"),
        ("phone", "1" * 41),
        ("first_name", 42),
    ],
)
def test_text_fields_have_bounds(field: str, value: object) -> None:
    assert f"billing.{field}" in refused({field: value})


@pytest.mark.parametrize(("field", "value"), [("first_name", "x" * 255), ("phone", "911")])
def test_text_at_its_bound_is_taken(field: str, value: str) -> None:
    assert getattr(decode({field: value}).billing, field) == value


def test_the_structs_are_frozen() -> None:
    with pytest.raises(AttributeError):
        BILLING.state = "CA"  # type: ignore[misc]
    assert isinstance(decode().billing, Send2SellBilling)


# -- scrub() ---------------------------------------------------------------------------


def test_the_token_is_not_a_shape_the_generic_scrubber_knows() -> None:
    # Otherwise the scrub tests below would prove nothing about the connector's own.
    assert TOKEN in scrub_text(f"the token is {TOKEN}")


@pytest.mark.parametrize("spoof", [False, True])
def test_scrub_hides_the_token_in_the_transcript(spoof: bool) -> None:
    text = transcript(connector(spoof=spoof).build_pay_order(pay_order()))
    assert TOKEN in text  # the request really carries it
    scrubbed = connector().scrub(text)
    assert TOKEN not in scrubbed
    assert "first_name" in scrubbed  # the rest stays readable


def test_scrub_hides_the_token_wherever_it_is() -> None:
    text = f"token={TOKEN}; echoed: '{TOKEN}' and {TOKEN}{TOKEN}"
    scrubbed = connector().scrub(text)
    assert TOKEN not in scrubbed
    assert scrubbed.count("***") >= 4


def test_scrub_hides_a_token_that_looks_partly_like_a_card_number() -> None:
    # The generic scrubber masks the digits (keeping first6/last4) but leaves the rest.
    token = "tok-4111111111111111-x9"
    scrubbed = connector(token).scrub(f"Authorization failed for {token}")
    assert token not in scrubbed
    assert "tok-" not in scrubbed
    assert "-x9" not in scrubbed


def test_scrub_still_masks_card_numbers() -> None:
    assert "4111111111111111" not in connector().scrub("pan 4111111111111111")


def test_repr_never_shows_the_token() -> None:
    call = connector().build_pay_order(pay_order())
    assert TOKEN not in repr(call)
    assert TOKEN not in str(call)


def test_an_empty_token_scrubs_nothing_away() -> None:
    assert connector("").scrub("first_name=Jane") == "first_name=Jane"
