"""A wire-level, stateful, in-memory simulator of the Proxy-Solutions client API.

Faithful to ``/work/shared/providers/proxy-solutions.md`` (three OpenAPI fragments: pay for
an order, list of merchants, calculate an order's cost). Used by the API tests and
``make run``; each ``create_proxy_solutions_sandbox()`` call builds an isolated app with
its own state. Every API route lives under ``/api`` (the doc's server URL ends in /api).

Fixed catalogue:

* Orders: 1001 (active, 30-day price 12.00 USD, paid for 20 more days at start), 1002
  (active, 45.00 USD, 5 more days), 1003 (expired 3 days ago, 9.00 USD). Price per day =
  30-day price / 30.
* Merchants (``GET /api/merchants``): ``balance`` "API balance" [USD], ``card`` "Bank
  card" [USD, EUR, RUB, JPY], ``crypto`` "Crypto wallet" [USDT, BTC].
* Rates from USD: EUR 0.92, RUB 92.5, JPY 151, USDT 1, BTC 0.000015. Decimals: JPY 0,
  BTC 8, every other currency 2. Money is ``Decimal``; a result is rounded once, half-up.
* Promo codes (any case): SAVE10 -> 10 %, HALF -> 50 %.
* Services: 1 "Mobile proxy" (2.00 USD per address per day, locations 10 and 11,
  multiport allowed); 2 "Hosting server" (configurations ``vps-s`` 5.00/day, ``vps-m``
  9.00/day; ``server_options``: ``os`` ubuntu-22|debian-12, ``ram`` ""|+4G (+1.00/day),
  ``drive`` ""|+100G (+0.50/day), ``additional_ip`` 0..8 (+0.10/day each), ``backup``
  ""|daily (+0.30/day); no locations); 3 "Datacenter proxy" (0.50/address/day, location 20).

The wire:

* JSON bodies are decoded with msgspec, numbers with a fraction or exponent as
  ``Decimal``; amounts are written as JSON numbers in major units, in their shortest
  fixed-point form (``10.8``, ``1500``, ``0.00018``; never strings, never ``1E-8``). A
  missing key, ``null`` and ``""`` all count as absent. Unknown fields are ignored.
  Content-Type is not checked; an empty body is ``{}``.
* Validation errors are 422 with a JSON array of strings, one per bad field, every bad field
  listed (Laravel-style: "The merchant field is required.", "The selected currency is
  invalid."). A body that is not a JSON object: 422 ["The request body must be a JSON
  object."]. Other errors are ``{"message"}``: 401 "Unauthenticated.", 404 "Order not
  found." / "Service not found.", 404 "The route ... could not be found.", 405 "The POST
  method is not supported for route ...", 500 "Server Error" (a sandbox bug only).
* The API key goes in the header ``config.api_key_header`` (the doc names the scheme
  "api-key" without defining it). A missing or blank header is "no key".

``POST /api/user/orders/{order_id}/charge``, checked in this order: a present but wrong key
-> 401; a non-integer ``order_id`` -> 422 ["The order id must be an integer."]; an unknown
order -> 404; the body (see ``_proxy_charge``: merchant, currency, period 1..3650, amount >
0 and <= 100000 with at most 2 decimals, promocode) -> 422; merchant ``balance`` without a
key -> 401; a payer amount rounding to 0 -> 422; for ``balance``, a balance below the payer
amount -> 422 ["Insufficient funds on the balance."] and nothing changes. Price: ``amount``
(USD) if given (``period`` ignored for the price, still validated), else price per day *
(``period`` or 30); ``payer_amount`` = that * (1 - discount/100) in the payer currency.
``balance`` draws the balance down and extends the order at once (``url`` null); the other
merchants get an invoice, ``url`` = ``{public_url}/invoice/{invoice_id}`` (a uuid4). Any
order, expired ones included, can be paid: ``paid_until = max(paid_until, now) + days``,
where days = ``period``, or ``amount`` / price per day (fractional, to the second); the
promo discount lowers the price, not the days bought. Answer 200 ``{"payment": {discount,
merchant, payer_currency, payer_amount, url}}``.

``GET /api/merchants`` (no auth; a key is only logged) -> ``{"merchants": [...]}``.

``POST /api/services/{service_id}/price?lang=EN|RU|UA`` (no auth): a non-integer id ->
422, an unknown service -> 404 (in ``lang`` when valid), then ``lang`` and the body (see
``_proxy_price``; messages in RU/UA when asked, EN when ``lang`` itself is bad) -> 422.
``quantity`` multiplies every service's daily price (hosting: servers); ``multiport`` and
``uid`` do not change the price. Without ``currency`` the payer currency is USD, or the
merchant's first currency when it does not take USD (crypto -> USDT). Answer 200 ``{lang,
discount, amount (USD before discount), converted_amount, merchant (or null),
payer_amount, payer_currency}``.

Invoice page (no auth, HTML, not logged): ``GET /invoice/{id}`` shows it with a Pay button;
``POST /invoice/{id}`` pays it once (nothing is notified: the API has no notifications).

Control endpoints (no auth, not logged; amounts as decimal strings):

* ``GET /_sandbox/balance`` -> ``{"balance": "100.00"}``; ``POST /_sandbox/balance``
  ``{"balance": "<decimal string>"}`` (0..10**12, at most 2 decimals; else 400) sets it.
* ``GET /_sandbox/orders/{id}`` -> ``{id, status, price_30d, paid_until, charges: [{merchant,
  payer_currency, payer_amount, amount_usd, discount, days (to 6 decimals), invoice_id, at,
  paid_until}]}``.
* ``GET /_sandbox/invoices`` -> ``[{id, url, order_id, merchant, payer_currency,
  payer_amount, amount_usd, discount, days, status unpaid|paid, created_at, paid_at}]``;
  ``GET /_sandbox/invoices/{id}`` -> one.
* ``GET``/``DELETE /_sandbox/requests`` -> ``{"requests": [{method, path, at,
  api_key_present, api_key_valid (null without a key)}]}`` (every ``/api/...`` request,
  unknown routes included).
* ``POST /_sandbox/reset`` -> ``{"reset": true}``: the configured balance, the catalogue's
  orders (paid periods from now), no invoices, an empty log.
"""

