"""Listing customers: newest first, filtered, paged; and the customer types a tenant offers."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import cast

import grpc
from google.protobuf.field_mask_pb2 import FieldMask
from sqlalchemy import text
from sqlalchemy.dialects import postgresql

from crm.customer.v1 import customer_pb2 as pb
from crm_customer.customers.service import ORDERS, ListFilter, list_statements
from crm_customer.tenant_settings.models import DEFAULT_CUSTOMER_TYPES
from crmkit.identity import Role


async def test_list_pages_run_newest_first_and_together_hold_every_customer(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    names = [f"呼和浩特第{n}中学食堂" for n in "一二三四五"]
    for name in names:
        await customer_service.create(rep, name=name)

    seen: list[str] = []
    token = ""
    for _ in range(len(names)):
        response = await customer_service.stub.ListCustomers(
            pb.ListCustomersRequest(page_size=2, page_token=token), metadata=customer_service.metadata(rep)
        )
        seen.extend(c.name for c in response.customers)
        token = response.next_page_token
        if not token:
            break

    assert seen == list(reversed(names))
    assert token == ""


async def test_list_filtered_by_tag_returns_only_customers_carrying_it(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    await customer_service.create(rep, name="兰州城关区食堂", tags=["重点客户", "月结"])
    await customer_service.create(rep, name="兰州七里河区食堂", tags=["月结"])
    await customer_service.create(rep, name="兰州安宁区食堂")

    assert await customer_service.list_names(rep, tag="重点客户") == ["兰州城关区食堂"]
    assert await customer_service.list_names(rep, tag="月结") == ["兰州七里河区食堂", "兰州城关区食堂"]


async def test_list_filtered_by_stage_and_org_unit_returns_only_matching_customers(customer_service) -> None:
    org = customer_service.org
    admin = org.person(Role.ADMIN, org.hq)
    await customer_service.create(
        org.person(Role.SALES, org.shop_a), name="银川兴庆区食堂", lifecycle_stage=pb.LIFECYCLE_STAGE_SIGNED
    )
    await customer_service.create(org.person(Role.SALES, org.shop_a), name="银川金凤区食堂")
    await customer_service.create(
        org.person(Role.SALES, org.shop_b), name="银川西夏区食堂", lifecycle_stage=pb.LIFECYCLE_STAGE_SIGNED
    )

    assert await customer_service.list_names(
        admin, lifecycle_stage=pb.LIFECYCLE_STAGE_SIGNED, org_unit_id=org.sub_a
    ) == ["银川兴庆区食堂"]


async def test_tenant_without_its_own_customer_types_is_offered_the_defaults(customer_service) -> None:
    org = customer_service.org
    response = await customer_service.stub.ListCustomerTypes(
        pb.ListCustomerTypesRequest(), metadata=customer_service.metadata(org.person(Role.SALES, org.shop_a))
    )
    assert list(response.types) == list(DEFAULT_CUSTOMER_TYPES)


async def test_admin_replaces_the_customer_types_and_new_customers_must_use_them(customer_service) -> None:
    org = customer_service.org
    admin = org.person(Role.ADMIN, org.hq)
    rep = org.person(Role.SALES, org.shop_a)
    legacy = await customer_service.create(rep, name="佛山顺德区鱼塘", type="养殖场")

    saved = await customer_service.stub.SetCustomerTypes(
        pb.SetCustomerTypesRequest(types=["水产养殖", "农贸批发"]), metadata=customer_service.metadata(admin)
    )
    listed = await customer_service.stub.ListCustomerTypes(
        pb.ListCustomerTypesRequest(), metadata=customer_service.metadata(rep)
    )

    assert list(saved.types) == list(listed.types) == ["水产养殖", "农贸批发"]
    assert (await customer_service.create(rep, name="佛山南海区鱼塘", type="水产养殖")).type == "水产养殖"
    refusal = await customer_service.refusal(customer_service.create(rep, name="佛山三水区鱼塘", type="养殖场"))
    assert (refusal.code, refusal.field) == (grpc.StatusCode.INVALID_ARGUMENT, "customer.type")
    kept = await customer_service.stub.GetCustomer(
        pb.GetCustomerRequest(id=legacy.id), metadata=customer_service.metadata(rep)
    )
    assert kept.customer.type == "养殖场"


async def test_only_admin_or_boss_set_customer_types_and_the_list_is_validated(customer_service) -> None:
    org = customer_service.org
    supervisor = org.person(Role.SUPERVISOR, org.sub_a)
    admin = org.person(Role.ADMIN, org.hq)

    denied = await customer_service.refusal(
        customer_service.stub.SetCustomerTypes(
            pb.SetCustomerTypesRequest(types=["中餐"]), metadata=customer_service.metadata(supervisor)
        )
    )
    repeated = await customer_service.refusal(
        customer_service.stub.SetCustomerTypes(
            pb.SetCustomerTypesRequest(types=["中餐", "中餐"]), metadata=customer_service.metadata(admin)
        )
    )
    empty = await customer_service.refusal(
        customer_service.stub.SetCustomerTypes(pb.SetCustomerTypesRequest(), metadata=customer_service.metadata(admin))
    )

    assert denied.code == grpc.StatusCode.PERMISSION_DENIED
    assert (repeated.code, repeated.field) == (grpc.StatusCode.INVALID_ARGUMENT, "types[1]")
    assert (empty.code, empty.field) == (grpc.StatusCode.INVALID_ARGUMENT, "types")


async def test_listing_by_a_rare_stage_or_type_reads_an_index_not_the_whole_tenant(customer_service) -> None:
    org = customer_service.org
    admin = org.person(Role.ADMIN, org.hq)
    now = dt.datetime.now(dt.UTC)
    columns = ("id", "tenant_id", "org_unit_id", "org_path", "owner_id", "name", "short_name", "type")
    columns += ("addresses", "tags", "custom_fields", "lifecycle_stage", "archived", "version")
    columns += ("pinyin_full", "pinyin_initials", "created_at", "updated_at")
    rows = []
    for i in range(20_000):
        # One customer in a thousand is lost, one in a thousand a farm: rare values of each filter.
        stage, kind = ("lost" if i % 1000 == 0 else "signed"), ("养殖场" if i % 1000 == 1 else "中餐")
        placed = (str(uuid.uuid4()), org.tenant_id, org.shop_a, org.path(org.shop_a), "rep", f"第{i}号餐厅", "")
        rows.append((*placed, kind, "[]", "[]", "{}", stage, False, 1, "", "", now - dt.timedelta(minutes=i), now))
    async with customer_service.runtime.sessions() as session, session.begin():
        connection = (await (await session.connection()).get_raw_connection()).driver_connection
        await connection.copy_records_to_table("customers", records=rows, columns=columns)
    plans = {}
    async with customer_service.runtime.sessions() as session:
        await session.execute(text("ANALYZE customers"))
        for name, filters in (("stage", ListFilter(lifecycle_stage="lost")), ("type", ListFilter(type="养殖场"))):
            (listed,) = list_statements(admin, filters, now=dt.datetime.now(dt.UTC))
            statement = ORDERS["created_desc"].apply(listed, "").limit(51)
            sql = statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
            plans[name] = "\n".join((await session.scalars(text(f"EXPLAIN {sql}"))).all())
    listed = await customer_service.stub.ListCustomers(
        pb.ListCustomersRequest(lifecycle_stage=pb.LIFECYCLE_STAGE_LOST), metadata=customer_service.metadata(admin)
    )

    assert "ix_customers_tenant_stage" in plans["stage"], plans["stage"]
    assert "ix_customers_tenant_type" in plans["type"], plans["type"]
    assert [c.name for c in listed.customers] == [f"第{i}号餐厅" for i in range(0, 20_000, 1000)]


async def _all_pages(customer_service, identity, **request) -> list[str]:
    names: list[str] = []
    token = ""
    while True:
        response = await customer_service.stub.ListCustomers(
            pb.ListCustomersRequest(page_size=2, page_token=token, **request),
            metadata=customer_service.metadata(identity),
        )
        names.extend(c.name for c in response.customers)
        token = response.next_page_token
        if not token:
            return names


async def test_list_by_name_follows_pinyin_both_ways_across_pages(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    # Code-point order would put 北 (U+5317) first and 张 (U+5F20) before 阿 (U+963F); 重庆 reads chóng.
    for name in ("张家口食堂", "阿克苏食堂", "北京海淀食堂", "郑州食堂", "重庆渝中食堂"):
        await customer_service.create(rep, name=name)

    ascending = await _all_pages(customer_service, rep, order_by=pb.CUSTOMER_ORDER_NAME_ASC)
    descending = await _all_pages(customer_service, rep, order_by=pb.CUSTOMER_ORDER_NAME_DESC)

    assert ascending == ["阿克苏食堂", "北京海淀食堂", "重庆渝中食堂", "张家口食堂", "郑州食堂"]
    assert descending == list(reversed(ascending))


async def test_list_most_recently_changed_first_puts_an_edited_customer_on_top(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    first = await customer_service.create(rep, name="西宁城东区食堂")
    for name in ("西宁城中区食堂", "西宁城西区食堂"):
        await customer_service.create(rep, name=name)
    await customer_service.stub.UpdateCustomer(
        pb.UpdateCustomerRequest(
            customer=pb.Customer(id=first.id, short_name="城东"), update_mask=FieldMask(paths=["short_name"])
        ),
        metadata=customer_service.metadata(rep),
    )

    recent = await _all_pages(customer_service, rep, order_by=pb.CUSTOMER_ORDER_UPDATED_DESC)
    oldest_change_first = await _all_pages(customer_service, rep, order_by=pb.CUSTOMER_ORDER_UPDATED_ASC)
    created_asc = await _all_pages(customer_service, rep, order_by=pb.CUSTOMER_ORDER_CREATED_ASC)

    assert recent == ["西宁城东区食堂", "西宁城西区食堂", "西宁城中区食堂"]
    assert oldest_change_first == list(reversed(recent))
    assert created_asc == ["西宁城东区食堂", "西宁城中区食堂", "西宁城西区食堂"]


async def test_a_page_token_of_one_order_is_refused_by_another(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    for name in ("拉萨城关区食堂", "拉萨堆龙区食堂", "拉萨达孜区食堂"):
        await customer_service.create(rep, name=name)
    first = await customer_service.stub.ListCustomers(
        pb.ListCustomersRequest(page_size=1, order_by=pb.CUSTOMER_ORDER_NAME_ASC),
        metadata=customer_service.metadata(rep),
    )

    refused = await customer_service.refusal(
        customer_service.stub.ListCustomers(
            pb.ListCustomersRequest(page_size=1, page_token=first.next_page_token),
            metadata=customer_service.metadata(rep),
        )
    )
    unknown = await customer_service.refusal(
        customer_service.stub.ListCustomers(
            pb.ListCustomersRequest(order_by=cast(pb.CustomerOrder.ValueType, 99)),
            metadata=customer_service.metadata(rep),
        )
    )

    assert (refused.code, refused.field) == (grpc.StatusCode.INVALID_ARGUMENT, "page_token")
    assert (unknown.code, unknown.field) == (grpc.StatusCode.INVALID_ARGUMENT, "order_by")
