"""gRPC edge of follow-ups: validate, call the service, commit, map."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from crm.customer.v1 import follow_ups_pb2 as fpb
from crm_customer.follow_ups import service, validation
from crm_customer.follow_ups.models import Interaction, interaction_to_proto
from crm_customer.preferences.service import requirements_by_customer
from crm_customer.servicer_base import CustomerServicerBase
from crmkit.clock import as_utc
from crmkit.errors import NotFound
from crmkit.events import timestamp_of
from crmkit.grpc_server import RpcContext
from crmkit.identity import current_identity
from crmkit.paging import page_size
from crmkit.validate import identifier, text


class FollowUpRpcs(CustomerServicerBase):
    """LogInteraction, UpdateInteraction, ListInteractions, ListFollowUpTasks."""

    async def LogInteraction(
        self, request: fpb.LogInteractionRequest, context: RpcContext
    ) -> fpb.LogInteractionResponse:
        request_id = text(request.request_id, "request_id", max_len=64)
        customer_id = identifier(request.interaction.customer_id, "interaction.customer_id")
        data = validation.interaction_input(request.interaction, self._clock())
        identity = current_identity()

        async def log(session: AsyncSession) -> tuple[str, fpb.LogInteractionResponse]:
            interaction = await service.log_interaction(
                session, identity=identity, customer_id=customer_id, data=data, events=self._events, now=self._clock()
            )
            return interaction.id, fpb.LogInteractionResponse(interaction=interaction_to_proto(interaction))

        async def replay(session: AsyncSession, interaction_id: str) -> fpb.LogInteractionResponse:
            interaction = await session.get(Interaction, interaction_id)
            if interaction is None or interaction.customer_id != customer_id:
                raise NotFound("follow-up", interaction_id)
            return fpb.LogInteractionResponse(interaction=interaction_to_proto(interaction))

        return await self._writes.create_once(identity=identity, request_id=request_id, create=log, replay=replay)

    async def UpdateInteraction(
        self, request: fpb.UpdateInteractionRequest, context: RpcContext
    ) -> fpb.UpdateInteractionResponse:
        customer_id = identifier(request.interaction.customer_id, "interaction.customer_id")
        interaction_id = identifier(request.interaction.id, "interaction.id")
        changes = validation.interaction_changes(request.interaction, list(request.update_mask.paths), self._clock())
        async with self._writes.transaction() as session:
            interaction = await service.update_interaction(
                session,
                identity=current_identity(),
                customer_id=customer_id,
                interaction_id=interaction_id,
                changes=changes,
                events=self._events,
                now=self._clock(),
            )
            response = fpb.UpdateInteractionResponse(interaction=interaction_to_proto(interaction))
        return response

    async def ListInteractions(
        self, request: fpb.ListInteractionsRequest, context: RpcContext
    ) -> fpb.ListInteractionsResponse:
        customer_id = identifier(request.customer_id, "customer_id")
        kind = validation.kind_filter(request.kind)
        size = page_size(request.page_size)
        async with self._reads() as session:
            rows, token = await service.list_interactions(
                session,
                identity=current_identity(),
                customer_id=customer_id,
                page_size=size,
                page_token=request.page_token,
                now=self._clock(),
                kind=kind,
            )
            return fpb.ListInteractionsResponse(
                interactions=[interaction_to_proto(row) for row in rows], next_page_token=token
            )

    async def ListFollowUpTasks(
        self, request: fpb.ListFollowUpTasksRequest, context: RpcContext
    ) -> fpb.ListFollowUpTasksResponse:
        first, last = validation.due_window(request.due, self._clock())
        query = service.TaskQuery(
            first=first,
            last=last,
            owner_id=identifier(request.owner_id, "owner_id", required=False) or None,
            org_unit_id=identifier(request.org_unit_id, "org_unit_id", required=False) or None,
        )
        size = page_size(request.page_size)
        identity = current_identity()
        async with self._reads() as session:
            rows, token = await service.list_follow_up_tasks(
                session, identity=identity, query=query, page_size=size, page_token=request.page_token
            )
            found = await requirements_by_customer(
                session, tenant_id=identity.tenant_id, customer_ids=[row.id for row in rows]
            )
        return fpb.ListFollowUpTasksResponse(
            tasks=[
                fpb.FollowUpTask(
                    customer_id=row.id,
                    customer_name=row.name,
                    owner_id=row.owner_id,
                    org_unit_id=row.org_unit_id,
                    next_follow_up_date=row.next_follow_up_date.isoformat(),
                    last_interaction_time=timestamp_of(as_utc(row.last_interaction_at))
                    if row.last_interaction_at
                    else None,
                    special_requirements=found.get(row.id, []),
                )
                for row in rows
            ],
            next_page_token=token,
        )
