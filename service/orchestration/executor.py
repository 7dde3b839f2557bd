"""The connector executor: the one place provider calls are sent, timed and logged.

Connectors only translate. Sending, timing, metrics and the scrubbed exchange log
are written here once for every provider. Retries happen only in the transport
and only for connect errors (the request provably never left). Every call passes
its provider's circuit breaker (`service.orchestration.circuit`): while it is open
nothing is sent and the call fails as "never sent".
"""

import time
from collections.abc import Callable
from typing import TypeVar

import structlog

from service.domain.errors import (
    ConnectorError,
    OutcomeUnknown,
    ProviderCircuitOpen,
    ProviderProtocolError,
    ProviderUnreachable,
)
from service.domain.outcomes import HttpCall, HttpReply
from service.domain.ports import Connector, Transport
from service.observability import (
    CIRCUIT_SHORT_CIRCUITED,
    PROVIDER_CALLS,
    PROVIDER_LATENCY,
    child,
)
from service.orchestration.circuit import Circuits, CircuitView, Verdict

T = TypeVar("T")
log = structlog.get_logger("provider")


class ConnectorExecutor:
    def __init__(self, transport: Transport, circuits: Circuits) -> None:
        self._transport = transport
        self._circuits = circuits

    def longest_call(self, provider: str) -> float:
        """Seconds after which a call to `provider` has certainly ended (its time limit)."""
        return self._transport.longest_call(provider)

    def circuit(self, provider: str) -> CircuitView | None:
        """The provider's circuit breaker in this process; None when it is not enabled."""
        return self._circuits.view(provider)

    async def execute(
        self,
        connector: Connector,
        operation: str,
        call: HttpCall,
        parse: Callable[[HttpReply], T],
    ) -> T:
        """Send `call`, parse the reply; connector errors propagate, classified.

        ProviderCircuitOpen (nothing sent) while the provider's circuit is open.
        """
        breaker = self._circuits.of(connector.name)
        try:
            admission = breaker.admit()
        except ProviderCircuitOpen:
            child(CIRCUIT_SHORT_CIRCUITED, connector.name, operation).inc()
            log.debug("provider_call_short_circuited", provider=connector.name, operation=operation)
            raise
        started = time.perf_counter()
        outcome = "ok"
        status: int | None = None
        verdict = Verdict.NOTHING
        try:
            reply = await self._transport.send(connector.name, call)
            status = reply.status
            try:
                parsed = parse(reply)
            except ProviderProtocolError:
                self._unreadable(connector, operation, reply)
                raise
            except ConnectorError:
                raise
            except Exception as exc:
                # A bug reading a reply must not lose the payment: the call was sent,
                # so the outcome is unknown, never a failure.
                self._unreadable(connector, operation, reply, exc)
                raise ProviderProtocolError(connector.name, f"unreadable reply: {exc!r}") from exc
            verdict = Verdict.WORKING
            return parsed
        except ProviderUnreachable:
            outcome, verdict = "unreachable", Verdict.FAILING
            raise
        except OutcomeUnknown:
            outcome, verdict = "unknown", Verdict.FAILING
            raise
        except ConnectorError as exc:
            outcome = exc.code
            # An unreadable reply is a technical failure; any other answer (a refusal,
            # our credentials refused) comes from a provider that works.
            failing = isinstance(exc, ProviderProtocolError)
            verdict = Verdict.FAILING if failing else Verdict.WORKING
            raise
        except Exception:
            outcome = "error"
            raise
        finally:
            breaker.record(admission, verdict)
            elapsed = time.perf_counter() - started
            child(PROVIDER_CALLS, connector.name, operation, outcome).inc()
            child(PROVIDER_LATENCY, connector.name, operation).observe(elapsed)
            log.info(
                "provider_call",
                provider=connector.name,
                operation=operation,
                method=call.method,
                path=connector.scrub(call.path),
                http_status=status,
                outcome=outcome,
                duration_ms=round(elapsed * 1000, 1),
            )

    @staticmethod
    def _unreadable(
        connector: Connector, operation: str, reply: HttpReply, exc: Exception | None = None
    ) -> None:
        log.error(
            "provider_reply_unreadable",
            provider=connector.name,
            operation=operation,
            http_status=reply.status,
            body=connector.scrub(reply.body[:2000].decode("utf-8", "replace")),
            exc_info=exc,
        )
