"""Quote notifications both ways: a quote waiting for approval is told to those who may decide it
(the supervisors at or above the customer's unit; the bosses when there are none), and the
decision to whoever submitted it. A subscription of its own to the order service's events,
handled like `notifications/events.py`: in the consumer's transaction with its inbox row, so a
redelivered event notifies nobody twice."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.events.v1.envelope_pb2 import Envelope
from crm.order.v1 import events_pb2 as oev
from crm.order.v1 import quotes_pb2 as qpb
from crm_gateway.directory.models import User
from crm_gateway.notifications import service
from crm_gateway.notifications.feed import NotificationFeed
from crmkit.clock import Clock
from crmkit.identity import Role
from crmkit.service import Subscription

DECIDED_KINDS = {qpb.QUOTE_DECISION_APPROVE: "quote_approved", qpb.QUOTE_DECISION_REJECT: "quote_rejected"}


async def quote_approvers(session: AsyncSession, *, tenant_id: str, org_unit_id: str) -> list[str]:
    supervisors = await service.supervisors_above(session, tenant_id=tenant_id, org_unit_id=org_unit_id)
    if supervisors:
        return supervisors
    bosses = await session.scalars(
        select(User.id).where(User.tenant_id == tenant_id, User.role == Role.BOSS.value, User.active.is_(True))
    )
    return sorted(bosses)


class QuoteNotifications:
    def __init__(self, feed: NotificationFeed, clock: Clock) -> None:
        self._feed = feed
        self._clock = clock

    def subscription(self) -> Subscription:
        return Subscription(
            name="quote-notifications",
            handlers={oev.QuoteSubmitted: self.quote_submitted, oev.QuoteDecided: self.quote_decided},
        )

    async def _notify(
        self, session: AsyncSession, envelope: Envelope, quote: qpb.Quote, user_ids: list[str], kind: str, **extra: str
    ) -> None:
        await service.notify(
            session,
            feed=self._feed,
            tenant_id=envelope.tenant_id,
            user_ids=user_ids,
            kind=kind,
            params={"number": quote.number, "customer": quote.customer_name, **extra},
            link_type="quote",
            link_id=quote.id,
            event_id=envelope.id,
            now=self._clock(),
        )

    async def quote_submitted(self, session: AsyncSession, message: oev.QuoteSubmitted, envelope: Envelope) -> None:
        quote = message.quote
        if quote.state != qpb.QUOTE_STATE_PENDING_APPROVAL:
            # Approved at once: nobody has anything to decide.
            return
        approvers = await quote_approvers(session, tenant_id=envelope.tenant_id, org_unit_id=quote.org_unit_id)
        # Nobody approves their own quote, so nobody is asked to.
        recipients = [user_id for user_id in approvers if user_id != quote.submitted_by]
        submitter = await service.display_name(session, tenant_id=envelope.tenant_id, user_id=quote.submitted_by)
        rate = min(filter(None, (quote.discount_rate, quote.lowest_line_rate)), key=float, default="")
        await self._notify(
            session, envelope, quote, recipients, "quote_awaiting_approval", submitter=submitter, rate=rate
        )

    async def quote_decided(self, session: AsyncSession, message: oev.QuoteDecided, envelope: Envelope) -> None:
        kind = DECIDED_KINDS.get(message.decision)
        if message.automatic or kind is None:
            # Approved on submit: the submitter saw it in the answer.
            return
        quote = message.quote
        await self._notify(session, envelope, quote, [quote.submitted_by], kind, comment=message.comment)
