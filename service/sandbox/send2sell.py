r"""A wire-level, stateful, in-memory simulator of the Send2Sell order-payment API.

Faithful to ``/work/shared/providers/send2sell.md`` (one endpoint: pay for an order with
the API user's prepaid credits). Used by the API tests and ``make run``; each
``create_send2sell_sandbox()`` call builds an isolated app with its own state.

Fixed catalogue (every order starts "Payment Pending"; amounts in USD; ``created_at`` as
written, all in -06:00): 370562 cost 69, tax 5.69, no discount, coupon "" (the doc's
order, 2020-11-04T14:27:31-06:00); 370563 cost 120.50, discount 20.50, coupon
"WELCOME20", tax 8.04 (credits needed 100: exactly the default credits); 370564 cost 15,
no tax; 370565 cost 25, tax 2.06, belongs to another user; 370566 cost 0, no products;
370567 cost 49.99, tax 4.12, locked (does not allow payment); 370568 cost 500, tax 41.25
(more than the default credits). The API user has ``config.credits`` (100.00) at start.

``PATCH /api/order/{id}/billing``, checked in this order (see ``_send2sell_api``):

* Routing first, as Laravel routes before its middleware: an id that is not ASCII digits
  -> 404 ``{"message": "Not Found"}`` (any method). A POST counts as the PATCH when
  ``allow_method_spoofing`` is set and its FORM-ENCODED body has ``_method=PATCH`` (any
  case, trimmed; ``_method`` in a JSON body or the query string is not read); any other
  method -> 405 ``{"message": "The POST method is not supported for this route. Supported
  methods: PATCH."}`` with ``Allow: PATCH`` (a spoofed ``_method=PUT`` names PUT).
* ``Authorization: Bearer <token>`` (the scheme in any case, the token exact) -> else 401
  ``{"message": "Unauthenticated."}``.
* An unknown order -> 404 ``{"message": "No query results for model [App\Models\Order]
  <id as sent>"}`` (more than 18 digits is unknown; leading zeros are the same id).
* The body must be ``application/x-www-form-urlencoded`` (charset and other parameters
  ignored; an empty body without Content-Type is an empty form) -> else 415 ``{"message":
  "The request body must be form-encoded (application/x-www-form-urlencoded)."}``
  (JSON, multipart and text bodies alike).
* Validation -> 422 ``{"message": "The given data was invalid.", "errors": {field:
  [message]}}``, every bad field listed in the order first_name, last_name, company,
  address, address2, city, state, zip, country, phone, email, use_credits, ONE message per
  field (the first rule it breaks). Values are trimmed; an empty value is absent. Required:
  first_name, city, state, zip, phone, use_credits ("The first name field is required.").
  All fields are strings of at most 255 characters ("The city must not be greater than 255
  characters."); ``name[]`` sends an array ("The zip must be a string."). ``state``: two
  uppercase ASCII letters, ``zip``: 5 digits or 5-4 ("The state format is invalid.");
  ``email`` when given: no blanks, one ``@``, a dotted domain ("The email must be a valid
  email address."); ``use_credits`` exactly "1" ("The selected use credits is invalid.":
  credits are the API's only payment option). Unknown fields are ignored.
* 403 ``{"message"}`` in this order: another user's order "You are not authorized to
  access this order."; no products "No cart or products linked to this order."; Paid or
  locked "This order does not allow payment. Please contact us." Nothing changes.
* The billing details are saved (all 12 fields, ``null`` when not sent; replacing earlier
  ones), even when the payment then fails.
* credits_needed = cost - discount (the tax is not charged in credits). Credits >= it: they
  are consumed, the order is Paid, 200 with the doc's success body {id, status "Paid",
  created_at, cost, discount, tax, total 0, use_credits "1", consumed_credits,
  payment_method "Prepaid credits", credits_needed 0, net_total 0, coupon_name}. A paid
  order's ``tax`` is 0 (waived with the credit payment: the doc's success sample of order
  370562 shows tax 0, its 402 sample 5.69). Else 402 with the doc's Payment Pending body
  {id, status, created_at, cost, discount, tax, total, use_credits "1", credits_needed,
  net_total, coupon_name}, total = net_total = cost - discount + tax; nothing consumed.
* Amounts are JSON numbers in major units as the doc writes them (``69``, ``74.69``,
  ``120.5``: no trailing zeros, never strings); ``Decimal``, half-up to cents. ``id`` is a
  number, ``created_at`` ISO 8601 to the second with the -06:00 offset (new orders too).
* Every request outside ``/_sandbox`` is logged (unknown routes included); a request is
  applied synchronously after its body was read, so one order is never paid twice.
* Unknown routes -> 404 ``{"message": "Not Found"}``; a known path with a wrong method ->
  405 (message above, ``Allow``); a sandbox bug -> 500 ``{"message": "Server Error"}``; a
  body over 10 MB -> 413. ``OPTIONS`` is answered by the framework (204 with ``Allow``, not
  logged); a trailing slash is ignored.

Control endpoints (no auth, not logged, no faults; amounts as decimal strings; errors 400
``{"message"}``):

* ``GET /_sandbox/credits`` -> ``{"credits": "100.00"}``; ``POST /_sandbox/credits``
  ``{"credits": "<decimal>"}`` sets (0..10**12, at most 2 decimals); ``POST
  /_sandbox/credits/top-up`` ``{"amount": "<decimal>"}`` adds (> 0); both answer
  ``{"credits"}``. A JSON number is accepted too.
* ``GET /_sandbox/orders/{id}`` -> ``{id, status, created_at, cost, discount, tax (the
  order's), coupon_name, credits_needed, total (still due: "0.00" once paid),
  consumed_credits, other_user, has_products, locked, billing (null or the 12 fields),
  attempts: [{at, status_code 200|402|403, outcome paid|payment_required|refused, message
  (403 only), credits_needed, consumed_credits, credits_after}]}``; attempts are the
  billing requests that passed validation; 404 for an unknown order.
* ``POST /_sandbox/orders`` ``{"id"? (default: the highest id + 1), "cost", "tax"?,
  "discount"? (<= cost), "coupon_name"?, "other_user"? false, "has_products"? true,
  "locked"? false}`` -> 201 with the order's view; 409 when the id is taken.
* ``GET``/``POST``/``DELETE /_sandbox/faults``: ``{"delay_seconds": 0..600, "status":
  null|400..599, "after_apply": false, "times": 1}``, consumed by the next billing requests
  that pass routing and auth (see ``Fault``): no status -> applied, then the reply waits
  ``delay_seconds``; a status -> (after the delay) that status with ``{"message":
  "Injected fault: HTTP <status>"}``, without applying unless ``after_apply``.
* ``GET``/``DELETE /_sandbox/requests`` -> ``{"requests": [{method (as sent: POST for a
  spoofed PATCH), path, at (UTC), order_id (the path's integer id or null), authorized}]}``.
* ``POST /_sandbox/reset`` -> ``{"reset": true}``: the configured credits, the catalogue
  (created orders dropped), no faults, an empty log.
"""

