"""gRPC edge of the tenant's special-requirement kinds (a customer's preferences and
requirements themselves travel in CreateCustomer and UpdateCustomer)."""

from __future__ import annotations

from crm.customer.v1 import profile_pb2 as prpb
from crm_customer.preferences import service, validation
from crm_customer.preferences.models import kind_to_proto
from crm_customer.servicer_base import CustomerServicerBase
from crmkit.grpc_server import RpcContext
from crmkit.identity import current_identity


class PreferenceRpcs(CustomerServicerBase):
    """ListSpecialRequirementKinds, SetSpecialRequirementKinds."""

    async def ListSpecialRequirementKinds(
        self, request: prpb.ListSpecialRequirementKindsRequest, context: RpcContext
    ) -> prpb.ListSpecialRequirementKindsResponse:
        async with self._reads() as session:
            kinds = await service.requirement_kinds(session, tenant_id=current_identity().tenant_id)
            return prpb.ListSpecialRequirementKindsResponse(kinds=[kind_to_proto(k) for k in kinds])

    async def SetSpecialRequirementKinds(
        self, request: prpb.SetSpecialRequirementKindsRequest, context: RpcContext
    ) -> prpb.SetSpecialRequirementKindsResponse:
        kinds = validation.requirement_kinds(request.kinds)
        async with self._writes.transaction() as session:
            saved = await service.set_requirement_kinds(session, identity=current_identity(), kinds=kinds)
        return prpb.SetSpecialRequirementKindsResponse(kinds=[kind_to_proto(k) for k in saved])
