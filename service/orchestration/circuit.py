"""A circuit breaker per provider: stop sending to a provider that keeps failing.

Only technical failures count: a connection never made (`ProviderUnreachable`,
including no free outbound slot in time), no usable answer after sending
(timeouts, resets, 5xx: `OutcomeUnknown`) and replies that cannot be read
(`ProviderProtocolError`). A decline, a refusal or a validation error is an
answer from a provider that works: it resets the count.

    closed    --N consecutive technical failures-->           open
    open      --cool-down (open_seconds) passed-->            half_open
    half_open --a probe ends without a technical failure-->   closed
    half_open --a probe fails technically-->                  open (the cool-down again)

While open the executor sends nothing: the call fails at once with
`ProviderCircuitOpen`, a kind of "never sent", so the caller's payment is
recorded as for an unreachable provider and the request may be retried. Half
open lets `half_open_probes` calls through at a time; the others fail fast too.
A call's result only counts in the state it was let through in: an answer that
arrives after the state changed says nothing about the new one.

The state is per process: each server worker and each reconciler process keeps
its own breakers and learns of a provider's failures from its own calls only.
Time comes from the Clock port, so tests drive the cool-down.
"""

import enum
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from service.domain.errors import ProviderCircuitOpen
from service.domain.ports import Clock
from service.observability import CIRCUIT_STATE, CIRCUIT_TRANSITIONS, child

log = structlog.get_logger("provider")


class CircuitState(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class Verdict(enum.Enum):
    """What a finished call says about the provider."""

    WORKING = "working"  # an answer, whatever it said (declines and refusals too)
    FAILING = "failing"  # a technical failure
    NOTHING = "nothing"  # cancelled, or a bug of ours: no evidence either way


@dataclass(frozen=True, slots=True)
class CircuitPolicy:
    failure_threshold: int = 5
    open_seconds: float = 30.0
    half_open_probes: int = 1


@dataclass(frozen=True, slots=True)
class CircuitView:
    state: CircuitState
    consecutive_failures: int
    opened_at: datetime | None
    retry_at: datetime | None  # when an open circuit lets probes through


@dataclass(frozen=True, slots=True)
class Admission:
    """Leave to send one call, from the state `generation` of the circuit."""

    generation: int
    probe: bool


Listener = Callable[[str, CircuitState, CircuitState], None]


class CircuitBreaker:
    def __init__(
        self,
        provider: str,
        policy: CircuitPolicy,
        clock: Clock,
        listener: Listener | None = None,
    ) -> None:
        self.provider = provider
        self._policy = policy
        self._clock = clock
        self._listener = listener
        self._state = CircuitState.CLOSED
        self._failures = 0
        self._opened_at: datetime | None = None
        self._retry_at: datetime | None = None
        self._probes = 0  # probes in flight while half open
        self._generation = 0  # bumped on every change of state

    def view(self) -> CircuitView:
        self._expire()
        return CircuitView(self._state, self._failures, self._opened_at, self._retry_at)

    def admit(self) -> Admission:
        """Leave to send one call; ProviderCircuitOpen (nothing sent) while open."""
        self._expire()
        if self._state is CircuitState.CLOSED:
            return Admission(self._generation, probe=False)
        if self._state is CircuitState.HALF_OPEN and self._probes < self._policy.half_open_probes:
            self._probes += 1
            return Admission(self._generation, probe=True)
        raise ProviderCircuitOpen(self.provider, self._retry_after())

    def record(self, admission: Admission, verdict: Verdict) -> None:
        """What came of a call `admit` let through."""
        if admission.generation != self._generation:
            return  # let through before the state changed: no evidence about this one
        if admission.probe:
            self._probes -= 1
        if verdict is Verdict.FAILING:
            self._failures += 1
            if self._state is CircuitState.HALF_OPEN or (
                self._failures >= self._policy.failure_threshold
            ):
                self._open()
        elif verdict is Verdict.WORKING:
            if self._state is CircuitState.HALF_OPEN:
                self._change(CircuitState.CLOSED)
                self._opened_at = self._retry_at = None
            self._failures = 0

    def _open(self) -> None:
        now = self._clock.now()
        self._opened_at = now
        self._retry_at = now + timedelta(seconds=self._policy.open_seconds)
        self._change(CircuitState.OPEN)

    def _expire(self) -> None:
        if (
            self._state is CircuitState.OPEN
            and self._retry_at is not None
            and self._clock.now() >= self._retry_at
        ):
            self._change(CircuitState.HALF_OPEN)

    def _change(self, new: CircuitState) -> None:
        old, self._state = self._state, new
        self._generation += 1
        self._probes = 0
        if self._listener is not None:
            self._listener(self.provider, old, new)

    def _retry_after(self) -> float:
        """Whole seconds until a call may be let through (at least 1)."""
        if self._state is CircuitState.OPEN and self._retry_at is not None:
            left = (self._retry_at - self._clock.now()).total_seconds()
            return float(max(1, math.ceil(left)))
        return 1.0  # half open, every probe slot taken: a probe ends soon


def observe_transition(provider: str, old: CircuitState, new: CircuitState) -> None:
    """Metrics and a log line for every change of a circuit's state."""
    _show(provider, new)
    child(CIRCUIT_TRANSITIONS, provider, new.value).inc()
    event = log.warning if new is CircuitState.OPEN else log.info
    event("provider_circuit_changed", provider=provider, from_state=old, to_state=new)


def _show(provider: str, current: CircuitState) -> None:
    for state in CircuitState:
        child(CIRCUIT_STATE, provider, state.value).set(1 if state is current else 0)


class Circuits:
    """One breaker per provider, sharing a policy and a clock; per process."""

    def __init__(
        self,
        policy: CircuitPolicy,
        clock: Clock,
        providers: Iterable[str] = (),
        listener: Listener | None = observe_transition,
    ) -> None:
        self._policy = policy
        self._clock = clock
        self._listener = listener
        self._breakers: dict[str, CircuitBreaker] = {}
        for provider in providers:
            self.of(provider)

    def of(self, provider: str) -> CircuitBreaker:
        breaker = self._breakers.get(provider)
        if breaker is None:
            breaker = CircuitBreaker(provider, self._policy, self._clock, self._listener)
            self._breakers[provider] = breaker
            if self._listener is observe_transition:
                _show(provider, CircuitState.CLOSED)
        return breaker

    def view(self, provider: str) -> CircuitView | None:
        breaker = self._breakers.get(provider)
        return breaker.view() if breaker is not None else None
