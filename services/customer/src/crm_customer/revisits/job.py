"""`revisit-tasks`: the daily job that schedules revisit tasks by the tenants' plans and
announces the ones that were missed.

Scheduling, per tenant and per tier with a plan: every owned, unarchived customer without an
open task gets one, due the plan's days after its last completed revisit or after its owner got
it, whichever is later (before any revisit, when its owner got it or it was created), and never
before today. The customers are read in id order from the `(tenant_id, tier, id)` index in
batches, each batch one transaction on the job's lease with its rows locked (PostgreSQL: FOR
UPDATE SKIP LOCKED, so a customer being changed waits for the next run). A customer gets a task
once per due date: the batch skips customers with an open task, and a unique index allows one
open task per customer whoever writes it.

Overdue: every open task whose due date has passed is announced once (`revisit_task_overdue`);
`overdue_at` records it in the same transaction. The tasks come from a partial index of the
open tasks not announced yet, so a run reads only new ones.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_customer.closures.days import closed_days
from crm_customer.customers.events import CustomerEvents
from crm_customer.customers.models import Customer
from crm_customer.follow_ups.reminders import TENANTS_WITH_CUSTOMERS
from crm_customer.revisits import events as revisit_events
from crm_customer.revisits.models import DONE, OPEN, Plan, RevisitTask
from crm_customer.revisits.service import REVISIT_JOB_NAME, plans_of
from crmkit.clock import SHANGHAI, as_utc, shanghai_date
from crmkit.jobs import JobContext, PeriodicJob
from crmkit.runtime import ServiceRuntime

REVISIT_INTERVAL = dt.timedelta(days=1)
BATCH = 500
# A run that keeps finding locked rows gives up after this many batches per pass; the next
# run carries on.
MAX_BATCHES = 10_000
# Longer than any one closure may last (closures.validation), so a closure's end is read whole.
CLOSURE_LOOKAHEAD = dt.timedelta(days=400)


async def _postpone_for_closures(session: AsyncSession, tasks: Sequence[RevisitTask]) -> None:
    """While a customer is closed (停工/放假, crm_customer/closures) no revisit falls due: a task
    whose due date lies inside one of its customer's closures moves to the first day after it.
    Called with the tasks about to be scheduled and with the open tasks about to be announced
    overdue; it changes only their `due_date` (the job then announces a moved date with
    `revisit_task_scheduled`, and a task moved to today or later is not overdue). One closure
    lookup for all `tasks`; the window reaches past the latest due date by more than a closure
    may last, so a closure running on past it is read whole."""
    if not tasks:
        return
    first = min(task.due_date for task in tasks)
    last = max(task.due_date for task in tasks) + CLOSURE_LOOKAHEAD
    closed = await closed_days(session, {task.customer_id for task in tasks}, first, last)
    for task in tasks:
        for start, end in closed.spans.get(task.customer_id, ()):
            if start <= task.due_date <= end:
                task.due_date = end + dt.timedelta(days=1)
                break


@dataclass(frozen=True)
class _Candidate:
    id: str
    tenant_id: str
    name: str
    org_unit_id: str
    org_path: str
    owner_id: str
    held_since: dt.datetime


def start_of(day: dt.date) -> dt.datetime:
    """The first instant of an Asia/Shanghai day."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=SHANGHAI)


def _due(plan: Plan, since: dt.datetime, last_done: dt.datetime | None, today: dt.date) -> dt.date:
    start = max(as_utc(since), as_utc(last_done)) if last_done is not None else as_utc(since)
    return max(shanghai_date(start) + dt.timedelta(days=plan.interval_days), today)


