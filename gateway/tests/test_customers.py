"""Customers through the gateway: create, find, see only what your scope allows, change, archive."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
import pytest_asyncio

CUSTOMERS = "/api/v1/customers"
# 宁波北仑港务集团食堂 → initials nbblgwjtst; no other customer in this module shares them.
SEARCHABLE_NAME = "宁波北仑港务集团食堂"
SEARCHABLE_INITIALS = "nbblgw"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def rep_a_customer(stack, org) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A customer sales rep A owns in shop 1 (subsidiary 1). Tests here only read it."""
    response = await stack.client.post(
        CUSTOMERS,
        json={
            "name": SEARCHABLE_NAME,
            "type": "企业食堂",
            "contacts": [{"name": "陈敏", "mobile": "13900002222"}],
        },
        headers=org.sales_a.headers,
    )
    assert response.status_code == 201, response.text
    customer: dict[str, Any] = response.json()
    return customer


async def test_sales_rep_creates_a_customer_with_contacts_and_credit_code(client, org, api) -> None:  # type: ignore[no-untyped-def]
    credit_code = api.credit_code()
    mobile = api.mobile()
    body = {
        "name": "杭州市西湖区实验小学食堂",
        "short_name": "西湖实小",
        "type": "学校食堂",
        "credit_code": credit_code.lower(),
        "addresses": [
            {"label": "收货", "province": "浙江省", "city": "杭州市", "district": "西湖区", "detail": "文三路1号"}
        ],
        "contract_start": "2026-01-01",
        "contract_end": "2026-12-31",
        "tags": ["月结", "重点客户"],
        "contacts": [
            {
                "name": "张伟",
                "mobile": f"+86 {mobile[:3]}-{mobile[3:7]}-{mobile[7:]}",
                "title": "后勤主任",
                "primary": True,
            },
            {"name": "刘洋", "wechat_id": "liuyang_canteen", "decision_role": "purchaser"},
        ],
    }

    response = await client.post(CUSTOMERS, json=body, headers=org.sales_a.headers)

    assert response.status_code == 201, response.text
    created = response.json()
    assert created["name"] == "杭州市西湖区实验小学食堂" and created["short_name"] == "西湖实小"
    assert created["credit_code"] == credit_code
    assert (created["owner_id"], created["owner_name"], created["org_unit_id"]) == (org.sales_a.id, "张三", org.shop1)
    assert (created["lifecycle_stage"], created["archived"], created["version"]) == ("lead", False, 1)
    assert created["tags"] == ["月结", "重点客户"]
    assert created["addresses"][0]["detail"] == "文三路1号"
    assert (created["contract_start"], created["contract_end"]) == ("2026-01-01", "2026-12-31")
    contacts = {c["name"]: c for c in created["contacts"]}
    assert contacts["张伟"]["mobile"] == mobile
    assert contacts["张伟"]["primary"] is True
    assert contacts["刘洋"]["wechat_id"] == "liuyang_canteen"
    assert contacts["刘洋"]["decision_role"] == "purchaser"
    fetched = await client.get(f"{CUSTOMERS}/{created['id']}", headers=org.sales_a.headers)
    assert fetched.status_code == 200
    assert fetched.json() == created


async def test_retried_create_with_the_same_request_id_returns_the_first_customer(client, org, api) -> None:  # type: ignore[no-untyped-def]
    body = api.customer_body(name="温州鹿城老味道餐馆", request_id=str(uuid.uuid4()))

    first = await client.post(CUSTOMERS, json=body, headers=org.sales_a.headers)
    second = await client.post(CUSTOMERS, json=body, headers=org.sales_a.headers)

    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]


async def test_admin_creates_a_customer_for_a_rep_who_then_owns_it(client, org, api) -> None:  # type: ignore[no-untyped-def]
    created = await api.create_customer(org.admin, name="无锡新吴区电子厂食堂", owner_id=org.sales_c.id)

    assert (created["owner_id"], created["owner_name"], created["org_unit_id"]) == (org.sales_c.id, "王五", org.shop2)
    assert created["id"] in await api.customer_ids(org.sales_c)
    assert created["id"] not in await api.customer_ids(org.supervisor)


