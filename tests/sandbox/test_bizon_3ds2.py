"""Bizon sandbox: 3-D Secure 2.0 (frictionless, 3DS Method, challenge, complete3d20)."""

from __future__ import annotations

import base64
import json
import re
import uuid
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.sandbox.helpers import (
    PUBLIC_URL,
    THREE_DS,
    assert_error,
    authorize,
    card_body,
    order_of,
)

FRICTIONLESS = "4000000000003220"
CHALLENGE = "4000000000003238"
RETURN_URL = "http://shop.test/3ds20"


def b64json(value: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(value).encode()).decode()


def unb64json(text: str) -> Any:
    return json.loads(base64.b64decode(text))


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, html
    return found.group(1)


async def start_challenge(client: AsyncTestClient[Any], **options: Any) -> dict[str, Any]:
    body = card_body(CHALLENGE, options={"secure3d20_return_url": RETURN_URL} | options)
    response = await client.post("/orders/authorize", json=body)
    assert response.status_code == 201, response.text
    return order_of(response)


async def resume(client: AsyncTestClient[Any], order_id: str) -> Any:
    return await client.post(f"/orders/{order_id}/resume")


async def complete3d20(client: AsyncTestClient[Any], order_id: str, cres: Any) -> Any:
    return await client.post(f"/orders/{order_id}/complete3d20", json={"cres": cres})


async def challenge_cres(client: AsyncTestClient[Any], order_id: str, status: str) -> str:
    page = await client.post(
        f"/acs20/challenge/{order_id}", data={"transStatus": status}, auth=None
    )
    assert page.status_code == 200, page.text
    assert f'method="POST" action="{RETURN_URL}"' in page.text
    assert "submit()" in page.text
    assert base64.b64decode(hidden(page.text, "threeDSSessionData")).decode() == order_id
    return hidden(page.text, "cres")


@pytest.mark.parametrize("options", [{}, {"auto_charge": 1}, {"force3d": 1}])
async def test_frictionless(client: AsyncTestClient[Any], options: dict[str, Any]) -> None:
    response = await client.post("/orders/authorize", json=card_body(FRICTIONLESS, options=options))
    assert response.status_code == 200, response.text
    order = order_of(response)
    charged = "auto_charge" in options
    assert order["status"] == ("charged" if charged else "authorized")
    assert order["secure3d"] == {
        "version": "2",
        "authorization_status": "Y",
        "scenario": "frictionless",
        "eci": "05",
        "reason": "3ds",
    }
    assert "form3d" not in order
    assert order["operations"][0]["iso_response_code"] == "00"


async def test_challenge_card_without_return_url_falls_back_to_3ds1(
    client: AsyncTestClient[Any],
) -> None:
    response = await client.post("/orders/authorize", json=card_body(CHALLENGE))
    assert response.status_code == 201
    order = order_of(response)
    assert set(order["form3d"]) == {"MD", "PaReq", "TermUrl", "action", "method"}
    assert order["secure3d"]["version"] == "1"
    done = order_of(await client.post(f"/orders/{order['id']}/complete", json={"PaRes": "Y"}))
    assert done["status"] == "authorized"


