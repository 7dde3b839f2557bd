"""The baseline: the create scenario's I/O with none of the service's logic.

A bare Litestar app served exactly like the service (uvicorn, uvloop, httptools,
the same number of workers), whose `POST /v1/payments` does, in order:

1. one Redis EVAL (a Lua script touching two keys: a per-key counter as a rate
   limit and an idempotency reservation, `SET NX PX`);
2. one PostgreSQL INSERT (its own table `bench_baseline_payments`, with a jsonb;
   one round trip: the pool does no reset on release);
3. one POST to the Bizon simulator's `/orders/authorize` with the JSON body the
   service's Bizon connector sends (Basic auth), through the service's own
   outbound transport: `service.http`'s `ProviderEndpoint(...)` (built as
   service/app.py builds it) wrapped in its transport class, called through the
   `Transport` port (`send(provider, HttpCall) -> HttpReply`), so a change of
   client library there (httpx, then aiohttp) changes both;
4. one PostgreSQL UPDATE;
5. one Redis SET with PX (the stored response);

and answers 201. Run: `python -m bench.baseline --port P --workers N` with
DATABASE_URL, REDIS_URL, BIZON_BASE_URL, BIZON_LOGIN, BIZON_PASSWORD; the table is
created once by that command before the workers start.
"""

import argparse
import asyncio
import base64
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg
import msgspec
import redis.asyncio as aioredis
import uvicorn
from litestar import Litestar, Request, Response, get, post
from litestar.datastructures import State

from service import http as service_http
from service.domain.outcomes import HttpCall, HttpReply
from service.http import ProviderEndpoint
from service.settings import call_limit_seconds

TABLE = "bench_baseline_payments"
CREATE_TABLE = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    id text PRIMARY KEY,
    idempotency_key text NOT NULL,
    amount bigint NOT NULL,
    currency text NOT NULL,
    status text NOT NULL,
    provider_reference text,
    request jsonb NOT NULL,
    provider_reply jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
)
"""
INSERT = f"""
INSERT INTO {TABLE} (id, idempotency_key, amount, currency, status, request)
VALUES ($1, $2, $3, $4, 'pending', $5::jsonb)
"""
UPDATE = f"""
UPDATE {TABLE} SET status = $2, provider_reference = $3, provider_reply = $4::jsonb,
    updated_at = now()
WHERE id = $1
"""
# A rate-limit counter and an idempotency reservation: two keys, one round trip.
RESERVE = """
local hits = redis.call('INCR', KEYS[1])
if hits == 1 then redis.call('PEXPIRE', KEYS[1], 1000) end
local reserved = redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2])
return {hits, reserved and 1 or 0}
"""
TTL_MS = 86_400_000
READ_TIMEOUT, CONNECT_TIMEOUT = 30.0, 5.0  # the service's Bizon defaults


class Card(msgspec.Struct):
    number: str
    cvv: str
    exp_month: int
    exp_year: int
    holder: str


class PaymentMethod(msgspec.Struct):
    type: str
    card: Card


class Customer(msgspec.Struct):
    email: str | None = None
    ip: str | None = None


class CreateRequest(msgspec.Struct):
    amount: int
    currency: str
    payment_method: PaymentMethod
    customer: Customer
    capture: str = "automatic"
    provider: str = "bizon"
    merchant_reference: str | None = None


class Order(msgspec.Struct):
    id: str | int
    status: str


class Orders(msgspec.Struct):
    orders: list[Order]


def bizon_body(payment_id: str, req: CreateRequest) -> dict[str, Any]:
    """The body the service's Bizon connector sends for a card authorize."""
    card = req.payment_method.card
    body: dict[str, Any] = {
        "amount": f"{req.amount // 100}.{req.amount % 100:02d}",
        "currency": req.currency,
        "merchant_order_id": payment_id,
        "options": {"auto_charge": 1 if req.capture == "automatic" else 0},
    }
    if req.customer.email:
        body["client"] = {"email": req.customer.email}
    if req.customer.ip:
        body["location"] = {"ip": req.customer.ip}
    body["pan"] = card.number
    body["card"] = {
        "cvv": card.cvv,
        "holder": card.holder,
        "expiration_month": f"{card.exp_month:02d}",
        "expiration_year": str(card.exp_year),
    }
    return body


class Transport(Protocol):
    """service.domain.ports.Transport, plus the close() every transport has."""

    async def send(self, provider: str, call: HttpCall) -> HttpReply: ...

    async def close(self) -> None: ...


