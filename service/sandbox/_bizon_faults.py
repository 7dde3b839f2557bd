"""Test controls of the Bizon sandbox: the request log and injected faults."""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ._bizon_input import invalid

# Long benchmark runs must not grow memory without bound: the log keeps the newest entries.
REQUEST_LOG_LIMIT = 100_000
_MAX_DELAY_SECONDS = 600


class RequestLog:
    """Every API request received, oldest first (control and browser pages excluded)."""

    def __init__(self) -> None:
        self._entries: deque[dict[str, str]] = deque(maxlen=REQUEST_LOG_LIMIT)

    def record(
        self,
        method: str,
        path: str,
        merchant_order_id: str | None = None,
        order_id: str | None = None,
    ) -> None:
        entry = {"method": method, "path": path}
        if merchant_order_id is not None:
            entry["merchant_order_id"] = merchant_order_id
        if order_id is not None:
            entry["order_id"] = order_id
        entry["at"] = datetime.now(UTC).isoformat(timespec="microseconds")
        self._entries.append(entry)

    def entries(self) -> list[dict[str, str]]:
        return list(self._entries)

    def clear(self) -> None:
        self._entries.clear()


@dataclass(slots=True)
class Fault:
    """One injected fault, consumed by the next ``times`` matching API requests.

    Attributes:
        method: HTTP method to match (``None`` matches any).
        path_prefix: the request path must start with it.
        delay_seconds: sleep before replying (after applying, unless ``status`` pre-empts it).
        status: answer this HTTP status with a JSON error instead of the real reply.
        after_apply: with ``status``, apply the operation first, then answer ``status``.
        times: how many matching requests remain to be hit.
    """

    method: str | None
    path_prefix: str
    delay_seconds: float
    status: int | None
    after_apply: bool
    times: int

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and path.startswith(self.path_prefix)

    def view(self) -> dict[str, Any]:
        return asdict(self)


def _number(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise invalid(f"{name} must be a number")
    seconds = float(value)  # a duration, not money
    if not 0 <= seconds <= _MAX_DELAY_SECONDS:
        raise invalid(f"{name} must be between 0 and {_MAX_DELAY_SECONDS}")
    return seconds


def _integer(value: object, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise invalid(f"{name} must be an integer between {low} and {high}")
    return value


def parse_fault(payload: dict[str, Any]) -> Fault:
    """Validate the body of ``POST /_sandbox/faults``."""
    method = payload.get("method")
    if method is not None and not isinstance(method, str):
        raise invalid("method must be a string")
    prefix = payload.get("path_prefix", "/")
    if not isinstance(prefix, str) or not prefix.startswith("/"):
        raise invalid("path_prefix must be a string starting with '/'")
    status = payload.get("status")
    after_apply = payload.get("after_apply", False)
    if not isinstance(after_apply, bool):
        raise invalid("after_apply must be a boolean")
    if after_apply and status is None:
        raise invalid("after_apply needs a status")
    return Fault(
        method=method.upper() if method else None,
        path_prefix=prefix,
        delay_seconds=_number(payload.get("delay_seconds", 0), "delay_seconds"),
        status=None if status is None else _integer(status, "status", 400, 599),
        after_apply=after_apply,
        times=_integer(payload.get("times", 1), "times", 1, 1_000_000),
    )


class FaultBook:
    """The pending faults, first registered first served."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        self._faults.append(fault)

    def take(self, method: str, path: str) -> Fault | None:
        """Consume one use of the first fault matching the request, if any."""
        for fault in self._faults:
            if fault.matches(method, path):
                fault.times -= 1
                if fault.times == 0:
                    self._faults.remove(fault)
                return fault
        return None

    def views(self) -> list[dict[str, Any]]:
        return [fault.view() for fault in self._faults]

    def clear(self) -> None:
        self._faults.clear()
