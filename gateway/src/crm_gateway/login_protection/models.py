"""Failed-login counters and locks, one row per account (username) or client address."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crm_gateway.database import Base


class LoginThrottle(Base):
    __tablename__ = "login_throttles"

    # "account:<username as typed, lower-cased>" or "address:<client address>". Keyed by the
    # typed username, not the user id, so an unknown username is throttled exactly like a real one.
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_failure_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # Progressive delay: no attempt is checked before this time.
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Locks so far; each one lasts twice as long as the one before.
    locks: Mapped[int] = mapped_column(Integer, default=0)
