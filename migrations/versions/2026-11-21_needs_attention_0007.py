"""Payments and payouts handed to operators, and operations resolved by hand.

* `needs_attention`: a payment or payout in doubt the reconciler stopped guessing
  about (too many tries, or a provider it cannot ask). Allowed by the status
  CHECKs; a provider-priced payment may be in it before its price is known.
* An operator's verdict resolves a pending operation like any outcome, and says
  who and why: `resolution_source` ('operator'), `resolved_by` (the operator's
  API key) and `resolution_reason`. They are outcome columns: written once, when
  the operation is resolved, by the append-only trigger's rules (a pending row
  may be resolved, a resolved row never changes). An operator resolution without
  its key and reason is refused by a CHECK; an operation an operator records
  (the capture an automatic payment's authorization made) has source 'operator'.
* `reconcile_claims` keeps why and when a subject was handed over (`reason`,
  `attention_at`); the reconciler claims a flagged subject no more.

Expand-only: CHECKs widened, nullable columns added, functions replaced with
the same signatures, two partial indexes.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21
"""

from alembic import op

from service.ledger.migrate import split_sql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_PAYMENT_STATUSES = """'processing', 'requires_action', 'authorized', 'captured',
    'partially_refunded', 'refunded', 'voided', 'failed', 'charged_back'"""

UPGRADE = rf"""
ALTER TABLE payments DROP CONSTRAINT payments_status_check;
ALTER TABLE payments ADD CONSTRAINT payments_status_check
    CHECK (status IN ({_PAYMENT_STATUSES}, 'needs_attention'));
ALTER TABLE payments DROP CONSTRAINT payments_amount_known;
ALTER TABLE payments ADD CONSTRAINT payments_amount_known
    CHECK (amount IS NOT NULL OR status IN ('processing', 'failed', 'needs_attention'));
CREATE INDEX payments_needs_attention ON payments (id) WHERE status = 'needs_attention';

ALTER TABLE payouts DROP CONSTRAINT payouts_status_check;
ALTER TABLE payouts ADD CONSTRAINT payouts_status_check
    CHECK (status IN ('processing', 'succeeded', 'failed', 'needs_attention'));
CREATE INDEX payouts_needs_attention ON payouts (id) WHERE status = 'needs_attention';

ALTER TABLE operations DROP CONSTRAINT operations_source_check;
ALTER TABLE operations ADD CONSTRAINT operations_source_check
    CHECK (source IN ('api', 'provider', 'sync', 'operator'));
ALTER TABLE operations ADD COLUMN resolution_source text
    CHECK (resolution_source IN ('api', 'provider', 'sync', 'operator'));
ALTER TABLE operations ADD COLUMN resolved_by text REFERENCES api_keys (id);
ALTER TABLE operations ADD COLUMN resolution_reason text
    CHECK (length(resolution_reason) <= 1000);
-- Nobody resolves a pending operation by hand without saying who and why.
ALTER TABLE operations ADD CONSTRAINT operations_operator_resolution
    CHECK (resolution_source IS DISTINCT FROM 'operator'
           OR (status <> 'pending' AND resolved_by IS NOT NULL
               AND coalesce(length(btrim(resolution_reason)), 0) > 0));
ALTER TABLE operations ADD CONSTRAINT operations_resolution_once_resolved
    CHECK (status <> 'pending'
           OR (resolution_source IS NULL AND resolved_by IS NULL AND resolution_reason IS NULL));

-- The outcome of a pending operation now includes who resolved it and why.
CREATE OR REPLACE FUNCTION operations_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    outcome text[] := ARRAY['status', 'provider_reference', 'failure', 'resolved_at',
                            'resolution_source', 'resolved_by', 'resolution_reason'];
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'operation % is append-only and cannot be deleted', OLD.id;
    END IF;
    IF OLD.status <> 'pending' THEN
        RAISE EXCEPTION 'operation % is resolved (%) and cannot change', OLD.id, OLD.status;
    END IF;
    IF OLD.amount IS NULL THEN
        outcome := outcome || ARRAY['amount'];  -- a provider-priced amount, set once
    END IF;
    IF (to_jsonb(NEW) - outcome) IS DISTINCT FROM (to_jsonb(OLD) - outcome) THEN
        RAISE EXCEPTION 'operation %: only its outcome may be recorded', OLD.id;
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION ledger_operations(ops jsonb) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO operations (id, payment_id, payout_id, currency, type, status, source, amount,
        provider_reference, failure, reason, created_at, resolved_at, resolution_source,
        resolved_by, resolution_reason)
    SELECT id, payment_id, payout_id, currency, type, status, source, amount,
        provider_reference, failure, reason, created_at, resolved_at, resolution_source,
        resolved_by, resolution_reason
    FROM jsonb_to_recordset(ops) AS x(id text, payment_id text, payout_id text,
        currency char(3), type text, status text, source text, amount bigint,
        provider_reference text, failure jsonb, reason text, created_at timestamptz,
        resolved_at timestamptz, resolution_source text, resolved_by text,
        resolution_reason text)
$$;

CREATE OR REPLACE FUNCTION ledger_resolve(ops jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT * FROM jsonb_to_recordset(ops) AS x(id text, status text,
        provider_reference text, failure jsonb, resolved_at timestamptz, amount bigint,
        resolution_source text, resolved_by text, resolution_reason text)
    LOOP
        UPDATE operations SET status = r.status, provider_reference = r.provider_reference,
            failure = r.failure, resolved_at = r.resolved_at, amount = coalesce(amount, r.amount),
            resolution_source = r.resolution_source, resolved_by = r.resolved_by,
            resolution_reason = r.resolution_reason
        WHERE id = r.id AND status = 'pending';
        IF NOT FOUND THEN
            RAISE EXCEPTION 'operation % is no longer pending', r.id USING ERRCODE = 'LE001';
        END IF;
    END LOOP;
END $$;

ALTER TABLE reconcile_claims ADD COLUMN reason text;
ALTER TABLE reconcile_claims ADD COLUMN attention_at timestamptz;
"""

