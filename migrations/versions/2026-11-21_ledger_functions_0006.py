"""The ledger's writes as functions: one round trip, one transaction each.

A money-moving request writes the ledger twice: before the provider call (the
payment or the pending operation, with the request's idempotency claim) and
after it (the outcome, with the response to replay). Each write used to be a
transaction of several statements, each a round trip; these functions make
each one a single call. The rules stay where they were: the tables' CHECKs and
triggers (append-only operations, totals = succeeded operations at commit)
still judge every row these functions write.

* `ledger_create_payment(payment, operation, claim)` / `ledger_create_payout`:
  insert the subject and its first (pending) operation, and the idempotency
  claim when given. An already claimed key: nothing is written and the result
  is false (the caller reads the claim that won).
* `ledger_save_payment(...)` / `ledger_save_payout(...)`: compare-and-set on
  `version` (false, nothing written, on a race), resolve pending operations
  (SQLSTATE LE001 aborts everything if one was resolved meanwhile), insert
  operations, write a claim (LE002 aborts if the key is taken), complete the
  idempotency record, mark a webhook event.

Rows arrive as jsonb objects whose keys are the column names (a missing key is
SQL NULL); bytes arrive as bytea parameters.

Expand-only: functions are added; no table changes.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21
"""

from alembic import op

