"""Closure events (closure_scheduled, closure_changed, closure_removed), written into the
caller's transaction. Each carries the tenant, the customer (id, name, owner, org unit) and the
whole closure, so a consumer (the order service, refusing deliveries inside a closure) needs
nothing else. The envelope's aggregate is the customer at its current version: closures do not
change the customer, but one customer's events stay in one ordered stream."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from crm.customer.v1 import calendar_pb2 as cpb
from crm.customer.v1 import events_pb2
from crm_customer.customers.events import CustomerEvents, about_customer
from crm_customer.customers.models import Customer


@dataclass(frozen=True)
class ClosureEvents:
    events: CustomerEvents

    async def scheduled(
        self, session: AsyncSession, customer: Customer, closure: cpb.Closure, actor_id: str, at: dt.datetime
    ) -> None:
        message = events_pb2.ClosureScheduled(**about_customer(customer), closure=closure)
        await self.events.emit(session, message, customer, actor_id, at)

    async def changed(
        self,
        session: AsyncSession,
        customer: Customer,
        closure: cpb.Closure,
        previous: tuple[dt.date, dt.date],
        actor_id: str,
        at: dt.datetime,
    ) -> None:
        message = events_pb2.ClosureChanged(
            **about_customer(customer),
            closure=closure,
            previous_start_date=previous[0].isoformat(),
            previous_end_date=previous[1].isoformat(),
        )
        await self.events.emit(session, message, customer, actor_id, at)

    async def removed(
        self, session: AsyncSession, customer: Customer, closure: cpb.Closure, actor_id: str, at: dt.datetime
    ) -> None:
        message = events_pb2.ClosureRemoved(**about_customer(customer), closure=closure)
        await self.events.emit(session, message, customer, actor_id, at)
