"""/api/v1/customers: CRUD, search, contacts — each call forwarded to the customer service."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from google.protobuf.field_mask_pb2 import FieldMask
from pydantic import Field

from crm.customer.v1 import customer_pb2 as pb
from crm.customer.v1 import ownership_pb2 as opb
from crm_gateway.customers.schemas import (
    ContactIn,
    ContactList,
    ContactOut,
    ContactPatch,
    CustomerIn,
    CustomerOut,
    CustomerPage,
    CustomerPatch,
    CustomerTypeList,
    CustomFieldList,
    CustomFieldsIn,
    Stage,
    contact_out,
    contact_to_proto,
    custom_field_out,
    custom_field_to_proto,
    customer_out,
    fields_to_proto,
    stage_value,
)
from crm_gateway.customers.views import apply_contact_view, apply_customer_view
from crm_gateway.directory.service import user_in_tenant
from crm_gateway.inputs import ApiModel, path_id
from crm_gateway.web import Caller, DbSession, GatewayState, State
from crmkit.errors import InvalidArgument, PermissionDenied
from crmkit.identity import Identity, Placement, Role

router = APIRouter(prefix="/api/v1", tags=["customers"])
# Who may own a customer: the roles that may change customers (service and finance read them).
CUSTOMER_OWNER_ROLES = (Role.ADMIN, Role.BOSS, Role.SUPERVISOR, Role.SALES)


def _metadata(state: GatewayState, identity: Identity) -> tuple[tuple[str, str], ...]:
    metadata: tuple[tuple[str, str], ...] = state.identity_metadata.for_caller(identity)
    return metadata


async def _render(state: GatewayState, identity: Identity, customers: list[pb.Customer]) -> list[CustomerOut]:
    names = await state.display_names.lookup(tenant_id=identity.tenant_id, user_ids={c.owner_id for c in customers})
    # The requirement kinds' names make the alerts every view of a customer shows.
    labels = await state.profile_labels.for_caller(state, identity)
    return [apply_customer_view(identity, customer_out(c, names, labels)) for c in customers]


# REST sort keys (a leading "-" for descending) and the customer service's list orders.
SORTS = {
    "-created_at": pb.CUSTOMER_ORDER_UNSPECIFIED,
    "created_at": pb.CUSTOMER_ORDER_CREATED_ASC,
    "-updated_at": pb.CUSTOMER_ORDER_UPDATED_DESC,
    "updated_at": pb.CUSTOMER_ORDER_UPDATED_ASC,
    "name": pb.CUSTOMER_ORDER_NAME_ASC,
    "-name": pb.CUSTOMER_ORDER_NAME_DESC,
}
Sort = Literal["-created_at", "created_at", "-updated_at", "updated_at", "name", "-name"]


@router.get(
    "/customers",
    summary="List or search customers 客户列表/搜索",
    description="Without `q`: the customers you may see, in `sort` order (`name` sorts by pinyin), keyset-paged. "
    "With `q`: a search ranked best match first (`sort` does not apply), narrowed by the same filters.",
)
async def list_customers(
    state: State,
    identity: Caller,
    q: Annotated[str | None, Query(max_length=64, description="名称、拼音、拼音首字母、手机号或信用代码")] = None,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    page_token: Annotated[str, Query(max_length=500)] = "",
    sort: Sort = "-created_at",
    lifecycle_stage: Stage | None = None,
    type: Annotated[str | None, Query(max_length=30)] = None,
    owner_id: Annotated[str | None, Query(max_length=36)] = None,
    org_unit_id: Annotated[str | None, Query(max_length=36)] = None,
    tag: Annotated[str | None, Query(max_length=20)] = None,
    include_archived: bool = False,
) -> CustomerPage:
    metadata = _metadata(state, identity)
    narrowing = pb.CustomerFilter(
        lifecycle_stage=stage_value(lifecycle_stage) if lifecycle_stage else pb.LIFECYCLE_STAGE_UNSPECIFIED,
        type=type or "",
        owner_id=owner_id or "",
        org_unit_id=org_unit_id or "",
        tag=tag or "",
    )
    if q is not None and q.strip():
        found = await state.customers.SearchCustomers(
            pb.SearchCustomersRequest(query=q, page_size=page_size, page_token=page_token, filter=narrowing),
            metadata=metadata,
        )
        customers, token = list(found.customers), found.next_page_token
    else:
        listed = await state.customers.ListCustomers(
            pb.ListCustomersRequest(
                page_size=page_size,
                page_token=page_token,
                lifecycle_stage=narrowing.lifecycle_stage,
                type=narrowing.type,
                owner_id=narrowing.owner_id,
                org_unit_id=narrowing.org_unit_id,
                tag=narrowing.tag,
                include_archived=include_archived,
                order_by=SORTS[sort],
            ),
            metadata=metadata,
        )
        customers, token = list(listed.customers), listed.next_page_token
    return CustomerPage(items=await _render(state, identity, customers), next_page_token=token or None)


@router.post("/customers", status_code=201, summary="Create a customer 新建客户")
async def create_customer(body: CustomerIn, state: State, identity: Caller, session: DbSession) -> CustomerOut:
    customer = pb.Customer()
    values = body.model_dump(exclude={"contacts", "request_id", "owner_id"})
    fields_to_proto(values, customer)
    customer.contacts.extend(contact_to_proto(c) for c in body.contacts)
    # Without an owner, a rep owns what they create; for anyone else (admins, bosses,
    # supervisors, imports, partner systems) the tenant's assignment rules choose, or a pool.
    by_rule = not body.owner_id and identity.role is not Role.SALES
    if body.owner_id:
        if identity.role is Role.SALES and body.owner_id != identity.principal_id:
            raise PermissionDenied("sales reps create customers for themselves / 销售只能为自己建客户")
        owner, unit = await user_in_tenant(
            session, identity=identity, user_id=body.owner_id, field="owner_id", roles=CUSTOMER_OWNER_ROLES
        )
        customer.owner_id, customer.org_unit_id, customer.org_path = owner.id, unit.id, unit.path
        # Vouch for the owner, checked against the directory just now, for this call only.
        identity = replace(identity, placement=Placement(owner.id, unit.id, unit.path))
    created = await state.customers.CreateCustomer(
        pb.CreateCustomerRequest(
            request_id=body.request_id or str(uuid.uuid4()), customer=customer, assign_by_rule=by_rule
        ),
        metadata=_metadata(state, identity),
    )
    return (await _render(state, identity, [created.customer]))[0]


@router.get("/customers/{customer_id}", summary="Get a customer 客户详情")
async def get_customer(customer_id: str, state: State, identity: Caller) -> CustomerOut:
    found = await state.customers.GetCustomer(
        pb.GetCustomerRequest(id=path_id(customer_id, "customer_id")), metadata=_metadata(state, identity)
    )
    shown = (await _render(state, identity, [found.customer]))[0]
    if identity.role is Role.SALES and found.customer.owner_id != identity.principal_id:
        # A rep sees someone else's customer only as its collaborator: say with which access.
        team = await state.customers.ListCollaborators(
            opb.ListCollaboratorsRequest(customer_id=found.customer.id), metadata=_metadata(state, identity)
        )
        mine = next((c for c in team.collaborators if c.user_id == identity.principal_id), None)
        if mine is not None:
            shown.my_collaboration = "read_write" if mine.access == opb.COLLABORATOR_ACCESS_READ_WRITE else "read"
    return shown


@router.patch("/customers/{customer_id}", summary="Change a customer 修改客户")
async def update_customer(
    customer_id: str, body: CustomerPatch, state: State, identity: Caller, session: DbSession
) -> CustomerOut:
    present = body.model_dump(exclude_unset=True, exclude={"expected_version", "reason"})
    if not present:
        raise InvalidArgument("body", "names no fields to change / 未指定要修改的字段")
    for required in ("name", "lifecycle_stage", "owner_id", "tier", "preferences", "special_requirements"):
        if required in present and present[required] is None:
            raise InvalidArgument(required, "cannot be null / 不能为空")
    customer = pb.Customer(id=path_id(customer_id, "customer_id"))
    fields_to_proto(present, customer)
    if "owner_id" in present:
        owner, unit = await user_in_tenant(
            session, identity=identity, user_id=present["owner_id"], field="owner_id", roles=CUSTOMER_OWNER_ROLES
        )
        customer.org_unit_id, customer.org_path = unit.id, unit.path
        identity = replace(identity, placement=Placement(owner.id, unit.id, unit.path))
    updated = await state.customers.UpdateCustomer(
        pb.UpdateCustomerRequest(
            customer=customer,
            update_mask=FieldMask(paths=sorted(present)),
            expected_version=body.expected_version or 0,
            reason=body.reason,
        ),
        metadata=_metadata(state, identity),
    )
    return (await _render(state, identity, [updated.customer]))[0]


@router.delete("/customers/{customer_id}", summary="Archive a customer 归档客户")
async def archive_customer(customer_id: str, state: State, identity: Caller) -> CustomerOut:
    archived = await state.customers.ArchiveCustomer(
        pb.ArchiveCustomerRequest(id=path_id(customer_id, "customer_id")), metadata=_metadata(state, identity)
    )
    return (await _render(state, identity, [archived.customer]))[0]


@router.get("/customers/{customer_id}/contacts", summary="Contacts of a customer 联系人")
async def list_contacts(customer_id: str, state: State, identity: Caller) -> ContactList:
    found = await state.customers.ListContacts(
        pb.ListContactsRequest(customer_id=path_id(customer_id, "customer_id")), metadata=_metadata(state, identity)
    )
    return ContactList(items=[apply_contact_view(identity, contact_out(c)) for c in found.contacts])


@router.post("/customers/{customer_id}/contacts", status_code=201, summary="Add a contact 新增联系人")
async def create_contact(customer_id: str, body: ContactIn, state: State, identity: Caller) -> ContactOut:
    created = await state.customers.CreateContact(
        pb.CreateContactRequest(customer_id=path_id(customer_id, "customer_id"), contact=contact_to_proto(body)),
        metadata=_metadata(state, identity),
    )
    return apply_contact_view(identity, contact_out(created.contact))


@router.patch("/customers/{customer_id}/contacts/{contact_id}", summary="Change a contact 修改联系人")
async def update_contact(
    customer_id: str, contact_id: str, body: ContactPatch, state: State, identity: Caller
) -> ContactOut:
    present = body.model_dump(exclude_unset=True)
    if not present:
        raise InvalidArgument("body", "names no fields to change / 未指定要修改的字段")
    contact = contact_to_proto(body)
    contact.id = path_id(contact_id, "contact_id")
    contact.customer_id = path_id(customer_id, "customer_id")
    updated = await state.customers.UpdateContact(
        pb.UpdateContactRequest(contact=contact, update_mask=FieldMask(paths=sorted(present))),
        metadata=_metadata(state, identity),
    )
    return apply_contact_view(identity, contact_out(updated.contact))


@router.delete("/customers/{customer_id}/contacts/{contact_id}", status_code=204, summary="Remove a contact 删除联系人")
async def delete_contact(customer_id: str, contact_id: str, state: State, identity: Caller) -> Response:
    await state.customers.DeleteContact(
        pb.DeleteContactRequest(
            customer_id=path_id(customer_id, "customer_id"), contact_id=path_id(contact_id, "contact_id")
        ),
        metadata=_metadata(state, identity),
    )
    return Response(status_code=204)


@router.get("/customer-types", summary="Customer types of the tenant 客户类型")
async def customer_types(state: State, identity: Caller) -> CustomerTypeList:
    found = await state.customers.ListCustomerTypes(pb.ListCustomerTypesRequest(), metadata=_metadata(state, identity))
    return CustomerTypeList(items=list(found.types))


class CustomerTypesIn(ApiModel):
    items: list[Annotated[str, Field(min_length=1, max_length=30)]] = Field(min_length=1, max_length=50)


@router.put("/customer-types", summary="Replace the tenant's customer types (admin, boss) 设置客户类型")
async def set_customer_types(body: CustomerTypesIn, state: State, identity: Caller) -> CustomerTypeList:
    saved = await state.customers.SetCustomerTypes(
        pb.SetCustomerTypesRequest(types=body.items), metadata=_metadata(state, identity)
    )
    return CustomerTypeList(items=list(saved.types))


class ProductLinesBody(ApiModel):
    product_lines: list[Annotated[str, Field(min_length=1, max_length=30)]] = Field(max_length=50)


@router.get("/product-lines", summary="The tenant's product lines 产品线")
async def product_lines(state: State, identity: Caller) -> ProductLinesBody:
    found = await state.customers.ListProductLines(pb.ListProductLinesRequest(), metadata=_metadata(state, identity))
    return ProductLinesBody(product_lines=list(found.product_lines))


@router.put(
    "/product-lines",
    summary="Replace the tenant's product lines (admin, boss) 设置产品线",
    description="Customers may then name only these; an empty list clears them. Customers keep a removed one.",
)
async def set_product_lines(body: ProductLinesBody, state: State, identity: Caller) -> ProductLinesBody:
    saved = await state.customers.SetProductLines(
        pb.SetProductLinesRequest(product_lines=body.product_lines), metadata=_metadata(state, identity)
    )
    return ProductLinesBody(product_lines=list(saved.product_lines))


@router.get("/custom-fields", summary="Custom fields of the tenant's customers 自定义字段")
async def custom_fields(state: State, identity: Caller) -> CustomFieldList:
    found = await state.customers.ListCustomFieldDefinitions(
        pb.ListCustomFieldDefinitionsRequest(), metadata=_metadata(state, identity)
    )
    return CustomFieldList(items=[custom_field_out(d) for d in found.definitions])


@router.put(
    "/custom-fields",
    summary="Replace the tenant's custom fields (admin, boss) 设置自定义字段",
    description="Once any are defined, customers' `custom_fields` must use these keys and kinds of value "
    "when a customer is created or its custom fields are changed; an empty list makes them free-form again.",
)
async def set_custom_fields(body: CustomFieldsIn, state: State, identity: Caller) -> CustomFieldList:
    saved = await state.customers.SetCustomFieldDefinitions(
        pb.SetCustomFieldDefinitionsRequest(definitions=[custom_field_to_proto(f) for f in body.items]),
        metadata=_metadata(state, identity),
    )
    return CustomFieldList(items=[custom_field_out(d) for d in saved.definitions])
