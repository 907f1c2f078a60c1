"""gRPC edge of the lifecycle stage history."""

from __future__ import annotations

from crm.customer.v1 import profile_pb2 as prpb
from crm_customer.customers.service import get_customer
from crm_customer.servicer_base import CustomerServicerBase
from crm_customer.stages import service
from crm_customer.stages.models import stage_change_to_proto
from crmkit.grpc_server import RpcContext
from crmkit.identity import current_identity
from crmkit.paging import page_size
from crmkit.validate import identifier


class StageRpcs(CustomerServicerBase):
    """ListStageChanges."""

    async def ListStageChanges(
        self, request: prpb.ListStageChangesRequest, context: RpcContext
    ) -> prpb.ListStageChangesResponse:
        customer_id = identifier(request.customer_id, "customer_id")
        size = page_size(request.page_size)
        async with self._reads() as session:
            await get_customer(session, identity=current_identity(), customer_id=customer_id, now=self._clock())
            rows, token = await service.list_stage_changes(
                session, customer_id=customer_id, page_size=size, page_token=request.page_token
            )
            return prpb.ListStageChangesResponse(
                changes=[stage_change_to_proto(r) for r in rows], next_page_token=token
            )
