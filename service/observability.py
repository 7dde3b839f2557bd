"""Metrics shared by the layers (Prometheus), defined once."""

from prometheus_client import Counter, Gauge, Histogram

PROVIDER_CALLS = Counter(
    "provider_requests_total",
    "Outbound provider calls by provider, operation and outcome.",
    ["provider", "operation", "outcome"],
)
PROVIDER_LATENCY = Histogram(
    "provider_request_duration_seconds",
    "Outbound provider call latency.",
    ["provider", "operation"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
PAYMENT_OUTCOMES = Counter(
    "payment_operations_total",
    "Ledger operations resolved, by provider, type and status.",
    ["provider", "type", "status"],
)
RECONCILE_OUTCOMES = Counter(
    "reconcile_subjects_total",
    "Subjects in doubt the reconciler looked at, by kind and outcome "
    "(settled, still_pending, error).",
    ["kind", "outcome"],
)
RECONCILE_OLDEST_PENDING = Gauge(
    "reconcile_oldest_pending_seconds",
    "Age of the oldest operation still pending (0 when nothing is in doubt).",
)
