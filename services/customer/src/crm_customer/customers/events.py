"""Customer events: what is published for every change. Each event's name and subject come from
its message (`CustomerCreated` is `crm.customer.v1.customer_created`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from google.protobuf.message import Message
from sqlalchemy.ext.asyncio import AsyncSession

from crm.customer.v1 import customer_pb2 as pb
from crm.customer.v1 import events_pb2
from crm.customer.v1 import follow_ups_pb2 as fpb
from crm.customer.v1 import ownership_pb2 as opb
from crm.customer.v1 import pools_pb2 as ppb
from crm.customer.v1 import profile_pb2 as prpb
from crm_customer.attachments.models import Attachment, attachment_to_proto
from crm_customer.customers.models import STAGES, Customer, customer_to_proto
from crm_customer.ownership.models import CHANGE_KINDS
from crmkit.events import EventTables, add_event, outbox_row

if TYPE_CHECKING:
    from crm_customer.pools.models import Pool


def event_snapshot(customer: Customer) -> pb.Customer:
    """The customer as events carry it: everything but its contacts' personal details. Events go
    to every consumer and into the broker's store, and none of them needs a mobile, a WeChat id
    or an email address; a consumer that must reach a contact asks the customer service."""
    return customer_to_proto(customer, personal=None)


def _owner_changed(
    customer: Customer,
    previous_owner_id: str,
    previous_org_unit_id: str,
    kind: str,
    reason: str,
    transfer_id: str,
    snapshot: pb.Customer | None = None,
) -> events_pb2.CustomerOwnerChanged:
    return events_pb2.CustomerOwnerChanged(
        customer=snapshot or event_snapshot(customer),
        previous_owner_id=previous_owner_id,
        previous_org_unit_id=previous_org_unit_id,
        kind=CHANGE_KINDS.to_proto(kind),  # type: ignore[arg-type]
        reason=reason,
        transfer_id=transfer_id,
    )


def about_customer(customer: Customer) -> dict[str, str]:
    """The customer fields of events that carry another record (a closure, a licence) instead of
    the customer's snapshot: tenant, id, name, owner and org unit."""
    return {
        "tenant_id": customer.tenant_id,
        "customer_id": customer.id,
        "customer_name": customer.name,
        "owner_id": customer.owner_id,
        "org_unit_id": customer.org_unit_id,
    }


