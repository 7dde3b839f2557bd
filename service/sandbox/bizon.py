"""A wire-level, stateful, in-memory simulator of the Bizon card gateway.

Faithful to ``/work/shared/providers/bizon.md`` and ``bizon-supplement.md`` (order statuses
and the operations each allows). Used by the API tests, ``make run`` and the benchmarks;
each ``create_bizon_sandbox()`` call builds an isolated app with its own state.

Choices where the doc is silent:

* Declines are HTTP 200 with the order in the body (status ``declined``/``fraud``/``error``
  and a ``failure``/``error`` authorize operation): the doc is silent on the HTTP status of
  a decline, and it is an order like any other.
* Errors are ``{"failure_type", "failure_message"}`` everywhere: 400 ``validation``
  (malformed JSON, a bad field, named in the message), 401 ``auth``, 404 ``not_found``
  (unknown order or route), 405 ``validation`` (wrong method), 409 ``state`` (the order's
  status does not allow the operation, "Order already completed"), an injected fault's
  status with ``fault``, and 500 ``internal`` (a sandbox bug).
* Single-order replies are always complete (card, client, location, custom_fields, issuer,
  secure3d, operations with ``cashflow``), as every example of the doc is; ``GET /orders/``
  gives the summary fields of the doc's list example plus what ``expand`` asks for.
* Unknown fields are ignored; known ones are validated strictly. Amounts are ``Decimal``.
* One charge per order; ``refunded`` covers partial refunds; ``cancel`` ignores ``amount``
  when it reverses ("not applicable for reversing").
* 3-D Secure 1: ``form3d.action`` is the sandbox's ACS page ``GET /acs/{id}``; its
  ``TermUrl`` is the merchant's ``options.return_url`` for a direct authorize (so the
  merchant gets PaRes and calls ``/orders/{id}/complete``), else the sandbox's own
  ``POST /complete/secure3d``, which completes the order and redirects to return_url.
  Success sets secure3d ``authorization_status`` "Y", ``version`` "1", ``scenario`` "full",
  ``eci`` "05"; failure (PaRes ``FAIL``, card 4000008400001629) sets "N" / eci "07" and
  declines with a ``failure`` authorize operation, ISO "05" "3-D Secure authentication
  failed". ``GET /orders/{id}`` of any ``prepared`` order carries ``form3d`` and
  ``form3d_html`` of the current step (3DS1 form, 3DS Method form or challenge form);
  ``form3d_html`` holds every ``form3d`` key but ``action``/``method`` as a hidden field.
* 3-D Secure 2.0 is run only by two test cards (other cards with ``force3d`` stay on 3DS1):
  4000000000003220 is frictionless whatever force3d says (200, secure3d ``version`` "2",
  ``authorization_status`` "Y", ``scenario`` "frictionless", ``eci`` "05", ``reason``
  "3ds"); 4000000000003238 challenges when ``options.secure3d20_return_url`` is given on a
  direct authorize, else (or on the hosted page) it takes the 3DS1 flow. The challenge:
  authorize answers 201 ``prepared``, no operations, secure3d {version "2", reason "3ds",
  scenario "unknown"}, ``form3d`` = {action ``{public_url}/acs20/method/{id}``, method
  POST, ``threeDSMethodData`` = base64 of ``{"threeDSServerTransID": <uuid>}``}. The method
  page (GET/POST, no auth) is a tiny HTML page that changes nothing.
  ``POST /orders/{id}/resume`` (body ignored) answers 201 ``prepared`` with the challenge
  form {action ``{public_url}/acs20/challenge/{id}``, method POST, ``creq`` = base64 JSON
  (threeDSServerTransID, acsTransID, messageType "CReq", messageVersion "2.1.0",
  challengeWindowSize "05"), ``threeDSSessionData`` = base64 of the order id}; from then on
  the order "has RReq data". resume is 409 ``state`` unless the order waits for the method
  step ("Order status 'x' does not allow resume" when not prepared, "Order is not waiting
  for the 3DS Method step" for a 3DS1 order or a repeated resume). The challenge page
  (GET/POST, no auth) shows two buttons, Authenticate and Fail (``transStatus`` Y / N,
  anything else 400); the choice answers an auto-submitting form POSTing ``cres`` (base64
  of ``{"transStatus", "threeDSServerTransID"}``) and ``threeDSSessionData`` to the order's
  secure3d20_return_url. The page changes no state (409 page before resume or after the
  end, 404 unknown order).
* ``POST /orders/{id}/complete3d20`` checks the order BEFORE its body (the doc's hint: no
  RReq is a validation error): 409 ``state`` for ``new`` ("does not allow complete3d20")
  and for an order no longer prepared ("Order already completed"); 400 ``validation`` "no
  RReq data for this order" while the challenge form was not issued (method step, or a
  3DS1 order), the order staying prepared; then ``cres`` is required and must be base64
  (standard or URL-safe, padding optional) of a JSON object with a string ``transStatus``
  (400 naming ``cres``); a ``threeDSServerTransID`` in it must be the order's (400).
  transStatus "Y" authorizes (charges with auto_charge) and sets secure3d
  ``authorization_status`` "Y", ``eci`` "05", ``cavv`` (base64), ``xid`` (the transaction
  UUID), ``version`` "2", ``scenario`` "full"; any other value declines like a 3DS1
  failure (ISO "05", "3-D Secure authentication failed", ``authorization_status`` "N",
  eci "07"). ``/orders/{id}/complete`` on a 3DS2-prepared order is 409 ("...complete it
  with complete3d20"); ``/acs/{id}`` answers 409 for it.
* Rebill ``POST /orders/{id}/rebill``: ``amount``, ``location.ip`` and ``cvv`` (3-4 digits;
  required unless ``BizonSandboxConfig.rebill_requires_cvv`` is False, checked if sent)
  are required; ``options.recurring`` (0/1), ``recurring_details`` {trace_id, indicator},
  ``merchant_order_id``, ``description`` and ``currency`` (must equal the parent's) are
  optional; every other option, ``options.auto_charge`` included, is ignored. An unknown
  parent is 404, then the body is validated (400), then the parent's status (409 for
  ``new`` and ``prepared``; every other status allows it). 200 with a NEW order (new id)
  on the parent's card record (pan, card, issuer), with the parent's terminal
  (descriptor), the given location and empty client, custom_fields and secure3d:
  ``authorized`` with one authorize operation, never charged, no 3-D Secure. The card's
  test-card outcome decides (declining/fraud/error cards give their order status and ISO
  code; a past expiry date "54"). The parent is unchanged.
* OCT ``POST /orders/{id}/credit``: ``amount`` required (not limited by the parent's
  amounts); optional ``currency`` (defaults to the parent's, any valid code accepted),
  ``location`` (ip checked if sent), ``merchant_order_id``, ``description``; other fields
  ignored. Parent ``charged`` or ``refunded`` (409 otherwise, checked after the body, as
  for rebill). 200 with a NEW order
  ``credited``, one ``credit`` operation ``success`` "00" "Approved" with an auth code,
  ``amount_charged`` "0.00", on the parent's card and terminal.
* OCT ``POST /orders/credit``: ``amount`` and ``pan`` (Luhn-valid) required; optional
  ``currency`` (default USD), ``merchant_order_id``, ``location``, ``description`` and
  ``card``: when sent it is validated like authorize's (holder, expiration_month and
  expiration_year required) except that ``cvv`` is optional (checked if sent). 200 with a
  new order; without ``card`` its card is {type, subtype, expiration "0/0"} and no holder
  (the doc's example). The test-card table decides: ``credited`` with a ``success`` credit
  operation, or e.g. 4000000000000002 / 4000000000009995 ``declined`` with a ``failure``
  credit operation and ISO "05" / "51" (fraud/error cards: their status; a past expiry
  date "54"); no 3-D Secure.
* ``POST /orders/token_pay``: ``amount``, ``dsrp`` {``type`` apple_pay|google_pay,
  ``token`` non-empty string} and ``location.ip`` required; the other authorize fields
  are accepted (currency, merchant_order_id, description, client, segment, custom_fields,
  options auto_charge/terminal/recurring/exemption_mit ...) but ``pan``, ``card``,
  ``secure3d``, ``options.force3d``, ``options.return_url`` and
  ``options.secure3d20_return_url`` are refused (400 "<field> is not accepted by
  token_pay") when sent non-null. The token ``"decline"`` declines (authorize ``failure``
  ISO "05" "Do not honor"); any other token is approved (charged with auto_charge). 200;
  the card is the doc's fixed tokenised card: pan ``410937****4320``, card {type visa,
  subtype classic, expiration "7/20"} without holder (its expiry is not checked), issuer
  bin 410937; secure3d {dsrp_type, reason "dsrp", authorization_status "Y", dsrp "1", eci
  "5", xid (64 hex), cavv (base64), version "1", scenario "unknown"} even when declined.
  A rebill of a token order reuses that card (a "decline" token's card declines again).
* The slow card delays the reply of rebill, both credits, complete and complete3d20 too
  (the state is committed first). All new orders are indexed by merchant_order_id for
  ``GET /orders/``; the request log and faults cover the new API endpoints like the others.
* Cashflow: a successful charge earns ``amount - 3 % fee``; a successful refund, credit or
  chargeback is money going back, ``amount`` = ``incoming`` = minus the amount; others 0.
* Not simulated: pagination links.

Control endpoints (no auth, not logged, no faults) for tests: ``GET``/``DELETE
/_sandbox/requests`` (request log), ``GET``/``POST``/``DELETE /_sandbox/faults`` (see
``Fault``), ``POST /_sandbox/orders/{id}/chargeback`` (a ``charged`` or ``refunded`` order
becomes ``chargedback`` with a ``chargeback`` operation ``success`` for amount_charged -
amount_refunded, 0.00 when fully refunded; 409 ``state`` otherwise, 404 unknown order;
answers ``{"orders": [order]}``) and ``POST /_sandbox/reset``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import msgspec
from litestar import Litestar, Request, Response, delete, get, post
from litestar.datastructures import State
from litestar.exceptions import HTTPException
from litestar.params import FromPath

from ._bizon_api import API_ROUTES
from ._bizon_api_ops import API_OPS_ROUTES
from ._bizon_cards import APPROVED, CardBehaviour, Outcome
from ._bizon_derived import chargeback
from ._bizon_faults import parse_fault
from ._bizon_input import SandboxError, decode_object
from ._bizon_pages import PAGE_ROUTES
from ._bizon_runtime import (
    STATE_KEY,
    Sandbox,
    error_response,
    http_exception_handler,
    internal_error_handler,
    json_response,
    orders_response,
    sandbox_of,
)

__all__ = ["TEST_CARDS", "BizonSandboxConfig", "CardBehaviour", "create_bizon_sandbox"]

TEST_CARDS: Final[Mapping[str, CardBehaviour]] = {
    # Approved: authorize success "00" Approved, order authorized (charged with auto_charge).
    "4111111111111111": CardBehaviour(),
    "4242424242424242": CardBehaviour(),
    "5555555555554444": CardBehaviour(),  # mastercard
    # Declined: order declined, authorize operation failure, the ISO code below.
    "4000000000000002": CardBehaviour(Outcome("declined", "failure", "05", "Do not honor")),
    "4000000000009995": CardBehaviour(Outcome("declined", "failure", "51", "Insufficient funds")),
    "4000000000000069": CardBehaviour(Outcome("declined", "failure", "54", "Expired card")),
    # Fraud: order fraud, authorize operation failure "59".
    "4000000000000101": CardBehaviour(Outcome("fraud", "failure", "59", "Suspected fraud")),
    # Processing error: order error, authorize operation error "96".
    "4000000000000119": CardBehaviour(Outcome("error", "error", "96", "System malfunction")),
    # Slow: approved and committed at once, then the authorize (or /pay, /complete) reply
    # waits config.slow_seconds ("the provider charged, then the reply was late").
    "4000000000000259": CardBehaviour(APPROVED, slow=True),
    # 3-D Secure 1 required even without force3d: 201 prepared, then /complete.
    "4000000000003063": CardBehaviour(requires_3ds=True),
    # 3-D Secure 1 required and authentication always fails: declined "05" at /complete.
    "4000008400001629": CardBehaviour(requires_3ds=True, fails_3ds=True),
    # 3-D Secure 2.0 frictionless: 200 authorized (charged with auto_charge) at once,
    # secure3d version "2", scenario "frictionless", authorization_status "Y", eci "05".
    "4000000000003220": CardBehaviour(threeds2="frictionless"),
    # 3-D Secure 2.0 challenge: with options.secure3d20_return_url, 201 prepared with the
    # 3DS Method form, then /resume (challenge form), then /complete3d20 with the cres;
    # without it (or on the hosted page) the 3-D Secure 1 flow of 4000000000003063.
    "4000000000003238": CardBehaviour(requires_3ds=True, threeds2="challenge"),
}
"""The test cards (any expiry in the future, any CVV, any holder).

