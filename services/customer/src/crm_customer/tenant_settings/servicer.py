"""gRPC edge of a tenant's settings: customer types and custom-field definitions."""

from __future__ import annotations

from crm.customer.v1 import customer_pb2 as pb
from crm_customer.servicer_base import CustomerServicerBase
from crm_customer.tenant_settings import service, validation
from crm_customer.tenant_settings.models import definition_to_proto
from crmkit.grpc_server import RpcContext
from crmkit.identity import current_identity


class TenantSettingsRpcs(CustomerServicerBase):
    """ListCustomerTypes, SetCustomerTypes, ListProductLines, SetProductLines, ListCustomFieldDefinitions,
    SetCustomFieldDefinitions."""

    async def ListCustomerTypes(
        self, request: pb.ListCustomerTypesRequest, context: RpcContext
    ) -> pb.ListCustomerTypesResponse:
        async with self._reads() as session:
            types = await service.customer_types(session, tenant_id=current_identity().tenant_id)
            return pb.ListCustomerTypesResponse(types=types)

    async def SetCustomerTypes(
        self, request: pb.SetCustomerTypesRequest, context: RpcContext
    ) -> pb.SetCustomerTypesResponse:
        names = validation.customer_type_names(list(request.types))
        async with self._writes.transaction() as session:
            types = await service.set_customer_types(session, identity=current_identity(), types=names)
        return pb.SetCustomerTypesResponse(types=types)

    async def ListProductLines(
        self, request: pb.ListProductLinesRequest, context: RpcContext
    ) -> pb.ListProductLinesResponse:
        async with self._reads() as session:
            names = await service.product_lines(session, tenant_id=current_identity().tenant_id)
            return pb.ListProductLinesResponse(product_lines=names)

    async def SetProductLines(
        self, request: pb.SetProductLinesRequest, context: RpcContext
    ) -> pb.SetProductLinesResponse:
        names = validation.product_line_names(list(request.product_lines))
        async with self._writes.transaction() as session:
            saved = await service.set_product_lines(session, identity=current_identity(), names=names)
        return pb.SetProductLinesResponse(product_lines=saved)

    async def ListCustomFieldDefinitions(
        self, request: pb.ListCustomFieldDefinitionsRequest, context: RpcContext
    ) -> pb.ListCustomFieldDefinitionsResponse:
        async with self._reads() as session:
            found = await service.custom_field_definitions(session, tenant_id=current_identity().tenant_id)
            return pb.ListCustomFieldDefinitionsResponse(definitions=[definition_to_proto(d) for d in found])

    async def SetCustomFieldDefinitions(
        self, request: pb.SetCustomFieldDefinitionsRequest, context: RpcContext
    ) -> pb.SetCustomFieldDefinitionsResponse:
        definitions = validation.custom_field_definitions(request.definitions)
        async with self._writes.transaction() as session:
            saved = await service.set_custom_field_definitions(
                session, identity=current_identity(), definitions=definitions
            )
        return pb.SetCustomFieldDefinitionsResponse(definitions=[definition_to_proto(d) for d in saved])
