"""`approval-gauges`: every 30 s, how many requests wait for a supervisor's decision and how long
the oldest has waited, for the operators' dashboard (crm_order_approvals_waiting,
crm_order_approval_oldest_wait_seconds). Quotes below the tenant's discount threshold are the one
kind so far. The job runs on one replica at a time; the dashboard takes the highest value across
replicas, as a replica that stops holding the job keeps its last values until it runs it again."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from crm_order.metrics import APPROVAL_OLDEST_WAIT, APPROVALS_WAITING
from crm_order.quotes.models import Quote
from crmkit.clock import as_utc
from crmkit.jobs import JobContext, PeriodicJob

APPROVAL_GAUGES_INTERVAL = dt.timedelta(seconds=30)


async def measure_approvals(job: JobContext) -> None:
    async with job.transaction() as session:
        waiting, oldest = (
            await session.execute(
                select(func.count(), func.min(Quote.submitted_at)).where(Quote.state == "pending_approval")
            )
        ).one()
    APPROVALS_WAITING.labels("quote").set(waiting)
    age = (as_utc(job.now) - as_utc(oldest)).total_seconds() if oldest is not None else 0.0
    APPROVAL_OLDEST_WAIT.labels("quote").set(max(age, 0.0))


APPROVAL_GAUGES = PeriodicJob(name="approval-gauges", interval=APPROVAL_GAUGES_INTERVAL, run=measure_approvals)
