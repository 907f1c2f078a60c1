"""All events of the quote aggregate in one place, written into the caller's transaction; each
carries the quote after the change, its envelope the quote's id and version."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from google.protobuf.message import Message
from sqlalchemy.ext.asyncio import AsyncSession

from crm.order.v1 import events_pb2
from crm_order.quotes.models import Quote
from crm_order.quotes.validation import QUOTE_DECISIONS
from crm_order.quotes.views import quote_message
from crmkit.clock import shanghai_date
from crmkit.events import EventTables, add_event


@dataclass(frozen=True)
class QuoteEvents:
    tables: EventTables
    namespace: str = ""

    async def _emit(
        self, session: AsyncSession, message: Message, quote: Quote, actor_id: str, at: dt.datetime
    ) -> None:
        await add_event(
            session,
            self.tables,
            message=message,
            tenant_id=quote.tenant_id,
            org_unit_id=quote.org_unit_id,
            aggregate_id=quote.id,
            aggregate_version=quote.version,
            occurred_at=at,
            actor_id=actor_id,
            namespace=self.namespace,
        )

    async def submitted(self, session: AsyncSession, quote: Quote, actor_id: str, at: dt.datetime) -> None:
        snapshot = quote_message(quote, shanghai_date(at))
        await self._emit(session, events_pb2.QuoteSubmitted(quote=snapshot), quote, actor_id, at)

    async def decided(
        self, session: AsyncSession, quote: Quote, actor_id: str, at: dt.datetime, *, automatic: bool
    ) -> None:
        message = events_pb2.QuoteDecided(
            quote=quote_message(quote, shanghai_date(at)),
            decision=QUOTE_DECISIONS.to_proto(quote.decision),  # type: ignore[arg-type]
            comment=quote.decision_comment,
            automatic=automatic,
        )
        await self._emit(session, message, quote, actor_id, at)
