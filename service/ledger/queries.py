"""All the ledger's SQL, as named constants (composed from constants only, never input)."""

import functools

_PAYMENT_COLUMNS = """
    p.id, p.api_key_id, p.status, p.provider, p.provider_reference, p.capture_method,
    p.currency, p.amount, p.amount_authorized, p.amount_captured, p.amount_refunded,
    p.payment_method::text, p.customer::text, p.description, p.merchant_reference,
    p.metadata::text, p.return_url, p.next_action::text, p.failure::text, p.version,
    p.created_at, p.updated_at, p.parent_payment_id, p.provider_details::text,
    coalesce((SELECT json_agg(json_build_object(
        'id', o.id, 'payment_id', o.payment_id, 'payout_id', o.payout_id,
        'type', o.type, 'status', o.status,
        'amount', o.amount, 'currency', o.currency, 'source', o.source,
        'provider_reference', o.provider_reference, 'failure', o.failure,
        'reason', o.reason, 'created_at', o.created_at, 'resolved_at', o.resolved_at,
        'resolution_source', o.resolution_source, 'resolved_by', o.resolved_by,
        'resolution_reason', o.resolution_reason)
        ORDER BY o.created_at, o.id)
      FROM operations o WHERE o.payment_id = p.id), '[]')::text AS operations
"""

GET_PAYMENT = f"SELECT {_PAYMENT_COLUMNS} FROM payments p WHERE p.id = $1"

# Listing: only the filters given are in the statement, so PostgreSQL walks the primary
# key backwards and stops at the page (a generic "$n IS NULL OR ..." plan scanned and
# sorted the whole table). One statement text per combination of filters.
_LIST_FILTERS = {
    "status": "p.status = ${}",
    "provider": "p.provider = ${}",
    "merchant_reference": "p.merchant_reference = ${}",
    "created_gte": "p.created_at >= ${}",
    "created_lt": "p.created_at < ${}",
    "starting_after": "p.id < ${}",
}


@functools.cache
def list_payments(filters: tuple[str, ...]) -> str:
    """The listing statement for these filter names; its last parameter is the limit."""
    where = [_LIST_FILTERS[name].format(n) for n, name in enumerate(filters, start=1)]
    condition = " AND ".join(where) or "true"
    return (
        f"SELECT {_PAYMENT_COLUMNS} FROM payments p WHERE {condition}"
        f" ORDER BY p.id DESC LIMIT ${len(filters) + 1}"
    )


GET_IDEMPOTENCY = """
SELECT fingerprint, state, locked_until, resource_id, response_status, response_body
FROM idempotency_keys WHERE api_key_id = $1 AND key = $2
"""

TAKE_OVER_IDEMPOTENCY = """
UPDATE idempotency_keys SET locked_until = $4
WHERE api_key_id = $1 AND key = $2 AND state = 'in_flight' AND fingerprint = $3
  AND locked_until < $5 AND resource_id IS NULL
"""


RELEASE_IDEMPOTENCY = """
DELETE FROM idempotency_keys WHERE api_key_id = $1 AND key = $2 AND state = 'in_flight'
"""

INSERT_API_KEY = """
INSERT INTO api_keys (id, name, prefix, secret_hash, scopes, rate_limit_per_second,
    rate_limit_burst, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
"""

FIND_API_KEY = """
SELECT id, name, prefix, scopes, created_at, rate_limit_per_second::text, rate_limit_burst,
       revoked_at
FROM api_keys WHERE secret_hash = $1
"""

GET_PAYOUT = """
SELECT p.id, p.api_key_id, p.status, p.provider, p.provider_reference, p.currency, p.amount,
    p.destination::text, p.description, p.merchant_reference, p.metadata::text,
    p.failure::text, p.version, p.created_at, p.updated_at,
    coalesce((SELECT json_agg(json_build_object(
        'id', o.id, 'payout_id', o.payout_id, 'type', o.type, 'status', o.status,
        'amount', o.amount, 'currency', o.currency, 'source', o.source,
        'provider_reference', o.provider_reference, 'failure', o.failure,
        'reason', o.reason, 'created_at', o.created_at, 'resolved_at', o.resolved_at,
        'resolution_source', o.resolution_source, 'resolved_by', o.resolved_by,
        'resolution_reason', o.resolution_reason)
        ORDER BY o.created_at, o.id)
      FROM operations o WHERE o.payout_id = p.id), '[]')::text AS operations
FROM payouts p WHERE p.id = $1
"""


