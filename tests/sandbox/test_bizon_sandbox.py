"""Wire-level tests of the Bizon sandbox (service/sandbox/bizon.py)."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient

from service.sandbox.bizon import BizonSandboxConfig, create_bizon_sandbox
from tests.sandbox.helpers import (
    APPROVED,
    CARD,
    EXPIRED,
    PUBLIC_URL,
    SLOW,
    THREE_DS,
    THREE_DS_FAILS,
    assert_error,
    authorize,
    card_body,
    order_of,
    put,
)


async def test_ping_and_exchange_rates(client: AsyncTestClient[Any]) -> None:
    assert (await client.get("/ping")).json()["message"] == "PONG!"
    rates = (await client.get("/exchange_rates/")).json()["exchange_rates"]
    assert {"from": "EUR", "to": "USD", "rate": "1.145036"} in rates


@pytest.mark.parametrize(
    "auth", [None, ("sandbox", "wrong"), ("other", "sandbox")], ids=["none", "pwd", "login"]
)
async def test_auth_is_required(client: AsyncTestClient[Any], auth: Any) -> None:
    client.auth = auth
    response = await client.post("/orders/authorize", json=card_body())
    assert_error(response, 401, "auth")
    assert response.headers["www-authenticate"].startswith("Basic")
    assert (await client.get("/_sandbox/requests")).json()["requests"][0]["method"] == "POST"


async def test_authorize_approved(client: AsyncTestClient[Any]) -> None:
    order = await authorize(client, merchant_order_id="m-1", currency="EUR")
    assert (len(order["id"]), order["id"].isdigit()) == (17, True)
    assert (order["status"], order["amount"], order["currency"]) == ("authorized", "9.99", "EUR")
    assert (order["amount_charged"], order["amount_refunded"]) == ("0.00", "0.00")
    assert order["pan"] == "411111****1111"
    assert (order["card"]["type"], order["card"]["expiration"]) == ("visa", "12/35")
    assert order["issuer"]["bin"] == "411111"
    [operation] = order["operations"]
    assert (operation["type"], operation["status"]) == ("authorize", "success")
    assert (operation["iso_response_code"], operation["iso_message"]) == ("00", "Approved")
    assert operation["auth_code"] == order["auth_code"]
    assert operation["cashflow"]["amount"] == "0.00"
    again = (await client.get(f"/orders/{order['id']}?expand=card,operations.cashflow")).json()
    assert again["orders"][0] == order


@pytest.mark.parametrize(
    ("pan", "card", "expected"),
    [
        ("4000000000000002", CARD, ("declined", "failure", "05")),
        ("4000000000009995", CARD, ("declined", "failure", "51")),
        ("4000000000000069", CARD, ("declined", "failure", "54")),
        ("4000000000000101", CARD, ("fraud", "failure", "59")),
        ("4000000000000119", CARD, ("error", "error", "96")),
        (APPROVED, EXPIRED, ("declined", "failure", "54")),  # an expiry date in the past
    ],
)
async def test_declines_are_200_with_the_order(
    client: AsyncTestClient[Any], pan: str, card: dict[str, Any], expected: tuple[str, ...]
) -> None:
    order = await authorize(client, pan=pan, card=card, options={"auto_charge": 1})
    [operation] = order["operations"]  # no charge after a decline
    assert (order["status"], operation["status"], operation["iso_response_code"]) == expected
    assert operation["auth_code"] is None


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"pan": "4111111111111112"}, "pan fails the Luhn check"),
        ({"pan": "41111"}, "pan must be"),
        ({"amount": None}, "amount is required"),
        ({"amount": "9.999"}, "amount must have at most two decimals"),
        ({"amount": 9.999}, "amount must have at most two decimals"),
        ({"amount": "0"}, "amount must be greater than 0"),
        ({"amount": True}, "amount must be a decimal"),
        ({"currency": "usd"}, "currency"),
        ({"location": {"ip": "nope"}}, "location.ip"),
        ({"location": None}, "location is required"),
        ({"options": {"force3d": 2}}, "options.force3d"),
        ({"options": {"return_url": "ftp://x"}}, "options.return_url"),
        ({"card": None}, "card is required"),
        ({"card": {"holder": "John Smith"}}, "card.cvv is required"),
        ({"card": CARD | {"cvv": "12"}}, "card.cvv must be 3-4 digits"),
        ({"card": CARD | {"holder": "J"}}, "card.holder must be 2-40 characters"),
        ({"card": CARD | {"expiration_month": 13}}, "card.expiration_month"),
        ({"card": CARD | {"expiration_year": 35}}, "card.expiration_year must be 4 digits"),
    ],
)
async def test_validation_names_the_field(
    client: AsyncTestClient[Any], change: dict[str, Any], fragment: str
) -> None:
    response = await client.post("/orders/authorize", json=card_body() | change)
    assert_error(response, 400, "validation", fragment)
    assert (await client.get("/orders/")).json() == {"orders": []}


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b'"text"'])
async def test_malformed_or_non_object_json(client: AsyncTestClient[Any], content: bytes) -> None:
    response = await client.post(
        "/orders/authorize", content=content, headers={"content-type": "application/json"}
    )
    assert_error(response, 400, "validation")


@pytest.mark.parametrize(("amount", "wire"), [(10, "10.00"), ("9.9", "9.90"), (12.5, "12.50")])
async def test_amount_accepts_numbers_and_strings(
    client: AsyncTestClient[Any], amount: Any, wire: str
) -> None:
    assert (await authorize(client, amount=amount))["amount"] == wire


@pytest.mark.parametrize("flag", [1, True, "1"])
async def test_auto_charge(client: AsyncTestClient[Any], flag: Any) -> None:
    order = await authorize(client, options={"auto_charge": flag})
    assert (order["status"], order["amount_charged"]) == ("charged", "9.99")
    assert [op["type"] for op in order["operations"]] == ["authorize", "charge"]
    assert order["operations"][1]["cashflow"]["fee"] == "0.30"


async def test_hosted_page_round_trip(client: AsyncTestClient[Any]) -> None:
    body = {"amount": 25, "merchant_order_id": "h-1", "description": "Book"}
    body["options"] = {"return_url": "http://shop.test/back", "auto_charge": "1"}
    response = await client.post("/orders/create", json=body)
    assert response.status_code == 201
    order = response.json()["orders"][0]
    assert response.headers["location"] == f"{PUBLIC_URL}/pay/{order['id']}"
    assert (order["status"], order["operations"], order["card"]) == ("new", [], {})
    page = await client.get(f"/pay/{order['id']}", auth=None)
    assert page.status_code == 200
    assert 'name="pan"' in page.text
    form = {"pan": "4111 1111 1111 1111", "expiration_month": "12", "expiration_year": "2035"}
    bad = await client.post(f"/pay/{order['id']}", data=form | {"cvv": "1"}, auth=None)
    assert bad.status_code == 400
    assert "card.cvv" in bad.text
    form |= {"cvv": "123", "holder": "Jane Doe"}
    done = await client.post(f"/pay/{order['id']}", data=form, auth=None)
    assert (done.status_code, done.headers["location"]) == (302, "http://shop.test/back")
    paid = order_of(await client.get(f"/orders/{order['id']}"))
    assert (paid["status"], paid["amount_charged"]) == ("charged", "25.00")
    assert paid["pan"] == "411111****1111"
    again = await client.post(f"/pay/{order['id']}", data=form, auth=None)
    assert again.status_code == 200
    assert "charged" in again.text
    assert len(order_of(await client.get(f"/orders/{order['id']}"))["operations"]) == 2


async def test_charge_partial_then_second_charge_refused(client: AsyncTestClient[Any]) -> None:
    order = await authorize(client)
    assert_error(await put(client, order["id"], "charge", amount="10.00"), 400, "validation")
    charged = order_of(await put(client, order["id"], "charge", amount="5.00"))
    assert (charged["status"], charged["amount_charged"]) == ("charged", "5.00")
    response = await put(client, order["id"], "charge")
    assert_error(response, 409, "state", "Order status 'charged' does not allow charge")


async def test_full_charge_and_reverse(client: AsyncTestClient[Any]) -> None:
    first, second = await authorize(client), await authorize(client)
    charged = order_of(await put(client, first["id"], "charge"))
    assert charged["amount_charged"] == "9.99"
    reversed_ = order_of(await put(client, second["id"], "reverse"))
    assert reversed_["status"] == "reversed"
    assert reversed_["operations"][-1]["type"] == "reverse"
    assert_error(await put(client, second["id"], "charge"), 409, "state", "'reversed'")
    assert_error(await put(client, first["id"], "reverse"), 409, "state")


async def test_refunds_accumulate_up_to_the_charged_amount(client: AsyncTestClient[Any]) -> None:
    order = await authorize(client, options={"auto_charge": 1})
    assert_error(await put(client, (await authorize(client))["id"], "refund"), 409, "state")
    first = order_of(await put(client, order["id"], "refund", amount="3.00"))
    assert (first["status"], first["amount_refunded"]) == ("refunded", "3.00")
    second = order_of(await put(client, order["id"], "refund", amount=4))
    assert second["amount_refunded"] == "7.00"
    response = await put(client, order["id"], "refund", amount="3.00")
    assert_error(response, 400, "validation", "exceeds the refundable amount 2.99")
    rest = order_of(await put(client, order["id"], "refund"))
    assert rest["amount_refunded"] == "9.99"
    assert rest["operations"][-1]["cashflow"]["amount"] == "-2.99"
    assert_error(await put(client, order["id"], "refund"), 409, "state", "nothing left")


@pytest.mark.parametrize(
    ("auto_charge", "status", "operation"), [(0, "reversed", "reverse"), (1, "refunded", "refund")]
)
async def test_cancel(
    client: AsyncTestClient[Any], auto_charge: int, status: str, operation: str
) -> None:
    order = await authorize(client, options={"auto_charge": auto_charge})
    cancelled = order_of(await put(client, order["id"], "cancel", amount="1.00"))
    assert cancelled["status"] == status
    assert cancelled["operations"][-1]["type"] == operation
    assert cancelled["amount_refunded"] == ("1.00" if auto_charge else "0.00")


async def test_unknown_order_route_and_method(client: AsyncTestClient[Any]) -> None:
    assert_error(await client.get("/orders/12345678901234567"), 404, "not_found")
    assert_error(await put(client, "12345678901234567", "charge"), 404, "not_found")
    assert_error(await client.get("/nowhere"), 404, "not_found")
    assert_error(await client.delete("/orders/12345678901234567"), 405, "validation")


async def test_list_orders_filters(client: AsyncTestClient[Any]) -> None:
    a1 = await authorize(client, merchant_order_id="a")
    await authorize(client, merchant_order_id="b", pan="4000000000000002")
    a2 = await authorize(client, merchant_order_id="a")
    found = (await client.get("/orders/", params={"merchant_order_id": "a"})).json()["orders"]
    assert [o["id"] for o in found] == [a2["id"], a1["id"]]
    assert "operations" not in found[0]
    assert found[0]["pan"] == "411111****1111"
    both = await client.get("/orders/", params={"merchant_order_id": "a,b", "status": "declined"})
    assert [o["merchant_order_id"] for o in both.json()["orders"]] == ["b"]
    expanded = await client.get(
        "/orders/", params={"merchant_order_id": "b", "expand": "operations"}
    )
    assert "cashflow" not in expanded.json()["orders"][0]["operations"][0]
    nothing = await client.get("/orders/", params={"merchant_order_id": "zzz"})
    assert nothing.json() == {"orders": []}
    assert_error(
        await client.get("/orders/", params={"status": "paid"}), 400, "validation", "status"
    )


async def test_operations_list(client: AsyncTestClient[Any]) -> None:
    charged = await authorize(client, options={"auto_charge": 1})
    declined = await authorize(client, pan="4000000000009995")
    ops = (await client.get("/operations/", params={"type": "charge"})).json()["operations"]
    assert [(op["order_id"], op["type"]) for op in ops] == [(charged["id"], "charge")]
    assert "cashflow" not in ops[0]
    failed = await client.get("/operations/", params={"status": "failure", "expand": "cashflow"})
    [op] = failed.json()["operations"]
    assert (op["order_id"], op["iso_response_code"]) == (declined["id"], "51")
    assert "cashflow" in op
    assert len((await client.get("/operations/")).json()["operations"]) == 3


@pytest.mark.parametrize(
    ("pan", "options"),
    [(APPROVED, {"force3d": 1, "auto_charge": 1}), (THREE_DS, {"auto_charge": 1})],
)
async def test_3ds_prepared_then_completed(
    client: AsyncTestClient[Any], pan: str, options: dict[str, Any]
) -> None:
    body = card_body(pan, options=options | {"return_url": "http://shop.test/3ds"})
    response = await client.post("/orders/authorize", json=body)
    assert response.status_code == 201
    order = response.json()["orders"][0]
    assert (order["status"], order["operations"]) == ("prepared", [])
    form = order["form3d"]
    assert form["action"] == f"{PUBLIC_URL}/acs/{order['id']}"
    assert form["TermUrl"] == "http://shop.test/3ds"
    assert base64.b64decode(form["MD"]).decode() == order["id"]
    assert 'id="form3d"' in order["form3d_html"]
    assert order["secure3d"] == {
        "reason": "force3d" if pan == APPROVED else "card",
        "scenario": "unknown",
        "version": "1",
    }
    shown = order_of(await client.get(f"/orders/{order['id']}"))  # a sync sees the next step
    assert (shown["form3d"], shown["form3d_html"]) == (form, order["form3d_html"])
    acs = await client.get(f"/acs/{order['id']}", auth=None)
    assert acs.status_code == 200
    assert 'value="FAIL"' in acs.text
    completed = await client.post(f"/orders/{order['id']}/complete", json={"PaRes": "ok"})
    done = completed.json()["orders"][0]
    assert completed.status_code == 200
    assert (done["status"], done["amount_charged"]) == ("charged", "9.99")
    assert "form3d" not in done
    secure3d = done["secure3d"]
    assert (secure3d["authorization_status"], secure3d["version"]) == ("Y", "1")
    assert (secure3d["scenario"], secure3d["eci"]) == ("full", "05")
    again = await client.post(f"/orders/{order['id']}/complete", json={"PaRes": "ok"})
    assert_error(again, 409, "state", "Order already completed")


@pytest.mark.parametrize(("pan", "pares"), [(APPROVED, "FAIL"), (THREE_DS_FAILS, "anything")])
async def test_3ds_failure(client: AsyncTestClient[Any], pan: str, pares: str) -> None:
    order = await authorize(client, pan=pan, options={"force3d": "1"})
    assert_error(
        await client.post(f"/orders/{order['id']}/complete", json={}), 400, "validation", "PaRes"
    )
    response = await client.post(f"/orders/{order['id']}/complete", json={"PaRes": pares})
    done = response.json()["orders"][0]
    assert done["status"] == "declined"
    assert [(op["type"], op["status"]) for op in done["operations"]] == [("authorize", "failure")]
    operation = done["operations"][0]
    assert (operation["iso_response_code"], operation["iso_message"]) == (
        "05",
        "3-D Secure authentication failed",
    )
    assert (done["secure3d"]["authorization_status"], done["secure3d"]["version"]) == ("N", "1")
    again = await client.post(f"/orders/{done['id']}/complete", json={"PaRes": "ok"})
    assert_error(again, 409, "state", "Order already completed")


async def test_3ds_in_the_browser_from_the_hosted_page(client: AsyncTestClient[Any]) -> None:
    body = {"amount": "5.00", "options": {"force3d": 1, "return_url": "http://shop.test/r"}}
    order = order_of(await client.post("/orders/create", json=body))
    form = {"pan": THREE_DS, "cvv": "123", "holder": "Jane Doe", "expiration_month": "1"}
    paid = await client.post(
        f"/pay/{order['id']}", data=form | {"expiration_year": "2035"}, auth=None
    )
    assert paid.headers["location"] == f"{PUBLIC_URL}/acs/{order['id']}"
    md = base64.b64encode(order["id"].encode()).decode()
    term = await client.post("/complete/secure3d", data={"MD": md, "PaRes": "Y"}, auth=None)
    assert (term.status_code, term.headers["location"]) == (302, "http://shop.test/r")
    status = order_of(await client.get(f"/orders/{order['id']}"))["status"]
    assert status == "authorized"


@asynccontextmanager
async def in_loop_client() -> AsyncIterator[httpx.AsyncClient]:
    # AsyncTestClient runs the app through a blocking portal, one request at a time; to
    # watch a request while it is in flight the app must run on the test's own loop.
    app = create_bizon_sandbox(BizonSandboxConfig(slow_seconds=0.2))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url=PUBLIC_URL, auth=("sandbox", "sandbox")
    ) as in_loop:
        yield in_loop


async def test_slow_card_commits_before_the_late_reply() -> None:
    async with in_loop_client() as client:
        started = time.monotonic()
        body = card_body(SLOW, merchant_order_id="slow")
        reply = asyncio.create_task(client.post("/orders/authorize", json=body))
        orders: list[dict[str, Any]] = []
        while not orders:
            await asyncio.sleep(0.02)
            listed = await client.get("/orders/", params={"merchant_order_id": "slow"})
            orders = listed.json()["orders"]
        assert orders[0]["status"] == "authorized"
        assert not reply.done()
        response = await reply
        assert time.monotonic() - started >= 0.2
        assert response.status_code == 200
        assert response.json()["orders"][0]["id"] == orders[0]["id"]


async def test_concurrent_charges_move_money_once() -> None:
    async with in_loop_client() as client:
        order = order_of(await client.post("/orders/authorize", json=card_body()))
        charges = (client.put(f"/orders/{order['id']}/charge") for _ in range(5))
        replies = await asyncio.gather(*charges)
        assert sorted(r.status_code for r in replies) == [200, 409, 409, 409, 409]


async def add_fault(client: AsyncTestClient[Any], **fault: Any) -> None:
    response = await client.post(
        "/_sandbox/faults", json={"method": "PUT", "path_prefix": "/orders/"} | fault
    )
    assert response.status_code == 201, response.text


async def test_fault_delay_applies_then_replies_late(client: AsyncTestClient[Any]) -> None:
    order = await authorize(client)
    await add_fault(client, delay_seconds=0.2)
    started = time.monotonic()
    response = await put(client, order["id"], "charge")
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.2
    assert (await client.get("/_sandbox/faults")).json() == {"faults": []}


@pytest.mark.parametrize(
    ("status", "after_apply", "final_status"), [(503, False, "authorized"), (500, True, "charged")]
)
async def test_fault_status(
    client: AsyncTestClient[Any], status: int, after_apply: bool, final_status: str
) -> None:
    order = await authorize(client)
    await add_fault(client, status=status, after_apply=after_apply, times=1)
    assert_error(await put(client, order["id"], "charge"), status, "fault")
    current = order_of(await client.get(f"/orders/{order['id']}"))
    assert current["status"] == final_status
    retry = await put(client, order["id"], "charge")  # the fault was used up
    assert retry.status_code == (200 if not after_apply else 409)


@pytest.mark.parametrize(
    "fault", [{"status": 99}, {"after_apply": True}, {"times": 0}, {"path_prefix": "x"}]
)
async def test_fault_body_is_validated(client: AsyncTestClient[Any], fault: dict[str, Any]) -> None:
    assert_error(await client.post("/_sandbox/faults", json=fault), 400, "validation")


async def test_requests_log_and_reset(client: AsyncTestClient[Any]) -> None:
    order = await authorize(client, merchant_order_id="log-1")
    await put(client, order["id"], "charge")
    await client.get("/pay/whatever", auth=None)  # a browser page: not logged
    entries = (await client.get("/_sandbox/requests")).json()["requests"]
    assert [(e["method"], e["path"], e.get("merchant_order_id")) for e in entries] == [
        ("POST", "/orders/authorize", "log-1"),
        ("PUT", f"/orders/{order['id']}/charge", "log-1"),
    ]
    assert all("at" in entry for entry in entries)
    await client.delete("/_sandbox/requests")
    assert (await client.get("/_sandbox/requests")).json() == {"requests": []}
    assert (await client.post("/_sandbox/reset")).status_code == 200
    assert_error(await client.get(f"/orders/{order['id']}"), 404, "not_found")


async def test_apps_are_isolated(client: AsyncTestClient[Any]) -> None:
    await authorize(client)
    async with AsyncTestClient(app=create_bizon_sandbox()) as other:
        other.auth = ("sandbox", "sandbox")
        assert (await other.get("/orders/")).json() == {"orders": []}
