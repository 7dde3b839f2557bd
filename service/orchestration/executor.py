"""The connector executor: the one place provider calls are sent, timed and logged.

Connectors only translate. Sending, timing, metrics and the scrubbed exchange log
are written here once for every provider. Retries happen only in the transport
and only for connect errors (the request provably never left).
"""

import time
from collections.abc import Callable
from typing import TypeVar

import structlog

from service.domain.errors import (
    ConnectorError,
    OutcomeUnknown,
    ProviderProtocolError,
    ProviderUnreachable,
)
from service.domain.outcomes import HttpCall, HttpReply
from service.domain.ports import Connector, Transport
from service.observability import PROVIDER_CALLS, PROVIDER_LATENCY, child

T = TypeVar("T")
log = structlog.get_logger("provider")


class ConnectorExecutor:
    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def longest_call(self, provider: str) -> float:
        """Seconds after which a call to `provider` has certainly ended (its time limit)."""
        return self._transport.longest_call(provider)

    async def execute(
        self,
        connector: Connector,
        operation: str,
        call: HttpCall,
        parse: Callable[[HttpReply], T],
    ) -> T:
        """Send `call`, parse the reply; connector errors propagate, classified."""
        started = time.perf_counter()
        outcome = "ok"
        status: int | None = None
        try:
            reply = await self._transport.send(connector.name, call)
            status = reply.status
            try:
                return parse(reply)
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
        except ProviderUnreachable:
            outcome = "unreachable"
            raise
        except OutcomeUnknown:
            outcome = "unknown"
            raise
        except ConnectorError as exc:
            outcome = exc.code
            raise
        except Exception:
            outcome = "error"
            raise
        finally:
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
