"""Fixtures shared by every tier: datastores, the sandbox, the service, API keys."""

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import httpx
import pytest
import redis.asyncio as aioredis

from service.app import create_app
from service.ledger import PostgresLedger
from service.ledger.migrate import upgrade_async
from service.orchestration.api_keys import SCOPES, ApiKeyService
from service.orchestration.clock import SystemClock
from service.resp import RespClient
from service.sandbox.bizon import BizonSandboxConfig, create_bizon_sandbox
from service.sandbox.paysuper import PaySuperSandboxConfig, create_paysuper_sandbox
from service.sandbox.proxy_solutions import (
    ProxySolutionsSandboxConfig,
    create_proxy_solutions_sandbox,
)
from service.sandbox.send2sell import Send2SellSandboxConfig, create_send2sell_sandbox
from service.settings import (
    BizonSettings,
    PaySuperSettings,
    ProxySolutionsSettings,
    Secret,
    Send2SellSettings,
    Settings,
)
from tests.datastores import create_database, drop_database, servers
from tests.servers import free_port, serving

SANDBOX_SLOW_SECONDS = 1.5
BIZON_TIMEOUT = 0.5  # below the sandbox's slow card, so that card times out
SETTLE_AFTER = timedelta(seconds=2)


@pytest.fixture(scope="session")
def datastore_servers() -> Iterator[tuple[str, str, str]]:
    with servers() as found:
        yield found


@pytest.fixture(scope="session")
async def database_url(datastore_servers: tuple[str, str, str]) -> AsyncIterator[str]:
    server, _, _ = datastore_servers
    url = await create_database(server)
    await upgrade_async(url)
    yield url
    await drop_database(server, url)


@pytest.fixture(scope="session")
async def redis_url(datastore_servers: tuple[str, str, str]) -> AsyncIterator[str]:
    _, url, _ = datastore_servers
    client = aioredis.Redis.from_url(url)
    await client.flushdb()
    await client.aclose()
    return url


@pytest.fixture(scope="session")
async def redis_client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def resp_client(redis_url: str) -> AsyncIterator[RespClient]:
    """The service's own Redis client (service.resp) on the test database."""
    client = RespClient(redis_url, connections=2, timeout=2.0)
    yield client
    await client.close()


@pytest.fixture(scope="session")
async def ledger(database_url: str) -> AsyncIterator[PostgresLedger]:
    repo = await PostgresLedger.connect(database_url, max_size=5)
    yield repo
    await repo.close()


@pytest.fixture(scope="session")
async def sandbox_url() -> AsyncIterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    config = BizonSandboxConfig(
        login="test", password="test-secret", public_url=url, slow_seconds=SANDBOX_SLOW_SECONDS
    )
    async with serving(create_bizon_sandbox(config), port) as served:
        yield served


