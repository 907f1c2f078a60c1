"""`licence-expiry`: a daily job that tells owners of licences running out. It publishes
`licence_expiring` 30 and 7 days before a licence's last valid day and `licence_expired` the day
after, once each: a licence remembers the last notice sent (`notice_stage`) and the day the next
falls due (`next_notice_on`), written in the same transaction as the event. A licence recorded
late gets only the nearest notice due (one expiring in 5 days: the 7-day one). A licence a
later one of its kind supersedes (a renewal) and one of an archived customer get none.

Days are Asia/Shanghai days on the job's clock; the job reads only the licences whose next
notice is due, from the (next_notice_on, id) index, in batches.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import raiseload

from crm_customer.customers.events import CustomerEvents
from crm_customer.customers.models import Customer
from crm_customer.licences.events import LicenceEvents
from crm_customer.licences.models import (
    NOTICE_DAYS_BEFORE,
    NOTICE_EXPIRED,
    Licence,
    due_notice,
    licence_to_proto,
    next_notice_on,
)
from crmkit.clock import shanghai_date
from crmkit.events import batched_events
from crmkit.jobs import JobContext, PeriodicJob
from crmkit.runtime import ServiceRuntime

EXPIRY_INTERVAL = dt.timedelta(days=1)
BATCH = 500


def _superseded(licences: list[Licence], others: list[tuple[str, str, str, dt.date | None]]) -> set[str]:
    """Ids of the licences a later one of the same customer and kind supersedes."""
    latest: dict[tuple[str, str], list[dt.date | None]] = defaultdict(list)
    for _, customer_id, kind, valid_until in others:
        latest[(customer_id, kind)].append(valid_until)
    found = set()
    for licence in licences:
        for until in latest[(licence.customer_id, licence.kind)]:
            if licence.valid_until is not None and (until is None or until > licence.valid_until):
                found.add(licence.id)
    return found


async def notify_batch(
    session: AsyncSession, events: LicenceEvents, *, after: str, now: dt.datetime
) -> tuple[int, str]:
    """Up to BATCH licences due a notice today with ids above `after`: (notices sent, last id, or
    "" when there are no more)."""
    today = shanghai_date(now)
    query = select(Licence).where(Licence.next_notice_on <= today, Licence.id > after).order_by(Licence.id).limit(BATCH)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    licences = list((await session.scalars(query)).all())
    if not licences:
        return 0, ""
    customer_ids = {licence.customer_id for licence in licences}
    customers = {
        c.id: c
        for c in (
            await session.scalars(
                select(Customer).where(Customer.id.in_(customer_ids)).options(raiseload(Customer.contacts))
            )
        ).all()
    }
    others = (
        await session.execute(
            select(Licence.id, Licence.customer_id, Licence.kind, Licence.valid_until).where(
                Licence.customer_id.in_(customer_ids)
            )
        )
    ).all()
    superseded = _superseded(licences, [tuple(row) for row in others])  # type: ignore[misc]
    sent = 0
    async with batched_events(session, events.events.tables):
        for licence in licences:
            customer = customers.get(licence.customer_id)
            if customer is None or customer.archived or licence.id in superseded:
                licence.next_notice_on = None
                continue
            stage = due_notice(licence.valid_until, today)
            if stage > licence.notice_stage:
                message = licence_to_proto(licence, today)
                if stage == NOTICE_EXPIRED:
                    await events.expired(session, customer, message, now)
                else:
                    await events.expiring(session, customer, message, NOTICE_DAYS_BEFORE[stage], now)
                licence.notice_stage = stage
                sent += 1
            licence.next_notice_on = next_notice_on(licence.valid_until, licence.notice_stage)
    return sent, licences[-1].id if len(licences) == BATCH else ""


class LicenceExpiry:
    def __init__(self, events: LicenceEvents) -> None:
        self._events = events

    async def __call__(self, context: JobContext) -> None:
        after = ""
        while True:
            async with context.transaction() as session:
                _, after = await notify_batch(session, self._events, after=after, now=context.now)
            if not after:
                return


def licence_expiry_job(runtime: ServiceRuntime) -> PeriodicJob:
    events = LicenceEvents(CustomerEvents(tables=runtime.tables, namespace=runtime.namespace))
    return PeriodicJob(name="licence-expiry", interval=EXPIRY_INTERVAL, run=LicenceExpiry(events))
