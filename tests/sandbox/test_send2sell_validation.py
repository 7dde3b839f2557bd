"""Send2Sell sandbox: the billing form's Laravel-style validation (422)."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.sandbox.send2sell_fixtures import (
    S2S_FOREIGN,
    S2S_FORM,
    S2S_FORM_TYPE,
    S2S_FULL_FORM,
    S2S_SMALL,
    s2s_credits,
    s2s_errors,
    s2s_order,
    s2s_pay,
    s2s_raw,
)

pytest_plugins = ["tests.sandbox.send2sell_fixtures"]

REQUIRED = {
    "first_name": ["The first name field is required."],
    "city": ["The city field is required."],
    "state": ["The state field is required."],
    "zip": ["The zip field is required."],
    "phone": ["The phone field is required."],
    "use_credits": ["The use credits field is required."],
}


async def test_empty_form_lists_every_required_field(s2s_client: AsyncTestClient[Any]) -> None:
    errors = s2s_errors(await s2s_pay(s2s_client, S2S_SMALL, {}))
    assert errors == REQUIRED
    assert list(errors) == list(REQUIRED)  # in the order of the rules


@pytest.mark.parametrize("field", list(REQUIRED))
@pytest.mark.parametrize(
    "value", [None, "", "   ", "\t\n"], ids=["missing", "empty", "blank", "ws"]
)
async def test_each_required_field(
    s2s_client: AsyncTestClient[Any], field: str, value: str | None
) -> None:
    form = {k: v for k, v in S2S_FORM.items() if k != field}
    if value is not None:
        form[field] = value
    assert s2s_errors(await s2s_pay(s2s_client, S2S_SMALL, form)) == {field: REQUIRED[field]}


@pytest.mark.parametrize("value", ["tx", "Tx", "TXX", "T", "T1", "12", "ÄB", "T X"])
async def test_state_must_be_two_uppercase_letters(
    s2s_client: AsyncTestClient[Any], value: str
) -> None:
    errors = s2s_errors(await s2s_pay(s2s_client, S2S_SMALL, S2S_FORM | {"state": value}))
    assert errors == {"state": ["The state format is invalid."]}


@pytest.mark.parametrize(
    "value", ["1234", "123456", "12345-678", "12345-67890", "abcde", "12345 6789", "١٢٣٤٥"]
)
async def test_zip_must_be_five_digits_or_zip4(
    s2s_client: AsyncTestClient[Any], value: str
) -> None:
    errors = s2s_errors(await s2s_pay(s2s_client, S2S_SMALL, S2S_FORM | {"zip": value}))
    assert errors == {"zip": ["The zip format is invalid."]}


@pytest.mark.parametrize(
    ("field", "value"), [("zip", "78701-1234"), ("state", " CA "), ("zip", " 78701 ")]
)
async def test_valid_state_and_zip(
    s2s_client: AsyncTestClient[Any], field: str, value: str
) -> None:
    response = await s2s_pay(s2s_client, S2S_SMALL, S2S_FORM | {field: value})
    assert response.status_code == 200, response.text
    billing = (await s2s_order(s2s_client, S2S_SMALL))["billing"]
    assert billing[field] == value.strip()


@pytest.mark.parametrize(
    "value",
    [
        "jane",
        "jane@",
        "@example.com",
        "jane@example",
        "ja ne@example.com",
        "a@b@c.com",
        "jane@example.",
    ],
)
async def test_email_format_when_given(s2s_client: AsyncTestClient[Any], value: str) -> None:
    errors = s2s_errors(await s2s_pay(s2s_client, S2S_SMALL, S2S_FORM | {"email": value}))
    assert errors == {"email": ["The email must be a valid email address."]}


@pytest.mark.parametrize("value", ["", "  "])
async def test_blank_email_is_absent(s2s_client: AsyncTestClient[Any], value: str) -> None:
    response = await s2s_pay(s2s_client, S2S_SMALL, S2S_FORM | {"email": value})
    assert response.status_code == 200, response.text
    assert (await s2s_order(s2s_client, S2S_SMALL))["billing"]["email"] is None


@pytest.mark.parametrize("value", ["0", "2", "true", "yes", "on", "01", "1.0"])
async def test_use_credits_must_be_1(s2s_client: AsyncTestClient[Any], value: str) -> None:
    errors = s2s_errors(await s2s_pay(s2s_client, S2S_SMALL, S2S_FORM | {"use_credits": value}))
    assert errors == {"use_credits": ["The selected use credits is invalid."]}


@pytest.mark.parametrize(
    "field",
    ["first_name", "last_name", "company", "address", "address2", "city", "country", "phone"],
)
async def test_strings_are_at_most_255_characters(
    s2s_client: AsyncTestClient[Any], field: str
) -> None:
    label = field.replace("_", " ")
    errors = s2s_errors(await s2s_pay(s2s_client, S2S_SMALL, S2S_FORM | {field: "é" * 256}))
    assert errors == {field: [f"The {label} must not be greater than 255 characters."]}


async def test_255_characters_are_fine(s2s_client: AsyncTestClient[Any]) -> None:
    response = await s2s_pay(s2s_client, S2S_SMALL, S2S_FORM | {"company": "é" * 255})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("key", ["zip[]", "zip[0]", "zip[code]"])
async def test_array_fields_are_not_strings(s2s_client: AsyncTestClient[Any], key: str) -> None:
    form = {k: v for k, v in S2S_FORM.items() if k != "zip"} | {key: "78701"}
    errors = s2s_errors(await s2s_pay(s2s_client, S2S_SMALL, form))
    assert errors == {"zip": ["The zip must be a string."]}


async def test_several_errors_at_once(s2s_client: AsyncTestClient[Any]) -> None:
    form = {
        "first_name": "Jane",
        "state": "texas",
        "zip": "7870",
        "email": "nope",
        "use_credits": "0",
        "company": "x" * 300,
    }
    response = await s2s_pay(s2s_client, S2S_SMALL, form)
    assert response.json() == {
        "message": "The given data was invalid.",
        "errors": {
            "company": ["The company must not be greater than 255 characters."],
            "city": ["The city field is required."],
            "state": ["The state format is invalid."],
            "zip": ["The zip format is invalid."],
            "phone": ["The phone field is required."],
            "email": ["The email must be a valid email address."],
            "use_credits": ["The selected use credits is invalid."],
        },
    }
    assert list(response.json()["errors"]) == [
        "company",
        "city",
        "state",
        "zip",
        "phone",
        "email",
        "use_credits",
    ]


async def test_a_422_changes_nothing(s2s_client: AsyncTestClient[Any]) -> None:
    s2s_errors(await s2s_pay(s2s_client, S2S_SMALL, S2S_FORM | {"use_credits": "0"}))
    order = await s2s_order(s2s_client, S2S_SMALL)
    assert (order["status"], order["billing"], order["attempts"]) == ("Payment Pending", None, [])
    assert await s2s_credits(s2s_client) == "100.00"


async def test_validation_comes_before_the_order_checks(s2s_client: AsyncTestClient[Any]) -> None:
    errors = s2s_errors(await s2s_pay(s2s_client, S2S_FOREIGN, {"first_name": "Jane"}))
    assert "city" in errors


async def test_unknown_fields_are_ignored(s2s_client: AsyncTestClient[Any]) -> None:
    form = S2S_FORM | {"payment_method": "card", "amount": "0", "user_id": "7"}
    response = await s2s_pay(s2s_client, S2S_SMALL, form)
    assert response.status_code == 200, response.text
    billing = (await s2s_order(s2s_client, S2S_SMALL))["billing"]
    assert "payment_method" not in billing


async def test_a_repeated_field_keeps_its_last_value(s2s_client: AsyncTestClient[Any]) -> None:
    body = (
        b"first_name=A&first_name=Jane&city=Austin&state=tx&state=TX"
        b"&zip=78701&phone=1&use_credits=1"
    )
    response = await s2s_raw(s2s_client, S2S_SMALL, body, S2S_FORM_TYPE)
    assert response.status_code == 200, response.text
    billing = (await s2s_order(s2s_client, S2S_SMALL))["billing"]
    assert (billing["first_name"], billing["state"]) == ("Jane", "TX")


async def test_every_field_is_saved_trimmed(s2s_client: AsyncTestClient[Any]) -> None:
    form = {name: f"  {value}\t" for name, value in S2S_FULL_FORM.items()}
    response = await s2s_pay(s2s_client, S2S_SMALL, form)
    assert response.status_code == 200, response.text
    billing = (await s2s_order(s2s_client, S2S_SMALL))["billing"]
    assert list(billing) == [
        "first_name",
        "last_name",
        "company",
        "address",
        "address2",
        "city",
        "state",
        "zip",
        "country",
        "phone",
        "email",
        "use_credits",
    ]
    assert billing == S2S_FULL_FORM


async def test_missing_optional_fields_are_saved_as_null(s2s_client: AsyncTestClient[Any]) -> None:
    assert (await s2s_pay(s2s_client, S2S_SMALL)).status_code == 200
    billing = (await s2s_order(s2s_client, S2S_SMALL))["billing"]
    assert billing == S2S_FORM | dict.fromkeys(
        ("last_name", "company", "address", "address2", "country", "email")
    )
