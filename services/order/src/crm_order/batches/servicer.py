"""gRPC edge of batch recall: validation, reads on the read sessions, the recall in one write
transaction with its event (a mixin of OrderServicer)."""

from __future__ import annotations

from crm.order.v1 import batches_pb2 as pb
from crm_order.batches import service, validation
from crm_order.batches.events import RecallEvents
from crm_order.batches.views import line_message, recall_message, receipt_message
from crm_order.servicer_base import OrderServicerBase
from crmkit.grpc_server import RpcContext
from crmkit.identity import current_identity
from crmkit.paging import page_size
from crmkit.validate import identifier


class BatchRpcs(OrderServicerBase):
    @property
    def _recall_events(self) -> RecallEvents:
        return RecallEvents(tables=self._tables, namespace=self._namespace)

    async def LookupBatch(self, request: pb.LookupBatchRequest, context: RpcContext) -> pb.LookupBatchResponse:
        identity = current_identity()
        batch_no = validation.batch_no(request.batch_no)
        now = self._clock()
        async with self._reads() as session:
            lines, truncated = await service.lookup_batch(session, identity=identity, batch_no=batch_no, now=now)
            reply = pb.LookupBatchResponse(
                batch_no=batch_no,
                lines=[line_message(line) for line in lines],
                customers=[receipt_message(r) for r in service.by_customer(lines)],
                truncated=truncated,
            )
            recall = await service.recall_of_batch(session, tenant_id=identity.tenant_id, batch_no=batch_no)
            if recall is not None:
                visible = {line.line.customer_id for line in lines}
                reply.recall.CopyFrom(recall_message(recall, visible))
            return reply

    async def RaiseRecall(self, request: pb.RaiseRecallRequest, context: RpcContext) -> pb.RaiseRecallResponse:
        identity = current_identity()
        batch_no = validation.batch_no(request.batch_no)
        reason = validation.reason(request.reason)
        now = self._clock()
        async with self._writes.transaction() as session:
            recall = await service.raise_recall(
                session, identity=identity, events=self._recall_events, batch_no=batch_no, reason=reason, now=now
            )
            visible = await service.visible_customers_of(session, identity=identity, recalls=[recall], now=now)
            return pb.RaiseRecallResponse(recall=recall_message(recall, visible[recall.id]))

    async def ListRecalls(self, request: pb.ListRecallsRequest, context: RpcContext) -> pb.ListRecallsResponse:
        identity = current_identity()
        size = page_size(request.page_size)
        batch_no = validation.batch_no(request.batch_no, required=False)
        recall_id = identifier(request.recall_id, "recall_id", required=False)
        now = self._clock()
        async with self._reads() as session:
            recalls, token = await service.list_recalls(
                session,
                identity=identity,
                batch_no=batch_no,
                recall_id=recall_id,
                page_size=size,
                page_token=request.page_token,
                now=now,
            )
            visible = await service.visible_customers_of(session, identity=identity, recalls=recalls, now=now)
            return pb.ListRecallsResponse(
                recalls=[recall_message(r, visible[r.id]) for r in recalls], next_page_token=token
            )
