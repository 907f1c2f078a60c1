"""The `customer-transfers` job: moves unfinished transfers' customers, batch by batch, each batch
one transaction on the job's lease (a replica that lost the lease cannot commit one). A transfer
a crash or a restart interrupted is taken up again at its cursor by the next run."""

from __future__ import annotations

import datetime as dt

from crm_customer.customers.events import CustomerEvents
from crm_customer.transfers.service import TransferFailed, TransferMover, next_unfinished
from crmkit.jobs import JobContext, PeriodicJob
from crmkit.runtime import ServiceRuntime

# Started transfers wait at most this long for the job to take them.
TRANSFER_INTERVAL = dt.timedelta(seconds=5)


class TransferJob:
    def __init__(self, mover: TransferMover) -> None:
        self.mover = mover

    async def __call__(self, job: JobContext) -> None:
        while True:
            current = ""
            try:
                async with job.transaction() as session:
                    transfer = await next_unfinished(session)
                    if transfer is None:
                        return
                    current = transfer.id
                    await self.mover.batch(session, transfer, job.clock())
            except TransferFailed as exc:
                # The batch rolled back; the transfer ends as failed in a transaction of its own.
                async with job.transaction() as session:
                    transfer = await next_unfinished(session)
                    if transfer is not None and transfer.id == current:
                        await self.mover.fail(session, transfer, str(exc), job.clock())


def transfer_job(runtime: ServiceRuntime) -> PeriodicJob:
    mover = TransferMover(CustomerEvents(tables=runtime.tables, namespace=runtime.namespace))
    return PeriodicJob(name="customer-transfers", interval=TRANSFER_INTERVAL, run=TransferJob(mover))