@pytest.fixture(scope="session")
async def sandbox(sandbox_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client for the sandbox's control endpoints (/_sandbox/...)."""
    async with httpx.AsyncClient(base_url=sandbox_url, timeout=10) as client:
        yield client


PAYSUPER_PROJECT = "test-project"
PAYSUPER_SECRET = "test-paysuper-secret"


@pytest.fixture(scope="session")
def service_port() -> int:
    """Chosen before anything starts, so the PaySuper sandbox knows where to deliver."""
    return free_port()


@pytest.fixture(scope="session")
async def paysuper_sandbox_url(service_port: int) -> AsyncIterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    config = PaySuperSandboxConfig(
        project_id=PAYSUPER_PROJECT,
        secret_key=PAYSUPER_SECRET,
        public_url=url,
        webhook_url=f"http://127.0.0.1:{service_port}/v1/webhooks/paysuper",
        webhook_retry_delays=(0.2, 0.5, 1.0),
    )
    async with serving(create_paysuper_sandbox(config), port) as served:
        yield served


@pytest.fixture(scope="session")
async def paysuper_sandbox(paysuper_sandbox_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client for the PaySuper sandbox's control endpoints (/_sandbox/...)."""
    async with httpx.AsyncClient(base_url=paysuper_sandbox_url, timeout=10) as client:
        yield client


PROXY_KEY = "test-proxy-key"


@pytest.fixture(scope="session")
async def proxy_sandbox_url() -> AsyncIterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    config = ProxySolutionsSandboxConfig(api_key=PROXY_KEY, public_url=url, balance="1000.00")
    async with serving(create_proxy_solutions_sandbox(config), port) as served:
        yield served


@pytest.fixture(scope="session")
async def proxy_sandbox(proxy_sandbox_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client for the Proxy-Solutions sandbox's control endpoints."""
    async with httpx.AsyncClient(base_url=proxy_sandbox_url, timeout=10) as client:
        yield client


SEND2SELL_TOKEN = "test-send2sell-token"


@pytest.fixture(scope="session")
async def send2sell_sandbox_url() -> AsyncIterator[str]:
    port = free_port()
    config = Send2SellSandboxConfig(token=SEND2SELL_TOKEN, credits="1000.00")
    async with serving(create_send2sell_sandbox(config), port) as served:
        yield served


@pytest.fixture(scope="session")
async def send2sell_sandbox(send2sell_sandbox_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client for the Send2Sell sandbox's control endpoints."""
    async with httpx.AsyncClient(base_url=send2sell_sandbox_url, timeout=10) as client:
        yield client


@pytest.fixture(scope="session")
def settings(
    database_url: str,
    redis_url: str,
    sandbox_url: str,
    paysuper_sandbox_url: str,
    proxy_sandbox_url: str,
    send2sell_sandbox_url: str,
) -> Settings:
    return Settings(
        database_url=database_url,
        redis_url=redis_url,
        bizon=BizonSettings(
            base_url=sandbox_url,
            login="test",
            password=Secret("test-secret"),
            timeout_seconds=BIZON_TIMEOUT,
            connect_timeout_seconds=0.5,
        ),
        paysuper=PaySuperSettings(
            base_url=paysuper_sandbox_url,
            project_id=PAYSUPER_PROJECT,
            secret_key=Secret(PAYSUPER_SECRET),
            timeout_seconds=BIZON_TIMEOUT,
            connect_timeout_seconds=0.5,
        ),
        proxy_solutions=ProxySolutionsSettings(
            base_url=f"{proxy_sandbox_url}/api",
            api_key=Secret(PROXY_KEY),
            timeout_seconds=BIZON_TIMEOUT,
            connect_timeout_seconds=0.5,
        ),
        send2sell=Send2SellSettings(
            base_url=send2sell_sandbox_url,
            token=Secret(SEND2SELL_TOKEN),
            timeout_seconds=BIZON_TIMEOUT,
            connect_timeout_seconds=0.5,
        ),
        reconcile_after_seconds=SETTLE_AFTER.total_seconds(),
        rate_limit_per_second=1000,
        rate_limit_burst=1000,
        log_level="INFO",  # the redaction tests read the provider-call lines
    )


@pytest.fixture(scope="session")
async def service_url(settings: Settings, service_port: int) -> AsyncIterator[str]:
    async with serving(create_app(settings), service_port) as url:
        yield url


@pytest.fixture(scope="session")
async def key_factory(ledger: PostgresLedger):  # type: ignore[no-untyped-def]
    service = ApiKeyService(ledger, SystemClock())

    async def make(*scopes: str, per_second: float | None = None, burst: int | None = None) -> str:
        made = await service.create("test", list(scopes or SCOPES), per_second, burst)
        return made.secret

    return make


@pytest.fixture(scope="session")
async def api_key(key_factory) -> str:  # type: ignore[no-untyped-def]
    return await key_factory(*SCOPES)


@pytest.fixture(scope="session")
async def client(service_url: str, api_key: str) -> AsyncIterator[httpx.AsyncClient]:
    """An authenticated client with every scope."""
    headers = {"Authorization": f"Bearer {api_key}"}
    async with httpx.AsyncClient(base_url=service_url, headers=headers, timeout=20) as c:
        yield c


@pytest.fixture(scope="session")
async def anonymous(service_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=service_url, timeout=20) as c:
        yield c