@pytest.mark.parametrize("role", ["service", "finance"])
async def test_a_customer_cannot_be_given_to_a_user_whose_role_may_not_change_customers(
    client, org, api, role: str
) -> None:  # type: ignore[no-untyped-def]
    created = await api.create_customer(org.admin, name="常州天宁区纺织厂食堂")
    holder = org.by_role(role)

    on_create = await client.post(
        CUSTOMERS, json=api.customer_body(name="常州钟楼区食堂", owner_id=holder.id), headers=org.admin.headers
    )
    on_transfer = await client.patch(
        f"{CUSTOMERS}/{created['id']}", json={"owner_id": holder.id}, headers=org.admin.headers
    )

    api.problem(on_create, 400, code="invalid_argument", field="owner_id")
    api.problem(on_transfer, 400, code="invalid_argument", field="owner_id")


async def test_sales_rep_cannot_create_a_customer_for_a_colleague(client, org, api) -> None:  # type: ignore[no-untyped-def]
    body = api.customer_body(name="徐州云龙区面粉厂", owner_id=org.sales_b.id)

    response = await client.post(CUSTOMERS, json=body, headers=org.sales_a.headers)

    api.problem(response, 403, code="permission_denied")


@pytest.mark.parametrize("role", ["service", "finance"])
async def test_service_and_finance_cannot_create_customers(client, org, api, role: str) -> None:  # type: ignore[no-untyped-def]
    response = await client.post(
        CUSTOMERS, json=api.customer_body(name="南通崇川区酒店"), headers=org.by_role(role).headers
    )

    api.problem(response, 403, code="permission_denied")


async def test_list_pages_through_customers_without_repeats(client, org, api) -> None:  # type: ignore[no-untyped-def]
    made = {(await api.create_customer(org.sales_b, name=f"连云港海州区{n}号渔船"))["id"] for n in range(3)}
    seen: list[str] = []
    token = None

    for _ in range(20):
        params = {"page_size": "2"} | ({"page_token": token} if token else {})
        page = (await client.get(CUSTOMERS, params=params, headers=org.sales_b.headers)).json()
        assert len(page["items"]) <= 2
        seen.extend(item["id"] for item in page["items"])
        token = page["next_page_token"]
        if token is None:
            break

    assert len(seen) == len(set(seen))
    assert made <= set(seen)


async def test_list_sorts_by_name_in_pinyin_order_and_by_recent_change(client, org, api) -> None:  # type: ignore[no-untyped-def]
    names = ["镇江润州区食堂", "安庆迎江区食堂", "常州天宁区食堂"]
    made = {(await api.create_customer(org.sales_c, name=name))["id"]: name for name in names}
    first = next(i for i, n in made.items() if n == names[0])
    await client.patch(f"{CUSTOMERS}/{first}", json={"short_name": "润州"}, headers=org.sales_c.headers)

    async def order(sort: str) -> list[str]:
        page = await client.get(CUSTOMERS, params={"sort": sort, "page_size": "200"}, headers=org.sales_c.headers)
        assert page.status_code == 200, page.text
        return [made[c["id"]] for c in page.json()["items"] if c["id"] in made]

    assert await order("name") == ["安庆迎江区食堂", "常州天宁区食堂", "镇江润州区食堂"]
    assert await order("-name") == ["镇江润州区食堂", "常州天宁区食堂", "安庆迎江区食堂"]
    assert (await order("-updated_at"))[0] == "镇江润州区食堂"
    assert await order("created_at") == names
    api.problem(await client.get(CUSTOMERS, params={"sort": "owner"}, headers=org.sales_c.headers), 422, field="sort")