async def test_full_challenge_authenticated(client: AsyncTestClient[Any]) -> None:
    order = await start_challenge(client, auto_charge=1)
    order_id = order["id"]
    assert (order["status"], order["operations"]) == ("prepared", [])
    assert order["secure3d"] == {"version": "2", "reason": "3ds", "scenario": "unknown"}
    method = order["form3d"]
    assert (method["action"], method["method"]) == (f"{PUBLIC_URL}/acs20/method/{order_id}", "POST")
    trans_id = unb64json(method["threeDSMethodData"])["threeDSServerTransID"]
    assert uuid.UUID(trans_id)
    assert hidden(order["form3d_html"], "threeDSMethodData") == method["threeDSMethodData"]
    shown = order_of(await client.get(f"/orders/{order_id}"))
    assert (shown["form3d"], shown["form3d_html"]) == (method, order["form3d_html"])
    for call in (client.get, client.post):
        page = await call(f"/acs20/method/{order_id}", auth=None)
        assert (page.status_code, page.headers["content-type"][:9]) == (200, "text/html")
    assert order_of(await client.get(f"/orders/{order_id}"))["form3d"] == method  # unchanged
    waiting = await client.get(f"/acs20/challenge/{order_id}", auth=None)
    assert waiting.status_code == 409  # no challenge before /resume

    resumed = await resume(client, order_id)
    assert resumed.status_code == 201, resumed.text
    challenge = order_of(resumed)
    assert (challenge["status"], challenge["operations"]) == ("prepared", [])
    form = challenge["form3d"]
    assert set(form) == {"action", "method", "creq", "threeDSSessionData"}
    assert (form["action"], form["method"]) == (f"{PUBLIC_URL}/acs20/challenge/{order_id}", "POST")
    assert unb64json(form["creq"])["threeDSServerTransID"] == trans_id
    assert base64.b64decode(form["threeDSSessionData"]).decode() == order_id
    assert hidden(challenge["form3d_html"], "creq") == form["creq"]
    shown = order_of(await client.get(f"/orders/{order_id}"))
    assert (shown["form3d"], shown["form3d_html"]) == (form, challenge["form3d_html"])
    assert_error(await resume(client, order_id), 409, "state", "3DS Method")

    browser = {"creq": form["creq"], "threeDSSessionData": form["threeDSSessionData"]}
    page = await client.post(f"/acs20/challenge/{order_id}", data=browser, auth=None)
    assert page.status_code == 200
    assert ">Authenticate</button>" in page.text
    assert ">Fail</button>" in page.text
    assert (await client.get(f"/acs20/challenge/{order_id}", auth=None)).status_code == 200
    cres = await challenge_cres(client, order_id, "Y")
    assert unb64json(cres) == {"transStatus": "Y", "threeDSServerTransID": trans_id}
    assert order_of(await client.get(f"/orders/{order_id}"))["status"] == "prepared"

    completed = await complete3d20(client, order_id, cres)
    assert completed.status_code == 200, completed.text
    done = order_of(completed)
    assert (done["status"], done["amount_charged"]) == ("charged", "9.99")
    assert [op["type"] for op in done["operations"]] == ["authorize", "charge"]
    assert "form3d" not in done
    secure3d = done["secure3d"]
    assert base64.b64decode(secure3d.pop("cavv"))
    assert secure3d == {
        "version": "2",
        "reason": "3ds",
        "scenario": "full",
        "authorization_status": "Y",
        "eci": "05",
        "xid": trans_id,
    }
    again = await complete3d20(client, order_id, cres)
    assert_error(again, 409, "state", "Order already completed")
    pares = await client.post(f"/orders/{order_id}/complete", json={"PaRes": "Y"})
    assert_error(pares, 409, "state", "Order already completed")
    assert_error(await resume(client, order_id), 409, "state", "'charged' does not allow resume")
    assert (await client.get(f"/acs20/challenge/{order_id}", auth=None)).status_code == 409


async def test_full_challenge_failed(client: AsyncTestClient[Any]) -> None:
    order = await start_challenge(client, auto_charge=1)
    await resume(client, order["id"])
    cres = await challenge_cres(client, order["id"], "N")
    done = order_of(await complete3d20(client, order["id"], cres))
    assert (done["status"], done["amount_charged"]) == ("declined", "0.00")
    [operation] = done["operations"]
    assert (operation["type"], operation["status"]) == ("authorize", "failure")
    assert (operation["iso_response_code"], operation["iso_message"]) == (
        "05",
        "3-D Secure authentication failed",
    )
    assert (done["secure3d"]["authorization_status"], done["secure3d"]["version"]) == ("N", "2")
    assert_error(await complete3d20(client, order["id"], cres), 409, "state", "already completed")


@pytest.mark.parametrize("status", ["U", "R", "A"])
async def test_any_trans_status_but_y_declines(client: AsyncTestClient[Any], status: str) -> None:
    order = await start_challenge(client)
    await resume(client, order["id"])
    cres = b64json({"transStatus": status})
    assert order_of(await complete3d20(client, order["id"], cres))["status"] == "declined"


async def test_complete3d20_too_early_keeps_the_order_prepared(
    client: AsyncTestClient[Any],
) -> None:
    order = await start_challenge(client)
    cres = b64json({"transStatus": "Y"})
    response = await complete3d20(client, order["id"], cres)
    assert_error(response, 400, "validation", "no RReq data for this order")
    bare = await client.post(f"/orders/{order['id']}/complete3d20")  # no body at all
    assert_error(bare, 400, "validation", "no RReq data for this order")
    current = order_of(await client.get(f"/orders/{order['id']}"))
    assert (current["status"], current["operations"]) == ("prepared", [])
    assert current["form3d"] == order["form3d"]
    three_ds1 = await authorize(client, pan=THREE_DS)  # a 3-D Secure 1 order has no RReq
    assert_error(await complete3d20(client, three_ds1["id"], cres), 400, "validation", "RReq")
    assert_error(await resume(client, three_ds1["id"]), 409, "state", "3DS Method")


