"""Token buckets shared by every gateway replica, one row per (route group, user or address)."""

from __future__ import annotations

from sqlalchemy import Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crm_gateway.database import Base


class RateBucket(Base):
    __tablename__ = "rate_buckets"

    # "<group>:user:<id>" or "<group>:address:<ip>"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    # Seconds since the epoch (not a timestamp column): the refill is then plain arithmetic in
    # one UPDATE, the same on PostgreSQL and SQLite.
    refilled_at: Mapped[float] = mapped_column(Float)
    # What the last claim took, so the claiming UPDATE can return it.
    granted: Mapped[int] = mapped_column(Integer, default=0)
