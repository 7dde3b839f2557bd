"""Alembic environment: plain SQL migrations run through SQLAlchemy's asyncpg driver.

The URL comes from the `sqlalchemy.url` option set by `service.ledger.migrate`
(or the DATABASE_URL environment variable when alembic is run by hand).
"""

import asyncio
import os

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine


def _url() -> str:
    url = context.config.get_main_option("sqlalchemy.url") or os.environ["DATABASE_URL"]
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


# Two `migrate` runs at once (a Helm hook retried, compose and a Job, two
# deploys) queue on this session lock; the second then finds the schema at head.
MIGRATION_LOCK = 7_265_480_201


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    connection.exec_driver_sql(f"SELECT pg_advisory_lock({MIGRATION_LOCK})")
    try:
        context.configure(connection=connection, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()
    finally:
        connection.exec_driver_sql(f"SELECT pg_advisory_unlock({MIGRATION_LOCK})")


async def _main() -> None:
    engine = create_async_engine(_url())
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_url(), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_main())
