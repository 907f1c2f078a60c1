"""Closed days of a batch of customers, for jobs: one query for the whole batch.

`closed_days` answers "which days within [first, last] is each of these customers closed";
`pauses` turns it into what the pool sweep needs: how many closed days fall inside each
customer's counting window (from when its clock started up to today), and whether it is closed
today. While a customer is closed its no-follow-up clock and first-visit deadline stand still,
so the sweep moves each deadline on by the closed days already passed; closures still ahead
count once they come.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_customer.closures.models import CustomerClosure
from crmkit.clock import shanghai_date

Span = tuple[dt.date, dt.date]


def _merged(spans: list[Span]) -> list[Span]:
    """Sorted, overlapping or touching spans joined (a customer's closures never overlap, but a
    day must never count twice whatever the data says)."""
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1] + dt.timedelta(days=1):
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


@dataclass(frozen=True)
class ClosedDays:
    """The closed days of some customers within [first, last], as merged spans per customer."""

    first: dt.date
    last: dt.date
    spans: Mapping[str, list[Span]] = field(default_factory=dict)

    def count(self, customer_id: str, first: dt.date | None = None, last: dt.date | None = None) -> int:
        """Closed days of the customer within [first, last] (default: the whole window read)."""
        low, high = max(first or self.first, self.first), min(last or self.last, self.last)
        total = 0
        for start, end in self.spans.get(customer_id, ()):
            overlap = (min(end, high) - max(start, low)).days + 1
            total += max(overlap, 0)
        return total

    def is_closed(self, customer_id: str, day: dt.date) -> bool:
        return any(start <= day <= end for start, end in self.spans.get(customer_id, ()))

    def closed_customers(self, day: dt.date) -> set[str]:
        return {customer_id for customer_id in self.spans if self.is_closed(customer_id, day)}


async def closed_days(
    session: AsyncSession, customer_ids: Collection[str], first: dt.date, last: dt.date
) -> ClosedDays:
    """The closed days of these customers within [first, last] (Asia/Shanghai dates), read with
    one query on (customer_id, start_date, end_date)."""
    if not customer_ids or last < first:
        return ClosedDays(first, last)
    rows = await session.execute(
        select(CustomerClosure.customer_id, CustomerClosure.start_date, CustomerClosure.end_date).where(
            CustomerClosure.customer_id.in_(list(customer_ids)),
            CustomerClosure.start_date <= last,
            CustomerClosure.end_date >= first,
        )
    )
    found: dict[str, list[Span]] = {}
    for customer_id, start, end in rows:
        found.setdefault(customer_id, []).append((max(start, first), min(end, last)))
    return ClosedDays(first, last, {customer_id: _merged(spans) for customer_id, spans in found.items()})


@dataclass(frozen=True)
class Pause:
    """A customer's clock stood still for `days` closed days so far, and is still standing
    (`closed_today`) when the customer is closed today."""

    days: int
    closed_today: bool

    @property
    def extension(self) -> dt.timedelta:
        return dt.timedelta(days=self.days)


async def pauses(
    session: AsyncSession, counted_from: Mapping[str, dt.datetime | None], now: dt.datetime
) -> dict[str, Pause]:
    """For customers whose clock started at `counted_from[id]`: the closed days from that day
    up to today (Asia/Shanghai), for those with any, in one query."""
    starts = {customer_id: shanghai_date(start) for customer_id, start in counted_from.items() if start is not None}
    today = shanghai_date(now)
    if not starts:
        return {}
    days = await closed_days(session, starts, min(starts.values()), today)
    found = {}
    for customer_id, start in starts.items():
        count = days.count(customer_id, start, today)
        if count:
            found[customer_id] = Pause(count, days.is_closed(customer_id, today))
    return found
