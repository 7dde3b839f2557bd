"""A wire-level, stateful, in-memory simulator of the PaySuper hosted checkout.

Faithful to ``/work/shared/providers/paysuper.md`` and ``paysuper-supplement.md``. Used by
the API tests and ``make run``; each ``create_paysuper_sandbox()`` call builds an isolated
app with its own state. The connector is written against exactly this behaviour.

Server API (``POST /api/v1/order``, ``POST /api/v1/tokens``):

* Every request to ``/api/...`` is logged first (``{method, path, at}``), then
  ``X-API-SIGNATURE`` is checked against the RAW body bytes, then the body is decoded, then
  validated. A missing, empty or blank header is 400 ``signature_required`` ("X-API-SIGNATURE
  header is required"); a wrong one 401 ``signature_invalid``. Mode ``sha512``: the header must
  be exactly the lowercase hex SHA-512 of ``body + secret_key`` (uppercase hex is refused);
  mode ``secret``: exactly the secret key. Content-Type is not checked.
* Errors are ``{"message", "code"}`` everywhere: 400 ``validation_failed`` (malformed JSON, a
  body that is not an object, a bad field named in the message; the first problem in the
  doc's table order wins), 400/401 signature codes, 404 ``project_not_found``, 404
  ``not_found`` (unknown route), 405 ``method_not_allowed``, 500 ``internal_error`` (a sandbox
  bug only). Success is 200.
* JSON ``null`` is an absent field; unknown fields are ignored. Strings must be strings,
  booleans booleans; an empty string counts as absent for the optional texts
  (``description``, ``order_id``, ``account``, ``url_success``, ``url_fail``, ``token``).
* Order body checks, in order: ``project`` (required non-empty string; unknown -> 404),
  ``type`` (required: key|product|simple; the Order table's "products" is refused),
  ``amount`` (a JSON number, not a string: > 0, <= 999999999.99, at most 2 decimals),
  ``currency`` (``[A-Z]{3}``), both required for simple; ``products`` (non-empty list of
  non-empty strings) required for product and key (accepted and kept for simple);
  ``platform_id`` (the doc's enum) refused unless type is key (key without it: ``""``);
  the texts; ``user`` (object: strings, ``email_verified``/``phone_verified`` booleans,
  ``address`` object of the four strings, ``metadata`` object of strings).
* ``token`` in an order body must be a token this sandbox issued (400 otherwise); its
  fields override the body's, required ones included (the doc), and its
  ``settings.metadata`` becomes the order's metadata.
* A product/key order without ``amount`` costs 10.00 per product; its currency is the one
  sent, else USD (an ``amount`` sent for such an order wins). 200 ``{"id": <uuid4>,
  "payment_form_url": "{public_url}/pay/{id}"}``, status ``created``.
* Token body checks, in order: ``user`` (required object) with ``id`` (required),
  ``email``/``phone``/``name``/``ip``/``locale`` as ``{"value": required non-empty string,
  "verified"?: bool}`` (only email's and phone's ``verified`` are kept), ``address``,
  ``metadata``; then ``settings`` (required object): ``project_id`` (required; another
  project -> 404 ``project_not_found``), ``type``, ``amount``, ``currency`` (required for
  simple), ``products_ids`` (required for product/key), ``return_url`` {success, fail},
  ``description``, ``metadata`` (object of strings). 200 ``{"token": <43 url-safe chars>,
  "payment_form_url": "{public_url}/pay/token/{token}"}``. Tokens never expire.

The Order object (notifications, ``GET /_sandbox/orders/{id}``) has exactly the keys of the
doc's example, in its order:

* ``amount``, ``original_amount`` (equal: no tax), ``virtual_currency_amount`` (0.0),
  ``tax`` ``{"type": "vat", "rate": 0.0, "amount": 0.0, "currency"}``, ``refund.amount``
  and item amounts are JSON floats (``595.0``, ``0.12``); currencies are lowercase.
* ``created_at`` is ``{seconds, nanos}``; ``canceled_at``/``refunded_at`` are
  ``{"seconds": -62135596800}`` (never) until it happens, then ``{seconds, nanos}``
  (``refunded_at``: the LAST refund). ``transaction`` is a numeric string (a counter);
  ``description`` defaults to "Payment by order # <id>".
* ``canceled`` is true for ``canceled``; ``cancellation`` is null or ``{code, reason}``;
  ``refunded`` is true once a refund happened; ``refund`` is null or the LAST refund
  ``{amount, currency, reason, receipt_number}``; ``receipt_number`` is the last refund's
  (``""`` before).
* ``user``: ``id`` a 24-hex PaySuper id (stable per ``external_id``), the merchant's fields
  (``""``/false when not sent), ``address`` null when not sent, ``metadata`` ``{}``.
  ``receipt_email``/``receipt_phone`` are the user's; ``country`` is the user's address
  country (``""``); ``billing_address`` is null (the form asks no address); ``issuer`` has
  empty strings; ``receipt_url`` is ``{public_url}/receipt/purchase/{receipt_id}`` (not served).
* ``method`` is null until a card was used (a rejected card is recorded too), then
  ``{title "Bank card", external_id "BANKCARD", payment_system_id, saved false, card
  {first6, last4, masked "411111...1111", expiry_month "MM", expiry_year "YYYY", brand
  VISA|MASTERCARD|UNKNOWN, fingerprint (stable per number), secure3d false}, wallet null,
  crypto_currency null, refund_allowed true}``.
* ``items`` is null for simple, else one ``{id, object "order_item", name, amount,
  currency}`` per product (the amount split evenly). ``metadata`` is ``{}`` for API orders
  (the order body has no metadata) and ``settings.metadata`` for token orders. The
  merchant's ``order_id`` and ``account`` are kept but, as in the doc, never shown:
  correlate by the returned ``id`` (or the token's metadata).
* Transitions: created -> processed | rejected | canceled; processed -> refunded (partial
  refunds allowed while their total <= amount, status refunded after the first) |
  chargeback. A chargeback is only possible from ``processed``.

Hosted form (no auth, HTML, not logged): ``GET /pay/{id}`` and ``GET /pay/token/{token}``
(the first visit creates the token's order; later visits show that same order) show fields
``pan``, ``expiry_month``, ``expiry_year`` (YY or YYYY), ``cvv``, ``holder`` and two buttons
``action=pay|cancel``. ``POST /pay/{id}``: a bad field (Luhn, past expiry, 3-4 digit cvv,
empty holder) re-shows the form with 400 and changes nothing; ``4000000000000002`` ->
``rejected`` (no notification); ``4000000000000259`` -> ``processed`` and notified at once,
but the reply waits ``slow_seconds``; any other Luhn-valid number -> ``processed`` +
``payment.success``; ``action=cancel`` -> ``canceled`` (code ``canceled_by_customer``) +
``payment.cancel``. Then 302 to ``url_success`` (processed) or ``url_fail`` (rejected,
canceled) unchanged (no query added), from the body or the token's ``return_url``; without
one, a result page. A non-created order shows its result (200), never a redirect. Unknown
order or token: 404 page.

Notifications: ``POST config.webhook_url``, ``Content-Type: application/json``,
``Authorization: Signature <hex sha256(raw_body + secret_key)>``, body ``{id, type
"notification", event, live false, created_at, expires_at (+1 day), delivery_try, object}``.
``object`` is the order frozen when the event happened; ``payment.success`` embeds
``"status": "created"`` (the supplement's sample), the other events the new status.
Acknowledged by HTTP 200 only (the body is ignored); otherwise, or on a connection error or
the 10 s timeout, retried after each of ``webhook_retry_delays`` with ``delivery_try``
incremented (1 on the first attempt), then given up (``expires_at`` is informative only).
``duplicates`` n: once the first delivery finished (acknowledged or given up), the same event
(same id, same object) is delivered n more times, each with its own retries; ``delivery_try``
counts every attempt of the event, duplicates included. A flush delivers its events one after
another (each with its retries and duplicates). Deliveries are background tasks of the app,
using one ``httpx.AsyncClient`` opened on startup (only when ``webhook_url`` is set) and
closed on shutdown, after the tasks in flight were cancelled (reset cancels them too);
separate deliveries run concurrently, so their events may arrive in any order (hold and flush
to fix one). Without ``webhook_url`` events are recorded, never sent.

Control endpoints (no auth, not logged; bodies optional JSON objects; errors as above with
404 ``order_not_found`` then 400 ``validation_failed`` then 409 ``order_status_invalid``):

* ``POST /_sandbox/orders/{id}/pay`` ``{"card"?: "4111111111111111", "amount"?, "currency"?}``
  pays a ``created`` order (the slow card is not slow here); ``amount``/``currency``
  (any-case three letters) override only what the notification's order says (a mismatch;
  the stored order keeps its own). ``/refund`` ``{"amount"?: default the rest, "reason"?}``
  (more than the rest is 400); ``/chargeback``; ``/cancel`` ``{"code"?, "reason"?}`` (only
  from created). Each also takes ``{"duplicates": 0..20, "hold": bool}`` and answers
  ``{"order": <Order object>, "event_id": <id or null>}``.
* ``POST /_sandbox/webhooks/flush`` ``{"order"?: [event ids]}``: delivers all held events
  in creation order, or only the listed ones, in that order (an id that is not held -> 400,
  nothing flushed); answers ``{"flushed": [ids]}``.
* ``GET /_sandbox/webhooks`` -> ``[{event_id, event, order_id, attempts, last_status (null
  before any answer or after a connection error), last_error, delivered, held, given_up}]``,
  oldest first (beyond 50 000 events the oldest settled ones are forgotten, held ones never).
* ``GET /_sandbox/orders/{id}`` and ``GET /_sandbox/orders/by-token/{token}`` -> the Order
  object. ``GET``/``DELETE /_sandbox/requests`` -> ``{"requests": [{method, path, at}]}``.
  ``POST /_sandbox/reset`` -> ``{"reset": true}``.

Tests (``tests/sandbox/test_paysuper_*.py``) receive notifications with a real Litestar app
served by uvicorn on a free loopback port; the delivery client is never injected.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import msgspec
from litestar import Litestar
from litestar.datastructures import State
from litestar.exceptions import HTTPException

from ._paysuper_api import API_ROUTES
from ._paysuper_cards import APPROVED_CARD, REJECTED_CARD, SLOW_CARD
from ._paysuper_control import CONTROL_ROUTES
from ._paysuper_pages import pay_page, pay_submit, token_page
from ._paysuper_runtime import (
    STATE_KEY,
    PaySuperSandbox,
    http_exception_handler,
    internal_error_handler,
)
from ._paysuper_webhooks import signature

__all__ = [
    "APPROVED_CARD",
    "REJECTED_CARD",
    "SLOW_CARD",
    "PaySuperSandboxConfig",
    "create_paysuper_sandbox",
    "signature",
]

SIGNATURE_MODES = ("sha512", "secret")


class PaySuperSandboxConfig(msgspec.Struct, frozen=True):
    """Settings of one sandbox app.

    Attributes:
        project_id: the only project the API knows.
        secret_key: the project's secret (request signatures and notification signatures).
        signature_mode: ``"sha512"``: ``X-API-SIGNATURE`` = hex sha512(body + secret);
            ``"secret"``: the header equals the secret.
        public_url: base URL the sandbox is reached at (payment form URLs).
        webhook_url: where signed notifications are POSTed (``None``: recorded only).
        webhook_retry_delays: seconds to wait before each retry, then give up.
        slow_seconds: how late the form's reply for the slow card is.
    """

    project_id: str = "sandbox-project"
    secret_key: str = "sandbox-secret"  # noqa: S105 - the sandbox's well-known default
    signature_mode: str = "sha512"
    public_url: str = "http://127.0.0.1:8102"
    webhook_url: str | None = None
    webhook_retry_delays: tuple[float, ...] = (0.2, 0.5, 1.0, 2.0)
    slow_seconds: float = 5.0

    def __post_init__(self) -> None:
        if self.signature_mode not in SIGNATURE_MODES:
            raise ValueError(f"signature_mode must be one of {SIGNATURE_MODES}")
        if not self.project_id or not self.secret_key:
            raise ValueError("project_id and secret_key must not be empty")
        if self.webhook_url is not None and urlsplit(self.webhook_url).scheme not in (
            "http",
            "https",
        ):
            raise ValueError("webhook_url must be an http(s) URL")
        if self.slow_seconds < 0 or any(delay < 0 for delay in self.webhook_retry_delays):
            raise ValueError("slow_seconds and webhook_retry_delays must not be negative")


def create_paysuper_sandbox(config: PaySuperSandboxConfig | None = None) -> Litestar:
    """Build a PaySuper sandbox app with its own, empty, in-memory state.

    Args:
        config: project, secret, signature mode, URLs and delays; defaults to
            ``PaySuperSandboxConfig()``.

    Returns:
        The Litestar app serving the PaySuper API, the hosted form and the ``/_sandbox``
        control endpoints. Its startup opens the notification client, its shutdown cancels
        the deliveries in flight and closes it.
    """
    sandbox = PaySuperSandbox(config or PaySuperSandboxConfig())
    return Litestar(
        route_handlers=[*API_ROUTES, pay_page, token_page, pay_submit, *CONTROL_ROUTES],
        state=State({STATE_KEY: sandbox}),
        on_startup=[sandbox.webhooks.start],
        on_shutdown=[sandbox.webhooks.stop],
        exception_handlers={
            HTTPException: http_exception_handler,
            Exception: internal_error_handler,
        },
        openapi_config=None,
    )
