"""Tenants, org units (HQ → subsidiary → shop) and users."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from crm_gateway.database import Base

BYTEWISE_400 = String(400, collation="C").with_variant(String(400), "sqlite")


# Headquarters → subsidiaries → shops.
OrgUnitKind = Literal["hq", "subsidiary", "shop"]


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # Tenant policy: admins and bosses must use two-factor login (they enrol at their next login).
    mfa_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class OrgUnit(Base):
    __tablename__ = "org_units"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("org_units.id"), nullable=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    # "/<root>/<...>/<self>/": the subtree of a unit is every path starting with its own.
    path: Mapped[str] = mapped_column(BYTEWISE_400)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_org_units_tenant_path", "tenant_id", "path"),)


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    org_unit_id: Mapped[str] = mapped_column(ForeignKey("org_units.id"))
    # Usernames are global so login needs no tenant picker.
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(50))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # Grows with every published user_changed (the event's aggregate_version); 0: a user from
    # before the gateway published events, announced once at start-up (directory/events.py).
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (Index("ix_users_tenant_org", "tenant_id", "org_unit_id"),)


class AuditEntry(Base):
    """Who did what. Login failures of unknown usernames have no tenant and no actor ("")."""

    __tablename__ = "audit_log"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36), index=True)
    actor_id: Mapped[str] = mapped_column(String(36))
    action: Mapped[str] = mapped_column(String(50))
    target_id: Mapped[str] = mapped_column(String(36), default="")
    detail: Mapped[str] = mapped_column(String(500), default="")
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    client_address: Mapped[str] = mapped_column(String(64), default="", server_default="")
