"""The PostgreSQL ledger against a real, migrated database: queries, CAS, SQL invariants."""

from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import msgspec
import pytest

from service.domain.errors import IdempotencyKeyClaimed
from service.domain.payments import (
    CaptureMethod,
    Failure,
    NextAction,
    OperationStatus,
    OperationType,
    PaymentStatus,
)
from service.domain.ports import ApiKey, IdempotencyCompletion, IdempotencyState, PaymentFilter
from service.ledger import PostgresLedger
from tests.integration import factories as f


@pytest.fixture
async def key(ledger: PostgresLedger) -> ApiKey:
    return await f.insert_api_key(ledger)


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(database_url)
    yield connection
    await connection.close()


# -- payments: round trip, listing ---------------------------------------------------------


async def test_create_and_get_round_trip_every_field(ledger: PostgresLedger, key: ApiKey) -> None:
    pay = f.payment(
        key.id,
        status=PaymentStatus.REQUIRES_ACTION,
        amount=12345,
        currency="USD",
        capture=CaptureMethod.AUTOMATIC,
        provider="bizon",
        provider_reference="prov-1",
        customer={"email": "a@example.com", "tags": [1, 2], "nested": {"x": True}},
        description="two tickets",
        merchant_reference=f.unique("order"),
        metadata={"cart": "42"},
        return_url="https://shop.example/return",
        next_action=NextAction("form", "https://acs.example/3ds", "POST", {"PaReq": "abc"}),
        failure=Failure("card_declined", "declined", "05", "Do not honor"),
        version=3,
    )
    first = f.operation(pay, provider_reference="op-ref", reason="first try")
    await ledger.create_payment(pay, first, None)

    stored = await ledger.get_payment(pay.id)
    assert stored == msgspec.structs.replace(pay, operations=(first,))
    assert await ledger.get_payment(f.unique("pay")) is None


async def test_payment_read_back_carries_domain_enums(ledger: PostgresLedger, key: ApiKey) -> None:
    # `==` hides it (StrEnum equals str); `is` comparisons in the domain do not.
    ref = f.unique("order")
    stored, _ = await f.created_payment(
        ledger, key.id, capture=CaptureMethod.AUTOMATIC, merchant_reference=ref
    )
    assert type(stored.status) is PaymentStatus
    assert type(stored.capture) is CaptureMethod
    assert stored.status is PaymentStatus.PROCESSING
    (listed,) = await ledger.list_payments(PaymentFilter(merchant_reference=ref), 5, None)
    assert type(listed.status) is PaymentStatus


async def test_payment_read_back_can_be_saved_as_is(ledger: PostgresLedger, key: ApiKey) -> None:
    stored, _ = await f.created_payment(ledger, key.id)
    assert await ledger.save(stored, stored) is True
    after = await ledger.get_payment(stored.id)
    assert after is not None
    assert after.version == stored.version + 1


async def test_operations_come_back_in_creation_order(ledger: PostgresLedger, key: ApiKey) -> None:
    before, first = await f.created_payment(ledger, key.id)
    failed = f.operation(
        before,
        type=OperationType.CAPTURE,
        status=OperationStatus.FAILED,
        failure=Failure("provider_error", "nope"),
        resolved_at=f.now(),
        created_at=first.created_at + timedelta(seconds=1),
    )
    void = f.operation(
        before, type=OperationType.VOID, created_at=first.created_at + timedelta(seconds=2)
    )
    same = msgspec.structs.replace(before, status=PaymentStatus.PROCESSING)
    assert await ledger.save(before, same, insert=[void, failed])

    stored = await ledger.get_payment(before.id)
    assert stored is not None
    assert stored.operations == (first, failed, void)
    assert stored.version == before.version + 1


