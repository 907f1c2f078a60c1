"""Revisit notifications: a revisit task the customer service announced overdue is told to its
assignee (the owner; for the service queue, the active service staff at or above the customer's
org unit). A subscription of its own beside `notifications/events.py`, handled like it: in the
consumer's transaction with its inbox row, so a redelivered event notifies nobody twice."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.customer.v1 import events_pb2 as cev
from crm.customer.v1 import revisits_pb2 as rpb
from crm.events.v1.envelope_pb2 import Envelope
from crm_gateway.directory.models import OrgUnit, User
from crm_gateway.notifications import service
from crm_gateway.notifications.feed import NotificationFeed
from crmkit.clock import Clock
from crmkit.identity import Role
from crmkit.service import Subscription


async def service_staff_over(session: AsyncSession, *, tenant_id: str, org_path: str) -> list[str]:
    """Active service users whose unit is the customer's or above it: the task's queue."""
    rows = await session.execute(
        select(User.id, OrgUnit.path)
        .join(OrgUnit, OrgUnit.id == User.org_unit_id)
        .where(User.tenant_id == tenant_id, User.role == Role.SERVICE.value, User.active.is_(True))
    )
    return sorted(user_id for user_id, unit_path in rows if org_path.startswith(unit_path))


class RevisitNotifications:
    def __init__(self, feed: NotificationFeed, clock: Clock) -> None:
        self._feed = feed
        self._clock = clock

    def subscription(self) -> Subscription:
        return Subscription(name="revisit-notifications", handlers={cev.RevisitTaskOverdue: self.revisit_task_overdue})

    async def revisit_task_overdue(
        self, session: AsyncSession, message: cev.RevisitTaskOverdue, envelope: Envelope
    ) -> None:
        task = message.task
        if task.assignee_kind == rpb.REVISIT_ASSIGNEE_SERVICE:
            recipients = await service_staff_over(session, tenant_id=envelope.tenant_id, org_path=task.org_path)
        else:
            recipients = [task.assignee_id]
        await service.notify(
            session,
            feed=self._feed,
            tenant_id=envelope.tenant_id,
            user_ids=recipients,
            kind="revisit_task_overdue",
            params={"customer": task.customer_name, "due_date": task.due_date},
            link_type="customer",
            link_id=task.customer_id,
            event_id=envelope.id,
            now=self._clock(),
        )
