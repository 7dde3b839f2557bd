"""PaySuperConnector.validate_authorize and build_authorize: orders, tokens, signatures.

Pure: every expectation is recomputed from the request the connector built.
"""

import hashlib
import json
import re
from decimal import Decimal

import pytest

from service.connectors.paysuper import (
    PAYMENT_ID_KEY,
    PaySuperAddress,
    PaySuperOptions,
    PaySuperUser,
)
from service.domain.commands import Customer
from service.domain.errors import FieldError
from service.domain.money import Money, to_major
from service.domain.payments import PaymentMethodType
from tests.unit.test_paysuper_support import (
    CUSTOMER,
    PROJECT,
    RETURN_URL,
    SECRET,
    authorize,
    body,
    connector,
    edited,
)

TOKEN = PaySuperOptions(checkout="token", user=PaySuperUser(id="user_42"))
FULL_USER = PaySuperUser(
    id="0000000000001",
    name="User Name",
    email="user.email@example.com",
    email_verified=True,
    phone="0639597531",
    phone_verified=True,
    ip="79.137.163.2",
    locale="ru-RU",
    address=PaySuperAddress(country="RU", city="Moscow", postal_code="127221", state="MOW"),
    metadata={"user.param1": "user.val1"},
)


def fields(errors: list[FieldError]) -> list[str]:
    return [error.field for error in errors]


# -- validate_authorize ----------------------------------------------------------------


def test_a_plain_hosted_page_is_valid() -> None:
    assert connector().validate_authorize(authorize()) == []


def test_only_a_hosted_page_is_offered() -> None:
    errors = connector().validate_authorize(authorize(method=PaymentMethodType.CARD))
    assert fields(errors) == ["payment_method.type"]


def test_project_is_required_without_a_default() -> None:
    errors = connector(project=None).validate_authorize(authorize())
    assert fields(errors) == ["provider_options.paysuper.project"]
    with_project = authorize(PaySuperOptions(project="p_1"))
    assert connector(project=None).validate_authorize(with_project) == []


@pytest.mark.parametrize(
    ("options", "field"),
    [
        (PaySuperOptions(products=["prod_1"]), "provider_options.paysuper.products"),
        (PaySuperOptions(type="product"), "provider_options.paysuper.products"),
        (PaySuperOptions(type="key"), "provider_options.paysuper.products"),
        (
            PaySuperOptions(type="product", products=["p"], platform_id="steam"),
            "provider_options.paysuper.platform_id",
        ),
        (PaySuperOptions(platform_id="gog"), "provider_options.paysuper.platform_id"),
        (PaySuperOptions(checkout="token"), "provider_options.paysuper.user.id"),
        (
            PaySuperOptions(checkout="token", user=PaySuperUser(email="a@b.c")),
            "provider_options.paysuper.user.id",
        ),
        (
            PaySuperOptions(
                checkout="token", user=PaySuperUser(id="u1"), metadata={PAYMENT_ID_KEY: "x"}
            ),
            "provider_options.paysuper.metadata",
        ),
        (PaySuperOptions(metadata={"campaign": "spring"}), "provider_options.paysuper.metadata"),
    ],
    ids=[
        "products-on-simple",
        "product-without-products",
        "key-without-products",
        "platform-on-product",
        "platform-on-simple",
        "token-without-user",
        "token-user-without-id",
        "reserved-metadata-key",
        "metadata-needs-a-token",
    ],
)
def test_each_rule(options: PaySuperOptions, field: str) -> None:
    assert fields(connector().validate_authorize(authorize(options))) == [field]


@pytest.mark.parametrize(
    "options",
    [
        PaySuperOptions(type="product", products=["p_1", "p_2"]),
        PaySuperOptions(type="key", products=["k_1"], platform_id="steam"),
        PaySuperOptions(type="key", products=["k_1"]),
        TOKEN,
        PaySuperOptions(checkout="token", user=PaySuperUser(id="u1"), metadata={"a": "b"}),
    ],
)
def test_what_the_rules_allow(options: PaySuperOptions) -> None:
    assert connector().validate_authorize(authorize(options)) == []


def test_an_amount_finer_than_two_decimals_is_refused() -> None:
    # 1.234 KWD has three decimals: PaySuper takes two; money is never rounded.
    errors = connector().validate_authorize(authorize(money=Money(1234, "KWD")))
    assert fields(errors) == ["amount"]
    assert connector().validate_authorize(authorize(money=Money(1230, "KWD"))) == []


def test_every_broken_rule_is_reported() -> None:
    options = PaySuperOptions(checkout="token", type="product", metadata={PAYMENT_ID_KEY: "x"})
    cmd = authorize(options, method=PaymentMethodType.CARD, money=Money(1234, "KWD"))
    assert len(connector(project=None).validate_authorize(cmd)) == 6


# -- endpoints and signatures -----------------------------------------------------------