# Back to 0006: subjects handed to operators are in doubt again (processing). An
# operator's resolution is ledger history that 0006 cannot hold: the downgrade
# refuses to run while one exists rather than drop it.
DOWNGRADE = rf"""
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM operations WHERE resolution_source IS NOT NULL
               OR source = 'operator') THEN
        RAISE EXCEPTION 'operations resolved by operators exist: 0007 cannot be undone';
    END IF;
END $$;
ALTER TABLE reconcile_claims DROP COLUMN attention_at;
ALTER TABLE reconcile_claims DROP COLUMN reason;

CREATE OR REPLACE FUNCTION ledger_resolve(ops jsonb) RETURNS void
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

CREATE OR REPLACE FUNCTION ledger_operations(ops jsonb) RETURNS void
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

ALTER TABLE operations DROP CONSTRAINT operations_resolution_once_resolved;
ALTER TABLE operations DROP CONSTRAINT operations_operator_resolution;
ALTER TABLE operations DROP COLUMN resolution_reason;
ALTER TABLE operations DROP COLUMN resolved_by;
ALTER TABLE operations DROP COLUMN resolution_source;
ALTER TABLE operations DROP CONSTRAINT operations_source_check;
ALTER TABLE operations ADD CONSTRAINT operations_source_check
    CHECK (source IN ('api', 'provider', 'sync'));

DROP INDEX payouts_needs_attention;
UPDATE payouts SET status = 'processing' WHERE status = 'needs_attention';
ALTER TABLE payouts DROP CONSTRAINT payouts_status_check;
ALTER TABLE payouts ADD CONSTRAINT payouts_status_check
    CHECK (status IN ('processing', 'succeeded', 'failed'));

DROP INDEX payments_needs_attention;
UPDATE payments SET status = 'processing' WHERE status = 'needs_attention';
ALTER TABLE payments DROP CONSTRAINT payments_amount_known;
ALTER TABLE payments ADD CONSTRAINT payments_amount_known
    CHECK (amount IS NOT NULL OR status IN ('processing', 'failed'));
ALTER TABLE payments DROP CONSTRAINT payments_status_check;
ALTER TABLE payments ADD CONSTRAINT payments_status_check
    CHECK (status IN ({_PAYMENT_STATUSES}));
"""

_OLD_TRIGGER = r"""
CREATE OR REPLACE FUNCTION operations_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    outcome text[] := ARRAY['status', 'provider_reference', 'failure', 'resolved_at'];
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'operation % is append-only and cannot be deleted', OLD.id;
    END IF;
    IF OLD.status <> 'pending' THEN
        RAISE EXCEPTION 'operation % is resolved (%) and cannot change', OLD.id, OLD.status;
    END IF;
    IF OLD.amount IS NULL THEN
        outcome := outcome || ARRAY['amount'];  -- a provider-priced amount, set once
    END IF;
    IF (to_jsonb(NEW) - outcome) IS DISTINCT FROM (to_jsonb(OLD) - outcome) THEN
        RAISE EXCEPTION 'operation %: only its outcome may be recorded', OLD.id;
    END IF;
    RETURN NEW;
END $$;
"""


def upgrade() -> None:
    for statement in split_sql(UPGRADE):
        op.execute(statement)


def downgrade() -> None:
    # The trigger first: with the columns gone the new one would still name them.
    for statement in split_sql(_OLD_TRIGGER + DOWNGRADE):
        op.execute(statement)
