"""Notifications of the PaySuper sandbox: signed POSTs to the merchant, retried, in background.

Each event is delivered by a background ``asyncio`` task of the app (never by the request
that caused it), through one ``httpx.AsyncClient`` opened at startup. A delivery attempt is
acknowledged by HTTP 200 only; any other status or a connection error is retried after each
of ``webhook_retry_delays``, then the delivery is given up. ``duplicates`` re-delivers the
same event (same id) that many more times after the first delivery finished, each a delivery
of its own with its retries. ``delivery_try`` counts every attempt of the event, duplicates
included (1 on the first). Held events wait for ``flush``, which delivers them one after
another (each with its retries and duplicates) in the requested order.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx
import msgspec

from ._paysuper_input import invalid
from ._paysuper_model import now_ns, timestamp

EXPIRY_NS = 86_400 * 1_000_000_000  # expires_at = created_at + 1 day
DELIVERY_TIMEOUT_SECONDS = 10.0
EVENT_LIMIT = 50_000  # long runs forget the oldest settled events (held ones are kept)
_ENCODER = msgspec.json.Encoder()


def signature(body: bytes, secret: str) -> str:
    """``Authorization: Signature <hex>``: the SHA-256 of the raw body + the secret key."""
    return hashlib.sha256(body + secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class DeliveryOptions:
    """How the control endpoints want an event delivered."""

    duplicates: int = 0
    hold: bool = False


@dataclass(slots=True)
class Event:
    """One notification and the story of its delivery."""

    id: str
    event: str
    order_id: str
    created_ns: int
    order: dict[str, Any]
    duplicates: int
    held: bool
    attempts: int = 0
    last_status: int | None = None
    last_error: str | None = None
    delivered: bool = False
    given_up: bool = False

    def body(self, delivery_try: int) -> bytes:
        """The raw JSON body of one attempt."""
        return _ENCODER.encode(
            {
                "id": self.id,
                "type": "notification",
                "event": self.event,
                "live": False,
                "created_at": timestamp(self.created_ns),
                "expires_at": timestamp(self.created_ns + EXPIRY_NS),
                "delivery_try": delivery_try,
                "object": self.order,
            }
        )

    def view(self) -> dict[str, Any]:
        """The entry of ``GET /_sandbox/webhooks``."""
        return {
            "event_id": self.id,
            "event": self.event,
            "order_id": self.order_id,
            "attempts": self.attempts,
            "last_status": self.last_status,
            "last_error": self.last_error,
            "delivered": self.delivered,
            "held": self.held,
            "given_up": self.given_up,
        }


class WebhookDispatcher:
    """The events of one sandbox and the background tasks delivering them."""

    def __init__(self, url: str | None, secret: str, delays: tuple[float, ...]) -> None:
        self._url = url
        self._secret = secret
        self._delays = delays
        self.events: dict[str, Event] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None

    # ---- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Open the shared HTTP client (the app's ``on_startup``; none without a URL)."""
        if self._client is None and self._url is not None:
            self._client = httpx.AsyncClient(timeout=DELIVERY_TIMEOUT_SECONDS)

    async def stop(self) -> None:
        """Cancel the deliveries in flight and close the client (the app's ``on_shutdown``)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def reset(self) -> None:
        """Forget every event and cancel the deliveries in flight."""
        for task in list(self._tasks):
            task.cancel()
        self.events.clear()

    @property
    def in_flight(self) -> int:
        """How many delivery tasks are running."""
        return len(self._tasks)

    # ---- events --------------------------------------------------------------------------

    def emit(
        self, event: str, order_id: str, order: dict[str, Any], options: DeliveryOptions
    ) -> Event:
        """Record an event and deliver it now (in background) unless it is held."""
        record = Event(
            id=str(uuid.uuid4()),
            event=event,
            order_id=order_id,
            created_ns=now_ns(),
            order=order,
            duplicates=options.duplicates,
            held=options.hold,
        )
        self.events[record.id] = record
        if len(self.events) > EVENT_LIMIT:
            self._forget_settled(len(self.events) - EVENT_LIMIT * 9 // 10)
        if not record.held:
            self._spawn([record])
        return record

    def _forget_settled(self, count: int) -> None:
        settled = [
            event.id
            for event in self.events.values()
            if not event.held and (self._url is None or event.delivered or event.given_up)
        ]
        for event_id in settled[:count]:
            del self.events[event_id]

    def flush(self, event_ids: list[str] | None) -> list[str]:
        """Deliver held events: all in creation order, or exactly the given ones in order."""
        if event_ids is None:
            chosen = [event for event in self.events.values() if event.held]
        else:
            if len(set(event_ids)) != len(event_ids):
                raise invalid("order must not repeat an event id")
            chosen = [self._held(event_id) for event_id in event_ids]
        for event in chosen:
            event.held = False
        if chosen:
            self._spawn(chosen)
        return [event.id for event in chosen]

    def _held(self, event_id: str) -> Event:
        event = self.events.get(event_id)
        if event is None or not event.held:
            raise invalid(f"order: event {event_id} is not a held event")
        return event

    def views(self) -> list[dict[str, Any]]:
        return [event.view() for event in self.events.values()]

    # ---- delivery ------------------------------------------------------------------------

    def _spawn(self, events: Iterable[Event]) -> None:
        if self._url is None:
            return  # recorded, never sent: there is nowhere to send it
        task = asyncio.get_running_loop().create_task(self._deliver_all(list(events)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver_all(self, events: list[Event]) -> None:
        for event in events:
            for _ in range(1 + event.duplicates):
                await self._deliver(event)

    async def _deliver(self, event: Event) -> None:
        if await self._attempt(event):
            return
        for delay in self._delays:
            await asyncio.sleep(delay)
            if await self._attempt(event):
                return
        event.given_up = True

    async def _attempt(self, event: Event) -> bool:
        if self._client is None:  # the app was not started through its lifespan
            await self.start()
        assert self._client is not None
        assert self._url is not None
        event.attempts += 1
        body = event.body(event.attempts)
        headers = {
            "Authorization": f"Signature {signature(body, self._secret)}",
            "Content-Type": "application/json",
        }
        try:
            response = await self._client.post(self._url, content=body, headers=headers)
        except (httpx.HTTPError, httpx.InvalidURL, OSError) as error:
            event.last_status, event.last_error = None, f"{type(error).__name__}: {error}"
            return False
        event.last_status, event.last_error = response.status_code, None
        if response.status_code == 200:
            event.delivered, event.given_up = True, False
            return True
        return False
