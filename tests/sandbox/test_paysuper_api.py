"""PaySuper sandbox: request signatures and the validation of POST /api/v1/order and /tokens."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.sandbox.paysuper_fixtures import (
    PROJECT,
    PUBLIC_URL,
    SECRET,
    SIMPLE,
    TOKEN,
    assert_error,
    compact,
    create_order,
    sandbox_client,
    show,
    sign,
    signed_post,
)

pytest_plugins = ["tests.sandbox.paysuper_fixtures"]

PATHS = ["/api/v1/order", "/api/v1/tokens"]
BODIES = {"/api/v1/order": SIMPLE, "/api/v1/tokens": TOKEN}


# ---- signatures ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", PATHS)
async def test_valid_sha512_signature(paysuper: AsyncTestClient[Any], path: str) -> None:
    response = await signed_post(paysuper, path, BODIES[path])
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("header", [None, "", "   "], ids=["missing", "empty", "blank"])
async def test_signature_is_required(
    paysuper: AsyncTestClient[Any], path: str, header: str | None
) -> None:
    headers = {} if header is None else {"X-API-SIGNATURE": header}
    response = await paysuper.post(path, content=compact(BODIES[path]), headers=headers)
    assert response.status_code == 400
    assert response.json() == {
        "message": "X-API-SIGNATURE header is required",
        "code": "signature_required",
    }


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    "make_signature",
    [
        lambda body: sign(body, "other-secret"),
        lambda body: sign(body).upper(),
        lambda body: SECRET,  # the "secret" mode's header is wrong in sha512 mode
        lambda body: sign(body)[:-1],
    ],
    ids=["other-secret", "uppercase-hex", "plain-secret", "truncated"],
)
async def test_wrong_signature_is_401(
    paysuper: AsyncTestClient[Any], path: str, make_signature: Any
) -> None:
    body = compact(BODIES[path])
    response = await signed_post(paysuper, path, body, make_signature(body))
    assert_error(response, 401, "signature_invalid")


@pytest.mark.parametrize("path", PATHS)
async def test_signature_covers_the_raw_bytes(paysuper: AsyncTestClient[Any], path: str) -> None:
    signature = sign(compact(BODIES[path]))
    reformatted = json.dumps(BODIES[path], indent=2).encode()  # the same JSON, other bytes
    assert_error(
        await signed_post(paysuper, path, reformatted, signature), 401, "signature_invalid"
    )
    spaced = json.dumps(BODIES[path]).encode()
    assert (await signed_post(paysuper, path, spaced, sign(spaced))).status_code == 200


async def test_signature_is_checked_before_the_body(paysuper: AsyncTestClient[Any]) -> None:
    response = await signed_post(paysuper, "/api/v1/order", b"not json", "wrong")
    assert_error(response, 401, "signature_invalid")
    response = await signed_post(paysuper, "/api/v1/order", b"not json")
    assert_error(response, 400, "validation_failed", "JSON object")


@pytest.mark.parametrize("path", PATHS)
async def test_secret_mode(path: str) -> None:
    async with sandbox_client(signature_mode="secret", secret_key="s3cr3t") as client:
        body = compact(BODIES[path])
        assert (await signed_post(client, path, body, "s3cr3t")).status_code == 200
        reformatted = json.dumps(BODIES[path], indent=1).encode()
        assert (await signed_post(client, path, reformatted, "s3cr3t")).status_code == 200
        assert_error(await signed_post(client, path, body, "s3cr3"), 401, "signature_invalid")
        sha = sign(body, "s3cr3t")
        assert_error(await signed_post(client, path, body, sha), 401, "signature_invalid")
        assert_error(await client.post(path, content=body), 400, "signature_required")


async def test_requests_are_logged_even_when_refused(paysuper: AsyncTestClient[Any]) -> None:
    await paysuper.post("/api/v1/order", content=b"{}")
    await signed_post(paysuper, "/api/v1/tokens", TOKEN)
    await paysuper.get("/api/v1/order")  # wrong method
    await paysuper.get("/_sandbox/webhooks")  # control endpoints are not logged
    log = (await paysuper.get("/_sandbox/requests")).json()["requests"]
    assert [(entry["method"], entry["path"]) for entry in log] == [
        ("POST", "/api/v1/order"),
        ("POST", "/api/v1/tokens"),
        ("GET", "/api/v1/order"),
    ]
    assert all(set(entry) == {"method", "path", "at"} for entry in log)
    assert (await paysuper.delete("/_sandbox/requests")).json() == {"requests": []}
    assert (await paysuper.get("/_sandbox/requests")).json() == {"requests": []}


async def test_unknown_routes_and_methods(paysuper: AsyncTestClient[Any]) -> None:
    assert_error(await paysuper.get("/api/v1/nothing"), 404, "not_found")
    assert_error(await paysuper.get("/api/v1/order"), 405, "method_not_allowed")


# ---- POST /api/v1/order -------------------------------------------------------------------


async def test_create_order(paysuper: AsyncTestClient[Any]) -> None:
    response = await signed_post(paysuper, "/api/v1/order", SIMPLE)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"id", "payment_form_url"}
    assert uuid.UUID(body["id"])
    assert body["payment_form_url"] == f"{PUBLIC_URL}/pay/{body['id']}"
    order = await show(paysuper, body["id"])
    assert (order["status"], order["amount"], order["currency"]) == ("created", 12.5, "eur")


@pytest.mark.parametrize(
    ("change", "status", "code", "fragment"),
    [
        ({"project": None}, 400, "validation_failed", "project is required"),
        ({"project": ""}, 400, "validation_failed", "project is required"),
        ({"project": 7}, 400, "validation_failed", "project must be a string"),
        ({"project": "other"}, 404, "project_not_found", "other"),
        ({"type": None}, 400, "validation_failed", "type is required"),
        ({"type": "products"}, 400, "validation_failed", "type must be one of"),
        ({"type": 1}, 400, "validation_failed", "type must be a string"),
        ({"amount": "12.50"}, 400, "validation_failed", "amount must be a number"),
        ({"amount": True}, 400, "validation_failed", "amount must be a number"),
        ({"amount": 0}, 400, "validation_failed", "amount must be greater than 0"),
        ({"amount": -5}, 400, "validation_failed", "amount must be greater than 0"),
        ({"amount": 1.234}, 400, "validation_failed", "amount must have at most 2 decimal"),
        ({"amount": 1e12}, 400, "validation_failed", "amount must not exceed"),
        ({"amount": None}, 400, "validation_failed", "amount is required for type simple"),
        ({"currency": None}, 400, "validation_failed", "currency is required for type simple"),
        ({"currency": "eur"}, 400, "validation_failed", "currency must be a three-letter"),
        ({"currency": "EURO"}, 400, "validation_failed", "currency must be a three-letter"),
        ({"currency": 978}, 400, "validation_failed", "currency must be a string"),
        ({"type": "product"}, 400, "validation_failed", "products is required for type product"),
        ({"type": "key"}, 400, "validation_failed", "products is required for type key"),
        ({"products": []}, 400, "validation_failed", "products must be a non-empty list"),
        ({"products": "sku-1"}, 400, "validation_failed", "products must be a non-empty list"),
        ({"products": ["a", 1]}, 400, "validation_failed", "products[1] must be a non-empty"),
        ({"products": [""]}, 400, "validation_failed", "products[0] must be a non-empty"),
        (
            {"type": "key", "products": ["k"], "platform_id": "wii"},
            400,
            "validation_failed",
            "platform_id must be one of",
        ),
        ({"platform_id": "steam"}, 400, "validation_failed", "platform_id is only allowed"),
        (
            {"type": "product", "products": ["p"], "platform_id": "gog"},
            400,
            "validation_failed",
            "platform_id is only allowed for type key",
        ),
        ({"description": 5}, 400, "validation_failed", "description must be a string"),
        ({"order_id": 5}, 400, "validation_failed", "order_id must be a string"),
        ({"account": []}, 400, "validation_failed", "account must be a string"),
        ({"url_success": 1}, 400, "validation_failed", "url_success must be a string"),
        ({"url_fail": {}}, 400, "validation_failed", "url_fail must be a string"),
        ({"token": 5}, 400, "validation_failed", "token must be a string"),
        ({"token": "not-issued"}, 400, "validation_failed", "token is not a token issued"),
        ({"user": "u"}, 400, "validation_failed", "user must be an object"),
        ({"user": {"external_id": 1}}, 400, "validation_failed", "user.external_id must be"),
        ({"user": {"email": 5}}, 400, "validation_failed", "user.email must be a string"),
        ({"user": {"email_verified": "yes"}}, 400, "validation_failed", "user.email_verified"),
        ({"user": {"phone_verified": 1}}, 400, "validation_failed", "user.phone_verified must"),
        ({"user": {"locale": 1}}, 400, "validation_failed", "user.locale must be a string"),
        ({"user": {"address": "x"}}, 400, "validation_failed", "user.address must be an object"),
        (
            {"user": {"address": {"city": 5}}},
            400,
            "validation_failed",
            "user.address.city must be a string",
        ),
        ({"user": {"metadata": []}}, 400, "validation_failed", "user.metadata must be an object"),
        (
            {"user": {"metadata": {"a": 1}}},
            400,
            "validation_failed",
            "user.metadata.a must be a string",
        ),
    ],
)
async def test_order_validation(
    paysuper: AsyncTestClient[Any], change: dict[str, Any], status: int, code: str, fragment: str
) -> None:
    body = {key: value for key, value in (SIMPLE | change).items() if value is not None}
    response = await signed_post(paysuper, "/api/v1/order", body)
    assert_error(response, status, code, fragment)


@pytest.mark.parametrize("body", [b"", b"[]", b"42", b"{", '{"a": "\xff"}'.encode("latin-1")])
async def test_body_must_be_a_json_object(paysuper: AsyncTestClient[Any], body: bytes) -> None:
    response = await signed_post(paysuper, "/api/v1/order", body)
    assert_error(response, 400, "validation_failed", "JSON object")


async def test_order_accepts_the_documented_fields(paysuper: AsyncTestClient[Any]) -> None:
    user = {
        "external_id": "u-42",
        "name": "Jane",
        "email": "jane@example.com",
        "email_verified": True,
        "phone": "0639597531",
        "phone_verified": False,
        "ip": "79.137.163.2",
        "locale": "ru-RU",
        "address": {"country": "DE", "city": "Berlin"},
        "metadata": {"tier": "gold"},
    }
    extra = {
        "amount": 10,
        "description": "Gems",
        "order_id": "m-1",
        "account": "acc",
        "url_success": "https://shop.test/ok",
        "url_fail": "https://shop.test/ko",
        "user": user,
        "unknown": {"ignored": True},
        "token": None,
    }
    order = await show(paysuper, await create_order(paysuper, **extra))
    assert (order["amount"], order["description"], order["type"]) == (10.0, "Gems", "simple")
    assert order["user"]["address"] == {
        "country": "DE",
        "city": "Berlin",
        "postal_code": "",
        "state": "",
    }
    assert {key: order["user"][key] for key in ("external_id", "email", "locale")} == {
        "external_id": "u-42",
        "email": "jane@example.com",
        "locale": "ru-RU",
    }
    assert order["user"]["metadata"] == {"tier": "gold"}
    assert (order["receipt_email"], order["receipt_phone"], order["country"]) == (
        "jane@example.com",
        "0639597531",
        "DE",
    )
    assert order["metadata"] == {}
    assert "order_id" not in order  # the doc's Order object has no merchant order id
    again = await show(paysuper, await create_order(paysuper, user={"external_id": "u-42"}))
    assert again["user"]["id"] == order["user"]["id"]  # one PaySuper user per external id


@pytest.mark.parametrize(
    ("fields", "amount", "currency", "items"),
    [
        ({"type": "product", "products": ["gem", "sword"]}, 20.0, "usd", 2),
        ({"type": "product", "products": ["gem"], "currency": "EUR"}, 10.0, "eur", 1),
        ({"type": "key", "products": ["game"], "platform_id": "steam"}, 10.0, "usd", 1),
        (
            {"type": "product", "products": ["a", "b"], "amount": 7.0, "currency": "GBP"},
            7.0,
            "gbp",
            2,
        ),
    ],
)
async def test_product_and_key_orders_are_priced(
    paysuper: AsyncTestClient[Any],
    fields: dict[str, Any],
    amount: float,
    currency: str,
    items: int,
) -> None:
    body = {"project": PROJECT} | fields
    response = await signed_post(paysuper, "/api/v1/order", body)
    assert response.status_code == 200, response.text
    order = await show(paysuper, response.json()["id"])
    assert (order["amount"], order["currency"], order["type"]) == (amount, currency, fields["type"])
    assert order["platform_id"] == fields.get("platform_id", "")
    assert len(order["items"]) == items
    assert order["items"][0]["id"] == fields["products"][0]
    assert order["items"][0]["amount"] == amount / items
    assert order["items"][0]["currency"] == currency


# ---- POST /api/v1/tokens ------------------------------------------------------------------


def _token_with(section: str, change: dict[str, Any]) -> dict[str, Any]:
    body = json.loads(json.dumps(TOKEN))
    for key, value in change.items():
        if value is None:
            body[section].pop(key, None)
        else:
            body[section][key] = value
    return body


@pytest.mark.parametrize(
    ("section", "change", "status", "code", "fragment"),
    [
        ("user", {"id": None}, 400, "validation_failed", "user.id is required"),
        ("user", {"id": 5}, 400, "validation_failed", "user.id must be a string"),
        ("user", {"email": "a@b"}, 400, "validation_failed", "user.email must be an object"),
        ("user", {"email": {}}, 400, "validation_failed", "user.email.value is required"),
        ("user", {"phone": {"value": ""}}, 400, "validation_failed", "user.phone.value is req"),
        ("user", {"name": {"value": 1}}, 400, "validation_failed", "user.name.value must be"),
        (
            "user",
            {"email": {"value": "a@b", "verified": "yes"}},
            400,
            "validation_failed",
            "user.email.verified must be a boolean",
        ),
        ("user", {"ip": {"value": None}}, 400, "validation_failed", "user.ip.value is required"),
        ("user", {"locale": []}, 400, "validation_failed", "user.locale must be an object"),
        ("user", {"address": {"country": 1}}, 400, "validation_failed", "user.address.country"),
        ("user", {"metadata": {"k": 1}}, 400, "validation_failed", "user.metadata.k must be"),
        ("settings", {"project_id": None}, 400, "validation_failed", "settings.project_id is"),
        ("settings", {"project_id": "other"}, 404, "project_not_found", "other"),
        ("settings", {"type": None}, 400, "validation_failed", "settings.type is required"),
        ("settings", {"type": "bundle"}, 400, "validation_failed", "settings.type must be one"),
        ("settings", {"amount": None}, 400, "validation_failed", "settings.amount is required"),
        ("settings", {"amount": "3.99"}, 400, "validation_failed", "settings.amount must be a"),
        ("settings", {"amount": 0.001}, 400, "validation_failed", "settings.amount must have"),
        ("settings", {"currency": None}, 400, "validation_failed", "settings.currency is requ"),
        ("settings", {"currency": "usd"}, 400, "validation_failed", "settings.currency must be"),
        (
            "settings",
            {"type": "product"},
            400,
            "validation_failed",
            "settings.products_ids is required for type product",
        ),
        ("settings", {"products_ids": []}, 400, "validation_failed", "settings.products_ids"),
        ("settings", {"return_url": "x"}, 400, "validation_failed", "settings.return_url must"),
        (
            "settings",
            {"return_url": {"success": 1}},
            400,
            "validation_failed",
            "settings.return_url.success must be a string",
        ),
        ("settings", {"description": 1}, 400, "validation_failed", "settings.description must"),
        ("settings", {"metadata": {"a": 1}}, 400, "validation_failed", "settings.metadata.a"),
        ("settings", {"metadata": "a"}, 400, "validation_failed", "settings.metadata must be"),
    ],
)
async def test_token_validation(
    paysuper: AsyncTestClient[Any],
    section: str,
    change: dict[str, Any],
    status: int,
    code: str,
    fragment: str,
) -> None:
    response = await signed_post(paysuper, "/api/v1/tokens", _token_with(section, change))
    assert_error(response, status, code, fragment)


@pytest.mark.parametrize(
    ("missing", "fragment"), [("user", "user is required"), ("settings", "settings is required")]
)
async def test_token_requires_user_and_settings(
    paysuper: AsyncTestClient[Any], missing: str, fragment: str
) -> None:
    body = {key: value for key, value in TOKEN.items() if key != missing}
    assert_error(
        await signed_post(paysuper, "/api/v1/tokens", body), 400, "validation_failed", fragment
    )


async def test_create_token(paysuper: AsyncTestClient[Any]) -> None:
    response = await signed_post(paysuper, "/api/v1/tokens", TOKEN)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "payment_form_url"}
    assert body["payment_form_url"] == f"{PUBLIC_URL}/pay/token/{body['token']}"
    # No order until the customer opens the form.
    missing = await paysuper.get(f"/_sandbox/orders/by-token/{body['token']}")
    assert_error(missing, 404, "order_not_found")


async def test_order_from_a_token_takes_its_fields(paysuper: AsyncTestClient[Any]) -> None:
    token_body = _token_with("settings", {"metadata": {"cart": "c-9"}, "description": "Via token"})
    token = (await signed_post(paysuper, "/api/v1/tokens", token_body)).json()["token"]
    # The token's parameters override the body's, even the required ones.
    response = await signed_post(paysuper, "/api/v1/order", {"token": token, "amount": 1})
    assert response.status_code == 200, response.text
    order = await show(paysuper, response.json()["id"])
    assert (order["amount"], order["currency"], order["description"]) == (3.99, "usd", "Via token")
    assert order["metadata"] == {"cart": "c-9"}
    assert (order["user"]["external_id"], order["user"]["email"]) == ("user-1", "a@b.test")
    assert order["user"]["email_verified"] is True
