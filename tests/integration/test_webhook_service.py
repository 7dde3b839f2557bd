"""WebhookService with the real ledger: storage first, once-only application, recovery."""

import hashlib
import json
import uuid
from datetime import timedelta

import pytest

from service.connectors import PaySuperConnector
from service.domain.errors import InvalidSignature, WebhookInProgress
from service.domain.ids import new_id
from service.domain.payments import ActionPurpose, NextAction, PaymentStatus
from service.domain.webhooks import WebhookRecord, WebhookStatus
from service.orchestration.webhooks import IN_PROGRESS, WebhookService
from tests.integration.factories import created_payment, insert_api_key, now

SECRET = "webhook-test-secret"


class Clock:
    def __init__(self) -> None:
        self.at = now()

    def now(self):  # type: ignore[no-untyped-def]
        return self.at


def _body(order_id: str, event: str = "payment.success", amount: float = 10.0) -> bytes:
    return json.dumps(
        {
            "id": str(uuid.uuid4()),
            "type": "notification",
            "event": event,
            "object": {"id": order_id, "status": "created", "amount": amount, "currency": "eur"},
        }
    ).encode()


def _headers(body: bytes) -> dict[str, str]:
    return {"Authorization": "Signature " + hashlib.sha256(body + SECRET.encode()).hexdigest()}


@pytest.fixture
async def waiting_payment(ledger):  # type: ignore[no-untyped-def]
    key = await insert_api_key(ledger)
    order = str(uuid.uuid4())
    payment, _ = await created_payment(
        ledger,
        key.id,
        provider="paysuper",
        status=PaymentStatus.REQUIRES_ACTION,
        provider_reference=order,
        next_action=NextAction("redirect", "https://pay", purpose=ActionPurpose.HOSTED_PAGE),
    )
    return payment, order


def _service(ledger, clock):  # type: ignore[no-untyped-def]
    connector = PaySuperConnector("project", SECRET)
    return WebhookService(ledger, {"paysuper": connector}, clock)


async def test_applies_once_and_acknowledges_redeliveries(ledger, waiting_payment):
    payment, order = waiting_payment
    service = _service(ledger, Clock())
    body = _body(order)
    assert await service.receive("paysuper", _headers(body), body) is WebhookStatus.APPLIED
    assert await service.receive("paysuper", _headers(body), body) is WebhookStatus.APPLIED
    after = await ledger.get_payment(payment.id)
    assert after.status is PaymentStatus.CAPTURED
    assert len(after.operations) == 2


async def test_a_forged_event_stores_nothing(ledger, waiting_payment):
    _, order = waiting_payment
    service = _service(ledger, Clock())
    body = _body(order)
    with pytest.raises(InvalidSignature):
        await service.receive("paysuper", {"Authorization": "Signature 00"}, body)
    event_id = json.loads(body)["id"]
    rows = await ledger.list_webhooks(None, "paysuper", 200)
    assert all(r.event_id != event_id for r in rows)


async def test_a_copy_in_progress_is_retried_later_and_a_dead_one_is_finished(
    ledger, waiting_payment
):
    payment, order = waiting_payment
    clock = Clock()
    service = _service(ledger, clock)
    body = _body(order)
    event_id = json.loads(body)["id"]
    # A first delivery stored the event, then its process died before applying it.
    stored = WebhookRecord(
        id=new_id("evt"),
        provider="paysuper",
        event_id=event_id,
        event_type="payment.success",
        status=WebhookStatus.RECEIVED,
        received_at=clock.now(),
        payload=body,
    )
    assert await ledger.record_webhook(stored) is None
    with pytest.raises(WebhookInProgress):  # too recent: maybe still being processed
        await service.receive("paysuper", _headers(body), body)
    clock.at += IN_PROGRESS + timedelta(seconds=1)
    assert await service.receive("paysuper", _headers(body), body) is WebhookStatus.APPLIED
    assert (await ledger.get_payment(payment.id)).status is PaymentStatus.CAPTURED
    [row] = [r for r in await ledger.list_webhooks(None, "paysuper", 200) if r.event_id == event_id]
    assert (row.id, row.status, row.payment_id) == (stored.id, WebhookStatus.APPLIED, payment.id)


async def test_payment_and_event_outcome_are_written_together(ledger, waiting_payment):
    payment, order = waiting_payment
    service = _service(ledger, Clock())
    body = _body(order)
    await service.receive("paysuper", _headers(body), body)
    event_id = json.loads(body)["id"]
    [row] = [r for r in await ledger.list_webhooks(None, "paysuper", 200) if r.event_id == event_id]
    assert row.processed_at is not None
    assert (await ledger.get_payment(payment.id)).version == payment.version + 1
