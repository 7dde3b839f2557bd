"""Payments handed to operators and resolved by hand, on the real ledger (migration 0007).

Every test uses a provider name of its own, so rows of other tests in the shared
database never mix in.
"""

from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import msgspec
import pytest

from service.domain.attention import OperatorVerdict, mark_needs_attention, resolve_by_operator
from service.domain.ids import new_id
from service.domain.payments import (
    CaptureMethod,
    OperationSource,
    OperationStatus,
    OperationType,
    PaymentStatus,
)
from service.domain.ports import ApiKey, InDoubtQuery, ReconcileClaim
from service.ledger import PostgresLedger
from tests.integration import factories as f


@pytest.fixture
async def key(ledger: PostgresLedger) -> ApiKey:
    return await f.insert_api_key(ledger)


@pytest.fixture
def provider() -> str:
    return new_id("prov")


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(database_url)
    yield connection
    await connection.close()


def claim(provider: str, at=None) -> ReconcileClaim:
    now = at or f.now()
    return ReconcileClaim(
        kind="payment",
        now=now,
        pending_since=now - timedelta(seconds=60),
        providers=(provider,),
        limit=50,
        backoff=timedelta(seconds=5),
        longest_backoff=timedelta(seconds=60),
    )


async def in_doubt(ledger, key, provider, age=timedelta(minutes=5), **overrides):
    pay = f.payment(key.id, provider=provider, **overrides)
    first = f.operation(pay, created_at=f.now() - age)
    await ledger.create_payment(pay, first, None)
    stored = await ledger.get_payment(pay.id)
    assert stored is not None
    return stored


async def handed_over(ledger, payment, reason="provider shows nothing"):
    after = msgspec.structs.replace(
        mark_needs_attention(payment, f.now()), version=payment.version + 1
    )
    assert await ledger.save(payment, after)
    await ledger.flag_claim(payment.id, reason, f.now())
    stored = await ledger.get_payment(payment.id)
    assert stored is not None
    return stored


async def test_a_flagged_subject_is_claimed_no_more_and_listed_with_its_notes(
    ledger, key, provider
):
    pay = await in_doubt(ledger, key, provider)
    assert await ledger.claim_in_doubt(claim(provider)) == [(pay.id, 1)]
    await ledger.note_claim(pay.id, "HTTP 503", f.now())
    marked = await handed_over(ledger, pay, "still in doubt after 1 try")
    assert marked.status is PaymentStatus.NEEDS_ATTENTION
    assert await ledger.claim_in_doubt(claim(provider, f.now() + timedelta(hours=2))) == []
    [row] = await ledger.list_in_doubt(InDoubtQuery(f.now(), 10, provider=provider))
    assert (row.payment.id, row.attempts, row.last_error, row.reason) == (
        pay.id,
        1,
        "HTTP 503",
        "still in doubt after 1 try",
    )
    assert row.marked_at is not None


async def test_a_subject_in_doubt_anew_is_claimed_again(ledger, key, provider):
    pay = await in_doubt(ledger, key, provider)
    await ledger.claim_in_doubt(claim(provider))
    marked = await handed_over(ledger, pay)
    # An operator settles it (authorized), then a capture times out: in doubt anew.
    verdict = OperatorVerdict(succeeded=True, reason="checked", actor=key.id)
    after, resolved, inserted = resolve_by_operator(marked, verdict, f.now())
    assert await ledger.save(marked, msgspec.structs.replace(after, version=2), resolved, inserted)
    authorized = await ledger.get_payment(pay.id)
    assert authorized is not None
    assert authorized.status is PaymentStatus.AUTHORIZED
    capture = f.operation(
        authorized, type=OperationType.CAPTURE, created_at=f.now() - timedelta(minutes=2)
    )
    processing = msgspec.structs.replace(
        authorized, status=PaymentStatus.PROCESSING, version=authorized.version + 1
    )
    assert await ledger.save(authorized, processing, insert=[capture])
    assert await ledger.claim_in_doubt(claim(provider)) == [(pay.id, 1)]


