"""Outbox relay: publishes committed outbox rows to JetStream, marks them on the broker's ack."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from nats.js import JetStreamContext
from sqlalchemy import func, select, update

from crm.events.v1.envelope_pb2 import Envelope
from crmkit.clock import Clock, as_utc, utcnow
from crmkit.db import SessionFactory
from crmkit.events import EventTables
from crmkit.metrics import OUTBOX_FAILURES, OUTBOX_OLDEST_AGE, OUTBOX_PUBLISHED, OUTBOX_UNPUBLISHED

log = logging.getLogger(__name__)


class OutboxRelay:
    """Never drops a row: a row leaves the unpublished set only when JetStream acked it.

    Several replicas may run at once: on PostgreSQL rows are claimed with SKIP LOCKED, and the
    event id doubles as Nats-Msg-Id so a row published twice is stored once by the broker.
    """

    def __init__(
        self,
        *,
        service: str,
        sessions: SessionFactory,
        tables: EventTables,
        js: JetStreamContext,
        batch_size: int = 1000,
        idle_interval: float = 0.1,
        min_backoff: float = 0.5,
        max_backoff: float = 30.0,
        gauge_interval: float = 5.0,
        ack_timeout: float = 5.0,
        clock: Clock = utcnow,
    ) -> None:
        self._service = service
        self._sessions = sessions
        self._tables = tables
        self._js = js
        self._batch_size = batch_size
        self._idle_interval = idle_interval
        self._min_backoff = min_backoff
        self._max_backoff = max_backoff
        self._ack_timeout = ack_timeout
        self._clock = clock
        self._wake = asyncio.Event()
        # The gauges cost a COUNT over the outbox; Prometheus scrapes every ~15 s, so refreshing
        # them on every 100 ms poll would be wasted queries.
        self._gauge_interval = gauge_interval
        self._gauges_due = 0.0
        # Present from the start (at 0), so alerts and panels have a series before any event.
        OUTBOX_PUBLISHED.labels(service)
        OUTBOX_FAILURES.labels(service)
        OUTBOX_UNPUBLISHED.labels(service).set(0)
        OUTBOX_OLDEST_AGE.labels(service).set(0)

    def wake(self) -> None:
        """Publish now rather than at the next poll (called after a commit that wrote events)."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        backoff = self._min_backoff
        while not stop.is_set():
            delay, failed = 0.0, False
            try:
                if not await self.publish_pending():
                    delay = self._idle_interval
                backoff = self._min_backoff
            except Exception:
                OUTBOX_FAILURES.labels(self._service).inc()
                log.exception("outbox relay failed; retrying in %.1fs", backoff)
                delay, failed = backoff, True
                backoff = min(backoff * 2, self._max_backoff)
            await self._refresh_gauges_when_due()
            if delay:
                await self._pause(stop, delay, wakeable=not failed)

    async def _pause(self, stop: asyncio.Event, delay: float, *, wakeable: bool = True) -> None:
        """Sleep until the delay passes, a commit wakes us (not during a backoff: a row the broker
        refuses would otherwise be sent again on every commit), or the process stops."""
        self._wake.clear()
        waiters = [asyncio.ensure_future(stop.wait())]
        if wakeable:
            waiters.append(asyncio.ensure_future(self._wake.wait()))
        try:
            await asyncio.wait(waiters, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def publish_pending(self) -> int:
        """Publish one batch in order; returns how many rows JetStream acknowledged."""
        outbox = self._tables.outbox
        published = 0
        async with self._sessions() as session, session.begin():
            query = (
                select(outbox.c.seq, outbox.c.event_id, outbox.c.subject, outbox.c.envelope)
                .where(outbox.c.published_at.is_(None))
                .order_by(outbox.c.seq)
                .limit(self._batch_size)
            )
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = (await session.execute(query)).all()
            done, failure = await self._publish_in_order(rows)
            now = self._clock()
            if done:
                await session.execute(update(outbox).where(outbox.c.seq.in_(done)).values(published_at=now))
                published = len(done)
                OUTBOX_PUBLISHED.labels(self._service).inc(published)
            if failure is not None:
                # Keep order: stop at the first failure and raise so run() backs off.
                await session.execute(
                    update(outbox)
                    .where(outbox.c.seq == failure[0])
                    .values(attempts=outbox.c.attempts + 1, last_error=failure[1][:2000])
                )
        if failure is not None:
            raise RuntimeError(f"publishing outbox row {failure[0]} failed: {failure[1]}")
        return published

    async def _publish_in_order(self, rows: Sequence[Any]) -> tuple[list[int], tuple[int, str] | None]:
        """Send the batch without waiting for each ack (the connection keeps them in order on
        the wire, so the stream stores them in order), then collect the acks in order: the rows
        acked before the first failure are done. A row after a failure that was stored anyway is
        sent again next time and stored once, by its Nats-Msg-Id."""
        sent: list[tuple[int, asyncio.Future[Any]]] = []
        failure: tuple[int, str] | None = None
        try:
            for row in rows:
                # No stall timeout: a batch is far below the client's limit of pending acks, and
                # a timeout per message would cost a task and a timer each.
                future = await self._js.publish_async(
                    row.subject, row.envelope, headers=_headers(row.event_id, row.envelope)
                )
                sent.append((row.seq, future))
        except Exception as exc:
            failure = (rows[len(sent)].seq, f"{type(exc).__name__}: {exc}")
        if sent:
            # One wait for the whole batch's acks; the ones still missing then count as failed.
            await asyncio.wait([future for _, future in sent], timeout=self._ack_timeout)
        done: list[int] = []
        for seq, future in sent:
            if failure is not None:
                future.cancel()
                continue
            if not future.done():
                future.cancel()
                failure = (seq, "TimeoutError: no ack from JetStream")
            elif future.cancelled() or future.exception() is not None:
                error = future.exception() if not future.cancelled() else asyncio.CancelledError()
                failure = (seq, f"{type(error).__name__}: {error}")
            else:
                done.append(seq)
        return done, failure

    async def _refresh_gauges_when_due(self) -> None:
        now = asyncio.get_running_loop().time()
        if now < self._gauges_due:
            return
        self._gauges_due = now + self._gauge_interval
        try:
            await self.refresh_gauges()
        except Exception:
            log.exception("could not refresh outbox gauges")

    async def refresh_gauges(self) -> None:
        outbox = self._tables.outbox
        async with self._sessions() as session:
            count, oldest = (
                await session.execute(
                    select(func.count(), func.min(outbox.c.created_at)).where(outbox.c.published_at.is_(None))
                )
            ).one()
        OUTBOX_UNPUBLISHED.labels(self._service).set(count)
        OUTBOX_OLDEST_AGE.labels(self._service).set(oldest_age(oldest, self._clock()))


def _headers(event_id: str, serialized: bytes) -> dict[str, str]:
    """Broker de-duplication by event id, and W3C trace context for consumers that read headers."""
    headers = {"Nats-Msg-Id": event_id}
    envelope = Envelope.FromString(serialized)
    if envelope.traceparent:
        headers["traceparent"] = envelope.traceparent
        if envelope.tracestate:
            headers["tracestate"] = envelope.tracestate
    return headers


def oldest_age(oldest: dt.datetime | None, now: dt.datetime) -> float:
    return 0.0 if oldest is None else max((now - as_utc(oldest)).total_seconds(), 0.0)
