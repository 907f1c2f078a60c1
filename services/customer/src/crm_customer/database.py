"""The customer service's metadata: its own tables plus the shared event tables."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase

from crmkit.events import event_tables


class Base(DeclarativeBase):
    pass


EVENT_TABLES = event_tables(Base.metadata)


def bytewise(length: int) -> String:
    """A string column compared byte by byte. Prefix matches (org subtree, search-term ranges)
    need byte order, whatever the database's default collation is; SQLite compares bytes already."""
    return String(length, collation="C").with_variant(String(length), "sqlite")
