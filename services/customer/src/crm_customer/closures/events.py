"""Closure events (closure_scheduled, closure_changed, closure_removed), written into the
caller's transaction. Each carries the tenant, the customer (id, name, owner, org unit) and the
whole closure, so a consumer (the order service, refusing deliveries inside a closure) needs
nothing else. The envelope's aggregate is the customer at its current version: closures do not
change the customer, but one customer's events stay in one ordered stream."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from google.protobuf.message import Message
from sqlalchemy.ext.asyncio import AsyncSession

from crm.customer.v1 import calendar_pb2 as cpb
from crm.customer.v1 import events_pb2
from crm_customer.customers.events import CustomerEvents
from crm_customer.customers.models import Customer
from crmkit.events import add_event


@dataclass(frozen=True)
class ClosureEvents:
    events: CustomerEvents

    async def _emit(
        self, session: AsyncSession, message: Message, customer: Customer, actor_id: str, at: dt.datetime
    ) -> None:
        await add_event(
            session,
            self.events.tables,
            message=message,
            tenant_id=customer.tenant_id,
            org_unit_id=customer.org_unit_id,
            aggregate_id=customer.id,
            aggregate_version=customer.version,
            occurred_at=at,
            actor_id=actor_id,
            namespace=self.events.namespace,
        )

    @staticmethod
    def _about(customer: Customer) -> dict[str, str]:
        return {
            "tenant_id": customer.tenant_id,
            "customer_id": customer.id,
            "customer_name": customer.name,
            "owner_id": customer.owner_id,
            "org_unit_id": customer.org_unit_id,
        }

    async def scheduled(
        self, session: AsyncSession, customer: Customer, closure: cpb.Closure, actor_id: str, at: dt.datetime
    ) -> None:
        message = events_pb2.ClosureScheduled(**self._about(customer), closure=closure)
        await self._emit(session, message, customer, actor_id, at)

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
            **self._about(customer),
            closure=closure,
            previous_start_date=previous[0].isoformat(),
            previous_end_date=previous[1].isoformat(),
        )
        await self._emit(session, message, customer, actor_id, at)

    async def removed(
        self, session: AsyncSession, customer: Customer, closure: cpb.Closure, actor_id: str, at: dt.datetime
    ) -> None:
        message = events_pb2.ClosureRemoved(**self._about(customer), closure=closure)
        await self._emit(session, message, customer, actor_id, at)