@dataclass(frozen=True)
class RevisitTasks:
    events: CustomerEvents

    async def __call__(self, job: JobContext) -> None:
        today = shanghai_date(job.now)
        async with job.transaction() as session:
            tenants = list((await session.scalars(TENANTS_WITH_CUSTOMERS)).all())
        for tenant_id in tenants:
            async with job.transaction() as session:
                plans = await plans_of(session, tenant_id=tenant_id)
            for tier, plan in plans.items():
                if plan.interval_days > 0:
                    await self._schedule_tier(job, tenant_id, tier, plan, today)
        await self._announce_overdue(job, today)

    async def _schedule_tier(self, job: JobContext, tenant_id: str, tier: str, plan: Plan, today: dt.date) -> None:
        after = ""
        for _ in range(MAX_BATCHES):
            async with job.transaction() as session:
                batch = await _candidates(session, tenant_id, tier, after, start_of(today))
                await self._schedule(session, batch, tier, plan, today, job.now)
            if len(batch) < BATCH:
                return
            after = batch[-1].id

    async def _schedule(
        self,
        session: AsyncSession,
        batch: Sequence[_Candidate],
        tier: str,
        plan: Plan,
        today: dt.date,
        now: dt.datetime,
    ) -> None:
        if not batch:
            return
        last_done = dict(
            (
                await session.execute(
                    select(RevisitTask.customer_id, func.max(RevisitTask.completed_at))
                    .where(RevisitTask.customer_id.in_([c.id for c in batch]), RevisitTask.status == DONE)
                    .group_by(RevisitTask.customer_id)
                )
            ).all()
        )
        tasks = [
            RevisitTask(
                id=str(uuid.uuid4()),
                tenant_id=customer.tenant_id,
                customer_id=customer.id,
                org_unit_id=customer.org_unit_id,
                org_path=customer.org_path,
                assignee_kind=plan.assignee,
                assignee_id=customer.owner_id if plan.assignee == "owner" else "",
                due_date=_due(plan, customer.held_since, last_done.get(customer.id), today),
                status=OPEN,
                tier=tier,
                interval_days=plan.interval_days,
                created_at=now,
                completed_by="",
                new_needs="",
                cancel_reason="",
                version=1,
            )
            for customer in batch
        ]
        await _postpone_for_closures(session, tasks)
        session.add_all(tasks)
        await session.flush()
        names = {customer.id: customer.name for customer in batch}
        await revisit_events.write(
            session, self.events, [revisit_events.scheduled(self.events, t, names[t.customer_id], now) for t in tasks]
        )

    async def _announce_overdue(self, job: JobContext, today: dt.date) -> None:
        for _ in range(MAX_BATCHES):
            async with job.transaction() as session:
                query: Any = (
                    select(RevisitTask, Customer.name)
                    .join(Customer, Customer.id == RevisitTask.customer_id)
                    .where(RevisitTask.status == OPEN, RevisitTask.overdue_at.is_(None), RevisitTask.due_date < today)
                    .order_by(RevisitTask.due_date, RevisitTask.id)
                    .limit(BATCH)
                )
                if session.get_bind().dialect.name == "postgresql":
                    query = query.with_for_update(skip_locked=True, of=RevisitTask)
                found = (await session.execute(query)).all()
                await self._overdue(session, [(row[0], row[1]) for row in found], today, job.now)
            if len(found) < BATCH:
                return

    async def _overdue(
        self, session: AsyncSession, found: Sequence[tuple[RevisitTask, str]], today: dt.date, now: dt.datetime
    ) -> None:
        tasks = [task for task, _ in found]
        due_before = {task.id: task.due_date for task in tasks}
        await _postpone_for_closures(session, tasks)
        rows = []
        for task, name in found:
            task.version += 1
            if task.due_date < today:
                task.overdue_at = now
                rows.append(revisit_events.overdue(self.events, task, name, now))
            elif task.due_date != due_before[task.id]:
                rows.append(revisit_events.scheduled(self.events, task, name, now))
        await session.flush()
        await revisit_events.write(session, self.events, rows)


async def _candidates(
    session: AsyncSession, tenant_id: str, tier: str, after: str, held_before: dt.datetime
) -> list[_Candidate]:
    """Up to BATCH owned, unarchived customers of the tenant and tier above `after` with no open
    task, locked. Only those held since before today (`held_before`): a customer created or
    handed over today gets its task from tomorrow's run, due on the same day it would have been
    (due dates count from when it was got), and a service's first run at start-up does not race
    the day's new customers."""
    query: Any = (
        select(
            Customer.id,
            Customer.tenant_id,
            Customer.name,
            Customer.org_unit_id,
            Customer.org_path,
            Customer.owner_id,
            func.coalesce(Customer.owned_since, Customer.created_at),
        )
        .where(
            Customer.tenant_id == tenant_id,
            Customer.tier == tier,
            Customer.id > after,
            Customer.owner_id != "",
            Customer.archived.is_(False),
            func.coalesce(Customer.owned_since, Customer.created_at) < held_before,
            ~exists().where(RevisitTask.customer_id == Customer.id, RevisitTask.status == OPEN),
        )
        .order_by(Customer.id)
        .limit(BATCH)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Customer)
    return [_Candidate(*row) for row in (await session.execute(query)).all()]


def revisit_job(runtime: ServiceRuntime) -> PeriodicJob:
    return PeriodicJob(
        name=REVISIT_JOB_NAME,
        interval=REVISIT_INTERVAL,
        run=RevisitTasks(CustomerEvents(tables=runtime.tables, namespace=runtime.namespace)),
    )
