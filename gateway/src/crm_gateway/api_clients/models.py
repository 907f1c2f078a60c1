"""API clients: partner systems (an ERP, a WMS) that call the API with a key instead of a login."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crm_gateway.database import Base


class ApiClient(Base):
    __tablename__ = "api_clients"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # It acts as a user of this role in this org unit: the same data scope and role views.
    role: Mapped[str] = mapped_column(String(16))
    org_unit_id: Mapped[str] = mapped_column(ForeignKey("org_units.id"))
    # The key is shown once, at creation; only its SHA-256 is kept (it is 256 random bits, so a
    # fast digest is enough), and its first characters to tell keys apart in a list.
    key_digest: Mapped[str] = mapped_column(String(64), unique=True)
    key_hint: Mapped[str] = mapped_column(String(16))
    # Its own token bucket; NULL = the "partners" route group's.
    rate_burst: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rate_per_minute: Mapped[float | None] = mapped_column(Float, nullable=True)
    # What its client-credentials tokens may call on the services' gRPC (crmkit.partners.PartnerScope),
    # space-separated as in OAuth's `scope`.
    scopes: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # The last token issued to it (REST key use is not recorded: it is cached, not read per call).
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