from __future__ import annotations

import msgspec
from litestar import Litestar
from litestar.datastructures import State
from litestar.exceptions import HTTPException

from ._send2sell_api import API_ROUTES
from ._send2sell_control import CONTROL_ROUTES
from ._send2sell_runtime import (
    STATE_KEY,
    Send2SellSandbox,
    http_exception_handler,
    internal_error_handler,
)
from ._send2sell_state import parse_amount

__all__ = ["Send2SellSandboxConfig", "create_send2sell_sandbox"]


class Send2SellSandboxConfig(msgspec.Struct, frozen=True):
    """Settings of one sandbox app.

    Attributes:
        token: the Bearer token of the API user.
        credits: the user's prepaid credit balance in USD at start (and after a reset), a
            decimal string from 0 to 10**12 with at most 2 decimals.
        allow_method_spoofing: accept ``POST`` with the form field ``_method=PATCH``.
    """

    token: str = "sandbox-token"  # noqa: S105 - the sandbox's well-known default
    credits: str = "100.00"
    allow_method_spoofing: bool = True

    def __post_init__(self) -> None:
        if not self.token or any(char.isspace() for char in self.token):
            raise ValueError("token must be non-empty, without blanks")
        if not isinstance(self.credits, str) or parse_amount(self.credits) is None:
            raise ValueError("credits must be a decimal string from 0 to 10**12, 2 decimals")


def create_send2sell_sandbox(config: Send2SellSandboxConfig | None = None) -> Litestar:
    """Build a Send2Sell sandbox app with its own, fresh, in-memory state.

    Args:
        config: the API user's token and credits, and whether method spoofing is
            accepted; defaults to ``Send2SellSandboxConfig()``.

    Returns:
        The Litestar app serving ``/api/order/{id}/billing`` and the ``/_sandbox``
        control endpoints.
    """
    sandbox = Send2SellSandbox(config or Send2SellSandboxConfig())
    return Litestar(
        route_handlers=[*API_ROUTES, *CONTROL_ROUTES],
        state=State({STATE_KEY: sandbox}),
        exception_handlers={
            HTTPException: http_exception_handler,
            Exception: internal_error_handler,
        },
        openapi_config=None,
    )
