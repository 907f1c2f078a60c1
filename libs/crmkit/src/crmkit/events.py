"""Event tables every service shares the shape of (outbox, inbox, dead letters) and subjects."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from opentelemetry import propagate
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from crm.events.v1.envelope_pb2 import Envelope
from crmkit.clock import utcnow


@dataclass(frozen=True)
class EventTables:
    outbox: Table
    inbox: Table
    dead_letters: Table


def event_tables(metadata: MetaData) -> EventTables:
    """Declare the outbox, inbox and dead-letter tables in a service's own metadata (once: a
    second call returns the tables already declared)."""
    if "outbox" in metadata.tables:
        return EventTables(
            outbox=metadata.tables["outbox"],
            inbox=metadata.tables["inbox"],
            dead_letters=metadata.tables["dead_letters"],
        )
    outbox = Table(
        "outbox",
        metadata,
        # Sequence gives publication order; SQLite only autoincrements an INTEGER primary key.
        Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("subject", String(200), nullable=False),
        Column("envelope", LargeBinary, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("published_at", DateTime(timezone=True), nullable=True),
        Column("attempts", Integer, nullable=False, default=0),
        Column("last_error", Text, nullable=True),
    )
    Index(
        "ix_outbox_unpublished",
        outbox.c.seq,
        postgresql_where=outbox.c.published_at.is_(None),
        sqlite_where=outbox.c.published_at.is_(None),
    )
    inbox = Table(
        "inbox",
        metadata,
        Column("consumer", String(100), primary_key=True),
        Column("event_id", String(36), primary_key=True),
        Column("subject", String(200), nullable=False),
        Column("received_at", DateTime(timezone=True), nullable=False),
    )
    dead_letters = Table(
        "dead_letters",
        metadata,
        Column("id", String(36), primary_key=True),
        Column("consumer", String(100), nullable=False),
        Column("event_id", String(36), nullable=True),
        Column("subject", String(200), nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("error", Text, nullable=False),
        Column("deliveries", Integer, nullable=False),
        Column("failed_at", DateTime(timezone=True), nullable=False),
    )
    return EventTables(outbox=outbox, inbox=inbox, dead_letters=dead_letters)


# An event's name, its producer and its subject all come from its protobuf message, so they are
# written once: `crm.customer.v1.CustomerCreated` is event `customer_created` of `customer`.
_PACKAGE = re.compile(r"^crm\.([a-z][a-z0-9_]*)\.v[0-9]+$")
_WORD_START = re.compile(r"(?<!^)(?=[A-Z])")


def event_name_of(message_type: type[Message]) -> str:
    return _WORD_START.sub("_", message_type.DESCRIPTOR.name).lower()


def producer_of(message_type: type[Message]) -> str:
    """The service that publishes this event: the `<service>` of its `crm.<service>.v1` package."""
    package = message_type.DESCRIPTOR.file.package
    found = _PACKAGE.match(package)
    if found is None:
        raise ValueError(f"{message_type.DESCRIPTOR.full_name} is not in a crm.<service>.v1 package")
    return found.group(1)


def event_type_of(message_type: type[Message]) -> str:
    return event_type(producer_of(message_type), event_name_of(message_type))


def subject_for(service: str, event_name: str, namespace: str = "") -> str:
    """crm.<service>.v1.<event_name>, optionally under a namespace (isolated test runs)."""
    return f"{namespace}crm.{service}.v1.{event_name}"


def event_type(service: str, event_name: str) -> str:
    return f"crm.{service}.v1.{event_name}"


def stream_name(service: str, namespace: str = "") -> str:
    prefix = namespace.rstrip(".").replace(".", "_")
    return f"{prefix + '_' if prefix else ''}CRM_{service.upper()}"


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def timestamp_of(value: dt.datetime) -> Timestamp:
    # Timestamp.FromDatetime goes through a time tuple and calendar.timegm; a batch that
    # snapshots thousands of customers spends a tenth of the snapshot there. The difference to
    # the epoch gives the same seconds and nanos (a naive value is local time, as astimezone reads it).
    since = value.astimezone(dt.UTC) - _EPOCH
    return Timestamp(seconds=since.days * 86_400 + since.seconds, nanos=since.microseconds * 1000)


def outbox_row(
    *,
    message: Message,
    tenant_id: str,
    org_unit_id: str,
    aggregate_id: str,
    aggregate_version: int,
    occurred_at: dt.datetime,
    actor_id: str,
    namespace: str = "",
    service: str | None = None,
    event_name: str | None = None,
    event_id: str | None = None,
) -> tuple[Envelope, dict[str, Any]]:
    """An event's envelope and its outbox row, not written yet (`add_event`, `add_events`). Its
    service and name come from the message's type unless given (tests publish wrapper types).
    `event_id`: a deterministic id for an event that must be recorded once whoever writes it
    (see `recorded`); a fresh one otherwise."""
    service = service or producer_of(type(message))
    event_name = event_name or event_name_of(type(message))
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    envelope = Envelope(
        id=event_id or str(uuid.uuid4()),
        type=event_type(service, event_name),
        tenant_id=tenant_id,
        org_unit_id=org_unit_id,
        aggregate_id=aggregate_id,
        aggregate_version=aggregate_version,
        occurred_at=timestamp_of(occurred_at),
        traceparent=carrier.get("traceparent", ""),
        tracestate=carrier.get("tracestate", ""),
        actor_id=actor_id,
    )
    envelope.payload.Pack(message)
    row = {
        "event_id": envelope.id,
        "subject": subject_for(service, event_name, namespace),
        "envelope": envelope.SerializeToString(),
        "created_at": utcnow(),
        "attempts": 0,
    }
    return envelope, row


async def add_event(
    session: AsyncSession,
    tables: EventTables,
    *,
    message: Message,
    tenant_id: str,
    org_unit_id: str,
    aggregate_id: str,
    aggregate_version: int,
    occurred_at: dt.datetime,
    actor_id: str,
    namespace: str = "",
    service: str | None = None,
    event_name: str | None = None,
    event_id: str | None = None,
) -> Envelope:
    """Record an event in the outbox inside the caller's transaction (never commits); inside
    `batched_events`, at the batch's end."""
    envelope, row = outbox_row(
        message=message,
        tenant_id=tenant_id,
        org_unit_id=org_unit_id,
        aggregate_id=aggregate_id,
        aggregate_version=aggregate_version,
        occurred_at=occurred_at,
        actor_id=actor_id,
        namespace=namespace,
        service=service,
        event_name=event_name,
        event_id=event_id,
    )
    batch: list[dict[str, Any]] | None = session.info.get(_BATCH_KEY)
    if batch is not None:
        batch.append(row)
    else:
        # The row as parameters: keying a statement with its values inlined costs more than the insert.
        await session.execute(tables.outbox.insert(), row)
    return envelope