def service_transport(endpoint: ProviderEndpoint) -> Transport:
    """The service's transport class over one Bizon endpoint, whatever its name.

    `HttpTransport` (aiohttp) since b259a59, `HttpxTransport` before: both work, so
    `--service-root` can compare a checkout from either side of that change.
    """
    for name in ("HttpTransport", "HttpxTransport"):
        cls = getattr(service_http, name, None)
        if cls is not None:
            transport: Transport = cls({"bizon": endpoint})
            return transport
    raise RuntimeError("service.http has no transport class the baseline knows")


@dataclass(slots=True)
class Deps:
    pool: asyncpg.Pool
    redis: aioredis.Redis
    reserve: Any
    transport: Transport
    headers: dict[str, str]


def _deps(app: Litestar) -> Deps:
    deps: Deps = app.state["deps"]
    return deps


@post("/v1/payments", status_code=201)
async def create_payment(request: Request[Any, Any, Any]) -> Response[bytes]:
    deps = _deps(request.app)
    raw = await request.body()
    req = msgspec.json.decode(raw, type=CreateRequest)
    key = request.headers.get("idempotency-key", "")
    payment_id = "pay_" + uuid.uuid4().hex
    await deps.reserve(keys=["baseline:rl:bench", f"baseline:idem:{key}"], args=[1, TTL_MS])
    await deps.pool.execute(INSERT, payment_id, key, req.amount, req.currency, raw.decode())
    call = HttpCall(
        "POST", "/orders/authorize", msgspec.json.encode(bizon_body(payment_id, req)), deps.headers
    )
    reply = await deps.transport.send("bizon", call)
    order = msgspec.json.decode(reply.body, type=Orders).orders[0]
    await deps.pool.execute(UPDATE, payment_id, order.status, str(order.id), reply.body.decode())
    body = msgspec.json.encode(
        {
            "id": payment_id,
            "status": order.status,
            "amount": req.amount,
            "currency": req.currency,
            "provider_reference": str(order.id),
        }
    )
    await deps.redis.set(f"baseline:resp:{key}", body, px=TTL_MS)
    return Response(body, status_code=201, media_type="application/json")


@get("/health/ready")
async def ready() -> dict[str, str]:
    return {"status": "ok"}


async def _no_reset(conn: asyncpg.Connection) -> None:
    """No reset round trip on release (asyncpg's default sends one per statement here).

    The baseline opens no transaction, takes no session lock, sets nothing: exactly
    one round trip per statement, the floor.
    """


def _basic_auth(login: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode("ascii")


@asynccontextmanager
async def _lifespan(app: Litestar) -> AsyncIterator[None]:
    env = os.environ
    # The service's pool sizes (DATABASE_POOL_SIZE 10, REDIS_POOL_SIZE 100 by default).
    pool = await asyncpg.create_pool(
        env["DATABASE_URL"],
        min_size=1,
        max_size=int(env.get("DATABASE_POOL_SIZE", "10")),
        reset=_no_reset,
    )
    redis_pool = aioredis.BlockingConnectionPool.from_url(
        env["REDIS_URL"], max_connections=int(env.get("REDIS_POOL_SIZE", "100")), timeout=2
    )
    redis = aioredis.Redis(connection_pool=redis_pool)
    # As service/app.py's _endpoint() builds it from the default Bizon settings.
    bizon = ProviderEndpoint(
        env["BIZON_BASE_URL"],
        read_timeout=READ_TIMEOUT,
        connect_timeout=CONNECT_TIMEOUT,
        total_timeout=call_limit_seconds(CONNECT_TIMEOUT, READ_TIMEOUT),
    )
    transport = service_transport(bizon)
    headers = {
        "Authorization": _basic_auth(env["BIZON_LOGIN"], env["BIZON_PASSWORD"]),
        "Content-Type": "application/json",
        "Accept": "application/json",
    }
    app.state["deps"] = Deps(pool, redis, redis.register_script(RESERVE), transport, headers)
    try:
        yield
    finally:
        await transport.close()
        await redis.aclose()
        await pool.close()


def create_app() -> Litestar:
    return Litestar(
        route_handlers=[create_payment, ready],
        lifespan=[_lifespan],
        state=State({}),
        debug=False,
        logging_config=None,
    )


async def _create_table(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(CREATE_TABLE)
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.baseline", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    asyncio.run(_create_table(os.environ["DATABASE_URL"]))
    # The service's own uvicorn settings (service/__main__.py cmd_serve).
    uvicorn.run(
        "bench.baseline:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
