"""The collaborator expiry job: removes accesses past their expiry, each announced with
collaborator_removed (cause "expired"). The data scope already ignores an expired access (it
judges the expiry itself); the job keeps the table and the consumers' copies true."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from itertools import groupby

from sqlalchemy import select

from crm_customer.collaborators.endings import EXPIRED, end_collaborations
from crm_customer.collaborators.models import Collaborator
from crm_customer.customers.events import CustomerEvents
from crm_customer.customers.models import Customer
from crmkit.jobs import JobContext, PeriodicJob
from crmkit.runtime import ServiceRuntime

EXPIRY_INTERVAL = dt.timedelta(minutes=10)
BATCH = 500


@dataclass(frozen=True)
class CollaboratorExpiry:
    events: CustomerEvents

    async def __call__(self, job: JobContext) -> None:
        while True:
            async with job.transaction() as session:
                query = (
                    select(Collaborator)
                    .where(Collaborator.expires_at <= job.now)
                    .order_by(Collaborator.customer_id, Collaborator.user_id)
                    .limit(BATCH)
                )
                rows = list((await session.scalars(query)).all())
                for customer_id, of_customer in groupby(rows, key=lambda row: row.customer_id):
                    customer = await session.get(Customer, customer_id)
                    if customer is not None:
                        await end_collaborations(
                            session,
                            customer,
                            list(of_customer),
                            cause=EXPIRED,
                            actor_id="",
                            events=self.events,
                            now=job.now,
                        )
            if len(rows) < BATCH:
                return


def collaborator_expiry_job(runtime: ServiceRuntime) -> PeriodicJob:
    expiry = CollaboratorExpiry(CustomerEvents(tables=runtime.tables, namespace=runtime.namespace))
    return PeriodicJob(name="collaborator-expiry", interval=EXPIRY_INTERVAL, run=expiry)
