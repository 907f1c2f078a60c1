"""Licence events (licence_recorded, licence_removed, licence_expiring, licence_expired), written
into the caller's transaction. Each carries the tenant, the customer (id, name, owner, org unit)
and the whole licence; the envelope's aggregate is the customer at its current version."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from crm.customer.v1 import calendar_pb2 as cpb
from crm.customer.v1 import events_pb2
from crm_customer.customers.events import CustomerEvents, about_customer
from crm_customer.customers.models import Customer


@dataclass(frozen=True)
class LicenceEvents:
    events: CustomerEvents

    async def recorded(
        self,
        session: AsyncSession,
        customer: Customer,
        licence: cpb.Licence,
        actor_id: str,
        at: dt.datetime,
        *,
        created: bool,
    ) -> None:
        message = events_pb2.LicenceRecorded(**about_customer(customer), licence=licence, created=created)
        await self.events.emit(session, message, customer, actor_id, at)

    async def removed(
        self, session: AsyncSession, customer: Customer, licence: cpb.Licence, actor_id: str, at: dt.datetime
    ) -> None:
        message = events_pb2.LicenceRemoved(**about_customer(customer), licence=licence)
        await self.events.emit(session, message, customer, actor_id, at)

    async def expiring(
        self, session: AsyncSession, customer: Customer, licence: cpb.Licence, days_before: int, at: dt.datetime
    ) -> None:
        message = events_pb2.LicenceExpiring(**about_customer(customer), licence=licence, days_before=days_before)
        await self.events.emit(session, message, customer, "", at)

    async def expired(self, session: AsyncSession, customer: Customer, licence: cpb.Licence, at: dt.datetime) -> None:
        message = events_pb2.LicenceExpired(**about_customer(customer), licence=licence)
        await self.events.emit(session, message, customer, "", at)
