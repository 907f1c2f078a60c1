"""`follow-up-reminders`: a periodic job that publishes `follow_up_reminder` for each owned
customer whose next follow-up date is today (Asia/Shanghai), once per customer and date, unless
the customer is closed that day (closures: 停工/放假).

It runs every hour and sends from REMIND_FROM in the morning, so a day is covered whatever time
the service started. Each event's id is derived from the customer and the date and looked up in
the outbox before it is written, so a run repeated the same day (or resumed after a crash)
sends nothing twice. The customers come per tenant from the `(tenant_id, next_follow_up_date)`
index, the tenants by a skip scan of the same index (one lookup per tenant).
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from crm.customer.v1 import events_pb2
from crm_customer.closures.days import closed_days
from crm_customer.customers.events import event_snapshot
from crm_customer.customers.models import Customer
from crmkit.clock import SHANGHAI
from crmkit.events import EventTables, add_event, recorded
from crmkit.jobs import JobContext, PeriodicJob
from crmkit.runtime import ServiceRuntime

REMINDER_INTERVAL = dt.timedelta(hours=1)
REMIND_FROM = dt.time(8, 0)
BATCH = 500
# Reminder ids are uuid5 names under this namespace: the same customer and date, the same id.
REMINDER_IDS = uuid.UUID("0b6f4f7e-4a53-4a1e-9a55-1f0f6f2b9d1c")

# Each step finds the next tenant above the last with one index lookup (PostgreSQL has no skip
# scan of its own); the same SQL runs on SQLite.
TENANTS_WITH_CUSTOMERS = text(
    """
    WITH RECURSIVE tenants(tenant_id) AS (
        SELECT MIN(tenant_id) FROM customers
        UNION ALL
        SELECT (SELECT MIN(c.tenant_id) FROM customers c WHERE c.tenant_id > tenants.tenant_id)
        FROM tenants WHERE tenants.tenant_id IS NOT NULL
    )
    SELECT tenant_id FROM tenants WHERE tenant_id IS NOT NULL
    """
)


def reminder_id(customer_id: str, due: dt.date) -> str:
    return str(uuid.uuid5(REMINDER_IDS, f"follow_up_reminder/{customer_id}/{due.isoformat()}"))


async def _remind_batch(
    session: AsyncSession,
    tables: EventTables,
    namespace: str,
    *,
    tenant_id: str,
    due: dt.date,
    after: str,
    now: dt.datetime,
) -> tuple[int, str]:
    """Up to BATCH customers of the tenant due today with ids above `after`: (sent, last id)."""
    customers = (
        await session.scalars(
            select(Customer)
            .where(
                Customer.tenant_id == tenant_id,
                Customer.next_follow_up_date == due,
                Customer.id > after,
                Customer.archived.is_(False),
                Customer.owner_id != "",
            )
            .order_by(Customer.id)
            .limit(BATCH)
        )
    ).all()
    # A customer closed that day (停工/放假) is not followed up: no reminder.
    closed = (await closed_days(session, [c.id for c in customers], due, due)).closed_customers(due)
    sent = 0
    for customer in customers:
        if customer.id in closed:
            continue
        event_id = reminder_id(customer.id, due)
        if await recorded(session, tables, event_id):
            continue
        await add_event(
            session,
            tables,
            message=events_pb2.FollowUpReminder(
                customer=event_snapshot(customer), owner_id=customer.owner_id, due_date=due.isoformat()
            ),
            tenant_id=customer.tenant_id,
            org_unit_id=customer.org_unit_id,
            aggregate_id=customer.id,
            aggregate_version=customer.version,
            occurred_at=now,
            actor_id="system",
            namespace=namespace,
            event_id=event_id,
        )
        sent += 1
    return sent, customers[-1].id if len(customers) == BATCH else ""


class FollowUpReminders:
    def __init__(self, tables: EventTables, namespace: str) -> None:
        self._tables = tables
        self._namespace = namespace

    async def __call__(self, context: JobContext) -> None:
        local = context.now.astimezone(SHANGHAI)
        if local.time() < REMIND_FROM:
            return
        due = local.date()
        async with context.transaction() as session:
            tenants = list((await session.scalars(TENANTS_WITH_CUSTOMERS)).all())
        for tenant_id in tenants:
            after = ""
            while True:
                async with context.transaction() as session:
                    _, after = await _remind_batch(
                        session,
                        self._tables,
                        self._namespace,
                        tenant_id=tenant_id,
                        due=due,
                        after=after,
                        now=context.now,
                    )
                if not after:
                    break


def follow_up_reminder_job(runtime: ServiceRuntime) -> PeriodicJob:
    return PeriodicJob(
        name="follow-up-reminders",
        interval=REMINDER_INTERVAL,
        run=FollowUpReminders(runtime.tables, runtime.namespace),
    )
