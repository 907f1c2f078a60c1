"""The embedded default: the same rules hold when the customer service runs on SQLite."""

from __future__ import annotations

import asyncio

import grpc
from google.protobuf.field_mask_pb2 import FieldMask

from crm.customer.v1 import customer_pb2 as pb
from crmkit.identity import Role


async def test_on_sqlite_search_finds_by_pinyin_initials_bigram_and_mobile(customer_service_sqlite) -> None:
    service = customer_service_sqlite
    rep = service.org.person(Role.SALES, service.org.shop_a)
    await service.create(rep, name="北京实验小学食堂", contacts=[pb.Contact(name="王芳", mobile="13800138000")])
    await service.create(rep, name="上海锦江大酒店")

    assert await service.search(rep, "bjsy") == ["北京实验小学食堂"]
    assert await service.search(rep, "食堂") == ["北京实验小学食堂"]
    assert await service.search(rep, "实验小学") == ["北京实验小学食堂"]
    assert await service.search(rep, "13800138000") == ["北京实验小学食堂"]
    assert await service.search(rep, "jiudian") == ["上海锦江大酒店"]


async def test_on_sqlite_a_rep_cannot_see_a_colleagues_customer(customer_service_sqlite) -> None:
    service = customer_service_sqlite
    rep_a = service.org.person(Role.SALES, service.org.shop_a)
    rep_b = service.org.person(Role.SALES, service.org.shop_a)
    customer = await service.create(rep_a, name="杭州市西湖区实验小学食堂")

    refusal = await service.refusal(
        service.stub.GetCustomer(pb.GetCustomerRequest(id=customer.id), metadata=service.metadata(rep_b))
    )

    assert refusal.code == grpc.StatusCode.NOT_FOUND
    assert await service.search(rep_b, "食堂") == []
    assert await service.list_names(rep_b) == []
    supervisor = service.org.person(Role.SUPERVISOR, service.org.sub_a)
    assert await service.list_names(supervisor) == ["杭州市西湖区实验小学食堂"]


async def test_on_sqlite_duplicate_mobile_and_tag_filter_work(customer_service_sqlite) -> None:
    service = customer_service_sqlite
    rep = service.org.person(Role.SALES, service.org.shop_a)
    await service.create(
        rep, name="兰州城关区食堂", tags=["重点客户"], contacts=[pb.Contact(name="李雷", mobile="13900001111")]
    )

    refusal = await service.refusal(
        service.stub.CreateCustomer(
            pb.CreateCustomerRequest(
                customer=pb.Customer(name="另一家", contacts=[pb.Contact(name="韩梅梅", mobile="139 0000 1111")])
            ),
            metadata=service.metadata(rep),
        )
    )

    assert refusal.code == grpc.StatusCode.ALREADY_EXISTS
    assert "兰州城关区食堂" in refusal.message
    assert await service.list_names(rep, tag="重点客户") == ["兰州城关区食堂"]
    assert await service.list_names(rep, tag="重点") == []


async def test_on_sqlite_events_are_published_from_the_outbox(customer_service_sqlite) -> None:
    service = customer_service_sqlite
    rep = service.org.person(Role.SALES, service.org.shop_a)
    customer = await service.create(rep, name="苏州工业园区员工食堂")

    rows = await service.published_outbox()

    # The revisit job may schedule the new customer's first revisit meanwhile (its own event).
    created = [row for row in rows if row.envelope.type == "crm.customer.v1.customer_created"]
    assert [row.envelope.aggregate_id for row in created] == [customer.id]
    assert all(row.published_at is not None for row in rows)


async def test_on_sqlite_two_concurrent_edits_of_one_version_cannot_both_win(customer_service_sqlite) -> None:
    service = customer_service_sqlite
    rep = service.org.person(Role.SALES, service.org.shop_a)
    customer = await service.create(rep, name="厦门思明区实验小学食堂")

    def edit(stage: int) -> pb.UpdateCustomerRequest:
        return pb.UpdateCustomerRequest(
            customer=pb.Customer(id=customer.id, lifecycle_stage=stage),
            update_mask=FieldMask(paths=["lifecycle_stage"]),
            expected_version=1,
        )

    outcomes = await asyncio.gather(
        service.stub.UpdateCustomer(edit(pb.LIFECYCLE_STAGE_SIGNED), metadata=service.metadata(rep)),
        service.stub.UpdateCustomer(edit(pb.LIFECYCLE_STAGE_LOST), metadata=service.metadata(rep)),
        return_exceptions=True,
    )

    won = [o for o in outcomes if isinstance(o, pb.UpdateCustomerResponse)]
    lost = [o for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
    assert len(won) == 1 and len(lost) == 1
    assert lost[0].code() == grpc.StatusCode.ABORTED
    stored = await service.stub.GetCustomer(pb.GetCustomerRequest(id=customer.id), metadata=service.metadata(rep))
    assert (stored.customer.version, stored.customer.lifecycle_stage) == (2, won[0].customer.lifecycle_stage)
    assert (await service.event_types()).count("crm.customer.v1.customer_updated") == 1