async def test_list_payments_filters(ledger: PostgresLedger, key: ApiKey) -> None:
    provider = f.unique("prov")
    base = f.now() - timedelta(days=30)
    made = []
    for i, status in enumerate(
        [PaymentStatus.PROCESSING, PaymentStatus.FAILED, PaymentStatus.PROCESSING]
    ):
        pay, _ = await f.created_payment(
            ledger,
            key.id,
            provider=provider,
            status=status,
            merchant_reference=f"{provider}-{i}",
            created_at=base + timedelta(minutes=i),
        )
        made.append(pay)

    async def ids(**where: object) -> list[str]:
        found = await ledger.list_payments(PaymentFilter(**where), 50, None)  # type: ignore[arg-type]
        return [p.id for p in found]

    assert await ids(provider=provider) == [p.id for p in reversed(made)]
    assert await ids(provider=provider, status=PaymentStatus.FAILED) == [made[1].id]
    assert await ids(provider=provider, status=PaymentStatus.PROCESSING) == [
        made[2].id,
        made[0].id,
    ]
    assert await ids(merchant_reference=f"{provider}-2") == [made[2].id]
    assert await ids(merchant_reference=f.unique("nothing")) == []
    window = {"created_gte": base + timedelta(minutes=1), "created_lt": base + timedelta(minutes=2)}
    assert await ids(provider=provider, **window) == [made[1].id]
    assert await ids(provider=provider, created_gte=base + timedelta(minutes=1)) == [
        made[2].id,
        made[1].id,
    ]
    assert await ids(provider=provider, created_lt=base + timedelta(minutes=1)) == [made[0].id]


async def test_list_payments_cursor_pagination(ledger: PostgresLedger, key: ApiKey) -> None:
    provider = f.unique("page")
    made = [(await f.created_payment(ledger, key.id, provider=provider))[0].id for _ in range(7)]
    where = PaymentFilter(provider=provider)

    seen: list[str] = []
    cursor: str | None = None
    sizes = []
    while True:
        page = await ledger.list_payments(where, 3, cursor)
        if not page:
            break
        sizes.append(len(page))
        seen.extend(p.id for p in page)
        cursor = page[-1].id
    assert sizes == [3, 3, 1]
    assert seen == list(reversed(made))  # newest first, no duplicates, no gaps


# -- save(): compare-and-set, resolve once ---------------------------------------------------


async def test_save_is_compare_and_set(ledger: PostgresLedger, key: ApiKey) -> None:
    before, first = await f.created_payment(ledger, key.id)
    after = msgspec.structs.replace(
        before, status=PaymentStatus.AUTHORIZED, amount_authorized=before.amount
    )
    assert await ledger.save(before, after, resolve=[f.resolved(first)])

    stale = msgspec.structs.replace(
        before, status=PaymentStatus.FAILED, failure=Failure("x", "y"), description="changed"
    )
    extra = f.operation(before, type=OperationType.VOID)
    assert await ledger.save(before, stale, insert=[extra]) is False

    stored = await ledger.get_payment(before.id)
    assert stored is not None
    assert stored.status == PaymentStatus.AUTHORIZED
    assert stored.failure is None
    assert stored.version == before.version + 1
    assert [op.id for op in stored.operations] == [first.id]


async def test_resolving_an_operation_twice_fails_and_rolls_back(
    ledger: PostgresLedger, key: ApiKey
) -> None:
    stored = await f.authorized_payment(ledger, key.id)
    (first,) = stored.operations
    again = msgspec.structs.replace(first, status=OperationStatus.FAILED, resolved_at=f.now())
    changed = msgspec.structs.replace(stored, status=PaymentStatus.FAILED, amount_authorized=0)
    assert await ledger.save(stored, changed, resolve=[again]) is False

    after = await ledger.get_payment(stored.id)
    assert after == stored  # the payment update was rolled back with it


async def test_resolved_operation_is_append_only(
    ledger: PostgresLedger, key: ApiKey, conn: asyncpg.Connection
) -> None:
    stored = await f.authorized_payment(ledger, key.id)
    op_id = stored.operations[0].id
    with pytest.raises(asyncpg.RaiseError, match="cannot change"):
        await conn.execute("UPDATE operations SET reason = 'x' WHERE id = $1", op_id)
    with pytest.raises(asyncpg.RaiseError, match="cannot change"):
        await conn.execute("UPDATE operations SET status = 'failed' WHERE id = $1", op_id)
    with pytest.raises(asyncpg.RaiseError, match="cannot be deleted"):
        await conn.execute("DELETE FROM operations WHERE id = $1", op_id)
    assert await ledger.get_payment(stored.id) == stored


