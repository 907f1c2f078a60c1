"""The gateway's metadata: users, org units, sessions, audit log, notifications, and the kit's
event tables (outbox, inbox, dead letters) and job leases."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase

from crmkit.events import EventTables, event_tables
from crmkit.jobs import job_lease_table


class Base(DeclarativeBase):
    pass


def gateway_event_tables() -> EventTables:
    """The outbox (user_changed), inbox and dead letters (customer events) in the gateway's own
    database; declared once in its metadata, so migrations and schema checks see them."""
    return event_tables(Base.metadata)


gateway_event_tables()
job_lease_table(Base.metadata)


def insert_unless_present(dialect_name: str, table: Any, values: dict[str, Any]) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING on PostgreSQL or SQLite: the row is created once, by
    whichever replica gets there first, and nobody waits on an error."""
    if dialect_name == "postgresql":
        return postgresql.insert(table).values(**values).on_conflict_do_nothing()
    return sqlite.insert(table).values(**values).on_conflict_do_nothing()
