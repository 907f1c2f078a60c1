"""Catalogue events (product_upserted), written into the caller's transaction."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from crm.order.v1 import events_pb2
from crm_order.catalogue.models import Product
from crm_order.catalogue.views import product_message
from crmkit.events import EventTables, add_event


async def product_upserted(
    session: AsyncSession,
    tables: EventTables,
    *,
    product: Product,
    created: bool,
    org_unit_id: str,
    actor_id: str,
    at: dt.datetime,
    namespace: str,
) -> None:
    await add_event(
        session,
        tables,
        message=events_pb2.ProductUpserted(product=product_message(product), created=created),
        tenant_id=product.tenant_id,
        org_unit_id=org_unit_id,
        aggregate_id=product.id,
        aggregate_version=product.version,
        occurred_at=at,
        actor_id=actor_id,
        namespace=namespace,
    )
