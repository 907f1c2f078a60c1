"""All events of the after-sale aggregate in one place, written into the caller's transaction;
each carries the after-sale after the change, its envelope the after-sale's id and version."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from google.protobuf.message import Message
from sqlalchemy.ext.asyncio import AsyncSession

from crm.order.v1 import events_pb2
from crm_order.after_sales.models import AfterSale
from crm_order.after_sales.validation import AFTER_SALE_DECISIONS, REFUNDING
from crm_order.after_sales.views import after_sale_message
from crm_order.money import yuan
from crmkit.events import EventTables, add_event


@dataclass(frozen=True)
class AfterSaleEvents:
    tables: EventTables
    namespace: str = ""

    async def _emit(
        self, session: AsyncSession, message: Message, after_sale: AfterSale, actor_id: str, at: dt.datetime
    ) -> None:
        await add_event(
            session,
            self.tables,
            message=message,
            tenant_id=after_sale.tenant_id,
            org_unit_id=after_sale.org_unit_id,
            aggregate_id=after_sale.id,
            aggregate_version=after_sale.version,
            occurred_at=at,
            actor_id=actor_id,
            namespace=self.namespace,
        )

    async def requested(self, session: AsyncSession, after_sale: AfterSale, actor_id: str, at: dt.datetime) -> None:
        message = events_pb2.AfterSaleRequested(after_sale=after_sale_message(after_sale))
        await self._emit(session, message, after_sale, actor_id, at)

    async def decided(self, session: AsyncSession, after_sale: AfterSale, actor_id: str, at: dt.datetime) -> None:
        # Only an approved refund moves money; the credit service books exactly this amount.
        refunds = after_sale.state == "approved" and after_sale.type in REFUNDING
        message = events_pb2.AfterSaleDecided(
            after_sale=after_sale_message(after_sale),
            decision=AFTER_SALE_DECISIONS.to_proto(after_sale.decision),  # type: ignore[arg-type]
            comment=after_sale.decision_comment,
            refund_amount=yuan(after_sale.refund_fen if refunds else 0),
            shipment_order_id=after_sale.shipment_order_id,
            order_id=after_sale.order_id,
        )
        await self._emit(session, message, after_sale, actor_id, at)
