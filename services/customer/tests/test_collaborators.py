"""Collaborators (协作人): a sales rep sees, and with read-write access changes, the customers
shared with them, until the access expires, is removed, or the customer changes hands."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import replace

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.timestamp_pb2 import Timestamp

from crm.customer.v1 import customer_pb2 as pb
from crm.customer.v1 import events_pb2
from crm.customer.v1 import follow_ups_pb2 as fpb
from crm.customer.v1 import ownership_pb2 as opb
from crm.customer.v1 import pools_pb2 as ppb
from crmkit.identity import Identity, Placement, Role
from crmkit.testing.jobs import ran_since

READ, READ_WRITE = opb.COLLABORATOR_ACCESS_READ, opb.COLLABORATOR_ACCESS_READ_WRITE


def _vouched(harness, actor: Identity, user: Identity) -> Identity:  # type: ignore[no-untyped-def]
    """`actor` with the directory's word for `user`, as the gateway signs it for one call."""
    return replace(actor, placement=Placement(user.principal_id, user.org_unit_id, user.org_path))


async def _share(harness, actor: Identity, customer_id: str, user: Identity, access: int = READ, expires=None):  # type: ignore[no-untyped-def]
    request = opb.PutCollaboratorRequest(customer_id=customer_id, user_id=user.principal_id, access=access)
    if expires is not None:
        request.expire_time.CopyFrom(Timestamp(seconds=int(expires.timestamp())))
    response = await harness.stub.PutCollaborator(request, metadata=harness.metadata(_vouched(harness, actor, user)))
    return response.collaborator


async def _collaborators(harness, identity: Identity, customer_id: str) -> list[tuple[str, int]]:  # type: ignore[no-untyped-def]
    response = await harness.stub.ListCollaborators(
        opb.ListCollaboratorsRequest(customer_id=customer_id), metadata=harness.metadata(identity)
    )
    return [(c.user_id, c.access) for c in response.collaborators]


async def _sees(harness, identity: Identity, customer: pb.Customer) -> dict[str, bool]:  # type: ignore[no-untyped-def]
    """Whether each read path shows the customer to `identity`."""
    try:
        await harness.stub.GetCustomer(pb.GetCustomerRequest(id=customer.id), metadata=harness.metadata(identity))
        got = True
    except grpc.aio.AioRpcError as error:
        assert error.code() is grpc.StatusCode.NOT_FOUND
        got = False
    return {
        "get": got,
        "list": customer.name in await harness.list_names(identity),
        "search": customer.name in await harness.search(identity, "协作"),
        "search_one_character": customer.name in await harness.search(identity, "协"),
    }


ALL = {"get": True, "list": True, "search": True, "search_one_character": True}
NONE = dict.fromkeys(ALL, False)


@pytest.fixture(params=["postgresql", "sqlite"])
def harness(request, customer_service, customer_service_sqlite):  # type: ignore[no-untyped-def]
    return customer_service if request.param == "postgresql" else customer_service_sqlite


async def test_a_rep_sees_a_customer_shared_with_them_in_every_read_and_nothing_else(harness) -> None:
    org = harness.org
    owner, helper, stranger = (org.person(Role.SALES, org.shop_a) for _ in range(3))
    shared = await harness.create(owner, name="协作测试第一食堂")
    await harness.create(owner, name="协作测试第二食堂")
    own = await harness.create(helper, name="协作测试助手自己的酒店")

    before = await _sees(harness, helper, shared)
    await _share(harness, owner, shared.id, helper)

    assert before == NONE
    assert await _sees(harness, helper, shared) == ALL
    assert await _sees(harness, helper, own) == ALL
    assert await _sees(harness, stranger, shared) == NONE
    assert sorted(await harness.list_names(helper)) == sorted([shared.name, own.name])
    assert await _collaborators(harness, owner, shared.id) == [(helper.principal_id, READ)]


