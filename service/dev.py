"""`python -m service dev` (what `make run` runs): a whole demo in one process.

Finds or starts PostgreSQL and Redis, migrates, starts the provider simulators
(Bizon :8101, PaySuper :8102, Proxy-Solutions :8103, Send2Sell :8104) and the
service on :8000, creates an API key with every scope and prints
how to use it.
"""

import asyncio
import os
from pathlib import Path

import uvicorn
from litestar import Litestar

from service.devservices import ensure_database, postgres_server, redis_server, stop_embedded

SANDBOX_LOGIN = "sandbox"
SANDBOX_PASSWORD = "sandbox"  # noqa: S105 - the simulator's own, public test credential
ALL_SCOPES = ["payments:read", "payments:write", "payouts:write", "ops"]
SERVICE_PORT = 8000  # PORT overrides
SANDBOX_PORT = 8101  # SANDBOX_PORT overrides (Bizon)
PAYSUPER_PORT = 8102  # PAYSUPER_SANDBOX_PORT overrides
PROXY_PORT = 8103  # PROXY_SOLUTIONS_SANDBOX_PORT overrides
PROXY_KEY = "sandbox-key"  # the simulator's own, public test key
SEND2SELL_PORT = 8104  # SEND2SELL_SANDBOX_PORT overrides
SEND2SELL_TOKEN = "sandbox-token"  # noqa: S105 - the simulator's own, public test token
PAYSUPER_PROJECT = "sandbox-project"
PAYSUPER_SECRET = "sandbox-secret"  # noqa: S105 - the simulator's own, public test secret
DEV_DATABASE = "payment_orchestrator"


async def create_key(
    database_url: str,
    name: str,
    scopes: list[str],
    rate_limit_per_second: float | None = None,
    rate_limit_burst: int | None = None,
) -> str:
    """Create an API key, print what it is, return the secret (shown once)."""
    from service.ledger import PostgresLedger
    from service.orchestration.api_keys import ApiKeyService
    from service.orchestration.clock import SystemClock

    ledger = await PostgresLedger.connect(database_url, max_size=1)
    try:
        made = await ApiKeyService(ledger, SystemClock()).create(
            name, scopes, rate_limit_per_second, rate_limit_burst
        )
    finally:
        await ledger.close()
    print(f"created API key {made.key.id} ({made.key.name}), scopes {', '.join(made.key.scopes)}")
    print("store it now: it is shown once and kept only as a hash")
    return made.secret


async def revoke_key(database_url: str, key_id: str) -> bool:
    from service.ledger import PostgresLedger
    from service.orchestration.api_keys import ApiKeyService
    from service.orchestration.clock import SystemClock

    ledger = await PostgresLedger.connect(database_url, max_size=1)
    try:
        return await ApiKeyService(ledger, SystemClock()).revoke(key_id)
    finally:
        await ledger.close()


def sandbox_app(provider: str, public_url: str, webhook_url: str | None = None) -> Litestar:
    """A provider simulator as an ASGI app."""
    if provider == "proxy_solutions":
        from service.sandbox.proxy_solutions import (
            ProxySolutionsSandboxConfig,
            create_proxy_solutions_sandbox,
        )

        return create_proxy_solutions_sandbox(
            ProxySolutionsSandboxConfig(api_key=PROXY_KEY, public_url=public_url)
        )
    if provider == "send2sell":
        from service.sandbox.send2sell import Send2SellSandboxConfig, create_send2sell_sandbox

        return create_send2sell_sandbox(Send2SellSandboxConfig(token=SEND2SELL_TOKEN))
    if provider == "paysuper":
        from service.sandbox.paysuper import PaySuperSandboxConfig, create_paysuper_sandbox

        return create_paysuper_sandbox(
            PaySuperSandboxConfig(
                project_id=PAYSUPER_PROJECT,
                secret_key=PAYSUPER_SECRET,
                public_url=public_url,
                webhook_url=webhook_url,
            )
        )
    from service.sandbox.bizon import BizonSandboxConfig, create_bizon_sandbox

    if provider != "bizon":
        raise ValueError(f"no simulator for {provider}")
    config = BizonSandboxConfig(
        login=SANDBOX_LOGIN, password=SANDBOX_PASSWORD, public_url=public_url
    )
    return create_bizon_sandbox(config)


def _databases(workdir: Path) -> tuple[str, str, list[str]]:
    notes = []
    database_url = os.environ.get("DATABASE_URL")
    if database_url:
        notes.append("PostgreSQL: DATABASE_URL from the environment")
    else:
        server, where = postgres_server(workdir)
        database_url = asyncio.run(ensure_database(server, DEV_DATABASE))
        notes.append(f"PostgreSQL: {where}, database {DEV_DATABASE}")
    redis_url = os.environ.get("REDIS_URL")
    if redis_url:
        notes.append("Redis: REDIS_URL from the environment")
    else:
        redis_url, where = redis_server(workdir)
        notes.append(f"Redis: {where}")
    return database_url, redis_url, notes