FIND_PAYMENT = f"""
SELECT {_PAYMENT_COLUMNS} FROM payments p
WHERE p.provider = $1 AND p.provider_reference = $2
ORDER BY p.id LIMIT 2
"""

_WEBHOOK_COLUMNS = """
    id, provider, event_id, event_type, status, payload, delivery_try, payment_id, detail,
    received_at, processed_at
"""

RECORD_WEBHOOK = """
INSERT INTO webhook_events (id, provider, event_id, event_type, status, payload, delivery_try,
    payment_id, detail, received_at, processed_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (provider, event_id) DO NOTHING
RETURNING true
"""

GET_WEBHOOK = f"SELECT {_WEBHOOK_COLUMNS} FROM webhook_events WHERE provider = $1 AND event_id = $2"

MARK_WEBHOOK = """
UPDATE webhook_events SET status = $2, payment_id = coalesce($3, payment_id),
    detail = $4, processed_at = $5
WHERE id = $1
"""

LIST_WEBHOOKS = f"""
SELECT {_WEBHOOK_COLUMNS} FROM webhook_events
WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR provider = $2)
ORDER BY received_at DESC, id DESC
LIMIT $3
"""

PAYMENTS_ON = """
SELECT id FROM payments
WHERE provider = $1 AND provider_reference = $2 AND status = ANY($3::text[])
ORDER BY id
"""

# -- the reconciler: subjects in doubt, claimed with SKIP LOCKED on their claim row --

# A claim flagged when its subject was handed to operators is reset when the subject is
# in doubt anew (settled since, then a new operation): only those rows are touched, so
# concurrent seeds never lock the rows other reconcilers are about to claim.
_RESET_FLAGGED = """
WITH reset AS (
    UPDATE reconcile_claims c SET attempts = 0, next_at = $1, updated_at = $1,
        last_error = NULL, reason = NULL, attention_at = NULL
    FROM {table} s
    WHERE c.attention_at IS NOT NULL AND s.id = c.subject_id AND s.status IN ({statuses})
      AND s.provider = ANY($3::text[])
    RETURNING c.subject_id)
"""

# $1 now, $2 pending since at most, $3 providers to reconcile
SEED_PAYMENT_CLAIMS = (
    _RESET_FLAGGED.format(table="payments", statuses="'processing', 'requires_action'")
    + """
INSERT INTO reconcile_claims (subject_id, kind, provider, attempts, next_at, updated_at)
SELECT p.id, 'payment', p.provider, 0, $1, $1 FROM payments p
WHERE p.status IN ('processing', 'requires_action') AND p.provider = ANY($3::text[])
  AND EXISTS (SELECT 1 FROM operations o
              WHERE o.payment_id = p.id AND o.status = 'pending' AND o.created_at <= $2)
ON CONFLICT (subject_id) DO NOTHING
"""
)

SEED_PAYOUT_CLAIMS = (
    _RESET_FLAGGED.format(table="payouts", statuses="'processing'")
    + """
INSERT INTO reconcile_claims (subject_id, kind, provider, attempts, next_at, updated_at)
SELECT p.id, 'payout', p.provider, 0, $1, $1 FROM payouts p
WHERE p.status = 'processing' AND p.provider = ANY($3::text[])
  AND EXISTS (SELECT 1 FROM operations o
              WHERE o.payout_id = p.id AND o.status = 'pending' AND o.created_at <= $2)
ON CONFLICT (subject_id) DO NOTHING
"""
)

