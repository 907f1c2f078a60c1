"""The customer events that become notifications, and who receives each.

`customer_owner_changed` is told only for a single handover: an owner change with no
`transfer_id` whose kind is a hand-over by someone (transferred, or assigned by a rule on someone's
behalf) tells the new owner, unless they made the change themselves. A transfer (离职交接) moves
each customer with its own owner change naming the transfer and then sends `transfer_completed`,
so its receivers hear of it once, from that ("N位客户已交接给你"). The other kinds need no notice
here: a claim is the rep's own doing, an approved claim is told by `pool_claim_decided`, a
release or a return to the pool leaves nobody owning the customer, and creation is no owner
change at all.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from crm.customer.v1 import events_pb2 as cev
from crm.customer.v1 import imports_pb2, ownership_pb2, pools_pb2
from crm.events.v1.envelope_pb2 import Envelope
from crm_gateway.notifications import service
from crm_gateway.notifications.feed import NotificationFeed
from crm_gateway.notifications.licences import licence_handlers
from crmkit.clock import Clock
from crmkit.service import Subscription

DECIDED_KINDS = {
    pools_pb2.CLAIM_STATUS_APPROVED: "pool_claim_approved",
    pools_pb2.CLAIM_STATUS_REJECTED: "pool_claim_rejected",
    pools_pb2.CLAIM_STATUS_EXPIRED: "pool_claim_expired",
}
# Owner changes that hand a customer to someone who did not ask for it.
HANDED_OVER_KINDS = frozenset(
    {ownership_pb2.OWNER_CHANGE_KIND_TRANSFERRED, ownership_pb2.OWNER_CHANGE_KIND_ASSIGNED_BY_RULE}
)


class NotificationEvents:
    """Handlers of the gateway's `notifications` subscription; each runs in the consumer's
    transaction with its inbox row, so a redelivered event notifies nobody twice."""

    def __init__(self, feed: NotificationFeed, clock: Clock) -> None:
        self._feed = feed
        self._clock = clock

    def subscription(self) -> Subscription:
        return Subscription(
            name="notifications",
            handlers={
                cev.CustomerOwnerChanged: self.customer_owner_changed,
                cev.PoolClaimSubmitted: self.pool_claim_submitted,
                cev.PoolClaimDecided: self.pool_claim_decided,
                cev.CustomerReturnWarning: self.customer_return_warning,
                cev.CustomerReturnedToPool: self.customer_returned_to_pool,
                cev.TransferCompleted: self.transfer_completed,
                cev.FollowUpReminder: self.follow_up_reminder,
                **licence_handlers(self._notify),
                cev.CustomerImportFinished: self.customer_import_finished,
            },
        )

    async def _notify(
        self,
        session: AsyncSession,
        envelope: Envelope,
        user_ids: list[str],
        kind: str,
        params: Mapping[str, object],
        link_type: str,
        link_id: str,
    ) -> None:
        await service.notify(
            session,
            feed=self._feed,
            tenant_id=envelope.tenant_id,
            user_ids=user_ids,
            kind=kind,
            params=params,
            link_type=link_type,
            link_id=link_id,
            event_id=envelope.id,
            now=self._clock(),
        )

    async def _name(self, session: AsyncSession, envelope: Envelope, user_id: str) -> str:
        return await service.display_name(session, tenant_id=envelope.tenant_id, user_id=user_id)

    async def customer_owner_changed(
        self, session: AsyncSession, message: cev.CustomerOwnerChanged, envelope: Envelope
    ) -> None:
        customer = message.customer
        new_owner = customer.owner_id
        if message.transfer_id or message.kind not in HANDED_OVER_KINDS:
            return
        # Moved between units but kept by the same owner, or taken by the actor themselves.
        if not new_owner or new_owner in (message.previous_owner_id, envelope.actor_id):
            return
        params = {
            "customer": customer.name,
            "actor": await self._name(session, envelope, envelope.actor_id),
            "reason": message.reason,
        }
        await self._notify(session, envelope, [new_owner], "customer_handed_over", params, "customer", customer.id)

    async def pool_claim_submitted(
        self, session: AsyncSession, message: cev.PoolClaimSubmitted, envelope: Envelope
    ) -> None:
        claim = message.claim
        deciders = await service.supervisors_above(
            session, tenant_id=envelope.tenant_id, org_unit_id=message.pool_org_unit_id
        )
        params = {
            "customer": claim.customer_name,
            "claimant": await self._name(session, envelope, claim.claimant_id),
            "reason": claim.reason,
        }
        await self._notify(session, envelope, deciders, "pool_claim_submitted", params, "claim", claim.id)

    async def pool_claim_decided(
        self, session: AsyncSession, message: cev.PoolClaimDecided, envelope: Envelope
    ) -> None:
        claim = message.claim
        kind = DECIDED_KINDS.get(claim.status)
        if kind is None:
            # Withdrawn: the claimant did it themselves.
            return
        params = {"customer": claim.customer_name, "comment": claim.comment}
        await self._notify(session, envelope, [claim.claimant_id], kind, params, "claim", claim.id)

    async def customer_return_warning(
        self, session: AsyncSession, message: cev.CustomerReturnWarning, envelope: Envelope
    ) -> None:
        customer = message.customer
        params = {"customer": customer.name, "return_date": message.return_date, "reason": message.rule}
        await self._notify(
            session, envelope, [message.owner_id], "customer_return_warning", params, "customer", customer.id
        )

    async def customer_returned_to_pool(
        self, session: AsyncSession, message: cev.CustomerReturnedToPool, envelope: Envelope
    ) -> None:
        customer = message.customer
        previous = message.previous_owner_id
        params = {
            "customer": customer.name,
            "reason": message.reason,
            "previous_owner": await self._name(session, envelope, previous),
        }
        await self._notify(session, envelope, [previous], "customer_returned_to_pool", params, "customer", customer.id)
        supervisors = await service.supervisors_above(
            session, tenant_id=envelope.tenant_id, org_unit_id=customer.org_unit_id
        )
        await self._notify(
            session,
            envelope,
            [s for s in supervisors if s != previous],
            "customer_returned_to_pool_supervisor",
            params,
            "customer",
            customer.id,
        )

    async def transfer_completed(
        self, session: AsyncSession, message: cev.TransferCompleted, envelope: Envelope
    ) -> None:
        from_owner = await self._name(session, envelope, message.from_owner_id)
        received: dict[str, int] = {}
        for share in message.shares:
            if share.owner_id:
                received[share.owner_id] = received.get(share.owner_id, 0) + share.customers
        for owner_id, customers in received.items():
            await self._notify(
                session,
                envelope,
                [owner_id],
                "transfer_received",
                {"customers": customers, "from_owner": from_owner},
                "transfer",
                message.transfer_id,
            )
        total = sum(share.customers for share in message.shares)
        actor = message.actor_id or envelope.actor_id
        await self._notify(
            session,
            envelope,
            [] if actor in received else [actor],
            "transfer_completed",
            {"customers": total, "from_owner": from_owner},
            "transfer",
            message.transfer_id,
        )

    async def follow_up_reminder(
        self, session: AsyncSession, message: cev.FollowUpReminder, envelope: Envelope
    ) -> None:
        customer = message.customer
        params = {"customer": customer.name, "due_date": message.due_date}
        await self._notify(session, envelope, [message.owner_id], "follow_up_reminder", params, "customer", customer.id)

    async def customer_import_finished(
        self, session: AsyncSession, message: cev.CustomerImportFinished, envelope: Envelope
    ) -> None:
        """The importer hears when the dry run's report is ready and when the import ends (its
        progress in between is polled: GET /api/v1/customer-imports/{id})."""
        counts = message.counts
        params: dict[str, object] = {
            "file_name": message.file_name,
            "created": counts.created,
            "updated": counts.updated,
            "problems": counts.problems,
            "rejected_rows": counts.rejected_rows,
        }
        if message.status == imports_pb2.IMPORT_STATUS_FAILED:
            kind = "import_failed"
        elif message.status == imports_pb2.IMPORT_STATUS_CHECKED:
            kind = "import_checked"
        else:
            kind = "import_completed"
        await self._notify(session, envelope, [message.actor_id], kind, params, "customer_import", message.import_id)
