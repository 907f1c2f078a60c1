"""gRPC edge of customer search: find a page of ids in the term index, then load those customers."""

from __future__ import annotations

from crm.customer.v1 import customer_pb2 as pb
from crm_customer.customers import validation
from crm_customer.customers.models import customer_to_proto
from crm_customer.customers.service import customers_in_order
from crm_customer.search.service import search_customer_ids
from crm_customer.servicer_base import CustomerServicerBase
from crmkit.direct_reads import SessionReader
from crmkit.grpc_server import RpcContext
from crmkit.identity import current_identity
from crmkit.paging import page_size


class SearchRpcs(CustomerServicerBase):
    """SearchCustomers."""

    async def SearchCustomers(
        self, request: pb.SearchCustomersRequest, context: RpcContext
    ) -> pb.SearchCustomersResponse:
        size = page_size(request.page_size, default=20)
        identity = current_identity()
        now = self._clock()
        narrowing = request.filter
        filters = validation.list_filter(
            lifecycle_stage=narrowing.lifecycle_stage,
            type=narrowing.type,
            owner_id=narrowing.owner_id,
            org_unit_id=narrowing.org_unit_id,
            tag=narrowing.tag,
            prefix="filter.",
        )
        if self._fast_reads is not None:
            ids, token = await search_customer_ids(
                self._fast_reads.direct,
                identity=identity,
                query_text=request.query,
                page_size=size,
                page_token=request.page_token,
                personal=self._personal,
                now=now,
                filters=filters,
            )
            customers = await self._fast_reads.get_many(identity, ids, now)
            return pb.SearchCustomersResponse(customers=customers, next_page_token=token)
        async with self._reads() as session:
            ids, token = await search_customer_ids(
                SessionReader(session),
                identity=identity,
                query_text=request.query,
                page_size=size,
                page_token=request.page_token,
                personal=self._personal,
                now=now,
                filters=filters,
            )
            found = await customers_in_order(session, identity=identity, customer_ids=ids, now=now)
            return pb.SearchCustomersResponse(
                customers=[customer_to_proto(c, self._personal) for c in found], next_page_token=token
            )
