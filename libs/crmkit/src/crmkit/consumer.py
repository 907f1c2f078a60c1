"""Idempotent event consumer: durable JetStream pull consumer + inbox + dead-letter table."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping

from google.protobuf.message import DecodeError
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from opentelemetry import propagate, trace
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crm.events.v1.envelope_pb2 import Envelope
from crmkit.clock import Clock, utcnow
from crmkit.db import SessionFactory
from crmkit.events import EventTables
from crmkit.metrics import CONSUMER_DEAD_LETTERS, CONSUMER_EVENTS

log = logging.getLogger(__name__)
tracer = trace.get_tracer("crmkit.consumer")

EventHandler = Callable[[AsyncSession, Envelope], Awaitable[None]]
OUTCOMES = ("handled", "duplicate", "ignored", "retried", "dead_lettered")
# How often a consumer looks again for a stream that does not exist yet.
STREAM_WAIT_SECONDS = 1.0


class PermanentEventError(Exception):
    """The event can never be handled (bad payload, broken invariant): dead-letter it."""


def retry_delay(deliveries: int, *, base: float = 0.5, cap: float = 60.0) -> float:
    """Exponential backoff for a nak, by how often the broker has delivered the message."""
    try:
        return float(min(cap, base * (2 ** max(deliveries - 1, 0))))
    except OverflowError:
        # A consumer left to redeliver long enough grows past what a float holds: that is the cap.
        return float(cap)


class EventConsumer:
    """Runs handlers keyed by event type; each handler runs in a transaction with its inbox row."""

    def __init__(
        self,
        *,
        name: str,
        js: JetStreamContext,
        stream: str,
        filter_subject: str,
        namespace: str,
        sessions: SessionFactory,
        tables: EventTables,
        handlers: Mapping[str, EventHandler],
        max_deliver: int = 10,
        batch_size: int = 100,
        ack_wait: float = 30.0,
        clock: Clock = utcnow,
    ) -> None:
        self.name = name
        self._js = js
        self._stream = stream
        self._filter = filter_subject
        self._namespace = namespace
        self._sessions = sessions
        self._tables = tables
        self._handlers = dict(handlers)
        self._max_deliver = max_deliver
        self._batch_size = batch_size
        self._ack_wait = ack_wait
        self._clock = clock
        # Series an alert or panel reads exist from the start at 0, so increase() sees the
        # first dead letter (a series born at 1 has no earlier sample to increase from).
        CONSUMER_DEAD_LETTERS.labels(name)
        for outcome in OUTCOMES:
            CONSUMER_EVENTS.labels(name, outcome)

    async def run(self, stop: asyncio.Event) -> None:
        subscription = await self._subscribe(stop)
        while subscription is not None and not stop.is_set():
            try:
                messages = await subscription.fetch(self._batch_size, timeout=1.0)
            except (NatsTimeoutError, TimeoutError):
                continue
            except Exception:
                log.exception("fetch failed for consumer %s", self.name)
                await asyncio.sleep(1.0)
                continue
            for message in messages:
                try:
                    await self.handle_message(message)
                except Exception:
                    # Acking, nak-ing or dead-lettering failed (broker or database away): the
                    # message stays unacknowledged and is redelivered after ack_wait.
                    log.exception("consumer %s could not settle a message; it will be redelivered", self.name)
                    await asyncio.sleep(1.0)

    async def _subscribe(self, stop: asyncio.Event) -> JetStreamContext.PullSubscription | None:
        """The durable on the producer's stream. Only the producer creates its stream (its NATS
        user alone may), so until the producer has started once, wait for it."""
        waiting = False
        while not stop.is_set():
            try:
                return await self._js.pull_subscribe(
                    self._filter,
                    durable=self.name,
                    stream=self._stream,
                    config=ConsumerConfig(
                        durable_name=self.name,
                        ack_policy=AckPolicy.EXPLICIT,
                        deliver_policy=DeliverPolicy.ALL,
                        ack_wait=self._ack_wait,
                        # The broker's own limit is a safety net; we dead-letter before reaching it.
                        max_deliver=self._max_deliver + 5,
                        filter_subject=self._filter,
                    ),
                )
            except NotFoundError:
                if not waiting:
                    log.warning("consumer %s waits for stream %s, not created yet", self.name, self._stream)
                    waiting = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=STREAM_WAIT_SECONDS)
        return None

    async def handle_message(self, message: Msg) -> None:
        deliveries = message.metadata.num_delivered or 1
        try:
            envelope = Envelope.FromString(message.data)
        except DecodeError as exc:
            await self._dead_letter(message, None, f"undecodable envelope: {exc}", deliveries)
            return
        if not envelope.id or not envelope.type:
            # An empty body (or one of only unknown fields) decodes cleanly; it is still not an event.
            await self._dead_letter(message, None, "undecodable envelope: no id or type", deliveries)
            return
        if message.subject != f"{self._namespace}{envelope.type}":
            # NATS lets a service publish on its own subjects only, so the subject names the
            # producer; an envelope claiming another type (another service's event) is forged.
            error = f"envelope of type {envelope.type} on subject {message.subject}: the type must match the subject"
            await self._dead_letter(message, envelope.id, error, deliveries)
            return
        handler = self._handlers.get(envelope.type)
        if handler is None:
            CONSUMER_EVENTS.labels(self.name, "ignored").inc()
            await message.ack()
            return
        parent = propagate.extract({"traceparent": envelope.traceparent, "tracestate": envelope.tracestate})
        with tracer.start_as_current_span(f"consume {envelope.type}", context=parent, kind=trace.SpanKind.CONSUMER):
            try:
                outcome = await self._apply(envelope, message.subject, handler)
            except PermanentEventError as exc:
                await self._dead_letter(message, envelope.id, str(exc), deliveries)
                return
            except Exception as exc:
                if deliveries >= self._max_deliver:
                    await self._dead_letter(message, envelope.id, f"{type(exc).__name__}: {exc}", deliveries)
                    return
                delay = retry_delay(deliveries)
                log.warning(
                    "event %s failed (delivery %d), retrying in %.1fs: %s",
                    envelope.id,
                    deliveries,
                    delay,
                    exc,
                )
                CONSUMER_EVENTS.labels(self.name, "retried").inc()
                await message.nak(delay=delay)
                return
        CONSUMER_EVENTS.labels(self.name, outcome).inc()
        await message.ack()

    async def _apply(self, envelope: Envelope, subject: str, handler: EventHandler) -> str:
        """Insert the inbox row and run the handler in one transaction; a seen id is a no-op."""
        inbox = self._tables.inbox
        for _attempt in range(2):
            try:
                async with self._sessions() as session, session.begin():
                    seen = await session.scalar(
                        select(inbox.c.event_id).where(inbox.c.consumer == self.name, inbox.c.event_id == envelope.id)
                    )
                    if seen is not None:
                        return "duplicate"
                    # Values as parameters: keying a statement with them inlined costs more than the insert.
                    await session.execute(
                        inbox.insert(),
                        {
                            "consumer": self.name,
                            "event_id": envelope.id,
                            "subject": subject,
                            "received_at": self._clock(),
                        },
                    )
                    await handler(session, envelope)
                return "handled"
            except IntegrityError:
                # Another replica handled the same id concurrently; the re-check settles it.
                continue
        raise RuntimeError(f"event {envelope.id} kept conflicting in the inbox")

    async def _dead_letter(self, message: Msg, event_id: str | None, error: str, deliveries: int) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(
                self._tables.dead_letters.insert().values(
                    id=str(uuid.uuid4()),
                    consumer=self.name,
                    event_id=event_id,
                    subject=message.subject,
                    payload=message.data,
                    error=error[:4000],
                    deliveries=deliveries,
                    failed_at=self._clock(),
                )
            )
        CONSUMER_EVENTS.labels(self.name, "dead_lettered").inc()
        CONSUMER_DEAD_LETTERS.labels(self.name).inc()
        log.error("event %s dead-lettered by %s: %s", event_id, self.name, error)
        await message.term()
