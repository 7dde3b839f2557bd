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
* Not simulated: rebill, credit (OCT), token_pay, 3-D Secure 2 and pagination links.

Control endpoints (no auth) for tests: ``GET``/``DELETE /_sandbox/requests`` (request log),
``GET``/``POST``/``DELETE /_sandbox/faults`` (see ``Fault``) and ``POST /_sandbox/reset``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import msgspec
from litestar import Litestar, Request, Response, delete, get, post
from litestar.datastructures import State
from litestar.exceptions import HTTPException

from ._bizon_api import API_ROUTES
from ._bizon_cards import APPROVED, CardBehaviour, Outcome
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
}
"""The test cards (any expiry in the future, any CVV, any holder).

Any other Luhn-valid number is approved like 4111111111111111; a past expiry date is
declined with ISO "54" whatever the number; options.force3d=1 puts any card through
3-D Secure 1 first, where PaRes "FAIL" declines it.
"""


class BizonSandboxConfig(msgspec.Struct, frozen=True):
    """Settings of one sandbox app.

    Attributes:
        login: the Basic-auth login the API accepts.
        password: the Basic-auth password the API accepts.
        public_url: base URL the sandbox is reached at, for the hosted page (``Location``)
            and the 3-D Secure URLs.
        slow_seconds: how late the reply of the slow test card is.
    """

    login: str = "sandbox"
    password: str = "sandbox"  # noqa: S105 - the sandbox's well-known default
    public_url: str = "http://127.0.0.1:8101"
    slow_seconds: float = 5.0

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


@post("/_sandbox/reset")
async def reset(request: AnyRequest) -> Response[Any]:
    """Forget all orders, operations, logged requests and faults."""
    sandbox_of(request).reset()
    return json_response({"reset": True})


_CONTROL_ROUTES = (requests_log, clear_requests_log, list_faults, add_fault, clear_faults, reset)


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
        route_handlers=[*API_ROUTES, *PAGE_ROUTES, *_CONTROL_ROUTES],
        state=State({STATE_KEY: sandbox}),
        exception_handlers={
            HTTPException: http_exception_handler,
            Exception: internal_error_handler,
        },
        openapi_config=None,
    )
