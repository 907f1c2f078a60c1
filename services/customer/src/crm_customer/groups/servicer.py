"""gRPC edge of group accounts and relations between customers."""

from __future__ import annotations

from crm.customer.v1 import profile_pb2 as prpb
from crm_customer.groups import service
from crm_customer.groups.models import KINDS
from crm_customer.servicer_base import CustomerServicerBase
from crmkit.grpc_server import RpcContext
from crmkit.identity import current_identity
from crmkit.validate import identifier, text


class GroupRpcs(CustomerServicerBase):
    """SetParentCustomer, GetGroupRollup, ListCustomerRelations, AddCustomerRelation,
    RemoveCustomerRelation."""

    async def SetParentCustomer(
        self, request: prpb.SetParentCustomerRequest, context: RpcContext
    ) -> prpb.SetParentCustomerResponse:
        customer_id = identifier(request.customer_id, "customer_id")
        parent_id = identifier(request.parent_customer_id, "parent_customer_id", required=False)
        async with self._writes.transaction() as session:
            branch = await service.set_parent(
                session,
                identity=current_identity(),
                customer_id=customer_id,
                parent_id=parent_id,
                expected_version=request.expected_version,
                events=self._events,
                now=self._clock(),
            )
            response = prpb.SetParentCustomerResponse(
                customer_id=branch.id, parent_customer_id=branch.parent_customer_id or "", version=branch.version
            )
        return response

    async def GetGroupRollup(
        self, request: prpb.GetGroupRollupRequest, context: RpcContext
    ) -> prpb.GetGroupRollupResponse:
        customer_id = identifier(request.customer_id, "customer_id")
        async with self._reads() as session:
            rollup = await service.group_rollup(
                session, identity=current_identity(), customer_id=customer_id, now=self._clock()
            )
            return prpb.GetGroupRollupResponse(rollup=rollup)

    async def ListCustomerRelations(
        self, request: prpb.ListCustomerRelationsRequest, context: RpcContext
    ) -> prpb.ListCustomerRelationsResponse:
        customer_id = identifier(request.customer_id, "customer_id")
        async with self._reads() as session:
            relations = await service.list_relations(
                session, identity=current_identity(), customer_id=customer_id, now=self._clock()
            )
            return prpb.ListCustomerRelationsResponse(relations=relations)

    async def AddCustomerRelation(
        self, request: prpb.AddCustomerRelationRequest, context: RpcContext
    ) -> prpb.AddCustomerRelationResponse:
        customer_id = identifier(request.customer_id, "customer_id")
        related_id = identifier(request.related_customer_id, "related_customer_id")
        kind = KINDS.parse(request.kind, "kind", unknown="unknown relation kind / 未知的关系类型")
        note = text(request.note, "note", max_len=200)
        async with self._writes.transaction() as session:
            relation = await service.add_relation(
                session,
                identity=current_identity(),
                customer_id=customer_id,
                related_id=related_id,
                kind=kind,
                note=note,
                events=self._events,
                now=self._clock(),
            )
        return prpb.AddCustomerRelationResponse(relation=relation)

    async def RemoveCustomerRelation(
        self, request: prpb.RemoveCustomerRelationRequest, context: RpcContext
    ) -> prpb.RemoveCustomerRelationResponse:
        customer_id = identifier(request.customer_id, "customer_id")
        relation_id = identifier(request.relation_id, "relation_id")
        async with self._writes.transaction() as session:
            await service.remove_relation(
                session,
                identity=current_identity(),
                customer_id=customer_id,
                relation_id=relation_id,
                events=self._events,
                now=self._clock(),
            )
        return prpb.RemoveCustomerRelationResponse()
