"""Proxy-Solutions sandbox: POST /api/services/{service_id}/price."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.sandbox.proxy_fixtures import (
    WRONG_KEY,
    proxy_errors,
    proxy_json,
    proxy_message,
    proxy_price,
)

pytest_plugins = ["tests.sandbox.proxy_fixtures"]

MOBILE, HOSTING, DATACENTER = 1, 2, 3
VPS_S = {"server_config_id": "vps-s"}
PRICE_KEYS = [
    "lang",
    "discount",
    "amount",
    "converted_amount",
    "merchant",
    "payer_amount",
    "payer_currency",
]


async def quote(client: AsyncTestClient[Any], service: int, body: Any, **kw: Any) -> Any:
    response = await proxy_price(client, service, body, **kw)
    assert response.status_code == 200, response.text
    return proxy_json(response)


# ---- defaults and every option of each service -----------------------------------------------


async def test_mobile_defaults(proxy_client: AsyncTestClient[Any]) -> None:
    response = await proxy_price(proxy_client, MOBILE, {})
    assert response.status_code == 200
    assert list(response.json()) == PRICE_KEYS
    assert response.json() == {
        "lang": "EN",
        "discount": 0,
        "amount": 60,
        "converted_amount": 60,
        "merchant": None,
        "payer_amount": 60,
        "payer_currency": "USD",
    }


async def test_no_body_is_the_defaults(proxy_client: AsyncTestClient[Any]) -> None:
    response = await proxy_client.post("/api/services/3/price")
    assert response.status_code == 200
    assert response.json()["amount"] == 15


@pytest.mark.parametrize(
    ("body", "amount"),
    [
        ({"location_id": 10}, "60"),
        ({"location_id": 11, "quantity": 3}, "180"),
        ({"quantity": 3, "period": 7}, "42"),
        ({"period": 1}, "2"),
        ({"multiport": True}, "60"),
        ({"multiport": False}, "60"),
        ({"uid": 42, "location_id": 10, "quantity": 2, "period": 15, "multiport": True}, "60"),
        ({"quantity": 1000, "period": 3650}, "7300000"),
    ],
)
async def test_mobile_options(
    proxy_client: AsyncTestClient[Any], body: dict[str, Any], amount: str
) -> None:
    result = await quote(proxy_client, MOBILE, body)
    assert result["amount"] == Decimal(amount)
    assert result["payer_amount"] == Decimal(amount)


@pytest.mark.parametrize(
    ("body", "amount"),
    [
        ({}, "15"),
        ({"location_id": 20}, "15"),
        ({"location_id": 20, "quantity": 10}, "150"),
        ({"quantity": 3, "period": 7}, "10.5"),
        ({"multiport": False, "uid": 7}, "15"),
    ],
)
async def test_datacenter_options(
    proxy_client: AsyncTestClient[Any], body: dict[str, Any], amount: str
) -> None:
    assert (await quote(proxy_client, DATACENTER, body))["amount"] == Decimal(amount)


@pytest.mark.parametrize(
    ("body", "amount"),
    [
        (VPS_S, "150"),
        ({"server_config_id": "vps-m"}, "270"),
        (VPS_S | {"server_options": {}}, "150"),
        (VPS_S | {"server_options": {"os": "ubuntu-22"}}, "150"),
        (VPS_S | {"server_options": {"os": "debian-12"}}, "150"),
        (VPS_S | {"server_options": {"ram": ""}}, "150"),
        (VPS_S | {"server_options": {"ram": "+4G"}}, "180"),
        (VPS_S | {"server_options": {"drive": "+100G"}}, "165"),
        (VPS_S | {"server_options": {"drive": ""}}, "150"),
        (VPS_S | {"server_options": {"additional_ip": 0}}, "150"),
        (VPS_S | {"server_options": {"additional_ip": 1}}, "153"),
        (VPS_S | {"server_options": {"additional_ip": 8}}, "174"),
        (VPS_S | {"server_options": {"backup": "daily"}}, "159"),
        (VPS_S | {"server_options": {"backup": ""}}, "150"),
        (VPS_S | {"server_options": {"colour": "red"}}, "150"),
        (VPS_S | {"quantity": 2, "period": 7}, "70"),
        (
            {
                "server_config_id": "vps-m",
                "quantity": 2,
                "period": 10,
                "uid": 1,
                "multiport": False,
                "server_options": {
                    "os": "debian-12",
                    "ram": "+4G",
                    "drive": "+100G",
                    "additional_ip": 3,
                    "backup": "daily",
                },
            },
            "222",  # (9 + 1 + 0.5 + 0.3 + 0.3) * 2 * 10
        ),
    ],
)
async def test_hosting_options(
    proxy_client: AsyncTestClient[Any], body: dict[str, Any], amount: str
) -> None:
    assert (await quote(proxy_client, HOSTING, body))["amount"] == Decimal(amount)


# ---- promo codes, merchants, currencies ------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "discount", "payer"), [("SAVE10", 10, "54"), ("save10", 10, "54"), ("Half", 50, "30")]
)
async def test_promo_codes(
    proxy_client: AsyncTestClient[Any], code: str, discount: int, payer: str
) -> None:
    result = await quote(proxy_client, MOBILE, {"promocode": code})
    assert result["discount"] == discount
    assert result["amount"] == 60  # before the discount
    assert result["converted_amount"] == 60
    assert result["payer_amount"] == Decimal(payer)


@pytest.mark.parametrize(
    ("body", "converted", "payer", "currency"),
    [
        ({"merchant": "card", "currency": "EUR"}, "55.2", "55.2", "EUR"),
        ({"merchant": "card", "currency": "RUB", "promocode": "SAVE10"}, "5550", "4995", "RUB"),
        ({"merchant": "card", "currency": "JPY", "period": 7}, "2114", "2114", "JPY"),
        (
            {"merchant": "card", "currency": "JPY", "promocode": "half", "period": 1},
            "302",
            "151",
            "JPY",
        ),
        ({"merchant": "crypto", "currency": "BTC"}, "0.0009", "0.0009", "BTC"),
        ({"merchant": "crypto", "currency": "USDT", "promocode": "HALF"}, "60", "30", "USDT"),
        ({"merchant": "card"}, "60", "60", "USD"),
        ({"merchant": "balance"}, "60", "60", "USD"),
        ({"merchant": "crypto"}, "60", "60", "USDT"),  # crypto takes no USD
        ({"currency": "JPY"}, "9060", "9060", "JPY"),
        ({"currency": "BTC", "promocode": "SAVE10"}, "0.0009", "0.00081", "BTC"),
    ],
)
async def test_merchants_and_currencies(
    proxy_client: AsyncTestClient[Any],
    body: dict[str, Any],
    converted: str,
    payer: str,
    currency: str,
) -> None:
    result = await quote(proxy_client, MOBILE, body)
    assert result["converted_amount"] == Decimal(converted)
    assert result["payer_amount"] == Decimal(payer)
    assert result["payer_currency"] == currency
    assert result["merchant"] == body.get("merchant")


async def test_amounts_are_json_numbers(proxy_client: AsyncTestClient[Any]) -> None:
    jpy = await proxy_price(proxy_client, DATACENTER, {"currency": "JPY", "period": 1})
    assert jpy.text.startswith('{"lang":"EN","discount":0,"amount":0.5,"converted_amount":76,')
    btc = await proxy_price(proxy_client, DATACENTER, {"currency": "BTC", "period": 1})
    assert '"payer_amount":0.0000075,' in btc.text


async def test_a_key_is_not_needed_nor_checked(proxy_client: AsyncTestClient[Any]) -> None:
    response = await proxy_client.post("/api/services/1/price", json={}, headers=WRONG_KEY)
    assert response.status_code == 200


# ---- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(("service", "body"), [(HOSTING, VPS_S), (DATACENTER, {})])
async def test_multiport_is_mobile_only(
    proxy_client: AsyncTestClient[Any], service: int, body: dict[str, Any]
) -> None:
    response = await proxy_price(proxy_client, service, body | {"multiport": True})
    assert proxy_errors(response) == ["The multiport field is only available for mobile proxies."]


@pytest.mark.parametrize("service", [MOBILE, DATACENTER])
async def test_server_fields_are_hosting_only(
    proxy_client: AsyncTestClient[Any], service: int
) -> None:
    body = {"server_config_id": "vps-s", "server_options": {"os": "debian-12"}}
    assert proxy_errors(await proxy_price(proxy_client, service, body)) == [
        "The server config id field is only available for hosting servers.",
        "The server options field is only available for hosting servers.",
    ]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (None, "The server config id field is required."),
        ("", "The server config id field is required."),
        ("vps-xl", "The selected server config id is invalid."),
        ("VPS-S", "The selected server config id is invalid."),
        (5, "The server config id must be a string."),
    ],
)
async def test_hosting_config_checks(
    proxy_client: AsyncTestClient[Any], config: Any, message: str
) -> None:
    response = await proxy_price(proxy_client, HOSTING, {"server_config_id": config})
    assert proxy_errors(response) == [message]


async def test_bad_server_options_all_listed(proxy_client: AsyncTestClient[Any]) -> None:
    options = {"os": "windows", "ram": "+8G", "drive": 100, "additional_ip": 9, "backup": "weekly"}
    response = await proxy_price(proxy_client, HOSTING, VPS_S | {"server_options": options})
    assert proxy_errors(response) == [
        "The selected server options.os is invalid.",
        "The selected server options.ram is invalid.",
        "The server options.drive must be a string.",
        "The selected server options.backup is invalid.",
        "The server options.additional ip must be between 0 and 8.",
    ]


@pytest.mark.parametrize(
    ("ips", "message"),
    [
        (-1, "The server options.additional ip must be between 0 and 8."),
        ("2", "The server options.additional ip must be an integer."),
        (1.5, "The server options.additional ip must be an integer."),
    ],
)
async def test_additional_ip_checks(
    proxy_client: AsyncTestClient[Any], ips: Any, message: str
) -> None:
    body = VPS_S | {"server_options": {"additional_ip": ips}}
    assert proxy_errors(await proxy_price(proxy_client, HOSTING, body)) == [message]


@pytest.mark.parametrize("options", [[], "debian-12", 1, True])
async def test_server_options_must_be_an_object(
    proxy_client: AsyncTestClient[Any], options: Any
) -> None:
    response = await proxy_price(proxy_client, HOSTING, VPS_S | {"server_options": options})
    assert proxy_errors(response) == ["The server options must be an object."]


@pytest.mark.parametrize(
    ("service", "location"), [(MOBILE, 20), (MOBILE, 12), (DATACENTER, 10), (HOSTING, 10)]
)
async def test_location_must_be_the_services(
    proxy_client: AsyncTestClient[Any], service: int, location: int
) -> None:
    body = (VPS_S if service == HOSTING else {}) | {"location_id": location}
    response = await proxy_price(proxy_client, service, body)
    assert proxy_errors(response) == ["The selected location id is invalid."]


async def test_every_bad_field_is_listed(proxy_client: AsyncTestClient[Any]) -> None:
    body = {
        "uid": "me",
        "location_id": "10",
        "quantity": 0,
        "period": 3651,
        "multiport": "yes",
        "promocode": "NOPE",
        "merchant": "paypal",
        "currency": "XYZ",
    }
    assert proxy_errors(await proxy_price(proxy_client, MOBILE, body)) == [
        "The uid must be an integer.",
        "The location id must be an integer.",
        "The quantity must be between 1 and 1000.",
        "The period must be between 1 and 3650.",
        "The multiport field must be true or false.",
        "The promocode is invalid.",
        "The selected merchant is invalid.",
        "The selected currency is invalid.",
    ]


@pytest.mark.parametrize(
    ("merchant", "currency"), [("card", "BTC"), ("crypto", "USD"), ("balance", "EUR")]
)
async def test_currency_must_be_the_merchants(
    proxy_client: AsyncTestClient[Any], merchant: str, currency: str
) -> None:
    response = await proxy_price(proxy_client, MOBILE, {"merchant": merchant, "currency": currency})
    assert proxy_errors(response) == ["The selected currency is invalid."]


@pytest.mark.parametrize("body", [b"[]", b"{", b"7"])
async def test_body_must_be_an_object(proxy_client: AsyncTestClient[Any], body: bytes) -> None:
    response = await proxy_client.post("/api/services/1/price", content=body)
    assert proxy_errors(response) == ["The request body must be a JSON object."]


@pytest.mark.parametrize("service", ["4", "0", "-1", "99999999999999999999999"])
async def test_unknown_service_is_404(proxy_client: AsyncTestClient[Any], service: str) -> None:
    response = await proxy_price(proxy_client, service, {})
    assert proxy_message(response, 404) == "Service not found."


@pytest.mark.parametrize("service", ["mobile", "1.0", "1e0"])
async def test_non_integer_service_is_422(proxy_client: AsyncTestClient[Any], service: str) -> None:
    response = await proxy_price(proxy_client, service, {})
    assert proxy_errors(response) == ["The service id must be an integer."]


# ---- lang ------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["EN", "RU", "UA"])
async def test_lang_is_echoed(proxy_client: AsyncTestClient[Any], lang: str) -> None:
    assert (await quote(proxy_client, MOBILE, {}, lang=lang))["lang"] == lang


async def test_empty_lang_is_the_default(proxy_client: AsyncTestClient[Any]) -> None:
    assert (await quote(proxy_client, MOBILE, {}, lang=""))["lang"] == "EN"


@pytest.mark.parametrize("lang", ["ru", "DE", "English", "EN "])
async def test_bad_lang_is_422_in_english(proxy_client: AsyncTestClient[Any], lang: str) -> None:
    response = await proxy_price(proxy_client, MOBILE, {"promocode": "x"}, lang=lang)
    assert proxy_errors(response) == ["The selected lang is invalid.", "The promocode is invalid."]


@pytest.mark.parametrize(
    ("lang", "messages"),
    [
        ("EN", ["The promocode is invalid.", "The quantity must be between 1 and 1000."]),
        ("RU", ["Поле quantity должно быть между 1 и 1000.", "Промокод недействителен."]),
        ("UA", ["Поле quantity має бути між 1 та 1000.", "Промокод недійсний."]),
    ],
)
async def test_messages_follow_lang(
    proxy_client: AsyncTestClient[Any], lang: str, messages: list[str]
) -> None:
    response = await proxy_price(proxy_client, MOBILE, {"promocode": "x", "quantity": 0}, lang=lang)
    assert sorted(proxy_errors(response)) == sorted(messages)


@pytest.mark.parametrize(
    ("lang", "message"),
    [("RU", "Сервис не найден."), ("UA", "Сервіс не знайдено."), ("XX", "Service not found.")],
)
async def test_not_found_follows_lang(
    proxy_client: AsyncTestClient[Any], lang: str, message: str
) -> None:
    assert proxy_message(await proxy_price(proxy_client, 9, {}, lang=lang), 404) == message


async def test_localised_refusals(proxy_client: AsyncTestClient[Any]) -> None:
    response = await proxy_price(proxy_client, DATACENTER, {"multiport": True}, lang="RU")
    assert proxy_errors(response) == ["Поле multiport доступно только для мобильных прокси."]
