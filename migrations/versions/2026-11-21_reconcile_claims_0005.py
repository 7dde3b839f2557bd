"""The reconciler's bookkeeping: which subject it holds, until when, how often tried.

A payment or payout with an operation still pending is "in doubt". Reconcilers
(any number of replicas) claim subjects with `FOR UPDATE SKIP LOCKED` on the
payment or payout row and record here when the subject may be looked at again
(`next_at`, backing off), so two replicas never sync the same subject at once
and a subject that keeps failing is not hammered. Nothing here is money: the
rows are bookkeeping, deleted once the subject settles.

Expand-only: one new table (pending operations are indexed since 0001).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

from alembic import op

from service.ledger.migrate import split_sql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE TABLE reconcile_claims (
    subject_id  text PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('payment', 'payout')),
    provider    text NOT NULL,
    attempts    integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_at     timestamptz NOT NULL,
    last_error  text,
    updated_at  timestamptz NOT NULL
);
"""

DOWNGRADE = r"""
DROP TABLE reconcile_claims;
"""


def upgrade() -> None:
    for statement in split_sql(UPGRADE):
        op.execute(statement)


def downgrade() -> None:
    for statement in split_sql(DOWNGRADE):
        op.execute(statement)