async def test_pending_operation_may_only_record_its_outcome(
    ledger: PostgresLedger, key: ApiKey, conn: asyncpg.Connection
) -> None:
    pay, first = await f.created_payment(ledger, key.id)
    with pytest.raises(asyncpg.RaiseError, match="only its outcome"):
        await conn.execute("UPDATE operations SET amount = 1 WHERE id = $1", first.id)
    with pytest.raises(asyncpg.RaiseError, match="cannot be deleted"):
        await conn.execute("DELETE FROM operations WHERE id = $1", first.id)
    assert await ledger.get_payment(pay.id) == pay


# -- totals equal the succeeded operations (deferred constraint trigger) ---------------------


async def test_totals_differing_from_operations_are_refused_by_sql(
    ledger: PostgresLedger, key: ApiKey, conn: asyncpg.Connection
) -> None:
    pay, first = await f.created_payment(ledger, key.id)
    with pytest.raises(asyncpg.RaiseError, match="differ from its operations"):
        await conn.execute("UPDATE payments SET amount_authorized = 500 WHERE id = $1", pay.id)
    with pytest.raises(asyncpg.RaiseError, match="differ from its operations"):
        await conn.execute(
            "UPDATE operations SET status = 'succeeded', resolved_at = now() WHERE id = $1",
            first.id,
        )
    # Both in one transaction: consistent, accepted at commit.
    async with conn.transaction():
        await conn.execute(
            "UPDATE operations SET status = 'succeeded', resolved_at = now() WHERE id = $1",
            first.id,
        )
        await conn.execute("UPDATE payments SET amount_authorized = $2 WHERE id = $1", pay.id, 1000)
    stored = await ledger.get_payment(pay.id)
    assert stored is not None
    assert stored.amount_authorized == 1000


async def test_totals_differing_from_operations_are_refused_through_save(
    ledger: PostgresLedger, key: ApiKey
) -> None:
    before, first = await f.created_payment(ledger, key.id)
    no_entry = msgspec.structs.replace(
        before, status=PaymentStatus.AUTHORIZED, amount_authorized=before.amount
    )
    with pytest.raises(asyncpg.RaiseError, match="differ from its operations"):
        await ledger.save(before, no_entry)
    unchanged = msgspec.structs.replace(before, status=PaymentStatus.PROCESSING)
    with pytest.raises(asyncpg.RaiseError, match="differ from its operations"):
        await ledger.save(before, unchanged, resolve=[f.resolved(first)])
    assert await ledger.get_payment(before.id) == before

    stored = await f.authorized_payment(ledger, key.id)
    capture = f.resolved(f.operation(stored, type=OperationType.CAPTURE, amount=400))
    same = msgspec.structs.replace(stored, status=PaymentStatus.AUTHORIZED)
    with pytest.raises(asyncpg.RaiseError, match="differ from its operations"):
        await ledger.save(stored, same, insert=[capture])  # captured left at 0
    assert await ledger.get_payment(stored.id) == stored


# -- CHECK constraints and one currency per payment --------------------------------------------


@pytest.mark.parametrize(
    "amounts",
    [
        {"amount_authorized": 500, "amount_captured": 600},  # captured > authorized
        {"amount_authorized": 500, "amount_captured": 500, "amount_refunded": 501},
        {"amount_authorized": 1001},  # authorized > amount
        {"amount": -1},
        {"amount": 0},
        {"amount_authorized": -1},
        {"amount_authorized": 10, "amount_captured": -1},
    ],
)
async def test_check_constraints_refuse_bad_amounts(
    ledger: PostgresLedger, key: ApiKey, amounts: dict[str, int]
) -> None:
    pay = f.payment(key.id, **amounts)
    with pytest.raises(asyncpg.CheckViolationError):
        await ledger.create_payment(pay, f.operation(pay, amount=0), None)
    assert await ledger.get_payment(pay.id) is None


async def test_check_constraints_refuse_bad_updates(
    ledger: PostgresLedger, key: ApiKey, conn: asyncpg.Connection
) -> None:
    stored = await f.authorized_payment(ledger, key.id)
    with pytest.raises(asyncpg.CheckViolationError):
        await conn.execute("UPDATE payments SET amount_captured = 2000 WHERE id = $1", stored.id)
    with pytest.raises(asyncpg.CheckViolationError):
        await conn.execute("UPDATE payments SET amount_refunded = 1 WHERE id = $1", stored.id)
    negative = f.operation(stored, type=OperationType.REFUND, amount=-5)
    same = msgspec.structs.replace(stored, status=PaymentStatus.AUTHORIZED)
    with pytest.raises(asyncpg.CheckViolationError):
        await ledger.save(stored, same, insert=[negative])
    assert await ledger.get_payment(stored.id) == stored