async def test_a_shared_list_pages_through_own_and_shared_customers_in_order_without_repeats(harness) -> None:
    org = harness.org
    owner, helper = org.person(Role.SALES, org.shop_a), org.person(Role.SALES, org.shop_a)
    names = []
    for index, creator in enumerate([owner, helper, owner, helper, owner]):
        customer = await harness.create(creator, name=f"协作分页第{index}号餐厅")
        names.append(customer.name)
        if creator is owner:
            await _share(harness, owner, customer.id, helper)

    seen, token = [], ""
    while True:
        response = await harness.stub.ListCustomers(
            pb.ListCustomersRequest(page_size=2, page_token=token, order_by=pb.CUSTOMER_ORDER_NAME_ASC),
            metadata=harness.metadata(helper),
        )
        seen.extend(c.name for c in response.customers)
        token = response.next_page_token
        if not token:
            break

    assert seen == sorted(names)


async def test_read_access_may_not_change_the_customer_and_read_write_may_but_never_its_owner(harness) -> None:
    org = harness.org
    owner, helper = org.person(Role.SALES, org.shop_a), org.person(Role.SALES, org.shop_a)
    customer = await harness.create(owner, name="协作权限测试酒店")
    await _share(harness, owner, customer.id, helper, READ)

    def rename(name: str):  # type: ignore[no-untyped-def]
        return harness.stub.UpdateCustomer(
            pb.UpdateCustomerRequest(
                customer=pb.Customer(id=customer.id, name=name), update_mask=FieldMask(paths=["name"])
            ),
            metadata=harness.metadata(helper),
        )

    def log():  # type: ignore[no-untyped-def]
        return harness.stub.LogInteraction(
            fpb.LogInteractionRequest(
                request_id=str(uuid.uuid4()),
                interaction=fpb.Interaction(
                    customer_id=customer.id, kind=fpb.INTERACTION_KIND_PHONE, content="电话确认下周送货"
                ),
            ),
            metadata=harness.metadata(helper),
        )

    read_only = [await harness.refusal(rename("协作权限测试酒店（改）")), await harness.refusal(log())]
    await _share(harness, owner, customer.id, helper, READ_WRITE)
    renamed = await rename("协作权限测试大酒店")
    await log()
    release = await harness.refusal(
        harness.stub.ReleaseToPool(
            ppb.ReleaseToPoolRequest(customer_id=customer.id, reason="不想要了"), metadata=harness.metadata(helper)
        )
    )
    manage = await harness.refusal(_share(harness, helper, customer.id, org.person(Role.SALES, org.shop_a)))

    assert [r.code for r in read_only] == [grpc.StatusCode.PERMISSION_DENIED] * 2
    assert "协作人" in read_only[0].message
    assert renamed.customer.name == "协作权限测试大酒店"
    assert renamed.customer.owner_id == owner.principal_id
    assert release.code is grpc.StatusCode.PERMISSION_DENIED
    assert manage.code is grpc.StatusCode.PERMISSION_DENIED


async def test_an_access_ends_at_its_expiry_and_the_job_announces_it(harness) -> None:
    org = harness.org
    owner, helper = org.person(Role.SALES, org.shop_a), org.person(Role.SALES, org.shop_a)
    customer = await harness.create(owner, name="协作到期测试食堂")
    await _share(harness, owner, customer.id, helper, READ, expires=harness.clock() + dt.timedelta(days=2))

    during = await _sees(harness, helper, customer)
    moved_to = harness.clock.advance(dt.timedelta(days=2, seconds=1))
    after_expiry = await _sees(harness, helper, customer)
    await ran_since(harness.runtime.sessions, "collaborator-expiry", moved_to)
    rows = await harness.published_outbox()
    removed = [r for r in rows if r.envelope.type.endswith("collaborator_removed")]

    assert during == ALL
    assert after_expiry == NONE
    assert await _collaborators(harness, owner, customer.id) == []
    assert len(removed) == 1
    message = events_pb2.CollaboratorRemoved()
    removed[0].envelope.payload.Unpack(message)
    assert (message.cause, message.collaborator.user_id) == ("expired", helper.principal_id)