async def test_search_narrowed_by_stage_keeps_only_that_stage(client, org, api) -> None:  # type: ignore[no-untyped-def]
    signed = await api.create_customer(org.sales_c, name="揭阳榕城区签约食堂", lifecycle_stage="signed")
    lead = await api.create_customer(org.sales_c, name="揭阳榕城区意向食堂")

    found = await api.customer_ids(org.sales_c, q="揭阳", lifecycle_stage="signed")
    unnarrowed = await api.customer_ids(org.sales_c, q="揭阳")
    bad = await client.get(CUSTOMERS, params={"q": "揭阳", "lifecycle_stage": "won"}, headers=org.sales_c.headers)

    assert signed["id"] in found and lead["id"] not in found
    assert {signed["id"], lead["id"]} <= set(unnarrowed)
    api.problem(bad, 422, field="lifecycle_stage")


async def test_customer_is_found_by_the_pinyin_initials_of_its_name(org, api, rep_a_customer) -> None:  # type: ignore[no-untyped-def]
    found = await api.customer_ids(org.sales_a, q=SEARCHABLE_INITIALS)

    assert rep_a_customer["id"] in found


async def test_customer_is_found_by_contact_mobile(org, api, rep_a_customer) -> None:  # type: ignore[no-untyped-def]
    assert rep_a_customer["id"] in await api.customer_ids(org.sales_a, q="13900002222")


async def test_other_rep_gets_the_same_404_as_for_a_customer_that_does_not_exist(  # type: ignore[no-untyped-def]
    client, org, api, rep_a_customer
) -> None:
    hidden_id, missing_id = rep_a_customer["id"], str(uuid.uuid4())

    hidden = api.problem(
        await client.get(f"{CUSTOMERS}/{hidden_id}", headers=org.sales_b.headers), 404, code="not_found"
    )
    missing = api.problem(
        await client.get(f"{CUSTOMERS}/{missing_id}", headers=org.sales_b.headers), 404, code="not_found"
    )

    assert hidden.keys() == missing.keys()
    hidden.pop("trace_id", None), missing.pop("trace_id", None)
    assert {**hidden, "detail": hidden["detail"].replace(hidden_id, "?")} == {
        **missing,
        "detail": missing["detail"].replace(missing_id, "?"),
    }


async def test_other_rep_does_not_see_the_customer_in_list_or_search(org, api, rep_a_customer) -> None:  # type: ignore[no-untyped-def]
    listed = await api.customer_ids(org.sales_b)
    searched = await api.customer_ids(org.sales_b, q=SEARCHABLE_INITIALS)

    assert rep_a_customer["id"] not in listed
    assert rep_a_customer["id"] not in searched


async def test_supervisor_of_the_subsidiary_sees_the_customer(client, org, api, rep_a_customer) -> None:  # type: ignore[no-untyped-def]
    response = await client.get(f"{CUSTOMERS}/{rep_a_customer['id']}", headers=org.supervisor.headers)

    assert response.status_code == 200
    assert response.json()["owner_name"] == "张三"
    assert rep_a_customer["id"] in await api.customer_ids(org.supervisor)
    assert rep_a_customer["id"] in await api.customer_ids(org.supervisor, q=SEARCHABLE_INITIALS)


async def test_rep_of_the_other_subsidiary_does_not_see_the_customer(client, org, api, rep_a_customer) -> None:  # type: ignore[no-untyped-def]
    response = await client.get(f"{CUSTOMERS}/{rep_a_customer['id']}", headers=org.sales_c.headers)

    api.problem(response, 404, code="not_found")
    assert rep_a_customer["id"] not in await api.customer_ids(org.sales_c)
    assert rep_a_customer["id"] not in await api.customer_ids(org.sales_c, q=SEARCHABLE_INITIALS)


async def test_duplicate_contact_mobile_is_409_naming_the_existing_customer(client, org, api) -> None:  # type: ignore[no-untyped-def]
    mobile = api.mobile()
    existing = await api.create_customer(
        org.sales_a, name="绍兴柯桥轻纺城大酒店", contacts=[{"name": "周杰", "mobile": mobile}]
    )

    response = await client.post(
        CUSTOMERS,
        json=api.customer_body(name="绍兴柯桥另一家酒店", contacts=[{"name": "周杰", "mobile": mobile}]),
        headers=org.sales_a.headers,
    )

    problem = api.problem(response, 409, code="already_exists", field="mobile")
    assert "绍兴柯桥轻纺城大酒店" in problem["detail"]
    assert "负责人：张三" in problem["detail"]
    assert problem["existing_id"] == existing["id"]
    assert problem["existing_owner"]["name"] == "张三"


