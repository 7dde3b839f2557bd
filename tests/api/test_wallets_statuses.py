"""Wallet tokens, every Bizon order status, and sync importing what the ledger lacks."""

import httpx
import pytest

from tests.api.helpers import act, card_payment, create

TOKEN = "eyJwYXltZW50RGF0YSI6eyJoZWFkZXIiOnsicHVibGljS2V5SGFzaCI6IjBjV0ha"


def wallet(token: str = TOKEN, kind: str = "apple_pay", **extra) -> dict:
    return {
        "amount": 1000,
        "currency": "USD",
        "provider": "bizon",
        "payment_method": {"type": "wallet_token", "wallet_token": {"type": kind, "token": token}},
        "customer": {"ip": "8.8.8.8"},
    } | extra


@pytest.mark.parametrize(
    ("kind", "capture", "status"),
    [("apple_pay", "manual", "authorized"), ("google_pay", "automatic", "captured")],
)
async def test_wallet_token_payment(client, sandbox, kind, capture, status):
    response = await create(client, wallet(kind=kind, capture=capture))
    assert response.status_code == 201, response.text
    payment = response.json()
    assert payment["status"] == status
    method = payment["payment_method"]
    assert (method["type"], method["wallet"]) == ("wallet_token", kind)
    # The token hides the card; the provider shows it masked afterwards.
    assert method["card"] == {
        "first6": "410937",
        "last4": "4320",
        "brand": "visa",
        "exp_month": 7,
        "exp_year": 2020,
    }
    rows = (await sandbox.get("/_sandbox/requests")).json()["requests"]
    assert any(
        r["path"] == "/orders/token_pay" and r.get("merchant_order_id") == payment["id"]
        for r in rows
    )


async def test_declined_wallet_token(client):
    payment = (await create(client, wallet(token="decline"))).json()
    assert payment["status"] == "failed"
    assert payment["failure"]["code"] == "do_not_honor"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"payment_method": {"type": "wallet_token"}}, "payment_method.wallet_token"),
        ({"customer": None}, "customer.ip"),
        ({"provider_options": {"bizon": {"force3d": True}}}, "provider_options.bizon.force3d"),
        (
            {
                "payment_method": {
                    "type": "wallet_token",
                    "wallet_token": {"type": "samsung", "token": "x"},
                }
            },
            "payment_method.wallet_token.type",
        ),
    ],
)
async def test_wallet_validation(client, change, field):
    response = await create(client, wallet() | change)
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]], response.json()


async def test_wallet_token_never_reaches_the_logs(client, capfd):
    await create(client, wallet(token="SECRET-WALLET-TOKEN-123"))
    out, err = capfd.readouterr()
    assert "SECRET-WALLET-TOKEN-123" not in out + err


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("4000000000000002", "do_not_honor"),
        ("4000000000009995", "insufficient_funds"),
        ("4000000000000069", "expired_card"),
        ("4000000000000101", "fraud_suspected"),
        ("4000000000000119", "processing_error"),
    ],
)
async def test_each_failure_status_has_its_own_code(client, number, code):
    payment = (await create(client, card_payment(number))).json()
    assert payment["status"] == "failed"
    assert payment["failure"]["code"] == code


async def _bizon(sandbox_url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=sandbox_url, auth=("test", "test-secret"))


async def test_sync_imports_a_charge_made_outside(client, sandbox_url):
    payment = (await create(client, card_payment(amount=800))).json()
    async with await _bizon(sandbox_url) as bizon:
        outside = await bizon.put(
            f"/orders/{payment['provider_reference']}/charge", json={"amount": "5.00"}
        )
        assert outside.status_code == 200
    synced = (await client.post(f"/v1/payments/{payment['id']}/sync")).json()
    assert (synced["status"], synced["amount_captured"]) == ("captured", 500)
    imported = synced["operations"][-1]
    assert (imported["type"], imported["source"], imported["amount"]) == ("capture", "sync", 500)


async def test_sync_imports_a_reverse_made_outside(client, sandbox_url):
    payment = (await create(client, card_payment())).json()
    async with await _bizon(sandbox_url) as bizon:
        await bizon.put(f"/orders/{payment['provider_reference']}/reverse")
    synced = (await client.post(f"/v1/payments/{payment['id']}/sync")).json()
    assert synced["status"] == "voided"
    assert synced["operations"][-1]["source"] == "sync"


async def test_chargeback_is_imported_by_sync(client, sandbox):
    payment = (await create(client, card_payment(capture="automatic", amount=900))).json()
    await act(client, payment["id"], "refunds", {"amount": 100})
    marked = await sandbox.post(f"/_sandbox/orders/{payment['provider_reference']}/chargeback")
    assert marked.status_code == 200, marked.text
    synced = (await client.post(f"/v1/payments/{payment['id']}/sync")).json()
    assert synced["status"] == "charged_back"
    chargeback = synced["operations"][-1]
    assert (chargeback["type"], chargeback["amount"], chargeback["source"]) == (
        "chargeback",
        800,
        "sync",
    )
    refused = await act(client, payment["id"], "refunds", {"amount": 1})
    assert refused.status_code == 409
