"""Provider notifications, stored raw before anything is done with them.

Expand-only: a new table and an index for matching notifications to payments.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from alembic import op

from service.ledger.migrate import split_sql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE TABLE webhook_events (
    id           text PRIMARY KEY,
    provider     text NOT NULL,
    event_id     text NOT NULL,
    event_type   text NOT NULL,
    status       text NOT NULL CHECK (status IN ('received', 'applied', 'ignored', 'unmatched',
                     'mismatch', 'unreadable')),
    payload      bytea NOT NULL,
    delivery_try integer,
    payment_id   text REFERENCES payments (id),
    detail       text,
    received_at  timestamptz NOT NULL,
    processed_at timestamptz,
    -- a redelivery of the same event is recognised, never applied twice
    UNIQUE (provider, event_id),
    CHECK ((status = 'received') = (processed_at IS NULL))
);
CREATE INDEX webhook_events_status ON webhook_events (status, received_at);
CREATE INDEX payments_provider_reference ON payments (provider, provider_reference)
    WHERE provider_reference IS NOT NULL;
"""

DOWNGRADE = r"""
DROP INDEX payments_provider_reference;
DROP TABLE webhook_events;
"""


def upgrade() -> None:
    for statement in split_sql(UPGRADE):
        op.execute(statement)


def downgrade() -> None:
    for statement in split_sql(DOWNGRADE):
        op.execute(statement)
