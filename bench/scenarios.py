"""The scenarios, their request bodies, and the payments they need created first."""

import asyncio
import datetime
import json
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from bench.procs import BenchError

APPROVED_CARD = "4111111111111111"
REPLAY_KEY = "bench-replay-1"


def card_body(capture: str) -> str:
    """The README's card payment, with `capture` automatic or manual."""
    return json.dumps(
        {
            "amount": 1000,
            "currency": "USD",
            "provider": "bizon",
            "capture": capture,
            "payment_method": {
                "type": "card",
                "card": {
                    "number": APPROVED_CARD,
                    "cvv": "123",
                    "exp_month": 12,
                    "exp_year": datetime.datetime.now(datetime.UTC).year + 3,
                    "holder": "John Smith",
                },
            },
            "customer": {"email": "foo@bar.com", "ip": "8.8.8.8"},
            "merchant_reference": "order-1",
        },
        separators=(",", ":"),
    )


@dataclass(frozen=True, slots=True)
class Fixtures:
    """What the scenarios use: the keys and the payments created before the run."""

    token: str
    limited_token: str
    ids: list[str]
    replay_key: str


ConfigFn = Callable[[Fixtures], dict[str, object]]


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    target: str  # "service" or "baseline": which server the load goes to
    script: str  # under bench/lua/
    what: str
    config: ConfigFn


def _create(f: Fixtures) -> dict[str, object]:
    return {"token": f.token, "body": card_body("automatic")}


def _lifecycle(f: Fixtures) -> dict[str, object]:
    return {"token": f.token, "body": card_body("manual")}


def _get(f: Fixtures) -> dict[str, object]:
    return {"token": f.token, "ids": f.ids}


def _list(f: Fixtures) -> dict[str, object]:
    return {"token": f.token}


def _replay(f: Fixtures) -> dict[str, object]:
    return {"token": f.token, "body": card_body("automatic"), "replay_key": f.replay_key}


def _ratelimited(f: Fixtures) -> dict[str, object]:
    return {"token": f.limited_token, "ids": f.ids, "allow_429": True}


SCENARIOS = [
    Scenario("create", "service", "create.lua", "POST /v1/payments, card, captured", _create),
    Scenario("baseline", "baseline", "create.lua", "the create I/O without the service", _create),
    Scenario("lifecycle", "service", "lifecycle.lua", "authorize, capture, refund", _lifecycle),
    Scenario("get", "service", "get.lua", "GET /v1/payments/{id}", _get),
    Scenario("list", "service", "list.lua", "GET /v1/payments?limit=50", _list),
    Scenario("replay", "service", "replay.lua", "one POST replayed (Idempotency-Key)", _replay),
    Scenario("ratelimited", "service", "get.lua", "GET with a 10/s key: 429s", _ratelimited),
]
BY_NAME = {scenario.name: scenario for scenario in SCENARIOS}


async def _create_payments(url: str, token: str, count: int, concurrency: int) -> list[str]:
    body = card_body("automatic")
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    gate = asyncio.Semaphore(concurrency)

    async def one(client: httpx.AsyncClient, key: str) -> str:
        async with gate:
            reply = await client.post(
                "/v1/payments", content=body, headers=headers | {"Idempotency-Key": key}
            )
        if reply.status_code != 201:
            raise BenchError(f"seeding: HTTP {reply.status_code}: {reply.text[:500]}")
        payment_id = reply.json()["id"]
        return str(payment_id)

    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        await one(client, REPLAY_KEY)  # the request the replay scenario repeats
        return list(await asyncio.gather(*(one(client, f"bench-seed-{i}") for i in range(count))))


def seed(url: str, token: str, limited_token: str, count: int) -> Fixtures:
    """Create `count` payments (the get pool) and the one the replay scenario repeats."""
    ids = asyncio.run(_create_payments(url, token, count, concurrency=16))
    return Fixtures(token, limited_token, ids, REPLAY_KEY)
