"""Creating customers: what is stored, retried creates, ownership, and refusing a second profile of one customer."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import grpc
from google.protobuf import json_format
from google.protobuf.struct_pb2 import Struct

from crm.customer.v1 import customer_pb2 as pb
from crmkit.identity import Placement, Role
from crmkit.testing.harness import OrgTree

CREDIT_CODE = "91350100M000100Y43"


async def test_created_customer_reads_back_with_every_field(customer_service) -> None:
    org = customer_service.org
    admin = org.person(Role.ADMIN, org.hq)
    custom = Struct()
    custom.update({"结算方式": "月结", "账期天数": 30, "需要发票": True})
    created = await customer_service.create(
        admin,
        name="北京实验小学食堂",
        short_name="实验小学",
        type="学校食堂",
        credit_code=CREDIT_CODE,
        addresses=[
            pb.Address(label="收货地址", province="北京市", city="北京市", district="西城区", detail="文兴街1号")
        ],
        contacts=[
            pb.Contact(
                name="王主任",
                mobile="13800138000",
                wechat_id="wang_zhuren",
                email="wang@example.cn",
                decision_role=pb.DECISION_ROLE_DECISION_MAKER,
                title="后勤主任",
                primary=True,
            ),
            pb.Contact(name="李会计", mobile="13900139000", decision_role=pb.DECISION_ROLE_PAYER),
        ],
        contract_start="2025-01-01",
        contract_end="2025-12-31",
        tags=["重点客户", "月结"],
        custom_fields=custom,
        lifecycle_stage=pb.LIFECYCLE_STAGE_SIGNED,
    )

    fetched = (
        await customer_service.stub.GetCustomer(
            pb.GetCustomerRequest(id=created.id), metadata=customer_service.metadata(admin)
        )
    ).customer

    assert fetched.name == "北京实验小学食堂"
    assert fetched.short_name == "实验小学"
    assert fetched.type == "学校食堂"
    assert fetched.credit_code == CREDIT_CODE
    assert list(fetched.addresses) == [
        pb.Address(label="收货地址", province="北京市", city="北京市", district="西城区", detail="文兴街1号")
    ]
    contacts = {c.name: c for c in fetched.contacts}
    assert set(contacts) == {"王主任", "李会计"}
    assert contacts["王主任"].mobile == "13800138000"
    assert contacts["王主任"].wechat_id == "wang_zhuren"
    assert contacts["王主任"].email == "wang@example.cn"
    assert contacts["王主任"].decision_role == pb.DECISION_ROLE_DECISION_MAKER
    assert contacts["王主任"].title == "后勤主任"
    assert contacts["王主任"].primary
    assert contacts["李会计"].decision_role == pb.DECISION_ROLE_PAYER
    assert not contacts["李会计"].primary
    assert all(c.customer_id == created.id and c.id for c in fetched.contacts)
    assert (fetched.contract_start, fetched.contract_end) == ("2025-01-01", "2025-12-31")
    assert list(fetched.tags) == ["重点客户", "月结"]
    assert json_format.MessageToDict(fetched.custom_fields) == {"结算方式": "月结", "账期天数": 30, "需要发票": True}
    assert fetched.lifecycle_stage == pb.LIFECYCLE_STAGE_SIGNED
    assert fetched.tenant_id == org.tenant_id
    assert (fetched.owner_id, fetched.org_unit_id, fetched.org_path) == (admin.principal_id, org.hq, org.path(org.hq))
    assert fetched.version == 1
    assert not fetched.archived
    assert fetched == created


async def test_customer_created_without_a_stage_starts_as_a_lead(customer_service) -> None:
    org = customer_service.org
    created = await customer_service.create(org.person(Role.SALES, org.shop_a), name="杭州西湖区实验小学食堂")
    assert created.lifecycle_stage == pb.LIFECYCLE_STAGE_LEAD


async def test_retried_create_with_the_same_request_id_returns_the_first_customer(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)

    first = await customer_service.create(rep, request_id="req-42", name="上海徐汇中学食堂", credit_code=CREDIT_CODE)
    retried = await customer_service.create(rep, request_id="req-42", name="上海徐汇中学食堂", credit_code=CREDIT_CODE)

    assert retried.id == first.id
    assert await customer_service.customer_count() == 1
    assert await customer_service.event_types() == ["crm.customer.v1.customer_created"]


async def test_retry_arriving_while_the_first_create_is_running_returns_the_same_customer(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)

    first, second = await asyncio.gather(
        customer_service.create(rep, request_id="req-7", name="太原迎泽区食堂"),
        customer_service.create(rep, request_id="req-7", name="太原迎泽区食堂"),
    )

    assert first.id == second.id
    assert await customer_service.customer_count() == 1
    assert await customer_service.event_types() == ["crm.customer.v1.customer_created"]


async def test_sales_rep_owns_the_customer_they_create_even_when_naming_another_owner(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    colleague = org.person(Role.SALES, org.shop_b)

    created = await customer_service.create(
        rep,
        name="广州天河酒店",
        owner_id=colleague.principal_id,
        org_unit_id=org.shop_b,
        org_path=org.path(org.shop_b),
    )

    assert (created.owner_id, created.org_unit_id, created.org_path) == (
        rep.principal_id,
        org.shop_a,
        org.path(org.shop_a),
    )


async def test_supervisor_may_place_a_new_customer_with_a_rep_in_their_subtree(customer_service) -> None:
    org = customer_service.org
    supervisor = org.person(Role.SUPERVISOR, org.sub_a)
    rep = org.person(Role.SALES, org.shop_a)

    created = await customer_service.create(
        replace(supervisor, placement=Placement(rep.principal_id, org.shop_a, org.path(org.shop_a))),
        name="苏州工业园区食堂",
        owner_id=rep.principal_id,
        org_unit_id=org.shop_a,
        org_path=org.path(org.shop_a),
    )

    assert (created.owner_id, created.org_unit_id) == (rep.principal_id, org.shop_a)
    assert await customer_service.list_names(rep) == ["苏州工业园区食堂"]


async def test_second_customer_with_the_same_credit_code_is_refused_naming_the_first(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    first = await customer_service.create(rep, name="福州鼓楼区第一中学", credit_code=CREDIT_CODE)

    refusal = await customer_service.refusal(
        customer_service.create(rep, name="鼓楼一中", credit_code=CREDIT_CODE.lower())
    )

    assert refusal.code == grpc.StatusCode.ALREADY_EXISTS
    assert "福州鼓楼区第一中学" in refusal.message
    assert refusal.trailers["crm-error-code"] == "already_exists"
    assert refusal.field == "credit_code"
    assert refusal.trailers["crm-error-existing-id"] == first.id
    assert refusal.trailers["crm-error-existing-owner-id"] == rep.principal_id
    assert await customer_service.customer_count() == 1


async def test_contact_mobile_in_another_format_is_recognised_as_the_same_customer(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    first = await customer_service.create(
        rep, name="南京鼓楼医院食堂", contacts=[pb.Contact(name="陈经理", mobile="13800138000")]
    )

    refusal = await customer_service.refusal(
        customer_service.create(rep, name="鼓楼医院", contacts=[pb.Contact(name="陈先生", mobile="+86 138-0013-8000")])
    )

    assert refusal.code == grpc.StatusCode.ALREADY_EXISTS
    assert "南京鼓楼医院食堂" in refusal.message
    assert refusal.field == "mobile"
    assert refusal.trailers["crm-error-existing-id"] == first.id


async def test_second_customer_with_the_same_wechat_id_is_refused_naming_the_first(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    await customer_service.create(
        rep, name="成都锦江宾馆", contacts=[pb.Contact(name="刘总", wechat_id="liu_jinjiang")]
    )

    refusal = await customer_service.refusal(
        customer_service.create(
            rep, name="锦江宾馆餐饮部", contacts=[pb.Contact(name="刘总", wechat_id="liu_jinjiang")]
        )
    )

    assert refusal.code == grpc.StatusCode.ALREADY_EXISTS
    assert "成都锦江宾馆" in refusal.message
    assert refusal.field == "wechat_id"


async def test_another_tenant_may_register_the_same_credit_code(customer_service) -> None:
    org = customer_service.org
    other = OrgTree.create()
    await customer_service.create(org.person(Role.ADMIN, org.hq), name="厦门思明区食堂", credit_code=CREDIT_CODE)

    theirs = await customer_service.create(
        other.person(Role.ADMIN, other.hq), name="厦门思明区食堂", credit_code=CREDIT_CODE
    )

    assert theirs.tenant_id == other.tenant_id
    assert theirs.credit_code == CREDIT_CODE


async def test_rep_who_cannot_see_the_existing_customer_learns_neither_its_id_nor_its_name(customer_service) -> None:
    org = customer_service.org
    owner = org.person(Role.SALES, org.shop_a)
    other_rep = org.person(Role.SALES, org.shop_b)
    await customer_service.create(owner, name="武汉光谷软件园食堂", credit_code=CREDIT_CODE)

    refusal = await customer_service.refusal(
        customer_service.create(other_rep, name="光谷软件园", credit_code=CREDIT_CODE)
    )

    assert refusal.code == grpc.StatusCode.ALREADY_EXISTS
    # A credit code or a mobile must not be a way to look up whom the company serves.
    assert "武汉光谷软件园食堂" not in refusal.message
    assert "同事" in refusal.message
    assert refusal.field == "credit_code"
    assert "crm-error-existing-id" not in refusal.trailers
    assert "crm-error-existing-owner-id" not in refusal.trailers


async def test_same_mobile_twice_in_one_new_customer_is_refused(customer_service) -> None:
    org = customer_service.org
    refusal = await customer_service.refusal(
        customer_service.create(
            org.person(Role.SALES, org.shop_a),
            name="长沙岳麓书院食堂",
            contacts=[pb.Contact(name="甲", mobile="13800138000"), pb.Contact(name="乙", mobile="138 0013 8000")],
        )
    )
    assert refusal.code == grpc.StatusCode.ALREADY_EXISTS
    assert refusal.field == "customer.contacts[1].mobile"


async def test_concurrent_creates_with_one_credit_code_leave_a_single_customer(customer_service) -> None:
    org = customer_service.org
    reps = [org.person(Role.SALES, org.shop_a), org.person(Role.SALES, org.shop_b)]

    outcomes = await asyncio.gather(
        *(
            customer_service.create(rep, name=f"重庆渝中区食堂{i}", credit_code=CREDIT_CODE)
            for i, rep in enumerate(reps)
        ),
        return_exceptions=True,
    )

    refused = [o for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
    assert len(refused) == 1, outcomes
    assert refused[0].code() == grpc.StatusCode.ALREADY_EXISTS
    assert await customer_service.customer_count() == 1
    assert await customer_service.event_types() == ["crm.customer.v1.customer_created"]


async def test_another_users_request_id_neither_returns_their_customer_nor_blocks_a_create(customer_service) -> None:
    org = customer_service.org
    rep_a = org.person(Role.SALES, org.shop_a)
    rep_b = org.person(Role.SALES, org.shop_a)
    first = await customer_service.create(rep_a, request_id="import-row-1", name="宁波海曙区第一食堂")

    second = await customer_service.create(rep_b, request_id="import-row-1", name="宁波江北区第二食堂")

    assert second.id != first.id
    assert (second.name, second.owner_id) == ("宁波江北区第二食堂", rep_b.principal_id)


async def test_custom_field_number_that_is_not_finite_is_invalid_argument(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    customer = pb.Customer(name="宁波鄞州区食堂")
    customer.custom_fields["score"] = float("nan")

    refusal = await customer_service.refusal(
        customer_service.stub.CreateCustomer(
            pb.CreateCustomerRequest(customer=customer), metadata=customer_service.metadata(rep)
        )
    )

    assert refusal.code == grpc.StatusCode.INVALID_ARGUMENT
    assert refusal.field == "customer.custom_fields"


async def test_an_owner_the_directory_did_not_vouch_for_is_refused_even_to_an_admin(customer_service) -> None:
    org = customer_service.org
    admin = org.person(Role.ADMIN, org.hq)
    rep_b = org.person(Role.SALES, org.shop_b)
    placed = {"owner_id": rep_b.principal_id, "org_unit_id": org.shop_b, "org_path": org.path(org.shop_b)}

    unvouched = await customer_service.refusal(customer_service.create(admin, name="昆明五华区米线店", **placed))
    ghost = Placement("no-such-user", org.shop_b, org.path(org.shop_b))
    vouched_for_another = await customer_service.refusal(
        customer_service.create(replace(admin, placement=ghost), name="昆明五华区米线店", **placed)
    )
    vouched = Placement(rep_b.principal_id, org.shop_b, org.path(org.shop_b))
    created = await customer_service.create(replace(admin, placement=vouched), name="昆明五华区米线店", **placed)

    for refusal in (unvouched, vouched_for_another):
        assert refusal.code == grpc.StatusCode.INVALID_ARGUMENT
        assert refusal.field == "customer.owner_id"
    assert (created.owner_id, created.org_unit_id) == (rep_b.principal_id, org.shop_b)
    assert await customer_service.customer_count() == 1
