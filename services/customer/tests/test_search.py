"""Searching customers by name, pinyin, mobile and credit code over the service's own term index."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from typing import cast

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from sqlalchemy import text
from sqlalchemy.dialects import postgresql

from crm.customer.v1 import customer_pb2 as pb
from crm_customer.search.service import _rarest_first, _search_statement
from crm_customer.search.terms import search_terms
from crmkit.direct_reads import SessionReader
from crmkit.identity import Identity, Role
from crmkit.scope import scope_values

SCHOOL = "北京实验小学食堂"
SCHOOL_MOBILE = "13800138000"
SCHOOL_CREDIT_CODE = "91350100M000100Y43"


async def _school_and_neighbours(customer_service, searcher) -> None:
    await customer_service.create(
        searcher,
        name=SCHOOL,
        credit_code=SCHOOL_CREDIT_CODE,
        contacts=[pb.Contact(name="王主任", mobile=SCHOOL_MOBILE)],
    )
    await customer_service.create(
        searcher, name="上海浦东机场餐饮公司", contacts=[pb.Contact(name="孙", mobile="13911112222")]
    )
    await customer_service.create(searcher, name="广州白云区养殖场")


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("bjsy", id="pinyin initials"),
        pytest.param("beijing", id="full pinyin"),
        pytest.param("shiyan", id="two syllables inside the name"),
        pytest.param("食堂", id="two characters"),
        pytest.param("实验小学", id="phrase"),
        pytest.param(SCHOOL_MOBILE, id="contact mobile"),
        pytest.param("138-0013-8000", id="formatted mobile"),
        pytest.param("8000", id="last four digits of mobile"),
        pytest.param(SCHOOL_CREDIT_CODE, id="credit code"),
        pytest.param(SCHOOL_CREDIT_CODE.lower(), id="lowercase credit code"),
    ],
)
async def test_search_finds_the_school_canteen(customer_service, query: str) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    await _school_and_neighbours(customer_service, rep)

    assert await customer_service.search(rep, query) == [SCHOOL]


async def test_phrase_search_skips_names_that_hold_its_pieces_but_not_the_phrase(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    await customer_service.create(rep, name=SCHOOL)
    # Holds 实验, 验小 and 小学, but never 实验小学 in a row.
    await customer_service.create(rep, name="实验田验小麦小学")

    assert await customer_service.search(rep, "实验小学") == [SCHOOL]


async def test_name_starting_with_the_query_ranks_before_a_name_containing_it(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    for name in ("北京实验小学食堂", "海淀区第一中学食堂", "食堂管理服务中心", "朝阳区食堂"):
        await customer_service.create(rep, name=name)

    found = await customer_service.search(rep, "食堂")

    assert found[0] == "食堂管理服务中心"
    assert sorted(found[1:]) == sorted(["北京实验小学食堂", "海淀区第一中学食堂", "朝阳区食堂"])


async def _every_page(customer_service, caller: Identity, query: str, *, page_size: int) -> list[list[str]]:
    """The names on each page of a search, following the page tokens to the end."""
    pages: list[list[str]] = []
    token = ""
    while True:
        response = await customer_service.stub.SearchCustomers(
            pb.SearchCustomersRequest(query=query, page_size=page_size, page_token=token),
            metadata=customer_service.metadata(caller),
        )
        pages.append([c.name for c in response.customers])
        token = response.next_page_token
        if not token:
            return pages


@pytest.mark.parametrize("query", ["食堂", "实验小学"], ids=["indexed term", "verified phrase"])
async def test_search_pages_are_disjoint_and_together_hold_every_match(customer_service, query: str) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    names = [f"{city}实验小学食堂" for city in ("北京", "上海", "天津", "重庆", "南京")]
    for name in names:
        await customer_service.create(rep, name=name)
    await customer_service.create(rep, name="广州白云区养殖场")

    pages = await _every_page(customer_service, rep, query, page_size=2)

    assert [len(page) for page in pages] == [2, 2, 1]
    assert sorted(name for page in pages for name in page) == sorted(names)


async def test_one_character_search_lists_each_customer_once_across_pages(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    # 食品食堂配送中心 has two terms starting with 食 (食品, 食堂) and must still come once.
    names = ["食品食堂配送中心", "北京实验小学食堂", "上海食品厂"]
    for name in [*names, "广州白云区养殖场"]:
        await customer_service.create(rep, name=name)

    pages = await _every_page(customer_service, rep, "食", page_size=1)

    assert [len(page) for page in pages] == [1, 1, 1]
    assert sorted(name for page in pages for name in page) == sorted(names)


async def test_phrase_search_pages_past_many_look_alikes_ranked_first(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    # Each look-alike starts with 实验 (ranked first) and holds 验小 and 小学 but not 实验小学:
    # more of them than the first verification batch, so paging must fetch further batches.
    for n in range(45):
        await customer_service.create(rep, name=f"实验田验小麦小学{n}号")
    names = [f"{city}实验小学食堂" for city in ("北京", "上海", "天津")]
    for name in names:
        await customer_service.create(rep, name=name)

    found: list[str] = []
    token = ""
    while True:
        response = await customer_service.stub.SearchCustomers(
            pb.SearchCustomersRequest(query="实验小学", page_size=2, page_token=token),
            metadata=customer_service.metadata(rep),
        )
        found.extend(c.name for c in response.customers)
        token = response.next_page_token
        if not token:
            break

    assert sorted(found) == sorted(names)


async def test_archived_customer_is_not_found_by_search(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    customer = await customer_service.create(rep, name=SCHOOL)
    await customer_service.stub.ArchiveCustomer(
        pb.ArchiveCustomerRequest(id=customer.id), metadata=customer_service.metadata(rep)
    )

    assert await customer_service.search(rep, "食堂") == []


async def test_renamed_customer_is_found_by_its_new_name_only(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    customer = await customer_service.create(rep, name="杭州西湖酒店")
    await customer_service.stub.UpdateCustomer(
        pb.UpdateCustomerRequest(
            customer=pb.Customer(id=customer.id, name="杭州滨江酒店"), update_mask=FieldMask(paths=["name"])
        ),
        metadata=customer_service.metadata(rep),
    )

    assert await customer_service.search(rep, "滨江") == ["杭州滨江酒店"]
    assert await customer_service.search(rep, "西湖") == []


async def test_query_that_matches_nothing_returns_no_customers(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    await _school_and_neighbours(customer_service, rep)

    response = await customer_service.stub.SearchCustomers(
        pb.SearchCustomersRequest(query="火锅"), metadata=customer_service.metadata(rep)
    )

    assert list(response.customers) == []
    assert response.next_page_token == ""


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("", id="empty"),
        pytest.param(" ，。 ", id="only punctuation"),
        pytest.param("食" * 65, id="too long"),
    ],
)
async def test_empty_or_overlong_query_is_refused_naming_the_query(customer_service, query: str) -> None:
    org = customer_service.org
    refusal = await customer_service.refusal(
        customer_service.stub.SearchCustomers(
            pb.SearchCustomersRequest(query=query),
            metadata=customer_service.metadata(org.person(Role.SALES, org.shop_a)),
        )
    )
    assert refusal.code == grpc.StatusCode.INVALID_ARGUMENT
    assert refusal.field == "query"


CITIES = ("北京", "上海", "广州", "深圳", "杭州", "南京", "成都", "武汉", "西安", "苏州")
KINDS = ("实验小学", "第一中学", "人民医院", "大酒店", "物流园", "养殖场", "农贸市场", "科技公司")


CUSTOMER_COLUMNS = (
    *("id", "tenant_id", "org_unit_id", "org_path", "owner_id", "name", "short_name", "type", "addresses", "tags"),
    *("custom_fields", "lifecycle_stage", "archived", "version", "pinyin_full", "pinyin_initials"),
    *("created_at", "updated_at"),
)
TERM_COLUMNS = ("tenant_id", "term", "rank", "customer_id", "owner_id")


async def test_two_character_search_reads_the_term_index_not_the_whole_table(customer_service) -> None:
    org = customer_service.org
    admin = org.person(Role.ADMIN, org.hq)
    rep = org.person(Role.SALES, org.shop_a)
    colleagues = [str(uuid.uuid4()) for _ in range(19)]
    now = dt.datetime.now(dt.UTC)
    customers: list[tuple[object, ...]] = []
    terms: list[tuple[object, ...]] = []
    for i in range(2000):
        # One customer in forty is a canteen: "食堂" is a selective term, as it is in a real tenant.
        name = f"{CITIES[i % 10]}{KINDS[i % 8]}{i}号" + ("食堂" if i % 40 == 0 else "")
        customer_id = str(uuid.uuid4())
        # The rep owns one customer in twenty, like a rep in a team of twenty.
        owner = rep.principal_id if i % 20 == 0 else colleagues[i % 19]
        placed = (customer_id, org.tenant_id, org.shop_a, org.path(org.shop_a), owner, name)
        customers.append((*placed, "", "", "[]", "[]", "{}", "lead", False, 1, "", "", now, now))
        terms.extend((org.tenant_id, term, rank, customer_id, owner) for term, rank in search_terms(name).items())
    async with customer_service.runtime.sessions() as session, session.begin():
        # COPY rather than INSERT: tens of thousands of term rows in a fraction of a second.
        connection = (await (await session.connection()).get_raw_connection()).driver_connection
        await connection.copy_records_to_table("customers", records=customers, columns=CUSTOMER_COLUMNS)
        await connection.copy_records_to_table("customer_search_terms", records=terms, columns=TERM_COLUMNS)
    plans = {}
    async with customer_service.runtime.sessions() as session:
        await session.execute(text("ANALYZE customers"))
        await session.execute(text("ANALYZE customer_search_terms"))
        for who, caller in (("admin", admin), ("rep", rep)):
            scope = scope_values(caller, now=dt.datetime.now(dt.UTC))
            values = {"tenant_id": org.tenant_id, "term_0": "食堂", "offset": 0, "limit": 21, **scope}
            statement = _search_statement(caller.scope, 1).params(values)
            sql = statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
            plans[who] = "\n".join((await session.scalars(text(f"EXPLAIN {sql}"))).all())

    for plan in plans.values():
        assert "Seq Scan on customer_search_terms" not in plan, plan
        assert any("Index" in line and "customer_search_terms" in line for line in plan.splitlines()), plan
    # A rep's search walks only the rep's own terms.
    assert "ix_search_terms_owner" in plans["rep"], plans["rep"]


async def test_the_rarest_bigram_of_a_phrase_drives_even_when_every_bigram_is_common(customer_service) -> None:
    org = customer_service.org
    # 实验 and 小学 each name 5,000 customers, 验小 2,500: past every exact count's cap, so only
    # the sample of the (random) id space can tell which is rarer.
    ids = random.Random(7)
    rows: list[tuple[object, ...]] = []
    for term, customers in (("实验", 5000), ("小学", 5000), ("验小", 2500)):
        for _ in range(customers):
            rows.append((org.tenant_id, term, 2, str(uuid.UUID(int=ids.getrandbits(128))), "someone"))
    async with customer_service.runtime.sessions() as session, session.begin():
        connection = (await (await session.connection()).get_raw_connection()).driver_connection
        await connection.copy_records_to_table("customer_search_terms", records=rows, columns=TERM_COLUMNS)

    async with customer_service.runtime.sessions() as session:
        reader = SessionReader(session)
        ordered = await _rarest_first(reader, org.tenant_id, ("实验", "验小", "小学"))
        few = await _rarest_first(reader, org.tenant_id, ("实验", "小学", "验小学"))

    assert ordered[0] == "验小"
    # A term nobody has is rarer still, however the others compare.
    assert few[0] == "验小学"


async def _filtered_search(customer_service, identity: Identity, query: str, **narrowing) -> list[str]:
    response = await customer_service.stub.SearchCustomers(
        pb.SearchCustomersRequest(query=query, filter=pb.CustomerFilter(**narrowing)),
        metadata=customer_service.metadata(identity),
    )
    return sorted(c.name for c in response.customers)


async def test_search_narrowed_by_filters_keeps_only_customers_matching_them(customer_service) -> None:
    org = customer_service.org
    admin = org.person(Role.ADMIN, org.hq)
    rep_a, rep_b = org.person(Role.SALES, org.shop_a), org.person(Role.SALES, org.shop_b)
    await customer_service.create(
        rep_a, name="太原小店区食堂", type="学校食堂", tags=["重点_客户"], lifecycle_stage=pb.LIFECYCLE_STAGE_SIGNED
    )
    await customer_service.create(rep_a, name="太原迎泽区食堂", type="企业食堂", tags=["重点客户"])
    await customer_service.create(
        rep_b, name="太原杏花岭区食堂", type="学校食堂", contacts=[pb.Contact(name="温师傅", mobile="13912345678")]
    )

    assert await _filtered_search(customer_service, admin, "太原") == [
        "太原小店区食堂",
        "太原杏花岭区食堂",
        "太原迎泽区食堂",
    ]
    assert await _filtered_search(customer_service, admin, "太原", lifecycle_stage=pb.LIFECYCLE_STAGE_SIGNED) == [
        "太原小店区食堂"
    ]
    assert await _filtered_search(customer_service, admin, "ty", type="学校食堂") == [
        "太原小店区食堂",
        "太原杏花岭区食堂",
    ]
    assert await _filtered_search(customer_service, admin, "太", owner_id=rep_b.principal_id) == ["太原杏花岭区食堂"]
    assert await _filtered_search(customer_service, admin, "太原", org_unit_id=org.shop_a) == [
        "太原小店区食堂",
        "太原迎泽区食堂",
    ]
    # The underscore is a tag's own character, not a LIKE wildcard: 重点客户 does not match 重点_客户.
    assert await _filtered_search(customer_service, admin, "太原", tag="重点_客户") == ["太原小店区食堂"]
    assert await _filtered_search(customer_service, admin, "5678", org_unit_id=org.shop_a) == []
    assert await _filtered_search(customer_service, admin, "5678", org_unit_id=org.shop_b) == ["太原杏花岭区食堂"]


async def test_search_filter_with_an_unknown_stage_is_refused_naming_it(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    refused = await customer_service.refusal(
        customer_service.stub.SearchCustomers(
            pb.SearchCustomersRequest(
                query="太原", filter=pb.CustomerFilter(lifecycle_stage=cast(pb.LifecycleStage.ValueType, 42))
            ),
            metadata=customer_service.metadata(rep),
        )
    )

    assert (refused.code, refused.field) == (grpc.StatusCode.INVALID_ARGUMENT, "filter.lifecycle_stage")
