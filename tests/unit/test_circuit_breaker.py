"""The circuit breaker's state machine, and the executor sending nothing while it is open.

Time is a fake clock; the transport is a fake that counts what it was asked to send.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from service.domain.errors import (
    ConnectorMisconfigured,
    OutcomeUnknown,
    ProviderCircuitOpen,
    ProviderInputRefused,
    ProviderProtocolError,
    ProviderRejected,
    ProviderUnreachable,
)
from service.domain.outcomes import HttpCall, HttpReply
from service.domain.redact import scrub_text
from service.orchestration.circuit import (
    CircuitBreaker,
    CircuitPolicy,
    Circuits,
    CircuitState,
    Verdict,
)
from service.orchestration.executor import ConnectorExecutor

START = datetime(2026, 1, 1, tzinfo=UTC)
POLICY = CircuitPolicy(failure_threshold=3, open_seconds=30, half_open_probes=1)


class FakeClock:
    def __init__(self) -> None:
        self.at = START

    def now(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _breaker(clock: FakeClock, policy: CircuitPolicy = POLICY) -> tuple[CircuitBreaker, list]:
    changes: list[tuple[CircuitState, CircuitState]] = []
    breaker = CircuitBreaker("p", policy, clock, lambda _, old, new: changes.append((old, new)))
    return breaker, changes


def _fail(breaker: CircuitBreaker, times: int = 1) -> None:
    for _ in range(times):
        breaker.record(breaker.admit(), Verdict.FAILING)


def _open(breaker: CircuitBreaker) -> None:
    _fail(breaker, POLICY.failure_threshold)
    assert breaker.view().state is CircuitState.OPEN


def test_it_opens_after_the_threshold_of_consecutive_failures(clock):
    breaker, changes = _breaker(clock)
    _fail(breaker, 2)
    view = breaker.view()
    assert (view.state, view.consecutive_failures, view.opened_at) == (
        CircuitState.CLOSED,
        2,
        None,
    )
    _fail(breaker)
    view = breaker.view()
    assert (view.state, view.consecutive_failures) == (CircuitState.OPEN, 3)
    assert (view.opened_at, view.retry_at) == (START, START + timedelta(seconds=30))
    assert changes == [(CircuitState.CLOSED, CircuitState.OPEN)]


def test_an_answer_resets_the_count(clock):
    breaker, _ = _breaker(clock)
    _fail(breaker, 2)
    breaker.record(breaker.admit(), Verdict.WORKING)
    _fail(breaker, 2)
    assert breaker.view().state is CircuitState.CLOSED
    assert breaker.view().consecutive_failures == 2


def test_calls_ending_without_a_verdict_change_nothing(clock):
    breaker, _ = _breaker(clock)
    _fail(breaker, 2)
    breaker.record(breaker.admit(), Verdict.NOTHING)  # cancelled: no evidence
    assert breaker.view().consecutive_failures == 2


def test_while_open_it_refuses_until_the_cool_down_has_passed(clock):
    breaker, _ = _breaker(clock)
    _open(breaker)
    clock.advance(10)
    with pytest.raises(ProviderCircuitOpen) as refused:
        breaker.admit()
    assert refused.value.retry_after_seconds == 20
    assert isinstance(refused.value, ProviderUnreachable)  # "never sent" everywhere
    assert refused.value.code == "provider_circuit_open"
    clock.advance(19.5)
    with pytest.raises(ProviderCircuitOpen) as refused:
        breaker.admit()
    assert refused.value.retry_after_seconds == 1  # rounded up, never 0
    clock.advance(0.5)
    assert breaker.view().state is CircuitState.HALF_OPEN


def test_half_open_lets_only_the_probes_through(clock):
    breaker, _ = _breaker(clock, CircuitPolicy(3, 30, half_open_probes=2))
    _fail(breaker, 3)
    clock.advance(30)
    first, second = breaker.admit(), breaker.admit()
    assert first.probe
    assert second.probe
    with pytest.raises(ProviderCircuitOpen):
        breaker.admit()
    breaker.record(first, Verdict.NOTHING)  # a probe slot is free again
    breaker.admit()


def test_a_probe_that_works_closes_it(clock):
    breaker, changes = _breaker(clock)
    _open(breaker)
    clock.advance(30)
    breaker.record(breaker.admit(), Verdict.WORKING)
    view = breaker.view()
    assert (view.state, view.consecutive_failures, view.opened_at, view.retry_at) == (
        CircuitState.CLOSED,
        0,
        None,
        None,
    )
    assert changes == [
        (CircuitState.CLOSED, CircuitState.OPEN),
        (CircuitState.OPEN, CircuitState.HALF_OPEN),
        (CircuitState.HALF_OPEN, CircuitState.CLOSED),
    ]
    # Closed again: it takes the whole threshold to open it anew.
    _fail(breaker, 2)
    assert breaker.view().state is CircuitState.CLOSED


def test_a_probe_that_fails_reopens_it_for_another_cool_down(clock):
    breaker, changes = _breaker(clock)
    _open(breaker)
    clock.advance(31)
    breaker.record(breaker.admit(), Verdict.FAILING)
    view = breaker.view()
    assert view.state is CircuitState.OPEN
    assert view.opened_at == START + timedelta(seconds=31)
    assert view.retry_at == START + timedelta(seconds=61)
    assert changes[-1] == (CircuitState.HALF_OPEN, CircuitState.OPEN)
    clock.advance(29)
    with pytest.raises(ProviderCircuitOpen):
        breaker.admit()
    clock.advance(1)
    assert breaker.admit().probe


def test_late_answers_say_nothing_about_a_newer_state(clock):
    breaker, _ = _breaker(clock)
    before = [breaker.admit() for _ in range(5)]  # in flight when it opens
    _fail(breaker, 3)
    breaker.record(before[0], Verdict.WORKING)
    assert breaker.view().state is CircuitState.OPEN  # a success sent earlier: ignored
    clock.advance(30)
    probe = breaker.admit()
    breaker.record(before[1], Verdict.FAILING)  # sent before: not the probe's verdict
    breaker.record(before[2], Verdict.WORKING)
    assert breaker.view().state is CircuitState.HALF_OPEN
    breaker.record(probe, Verdict.WORKING)
    assert breaker.view().state is CircuitState.CLOSED


def test_circuits_are_per_provider(clock):
    circuits = Circuits(POLICY, clock, providers=["a", "b"], listener=None)
    for _ in range(3):
        circuits.of("a").record(circuits.of("a").admit(), Verdict.FAILING)
    assert circuits.view("a").state is CircuitState.OPEN
    assert circuits.view("b").state is CircuitState.CLOSED
    assert circuits.view("nope") is None


# -- the executor: what counts, and nothing sent while open ------------------------------


class FakeTransport:
    def __init__(self) -> None:
        self.sent: list[HttpCall] = []
        self.fail_with: Exception | None = None

    async def send(self, provider: str, call: HttpCall) -> HttpReply:
        self.sent.append(call)
        if self.fail_with is not None:
            raise self.fail_with
        return HttpReply(200, b"{}", {})

    def longest_call(self, provider: str) -> float:
        return 1.0


class FakeConnector:
    name = "p"

    def scrub(self, text: str) -> str:
        return scrub_text(text)


CALL = HttpCall("POST", "/charge", b"{}", {}, {})


def _executor(clock: FakeClock) -> tuple[ConnectorExecutor, FakeTransport, Circuits]:
    transport = FakeTransport()
    circuits = Circuits(POLICY, clock, providers=["p"], listener=None)
    return ConnectorExecutor(transport, circuits), transport, circuits


def _raises(exc: Exception) -> Callable[[HttpReply], None]:
    def parse(reply: HttpReply) -> None:
        raise exc

    return parse


def _ok(reply: HttpReply) -> str:
    return "ok"


TECHNICAL = [
    pytest.param(ProviderUnreachable("p", "refused"), None, id="connect-error"),
    pytest.param(OutcomeUnknown("p", "read timeout"), None, id="timeout-or-reset"),
    pytest.param(None, OutcomeUnknown("p", "HTTP 503"), id="5xx"),
    pytest.param(None, ProviderProtocolError("p", "malformed JSON"), id="malformed"),
    pytest.param(None, KeyError("status"), id="parser-bug-on-a-reply"),
]


@pytest.mark.parametrize(("sending", "parsing"), TECHNICAL)
async def test_technical_failures_open_it_and_then_nothing_is_sent(clock, sending, parsing):
    executor, transport, circuits = _executor(clock)
    transport.fail_with = sending
    parse = _raises(parsing) if parsing is not None else _ok
    for _ in range(POLICY.failure_threshold):
        with pytest.raises((ProviderUnreachable, OutcomeUnknown, ProviderProtocolError)):
            await executor.execute(FakeConnector(), "authorize", CALL, parse)
    assert executor.circuit("p").state is CircuitState.OPEN
    assert len(transport.sent) == POLICY.failure_threshold
    transport.fail_with = None
    with pytest.raises(ProviderCircuitOpen):
        await executor.execute(FakeConnector(), "authorize", CALL, _ok)
    assert len(transport.sent) == POLICY.failure_threshold  # failed fast, not sent
    clock.advance(POLICY.open_seconds)
    assert await executor.execute(FakeConnector(), "authorize", CALL, _ok) == "ok"  # the probe
    assert circuits.view("p").state is CircuitState.CLOSED


DECLINES_AND_REFUSALS = [
    pytest.param(lambda reply: "declined", id="decline"),
    pytest.param(
        _raises(ProviderRejected("p", "HTTP 409", http_status=409, provider_message="no")),
        id="4xx-refusal",
    ),
    pytest.param(_raises(ProviderInputRefused("p", ["bad zip"])), id="validation-error"),
    pytest.param(_raises(ConnectorMisconfigured("p", "HTTP 401")), id="our-credentials"),
]


@pytest.mark.parametrize("parse", DECLINES_AND_REFUSALS)
async def test_answers_never_open_it_and_reset_the_count(clock, parse):
    executor, transport, _ = _executor(clock)
    for _ in range(10):
        try:
            await executor.execute(FakeConnector(), "authorize", CALL, parse)
        except ProviderRejected:
            pass
        except ConnectorMisconfigured:
            pass
    assert executor.circuit("p").state is CircuitState.CLOSED
    transport.fail_with = OutcomeUnknown("p", "timeout")
    for _ in range(POLICY.failure_threshold - 1):
        with pytest.raises(OutcomeUnknown):
            await executor.execute(FakeConnector(), "authorize", CALL, _ok)
    transport.fail_with = None
    with pytest.raises((ProviderRejected, ConnectorMisconfigured)):
        await executor.execute(FakeConnector(), "authorize", CALL, _raises_rejected())
    assert executor.circuit("p").consecutive_failures == 0


def _raises_rejected() -> Callable[[HttpReply], None]:
    return _raises(ProviderRejected("p", "HTTP 422", http_status=422, provider_message=None))


async def test_a_probe_that_fails_reopens_it_through_the_executor(clock):
    executor, transport, _ = _executor(clock)
    transport.fail_with = ProviderUnreachable("p", "refused")
    for _ in range(POLICY.failure_threshold):
        with pytest.raises(ProviderUnreachable):
            await executor.execute(FakeConnector(), "sync", CALL, _ok)
    clock.advance(POLICY.open_seconds)
    with pytest.raises(ProviderUnreachable) as probe:
        await executor.execute(FakeConnector(), "sync", CALL, _ok)
    assert not isinstance(probe.value, ProviderCircuitOpen)  # the probe was sent
    assert len(transport.sent) == POLICY.failure_threshold + 1
    assert executor.circuit("p").state is CircuitState.OPEN
    with pytest.raises(ProviderCircuitOpen):
        await executor.execute(FakeConnector(), "sync", CALL, _ok)
    assert len(transport.sent) == POLICY.failure_threshold + 1
