"""Lifecycle stage history: written by every create and stage change of a customer, in its
transaction, and listed per customer. Functions never commit: the caller does."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_customer.customers.models import Customer
from crm_customer.stages.models import StageChangeRow
from crmkit.paging import KeysetOrder

NEWEST_FIRST = KeysetOrder(
    "stages_desc", StageChangeRow.occurred_at, StageChangeRow.id, descending=True, value_kind="time"
)


def record_stage_change(
    session: AsyncSession, customer: Customer, *, from_stage: str, actor_id: str, now: dt.datetime
) -> StageChangeRow:
    row = stage_change_row(customer, from_stage=from_stage, actor_id=actor_id, now=now)
    session.add(row)
    return row


def stage_change_row(customer: Customer, *, from_stage: str, actor_id: str, now: dt.datetime) -> StageChangeRow:
    """The history row of the stage the customer is in, not yet added (a batch inserts many)."""
    return StageChangeRow(
        id=str(uuid.uuid4()),
        tenant_id=customer.tenant_id,
        customer_id=customer.id,
        from_stage=from_stage,
        to_stage=customer.lifecycle_stage,
        actor_id=actor_id,
        occurred_at=now,
    )


async def list_stage_changes(
    session: AsyncSession, *, customer_id: str, page_size: int, page_token: str
) -> tuple[list[StageChangeRow], str]:
    """A customer's stage history, newest first (the caller has checked it may see the customer)."""
    query = NEWEST_FIRST.apply(select(StageChangeRow).where(StageChangeRow.customer_id == customer_id), page_token)
    rows = (await session.scalars(query.limit(page_size + 1))).all()
    return NEWEST_FIRST.page(rows, page_size, lambda row: (row.occurred_at, row.id))
