"""Open revisit tasks follow their customer: a hook every owner change (claims, approvals,
transfers, releases, returns by rule) and archiving calls with the customers it changed, in the
same transaction. It imports no feature service, so customers, pools and transfers can call it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from crm_customer.customers.events import CustomerEvents
from crm_customer.customers.models import Customer
from crm_customer.revisits import events as revisit_events
from crm_customer.revisits.models import CANCELLED, OPEN, RevisitTask


async def follow_customers(
    session: AsyncSession, customers: Sequence[Customer], *, actor_id: str, events: CustomerEvents, now: dt.datetime
) -> None:
    """After owner changes (claims, transfers, releases, returns) and archiving: each open task
    of these customers follows its customer. A customer with an owner: an owner task becomes the
    new owner's, and any task moves to the customer's org unit (the service queue there). A
    customer in a pool or archived: the task is cancelled. One read of the batch's open tasks,
    one UPDATE of those that change, their events in one INSERT."""
    by_id = {customer.id: customer for customer in customers}
    tasks = (
        await session.scalars(
            select(RevisitTask).where(RevisitTask.customer_id.in_(list(by_id)), RevisitTask.status == OPEN)
        )
    ).all()
    changes: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    for task in tasks:
        customer = by_id[task.customer_id]
        values: dict[str, Any]
        if not customer.owner_id or customer.archived:
            values = {"status": CANCELLED, "cancel_reason": "archived" if customer.archived else "pool"}
        else:
            values = {
                "assignee_id": customer.owner_id if task.assignee_kind == "owner" else "",
                "org_unit_id": customer.org_unit_id,
                "org_path": customer.org_path,
            }
            if all(getattr(task, key) == value for key, value in values.items()):
                continue
        previous_assignee = task.assignee_id
        values["version"] = task.version + 1
        changes.append({"id": task.id, **values})
        for key, value in values.items():
            set_committed_value(task, key, value)
        if task.status == CANCELLED:
            rows.append(revisit_events.cancelled(events, task, customer.name, actor_id, now))
        else:
            rows.append(revisit_events.reassigned(events, task, customer.name, previous_assignee, actor_id, now))
    if not changes:
        return
    # Bulk UPDATE by primary key: one executemany. Cancelled and moved tasks set different
    # columns, so each kind goes as its own statement.
    for keys in {tuple(sorted(change)) for change in changes}:
        await session.execute(update(RevisitTask), [c for c in changes if tuple(sorted(c)) == keys])
    await revisit_events.write(session, events, rows)
