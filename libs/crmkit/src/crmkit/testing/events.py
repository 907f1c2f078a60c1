"""Helpers for tests of event flows: event tables on a scratch database, and bounded polling."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from google.protobuf.message import Message
from google.protobuf.wrappers_pb2 import StringValue
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from sqlalchemy import MetaData, Table, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from crm.events.v1.envelope_pb2 import Envelope
from crmkit.db import SessionFactory, create_engine, session_factory
from crmkit.events import EventTables, add_event, event_tables

OCCURRED_AT = dt.datetime(2024, 3, 1, 9, 30, tzinfo=dt.UTC)


@dataclass
class EventDb:
    """Outbox, inbox and dead-letter tables (plus any the test declares) on one database."""

    engine: AsyncEngine
    sessions: SessionFactory
    tables: EventTables
    metadata: MetaData

    async def count(self, table: Table) -> int:
        async with self.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(table)) or 0)

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


async def eventually(check: Callable[[], Awaitable[bool]], *, attempts: int = 200, pause: float = 0.05) -> None:
    """Poll `check` until it holds; fail after a bounded number of attempts instead of hanging."""
    for _ in range(attempts):
        if await check():
            return
        await asyncio.sleep(pause)
    raise AssertionError(f"condition still false after {attempts} checks")