@pytest.mark.parametrize(
    ("cres", "fragment"),
    [
        (None, "cres is required"),
        ("", "cres is required"),
        (5, "cres must be a string"),
        ("%%%not-base64%%%", "cres must be a base64-encoded JSON object"),
        (base64.b64encode(b"not json").decode(), "cres must be a base64-encoded JSON"),
        (b64json({"other": 1}), "transStatus"),
        (b64json({"transStatus": "Y", "threeDSServerTransID": 7}), "cres.threeDSServerTransID"),
        (b64json({"transStatus": "Y", "threeDSServerTransID": "x"}), "does not match"),
    ],
)
async def test_complete3d20_validates_cres(
    client: AsyncTestClient[Any], cres: Any, fragment: str
) -> None:
    order = await start_challenge(client)
    await resume(client, order["id"])
    assert_error(await complete3d20(client, order["id"], cres), 400, "validation", fragment)
    assert order_of(await client.get(f"/orders/{order['id']}"))["status"] == "prepared"


async def test_url_safe_cres_without_padding_is_accepted(client: AsyncTestClient[Any]) -> None:
    order = await start_challenge(client)
    await resume(client, order["id"])
    raw = json.dumps({"transStatus": "Y", "pad": "?>?>"}).encode()
    cres = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    assert order_of(await complete3d20(client, order["id"], cres))["status"] == "authorized"


async def test_3ds1_endpoints_refuse_a_3ds2_order(client: AsyncTestClient[Any]) -> None:
    order = await start_challenge(client)
    pares = await client.post(f"/orders/{order['id']}/complete", json={"PaRes": "Y"})
    assert_error(pares, 409, "state", "complete3d20")
    assert (await client.get(f"/acs/{order['id']}", auth=None)).status_code == 409
    authorized = await authorize(client)
    assert_error(
        await complete3d20(client, authorized["id"], "x"), 409, "state", "already completed"
    )
    hosted = order_of(await client.post("/orders/create", json={"amount": "1.00"}))
    assert_error(await complete3d20(client, hosted["id"], "x"), 409, "state", "'new'")
    assert_error(await resume(client, "12345678901234567"), 404, "not_found")
    assert (await client.get("/acs20/challenge/1", auth=None)).status_code == 404
    assert (await client.get("/acs20/method/1", auth=None)).status_code == 404


async def test_challenge_page_refuses_an_unknown_choice(client: AsyncTestClient[Any]) -> None:
    order = await start_challenge(client)
    await resume(client, order["id"])
    page = await client.post(f"/acs20/challenge/{order['id']}", data={"transStatus": "Q"})
    assert page.status_code == 400


async def test_resume_applies_before_an_injected_fault(client: AsyncTestClient[Any]) -> None:
    order = await start_challenge(client, auto_charge=1)
    fault = {"method": "POST", "path_prefix": "/orders/", "status": 502, "after_apply": True}
    assert (await client.post("/_sandbox/faults", json=fault)).status_code == 201
    assert_error(await resume(client, order["id"]), 502, "fault")
    current = order_of(await client.get(f"/orders/{order['id']}"))
    assert "creq" in current["form3d"]  # a sync after the lost reply shows the challenge
    paths = [e["path"] for e in (await client.get("/_sandbox/requests")).json()["requests"]]
    assert f"/orders/{order['id']}/resume" in paths
    assert not any(path.startswith("/acs20/") for path in paths)


async def test_hosted_page_uses_3ds1_for_the_challenge_card(client: AsyncTestClient[Any]) -> None:
    body = {"amount": "5.00", "options": {"secure3d20_return_url": RETURN_URL}}
    order = order_of(await client.post("/orders/create", json=body))
    form = {"pan": CHALLENGE, "cvv": "123", "holder": "Jane Doe", "expiration_month": "1"}
    paid = await client.post(
        f"/pay/{order['id']}", data=form | {"expiration_year": "2035"}, auth=None
    )
    assert paid.headers["location"] == f"{PUBLIC_URL}/acs/{order['id']}"
    assert order_of(await client.get(f"/orders/{order['id']}"))["secure3d"]["version"] == "1"
