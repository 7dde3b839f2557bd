"""A database of one's own, for tests that run the reconciler over everything in doubt.

The session database is shared by every test: a reconciler pass there would claim,
and might hand to operators, what other tests left in doubt. These get their own.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from service.ledger import PostgresLedger
from service.ledger.migrate import upgrade_async
from service.orchestration.api_keys import ApiKeyService
from service.orchestration.clock import SystemClock
from tests.datastores import create_database, drop_database


@asynccontextmanager
async def own_database(server_url: str) -> AsyncIterator[str]:
    """A new database, migrated to head, dropped at the end."""
    url = await create_database(server_url)
    try:
        await upgrade_async(url)
        yield url
    finally:
        await drop_database(server_url, url)


async def new_key(ledger: PostgresLedger, *scopes: str) -> tuple[str, str]:
    """(key id, secret) of a new API key with `scopes`."""
    made = await ApiKeyService(ledger, SystemClock()).create("test", list(scopes), None, None)
    return made.key.id, made.secret
