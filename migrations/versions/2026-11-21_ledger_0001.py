"""The ledger: API keys, payments, append-only operations, idempotency keys.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from alembic import op

from service.ledger.migrate import split_sql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE TABLE api_keys (
    id                    text PRIMARY KEY,
    name                  text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    prefix                text NOT NULL,
    secret_hash           text NOT NULL UNIQUE,
    scopes                text[] NOT NULL,
    rate_limit_per_second numeric(12, 3) CHECK (rate_limit_per_second > 0),
    rate_limit_burst      integer CHECK (rate_limit_burst > 0),
    created_at            timestamptz NOT NULL DEFAULT now(),
    revoked_at            timestamptz
);

CREATE TABLE payments (
    id                 text PRIMARY KEY,
    api_key_id         text NOT NULL REFERENCES api_keys (id),
    status             text NOT NULL CHECK (status IN ('processing', 'requires_action',
                           'authorized', 'captured', 'partially_refunded', 'refunded',
                           'voided', 'failed', 'charged_back')),
    provider           text NOT NULL,
    provider_reference text,
    capture_method     text NOT NULL CHECK (capture_method IN ('manual', 'automatic')),
    currency           char(3) NOT NULL,
    amount             bigint NOT NULL CHECK (amount > 0),
    amount_authorized  bigint NOT NULL DEFAULT 0
                           CHECK (amount_authorized >= 0 AND amount_authorized <= amount),
    amount_captured    bigint NOT NULL DEFAULT 0
                           CHECK (amount_captured >= 0 AND amount_captured <= amount_authorized),
    amount_refunded    bigint NOT NULL DEFAULT 0
                           CHECK (amount_refunded >= 0 AND amount_refunded <= amount_captured),
    payment_method     jsonb NOT NULL,
    customer           jsonb NOT NULL DEFAULT '{}',
    description        text,
    merchant_reference text,
    metadata           jsonb NOT NULL DEFAULT '{}',
    return_url         text,
    next_action        jsonb,
    failure            jsonb,
    version            integer NOT NULL DEFAULT 0 CHECK (version >= 0),
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    UNIQUE (id, currency)
);
CREATE INDEX payments_created_at ON payments (created_at);
CREATE INDEX payments_status ON payments (status, id);
CREATE INDEX payments_provider ON payments (provider, id);
CREATE INDEX payments_merchant_reference ON payments (merchant_reference)
    WHERE merchant_reference IS NOT NULL;

CREATE TABLE operations (
    id                 text PRIMARY KEY,
    payment_id         text NOT NULL,
    currency           char(3) NOT NULL,
    type               text NOT NULL CHECK (type IN ('authorize', 'capture', 'void', 'refund',
                           'chargeback')),
    status             text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    source             text NOT NULL CHECK (source IN ('api', 'provider', 'sync')),
    amount             bigint NOT NULL CHECK (amount >= 0),
    provider_reference text,
    failure            jsonb,
    reason             text,
    created_at         timestamptz NOT NULL,
    resolved_at        timestamptz,
    -- one currency per payment: an operation can only carry its payment's
    FOREIGN KEY (payment_id, currency) REFERENCES payments (id, currency),
    CHECK ((status = 'pending') = (resolved_at IS NULL))
);
CREATE INDEX operations_payment ON operations (payment_id, created_at, id);
CREATE INDEX operations_pending ON operations (created_at) WHERE status = 'pending';

-- Operations are append-only once resolved: a pending row may be resolved once,
-- nothing else about it may change, and nothing is ever deleted.
CREATE FUNCTION operations_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'operation % is append-only and cannot be deleted', OLD.id;
    END IF;
    IF OLD.status <> 'pending' THEN
        RAISE EXCEPTION 'operation % is resolved (%) and cannot change', OLD.id, OLD.status;
    END IF;
    IF (NEW.id, NEW.payment_id, NEW.currency, NEW.type, NEW.source, NEW.amount, NEW.created_at)
       IS DISTINCT FROM
       (OLD.id, OLD.payment_id, OLD.currency, OLD.type, OLD.source, OLD.amount, OLD.created_at)
    THEN
        RAISE EXCEPTION 'operation %: only its outcome may be recorded', OLD.id;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER operations_append_only BEFORE UPDATE OR DELETE ON operations
    FOR EACH ROW EXECUTE FUNCTION operations_append_only();
CREATE FUNCTION operations_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'operations are append-only and cannot be truncated';
END $$;
CREATE TRIGGER operations_no_truncate BEFORE TRUNCATE ON operations
    FOR EACH STATEMENT EXECUTE FUNCTION operations_no_truncate();

-- A payment's amounts are exactly the sum of its succeeded operations, checked at
-- commit, so no code path can move the totals without a ledger entry.
CREATE FUNCTION payments_match_operations() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE CONSTRAINT TRIGGER payments_match_operations AFTER INSERT OR UPDATE ON payments
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION payments_match_operations();
CREATE CONSTRAINT TRIGGER operations_match_payment AFTER INSERT OR UPDATE ON operations
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION payments_match_operations();

CREATE TABLE idempotency_keys (
    api_key_id      text NOT NULL REFERENCES api_keys (id),
    key             text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    fingerprint     text NOT NULL,
    state           text NOT NULL CHECK (state IN ('in_flight', 'completed')),
    locked_until    timestamptz NOT NULL,
    resource_id     text,
    response_status integer,
    response_body   bytea,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (api_key_id, key),
    CHECK (state = 'in_flight' OR (response_status IS NOT NULL AND response_body IS NOT NULL))
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
"""

DOWNGRADE = """
DROP TABLE idempotency_keys;
DROP TABLE operations;
DROP TABLE payments;
DROP TABLE api_keys;
DROP FUNCTION payments_match_operations();
DROP FUNCTION operations_append_only();
DROP FUNCTION operations_no_truncate();
"""


def upgrade() -> None:
    for statement in split_sql(UPGRADE):
        op.execute(statement)


def downgrade() -> None:
    for statement in split_sql(DOWNGRADE):
        op.execute(statement)
