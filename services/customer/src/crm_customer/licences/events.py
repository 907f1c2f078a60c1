"""Licence events (licence_recorded, licence_removed, licence_expiring, licence_expired), written
into the caller's transaction. Each carries the tenant, the customer (id, name, owner, org unit)
and the whole licence; the envelope's aggregate is the customer at its current version."""

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
class LicenceEvents:
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
        message = events_pb2.LicenceRecorded(**self._about(customer), licence=licence, created=created)
        await self._emit(session, message, customer, actor_id, at)

    async def removed(
        self, session: AsyncSession, customer: Customer, licence: cpb.Licence, actor_id: str, at: dt.datetime
    ) -> None:
        message = events_pb2.LicenceRemoved(**self._about(customer), licence=licence)
        await self._emit(session, message, customer, actor_id, at)

    async def expiring(
        self, session: AsyncSession, customer: Customer, licence: cpb.Licence, days_before: int, at: dt.datetime
    ) -> None:
        message = events_pb2.LicenceExpiring(**self._about(customer), licence=licence, days_before=days_before)
        await self._emit(session, message, customer, "", at)

    async def expired(self, session: AsyncSession, customer: Customer, licence: cpb.Licence, at: dt.datetime) -> None:
        message = events_pb2.LicenceExpired(**self._about(customer), licence=licence)
        await self._emit(session, message, customer, "", at)
