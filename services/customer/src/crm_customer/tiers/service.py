"""Tiers and grades: a person's manual value (with a reason) wins until cleared, the analytics
service's automatic value applies otherwise; every change of either is kept in the history and
announced (`customer_tier_changed`). The tenant names the values. Functions take the session and
never commit: the caller does."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_customer.customers.events import CustomerEvents
from crm_customer.customers.models import Customer
from crm_customer.customers.service import WRITER_ROLES, check_version, get_customer, refuse_if_archived
from crm_customer.tiers.models import (
    AUTOMATIC,
    DEFAULT_LABELS,
    MANUAL,
    VALUE,
    TierChangeRow,
    TierLabelRow,
    tier_change_to_proto,
)
from crm_customer.tiers.rules import change_value, record_tier_change
from crmkit.errors import NotFound, PermissionDenied
from crmkit.identity import Identity, Role
from crmkit.paging import KeysetOrder

# What a caller needs to send automatic values: a service identity the analytics service will
# hold (no person's role carries it).
AUTOMATIC_TIER_PERMISSION = "automatic-tiers"
NEWEST_FIRST = KeysetOrder(
    "tiers_desc", TierChangeRow.occurred_at, TierChangeRow.id, descending=True, value_kind="time"
)
EFFECTIVE_FIELD = {VALUE: "tier", "grade": "grade"}


async def _apply(
    session: AsyncSession,
    customer: Customer,
    *,
    dimension: str,
    source: str,
    value: str,
    reason: str,
    actor_id: str,
    events: CustomerEvents,
    now: dt.datetime,
) -> TierChangeRow | None:
    move = change_value(customer, dimension, source=source, value=value)
    if move is None:
        return None
    customer.version += 1
    customer.updated_at = now
    row = record_tier_change(session, customer, move, reason=reason, actor_id=actor_id, now=now)
    if move.before != move.after:
        await events.updated(session, customer, [EFFECTIVE_FIELD[dimension]], actor_id, now)
    await events.tier_changed(session, customer, tier_change_to_proto(row), actor_id, now)
    return row


async def set_manual_tier(
    session: AsyncSession,
    *,
    identity: Identity,
    customer_id: str,
    dimension: str,
    value: str,
    reason: str,
    expected_version: int,
    events: CustomerEvents,
    now: dt.datetime,
) -> tuple[Customer, TierChangeRow | None]:
    """Set (or with "" clear) the manual value; whoever may change the customer may."""
    identity.require_role(*WRITER_ROLES)
    customer = await get_customer(
        session, identity=identity, customer_id=customer_id, now=now, access="write", for_update=True
    )
    check_version(customer, expected_version)
    refuse_if_archived(customer)
    row = await _apply(
        session,
        customer,
        dimension=dimension,
        source=MANUAL,
        value=value,
        reason=reason,
        actor_id=identity.principal_id,
        events=events,
        now=now,
    )
    return customer, row


async def set_automatic_tier(
    session: AsyncSession,
    *,
    identity: Identity,
    customer_id: str,
    dimension: str,
    value: str,
    reason: str,
    events: CustomerEvents,
    now: dt.datetime,
) -> tuple[Customer, bool]:
    """The analytics service's value for any customer of its tenant; it shows only while no
    manual value is set, and is kept (for when the manual one is cleared) either way."""
    if AUTOMATIC_TIER_PERMISSION not in identity.permissions:
        raise PermissionDenied("only the analytics service sets automatic tiers / 仅分析服务可设置自动分级")
    customer = await session.scalar(
        select(Customer)
        .where(Customer.id == customer_id, Customer.tenant_id == identity.tenant_id)
        .with_for_update(of=Customer)
    )
    if customer is None:
        raise NotFound("customer", customer_id)
    row = await _apply(
        session,
        customer,
        dimension=dimension,
        source=AUTOMATIC,
        value=value,
        reason=reason,
        actor_id=identity.principal_id,
        events=events,
        now=now,
    )
    return customer, row is not None


async def list_tier_changes(
    session: AsyncSession, *, customer_id: str, dimension: str, page_size: int, page_token: str
) -> tuple[list[TierChangeRow], str]:
    """A customer's tier history, newest first (the caller has checked it may see the customer)."""
    query = select(TierChangeRow).where(TierChangeRow.customer_id == customer_id)
    if dimension:
        query = query.where(TierChangeRow.dimension == dimension)
    rows = (await session.scalars(NEWEST_FIRST.apply(query, page_token).limit(page_size + 1))).all()
    return NEWEST_FIRST.page(rows, page_size, lambda row: (row.occurred_at, row.id))


async def tier_labels(session: AsyncSession, *, tenant_id: str) -> list[tuple[str, str, str]]:
    """(dimension, value, label) of every value, in order, the tenant's names over the defaults."""
    rows = await session.scalars(select(TierLabelRow).where(TierLabelRow.tenant_id == tenant_id))
    own = {(row.dimension, row.value): row.label for row in rows}
    return [
        (dimension, value, own.get((dimension, value), default))
        for dimension, labels in DEFAULT_LABELS.items()
        for value, default in labels.items()
    ]


async def set_tier_labels(
    session: AsyncSession, *, identity: Identity, labels: list[tuple[str, str, str]]
) -> list[tuple[str, str, str]]:
    identity.require_role(Role.ADMIN, Role.BOSS)
    for dimension, value, label in labels:
        await session.execute(
            delete(TierLabelRow).where(
                TierLabelRow.tenant_id == identity.tenant_id,
                TierLabelRow.dimension == dimension,
                TierLabelRow.value == value,
            )
        )
        if label and label != DEFAULT_LABELS[dimension][value]:
            session.add(TierLabelRow(tenant_id=identity.tenant_id, dimension=dimension, value=value, label=label))
    await session.flush()
    return await tier_labels(session, tenant_id=identity.tenant_id)
