"""3-D Secure 1 and 2 through POST /v1/payments/{id}/authenticate, on the Bizon sandbox."""

import re

import httpx
import pytest

from tests.api.helpers import APPROVED, THREE_DS, act, card_payment, create

THREE_DS_FAILS = "4000008400001629"
THREE_DS2_FRICTIONLESS = "4000000000003220"
THREE_DS2_CHALLENGE = "4000000000003238"
RETURN = "https://shop.example/3ds-back"


def _field(html: str, name: str) -> str:
    match = re.search(rf'name="{name}"\s+value="([^"]*)"', html) or re.search(
        rf'value="([^"]*)"\s+name="{name}"', html
    )
    assert match, html
    return match.group(1)


async def _calls(sandbox: httpx.AsyncClient, order_id: str, suffix: str) -> int:
    rows = (await sandbox.get("/_sandbox/requests")).json()["requests"]
    return sum(1 for r in rows if r["path"] == f"/orders/{order_id}/{suffix}")


async def test_3ds1_form_then_pares_authorizes_once(client, sandbox):
    created = (await create(client, card_payment(THREE_DS, return_url=RETURN))).json()
    assert created["status"] == "requires_action"
    action = created["next_action"]
    assert action["type"] == "form"
    assert action["purpose"] == "three_d_secure_1"
    assert action["authenticate_with"] == "pares"
    assert {"MD", "PaReq", "TermUrl"} <= set(action["fields"])
    assert "/acs/" in action["url"]
    [op] = created["operations"]
    assert op["status"] == "pending"

    done = await act(client, created["id"], "authenticate", {"pares": "a-good-pares"})
    assert done.status_code == 200, done.text
    payment = done.json()
    assert payment["status"] == "authorized"
    assert payment["next_action"] is None
    assert payment["operations"][0]["status"] == "succeeded"

    again = await act(client, created["id"], "authenticate", {"pares": "a-good-pares"})
    assert again.status_code == 200
    assert again.json()["status"] == "authorized"
    assert await _calls(sandbox, created["provider_reference"], "complete") == 1


@pytest.mark.parametrize(("number", "pares"), [(THREE_DS, "FAIL"), (THREE_DS_FAILS, "anything")])
async def test_failed_3ds1_authentication_fails_the_payment(client, number, pares):
    created = (await create(client, card_payment(number, return_url=RETURN))).json()
    failed = (await act(client, created["id"], "authenticate", {"pares": pares})).json()
    assert failed["status"] == "failed"
    assert failed["failure"]["code"] == "authentication_failed"
    assert failed["operations"][0]["status"] == "failed"


async def test_force3d_option_and_merchant_3ds_data(client, sandbox_url):
    forced = await create(
        client, card_payment(APPROVED, provider_options={"bizon": {"force3d": True}})
    )
    assert forced.json()["status"] == "requires_action"
    assert forced.json()["next_action"]["purpose"] == "three_d_secure_1"

    body = card_payment(APPROVED)
    body["payment_method"]["card"]["three_d_secure"] = {
        "cavv": "AAABCBVRA2EYZXQBV1EDAAAAAAA=",
        "eci": "05",
        "xid": "8Rg2xYbxLUGsfZlkoh1JxAQFBM=",
        "ds_trans_id": "Rcm70YAaT/7SZnqVGFQkm/NJnbQ=",
    }
    payment = (await create(client, body)).json()
    assert payment["status"] == "authorized"
    async with httpx.AsyncClient(base_url=sandbox_url, auth=("test", "test-secret")) as bizon:
        order = (await bizon.get(f"/orders/{payment['provider_reference']}")).json()["orders"][0]
    assert order["secure3d"]["cavv"] == "AAABCBVRA2EYZXQBV1EDAAAAAAA="
    assert order["secure3d"]["eci"] == "05"
    assert order["secure3d"]["ds_trans_id"] == "Rcm70YAaT/7SZnqVGFQkm/NJnbQ="


