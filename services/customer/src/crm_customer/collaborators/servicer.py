"""gRPC edge of collaborators: list, put (add or change), remove."""

from __future__ import annotations

from crm.customer.v1 import ownership_pb2 as opb
from crm_customer.collaborators import service
from crm_customer.collaborators.models import ACCESS, collaborator_to_proto
from crm_customer.customers.service import get_customer
from crm_customer.servicer_base import CustomerServicerBase
from crmkit.clock import as_utc
from crmkit.grpc_server import RpcContext
from crmkit.identity import current_identity
from crmkit.validate import identifier


class CollaboratorRpcs(CustomerServicerBase):
    """ListCollaborators, PutCollaborator, RemoveCollaborator."""

    async def ListCollaborators(
        self, request: opb.ListCollaboratorsRequest, context: RpcContext
    ) -> opb.ListCollaboratorsResponse:
        customer_id = identifier(request.customer_id, "customer_id")
        now = self._clock()
        async with self._reads() as session:
            await get_customer(session, identity=current_identity(), customer_id=customer_id, now=now)
            rows = await service.list_collaborators(session, customer_id=customer_id, now=now)
            return opb.ListCollaboratorsResponse(collaborators=[collaborator_to_proto(row) for row in rows])

    async def PutCollaborator(
        self, request: opb.PutCollaboratorRequest, context: RpcContext
    ) -> opb.PutCollaboratorResponse:
        customer_id = identifier(request.customer_id, "customer_id")
        user_id = identifier(request.user_id, "user_id")
        access = ACCESS.parse(request.access, "access")
        expires_at = as_utc(request.expire_time.ToDatetime()) if request.HasField("expire_time") else None
        async with self._writes.transaction() as session:
            row = await service.put_collaborator(
                session,
                identity=current_identity(),
                customer_id=customer_id,
                user_id=user_id,
                access=access,
                expires_at=expires_at,
                events=self._events,
                now=self._clock(),
            )
            answer = collaborator_to_proto(row)
        return opb.PutCollaboratorResponse(collaborator=answer)

    async def RemoveCollaborator(
        self, request: opb.RemoveCollaboratorRequest, context: RpcContext
    ) -> opb.RemoveCollaboratorResponse:
        customer_id = identifier(request.customer_id, "customer_id")
        user_id = identifier(request.user_id, "user_id")
        async with self._writes.transaction() as session:
            await service.remove_collaborator(
                session,
                identity=current_identity(),
                customer_id=customer_id,
                user_id=user_id,
                events=self._events,
                now=self._clock(),
            )
        return opb.RemoveCollaboratorResponse()
