"""Test controls of the Send2Sell sandbox: the request log and injected faults.

A fault is consumed by the next billing requests that pass routing and authentication
(``PATCH /api/order/{integer}/billing``, or its spoofed POST, with the right token), in
the order the faults were registered.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from ._send2sell_input import control_error
from ._send2sell_state import iso, now

# Long benchmark runs must not grow memory without bound: the log keeps the newest entries.
REQUEST_LOG_LIMIT = 100_000
MAX_DELAY_SECONDS = 600
MAX_TIMES = 1_000_000


class RequestLog:
    """Every request received outside ``/_sandbox``, oldest first."""

    def __init__(self) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=REQUEST_LOG_LIMIT)

    def record(self, method: str, path: str, order_id: int | None, authorized: bool) -> None:
        self._entries.append(
            {
                "method": method,
                "path": path,
                "at": iso(now()),
                "order_id": order_id,
                "authorized": authorized,
            }
        )

    def entries(self) -> list[dict[str, Any]]:
        return list(self._entries)

    def clear(self) -> None:
        self._entries.clear()


@dataclass(slots=True)
class Fault:
    """One injected fault, consumed by the next ``times`` billing requests.

    Attributes:
        delay_seconds: how long to sleep before replying. Without ``status`` the request is
            applied first (the payment is made, the reply is late).
        status: answer this HTTP status (``{"message": "Injected fault: HTTP <status>"}``)
            instead of the real reply.
        after_apply: with ``status``, apply the request first, then answer ``status``.
            Without ``status`` it changes nothing (a delay always follows the applying).
        times: how many billing requests remain to be hit.
    """

    delay_seconds: float
    status: int | None
    after_apply: bool
    times: int

    @property
    def applies_first(self) -> bool:
        return self.status is None or self.after_apply

    def view(self) -> dict[str, Any]:
        return asdict(self)


def _seconds(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise control_error("delay_seconds must be a number")
    if not 0 <= value <= MAX_DELAY_SECONDS:
        raise control_error(f"delay_seconds must be between 0 and {MAX_DELAY_SECONDS}")
    return float(value)  # a duration, not money


def _integer(value: object, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise control_error(f"{name} must be an integer between {low} and {high}")
    return value


def parse_fault(payload: dict[str, Any]) -> Fault:
    """Validate the body of ``POST /_sandbox/faults`` (400 naming the bad field)."""
    status = payload.get("status")
    after_apply = payload.get("after_apply", False)
    if not isinstance(after_apply, bool):
        raise control_error("after_apply must be a boolean")
    times = payload.get("times", 1)
    return Fault(
        delay_seconds=_seconds(payload.get("delay_seconds", 0)),
        status=None if status is None else _integer(status, "status", 400, 599),
        after_apply=after_apply,
        times=_integer(times, "times", 1, MAX_TIMES),
    )


class FaultBook:
    """The pending faults, first registered first served."""

    def __init__(self) -> None:
        self._faults: deque[Fault] = deque()

    def add(self, fault: Fault) -> None:
        self._faults.append(fault)

    def take(self) -> Fault | None:
        """Consume one use of the oldest fault, if any."""
        if not self._faults:
            return None
        fault = self._faults[0]
        fault.times -= 1
        if fault.times == 0:
            self._faults.popleft()
        return fault

    def views(self) -> list[dict[str, Any]]:
        return [fault.view() for fault in self._faults]

    def clear(self) -> None:
        self._faults.clear()