async def test_3ds2_frictionless_needs_nothing_more(client):
    payment = (await create(client, card_payment(THREE_DS2_FRICTIONLESS, return_url=RETURN))).json()
    assert payment["status"] == "authorized"
    assert payment["next_action"] is None


async def _challenge(client: httpx.AsyncClient, sandbox_url: str, status: str) -> dict:
    created = (await create(client, card_payment(THREE_DS2_CHALLENGE, return_url=RETURN))).json()
    assert created["status"] == "requires_action"
    method = created["next_action"]
    assert method["purpose"] == "three_d_secure_2_method"
    assert method["authenticate_with"] == "resume"
    assert "threeDSMethodData" in method["fields"]
    # cres before the method step is over: refused by us, nothing sent.
    early = await act(client, created["id"], "authenticate", {"cres": "x"})
    assert early.status_code == 422
    assert early.json()["errors"][0]["field"] == "cres"

    resumed = (await act(client, created["id"], "authenticate", {"resume": True})).json()
    assert resumed["status"] == "requires_action"
    challenge = resumed["next_action"]
    assert challenge["purpose"] == "three_d_secure_2_challenge"
    assert challenge["authenticate_with"] == "cres"
    assert {"creq", "threeDSSessionData"} <= set(challenge["fields"])

    # The cardholder's browser at the ACS: it posts the cres to our return URL.
    async with httpx.AsyncClient() as browser:
        page = await browser.post(
            challenge["url"], data={**challenge["fields"], "transStatus": status}
        )
    assert page.status_code == 200
    assert RETURN in page.text
    cres = _field(page.text, "cres")
    done = await act(client, created["id"], "authenticate", {"cres": cres})
    assert done.status_code == 200, done.text
    return done.json()


async def test_3ds2_challenge_resume_then_cres(client, sandbox_url, sandbox):
    payment = await _challenge(client, sandbox_url, "Y")
    assert payment["status"] == "authorized"
    assert payment["operations"][0]["status"] == "succeeded"
    reference = payment["provider_reference"]
    assert await _calls(sandbox, reference, "resume") == 1
    assert await _calls(sandbox, reference, "complete3d20") == 1


async def test_3ds2_challenge_failed(client, sandbox_url):
    payment = await _challenge(client, sandbox_url, "N")
    assert payment["status"] == "failed"
    assert payment["failure"]["code"] == "authentication_failed"


@pytest.mark.parametrize(
    ("body", "status"),
    [({}, 422), ({"pares": "a", "cres": "b"}, 422), ({"resume": False}, 422), ({"x": 1}, 422)],
)
async def test_authenticate_needs_exactly_one_answer(client, body, status):
    created = (await create(client, card_payment(THREE_DS, return_url=RETURN))).json()
    response = await act(client, created["id"], "authenticate", body)
    assert response.status_code == status
    assert response.json()["code"] == "validation_error"


async def test_authenticating_a_hosted_page_is_invalid_state(client):
    body = {
        "amount": 100,
        "currency": "USD",
        "provider": "bizon",
        "payment_method": {"type": "hosted_page"},
    }
    created = (await create(client, body)).json()
    response = await act(client, created["id"], "authenticate", {"pares": "x"})
    assert (response.status_code, response.json()["code"]) == (409, "invalid_state")


async def test_a_refused_completion_keeps_the_payment_waiting(client, sandbox):
    created = (await create(client, card_payment(THREE_DS, return_url=RETURN))).json()
    await sandbox.post(
        "/_sandbox/faults",
        json={"method": "POST", "path_prefix": "/orders/", "status": 400, "times": 1},
    )
    refused = await act(client, created["id"], "authenticate", {"pares": "ok"})
    assert refused.status_code == 502
    assert refused.json()["code"] == "provider_error"
    still = (await client.get(f"/v1/payments/{created['id']}")).json()
    assert still["status"] == "requires_action"
    assert still["operations"][0]["status"] == "pending"
    retried = (await act(client, created["id"], "authenticate", {"pares": "ok"})).json()
    assert retried["status"] == "authorized"
