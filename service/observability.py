"""Metrics shared by the layers (Prometheus), defined once."""

from typing import Any

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
# Per process, like the breakers: with several workers each reports its own (a pid label).
CIRCUIT_STATE = Gauge(
    "provider_circuit_state",
    "1 for the state each provider's circuit breaker is in (closed, open, half_open), else 0.",
    ["provider", "state"],
)
CIRCUIT_TRANSITIONS = Counter(
    "provider_circuit_transitions_total",
    "Changes of a provider's circuit breaker, by the state entered.",
    ["provider", "state"],
)
CIRCUIT_SHORT_CIRCUITED = Counter(
    "provider_circuit_rejected_total",
    "Provider calls not sent because the provider's circuit was open.",
    ["provider", "operation"],
)
PAYMENT_OUTCOMES = Counter(
    "payment_operations_total",
    "Ledger operations resolved, by provider, type and status.",
    ["provider", "type", "status"],
)
RECONCILE_OUTCOMES = Counter(
    "reconcile_subjects_total",
    "Subjects in doubt the reconciler looked at, by kind and outcome "
    "(settled, still_pending, error, needs_attention).",
    ["kind", "outcome"],
)
# Ledger facts, set after each pass: every process running a reconciler reports the same
# values, so with several worker processes the most recent one is the one to show.
RECONCILE_OLDEST_PENDING = Gauge(
    "reconcile_oldest_pending_seconds",
    "Age of the oldest operation still pending that the reconciler works on, subjects "
    "handed to operators aside (0 when nothing is in doubt).",
    multiprocess_mode="livemostrecent",
)
RECONCILE_NEEDS_ATTENTION_MARKED = Counter(
    "reconcile_needs_attention_marked_total",
    "Payments and payouts the reconciler handed to operators (needs_attention).",
    ["kind", "provider"],
)
RECONCILE_NEEDS_ATTENTION = Gauge(
    "reconcile_needs_attention",
    "Payments and payouts currently in needs_attention, by kind (set after each pass).",
    ["kind"],
    multiprocess_mode="livemostrecent",
)

# HTTP requests, as litestar's Prometheus plugin named them (dashboards keep working),
# recorded once per response by service.api.context with label children cached.
HTTP_REQUESTS = Counter(
    "http_requests_total",
    "Total requests",
    ["method", "path", "status_code", "app_name"],
)
HTTP_DURATION = Histogram(
    "http_request_duration_seconds",
    "Request duration, in seconds",
    ["method", "path", "status_code", "app_name"],
)
HTTP_ERRORS = Counter(
    "http_requests_error_total",
    "Total errors in requests (5xx answers)",
    ["method", "path", "status_code", "app_name"],
)
APP_NAME = "payment-orchestrator"
_http_children: dict[tuple[str, str, int], tuple[Any, Any, Any]] = {}


def observe_request(method: str, path: str, status: int, seconds: float) -> None:
    """Count one answered request (`path` is the route template, never the raw path)."""
    key = (method, path, status)
    children = _http_children.get(key)
    if children is None:
        labels = (method, path, str(status), APP_NAME)
        children = (
            HTTP_REQUESTS.labels(*labels),
            HTTP_DURATION.labels(*labels),
            HTTP_ERRORS.labels(*labels) if status >= 500 else None,
        )
        _http_children[key] = children
    count, duration, errors = children
    count.inc()
    duration.observe(seconds)
    if errors is not None:
        errors.inc()


_children: dict[tuple[int, tuple[str, ...]], Any] = {}


def child(metric: Any, *labels: str) -> Any:
    """`metric.labels(*labels)`, looked up once (labels() takes a lock every call)."""
    key = (id(metric), labels)
    found = _children.get(key)
    if found is None:
        found = _children[key] = metric.labels(*labels)
    return found
