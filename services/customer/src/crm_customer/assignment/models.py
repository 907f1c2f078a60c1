"""Assignment tables: each tenant's ordered rules (one row, replaced whole) and the round-robin
turn of each rule."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crm_customer.database import Base


class AssignmentRuleSet(Base):
    """A tenant's rules in the order they are tried, as a JSON list (see assignment.rules)."""

    __tablename__ = "assignment_rule_sets"

    tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(36), default="")


class AssignmentCursor(Base):
    """Whose turn it is next in a round-robin rule: an index into its target's users, locked
    while a create takes a turn, so concurrent creates take different turns."""

    __tablename__ = "assignment_cursors"

    tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    next_index: Mapped[int] = mapped_column(Integer, default=0)
