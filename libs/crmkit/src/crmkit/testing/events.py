"""Helpers for tests of event flows: event tables on a scratch database, a service's outbox as the
relay sees it, and bounded polling (async and, for end-to-end tests, synchronous)."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar

from google.protobuf.message import Message
from google.protobuf.wrappers_pb2 import StringValue
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from sqlalchemy import MetaData, Table, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from crm.events.v1.envelope_pb2 import Envelope
from crmkit.db import SessionFactory, create_engine, session_factory
from crmkit.events import EventTables, add_event, event_tables, outbox_row

OCCURRED_AT = dt.datetime(2024, 3, 1, 9, 30, tzinfo=dt.UTC)
T = TypeVar("T")


def envelope_for(
    message: Message,
    *,
    tenant_id: str,
    org_unit_id: str,
    aggregate_id: str,
    aggregate_version: int,
    occurred_at: dt.datetime,
) -> Envelope:
    """The envelope a producer would publish for `message` (a test standing in for a producer
    that is not running, e.g. the gateway's user_changed)."""
    envelope, _ = outbox_row(
        message=message,
        tenant_id=tenant_id,
        org_unit_id=org_unit_id,
        aggregate_id=aggregate_id,
        aggregate_version=aggregate_version,
        occurred_at=occurred_at,
        actor_id="",
    )
    return envelope


@dataclass
class EventDb:
    """Outbox, inbox and dead-letter tables (plus any the test declares) on one database."""

    engine: AsyncEngine
    sessions: SessionFactory
    tables: EventTables
    metadata: MetaData

    async def count(self, table: Table) -> int:
        return await row_count(self.sessions, table)

    async def commit_event(
        self,
        *,
        service: str,
        event_name: str,
        namespace: str,
        message: Message | None = None,
        aggregate_id: str | None = None,
    ) -> Envelope:
        """Commit one event to the outbox on its own, as a service's caller would."""
        async with self.sessions() as session, session.begin():
            return await add_event(
                session,
                self.tables,
                service=service,
                event_name=event_name,
                message=message if message is not None else StringValue(value="1280.00"),
                tenant_id="tenant-1",
                org_unit_id="shop-1",
                aggregate_id=aggregate_id or str(uuid.uuid4()),
                aggregate_version=1,
                occurred_at=OCCURRED_AT,
                actor_id="finance-1",
                namespace=namespace,
            )


@dataclass
class EventBus:
    """A JetStream client and the namespace that keeps one test's streams and subjects apart."""

    nc: NATS
    js: JetStreamContext
    namespace: str


@asynccontextmanager
async def event_db(url: str, metadata: MetaData | None = None) -> AsyncIterator[EventDb]:
    """Create the event tables (and whatever else `metadata` holds) without migrations."""
    metadata = metadata if metadata is not None else MetaData()
    tables = event_tables(metadata)
    engine = create_engine(url, pool_size=2, max_overflow=2)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        yield EventDb(engine=engine, sessions=session_factory(engine), tables=tables, metadata=metadata)
    finally:
        await engine.dispose()


async def row_count(sessions: SessionFactory, table: Table) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


@dataclass(frozen=True)
class OutboxRow:
    """One event in a service's outbox: its subject, its envelope, and when the relay published it."""

    subject: str
    envelope: Envelope
    published_at: dt.datetime | None


async def outbox_rows(sessions: SessionFactory, tables: EventTables) -> list[OutboxRow]:
    """Every event in the outbox so far, in the order the relay publishes them (`seq`). Pass a
    runtime's or an `EventDb`'s `sessions` and `tables`."""
    outbox = tables.outbox
    async with sessions() as session:
        rows = (await session.execute(select(outbox).order_by(outbox.c.seq))).all()
    return [OutboxRow(row.subject, Envelope.FromString(row.envelope), row.published_at) for row in rows]


def all_published(rows: Sequence[OutboxRow]) -> bool:
    """There are events and the relay has published every one."""
    return bool(rows) and all(row.published_at is not None for row in rows)


def _give_up_after(within: float) -> Callable[[object], None]:
    """A check that fails, naming the last result seen, once `within` seconds have passed."""
    ends = time.monotonic() + within

    def give_up(last: object) -> None:
        if time.monotonic() >= ends:
            raise AssertionError(f"condition not met within {within}s; last result: {last!r}")

    return give_up


async def eventually(
    probe: Callable[[], Awaitable[T]],
    until: Callable[[T], bool] = bool,
    *,
    within: float = 10.0,
    interval: float = 0.05,
) -> T:
    """Await `probe` until `until` holds for its result and return that result; fail with the last
    one after `within` seconds instead of hanging. Without `until`, `probe` says whether it holds."""
    give_up = _give_up_after(within)
    while not until(result := await probe()):
        give_up(result)
        await asyncio.sleep(interval)
    return result


def eventually_sync(
    probe: Callable[[], T], until: Callable[[T], bool] = bool, *, within: float = 10.0, interval: float = 0.05
) -> T:
    """`eventually` for synchronous tests (end-to-end ones speak HTTP with a blocking client)."""
    give_up = _give_up_after(within)
    while not until(result := probe()):
        give_up(result)
        time.sleep(interval)
    return result