async def test_operation_in_another_currency_is_refused(
    ledger: PostgresLedger, key: ApiKey
) -> None:
    pay = f.payment(key.id, currency="EUR")
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await ledger.create_payment(pay, f.operation(pay, currency="USD"), None)
    assert await ledger.get_payment(pay.id) is None

    stored, _ = await f.created_payment(ledger, key.id, currency="EUR")
    void = f.operation(stored, type=OperationType.VOID, currency="GBP")
    same = msgspec.structs.replace(stored, status=PaymentStatus.PROCESSING)
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await ledger.save(stored, same, insert=[void])
    assert await ledger.get_payment(stored.id) == stored


# -- idempotency rows --------------------------------------------------------------------------


def _done(record, status: int, body: bytes, resource: str | None) -> IdempotencyCompletion:  # type: ignore[no-untyped-def]
    return IdempotencyCompletion(
        record.api_key_id, record.key, record.fingerprint, status, body, resource
    )


async def test_a_claim_rides_on_the_first_write_and_a_second_is_refused(
    ledger: PostgresLedger, key: ApiKey
) -> None:
    record = f.idempotency_record(key.id)
    pay = f.payment(key.id)
    await ledger.create_payment(pay, f.operation(pay), record)
    found = await ledger.get_idempotency(key.id, record.key)
    assert found is not None
    assert (found.state, found.resource_id, found.fingerprint) == (
        IdempotencyState.IN_FLIGHT,
        pay.id,
        record.fingerprint,
    )
    other = f.payment(key.id)
    with pytest.raises(IdempotencyKeyClaimed) as caught:
        await ledger.create_payment(
            other, f.operation(other), msgspec.structs.replace(record, fingerprint="other")
        )
    assert caught.value.existing == found
    assert await ledger.get_payment(other.id) is None

    await ledger.complete_idempotency(_done(record, 201, b'{"id": "x"}', pay.id))
    done = await ledger.get_idempotency(key.id, record.key)
    assert done is not None
    assert done.state is IdempotencyState.COMPLETED
    assert (done.response_status, done.response_body) == (201, b'{"id": "x"}')
    assert (done.resource_id, done.fingerprint) == (pay.id, record.fingerprint)


async def test_completing_a_key_no_write_claimed_inserts_it(
    ledger: PostgresLedger, key: ApiKey
) -> None:
    record = f.idempotency_record(key.id)
    await ledger.complete_idempotency(_done(record, 200, b"{}", None))
    done = await ledger.get_idempotency(key.id, record.key)
    assert done is not None
    assert (done.state, done.fingerprint, done.response_body) == (
        IdempotencyState.COMPLETED,
        record.fingerprint,
        b"{}",
    )


async def test_a_save_carries_the_claim_and_the_response(
    ledger: PostgresLedger, key: ApiKey
) -> None:
    stored = await f.authorized_payment(ledger, key.id)
    record = f.idempotency_record(key.id)
    capture = f.operation(stored, type=OperationType.CAPTURE)
    started = msgspec.structs.replace(
        stored, status=PaymentStatus.PROCESSING, version=stored.version + 1
    )
    assert await ledger.save(stored, started, insert=[capture], claim=record)
    claimed = await ledger.get_idempotency(key.id, record.key)
    assert claimed is not None
    assert (claimed.state, claimed.resource_id) == (IdempotencyState.IN_FLIGHT, stored.id)

    before = await ledger.get_payment(stored.id)
    assert before is not None
    done = f.resolved(capture)
    after = msgspec.structs.replace(
        before,
        status=PaymentStatus.CAPTURED,
        amount_captured=before.amount,
        version=before.version + 1,
    )
    assert await ledger.save(
        before, after, resolve=[done], complete=_done(record, 200, b"captured", stored.id)
    )
    completed = await ledger.get_idempotency(key.id, record.key)
    assert completed is not None
    assert (completed.state, completed.response_body) == (
        IdempotencyState.COMPLETED,
        b"captured",
    )


