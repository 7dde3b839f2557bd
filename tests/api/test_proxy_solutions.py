"""Proxy-Solutions: pay a vendor order from the API balance or by invoice; merchants; quotes."""

import uuid

import httpx
import msgspec
import pytest

from service.app import create_app
from tests.api.helpers import act, idem, log_events
from tests.conftest import PROXY_KEY
from tests.servers import free_port, serving


def order_payment(merchant: str = "balance", currency: str = "USD", **options) -> dict:
    body = {
        "provider": "proxy_solutions",
        "payment_method": {"type": "balance" if merchant == "balance" else "hosted_page"},
        "merchant_reference": uuid.uuid4().hex,
        "provider_options": {
            "proxy_solutions": {"order_id": 1001, "merchant": merchant, "currency": currency}
            | options
        },
    }
    return body


async def _balance(proxy_sandbox: httpx.AsyncClient) -> str:
    return (await proxy_sandbox.get("/_sandbox/balance")).json()["balance"]


async def test_balance_payment_is_captured_at_the_providers_price(client, proxy_sandbox):
    before = await _balance(proxy_sandbox)
    response = await client.post("/v1/payments", json=order_payment(period=30), headers=idem())
    assert response.status_code == 201, response.text
    payment = response.json()
    assert payment["status"] == "captured"
    assert (payment["amount"], payment["currency"], payment["amount_captured"]) == (
        1200,
        "USD",
        1200,
    )
    assert [(op["type"], op["amount"], op["status"]) for op in payment["operations"]] == [
        ("authorize", 1200, "succeeded"),
        ("capture", 1200, "succeeded"),
    ]
    details = payment["provider_details"]
    assert details["requested"] == {
        "order_id": 1001,
        "merchant": "balance",
        "currency": "USD",
        "period": 30,
    }
    assert (details["payer_amount"], details["payer_currency"]) == (1200, "USD")
    assert details["discount_percent"] == "0"
    assert payment["provider_reference"] == "1001"
    after = await _balance(proxy_sandbox)
    assert float(before) - float(after) == pytest.approx(12.00)
    log = (await proxy_sandbox.get("/_sandbox/requests")).json()["requests"]
    assert log[-1]["path"] == "/api/user/orders/1001/charge"
    assert log[-1]["api_key_valid"] is True


async def test_invoice_with_a_promo_code_in_euros(client):
    body = order_payment("card", "EUR", promocode="SAVE10") | {"amount": 1000, "currency": "USD"}
    payment = (await client.post("/v1/payments", json=body, headers=idem())).json()
    assert payment["status"] == "requires_action"
    assert payment["next_action"]["type"] == "redirect"
    assert "/invoice/" in payment["next_action"]["url"]
    # 10.00 USD asked, 10% off, in EUR at 0.92: 8.28 EUR
    assert (payment["amount"], payment["currency"]) == (828, "EUR")
    details = payment["provider_details"]
    assert details["requested"]["amount"] == 1000
    assert details["discount_percent"] == "10"
    assert details["invoice_url"] == payment["next_action"]["url"]
    assert payment["operations"][0]["status"] == "pending"


async def test_an_amount_given_makes_the_period_ignored(client, proxy_sandbox):
    body = order_payment(period=365) | {"amount": 500}
    payment = (await client.post("/v1/payments", json=body, headers=idem())).json()
    assert payment["amount"] == 500  # 5.00 USD, not a year
    charges = (await proxy_sandbox.get("/_sandbox/orders/1001")).json()["charges"]
    assert charges[-1]["amount_usd"] in ("5.00", "5")


async def test_zero_decimal_payer_currency(client):
    payment = (
        await client.post(
            "/v1/payments", json=order_payment("card", "JPY", period=30), headers=idem()
        )
    ).json()
    assert (payment["amount"], payment["currency"]) == (1812, "JPY")  # 12 USD at 151, whole yen


async def test_balance_too_small_refuses_and_changes_nothing(client, proxy_sandbox):
    await proxy_sandbox.post("/_sandbox/balance", json={"balance": "3.00"})
    try:
        body = order_payment(period=30)
        response = await client.post("/v1/payments", json=body, headers=idem())
        assert response.status_code == 422
        problem = response.json()
        assert problem["code"] == "provider_validation_error"
        assert problem["errors"] == [
            {"field": "provider", "message": "Insufficient funds on the balance."}
        ]
        assert await _balance(proxy_sandbox) == "3.00"
        [payment] = (
            await client.get(
                "/v1/payments", params={"merchant_reference": body["merchant_reference"]}
            )
        ).json()["data"]
        assert (payment["status"], payment["amount"]) == ("failed", None)
        assert payment["failure"]["code"] == "provider_validation_error"
    finally:
        await proxy_sandbox.post("/_sandbox/balance", json={"balance": "1000.00"})


async def test_unknown_promo_code_passes_the_providers_messages(client):
    response = await client.post(
        "/v1/payments", json=order_payment(promocode="NOPE"), headers=idem()
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "provider", "message": "The promocode is invalid."}
    ]


async def test_unknown_order_is_422_order_not_found(client):
    body = order_payment()
    body["provider_options"]["proxy_solutions"]["order_id"] = 99999
    response = await client.post("/v1/payments", json=body, headers=idem())
    assert (response.status_code, response.json()["code"]) == (422, "provider_order_not_found")