async def test_duplicate_mobile_of_a_colleagues_customer_does_not_reveal_its_id(client, org, api) -> None:  # type: ignore[no-untyped-def]
    mobile = api.mobile()
    await api.create_customer(org.sales_a, name="嘉兴南湖粽子厂", contacts=[{"name": "吴芳", "mobile": mobile}])

    response = await client.post(
        CUSTOMERS,
        json=api.customer_body(name="嘉兴另一家厂", contacts=[{"name": "吴芳", "mobile": mobile}]),
        headers=org.sales_b.headers,
    )

    problem = api.problem(response, 409, code="already_exists", field="mobile")
    assert "existing_id" not in problem
    assert "existing_owner" not in problem
    assert "张三" not in problem["detail"]
    assert "嘉兴南湖粽子厂" not in problem["detail"]


async def test_patch_changes_only_the_fields_sent(client, org, api) -> None:  # type: ignore[no-untyped-def]
    before = await api.create_customer(org.sales_a, name="湖州南浔古镇客栈", short_name="南浔客栈", tags=["新客"])

    response = await client.patch(
        f"{CUSTOMERS}/{before['id']}",
        json={"short_name": "古镇客栈", "lifecycle_stage": "prospect"},
        headers=org.sales_a.headers,
    )

    assert response.status_code == 200, response.text
    after = response.json()
    assert (after["short_name"], after["lifecycle_stage"], after["version"]) == ("古镇客栈", "prospect", 2)
    untouched = ["name", "type", "credit_code", "tags", "addresses", "contacts", "owner_id", "org_unit_id"]
    untouched.append("created_at")
    assert {k: after[k] for k in untouched} == {k: before[k] for k in untouched}


async def test_patch_with_a_stale_expected_version_is_409_aborted(client, org, api) -> None:  # type: ignore[no-untyped-def]
    customer = await api.create_customer(org.sales_a, name="金华义乌小商品批发部")
    url = f"{CUSTOMERS}/{customer['id']}"
    first = await client.patch(url, json={"short_name": "义乌批发", "expected_version": 1}, headers=org.sales_a.headers)
    assert first.status_code == 200, first.text

    stale = await client.patch(url, json={"short_name": "覆盖", "expected_version": 1}, headers=org.sales_a.headers)

    api.problem(stale, 409, code="aborted")
    current = (await client.get(url, headers=org.sales_a.headers)).json()
    assert (current["short_name"], current["version"]) == ("义乌批发", 2)


async def test_admin_reassigns_the_owner_and_only_the_new_owner_sees_it(client, org, api) -> None:  # type: ignore[no-untyped-def]
    customer = await api.create_customer(org.sales_a, name="台州路桥海鲜酒楼")
    url = f"{CUSTOMERS}/{customer['id']}"

    response = await client.patch(url, json={"owner_id": org.sales_b.id}, headers=org.admin.headers)

    assert response.status_code == 200, response.text
    assert (response.json()["owner_id"], response.json()["owner_name"]) == (org.sales_b.id, "李四")
    assert (await client.get(url, headers=org.sales_b.headers)).status_code == 200
    assert customer["id"] in await api.customer_ids(org.sales_b)
    api.problem(await client.get(url, headers=org.sales_a.headers), 404, code="not_found")
    assert customer["id"] not in await api.customer_ids(org.sales_a)


async def test_supervisor_cannot_hand_a_customer_outside_their_subsidiary(client, org, api) -> None:  # type: ignore[no-untyped-def]
    customer = await api.create_customer(org.sales_a, name="盐城亭湖区盐场食堂")

    response = await client.patch(
        f"{CUSTOMERS}/{customer['id']}", json={"owner_id": org.sales_c.id}, headers=org.supervisor.headers
    )

    api.problem(response, 403, code="permission_denied")
    assert (await client.get(f"{CUSTOMERS}/{customer['id']}", headers=org.sales_a.headers)).status_code == 200


