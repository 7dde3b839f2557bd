"""The reconciler's claims on the real ledger: who is in doubt, one holder at a time.

Every test uses a provider name of its own, so claims seeded by other tests in the
shared database never mix in.
"""

import asyncio
from datetime import timedelta

import asyncpg
import pytest

from service.domain.ids import new_id
from service.domain.ports import ApiKey, ReconcileClaim
from service.ledger import PostgresLedger
from tests.integration import factories as f

SECOND = timedelta(seconds=1)


@pytest.fixture
async def key(ledger: PostgresLedger) -> ApiKey:
    return await f.insert_api_key(ledger)


@pytest.fixture
def provider() -> str:
    return new_id("prov")


def claim(provider: str, *, limit: int = 50, at=None, age=timedelta(seconds=60)) -> ReconcileClaim:
    now = at or f.now()
    return ReconcileClaim(
        kind="payment",
        now=now,
        pending_since=now - age,
        providers=(provider,),
        limit=limit,
        backoff=timedelta(seconds=5),
        longest_backoff=timedelta(seconds=60),
    )


async def in_doubt(ledger: PostgresLedger, key: ApiKey, provider: str, age: timedelta) -> str:
    pay = f.payment(key.id, provider=provider)
    await ledger.create_payment(pay, f.operation(pay, created_at=f.now() - age), None)
    return pay.id


async def test_only_payments_pending_long_enough_are_claimed(ledger, key, provider):
    old = await in_doubt(ledger, key, provider, timedelta(minutes=5))
    await in_doubt(ledger, key, provider, timedelta(seconds=1))  # may still be in flight
    settled = await f.authorized_payment(ledger, key.id, provider=provider)
    other = await in_doubt(ledger, key, new_id("prov"), timedelta(minutes=5))
    taken = await ledger.claim_in_doubt(claim(provider))
    assert taken == [(old, 1)]
    assert settled.id not in dict(taken)
    assert other not in dict(taken)


async def test_a_claim_is_held_until_its_backoff_passes_then_doubles(ledger, key, provider):
    pid = await in_doubt(ledger, key, provider, timedelta(minutes=5))
    now = f.now()
    assert await ledger.claim_in_doubt(claim(provider, at=now)) == [(pid, 1)]
    # Held for the first backoff (5 s): nobody gets it before.
    assert await ledger.claim_in_doubt(claim(provider, at=now + 4 * SECOND)) == []
    assert await ledger.claim_in_doubt(claim(provider, at=now + 6 * SECOND)) == [(pid, 2)]
    # Then 10 s after the second claim, 20 s after the third, up to the ceiling.
    later = now + 6 * SECOND
    assert await ledger.claim_in_doubt(claim(provider, at=later + 9 * SECOND)) == []
    assert await ledger.claim_in_doubt(claim(provider, at=later + 11 * SECOND)) == [(pid, 3)]


async def test_released_claims_are_gone_and_notes_are_kept(ledger, key, provider, database_url):
    pid = await in_doubt(ledger, key, provider, timedelta(minutes=5))
    await ledger.claim_in_doubt(claim(provider))
    await ledger.note_claim(pid, "provider down", f.now())
    conn = await asyncpg.connect(database_url)
    try:
        row = await conn.fetchrow("SELECT * FROM reconcile_claims WHERE subject_id = $1", pid)
        assert (row["last_error"], row["attempts"], row["provider"]) == (
            "provider down",
            1,
            provider,
        )
        await ledger.release_claim(pid)
        assert (
            await conn.fetchval("SELECT count(*) FROM reconcile_claims WHERE subject_id = $1", pid)
            == 0
        )
    finally:
        await conn.close()


async def test_concurrent_reconcilers_never_hold_the_same_payment(
    ledger, key, provider, database_url
):
    ids = {await in_doubt(ledger, key, provider, timedelta(minutes=5)) for _ in range(40)}
    others = [await PostgresLedger.connect(database_url, max_size=2) for _ in range(7)]
    try:
        now = f.now()
        batches = await asyncio.gather(
            *(x.claim_in_doubt(claim(provider, limit=7, at=now)) for x in [ledger, *others]),
        )
    finally:
        for other in others:
            await other.close()
    taken = [pid for batch in batches for pid, _ in batch]
    assert len(taken) == len(set(taken))  # nobody twice
    assert set(taken) == ids  # 8 replicas x 7 cover the 40
    assert {attempts for batch in batches for _, attempts in batch} == {1}


async def test_the_oldest_pending_operation_is_reported(ledger, key, provider):
    await in_doubt(ledger, key, provider, timedelta(hours=3))
    oldest = await ledger.oldest_pending()
    assert oldest is not None
    assert f.now() - oldest >= timedelta(hours=3)


async def test_a_reconciler_never_waits_for_a_subject_another_one_holds(
    ledger, key, provider, database_url
):
    held = await in_doubt(ledger, key, provider, timedelta(minutes=5))
    free = await in_doubt(ledger, key, provider, timedelta(minutes=5))
    await ledger.claim_in_doubt(claim(provider, limit=0))  # seeds the claim rows
    other = await asyncpg.connect(database_url)
    try:
        # Another replica is in the middle of taking `held` (its row locked).
        transaction = other.transaction()
        await transaction.start()
        await other.execute("SELECT 1 FROM reconcile_claims WHERE subject_id = $1 FOR UPDATE", held)
        taken = await asyncio.wait_for(ledger.claim_in_doubt(claim(provider)), 5)
        await transaction.rollback()
    finally:
        await other.close()
    assert taken == [(free, 1)]  # skipped, not waited for
