"""Setting a customer's manual or automatic tier or grade, and the history entry it writes. Kept
apart from `service.py` so the customers service (creates, PATCH of tier) can use it without a
cycle. Functions never commit and never bump the version: the caller does, once per change."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from crm_customer.customers.models import Customer
from crm_customer.tiers.models import COLUMNS, MANUAL, TierChangeRow, ranking


@dataclass(frozen=True)
class TierMove:
    """One source's value of one dimension moved; `before`/`after`: the effective values."""

    dimension: str
    source: str
    from_value: str
    to_value: str
    before: str
    after: str


def change_value(customer: Customer, dimension: str, *, source: str, value: str) -> TierMove | None:
    """Set the manual or automatic value of `dimension` ("" clears it) and the effective column
    with it; None when it already was so. The effective tier stays in `customers.tier`, which the
    pool sweep reads."""
    effective_column, manual_column, automatic_column = COLUMNS[dimension]
    column = manual_column if source == MANUAL else automatic_column
    previous = getattr(customer, column) or ""
    if previous == value:
        return None
    before = ranking(customer, dimension).effective
    setattr(customer, column, value or None)
    after = ranking(customer, dimension).effective
    setattr(customer, effective_column, after)
    return TierMove(dimension, source, previous, value, before, after)


def record_tier_change(
    session: AsyncSession, customer: Customer, move: TierMove, *, reason: str, actor_id: str, now: dt.datetime
) -> TierChangeRow:
    row = tier_change_row(customer, move, reason=reason, actor_id=actor_id, now=now)
    session.add(row)
    return row


def tier_change_row(
    customer: Customer, move: TierMove, *, reason: str, actor_id: str, now: dt.datetime
) -> TierChangeRow:
    """The history row of a move, not yet added (a batch inserts many)."""
    return TierChangeRow(
        id=str(uuid.uuid4()),
        tenant_id=customer.tenant_id,
        customer_id=customer.id,
        dimension=move.dimension,
        source=move.source,
        from_value=move.from_value,
        to_value=move.to_value,
        effective_value=move.after,
        reason=reason,
        actor_id=actor_id,
        occurred_at=now,
    )
