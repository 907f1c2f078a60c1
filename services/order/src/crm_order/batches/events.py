"""The recall's event, written into the caller's transaction: `batch_recalled` carries every
affected customer (the ticket service opens a ticket per customer; the gateway tells owners)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from crm.order.v1 import events_pb2
from crm_order.batches.recall_models import BatchRecall
from crm_order.batches.views import recall_message
from crmkit.events import EventTables, add_event
from crmkit.identity import Identity


@dataclass(frozen=True)
class RecallEvents:
    tables: EventTables
    namespace: str = ""

    async def recalled(self, session: AsyncSession, recall: BatchRecall, actor: Identity, at: dt.datetime) -> None:
        await add_event(
            session,
            self.tables,
            message=events_pb2.BatchRecalled(recall=recall_message(recall)),
            tenant_id=recall.tenant_id,
            org_unit_id=actor.org_unit_id,
            aggregate_id=recall.id,
            aggregate_version=1,
            occurred_at=at,
            actor_id=actor.principal_id,
            namespace=self.namespace,
        )