def run_dev(workdir: Path) -> None:
    from service.app import create_app
    from service.ledger.migrate import upgrade
    from service.settings import load_settings

    service_port = int(os.environ.get("PORT", SERVICE_PORT))
    sandbox_port = int(os.environ.get("SANDBOX_PORT", SANDBOX_PORT))
    paysuper_port = int(os.environ.get("PAYSUPER_SANDBOX_PORT", PAYSUPER_PORT))
    proxy_port = int(os.environ.get("PROXY_SOLUTIONS_SANDBOX_PORT", PROXY_PORT))
    send2sell_port = int(os.environ.get("SEND2SELL_SANDBOX_PORT", SEND2SELL_PORT))
    database_url, redis_url, notes = _databases(workdir)
    upgrade(database_url)
    env = (
        {
            "BIZON_BASE_URL": f"http://127.0.0.1:{sandbox_port}",
            "BIZON_LOGIN": SANDBOX_LOGIN,
            "BIZON_PASSWORD": SANDBOX_PASSWORD,
            "PAYSUPER_BASE_URL": f"http://127.0.0.1:{paysuper_port}",
            "PAYSUPER_PROJECT_ID": PAYSUPER_PROJECT,
            "PAYSUPER_SECRET_KEY": PAYSUPER_SECRET,
            "PROXY_SOLUTIONS_BASE_URL": f"http://127.0.0.1:{proxy_port}/api",
            "PROXY_SOLUTIONS_API_KEY": PROXY_KEY,
            "SEND2SELL_BASE_URL": f"http://127.0.0.1:{send2sell_port}",
            "SEND2SELL_TOKEN": SEND2SELL_TOKEN,
            "LOG_FORMAT": "console",
        }
        | dict(os.environ)
        | {"DATABASE_URL": database_url, "REDIS_URL": redis_url}
    )
    settings = load_settings(env)
    secret = asyncio.run(create_key(database_url, "make-run", ALL_SCOPES))
    sandbox = uvicorn.Server(
        uvicorn.Config(
            sandbox_app("bizon", f"http://127.0.0.1:{sandbox_port}"),
            host="127.0.0.1",
            port=sandbox_port,
            log_level="warning",
        )
    )
    paysuper = uvicorn.Server(
        uvicorn.Config(
            sandbox_app(
                "paysuper",
                f"http://127.0.0.1:{paysuper_port}",
                f"http://127.0.0.1:{service_port}/v1/webhooks/paysuper",
            ),
            host="127.0.0.1",
            port=paysuper_port,
            log_level="warning",
        )
    )
    proxy = uvicorn.Server(
        uvicorn.Config(
            sandbox_app("proxy_solutions", f"http://127.0.0.1:{proxy_port}"),
            host="127.0.0.1",
            port=proxy_port,
            log_level="warning",
        )
    )
    send2sell = uvicorn.Server(
        uvicorn.Config(
            sandbox_app("send2sell", f"http://127.0.0.1:{send2sell_port}"),
            host="127.0.0.1",
            port=send2sell_port,
            log_level="warning",
        )
    )
    service = uvicorn.Server(
        uvicorn.Config(
            create_app(settings),
            host="127.0.0.1",
            port=service_port,
            log_level="warning",
            access_log=False,
        )
    )
    banner = "\n".join(
        [
            "",
            *notes,
            f"Bizon sandbox:  http://127.0.0.1:{sandbox_port} (login {SANDBOX_LOGIN})",
            f"PaySuper sandbox: http://127.0.0.1:{paysuper_port} (project {PAYSUPER_PROJECT},"
            " notifications to /v1/webhooks/paysuper)",
            f"Proxy-Solutions sandbox: http://127.0.0.1:{proxy_port}/api (orders 1001-1003,"
            " balance 100.00 USD, promo SAVE10)",
            f"Send2Sell sandbox: http://127.0.0.1:{send2sell_port} (orders 370562-370568,"
            " credits 100.00 USD; top up: POST /_sandbox/credits/top-up)",
            f"Service:        http://127.0.0.1:{service_port}   Swagger UI: "
            f"http://127.0.0.1:{service_port}/docs",
            "API key (every scope; use it with Authorize in Swagger UI):",
            "",
            f"    export API_KEY={secret}",
            "",
        ]
    )
    print(banner, flush=True)

    async def both() -> None:
        await asyncio.gather(
            sandbox.serve(), paysuper.serve(), proxy.serve(), send2sell.serve(), service.serve()
        )

    try:
        asyncio.run(both())
    finally:
        stop_embedded()  # Ctrl-C or SIGTERM: leave no embedded server behind
