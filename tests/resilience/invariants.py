"""The ledger's invariants, checked from outside after every fault.

The schema enforces most of them (CHECKs, the deferred totals trigger); these
queries check again, so a test fails even if a migration ever loosened them, and
add what no constraint says: no payment without operations (half-written), no
money in a terminal state that disagrees with its operations.
"""

from collections.abc import Collection

import asyncpg

_CHECKS = {
    "captured above authorized": (
        "SELECT id FROM payments WHERE amount_captured > amount_authorized"
    ),
    "refunded above captured": "SELECT id FROM payments WHERE amount_refunded > amount_captured",
    "authorized above amount": "SELECT id FROM payments WHERE amount_authorized > amount",
    "payment without operations": (
        "SELECT p.id FROM payments p"
        " WHERE NOT EXISTS (SELECT 1 FROM operations o WHERE o.payment_id = p.id)"
    ),
    "totals differ from operations": """
        SELECT p.id FROM payments p
        LEFT JOIN LATERAL (
            SELECT
              coalesce(sum(amount) FILTER (WHERE type = 'authorize'), 0) AS authorized,
              coalesce(sum(amount) FILTER (WHERE type = 'capture'), 0) AS captured,
              coalesce(sum(amount) FILTER (WHERE type = 'refund'), 0) AS refunded
            FROM operations o WHERE o.payment_id = p.id AND o.status = 'succeeded'
        ) s ON true
        WHERE (p.amount_authorized, p.amount_captured, p.amount_refunded)
              IS DISTINCT FROM (s.authorized, s.captured, s.refunded)
    """,
    "processing without a pending operation": """
        SELECT p.id FROM payments p WHERE p.status = 'processing'
          AND NOT EXISTS (
            SELECT 1 FROM operations o WHERE o.payment_id = p.id AND o.status = 'pending'
          )
    """,
}


async def ledger_violations(
    database_url: str, ids: Collection[str] | None = None
) -> dict[str, list[str]]:
    """Each broken invariant with the payments breaking it (empty: all hold).

    `ids`: only these payments (a database shared with tests that write raw rows
    on purpose); None: every payment.
    """
    conn = await asyncpg.connect(database_url)
    try:
        found = {}
        for name, sql in _CHECKS.items():
            broken = [r[0] for r in await conn.fetch(sql)]
            broken = [i for i in broken if ids is None or i in ids]
            if broken:
                found[name] = broken
        return found
    finally:
        await conn.close()


async def assert_ledger_invariants(database_url: str, ids: Collection[str] | None = None) -> int:
    """Raise if any invariant is broken; the number of payments in the database."""
    violations = await ledger_violations(database_url, ids)
    assert not violations, violations
    conn = await asyncpg.connect(database_url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM payments"))
    finally:
        await conn.close()
