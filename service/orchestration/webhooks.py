"""Receiving provider notifications: verify, store raw, de-duplicate, apply once.

1. The signature is checked first; a forged one is refused and nothing is stored.
2. The raw body is stored under the provider's event id before anything else;
   a redelivery finds it and changes nothing (a copy still being processed is
   answered "retry later", and one whose processor died is processed again).
3. The event is matched to a payment (provider order id, else our id echoed in
   the provider's metadata); unmatched events are kept for operators.
4. `webhook_rules.decide` says what the event does; the payment change and the
   event's outcome are written in one transaction, so neither exists alone.
"""

import hashlib
from collections.abc import Mapping
from datetime import timedelta

import msgspec
import structlog

from service.domain.errors import (
    InvalidSignature,
    NotFound,
    ProviderProtocolError,
    WebhookInProgress,
)
from service.domain.ids import new_id
from service.domain.payments import Payment
from service.domain.ports import Capability, Clock, Connector, Ledger
from service.domain.webhooks import (
    FINAL,
    WebhookEvent,
    WebhookMark,
    WebhookRecord,
    WebhookStatus,
)
from service.orchestration.webhook_rules import decide

log = structlog.get_logger("webhooks")

# A stored copy younger than this is still being processed by someone else.
IN_PROGRESS = timedelta(seconds=60)
_ATTEMPTS = 3


class WebhookService:
    def __init__(self, ledger: Ledger, connectors: Mapping[str, Connector], clock: Clock) -> None:
        self._ledger = ledger
        self._connectors = connectors
        self._clock = clock

    def _connector(self, provider: str) -> Connector:
        connector = self._connectors.get(provider)
        if connector is None or Capability.WEBHOOKS not in connector.supports:
            raise NotFound(f"no notifications are taken from {provider!r}")
        return connector

    async def list_events(
        self, status: WebhookStatus | None, provider: str | None, limit: int
    ) -> list[WebhookRecord]:
        return list(await self._ledger.list_webhooks(status, provider, limit))

    async def receive(
        self, provider: str, headers: Mapping[str, str], body: bytes
    ) -> WebhookStatus:
        """Handle one delivery; return what became of it. Raises for a forged one."""
        connector = self._connector(provider)
        if not connector.verify_webhook(headers, body):
            log.warning("webhook_signature_invalid", provider=provider, size=len(body))
            raise InvalidSignature("the notification's signature does not match")
        try:
            event = connector.parse_webhook(body)
        except ProviderProtocolError as exc:
            return await self._unreadable(provider, body, exc.detail)
        record = WebhookRecord(
            id=new_id("evt"),
            provider=provider,
            event_id=event.event_id,
            event_type=event.raw_type,
            status=WebhookStatus.RECEIVED,
            received_at=self._clock.now(),
            payload=body,
        )
        stored = await self._ledger.record_webhook(record)
        if stored is not None:
            if stored.status in FINAL:
                log.info("webhook_duplicate", provider=provider, event_id=event.event_id)
                return stored.status
            if self._clock.now() - stored.received_at < IN_PROGRESS:
                raise WebhookInProgress("this event is being processed; deliver it again later")
            record = stored  # its first processor died: finish the job
        return await self._apply(record, event)

    async def _unreadable(self, provider: str, body: bytes, detail: str) -> WebhookStatus:
        # Signed by the provider but unreadable: keep it for operators, acknowledge it
        # (a redelivery would carry the same bytes).
        event_id = "sha256:" + hashlib.sha256(body).hexdigest()
        now = self._clock.now()
        record = WebhookRecord(
            id=new_id("evt"),
            provider=provider,
            event_id=event_id,
            event_type="unreadable",
            status=WebhookStatus.UNREADABLE,
            received_at=now,
            processed_at=now,
            payload=body,
            detail=detail[:500],
        )
        await self._ledger.record_webhook(record)
        log.error("webhook_unreadable", alert=True, provider=provider, detail=detail)
        return WebhookStatus.UNREADABLE

    async def _payment_for(self, provider: str, event: WebhookEvent) -> Payment | None:
        if event.provider_reference:
            found = await self._ledger.find_payment(provider, event.provider_reference)
            if found is not None:
                return found
        if event.payment_id:
            found = await self._ledger.get_payment(event.payment_id)
            if found is not None and found.provider == provider:
                return found
        return None

    async def _apply(self, record: WebhookRecord, event: WebhookEvent) -> WebhookStatus:
        for _ in range(_ATTEMPTS):
            payment = await self._payment_for(record.provider, event)
            if payment is None:
                return await self._mark(record, event, WebhookStatus.UNMATCHED, None, "no payment")
            decision = decide(payment, event, self._clock.now())
            if decision.after is None:
                return await self._mark(record, event, decision.status, payment.id, decision.detail)
            mark = WebhookMark(record.id, WebhookStatus.APPLIED, payment.id)
            after = msgspec.structs.replace(decision.after, version=payment.version + 1)
            if await self._ledger.save(
                payment, after, decision.resolve, decision.insert, event=mark
            ):
                log.info(
                    "webhook_applied",
                    provider=record.provider,
                    event_id=event.event_id,
                    event_type=event.raw_type,
                    payment_id=payment.id,
                    status=after.status,
                )
                return WebhookStatus.APPLIED
        # The payment kept changing under us: leave it received; the provider retries.
        raise WebhookInProgress("the payment changed while this event was applied; retry")

    async def _mark(
        self,
        record: WebhookRecord,
        event: WebhookEvent,
        status: WebhookStatus,
        payment_id: str | None,
        detail: str | None,
    ) -> WebhookStatus:
        await self._ledger.mark_webhook(WebhookMark(record.id, status, payment_id, detail))
        fields = {
            "provider": record.provider,
            "event_id": event.event_id,
            "event_type": event.raw_type,
            "payment_id": payment_id,
            "status": status,
            "detail": detail,
        }
        if status in (WebhookStatus.MISMATCH, WebhookStatus.UNMATCHED):
            # Money the ledger cannot account for: operators must look.
            log.error("webhook_not_applied", alert=status is WebhookStatus.MISMATCH, **fields)
        else:
            log.info("webhook_not_applied", **fields)
        return status
