"""gRPC edge of the catalogue: UpsertProduct, GetProduct, ListProducts (a mixin of OrderServicer)."""

from __future__ import annotations

from crm.order.v1 import catalogue_pb2 as pb
from crm_order.catalogue import service
from crm_order.catalogue.events import product_upserted
from crm_order.catalogue.validation import product_input
from crm_order.catalogue.views import product_message
from crm_order.servicer_base import OrderServicerBase
from crmkit.errors import InvalidArgument
from crmkit.grpc_server import RpcContext
from crmkit.identity import Role, current_identity
from crmkit.paging import page_size
from crmkit.validate import identifier, text

CATALOGUE_WRITERS = (Role.ADMIN, Role.BOSS)


class CatalogueRpcs(OrderServicerBase):
    async def UpsertProduct(self, request: pb.UpsertProductRequest, context: RpcContext) -> pb.UpsertProductResponse:
        identity = current_identity()
        identity.require_role(*CATALOGUE_WRITERS)
        if request.expected_version < 0:
            raise InvalidArgument("expected_version", "must not be negative / 不能为负数")
        data = product_input(request.product)
        now = self._clock()
        async with self._writes.transaction() as session:
            product, created = await service.upsert_product(
                session, identity=identity, data=data, expected_version=request.expected_version, now=now
            )
            await product_upserted(
                session,
                self._tables,
                product=product,
                created=created,
                org_unit_id=identity.org_unit_id,
                actor_id=identity.principal_id,
                at=now,
                namespace=self._namespace,
            )
            message = product_message(product)
        return pb.UpsertProductResponse(product=message, created=created)

    async def GetProduct(self, request: pb.GetProductRequest, context: RpcContext) -> pb.GetProductResponse:
        identity = current_identity()
        product_id = identifier(request.id, "id")
        async with self._reads() as session:
            product = await service.get_product(session, identity=identity, product_id=product_id)
            return pb.GetProductResponse(product=product_message(product))

    async def ListProducts(self, request: pb.ListProductsRequest, context: RpcContext) -> pb.ListProductsResponse:
        identity = current_identity()
        size = page_size(request.page_size)
        async with self._reads() as session:
            products, token = await service.list_products(
                session,
                identity=identity,
                query=text(request.query, "query", max_len=50),
                category=text(request.category, "category", max_len=100),
                include_inactive=request.include_inactive,
                page_size=size,
                page_token=request.page_token,
            )
            return pb.ListProductsResponse(products=[product_message(p) for p in products], next_page_token=token)
