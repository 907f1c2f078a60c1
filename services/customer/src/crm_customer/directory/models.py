"""The directory copy: the gateway's users as its user_changed events describe them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, DateTime, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from crm_customer.database import Base
from crmkit.db import bytewise


class DirectoryUser(Base):
    """One user of a tenant, as of the newest user_changed seen (version)."""

    __tablename__ = "directory_users"

    tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_unit_id: Mapped[str] = mapped_column(String(36))
    # Materialised path of the unit ("/hq/sub/shop/"): a unit's reps are a prefix match.
    org_path: Mapped[str] = mapped_column(bytewise(400))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    # The login name; "" in rows copied before the gateway sent it (until the user next changes).
    username: Mapped[str] = mapped_column(String(100), default="", server_default="")
    version: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_directory_users_tenant_path", "tenant_id", "org_path"),
        # An import's owner column names users by login or display name.
        Index("ix_directory_users_tenant_username", "tenant_id", "username"),
        Index("ix_directory_users_tenant_display_name", "tenant_id", "display_name"),
    )