async def test_a_customer_released_to_the_pool_loses_its_collaborators(customer_service) -> None:
    harness = customer_service
    org = harness.org
    admin = org.person(Role.ADMIN, org.hq)
    owner, helper = org.person(Role.SALES, org.shop_a), org.person(Role.SALES, org.shop_a)
    await harness.stub.CreatePool(
        ppb.CreatePoolRequest(pool=ppb.Pool(name="总部公海", org_unit_id=org.hq, org_path=org.path(org.hq))),
        metadata=harness.metadata(admin),
    )
    customer = await harness.create(owner, name="协作公海测试食堂")
    await _share(harness, owner, customer.id, helper, READ_WRITE)

    await harness.stub.ReleaseToPool(
        ppb.ReleaseToPoolRequest(customer_id=customer.id, reason="客户已转向其他供应商"),
        metadata=harness.metadata(owner),
    )
    rows = await harness.published_outbox()

    assert await _sees(harness, helper, customer) == NONE
    assert await _collaborators(harness, admin, customer.id) == []
    assert [r.envelope.type.rsplit(".", 1)[1] for r in rows][-3:] == [
        "customer_owner_changed",
        "collaborator_removed",
        "customer_released_to_pool",
    ]


async def test_a_collaborator_who_becomes_the_owner_stops_being_one(customer_service) -> None:
    harness = customer_service
    org = harness.org
    supervisor = org.person(Role.SUPERVISOR, org.sub_a)
    owner, helper = org.person(Role.SALES, org.shop_a), org.person(Role.SALES, org.shop_a)
    customer = await harness.create(owner, name="协作交接测试酒店")
    await _share(harness, owner, customer.id, helper, READ)

    await harness.stub.UpdateCustomer(
        pb.UpdateCustomerRequest(
            customer=pb.Customer(
                id=customer.id, owner_id=helper.principal_id, org_unit_id=org.shop_a, org_path=org.path(org.shop_a)
            ),
            update_mask=FieldMask(paths=["owner_id"]),
            reason="原负责人休产假",
        ),
        metadata=harness.metadata(_vouched(harness, supervisor, helper)),
    )

    assert await _collaborators(harness, supervisor, customer.id) == []
    assert await _sees(harness, helper, customer) == ALL
    assert await _sees(harness, owner, customer) == NONE


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"user": "owner"}, "user_id", grpc.StatusCode.INVALID_ARGUMENT),
        ({"access": 0}, "access", grpc.StatusCode.INVALID_ARGUMENT),
        ({"access": 9}, "access", grpc.StatusCode.INVALID_ARGUMENT),
        ({"expires": -1}, "expire_time", grpc.StatusCode.INVALID_ARGUMENT),
        ({"unvouched": True}, "user_id", grpc.StatusCode.INVALID_ARGUMENT),
        ({"user_id": ""}, "user_id", grpc.StatusCode.INVALID_ARGUMENT),
        ({"customer_id": "no-such-customer"}, "", grpc.StatusCode.NOT_FOUND),
    ],
)
async def test_a_bad_share_is_refused_naming_the_field(customer_service, change, field, code) -> None:
    harness = customer_service
    org = harness.org
    owner, helper = org.person(Role.SALES, org.shop_a), org.person(Role.SALES, org.shop_a)
    customer = await harness.create(owner, name="协作校验测试食堂")
    user = owner if change.get("user") == "owner" else helper
    request = opb.PutCollaboratorRequest(
        customer_id=change.get("customer_id", customer.id),
        user_id=change.get("user_id", user.principal_id),
        access=change.get("access", READ),
    )
    if "expires" in change:
        request.expire_time.CopyFrom(Timestamp(seconds=int((harness.clock() - dt.timedelta(days=1)).timestamp())))
    caller = owner if change.get("unvouched") else _vouched(harness, owner, user)

    refused = await harness.refusal(harness.stub.PutCollaborator(request, metadata=harness.metadata(caller)))

    assert refused.code is code
    assert refused.field == (field or None)
    assert await _collaborators(harness, owner, customer.id) == []


async def test_a_customer_of_another_rep_cannot_be_shared_by_them(customer_service) -> None:
    harness = customer_service
    org = harness.org
    owner, other, helper = (org.person(Role.SALES, org.shop_a) for _ in range(3))
    customer = await harness.create(owner, name="协作越权测试食堂")

    sharing = await harness.refusal(_share(harness, other, customer.id, helper))
    removal = await harness.refusal(
        harness.stub.RemoveCollaborator(
            opb.RemoveCollaboratorRequest(customer_id=customer.id, user_id=helper.principal_id),
            metadata=harness.metadata(owner),
        )
    )

    assert sharing.code is grpc.StatusCode.NOT_FOUND
    assert removal.code is grpc.StatusCode.NOT_FOUND
