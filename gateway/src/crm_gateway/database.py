"""The gateway's metadata: users, org units, sessions and audit log."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass
