"""The gateway's metadata: users, org units, sessions and audit log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


def insert_unless_present(dialect_name: str, table: Any, values: dict[str, Any]) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING on PostgreSQL or SQLite: the row is created once, by
    whichever replica gets there first, and nobody waits on an error."""
    if dialect_name == "postgresql":
        return postgresql.insert(table).values(**values).on_conflict_do_nothing()
    return sqlite.insert(table).values(**values).on_conflict_do_nothing()
