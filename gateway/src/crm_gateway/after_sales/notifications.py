"""After-sale notifications both ways: a request is told to those who may decide it (the
supervisors at or above the customer's unit; the bosses when there are none), and the decision to
whoever asked. A subscription of its own to the order service's events, handled in the
consumer's transaction with its inbox row, so a redelivered event notifies nobody twice."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from crm.events.v1.envelope_pb2 import Envelope
from crm.order.v1 import after_sales_pb2 as apb
from crm.order.v1 import events_pb2 as oev
from crm_gateway.notifications import service
from crm_gateway.notifications.feed import NotificationFeed
from crm_gateway.quotes.notifications import quote_approvers
from crmkit.clock import Clock
from crmkit.service import Subscription

DECIDED_KINDS = {
    apb.AFTER_SALE_DECISION_APPROVE: "after_sale_approved",
    apb.AFTER_SALE_DECISION_REJECT: "after_sale_rejected",
}
TYPE_LABELS = {
    apb.AFTER_SALE_TYPE_RETURN_REFUND: ("退货退款", "return and refund"),
    apb.AFTER_SALE_TYPE_REFUND_ONLY: ("仅退款", "refund only"),
    apb.AFTER_SALE_TYPE_EXCHANGE: ("退货换货", "exchange"),
    apb.AFTER_SALE_TYPE_REISSUE: ("补发", "reissue"),
}


class AfterSaleNotifications:
    def __init__(self, feed: NotificationFeed, clock: Clock) -> None:
        self._feed = feed
        self._clock = clock

    def subscription(self) -> Subscription:
        return Subscription(
            name="after-sale-notifications",
            handlers={oev.AfterSaleRequested: self.after_sale_requested, oev.AfterSaleDecided: self.after_sale_decided},
        )

    async def _notify(
        self,
        session: AsyncSession,
        envelope: Envelope,
        after_sale: apb.AfterSale,
        user_ids: list[str],
        kind: str,
        **extra: str,
    ) -> None:
        type_zh, type_en = TYPE_LABELS.get(after_sale.type, ("售后", "after-sale"))
        await service.notify(
            session,
            feed=self._feed,
            tenant_id=envelope.tenant_id,
            user_ids=user_ids,
            kind=kind,
            params={
                "number": after_sale.number,
                "customer": after_sale.customer_name,
                "type_zh": type_zh,
                "type_en": type_en,
                "amount": after_sale.refund_amount,
                **extra,
            },
            link_type="after_sale",
            link_id=after_sale.id,
            event_id=envelope.id,
            now=self._clock(),
        )

    async def after_sale_requested(
        self, session: AsyncSession, message: oev.AfterSaleRequested, envelope: Envelope
    ) -> None:
        after_sale = message.after_sale
        approvers = await quote_approvers(session, tenant_id=envelope.tenant_id, org_unit_id=after_sale.org_unit_id)
        # Nobody decides their own after-sale, so nobody is asked to.
        recipients = [user_id for user_id in approvers if user_id != after_sale.requested_by]
        requester = await service.display_name(session, tenant_id=envelope.tenant_id, user_id=after_sale.requested_by)
        await self._notify(
            session, envelope, after_sale, recipients, "after_sale_awaiting_approval", requester=requester
        )

    async def after_sale_decided(
        self, session: AsyncSession, message: oev.AfterSaleDecided, envelope: Envelope
    ) -> None:
        kind = DECIDED_KINDS.get(message.decision)
        if kind is None:
            return
        after_sale = message.after_sale
        await self._notify(session, envelope, after_sale, [after_sale.requested_by], kind, comment=message.comment)