async def test_wrong_provider_key_is_an_operator_problem(settings, key_factory, capfd):
    wrong = msgspec.structs.replace(
        settings.proxy_solutions, api_key=type(settings.proxy_solutions.api_key)("nope")
    )
    secret = await key_factory()
    app = create_app(msgspec.structs.replace(settings, proxy_solutions=wrong))
    headers = {"Authorization": f"Bearer {secret}"}
    async with serving(app) as url, httpx.AsyncClient(base_url=url, headers=headers) as c:
        response = await c.post("/v1/payments", json=order_payment(), headers=idem())
    assert response.status_code == 502
    assert response.json()["code"] == "provider_misconfigured"
    out, _ = capfd.readouterr()
    assert any(e.get("alert") is True for e in log_events(out))
    assert "nope" not in response.text


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"payment_method": {"type": "hosted_page"}}, "payment_method.type"),
        ({"amount": 100, "currency": "EUR"}, "currency"),
        (
            {
                "provider_options": {
                    "proxy_solutions": {"order_id": 1001, "merchant": "crypto", "currency": "USDT"}
                }
            },
            "provider_options.proxy_solutions.currency",
        ),
        (
            {"provider_options": {"proxy_solutions": {"merchant": "balance", "currency": "USD"}}},
            "provider_options.proxy_solutions.order_id",
        ),
        ({"provider_options": None}, "provider_options.proxy_solutions"),
    ],
)
async def test_validation_before_the_call(client, proxy_sandbox, change, field):
    before = len((await proxy_sandbox.get("/_sandbox/requests")).json()["requests"])
    response = await client.post("/v1/payments", json=order_payment() | change, headers=idem())
    assert response.status_code == 422, response.text
    assert any(e["field"].startswith(field) for e in response.json()["errors"]), response.json()
    assert len((await proxy_sandbox.get("/_sandbox/requests")).json()["requests"]) == before


@pytest.mark.parametrize("action", ["capture", "void", "refunds", "sync"])
async def test_operations_not_offered(client, action):
    payment = (
        await client.post("/v1/payments", json=order_payment(period=1), headers=idem())
    ).json()
    response = await act(client, payment["id"], action)
    assert (response.status_code, response.json()["code"]) == (422, "operation_not_supported")


async def test_merchants_are_listed_cached_and_served_stale(settings, key_factory):
    from service.sandbox.proxy_solutions import (
        ProxySolutionsSandboxConfig,
        create_proxy_solutions_sandbox,
    )

    port = free_port()
    sandbox = create_proxy_solutions_sandbox(ProxySolutionsSandboxConfig(api_key=PROXY_KEY))
    proxy = msgspec.structs.replace(
        settings.proxy_solutions, base_url=f"http://127.0.0.1:{port}/api", merchants_ttl_seconds=0.2
    )
    app = create_app(msgspec.structs.replace(settings, proxy_solutions=proxy))
    headers = {"Authorization": f"Bearer {await key_factory()}"}
    async with serving(app) as url, httpx.AsyncClient(base_url=url, headers=headers) as c:
        path = "/v1/providers/proxy_solutions/payment-methods"
        async with serving(sandbox, port):
            fresh = (await c.get(path)).json()
            assert fresh["stale"] is False
            codes = {m["code"]: m["currencies"] for m in fresh["data"]}
            assert codes["balance"] == ["USD"]
            assert "EUR" in codes["card"]
        import asyncio

        await asyncio.sleep(0.3)  # past the TTL, and the provider is gone
        stale = (await c.get(path)).json()
        assert stale["stale"] is True
        assert stale["data"] == fresh["data"]
        assert stale["fetched_at"] == fresh["fetched_at"]


async def test_payment_methods_of_a_provider_without_them(client):
    response = await client.get("/v1/providers/bizon/payment-methods")
    assert (response.status_code, response.json()["code"]) == (422, "operation_not_supported")


async def test_quote_with_every_option_in_minor_units(client):
    body = {
        "service_id": 1,
        "location_id": 10,
        "quantity": 5,
        "period": 30,
        "multiport": True,
        "promocode": "SAVE10",
        "merchant": "card",
        "currency": "EUR",
        "lang": "EN",
        "uid": 7,
    }
    response = await client.post("/v1/providers/proxy_solutions/quotes", json=body)
    assert response.status_code == 200, response.text
    quote = response.json()
    # 2.00 USD x 5 x 30 = 300.00 USD; 276.00 EUR; 10% off: 248.40 EUR
    assert quote["amount"] == {"amount": 30000, "currency": "USD"}
    assert quote["converted_amount"] == {"amount": 27600, "currency": "EUR"}
    assert quote["payer_amount"] == {"amount": 24840, "currency": "EUR"}
    assert quote["discount_percent"] == "10"
    assert quote["merchant"] == "card"


async def test_hosting_quote_with_server_options_in_yen(client):
    body = {
        "service_id": 2,
        "server_config_id": "vps-m",
        "period": 10,
        "currency": "JPY",
        "merchant": "card",
        "lang": "RU",
        "server_options": {
            "os": "ubuntu-22",
            "ram": "+4G",
            "drive": "+100G",
            "additional_ip": 2,
            "backup": "daily",
        },
    }
    quote = (await client.post("/v1/providers/proxy_solutions/quotes", json=body)).json()
    assert quote["payer_amount"]["currency"] == "JPY"
    assert isinstance(quote["payer_amount"]["amount"], int)
    assert quote["lang"] == "RU"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"service_id": 404}, 422, "provider_service_not_found"),
        ({"service_id": 1, "promocode": "NOPE"}, 422, "provider_validation_error"),
        (
            {"service_id": 2, "multiport": True, "server_config_id": "vps-s"},
            422,
            "provider_validation_error",
        ),
        ({"service_id": 1, "lang": "DE"}, 422, "validation_error"),
        ({"service_id": "one"}, 422, "validation_error"),
        ({"quantity": 2}, 422, "validation_error"),
    ],
)
async def test_quote_refusals(client, body, status, code):
    response = await client.post("/v1/providers/proxy_solutions/quotes", json=body)
    assert (response.status_code, response.json()["code"]) == (status, code), response.text
