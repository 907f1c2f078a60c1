"""The pricing events, written into the caller's transaction: an agreement price set or removed
(aggregate: the price), the tenant's settings changed (aggregate: the tenant)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from crm.order.v1 import events_pb2
from crm.order.v1 import pricing_pb2 as pb
from crm_order.pricing.models import PricingSettings
from crmkit.events import EventTables, add_event
from crmkit.identity import Identity


@dataclass(frozen=True)
class PricingEvents:
    tables: EventTables
    namespace: str = ""

    async def price_set(
        self, session: AsyncSession, price: pb.AgreementPrice, *, created: bool, identity: Identity, at: dt.datetime
    ) -> None:
        await self._emit(
            session, events_pb2.AgreementPriceSet(agreement_price=price, created=created), price, identity, at
        )

    async def price_removed(
        self, session: AsyncSession, price: pb.AgreementPrice, *, identity: Identity, at: dt.datetime
    ) -> None:
        await self._emit(session, events_pb2.AgreementPriceRemoved(agreement_price=price), price, identity, at)

    async def _emit(
        self,
        session: AsyncSession,
        message: events_pb2.AgreementPriceSet | events_pb2.AgreementPriceRemoved,
        price: pb.AgreementPrice,
        identity: Identity,
        at: dt.datetime,
    ) -> None:
        await add_event(
            session,
            self.tables,
            message=message,
            tenant_id=price.tenant_id,
            org_unit_id=identity.org_unit_id,
            aggregate_id=price.id,
            aggregate_version=price.version,
            occurred_at=at,
            actor_id=identity.principal_id,
            namespace=self.namespace,
        )

    async def settings_changed(
        self,
        session: AsyncSession,
        settings: PricingSettings,
        message: pb.PricingSettings,
        *,
        identity: Identity,
        at: dt.datetime,
    ) -> None:
        await add_event(
            session,
            self.tables,
            message=events_pb2.PricingSettingsChanged(settings=message),
            tenant_id=settings.tenant_id,
            org_unit_id=identity.org_unit_id,
            aggregate_id=settings.tenant_id,
            aggregate_version=settings.version,
            occurred_at=at,
            actor_id=identity.principal_id,
            namespace=self.namespace,
        )
