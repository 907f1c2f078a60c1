"""gRPC edge of transfers: start (idempotent by request id), get, list."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.customer.v1 import transfers_pb2 as tpb
from crm_customer.customers.models import Customer
from crm_customer.preferences.service import add_requirements
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
            identity = current_identity()
            transfer = await service.get_transfer(session, identity=identity, transfer_id=transfer_id)
            response = tpb.GetTransferResponse(transfer=transfer_to_proto(transfer))
            await describe_skips(session, identity.tenant_id, [response.transfer])
            return response

    async def ListTransfers(self, request: tpb.ListTransfersRequest, context: RpcContext) -> tpb.ListTransfersResponse:
        from_user_id = identifier(request.from_user_id, "from_user_id", required=False)
        identity = current_identity()
        async with self._reads() as session:
            rows, token = await service.list_transfers(
                session,
                identity=identity,
                from_user_id=from_user_id,
                page_size=page_size(request.page_size),
                page_token=request.page_token,
            )
            response = tpb.ListTransfersResponse(transfers=[transfer_to_proto(t) for t in rows], next_page_token=token)
            await describe_skips(session, identity.tenant_id, response.transfers)
            return response


async def describe_skips(session: AsyncSession, tenant_id: str, transfers: Sequence[tpb.Transfer]) -> None:
    """Each skipped customer's name and special requirements, as they are now (the transfer
    keeps only ids and reasons)."""
    skips = [skip for transfer in transfers for skip in transfer.skips]
    if not skips:
        return
    ids = {skip.customer_id for skip in skips}
    names = dict(
        (
            await session.execute(
                select(Customer.id, Customer.name).where(Customer.tenant_id == tenant_id, Customer.id.in_(ids))
            )
        )
        .tuples()
        .all()
    )
    for skip in skips:
        skip.customer_name = names.get(skip.customer_id, "")
    await add_requirements(session, tenant_id=tenant_id, rows=skips, customer_id=lambda skip: skip.customer_id)
