"""API keys, scopes and rate limits."""

import httpx
import pytest

from tests.api.helpers import card_payment, idem


async def _as(service_url: str, secret: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=service_url, headers={"Authorization": f"Bearer {secret}"})


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer sk_not-a-key"},
        {"Authorization": "Basic dTpw"},
        {"Authorization": "Bearer"},
    ],
)
async def test_no_valid_key_is_401(anonymous, headers):
    response = await anonymous.get("/v1/payments", headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_scopes_are_enforced(service_url, key_factory):
    reader = await _as(service_url, await key_factory("payments:read"))
    ops = await _as(service_url, await key_factory("ops"))
    async with reader, ops:
        assert (await reader.get("/v1/payments")).status_code == 200
        denied = await reader.post("/v1/payments", json=card_payment(), headers=idem())
        assert (denied.status_code, denied.json()["code"]) == (403, "forbidden")
        assert (await ops.get("/v1/payments")).status_code == 403
        assert (await ops.get("/v1/providers")).status_code == 403


async def test_keys_are_stored_hashed(ledger, api_key, database_url):
    import asyncpg

    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch("SELECT secret_hash, prefix FROM api_keys")
    finally:
        await conn.close()
    assert all(api_key != row["secret_hash"] and len(row["secret_hash"]) == 64 for row in rows)
    assert any(api_key.startswith(row["prefix"]) for row in rows)


async def test_rate_limit_headers_and_429(service_url, key_factory):
    limited = await _as(service_url, await key_factory(per_second=0.2, burst=3))
    async with limited:
        seen = [await limited.get("/v1/payments/pay_missing") for _ in range(3)]
        assert [r.headers["RateLimit-Remaining"] for r in seen] == ["2", "1", "0"]
        assert all(r.headers["RateLimit-Limit"] == "3" for r in seen)
        assert all(int(r.headers["RateLimit-Reset"]) >= 1 for r in seen)
        refused = await limited.get("/v1/payments")
        assert refused.status_code == 429
        assert refused.json()["code"] == "rate_limited"
        assert int(refused.headers["Retry-After"]) >= 1
        assert refused.headers["RateLimit-Remaining"] == "0"


async def test_money_moving_posts_take_their_token_with_the_reservation(
    service_url, key_factory, redis_client
):
    limited = await _as(service_url, await key_factory(per_second=0.2, burst=3))
    async with limited:
        paid = await limited.post("/v1/payments", json=card_payment(), headers=idem())
        assert paid.status_code == 201
        assert (paid.headers["RateLimit-Limit"], paid.headers["RateLimit-Remaining"]) == ("3", "2")
        # Refused before its reservation (a bad body): the token still counts.
        bad = await limited.post("/v1/payments", content=b"{", headers=idem())
        assert bad.status_code == 400
        assert (await limited.get("/v1/payments/pay_missing")).headers["RateLimit-Remaining"] == "0"
        key = idem()
        refused = await limited.post("/v1/payments", json=card_payment(), headers=key)
        assert refused.status_code == 429
        assert refused.json()["code"] == "rate_limited"
        assert int(refused.headers["Retry-After"]) >= 1
        assert refused.headers["RateLimit-Remaining"] == "0"
    # Nothing was reserved for the refused request: its key is free for the retry.
    reserved = [k async for k in redis_client.scan_iter(f"idem:*:{key['Idempotency-Key']}")]
    assert reserved == []


async def test_probes_metrics_and_docs_need_no_key(anonymous, client):
    assert (await anonymous.get("/health/live")).json() == {"status": "ok", "checks": {}}
    ready = await anonymous.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"postgres": "ok", "redis": "ok"}
    await client.post("/v1/payments", json=card_payment(), headers=idem())
    metrics = (await anonymous.get("/metrics")).text
    assert "http_requests_total" in metrics
    assert 'provider_requests_total{operation="authorize",outcome="ok",provider="bizon"}' in metrics
    assert "provider_request_duration_seconds_bucket" in metrics
    docs = await anonymous.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
    schema = (await anonymous.get("/docs/openapi.json")).json()
    assert schema["components"]["securitySchemes"]["BearerAuth"]["scheme"] == "bearer"


async def test_swagger_ui_is_served_without_a_cdn(anonymous):
    """Internal networks have no internet: every asset /docs needs comes from here."""
    page = (await anonymous.get("/docs")).text
    assert "cdn." not in page
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-standalone-preset.js"):
        assert f"/docs/assets/{asset}" in page
        served = await anonymous.get(f"/docs/assets/{asset}")
        assert served.status_code == 200
        assert len(served.content) > 10_000
