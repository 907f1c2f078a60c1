"""The analytics service's metadata: read models plus the shared event tables."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from crmkit.events import event_tables


class Base(DeclarativeBase):
    pass


EVENT_TABLES = event_tables(Base.metadata)