from service.ledger.migrate import split_sql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE FUNCTION ledger_claim(claim jsonb, resource text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    -- A conflict is ours only when we took the record over (its holder died having
    -- created nothing): same request, still in flight, locked until our own lock.
    INSERT INTO idempotency_keys AS k (api_key_id, key, fingerprint, state, locked_until,
        resource_id)
    VALUES (claim->>'api_key_id', claim->>'key', claim->>'fingerprint', 'in_flight',
            (claim->>'locked_until')::timestamptz, resource)
    ON CONFLICT (api_key_id, key) DO UPDATE SET resource_id = EXCLUDED.resource_id
    WHERE k.state = 'in_flight' AND k.resource_id IS NULL
      AND k.fingerprint = EXCLUDED.fingerprint AND k.locked_until = EXCLUDED.locked_until;
    RETURN FOUND;
END $$;

CREATE FUNCTION ledger_operations(ops jsonb) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO operations (id, payment_id, payout_id, currency, type, status, source, amount,
        provider_reference, failure, reason, created_at, resolved_at)
    SELECT id, payment_id, payout_id, currency, type, status, source, amount,
        provider_reference, failure, reason, created_at, resolved_at
    FROM jsonb_to_recordset(ops) AS x(id text, payment_id text, payout_id text,
        currency char(3), type text, status text, source text, amount bigint,
        provider_reference text, failure jsonb, reason text, created_at timestamptz,
        resolved_at timestamptz)
$$;

CREATE FUNCTION ledger_resolve(ops jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT * FROM jsonb_to_recordset(ops) AS x(id text, status text,
        provider_reference text, failure jsonb, resolved_at timestamptz, amount bigint)
    LOOP
        UPDATE operations SET status = r.status, provider_reference = r.provider_reference,
            failure = r.failure, resolved_at = r.resolved_at, amount = coalesce(amount, r.amount)
        WHERE id = r.id AND status = 'pending';
        IF NOT FOUND THEN
            RAISE EXCEPTION 'operation % is no longer pending', r.id USING ERRCODE = 'LE001';
        END IF;
    END LOOP;
END $$;

CREATE FUNCTION ledger_finish(claim jsonb, resource text, complete jsonb, body bytea,
                              event jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF claim IS NOT NULL AND NOT ledger_claim(claim, resource) THEN
        RAISE EXCEPTION 'idempotency key % is claimed', claim->>'key' USING ERRCODE = 'LE002';
    END IF;
    IF complete IS NOT NULL THEN
        UPDATE idempotency_keys SET state = 'completed',
            response_status = (complete->>'status')::integer, response_body = body,
            resource_id = coalesce(complete->>'resource_id', resource_id)
        WHERE api_key_id = complete->>'api_key_id' AND key = complete->>'key';
    END IF;
    IF event IS NOT NULL THEN
        UPDATE webhook_events SET status = event->>'status',
            payment_id = coalesce(event->>'payment_id', payment_id),
            detail = event->>'detail', processed_at = (event->>'processed_at')::timestamptz
        WHERE id = event->>'id';
    END IF;
END $$;

CREATE FUNCTION ledger_create_payment(p jsonb, first jsonb, claim jsonb) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    IF claim IS NOT NULL AND NOT ledger_claim(claim, p->>'id') THEN
        RETURN false;
    END IF;
    INSERT INTO payments (id, api_key_id, status, provider, provider_reference, capture_method,
        currency, amount, amount_authorized, amount_captured, amount_refunded, payment_method,
        customer, description, merchant_reference, metadata, return_url, next_action, failure,
        version, created_at, updated_at, parent_payment_id, provider_details)
    SELECT id, api_key_id, status, provider, provider_reference, capture_method, currency,
        amount, amount_authorized, amount_captured, amount_refunded, payment_method, customer,
        description, merchant_reference, metadata, return_url, next_action, failure, version,
        created_at, updated_at, parent_payment_id, provider_details
    FROM jsonb_to_record(p) AS x(id text, api_key_id text, status text, provider text,
        provider_reference text, capture_method text, currency char(3), amount bigint,
        amount_authorized bigint, amount_captured bigint, amount_refunded bigint,
        payment_method jsonb, customer jsonb, description text, merchant_reference text,
        metadata jsonb, return_url text, next_action jsonb, failure jsonb, version integer,
        created_at timestamptz, updated_at timestamptz, parent_payment_id text,
        provider_details jsonb);
    PERFORM ledger_operations(jsonb_build_array(first));
    RETURN true;
END $$;

CREATE FUNCTION ledger_save_payment(pid text, ver integer, p jsonb, resolve jsonb, ins jsonb,
                                    claim jsonb, complete jsonb, body bytea, event jsonb)
RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE payments SET status = p->>'status', provider_reference = p->>'provider_reference',
        amount_authorized = (p->>'amount_authorized')::bigint,
        amount_captured = (p->>'amount_captured')::bigint,
        amount_refunded = (p->>'amount_refunded')::bigint,
        next_action = p->'next_action', failure = p->'failure',
        payment_method = p->'payment_method', version = version + 1,
        updated_at = (p->>'updated_at')::timestamptz,
        amount = coalesce(amount, (p->>'amount')::bigint),
        provider_details = p->'provider_details'
    WHERE id = pid AND version = ver;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM ledger_resolve(resolve);
    PERFORM ledger_operations(ins);
    PERFORM ledger_finish(claim, pid, complete, body, event);
    RETURN true;
END $$;

CREATE FUNCTION ledger_create_payout(p jsonb, first jsonb, claim jsonb) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    IF claim IS NOT NULL AND NOT ledger_claim(claim, p->>'id') THEN
        RETURN false;
    END IF;
    INSERT INTO payouts (id, api_key_id, status, provider, provider_reference, currency, amount,
        destination, source_payment_id, description, merchant_reference, metadata, failure,
        version, created_at, updated_at)
    SELECT id, api_key_id, status, provider, provider_reference, currency, amount, destination,
        source_payment_id, description, merchant_reference, metadata, failure, version,
        created_at, updated_at
    FROM jsonb_to_record(p) AS x(id text, api_key_id text, status text, provider text,
        provider_reference text, currency char(3), amount bigint, destination jsonb,
        source_payment_id text, description text, merchant_reference text, metadata jsonb,
        failure jsonb, version integer, created_at timestamptz, updated_at timestamptz);
    PERFORM ledger_operations(jsonb_build_array(first));
    RETURN true;
END $$;

CREATE FUNCTION ledger_save_payout(pid text, ver integer, p jsonb, resolve jsonb, ins jsonb,
                                   claim jsonb, complete jsonb, body bytea, event jsonb)
RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE payouts SET status = p->>'status', provider_reference = p->>'provider_reference',
        failure = p->'failure', version = version + 1,
        updated_at = (p->>'updated_at')::timestamptz
    WHERE id = pid AND version = ver;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM ledger_resolve(resolve);
    PERFORM ledger_operations(ins);
    PERFORM ledger_finish(claim, pid, complete, body, event);
    RETURN true;
END $$;
"""

DOWNGRADE = r"""
DROP FUNCTION ledger_save_payout(text, integer, jsonb, jsonb, jsonb, jsonb, jsonb, bytea, jsonb);
DROP FUNCTION ledger_create_payout(jsonb, jsonb, jsonb);
DROP FUNCTION ledger_save_payment(text, integer, jsonb, jsonb, jsonb, jsonb, jsonb, bytea, jsonb);
DROP FUNCTION ledger_create_payment(jsonb, jsonb, jsonb);
DROP FUNCTION ledger_finish(jsonb, text, jsonb, bytea, jsonb);
DROP FUNCTION ledger_resolve(jsonb);
DROP FUNCTION ledger_operations(jsonb);
DROP FUNCTION ledger_claim(jsonb, text);
"""


def upgrade() -> None:
    for statement in split_sql(UPGRADE):
        op.execute(statement)


def downgrade() -> None:
    for statement in split_sql(DOWNGRADE):
        op.execute(statement)
