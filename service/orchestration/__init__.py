"""Use cases: payments, idempotency, API keys, and the connector executor."""