async def test_the_listing_shows_old_pending_and_needs_attention_only(ledger, key, provider):
    old = await in_doubt(ledger, key, provider, timedelta(minutes=10))
    await in_doubt(ledger, key, provider, timedelta(seconds=1))  # may still be in flight
    marked = await handed_over(ledger, await in_doubt(ledger, key, provider, timedelta(0)))
    await f.authorized_payment(ledger, key.id, provider=provider)
    query = InDoubtQuery(f.now() - timedelta(minutes=1), 10, provider=provider)
    listed = [row.payment.id for row in await ledger.list_in_doubt(query)]
    assert listed == [marked.id, old.id]  # newest first
    # Pages by id, like GET /v1/payments.
    first = await ledger.list_in_doubt(msgspec.structs.replace(query, limit=1))
    rest = await ledger.list_in_doubt(
        msgspec.structs.replace(query, starting_after=first[0].payment.id)
    )
    assert [r.payment.id for r in [*first, *rest]] == listed


async def test_oldest_pending_leaves_out_what_operators_hold(ledger, key, provider):
    ancient = await in_doubt(ledger, key, provider, timedelta(days=400))
    oldest = await ledger.oldest_pending()
    assert oldest is not None
    assert f.now() - oldest >= timedelta(days=400)
    before = (await ledger.needs_attention())["payment"]
    await handed_over(ledger, ancient)
    oldest = await ledger.oldest_pending()
    assert oldest is None or f.now() - oldest < timedelta(days=400)
    assert (await ledger.needs_attention())["payment"] == before + 1


async def test_a_provider_priced_payment_may_need_attention(ledger, key, provider):
    pay = f.payment(key.id, provider=provider, amount=None, capture=CaptureMethod.AUTOMATIC)
    await ledger.create_payment(pay, f.operation(pay, amount=None), None)
    stored = await ledger.get_payment(pay.id)
    assert stored is not None
    assert (await handed_over(ledger, stored)).amount is None


async def test_an_operator_resolution_records_who_and_why_and_the_capture(
    ledger, key, provider, conn
):
    pay = await in_doubt(
        ledger, key, provider, capture=CaptureMethod.AUTOMATIC, provider_reference="ord-1"
    )
    marked = await handed_over(ledger, pay)
    verdict = OperatorVerdict(succeeded=True, reason="back office shows it charged", actor=key.id)
    after, resolved, inserted = resolve_by_operator(marked, verdict, f.now())
    after = msgspec.structs.replace(after, version=marked.version + 1)
    assert await ledger.save(marked, after, resolved, inserted)
    stored = await ledger.get_payment(pay.id)
    assert stored is not None
    assert (stored.status, stored.amount_authorized, stored.amount_captured) == (
        PaymentStatus.CAPTURED,
        1000,
        1000,
    )
    authorize, capture = stored.operations
    for op in (authorize, capture):
        assert op.status is OperationStatus.SUCCEEDED
        assert op.resolution_source is OperationSource.OPERATOR
        assert (op.resolved_by, op.resolution_reason) == (key.id, "back office shows it charged")
    assert capture.source is OperationSource.OPERATOR
    # A resolved operation never changes, not even who resolved it.
    with pytest.raises(asyncpg.RaiseError, match="resolved"):
        await conn.execute(
            "UPDATE operations SET resolution_reason = 'edited' WHERE id = $1", authorize.id
        )


async def test_an_operator_resolution_without_actor_or_reason_is_refused(
    ledger, key, provider, conn
):
    pay = await in_doubt(ledger, key, provider)
    [op] = pay.operations
    for actor, reason in ((None, "why"), (key.id, "  "), (key.id, None)):
        with pytest.raises(asyncpg.CheckViolationError, match="operator_resolution"):
            await conn.execute(
                "UPDATE operations SET status = 'failed', resolved_at = now(),"
                " resolution_source = 'operator', resolved_by = $2, resolution_reason = $3"
                " WHERE id = $1",
                op.id,
                actor,
                reason,
            )
    # And the operator columns are an outcome: a pending operation carries none.
    with pytest.raises(asyncpg.CheckViolationError, match="once_resolved"):
        await conn.execute(
            "UPDATE operations SET resolved_by = $2, resolution_reason = 'x' WHERE id = $1",
            op.id,
            key.id,
        )
