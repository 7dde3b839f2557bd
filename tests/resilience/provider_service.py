"""What the provider-fault tests share: the simulators, a service of one's own, readings.

Each test runs a service of its own (fresh circuit breakers) whose providers are
reached through `FaultProxy`s in front of the session's simulators.
"""

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import msgspec

from service.app import create_app
from service.ledger import PostgresLedger
from service.settings import Settings
from tests.api.helpers import card_payment
from tests.api.paysuper_helpers import hosted
from tests.isolated import new_key, own_database
from tests.resilience.fault_proxy import FaultProxy
from tests.resilience.invariants import ledger_violations
from tests.servers import free_port, serving

PROVIDERS = ("bizon", "paysuper", "proxy_solutions", "send2sell")
THRESHOLD = 3
COOL_DOWN = 2.0  # long enough that a loaded machine still sees it open
LONG_COOL_DOWN = 5.0  # for a test that does more while the circuit is open
TIMEOUT = 0.5  # read and connect timeouts of every provider here
SLOW = 1.0  # a reply this late is past the read timeout
SEND2SELL_CREDITS = "1000.00"
PROXY_BALANCE = "1000.00"


# -- the simulators: how to pay each one, what counts as a charge --------------------------


@dataclass
class Simulator:
    name: str
    control: httpx.AsyncClient  # the simulator's /_sandbox endpoints
    native_faults: bool  # whether it injects statuses and delays itself
    paid_status: str  # a payment's status when the provider answered normally

    async def body(self) -> dict[str, Any]:
        if self.name == "bizon":
            return card_payment()
        if self.name == "paysuper":
            return hosted()
        if self.name == "proxy_solutions":
            return proxy_order()
        response = await self.control.post("/_sandbox/orders", json={"cost": "25"})
        assert response.status_code == 201, response.text
        return send2sell_order(int(response.json()["id"]))

    async def log(self) -> list[dict[str, Any]]:
        return list((await self.control.get("/_sandbox/requests")).json()["requests"])

    def charges(self, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The money-moving requests among `entries`."""
        suffix = {
            "bizon": "/orders/authorize",
            "paysuper": "/api/v1/order",
            "proxy_solutions": "/charge",
            "send2sell": "/billing",
        }[self.name]
        return [e for e in entries if e["method"] != "GET" and e["path"].endswith(suffix)]

    async def native_fault(self, fault: dict[str, Any]) -> None:
        if self.name == "bizon":
            fault = {"method": "POST", "path_prefix": "/orders/authorize"} | fault
        response = await self.control.post("/_sandbox/faults", json=fault)
        assert response.status_code in (200, 201), response.text


def proxy_order() -> dict[str, Any]:
    return {
        "provider": "proxy_solutions",
        "payment_method": {"type": "balance"},
        "merchant_reference": uuid.uuid4().hex,
        "provider_options": {
            "proxy_solutions": {
                "order_id": 1001,
                "merchant": "balance",
                "currency": "USD",
                "period": 30,
            }
        },
    }


def send2sell_order(order_id: int) -> dict[str, Any]:
    billing = {
        "first_name": "Ada",
        "city": "Austin",
        "state": "TX",
        "zip": "73301",
        "phone": "+1 512 555 0100",
    }
    return {
        "provider": "send2sell",
        "amount": 2500,  # known up front: a payment in doubt can be settled by itself
        "currency": "USD",
        "payment_method": {"type": "prepaid_credits"},
        "merchant_reference": uuid.uuid4().hex,
        "provider_options": {"send2sell": {"order_id": order_id, "billing": billing}},
    }


# -- a service of our own, reaching the providers through the proxies ------------------------


def service_settings(
    base: Settings,
    proxies: dict[str, FaultProxy],
    dead: str | None = None,
    cool_down: float = COOL_DOWN,
    **tune: Any,
) -> Settings:
    sections = {}
    for name in PROVIDERS:
        url = f"http://127.0.0.1:{free_port()}" if name == dead else proxies[name].url
        section = getattr(base, name)
        sections[name] = msgspec.structs.replace(
            section,
            base_url=url + "/api" if name == "proxy_solutions" else url,
            timeout_seconds=TIMEOUT,
            connect_timeout_seconds=TIMEOUT,
            # Send2Sell settles a payment in doubt only once its call could have ended.
            total_timeout_seconds=2 * TIMEOUT if name == "send2sell" else None,
        )
    return msgspec.structs.replace(
        base,
        **sections,
        circuit_failure_threshold=THRESHOLD,
        circuit_open_seconds=cool_down,
        circuit_half_open_probes=1,
        database_pool_size=2,
        redis_pool_size=1,
        **tune,
    )


@asynccontextmanager
async def running(settings: Settings, secret: str) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    """The service on a port of its own: (an authenticated client, the app)."""
    app = create_app(settings)
    headers = {"Authorization": f"Bearer {secret}"}
    async with (
        serving(app) as url,
        httpx.AsyncClient(base_url=url, headers=headers, timeout=20) as client,
    ):
        yield client, app


@asynccontextmanager
async def service(
    settings: Settings, key_factory: Any, servers: tuple[str, str, str], *, own_db: bool = False
) -> AsyncIterator[tuple[httpx.AsyncClient, Any, str]]:
    """`running`, on the session database or on one of its own: (client, app, its URL).

    Proxy-Solutions needs its own: a payment in doubt blocks its vendor order until an
    operator settles it (the provider has no status call), and the sandbox has three.
    """
    if not own_db:
        async with running(settings, await key_factory()) as (client, app):
            yield client, app, settings.database_url
        return
    async with own_database(servers[0]) as url:
        ledger = await PostgresLedger.connect(url, max_size=1)
        try:
            _, secret = await new_key(ledger, "payments:read", "payments:write")
        finally:
            await ledger.close()
        mine = msgspec.structs.replace(settings, database_url=url)
        async with running(mine, secret) as (client, app):
            yield client, app, url


def not_a_500(response: httpx.Response) -> httpx.Response:
    """Never a 500; an error is a problem (503 never sent, 502 refused, 4xx the caller's)."""
    assert response.status_code != 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/problem+json")
    return response


async def find(client: httpx.AsyncClient, merchant_reference: str) -> dict[str, Any]:
    listed = await client.get("/v1/payments", params={"merchant_reference": merchant_reference})
    [payment] = listed.json()["data"]
    return dict(payment)


async def circuit(client: httpx.AsyncClient, provider: str) -> dict[str, Any]:
    providers = (await client.get("/v1/providers")).json()["data"]
    return dict(next(p for p in providers if p["name"] == provider)["circuit"])


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        match = re.match(r"^(\w+)\{([^}]*)\} (\S+)$", line)
        if match and match.group(1) == name:
            got = ",".join(sorted(match.group(2).split(",")))
            if got == wanted:
                return float(match.group(3))
    return 0.0


async def assert_invariants_of(database_url: str, payment_ids: set[str]) -> None:
    """The ledger's invariants hold for these payments.

    Only these: the session database also holds what other tests wrote directly
    through the ledger, in states no request could produce.
    """
    violations = await ledger_violations(database_url)
    mine = {name: [i for i in ids if i in payment_ids] for name, ids in violations.items()}
    assert not any(mine.values()), mine