async def recorded(session: AsyncSession, tables: EventTables, event_id: str) -> bool:
    """Whether the outbox already holds this event (one lookup of its unique id): with a
    deterministic `event_id`, what makes writing an event idempotent. Rows still held by
    `batched_events` are not in the table yet: check before a batch, or outside one."""
    found = await session.scalar(select(tables.outbox.c.seq).where(tables.outbox.c.event_id == event_id))
    return found is not None


_BATCH_KEY = "crmkit.outbox_batch"


@contextlib.asynccontextmanager
async def batched_events(session: AsyncSession, tables: EventTables) -> AsyncIterator[None]:
    """Inside it, `add_event` collects the session's outbox rows and they are written together,
    in the order added, as the block ends: one statement for a batch job's thousands of events
    instead of a round trip each. Still the caller's transaction; an error in the block writes
    none of them (the transaction rolls back anyway)."""
    if _BATCH_KEY in session.info:
        yield
        return
    rows: list[dict[str, Any]] = []
    session.info[_BATCH_KEY] = rows
    try:
        yield
    finally:
        del session.info[_BATCH_KEY]
    await add_events(session, tables, rows)


async def add_events(session: AsyncSession, tables: EventTables, rows: Sequence[dict[str, Any]]) -> None:
    """Record many events (`outbox_row`s) with one statement, in their order: a batch job's
    thousands of events cost one round trip instead of one each."""
    if rows:
        await session.execute(tables.outbox.insert(), list(rows))
