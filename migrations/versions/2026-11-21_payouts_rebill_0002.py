"""Payouts (OCT credits) with their own rows; operations belong to a payment or a
payout; rebills point at their parent payment.

Expand-only: new table and columns, a NOT NULL relaxed, CHECKs widened.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from alembic import op

from service.ledger.migrate import split_sql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE TABLE payouts (
    id                 text PRIMARY KEY,
    api_key_id         text NOT NULL REFERENCES api_keys (id),
    status             text NOT NULL CHECK (status IN ('processing', 'succeeded', 'failed')),
    provider           text NOT NULL,
    provider_reference text,
    currency           char(3) NOT NULL,
    amount             bigint NOT NULL CHECK (amount > 0),
    destination        jsonb NOT NULL,
    source_payment_id  text REFERENCES payments (id),
    description        text,
    merchant_reference text,
    metadata           jsonb NOT NULL DEFAULT '{}',
    failure            jsonb,
    version            integer NOT NULL DEFAULT 0 CHECK (version >= 0),
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    UNIQUE (id, currency)
);
CREATE INDEX payouts_created_at ON payouts (created_at);

ALTER TABLE operations ALTER COLUMN payment_id DROP NOT NULL;
ALTER TABLE operations ADD COLUMN payout_id text;
ALTER TABLE operations ADD CONSTRAINT operations_payout_fk
    FOREIGN KEY (payout_id, currency) REFERENCES payouts (id, currency);
ALTER TABLE operations ADD CONSTRAINT operations_one_owner
    CHECK ((payment_id IS NULL) <> (payout_id IS NULL));
ALTER TABLE operations DROP CONSTRAINT operations_type_check;
ALTER TABLE operations ADD CONSTRAINT operations_type_check
    CHECK (type IN ('authorize', 'capture', 'void', 'refund', 'chargeback', 'credit'));
CREATE INDEX operations_payout ON operations (payout_id, created_at, id)
    WHERE payout_id IS NOT NULL;

-- Only the outcome of a pending operation may be recorded, whatever its owner.
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
    IF (to_jsonb(NEW) - outcome) IS DISTINCT FROM (to_jsonb(OLD) - outcome) THEN
        RAISE EXCEPTION 'operation %: only its outcome may be recorded', OLD.id;
    END IF;
    RETURN NEW;
END $$;

-- Payment totals = succeeded operations; payout operations have no payment.
CREATE OR REPLACE FUNCTION payments_match_operations() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    pid text;
    p payments%ROWTYPE;
    authorized bigint; captured bigint; refunded bigint;
BEGIN
    IF TG_TABLE_NAME = 'payments' THEN
        pid := NEW.id;
    ELSE
        pid := NEW.payment_id;
    END IF;
    IF pid IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT * INTO p FROM payments WHERE id = pid;
    SELECT coalesce(sum(amount) FILTER (WHERE type = 'authorize'), 0),
           coalesce(sum(amount) FILTER (WHERE type = 'capture'), 0),
           coalesce(sum(amount) FILTER (WHERE type = 'refund'), 0)
      INTO authorized, captured, refunded
      FROM operations WHERE payment_id = pid AND status = 'succeeded';
    IF (p.amount_authorized, p.amount_captured, p.amount_refunded)
       IS DISTINCT FROM (authorized, captured, refunded) THEN
        RAISE EXCEPTION 'payment % totals (%, %, %) differ from its operations (%, %, %)',
            pid, p.amount_authorized, p.amount_captured, p.amount_refunded,
            authorized, captured, refunded;
    END IF;
    RETURN NULL;
END $$;

ALTER TABLE payments ADD COLUMN parent_payment_id text REFERENCES payments (id);
CREATE INDEX payments_parent ON payments (parent_payment_id)
    WHERE parent_payment_id IS NOT NULL;
"""

DOWNGRADE = r"""
DROP INDEX payments_parent;
ALTER TABLE payments DROP COLUMN parent_payment_id;
DELETE FROM operations WHERE payout_id IS NOT NULL;
DROP INDEX operations_payout;
ALTER TABLE operations DROP CONSTRAINT operations_type_check;
ALTER TABLE operations ADD CONSTRAINT operations_type_check
    CHECK (type IN ('authorize', 'capture', 'void', 'refund', 'chargeback'));
ALTER TABLE operations DROP CONSTRAINT operations_one_owner;
ALTER TABLE operations DROP CONSTRAINT operations_payout_fk;
ALTER TABLE operations DROP COLUMN payout_id;
ALTER TABLE operations ALTER COLUMN payment_id SET NOT NULL;
DROP TABLE payouts;
"""


def upgrade() -> None:
    for statement in split_sql(UPGRADE):
        op.execute(statement)


def downgrade() -> None:
    # Deleting payout operations needs the append-only trigger out of the way.
    op.execute("ALTER TABLE operations DISABLE TRIGGER operations_append_only")
    for statement in split_sql(DOWNGRADE):
        op.execute(statement)
    op.execute("ALTER TABLE operations ENABLE TRIGGER operations_append_only")