def test_an_order_is_posted_to_the_order_endpoint() -> None:
    call = connector().build_authorize(authorize())
    assert (call.method, call.path) == ("POST", "/api/v1/order")
    assert call.headers["Content-Type"] == "application/json"
    assert call.headers["Accept"] == "application/json"
    assert call.query == {}


def test_a_token_is_posted_to_the_tokens_endpoint() -> None:
    call = connector().build_authorize(authorize(TOKEN))
    assert (call.method, call.path) == ("POST", "/api/v1/tokens")


@pytest.mark.parametrize("options", [None, TOKEN], ids=["order", "token"])
def test_signature_is_sha512_of_the_exact_body_and_secret(options: PaySuperOptions) -> None:
    call = connector().build_authorize(authorize(options))
    assert call.body is not None
    signature = call.headers["X-API-SIGNATURE"]
    assert re.fullmatch(r"[0-9a-f]{128}", signature)
    assert signature == hashlib.sha512(call.body + SECRET.encode()).hexdigest()
    assert signature != hashlib.sha512(call.body + b" " + SECRET.encode()).hexdigest()
    other = connector(secret="another-secret").build_authorize(authorize(options))
    assert other.body == call.body
    assert other.headers["X-API-SIGNATURE"] != signature


@pytest.mark.parametrize("options", [None, TOKEN], ids=["order", "token"])
def test_secret_mode_sends_the_secret_itself(options: PaySuperOptions) -> None:
    call = connector(mode="secret").build_authorize(authorize(options))
    assert call.headers["X-API-SIGNATURE"] == SECRET


# -- the order body ---------------------------------------------------------------------


def test_simple_order_body() -> None:
    cmd = authorize(description="Gold pack", return_url=RETURN_URL)
    call = connector().build_authorize(cmd)
    assert call.body is not None
    assert b'"amount":9.99,' in call.body
    assert body(call) == {
        "project": PROJECT,
        "type": "simple",
        "order_id": "pay_1",
        "description": "Gold pack",
        "amount": 9.99,
        "currency": "USD",
        "url_success": RETURN_URL,
        "url_fail": RETURN_URL,
        "user": {
            "name": "Jane Roe",
            "email": "jane@example.com",
            "email_verified": False,
            "phone": "+4930123",
            "phone_verified": False,
            "ip": "79.137.163.2",
        },
    }


def test_project_from_options_wins_over_the_default() -> None:
    call = connector().build_authorize(authorize(PaySuperOptions(project="p_other")))
    assert body(call)["project"] == "p_other"


@pytest.mark.parametrize(
    ("money", "literal"),
    [
        (Money(999, "USD"), b'"amount":9.99,'),
        (Money(1, "USD"), b'"amount":0.01,'),
        (Money(12, "EUR"), b'"amount":0.12,'),
        (Money(59500, "RUB"), b'"amount":595.00,'),
        (Money(1230, "KWD"), b'"amount":1.23,'),
        (Money(500, "JPY"), b'"amount":500.00,'),
        # 18 digits: a float would print 1e16; Decimal writes every one of them.
        (Money(999999999999999999, "USD"), b'"amount":9999999999999999.99,'),
    ],
)
def test_amount_is_a_json_number_written_exactly(money: Money, literal: bytes) -> None:
    call = connector().build_authorize(authorize(money=money))
    assert call.body is not None
    assert literal in call.body
    assert b'"amount":"' not in call.body
    parsed = json.loads(call.body, parse_float=Decimal, parse_int=Decimal)
    assert parsed["amount"] == to_major(money.amount, money.currency)
    assert parsed["currency"] == money.currency


def test_no_return_urls_unless_given() -> None:
    sent = body(connector().build_authorize(authorize()))
    assert "url_success" not in sent
    assert "url_fail" not in sent
    assert "description" not in sent


def test_return_urls_from_options_else_return_url() -> None:
    options = PaySuperOptions(url_success="https://shop.example.com/thanks")
    sent = body(connector().build_authorize(authorize(options, return_url=RETURN_URL)))
    assert sent["url_success"] == "https://shop.example.com/thanks"
    assert sent["url_fail"] == RETURN_URL
    options = PaySuperOptions(url_fail="https://shop.example.com/sorry")
    sent = body(connector().build_authorize(authorize(options)))
    assert sent["url_fail"] == "https://shop.example.com/sorry"
    assert "url_success" not in sent


def test_user_from_options_wins_over_the_customer() -> None:
    sent = body(connector().build_authorize(authorize(PaySuperOptions(user=FULL_USER))))
    assert sent["user"] == {
        "external_id": "0000000000001",
        "name": "User Name",
        "email": "user.email@example.com",
        "email_verified": True,
        "phone": "0639597531",
        "phone_verified": True,
        "ip": "79.137.163.2",
        "locale": "ru-RU",
        "address": {"country": "RU", "city": "Moscow", "postal_code": "127221", "state": "MOW"},
        "metadata": {"user.param1": "user.val1"},
    }