Any other Luhn-valid number is approved like 4111111111111111; a past expiry date is
declined with ISO "54" whatever the number; options.force3d=1 puts any other card through
3-D Secure 1 first, where PaRes "FAIL" declines it (the two 3-D Secure 2.0 cards ignore
force3d: 4000000000003220 is always frictionless, 4000000000003238 challenges whenever
options.secure3d20_return_url is given). The table also decides rebills and OCT credits
(no 3-D Secure there): the declining cards decline them with their ISO code.
"""


class BizonSandboxConfig(msgspec.Struct, frozen=True):
    """Settings of one sandbox app.

    Attributes:
        login: the Basic-auth login the API accepts.
        password: the Basic-auth password the API accepts.
        public_url: base URL the sandbox is reached at, for the hosted page (``Location``)
            and the 3-D Secure URLs.
        slow_seconds: how late the reply of the slow test card is.
        rebill_requires_cvv: whether ``POST /orders/:id/rebill`` requires ``cvv`` (the doc:
            "can be configured as optional in project settings").
    """

    login: str = "sandbox"
    password: str = "sandbox"  # noqa: S105 - the sandbox's well-known default
    public_url: str = "http://127.0.0.1:8101"
    slow_seconds: float = 5.0
    rebill_requires_cvv: bool = True

    def __post_init__(self) -> None:
        if self.slow_seconds < 0:
            raise ValueError("slow_seconds must not be negative")


AnyRequest = Request[Any, Any, Any]


async def _control_payload(request: AnyRequest) -> dict[str, Any]:
    return decode_object(await request.body())


@get("/_sandbox/requests")
async def requests_log(request: AnyRequest) -> Response[Any]:
    """Return every API request received so far, oldest first."""
    return json_response({"requests": sandbox_of(request).log.entries()})


@delete("/_sandbox/requests", status_code=200)
async def clear_requests_log(request: AnyRequest) -> Response[Any]:
    """Empty the request log."""
    sandbox_of(request).log.clear()
    return json_response({"requests": []})


@get("/_sandbox/faults")
async def list_faults(request: AnyRequest) -> Response[Any]:
    """Return the faults still pending."""
    return json_response({"faults": sandbox_of(request).faults.views()})


@post("/_sandbox/faults")
async def add_fault(request: AnyRequest) -> Response[Any]:
    """Register a fault for the next ``times`` matching API requests."""
    try:
        fault = parse_fault(await _control_payload(request))
    except SandboxError as error:
        return error_response(error)
    faults = sandbox_of(request).faults
    faults.add(fault)
    return json_response({"faults": faults.views()}, 201)


@delete("/_sandbox/faults", status_code=200)
async def clear_faults(request: AnyRequest) -> Response[Any]:
    """Drop every pending fault."""
    sandbox_of(request).faults.clear()
    return json_response({"faults": []})


@post("/_sandbox/orders/{order_id:str}/chargeback")
async def mark_chargeback(request: AnyRequest, order_id: FromPath[str]) -> Response[Any]:
    """Mark a charged or refunded order ``chargedback`` (as the acquirer would report it)."""
    sandbox = sandbox_of(request)
    try:
        order = sandbox.state.get(order_id)
        chargeback(sandbox.state, order)
    except SandboxError as error:
        return error_response(error)
    return orders_response(sandbox, order)


@post("/_sandbox/reset")
async def reset(request: AnyRequest) -> Response[Any]:
    """Forget all orders, operations, logged requests and faults."""
    sandbox_of(request).reset()
    return json_response({"reset": True})


_CONTROL_ROUTES = (
    requests_log,
    clear_requests_log,
    list_faults,
    add_fault,
    clear_faults,
    mark_chargeback,
    reset,
)


def create_bizon_sandbox(config: BizonSandboxConfig | None = None) -> Litestar:
    """Build a Bizon sandbox app with its own, empty, in-memory state.

    Args:
        config: credentials, public URL and slow-card delay; defaults to
            ``BizonSandboxConfig()``.

    Returns:
        The Litestar app serving the Bizon API, the hosted page, the toy ACS and the
        ``/_sandbox`` control endpoints.
    """
    sandbox = Sandbox(config or BizonSandboxConfig(), TEST_CARDS)
    return Litestar(
        route_handlers=[*API_ROUTES, *API_OPS_ROUTES, *PAGE_ROUTES, *_CONTROL_ROUTES],
        state=State({STATE_KEY: sandbox}),
        exception_handlers={
            HTTPException: http_exception_handler,
            Exception: internal_error_handler,
        },
        openapi_config=None,
    )
