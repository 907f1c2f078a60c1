"""The notification inbox (通知), the tenants' group-robot channels and their delivery log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm_gateway.database import Base


class Notification(Base):
    """One notice for one user. Stored as a kind and its parameters, rendered in the reader's
    language (notifications/texts.py); `event_id` is the customer event it came from."""

    __tablename__ = "notifications"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    user_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    # What it is about ("customer", "claim", "transfer", "customer_import", "quote", "recall"), and that record's id.
    link_type: Mapped[str] = mapped_column(String(16))
    link_id: Mapped[str] = mapped_column(String(36))
    event_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    read_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # read_at IS NULL, kept as a column so "unread first, then newest" is one index range.
    unread: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (
        # A redelivered event is stopped by the inbox; this backs it up per recipient.
        UniqueConstraint("event_id", "user_id", name="uq_notifications_event_user"),
        Index("ix_notifications_inbox", "user_id", "unread", "created_at", "id"),
        Index("ix_notifications_created_at", "created_at"),
    )


class NotificationChannel(Base):
    """A tenant's group robot (企业微信 `wecom` or 钉钉 `dingtalk`): which kinds it receives."""

    __tablename__ = "notification_channels"

    tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    notification_kinds: Mapped[list[str]] = mapped_column(JSON)
    enabled: Mapped[bool] = mapped_column(Boolean)
    updated_by: Mapped[str] = mapped_column(String(36))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class WebhookDelivery(Base):
    """One notification sent to one channel: pending until the robot answers, retried with
    backoff, `failed` after the last attempt. The delivery log is these rows."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    notification_id: Mapped[str] = mapped_column(String(36))
    channel_kind: Mapped[str] = mapped_column(String(16))
    url: Mapped[str] = mapped_column(String(500))
    content: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str] = mapped_column(String(500))
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_tenant", "tenant_id", "created_at", "id"),
    )
