"""gRPC edge of transfers: start (idempotent by request id), get, list."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from crm.customer.v1 import transfers_pb2 as tpb
from crm_customer.servicer_base import CustomerServicerBase
from crm_customer.transfers import service, validation
from crm_customer.transfers.models import transfer_to_proto
from crmkit.grpc_server import RpcContext
from crmkit.identity import current_identity
from crmkit.paging import page_size
from crmkit.validate import identifier, text


class TransferRpcs(CustomerServicerBase):
    """StartTransfer, GetTransfer, ListTransfers."""

    async def StartTransfer(self, request: tpb.StartTransferRequest, context: RpcContext) -> tpb.StartTransferResponse:
        identity = current_identity()
        identity.require_role(*service.TRANSFER_STARTERS)
        request_id = text(request.request_id, "request_id", max_len=64)
        data = validation.transfer_input(request)

        async def start(session: AsyncSession) -> tuple[str, tpb.StartTransferResponse]:
            transfer = await service.start_transfer(session, identity=identity, data=data, now=self._clock())
            await session.flush()
            return transfer.id, tpb.StartTransferResponse(transfer=transfer_to_proto(transfer))

        async def replay(session: AsyncSession, transfer_id: str) -> tpb.StartTransferResponse:
            earlier = await service.get_transfer(session, identity=identity, transfer_id=transfer_id)
            return tpb.StartTransferResponse(transfer=transfer_to_proto(earlier))

        return await self._writes.create_once(identity=identity, request_id=request_id, create=start, replay=replay)

    async def GetTransfer(self, request: tpb.GetTransferRequest, context: RpcContext) -> tpb.GetTransferResponse:
        transfer_id = identifier(request.id, "id")
        async with self._reads() as session:
            transfer = await service.get_transfer(session, identity=current_identity(), transfer_id=transfer_id)
            return tpb.GetTransferResponse(transfer=transfer_to_proto(transfer))

    async def ListTransfers(self, request: tpb.ListTransfersRequest, context: RpcContext) -> tpb.ListTransfersResponse:
        from_user_id = identifier(request.from_user_id, "from_user_id", required=False)
        async with self._reads() as session:
            rows, token = await service.list_transfers(
                session,
                identity=current_identity(),
                from_user_id=from_user_id,
                page_size=page_size(request.page_size),
                page_token=request.page_token,
            )
            return tpb.ListTransfersResponse(transfers=[transfer_to_proto(t) for t in rows], next_page_token=token)