@dataclass(frozen=True)
class CustomerEvents:
    """Writes customer events into the outbox of the caller's transaction."""

    tables: EventTables
    namespace: str = ""

    async def emit(
        self, session: AsyncSession, message: Message, customer: Customer, actor_id: str, at: dt.datetime
    ) -> None:
        await add_event(
            session,
            self.tables,
            message=message,
            tenant_id=customer.tenant_id,
            org_unit_id=customer.org_unit_id,
            aggregate_id=customer.id,
            aggregate_version=customer.version,
            occurred_at=at,
            actor_id=actor_id,
            namespace=self.namespace,
        )

    async def created(self, session: AsyncSession, customer: Customer, actor_id: str, at: dt.datetime) -> None:
        message = events_pb2.CustomerCreated(customer=event_snapshot(customer))
        await self.emit(session, message, customer, actor_id, at)

    def created_row(self, customer: Customer, actor_id: str, at: dt.datetime) -> dict[str, Any]:
        """`created` as an outbox row, for a batch to write with others (`add_events`)."""
        return self._row(events_pb2.CustomerCreated(customer=event_snapshot(customer)), customer, actor_id, at)

    def _row(self, message: Message, customer: Customer, actor_id: str, at: dt.datetime) -> dict[str, Any]:
        _, row = outbox_row(
            message=message,
            tenant_id=customer.tenant_id,
            org_unit_id=customer.org_unit_id,
            aggregate_id=customer.id,
            aggregate_version=customer.version,
            occurred_at=at,
            actor_id=actor_id,
            namespace=self.namespace,
        )
        return row

    async def updated(
        self, session: AsyncSession, customer: Customer, changed: list[str], actor_id: str, at: dt.datetime
    ) -> None:
        message = events_pb2.CustomerUpdated(customer=event_snapshot(customer), changed_fields=changed)
        await self.emit(session, message, customer, actor_id, at)

    async def owner_changed(
        self,
        session: AsyncSession,
        customer: Customer,
        previous_owner_id: str,
        previous_org_unit_id: str,
        actor_id: str,
        at: dt.datetime,
        *,
        kind: str,
        reason: str = "",
        transfer_id: str = "",
        snapshot: pb.Customer | None = None,
    ) -> None:
        """`transfer_id`: the transfer job's moves name their transfer, which announces them as a
        whole; a change made on its own leaves it empty. `snapshot`: the customer's
        `event_snapshot`, when the caller made it already (a batch that announces each customer
        twice builds it once)."""
        message = _owner_changed(customer, previous_owner_id, previous_org_unit_id, kind, reason, transfer_id, snapshot)
        await self.emit(session, message, customer, actor_id, at)

    def owner_changed_row(
        self,
        customer: Customer,
        previous_owner_id: str,
        previous_org_unit_id: str,
        actor_id: str,
        at: dt.datetime,
        *,
        kind: str,
        reason: str = "",
        transfer_id: str = "",
    ) -> dict[str, Any]:
        """The same event as an outbox row, for a batch to write with others (`add_events`)."""
        message = _owner_changed(customer, previous_owner_id, previous_org_unit_id, kind, reason, transfer_id)
        return self._row(message, customer, actor_id, at)

    async def interaction_logged(
        self,
        session: AsyncSession,
        customer: Customer,
        interaction: fpb.Interaction,
        actor_id: str,
        at: dt.datetime,
        *,
        edited: bool = False,
    ) -> None:
        message = events_pb2.InteractionLogged(
            interaction=interaction, customer=event_snapshot(customer), edited=edited
        )
        await self.emit(session, message, customer, actor_id, at)

    async def released_to_pool(
        self,
        session: AsyncSession,
        customer: Customer,
        previous_owner_id: str,
        pool_id: str,
        reason: str,
        actor_id: str,
        at: dt.datetime,
    ) -> None:
        message = events_pb2.CustomerReleasedToPool(
            customer=event_snapshot(customer), previous_owner_id=previous_owner_id, pool_id=pool_id, reason=reason
        )
        await self.emit(session, message, customer, actor_id, at)

    async def returned_to_pool(
        self,
        session: AsyncSession,
        customer: Customer,
        previous_owner_id: str,
        pool_id: str,
        rule: str,
        reason: str,
        at: dt.datetime,
        *,
        snapshot: pb.Customer | None = None,
    ) -> None:
        message = events_pb2.CustomerReturnedToPool(
            customer=snapshot or event_snapshot(customer),
            previous_owner_id=previous_owner_id,
            pool_id=pool_id,
            rule=rule,
            reason=reason,
        )
        await self.emit(session, message, customer, "", at)

    async def return_warning(
        self, session: AsyncSession, customer: Customer, pool_id: str, rule: str, return_date: dt.date, at: dt.datetime
    ) -> None:
        message = events_pb2.CustomerReturnWarning(
            customer=event_snapshot(customer),
            owner_id=customer.owner_id,
            pool_id=pool_id,
            rule=rule,
            return_date=return_date.isoformat(),
        )
        await self.emit(session, message, customer, "", at)

    async def claim_submitted(
        self,
        session: AsyncSession,
        customer: Customer,
        claim: ppb.PoolClaim,
        pool: Pool,
        actor_id: str,
        at: dt.datetime,
    ) -> None:
        message = events_pb2.PoolClaimSubmitted(claim=claim, pool_org_unit_id=pool.org_unit_id)
        await self.emit(session, message, customer, actor_id, at)

    async def claim_decided(
        self,
        session: AsyncSession,
        customer: Customer,
        claim: ppb.PoolClaim,
        pool: Pool,
        actor_id: str,
        at: dt.datetime,
    ) -> None:
        message = events_pb2.PoolClaimDecided(claim=claim, pool_org_unit_id=pool.org_unit_id)
        await self.emit(session, message, customer, actor_id, at)

    async def archived(self, session: AsyncSession, customer: Customer, actor_id: str, at: dt.datetime) -> None:
        message = events_pb2.CustomerArchived(customer=event_snapshot(customer))
        await self.emit(session, message, customer, actor_id, at)

    async def collaborator_added(
        self, session: AsyncSession, customer: Customer, collaborator: opb.Collaborator, actor_id: str, at: dt.datetime
    ) -> None:
        message = events_pb2.CollaboratorAdded(collaborator=collaborator)
        await self.emit(session, message, customer, actor_id, at)

    async def collaborator_removed(
        self,
        session: AsyncSession,
        customer: Customer,
        collaborator: opb.Collaborator,
        cause: str,
        actor_id: str,
        at: dt.datetime,
    ) -> None:
        message = events_pb2.CollaboratorRemoved(collaborator=collaborator, cause=cause)
        await self.emit(session, message, customer, actor_id, at)

    # profile (issue 12)

    async def tier_changed(
        self, session: AsyncSession, customer: Customer, change: prpb.TierChange, actor_id: str, at: dt.datetime
    ) -> None:
        message = events_pb2.CustomerTierChanged(customer=event_snapshot(customer), change=change)
        await self.emit(session, message, customer, actor_id, at)

    async def stage_changed(
        self, session: AsyncSession, customer: Customer, change: prpb.StageChange, actor_id: str, at: dt.datetime
    ) -> None:
        message = events_pb2.CustomerStageChanged(
            customer=event_snapshot(customer),
            from_stage=STAGES.to_proto(change.from_stage),  # type: ignore[arg-type]
            to_stage=STAGES.to_proto(change.to_stage),  # type: ignore[arg-type]
            change=change,
        )
        await self.emit(session, message, customer, actor_id, at)

    async def parent_changed(
        self, session: AsyncSession, customer: Customer, previous_parent_id: str, actor_id: str, at: dt.datetime
    ) -> None:
        message = events_pb2.CustomerParentChanged(
            customer=event_snapshot(customer), previous_parent_customer_id=previous_parent_id
        )
        await self.emit(session, message, customer, actor_id, at)

    async def relation_added(
        self, session: AsyncSession, customer: Customer, relation: prpb.CustomerRelation, actor_id: str, at: dt.datetime
    ) -> None:
        await self.emit(session, events_pb2.CustomerRelationAdded(relation=relation), customer, actor_id, at)

    async def relation_removed(
        self, session: AsyncSession, customer: Customer, relation: prpb.CustomerRelation, actor_id: str, at: dt.datetime
    ) -> None:
        message = events_pb2.CustomerRelationRemoved(relation=relation, removed_by=actor_id)
        await self.emit(session, message, customer, actor_id, at)

    async def attachment_uploaded(
        self, session: AsyncSession, customer: Customer, attachment: Attachment, actor_id: str, at: dt.datetime
    ) -> None:
        """A file kept on the customer (visits, issue 12), without its storage keys."""
        message = events_pb2.AttachmentUploaded(attachment=attachment_to_proto(attachment, with_keys=False))
        await self.emit(session, message, customer, actor_id, at)

    async def attachment_deleted(
        self, session: AsyncSession, customer: Customer, attachment: Attachment, actor_id: str, at: dt.datetime
    ) -> None:
        """A file no record referred to, removed from the customer (without its storage keys)."""
        message = events_pb2.AttachmentDeleted(
            attachment=attachment_to_proto(attachment, with_keys=False), deleted_by=actor_id
        )
        await self.emit(session, message, customer, actor_id, at)
