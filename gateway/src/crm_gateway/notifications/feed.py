"""Pushing new notifications to the open SSE streams of every gateway replica.

The customer events are consumed by one durable consumer shared by the replicas, so the replica
that writes a notification is usually not the one holding the recipient's stream. On PostgreSQL
the writing transaction calls `pg_notify` (delivered to every listening connection when, and only
when, it commits) and each replica LISTENs on one connection of its own and wakes its local
streams of that user. The embedded SQLite default is one process, so there the announcement goes
straight to the local streams after the commit. A stream only learns an id and reads the row
itself, so nothing of the notice travels through the channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
from sqlalchemy import event, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

CHANNEL = "crm_notifications"
# A stream keeps at most this many ids it has not sent yet; past it the oldest are dropped (a
# client that slow is shown them by the list, which is the record).
STREAM_BACKLOG = 100
RECONNECT_SECONDS = 2.0


class NotificationFeed:
    """This replica's open streams, by user; fed by LISTEN (PostgreSQL) or after commit (SQLite)."""

    def __init__(self, database_url: URL) -> None:
        self._url = database_url
        self._postgres = database_url.get_backend_name() == "postgresql"
        self._streams: dict[str, set[asyncio.Queue[str]]] = defaultdict(set)

    async def announce(self, session: AsyncSession, *, user_id: str, notification_id: str) -> None:
        """Inside the transaction that wrote the notification; heard once it commits."""
        if self._postgres:
            await session.execute(
                text("SELECT pg_notify(:channel, :payload)"),
                {"channel": CHANNEL, "payload": f"{user_id} {notification_id}"},
            )
            return

        def after_commit(_: Session) -> None:
            self.deliver(user_id, notification_id)

        event.listen(session.sync_session, "after_commit", after_commit, once=True)

    def deliver(self, user_id: str, notification_id: str) -> None:
        for queue in self._streams.get(user_id, ()):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(notification_id)

    @contextlib.asynccontextmanager
    async def subscribe(self, user_id: str) -> AsyncIterator[asyncio.Queue[str]]:
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=STREAM_BACKLOG)
        self._streams[user_id].add(queue)
        try:
            yield queue
        finally:
            streams = self._streams.get(user_id)
            if streams is not None:
                streams.discard(queue)
                if not streams:
                    del self._streams[user_id]

    async def listen(self, stop: asyncio.Event) -> None:
        """The replica's LISTEN connection (PostgreSQL only), reopened when it drops."""
        if not self._postgres:
            return
        dsn = self._url.set(drivername="postgresql").render_as_string(hide_password=False)
        while not stop.is_set():
            try:
                connection = await asyncpg.connect(dsn)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("notification feed cannot listen yet: %s", exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=RECONNECT_SECONDS)
                continue
            try:
                await self._listen_on(connection, stop)
            finally:
                with contextlib.suppress(Exception):
                    await connection.close(timeout=2)

    async def _listen_on(self, connection: asyncpg.Connection, stop: asyncio.Event) -> None:
        """Until the process stops or the connection is lost."""
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _: lost.set())
        await connection.add_listener(CHANNEL, self._heard)
        waiters = [asyncio.create_task(stop.wait()), asyncio.create_task(lost.wait())]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    def _heard(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        user_id, _, notification_id = payload.partition(" ")
        self.deliver(user_id, notification_id)