def test_email_verified_only_with_an_email() -> None:
    user = PaySuperUser(id="u_1", email_verified=True, phone_verified=True)
    sent = body(connector().build_authorize(authorize(PaySuperOptions(user=user))))
    assert sent["user"] == {"external_id": "u_1"}
    bare = authorize(customer=Customer(ip="8.8.8.8"))
    assert body(connector().build_authorize(bare))["user"] == {"ip": "8.8.8.8"}


def test_user_address_from_the_customer() -> None:
    customer = Customer(
        email="jane@example.com", country="DE", city="Berlin", zip="10115", state="BE"
    )
    sent = body(connector().build_authorize(authorize(customer=customer)))
    assert sent["user"]["address"] == {
        "country": "DE",
        "city": "Berlin",
        "postal_code": "10115",
        "state": "BE",
    }


@pytest.mark.parametrize("kind", ["product", "key"])
def test_product_and_key_orders_send_products_and_no_price(kind: str) -> None:
    platform = "steam" if kind == "key" else None
    options = PaySuperOptions(
        type=kind,  # type: ignore[arg-type]
        products=["prod_1", "prod_2"],
        platform_id=platform,  # type: ignore[arg-type]
        account="player-7",
    )
    call = connector().build_authorize(authorize(options))
    sent = body(call)
    assert sent["type"] == kind
    assert sent["products"] == ["prod_1", "prod_2"]
    assert sent["account"] == "player-7"
    assert "amount" not in sent
    assert "currency" not in sent
    assert call.body is not None
    assert b'"amount"' not in call.body
    if kind == "key":
        assert sent["platform_id"] == "steam"
    else:
        assert "platform_id" not in sent


def test_a_simple_order_sends_no_products() -> None:
    sent = body(connector().build_authorize(authorize()))
    assert "products" not in sent
    assert "platform_id" not in sent
    assert "token" not in sent


# -- the token body ---------------------------------------------------------------------


def test_token_body() -> None:
    options = PaySuperOptions(
        checkout="token",
        user=FULL_USER,
        url_fail="https://shop.example.com/sorry",
        metadata={"campaign": "spring"},
    )
    cmd = authorize(options, description="Gold pack", return_url=RETURN_URL)
    call = connector().build_authorize(cmd)
    assert call.body is not None
    assert b'"amount":9.99,' in call.body
    assert body(call) == {
        "user": {
            "id": "0000000000001",
            "email": {"value": "user.email@example.com", "verified": True},
            "phone": {"value": "0639597531", "verified": True},
            "name": {"value": "User Name"},
            "ip": {"value": "79.137.163.2"},
            "locale": {"value": "ru-RU"},
            "address": {"country": "RU", "city": "Moscow", "postal_code": "127221", "state": "MOW"},
            "metadata": {"user.param1": "user.val1"},
        },
        "settings": {
            "project_id": PROJECT,
            "type": "simple",
            "return_url": {"success": RETURN_URL, "fail": "https://shop.example.com/sorry"},
            "currency": "USD",
            "amount": 9.99,
            "description": "Gold pack",
            "metadata": {"campaign": "spring", PAYMENT_ID_KEY: "pay_1"},
        },
    }


def test_a_bare_token_carries_our_payment_id() -> None:
    sent = body(connector().build_authorize(authorize(TOKEN)))
    assert sent["user"] == {"id": "user_42"}
    assert sent["settings"]["metadata"] == {PAYMENT_ID_KEY: "pay_1"}
    assert "return_url" not in sent["settings"]
    assert "products_ids" not in sent["settings"]


def test_a_product_token_sends_products_ids_and_no_price() -> None:
    options = PaySuperOptions(
        checkout="token", type="product", products=["prod_1"], user=PaySuperUser(id="u")
    )
    call = connector(project=None).build_authorize(authorize(edited(options, project="p_token")))
    settings = body(call)["settings"]
    assert settings["products_ids"] == ["prod_1"]
    assert settings["type"] == "product"
    assert settings["project_id"] == "p_token"
    assert "amount" not in settings
    assert "currency" not in settings


def test_token_email_verified_false_is_sent() -> None:
    user = PaySuperUser(id="u", email="a@b.c", phone="+1555")
    sent = body(
        connector().build_authorize(authorize(PaySuperOptions(checkout="token", user=user)))
    )
    assert sent["user"]["email"] == {"value": "a@b.c", "verified": False}
    assert sent["user"]["phone"] == {"value": "+1555", "verified": False}


def test_token_user_falls_back_on_the_customer() -> None:
    # No options.user: validate refuses a token without user.id, but what is built from
    # the customer is still the documented shape.
    sent = body(connector().build_authorize(authorize(PaySuperOptions(checkout="token"))))
    assert sent["user"]["email"] == {"value": CUSTOMER.email, "verified": False}
    assert sent["user"]["name"] == {"value": CUSTOMER.name}
    assert sent["user"]["ip"] == {"value": CUSTOMER.ip}
