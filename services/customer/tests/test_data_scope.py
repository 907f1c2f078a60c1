"""Who sees which customers: own customers for sales, the org subtree for supervisors, the tenant for admins."""

from __future__ import annotations

import uuid

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask

from crm.customer.v1 import customer_pb2 as pb
from crmkit.identity import Role
from crmkit.testing.harness import OrgTree


def _reads_and_writes_of(customer_id: str) -> dict[str, tuple[str, object]]:
    return {
        "get": ("GetCustomer", pb.GetCustomerRequest(id=customer_id)),
        "update": (
            "UpdateCustomer",
            pb.UpdateCustomerRequest(
                customer=pb.Customer(id=customer_id, name="改名"), update_mask=FieldMask(paths=["name"])
            ),
        ),
        "archive": ("ArchiveCustomer", pb.ArchiveCustomerRequest(id=customer_id)),
        "list_contacts": ("ListContacts", pb.ListContactsRequest(customer_id=customer_id)),
    }


@pytest.mark.parametrize("action", ["get", "update", "archive", "list_contacts"])
async def test_sales_rep_gets_not_found_for_a_colleagues_customer(customer_service, action: str) -> None:
    org = customer_service.org
    rep_a = org.person(Role.SALES, org.shop_a)
    rep_b = org.person(Role.SALES, org.shop_a)
    customer = await customer_service.create(rep_a, name="郑州二七区实验小学食堂")

    method, request = _reads_and_writes_of(customer.id)[action]
    refusal = await customer_service.refusal(
        getattr(customer_service.stub, method)(request, metadata=customer_service.metadata(rep_b))
    )

    assert refusal.code == grpc.StatusCode.NOT_FOUND
    fetched = await customer_service.stub.GetCustomer(
        pb.GetCustomerRequest(id=customer.id), metadata=customer_service.metadata(rep_a)
    )
    assert (fetched.customer.name, fetched.customer.version, fetched.customer.archived) == (
        "郑州二七区实验小学食堂",
        1,
        False,
    )


async def test_colleagues_customer_never_appears_in_list_or_search(customer_service) -> None:
    org = customer_service.org
    rep_a = org.person(Role.SALES, org.shop_a)
    rep_b = org.person(Role.SALES, org.shop_a)
    await customer_service.create(
        rep_a, name="郑州二七区实验小学食堂", contacts=[pb.Contact(name="赵", mobile="13700137000")]
    )
    await customer_service.create(rep_b, name="郑州金水区食堂")

    assert await customer_service.list_names(rep_b) == ["郑州金水区食堂"]
    assert await customer_service.search(rep_b, "食堂") == ["郑州金水区食堂"]
    assert await customer_service.search(rep_b, "zzeq") == []
    assert await customer_service.search(rep_b, "13700137000") == []


async def test_supervisor_sees_customers_of_shops_below_them_but_not_of_another_subsidiary(customer_service) -> None:
    org = customer_service.org
    supervisor_a = org.person(Role.SUPERVISOR, org.sub_a)
    await customer_service.create(org.person(Role.SALES, org.shop_a), name="青岛市南区食堂")
    theirs = await customer_service.create(org.person(Role.SALES, org.shop_b), name="青岛崂山区食堂")

    assert await customer_service.list_names(supervisor_a) == ["青岛市南区食堂"]
    assert await customer_service.search(supervisor_a, "青岛") == ["青岛市南区食堂"]
    refusal = await customer_service.refusal(
        customer_service.stub.GetCustomer(
            pb.GetCustomerRequest(id=theirs.id), metadata=customer_service.metadata(supervisor_a)
        )
    )
    assert refusal.code == grpc.StatusCode.NOT_FOUND


async def test_admin_sees_every_customer_of_the_tenant(customer_service) -> None:
    org = customer_service.org
    await customer_service.create(org.person(Role.SALES, org.shop_a), name="天津和平区食堂")
    await customer_service.create(org.person(Role.SALES, org.shop_b), name="天津河西区食堂")
    await customer_service.create(org.person(Role.SUPERVISOR, org.sub_b), name="天津南开区食堂")

    names = await customer_service.list_names(org.person(Role.ADMIN, org.hq))

    assert sorted(names) == sorted(["天津和平区食堂", "天津河西区食堂", "天津南开区食堂"])


async def test_another_tenants_customer_looks_exactly_like_one_that_does_not_exist(customer_service) -> None:
    org = customer_service.org
    other = OrgTree.create()
    outsider = other.person(Role.ADMIN, other.hq)
    customer = await customer_service.create(org.person(Role.ADMIN, org.hq), name="沈阳和平区食堂")
    unknown_id = str(uuid.uuid4())
    md = customer_service.metadata(outsider)

    foreign = await customer_service.refusal(
        customer_service.stub.GetCustomer(pb.GetCustomerRequest(id=customer.id), metadata=md)
    )
    missing = await customer_service.refusal(
        customer_service.stub.GetCustomer(pb.GetCustomerRequest(id=unknown_id), metadata=md)
    )

    assert foreign.code == missing.code == grpc.StatusCode.NOT_FOUND
    assert foreign.message.replace(customer.id, "<id>") == missing.message.replace(unknown_id, "<id>")
    assert foreign.trailers == missing.trailers
    assert await customer_service.list_names(outsider) == []


async def test_service_staff_cannot_create_customers(customer_service) -> None:
    org = customer_service.org
    refusal = await customer_service.refusal(
        customer_service.create(org.person(Role.SERVICE, org.shop_a), name="大连中山区食堂")
    )
    assert refusal.code == grpc.StatusCode.PERMISSION_DENIED
    assert await customer_service.customer_count() == 0


async def test_finance_staff_read_customers_of_their_subtree_but_cannot_change_them(customer_service) -> None:
    org = customer_service.org
    finance = org.person(Role.FINANCE, org.sub_a)
    customer = await customer_service.create(org.person(Role.SALES, org.shop_a), name="宁波海曙区食堂")
    md = customer_service.metadata(finance)

    fetched = await customer_service.stub.GetCustomer(pb.GetCustomerRequest(id=customer.id), metadata=md)
    refusal = await customer_service.refusal(
        customer_service.stub.ArchiveCustomer(pb.ArchiveCustomerRequest(id=customer.id), metadata=md)
    )

    assert fetched.customer.name == "宁波海曙区食堂"
    assert refusal.code == grpc.StatusCode.PERMISSION_DENIED


async def test_caller_without_an_identity_is_unauthenticated(customer_service) -> None:
    refusal = await customer_service.refusal(customer_service.stub.ListCustomers(pb.ListCustomersRequest()))
    assert refusal.code == grpc.StatusCode.UNAUTHENTICATED


async def test_supervisor_cannot_place_a_new_customer_in_another_subsidiary(customer_service) -> None:
    org = customer_service.org
    refusal = await customer_service.refusal(
        customer_service.create(
            org.person(Role.SUPERVISOR, org.sub_a),
            name="西宁城东区食堂",
            owner_id=org.person(Role.SALES, org.shop_b).principal_id,
            org_unit_id=org.shop_b,
            org_path=org.path(org.shop_b),
        )
    )
    assert refusal.code == grpc.StatusCode.PERMISSION_DENIED
    assert await customer_service.customer_count() == 0