async def test_a_save_with_a_held_key_writes_nothing(ledger: PostgresLedger, key: ApiKey) -> None:
    stored = await f.authorized_payment(ledger, key.id)
    record = f.idempotency_record(key.id)
    await f.insert_claim(ledger, record)
    capture = f.operation(stored, type=OperationType.CAPTURE)
    started = msgspec.structs.replace(
        stored, status=PaymentStatus.PROCESSING, version=stored.version + 1
    )
    mine = msgspec.structs.replace(record, locked_until=record.locked_until + timedelta(seconds=1))
    with pytest.raises(IdempotencyKeyClaimed):
        await ledger.save(stored, started, insert=[capture], claim=mine)
    assert await ledger.get_payment(stored.id) == stored  # the capture was not recorded


async def test_release_deletes_only_in_flight_rows(ledger: PostgresLedger, key: ApiKey) -> None:
    flying = f.idempotency_record(key.id)
    await f.insert_claim(ledger, flying)
    await ledger.release_idempotency(key.id, flying.key)
    assert await ledger.get_idempotency(key.id, flying.key) is None

    done = f.idempotency_record(key.id)
    await f.insert_claim(ledger, done)
    await ledger.complete_idempotency(_done(done, 200, b"{}", None))
    await ledger.release_idempotency(key.id, done.key)
    kept = await ledger.get_idempotency(key.id, done.key)
    assert kept is not None
    assert kept.state is IdempotencyState.COMPLETED


async def test_take_over_needs_an_expired_lock_and_no_resource(
    ledger: PostgresLedger, key: ApiKey
) -> None:
    live = f.idempotency_record(key.id, locked_for=timedelta(seconds=30))
    await f.insert_claim(ledger, live)
    assert await ledger.take_over_idempotency(live, f.now()) is False

    expired = f.idempotency_record(key.id, locked_for=timedelta(seconds=-5))
    await f.insert_claim(ledger, expired)
    other = msgspec.structs.replace(expired, fingerprint="someone-else")
    assert await ledger.take_over_idempotency(other, f.now()) is False
    relocked = msgspec.structs.replace(expired, locked_until=f.now() + timedelta(seconds=30))
    assert await ledger.take_over_idempotency(relocked, f.now()) is True
    found = await ledger.get_idempotency(key.id, expired.key)
    assert found is not None
    assert found.locked_until == relocked.locked_until
    assert await ledger.take_over_idempotency(relocked, f.now()) is False  # locked again
    # The taker's first write links the record it took over (and no one else's can).
    pay = f.payment(key.id)
    await ledger.create_payment(pay, f.operation(pay), relocked)
    linked = await ledger.get_idempotency(key.id, expired.key)
    assert linked is not None
    assert linked.resource_id == pay.id
    late = f.payment(key.id)
    with pytest.raises(IdempotencyKeyClaimed):
        await ledger.create_payment(late, f.operation(late), relocked)

    completed = f.idempotency_record(key.id, locked_for=timedelta(seconds=-5))
    await f.insert_claim(ledger, completed)
    await ledger.complete_idempotency(_done(completed, 200, b"{}", None))
    assert await ledger.take_over_idempotency(completed, f.now()) is False

    holder = f.idempotency_record(key.id, locked_for=timedelta(seconds=-5))
    made = f.payment(key.id)
    await ledger.create_payment(made, f.operation(made), holder)
    assert await ledger.take_over_idempotency(holder, f.now()) is False


# -- API keys ------------------------------------------------------------------------------------


async def test_api_key_round_trip(ledger: PostgresLedger) -> None:
    limited = f.api_key(
        scopes=("payments:read", "payments:write", "ops"),
        rate_limit_per_second=12.5,
        rate_limit_burst=40,
    )
    plain = f.api_key(scopes=("payments:read",))
    for key in (limited, plain):
        secret_hash = f.secret_hash()
        await ledger.create_api_key(key, secret_hash)
        assert await ledger.find_api_key(secret_hash) == key
    assert await ledger.find_api_key(f.secret_hash()) is None


async def test_operations_cannot_be_truncated(database_url):
    import asyncpg

    conn = await asyncpg.connect(database_url)
    tx = conn.transaction()
    await tx.start()
    try:  # always rolled back: a missing trigger must not wipe the shared test database
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await conn.execute("TRUNCATE operations CASCADE")
    finally:
        await tx.rollback()
        await conn.close()