async def test_sales_rep_cannot_hand_a_customer_to_a_colleague(client, org, api) -> None:  # type: ignore[no-untyped-def]
    customer = await api.create_customer(org.sales_a, name="舟山定海渔业合作社")

    response = await client.patch(
        f"{CUSTOMERS}/{customer['id']}", json={"owner_id": org.sales_b.id}, headers=org.sales_a.headers
    )

    api.problem(response, 403, code="permission_denied")


async def test_delete_archives_the_customer(client, org, api) -> None:  # type: ignore[no-untyped-def]
    customer = await api.create_customer(org.sales_a, name="衢州柯城农贸市场")
    url = f"{CUSTOMERS}/{customer['id']}"

    response = await client.delete(url, headers=org.sales_a.headers)

    assert response.status_code == 200, response.text
    assert response.json()["archived"] is True
    assert (await client.get(url, headers=org.sales_a.headers)).json()["archived"] is True
    assert customer["id"] not in await api.customer_ids(org.sales_a)
    assert customer["id"] in await api.customer_ids(org.sales_a, include_archived="true")
    archived_patch = await client.patch(url, json={"short_name": "x"}, headers=org.sales_a.headers)
    api.problem(archived_patch, 412, code="failed_precondition")


async def test_contacts_can_be_added_listed_changed_and_removed(client, org, api) -> None:  # type: ignore[no-untyped-def]
    customer = await api.create_customer(org.sales_a, name="丽水莲都山货行")
    contacts_url = f"{CUSTOMERS}/{customer['id']}/contacts"
    mobile = api.mobile()

    added = await client.post(
        contacts_url, json={"name": "孙丽", "mobile": mobile, "title": "会计"}, headers=org.sales_a.headers
    )
    assert added.status_code == 201, added.text
    contact = added.json()
    assert (contact["name"], contact["mobile"], contact["customer_id"]) == ("孙丽", mobile, customer["id"])
    listed = (await client.get(contacts_url, headers=org.sales_a.headers)).json()["items"]
    assert {c["name"] for c in listed} == {"张伟", "孙丽"}

    contact_url = f"{contacts_url}/{contact['id']}"
    changed = await client.patch(contact_url, json={"title": "财务经理"}, headers=org.sales_a.headers)
    assert changed.status_code == 200, changed.text
    assert (changed.json()["title"], changed.json()["mobile"], changed.json()["name"]) == ("财务经理", mobile, "孙丽")

    removed = await client.delete(contact_url, headers=org.sales_a.headers)
    assert removed.status_code == 204
    listed = (await client.get(contacts_url, headers=org.sales_a.headers)).json()["items"]
    assert [c["name"] for c in listed] == ["张伟"]
    # The customer is found by the new contact's mobile only while the contact exists.
    assert customer["id"] not in await api.customer_ids(org.sales_a, q=mobile)


async def test_contacts_of_a_customer_outside_the_scope_are_404(client, org, api, rep_a_customer) -> None:  # type: ignore[no-untyped-def]
    response = await client.get(f"{CUSTOMERS}/{rep_a_customer['id']}/contacts", headers=org.sales_c.headers)

    api.problem(response, 404, code="not_found")


async def test_times_are_rendered_in_shanghai_time(client, org, api) -> None:  # type: ignore[no-untyped-def]
    customer = await api.create_customer(org.sales_a, name="嘉善西塘酱园")

    for stamp in (customer["created_at"], customer["updated_at"], customer["contacts"][0]["created_at"]):
        assert stamp.endswith("+08:00"), stamp
        moment = dt.datetime.fromisoformat(stamp)
        assert abs(moment - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)


async def test_customer_types_lists_the_tenant_types(client, org) -> None:  # type: ignore[no-untyped-def]
    response = await client.get("/api/v1/customer-types", headers=org.sales_a.headers)

    assert response.status_code == 200
    assert {"学校食堂", "企业食堂", "中餐"} <= set(response.json()["items"])
