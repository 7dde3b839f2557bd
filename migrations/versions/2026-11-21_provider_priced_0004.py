"""Payments the provider prices: the amount may be unknown until its reply.

A vendor-order payment (Proxy-Solutions, Send2Sell) is recorded pending before
the call like any other, but its price comes back with the reply. Its amount is
NULL until then, allowed only while processing (or once failed); a pending
operation's NULL amount may be filled once, when it is resolved.
`provider_details` keeps what the provider said about the price (discount, …).

Expand-only: NOT NULLs relaxed under CHECKs, one column added, the
append-only trigger widened by exactly that one case.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from alembic import op

from service.ledger.migrate import split_sql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UPGRADE = r"""
ALTER TABLE payments ALTER COLUMN amount DROP NOT NULL;
ALTER TABLE payments ADD CONSTRAINT payments_amount_known
    CHECK (amount IS NOT NULL OR status IN ('processing', 'failed'));
ALTER TABLE payments ADD COLUMN provider_details jsonb NOT NULL DEFAULT '{}';

ALTER TABLE operations ALTER COLUMN amount DROP NOT NULL;
ALTER TABLE operations ADD CONSTRAINT operations_amount_known
    CHECK (amount IS NOT NULL OR status <> 'succeeded');

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

DOWNGRADE = r"""
ALTER TABLE operations DROP CONSTRAINT operations_amount_known;
ALTER TABLE payments DROP COLUMN provider_details;
ALTER TABLE payments DROP CONSTRAINT payments_amount_known;
"""


def upgrade() -> None:
    for statement in split_sql(UPGRADE):
        op.execute(statement)


def downgrade() -> None:
    # Amounts stay nullable (a provider-priced row may exist); the trigger keeps working.
    for statement in split_sql(DOWNGRADE):
        op.execute(statement)
