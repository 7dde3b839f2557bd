"""The Bizon API routes of the sandbox (Basic auth, JSON), as bizon.md describes them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request, Response, get, post, put
from litestar.params import FromPath

from ._bizon_input import (
    ORDER_STATUSES,
    optional_amount,
    parse_card,
    parse_list,
    parse_order,
    parse_pares,
    parse_timestamp,
)
from ._bizon_model import Operation, Order, timestamp
from ._bizon_runtime import Call, Reply, Sandbox, json_response, orders_response, serve_api
from ._bizon_views import (
    EXCHANGE_RATES,
    OPERATION_EXPANDS,
    ORDER_EXPANDS,
    operation_view,
    order_list_view,
)

PAGE_LIMIT = 2000  # bizon.md: lists are limited to 2000 rows
_OPERATION_STATUSES = frozenset({"success", "failure", "error"})
_OPERATION_TYPES = frozenset({"authorize", "charge", "reverse", "refund", "credit", "chargeback"})

AnyRequest = Request[Any, Any, Any]


@dataclass(frozen=True, slots=True)
class _Window:
    """The created_from / created_to filter shared by both lists."""

    start: str | None
    end: str | None

    @classmethod
    def parse(cls, query: dict[str, str]) -> _Window:
        return cls(
            parse_timestamp(query.get("created_from"), "created_from"),
            parse_timestamp(query.get("created_to"), "created_to"),
        )

    def holds(self, created: str) -> bool:
        return (self.start is None or created >= self.start) and (
            self.end is None or created <= self.end
        )


@dataclass(frozen=True, slots=True)
class _OrderFilter:
    statuses: frozenset[str]
    card_types: frozenset[str]
    window: _Window

    def matches(self, order: Order) -> bool:
        card_type = order.card.type if order.card is not None else None
        return (
            (not self.statuses or order.status in self.statuses)
            and (not self.card_types or card_type in self.card_types)
            and self.window.holds(order.created)
        )


def _ping(sandbox: Sandbox, call: Call) -> Reply:
    return Reply(json_response({"date": timestamp(), "message": "PONG!"}))


def _authorize(sandbox: Sandbox, call: Call) -> Reply:
    data = parse_order(call.payload, card_present=True)
    card = parse_card(call.payload.get("pan"), call.payload.get("card"))
    order = sandbox.state.authorize(data, card)
    status_code = 201 if order.status == "prepared" else 200
    return Reply(orders_response(sandbox, order, status_code), slow=order.slow_reply())


def _create(sandbox: Sandbox, call: Call) -> Reply:
    order = sandbox.state.create_hosted(parse_order(call.payload, card_present=False))
    location = {"Location": f"{sandbox.public_url}/pay/{order.id}"}
    return Reply(orders_response(sandbox, order, 201, location))


def _order(sandbox: Sandbox, call: Call) -> Order:
    return sandbox.state.get(call.order_id or "")


def _show(sandbox: Sandbox, call: Call) -> Reply:
    parse_list(call.query.get("expand"), "expand", ORDER_EXPANDS)
    return Reply(orders_response(sandbox, _order(sandbox, call)))


def _charge(sandbox: Sandbox, call: Call) -> Reply:
    order = _order(sandbox, call)
    sandbox.state.charge(order, optional_amount(call.payload))
    return Reply(orders_response(sandbox, order))


def _reverse(sandbox: Sandbox, call: Call) -> Reply:
    order = _order(sandbox, call)
    sandbox.state.reverse(order)
    return Reply(orders_response(sandbox, order))


def _refund(sandbox: Sandbox, call: Call) -> Reply:
    order = _order(sandbox, call)
    sandbox.state.refund(order, optional_amount(call.payload))
    return Reply(orders_response(sandbox, order))


def _cancel(sandbox: Sandbox, call: Call) -> Reply:
    order = _order(sandbox, call)
    sandbox.state.cancel(order, optional_amount(call.payload))
    return Reply(orders_response(sandbox, order))


def _complete(sandbox: Sandbox, call: Call) -> Reply:
    order = _order(sandbox, call)
    sandbox.state.complete(order, parse_pares(call.payload))
    return Reply(orders_response(sandbox, order), slow=order.slow_reply())


def _list_orders(sandbox: Sandbox, call: Call) -> Reply:
    query = call.query
    expand = parse_list(query.get("expand"), "expand", ORDER_EXPANDS)
    merchant_ids = parse_list(query.get("merchant_order_id"), "merchant_order_id", None)
    wanted = _OrderFilter(
        parse_list(query.get("status"), "status", ORDER_STATUSES),
        parse_list(query.get("card.type"), "card.type", None),
        _Window.parse(query),
    )
    views: list[dict[str, Any]] = []
    for order in sandbox.state.newest_first(merchant_ids):
        if wanted.matches(order):
            views.append(order_list_view(order, expand))
            if len(views) == PAGE_LIMIT:
                break
    return Reply(json_response({"orders": views}))


def _operation_matches(
    operation: Operation, statuses: frozenset[str], types: frozenset[str], window: _Window
) -> bool:
    return (
        (not statuses or operation.status in statuses)
        and (not types or operation.type in types)
        and window.holds(operation.created)
    )


def _list_operations(sandbox: Sandbox, call: Call) -> Reply:
    query = call.query
    cashflow = "cashflow" in parse_list(query.get("expand"), "expand", OPERATION_EXPANDS)
    statuses = parse_list(query.get("status"), "status", _OPERATION_STATUSES)
    types = parse_list(query.get("type"), "type", _OPERATION_TYPES)
    window = _Window.parse(query)
    views: list[dict[str, Any]] = []
    for operation in reversed(sandbox.state.operations):
        if _operation_matches(operation, statuses, types, window):
            views.append(operation_view(operation, cashflow=cashflow, order_id=True))
            if len(views) == PAGE_LIMIT:
                break
    return Reply(json_response({"operations": views}))


def _exchange_rates(sandbox: Sandbox, call: Call) -> Reply:
    return Reply(json_response({"exchange_rates": [dict(rate) for rate in EXCHANGE_RATES]}))


@get("/ping")
async def ping(request: AnyRequest) -> Response[Any]:
    """Answer ``PONG!`` with the server time."""
    return await serve_api(request, _ping)


@post("/orders/authorize")
async def authorize(request: AnyRequest) -> Response[Any]:
    """Authorize a card: 200 when done, 201 ``prepared`` when 3-D Secure is needed."""
    return await serve_api(request, _authorize)


@post("/orders/create")
async def create(request: AnyRequest) -> Response[Any]:
    """Create a hosted-page order: 201 ``new`` with the page URL in ``Location``."""
    return await serve_api(request, _create)


@get("/orders")
async def list_orders(request: AnyRequest) -> Response[Any]:
    """List orders newest first (filters: merchant_order_id, status, card.type, created_*)."""
    return await serve_api(request, _list_orders)


@get("/orders/{order_id:str}")
async def show_order(request: AnyRequest, order_id: FromPath[str]) -> Response[Any]:
    """Return one order in full."""
    return await serve_api(request, _show, order_id)


@put("/orders/{order_id:str}/charge")
async def charge(request: AnyRequest, order_id: FromPath[str]) -> Response[Any]:
    """Charge an authorized order (optional partial ``amount``)."""
    return await serve_api(request, _charge, order_id)


@put("/orders/{order_id:str}/reverse")
async def reverse(request: AnyRequest, order_id: FromPath[str]) -> Response[Any]:
    """Reverse an authorized order."""
    return await serve_api(request, _reverse, order_id)


@put("/orders/{order_id:str}/refund")
async def refund(request: AnyRequest, order_id: FromPath[str]) -> Response[Any]:
    """Refund a charged order (optional partial ``amount``)."""
    return await serve_api(request, _refund, order_id)


@put("/orders/{order_id:str}/cancel")
async def cancel(request: AnyRequest, order_id: FromPath[str]) -> Response[Any]:
    """Reverse an authorized order or refund a charged one."""
    return await serve_api(request, _cancel, order_id)


@post("/orders/{order_id:str}/complete")
async def complete(request: AnyRequest, order_id: FromPath[str]) -> Response[Any]:
    """Complete 3-D Secure 1 with the ``PaRes`` from the ACS."""
    return await serve_api(request, _complete, order_id)


@get("/operations")
async def list_operations(request: AnyRequest) -> Response[Any]:
    """List operations newest first (filters: status, type, created_*)."""
    return await serve_api(request, _list_operations)


@get("/exchange_rates")
async def exchange_rates(request: AnyRequest) -> Response[Any]:
    """Return the fixed exchange rates of the doc's example."""
    return await serve_api(request, _exchange_rates)


API_ROUTES = (
    ping,
    authorize,
    create,
    list_orders,
    show_order,
    charge,
    reverse,
    refund,
    cancel,
    complete,
    list_operations,
    exchange_rates,
)