from __future__ import annotations

import re

import msgspec
from litestar import Litestar
from litestar.datastructures import State
from litestar.exceptions import HTTPException

from ._proxy_api import API_ROUTES
from ._proxy_control import CONTROL_ROUTES
from ._proxy_pages import PAGE_ROUTES
from ._proxy_runtime import (
    STATE_KEY,
    ProxySandbox,
    http_exception_handler,
    internal_error_handler,
)
from ._proxy_state import parse_balance

__all__ = ["ProxySolutionsSandboxConfig", "create_proxy_solutions_sandbox"]

_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an RFC 9110 token


class ProxySolutionsSandboxConfig(msgspec.Struct, frozen=True):
    """Settings of one sandbox app.

    Attributes:
        api_key: the account's API key.
        api_key_header: the header carrying it (the doc's "api-key" scheme is undefined).
        public_url: base URL the sandbox is reached at (invoice URLs).
        balance: the account's API balance in USD at start (and after a reset), a
            decimal string with at most 2 decimals.
    """

    api_key: str = "sandbox-key"
    api_key_header: str = "api-key"
    public_url: str = "http://127.0.0.1:8103"
    balance: str = "100.00"

    def __post_init__(self) -> None:
        if not self.api_key or self.api_key != self.api_key.strip():
            raise ValueError("api_key must be non-empty, without surrounding blanks")
        if not _HEADER_NAME.fullmatch(self.api_key_header):
            raise ValueError("api_key_header must be a valid HTTP header name")
        if parse_balance(self.balance) is None:
            raise ValueError("balance must be a decimal string from 0 to 10**12, 2 decimals")


def create_proxy_solutions_sandbox(config: ProxySolutionsSandboxConfig | None = None) -> Litestar:
    """Build a Proxy-Solutions sandbox app with its own, fresh, in-memory state.

    Args:
        config: API key, its header, public URL and starting balance; defaults to
            ``ProxySolutionsSandboxConfig()``.

    Returns:
        The Litestar app serving the client API under ``/api``, the invoice page and the
        ``/_sandbox`` control endpoints.
    """
    sandbox = ProxySandbox(config or ProxySolutionsSandboxConfig())
    return Litestar(
        route_handlers=[*API_ROUTES, *PAGE_ROUTES, *CONTROL_ROUTES],
        state=State({STATE_KEY: sandbox}),
        exception_handlers={
            HTTPException: http_exception_handler,
            Exception: internal_error_handler,
        },
        openapi_config=None,
    )