# Taking a claim updates its row, so a replica that read it before is re-checked by
# PostgreSQL against the new next_at and skips it: one holder per subject and lease.
# $1 now, $2 kind, $3 limit, $4 first backoff (s), $5 longest backoff (s), $6 providers
CLAIM = """
UPDATE reconcile_claims c
SET attempts = c.attempts + 1,
    next_at = $1 + make_interval(secs => least($4 * power(2, least(c.attempts, 30)), $5)),
    updated_at = $1
WHERE c.subject_id IN (
    SELECT subject_id FROM reconcile_claims
    WHERE kind = $2 AND next_at <= $1 AND provider = ANY($6::text[])
      AND attention_at IS NULL
    ORDER BY next_at, subject_id
    LIMIT $3
    FOR UPDATE SKIP LOCKED)
RETURNING c.subject_id, c.attempts
"""

NOTE_CLAIM = "UPDATE reconcile_claims SET last_error = $2, updated_at = $3 WHERE subject_id = $1"

RELEASE_CLAIM = "DELETE FROM reconcile_claims WHERE subject_id = $1"

# $1 subject, $2 reason, $3 now
FLAG_CLAIM = """
UPDATE reconcile_claims SET reason = $2, attention_at = $3, updated_at = $3
WHERE subject_id = $1
"""

# What the reconciler still works on: subjects handed to operators are counted apart.
OLDEST_PENDING = """
SELECT min(o.created_at) FROM operations o
WHERE o.status = 'pending'
  AND NOT EXISTS (SELECT 1 FROM payments p
                  WHERE p.id = o.payment_id AND p.status = 'needs_attention')
  AND NOT EXISTS (SELECT 1 FROM payouts q
                  WHERE q.id = o.payout_id AND q.status = 'needs_attention')
"""

NEEDS_ATTENTION = """
SELECT (SELECT count(*) FROM payments WHERE status = 'needs_attention') AS payment,
       (SELECT count(*) FROM payouts WHERE status = 'needs_attention') AS payout
"""

# $1 pending since, $2 starting after (id), $3 provider, $4 limit
LIST_IN_DOUBT = f"""
SELECT {_PAYMENT_COLUMNS}, c.attempts AS claim_attempts, c.last_error AS claim_last_error,
    c.reason AS claim_reason, c.attention_at AS claim_attention_at
FROM payments p LEFT JOIN reconcile_claims c ON c.subject_id = p.id
WHERE (p.status = 'needs_attention'
       OR p.id IN (SELECT o.payment_id FROM operations o
                   WHERE o.status = 'pending' AND o.created_at <= $1
                     AND o.payment_id IS NOT NULL))
  AND ($2::text IS NULL OR p.id < $2)
  AND ($3::text IS NULL OR p.provider = $3)
ORDER BY p.id DESC
LIMIT $4
"""

# -- the ledger's writes: one function call each (migration 0006) ----------------------

CREATE_PAYMENT = "SELECT ledger_create_payment($1::jsonb, $2::jsonb, $3::jsonb)"
SAVE_PAYMENT = """
SELECT ledger_save_payment($1, $2, $3::jsonb, $4::jsonb, $5::jsonb, $6::jsonb, $7::jsonb,
    $8::bytea, $9::jsonb)
"""
CREATE_PAYOUT = "SELECT ledger_create_payout($1::jsonb, $2::jsonb, $3::jsonb)"
SAVE_PAYOUT = """
SELECT ledger_save_payout($1, $2, $3::jsonb, $4::jsonb, $5::jsonb, $6::jsonb, $7::jsonb,
    $8::bytea, $9::jsonb)
"""

# The response to replay; the record is inserted if the request wrote none before.
COMPLETE_IDEMPOTENCY = """
INSERT INTO idempotency_keys (api_key_id, key, fingerprint, state, locked_until, resource_id,
    response_status, response_body)
VALUES ($1, $2, $6, 'completed', now(), $5, $3, $4)
ON CONFLICT (api_key_id, key) DO UPDATE SET state = 'completed',
    response_status = $3, response_body = $4,
    resource_id = coalesce($5, idempotency_keys.resource_id)
"""

REVOKE_API_KEY = "UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL"
