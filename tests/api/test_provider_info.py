"""GET /v1/exchange-rates (cached) and provider health in GET /v1/providers."""

import httpx
import msgspec

from service.app import create_app
from tests.servers import free_port, serving


async def _hits(sandbox: httpx.AsyncClient, path: str) -> int:
    rows = (await sandbox.get("/_sandbox/requests")).json()["requests"]
    return sum(1 for r in rows if r["path"] == path)


async def test_exchange_rates_are_decimal_strings_and_cached(client, sandbox):
    before = await _hits(sandbox, "/exchange_rates/") + await _hits(sandbox, "/exchange_rates")
    first = await client.get("/v1/exchange-rates")
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["provider"] == "bizon"
    usd = next(r for r in body["data"] if (r["base"], r["quote"]) == ("EUR", "USD"))
    assert usd["rate"] == "1.145036"  # exactly as published: never a float
    filtered = (
        await client.get("/v1/exchange-rates", params={"base": "EUR", "quote": "USD"})
    ).json()
    assert filtered["data"] == [usd]
    after = await _hits(sandbox, "/exchange_rates/") + await _hits(sandbox, "/exchange_rates")
    assert after - before <= 1  # the second call came from the cache
    bad = await client.get("/v1/exchange-rates", params={"base": "eur"})
    assert bad.status_code == 422


async def test_unknown_provider_for_rates(client):
    response = await client.get("/v1/exchange-rates", params={"provider": "nope"})
    assert response.status_code == 422


async def test_health_is_up_from_ping(client):
    providers = (await client.get("/v1/providers")).json()["data"]
    bizon = next(p for p in providers if p["name"] == "bizon")
    assert bizon["health"]["status"] == "up"
    assert bizon["health"]["latency_ms"] >= 0


async def test_health_is_down_when_the_provider_is(settings, key_factory):
    dead = msgspec.structs.replace(settings.bizon, base_url=f"http://127.0.0.1:{free_port()}")
    secret = await key_factory()
    headers = {"Authorization": f"Bearer {secret}"}
    app = create_app(msgspec.structs.replace(settings, bizon=dead))
    async with serving(app) as url, httpx.AsyncClient(base_url=url, headers=headers) as c:
        bizon = (await c.get("/v1/providers")).json()["data"][0]
        assert bizon["health"]["status"] == "down"
        assert bizon["health"]["detail"]
        rates = await c.get("/v1/exchange-rates")
        assert (rates.status_code, rates.json()["code"]) == (503, "provider_unavailable")
