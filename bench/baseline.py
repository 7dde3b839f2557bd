"""The baseline: the create scenario's I/O with none of the service's logic.

A bare Litestar app served exactly like the service (uvicorn, uvloop, httptools,
the same number of workers), whose `POST /v1/payments` does the same I/O as the
service's card charge, in the same order, through the same clients:

1. one Redis call: the service's own gate script (the rate-limit token and the
   idempotency reservation, `service.idempotency.store.GATE`) through the
   service's Redis client (`service.resp`);
2. one PostgreSQL statement: the ledger's own `ledger_create_payment` (the payment,
   its pending authorize and the key's claim), its arguments built from a
   template rather than by the domain;
3. one POST to the Bizon simulator's `/orders/authorize` with the JSON body the
   service's Bizon connector sends, through the service's outbound transport
   (`service.http`, built as service/app.py builds it);
4. one PostgreSQL statement: `ledger_save_payment` (the authorize resolved, the
   capture inserted, the response stored with the key);
5. one Redis SET with PX (the response to replay);

and answers 201 with a small JSON body. What it leaves out is the service: request
validation, the domain model and state machine, the connector's mapping of the
reply, the idempotency bookkeeping, logging, metrics. Run: `python -m
bench.baseline --port P --workers N` with DATABASE_URL, REDIS_URL, BIZON_BASE_URL,
BIZON_LOGIN, BIZON_PASSWORD (on a migrated database; its API key row is made by
that command before the workers start).
"""

import argparse
import asyncio
import base64
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import asyncpg
import msgspec
import uvicorn
from litestar import Litestar, Request, Response, get, post
from litestar.datastructures import State

from service import http as service_http
from service.domain.outcomes import HttpCall, HttpReply
from service.http import ProviderEndpoint
from service.idempotency.store import GATE
from service.resp import RespClient
from service.settings import call_limit_seconds

API_KEY_ID = "key_bench_baseline"
CREATE_KEY = """
INSERT INTO api_keys (id, name, prefix, secret_hash, scopes)
VALUES ($1, 'baseline', 'sk_baseline', $1, ARRAY['payments:write'])
ON CONFLICT (id) DO NOTHING
"""
CREATE = "SELECT ledger_create_payment($1::jsonb, $2::jsonb, $3::jsonb)"
SAVE = """
SELECT ledger_save_payment($1, $2, $3::jsonb, $4::jsonb, $5::jsonb, NULL, $6::jsonb,
    $7::bytea, NULL)
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
    redis: RespClient
    transport: Transport
    headers: dict[str, str]


def _deps(app: Litestar) -> Deps:
    deps: Deps = app.state["deps"]
    return deps


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _rows(payment_id: str, key: str, req: CreateRequest) -> tuple[bytes, bytes, bytes, str]:
    """The ledger rows a card charge writes first, from a template: no domain model."""
    now, op_id = _now(), "op_" + uuid.uuid4().hex
    payment = {
        "id": payment_id,
        "api_key_id": API_KEY_ID,
        "status": "processing",
        "provider": "bizon",
        "capture_method": req.capture,
        "currency": req.currency,
        "amount": req.amount,
        "amount_authorized": 0,
        "amount_captured": 0,
        "amount_refunded": 0,
        "payment_method": {"type": "card", "card": {"last4": req.payment_method.card.number[-4:]}},
        "customer": {"email": req.customer.email, "ip": req.customer.ip},
        "metadata": {},
        "version": 0,
        "created_at": now,
        "updated_at": now,
        "provider_details": {},
    }
    operation = {
        "id": op_id,
        "payment_id": payment_id,
        "currency": req.currency,
        "type": "authorize",
        "status": "pending",
        "source": "api",
        "amount": req.amount,
        "created_at": now,
    }
    claim = {
        "api_key_id": API_KEY_ID,
        "key": key,
        "fingerprint": "baseline",
        "locked_until": now,
    }
    enc = msgspec.json.encode
    return enc(payment), enc(operation), enc(claim), op_id


@post("/v1/payments", status_code=201)
async def create_payment(request: Request[Any, Any, Any]) -> Response[bytes]:
    deps = _deps(request.app)
    raw = await request.body()
    req = msgspec.json.decode(raw, type=CreateRequest)
    key = request.headers.get("idempotency-key", "")
    payment_id = "pay_" + uuid.uuid4().hex
    entry = msgspec.msgpack.encode(["in_flight", "baseline"])
    await deps.redis.run(
        GATE, [f"baseline:idem:{key}", "baseline:rl:bench"], [entry, TTL_MS, 10**9, 10**9]
    )
    payment, operation, claim, op_id = _rows(payment_id, key, req)
    await deps.pool.fetchval(CREATE, payment.decode(), operation.decode(), claim.decode())
    call = HttpCall(
        "POST", "/orders/authorize", msgspec.json.encode(bizon_body(payment_id, req)), deps.headers
    )
    reply = await deps.transport.send("bizon", call)
    order = msgspec.json.decode(reply.body, type=Orders).orders[0]
    body = msgspec.json.encode(
        {
            "id": payment_id,
            "status": "captured",
            "amount": req.amount,
            "currency": req.currency,
            "provider_reference": str(order.id),
        }
    )
    now = _now()
    changes = {
        "status": "captured",
        "provider_reference": str(order.id),
        "amount_authorized": req.amount,
        "amount_captured": req.amount,
        "amount_refunded": 0,
        "payment_method": {"type": "card"},
        "updated_at": now,
        "provider_details": {},
    }
    resolve = [
        {
            "id": op_id,
            "status": "succeeded",
            "provider_reference": str(order.id),
            "resolved_at": now,
        }
    ]
    capture = [
        {
            "id": "op_" + uuid.uuid4().hex,
            "payment_id": payment_id,
            "currency": req.currency,
            "type": "capture",
            "status": "succeeded",
            "source": "provider",
            "amount": req.amount,
            "provider_reference": str(order.id),
            "created_at": now,
            "resolved_at": now,
        }
    ]
    complete = {"api_key_id": API_KEY_ID, "key": key, "status": 201, "resource_id": payment_id}
    enc = msgspec.json.encode
    await deps.pool.fetchval(
        SAVE,
        payment_id,
        0,
        enc(changes).decode(),
        enc(resolve).decode(),
        enc(capture).decode(),
        enc(complete).decode(),
        body,
    )
    await deps.redis.execute("SET", f"baseline:idem:{key}", body, "PX", TTL_MS)
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
    # The service's pool sizes (DATABASE_POOL_SIZE 10, REDIS_POOL_SIZE 4 by default).
    pool = await asyncpg.create_pool(
        env["DATABASE_URL"],
        min_size=1,
        max_size=int(env.get("DATABASE_POOL_SIZE", "10")),
        reset=_no_reset,
    )
    redis = RespClient(
        env["REDIS_URL"], connections=int(env.get("REDIS_POOL_SIZE", "4")), timeout=2.0
    )
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
    app.state["deps"] = Deps(pool, redis, transport, headers)
    try:
        yield
    finally:
        await transport.close()
        await redis.close()
        await pool.close()


def create_app() -> Litestar:
    return Litestar(
        route_handlers=[create_payment, ready],
        lifespan=[_lifespan],
        state=State({}),
        debug=False,
        logging_config=None,
    )


async def _create_key(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(CREATE_KEY, API_KEY_ID)
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.baseline", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    asyncio.run(_create_key(os.environ["DATABASE_URL"]))
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
