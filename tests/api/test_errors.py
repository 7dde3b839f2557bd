"""Every error is an RFC 9457 problem with a stable code; bad input is never a 500."""

import uuid

import pytest

from tests.api.helpers import card_payment, idem, log_events

PROBLEM = "application/problem+json"


def _problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["code"] == code
    assert body["status"] == status
    assert body["type"] == f"/problems/{code}"
    assert body["title"]
    assert body["detail"]
    assert body["request_id"] == response.headers["X-Request-Id"]
    assert "Traceback" not in response.text
    return body


async def test_malformed_json(client):
    response = await client.post(
        "/v1/payments",
        content=b'{"amount": 1,',
        headers={**idem(), "Content-Type": "application/json"},
    )
    _problem(response, 400, "invalid_json")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": "999"}, "amount"),
        ({"amount": 9.99}, "amount"),
        ({"amount": -1}, "amount"),
        ({"amount": 0}, "amount"),
        ({"currency": "usd"}, "currency"),
        ({"currency": "XYZ"}, "currency"),
        ({"capture": "later"}, "capture"),
        ({"surprise": 1}, "surprise"),
        ({"provider": "nope"}, "provider"),
        ({"payment_method": {"type": "card"}}, "payment_method.card"),
        ({"payment_method": {"type": "bitcoin"}}, "payment_method.type"),
        ({"return_url": "javascript:alert(1)"}, "return_url"),
        ({"provider_options": {"bizon": {"force3d": "yes"}}}, "provider_options.bizon.force3d"),
        ({"provider_options": {"acme": {}}}, "provider_options.acme"),
        ({"payment_method": {"card": {}}}, "payment_method"),
    ],
)
async def test_wrong_types_and_values_are_422_with_the_field(client, change, field):
    body = card_payment() | change
    problem = _problem(
        await client.post("/v1/payments", json=body, headers=idem()), 422, "validation_error"
    )
    fields = [e["field"] for e in problem["errors"]]
    assert any(f == field or f.startswith(field) for f in fields), problem


@pytest.mark.parametrize(
    ("card", "field"),
    [
        ({"number": "4111111111111112"}, "payment_method.card.number"),
        ({"number": "41111111"}, "payment_method.card.number"),
        ({"exp_year": 2020}, "payment_method.card.exp_year"),
        ({"exp_month": 13}, "payment_method.card.exp_month"),
        ({"cvv": "12a"}, "payment_method.card.cvv"),
        ({"cvv": None}, "payment_method.card.cvv"),
    ],
)
async def test_card_checks(client, card, field):
    body = card_payment()
    body["payment_method"]["card"] |= card
    problem = _problem(
        await client.post("/v1/payments", json=body, headers=idem()), 422, "validation_error"
    )
    assert field in [e["field"] for e in problem["errors"]], problem


async def test_missing_customer_ip_for_bizon(client):
    body = card_payment()
    body["customer"] = {"email": "a@b.c"}
    problem = _problem(
        await client.post("/v1/payments", json=body, headers=idem()), 422, "validation_error"
    )
    assert "customer.ip" in [e["field"] for e in problem["errors"]]


@pytest.mark.parametrize("raw", [b"[]", b"null", b"1", b'"x"', b"{}", b"\xff\xfe", b""])
async def test_garbage_bodies_never_500(client, raw):
    response = await client.post(
        "/v1/payments", content=raw, headers={**idem(), "Content-Type": "application/json"}
    )
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith(PROBLEM)


async def test_garbage_action_bodies(client):
    response = await client.post(
        "/v1/payments/pay_x/capture", json={"amount": "all"}, headers=idem()
    )
    _problem(response, 422, "validation_error")
    response = await client.post("/v1/payments/pay_x/void", json={"why": 1}, headers=idem())
    _problem(response, 422, "validation_error")


async def test_unknown_route_and_method(client, anonymous):
    _problem(await client.get("/v1/nothing-here"), 404, "not_found")
    _problem(await anonymous.get("/nothing-here"), 404, "not_found")
    _problem(await client.delete("/v1/payments"), 405, "method_not_allowed")


async def test_body_too_large(client):
    body = card_payment(metadata={f"k{i}": "x" * 500 for i in range(200)})
    response = await client.post("/v1/payments", json=body, headers=idem())
    _problem(response, 413, "payload_too_large")


async def test_request_id_is_echoed_or_made(client):
    mine = f"req-{uuid.uuid4().hex}"
    echoed = await client.get("/v1/payments/pay_missing", headers={"X-Request-Id": mine})
    assert echoed.headers["X-Request-Id"] == mine
    assert echoed.json()["request_id"] == mine
    made = await client.get("/health/live", headers={"X-Request-Id": "bad id with spaces"})
    assert made.headers["X-Request-Id"] != "bad id with spaces"
    assert len(made.headers["X-Request-Id"]) == 32


async def test_logs_never_carry_card_data_or_keys(client, api_key, capfd):
    body = card_payment("4242424242424242")
    body["payment_method"]["card"]["cvv"] = "987"
    await client.post("/v1/payments", json=body, headers=idem())
    await client.post("/v1/payments", json=body | {"amount": "x"}, headers=idem())
    out, err = capfd.readouterr()
    logs = out + err
    assert "provider_call" in {e.get("event") for e in log_events(logs)}  # it is logged...
    assert "4242424242424242" not in logs  # ...without the PAN,
    assert '"987"' not in logs  # the CVV,
    assert api_key not in logs  # or the API key
    assert "test-secret" not in logs


async def test_pan_and_cvv_are_never_stored(client, database_url):
    import asyncpg

    body = card_payment("4242424242424242")
    body["payment_method"]["card"]["cvv"] = "8642"
    created = (await client.post("/v1/payments", json=body, headers=idem())).json()
    rebill = {"cvv": "8642", "customer": {"ip": "1.1.1.1"}}
    child = (
        await client.post(f"/v1/payments/{created['id']}/rebill", json=rebill, headers=idem())
    ).json()
    ids = [created["id"], child["id"]]
    conn = await asyncpg.connect(database_url)
    try:
        rows = [
            *await conn.fetch("SELECT p::text AS t FROM payments p WHERE id = ANY($1)", ids),
            *await conn.fetch(
                "SELECT o::text AS t FROM operations o WHERE payment_id = ANY($1)", ids
            ),
            *await conn.fetch(
                "SELECT convert_from(response_body, 'UTF8') AS t FROM idempotency_keys"
                " WHERE resource_id = ANY($1)",
                ids,
            ),
        ]
    finally:
        await conn.close()
    dump = "\n".join(row["t"] for row in rows)
    assert created["id"] in dump
    assert child["id"] in dump
    assert "4242424242424242" not in dump  # never the PAN...
    assert "cvv" not in dump.lower()  # ...nor the CVV, under any name
    assert '"8642"' not in dump
    assert '"first6": "424242"' in dump or '"first6":"424242"' in dump  # first6/last4 only
