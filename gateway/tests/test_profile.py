"""Customer profile over REST (issue 12): preferences and special requirements with their alerts,
tiers and grades, stage history, groups and relations — bad input named, scope kept."""

from __future__ import annotations

from typing import Any

HALAL_CANTEEN = {
    "preferences": {
        "categories": ["冷冻肉品", "新鲜蔬菜"],
        "specifications": ["牛腩 5kg/箱"],
        "quality_grade": "一级",
        "brands": ["伊赛"],
        "delivery_windows": [
            {"weekday": 1, "start": "06:00", "end": "07:30"},
            {"weekday": 1, "start": "10:00", "end": "11:00"},
            {"weekday": 3, "start": "14:00", "end": "16:00"},
        ],
        "delivery_notes": "后门卸货\n清真车辆专送",
    },
    "special_requirements": [
        {"kind": "halal", "note": "须清真专用车"},
        {"kind": "allergens", "details": ["花生", "虾"]},
    ],
}


async def test_a_halal_customer_shows_its_alerts_on_its_page_in_lists_and_to_service_staff(client, org, api) -> None:  # type: ignore[no-untyped-def]
    created = await api.create_customer(org.sales_a, name="杭州市西湖区回民中学食堂", **HALAL_CANTEEN)
    page = await client.get(f"/api/v1/customers/{created['id']}", headers=org.service.headers)
    listed = await client.get("/api/v1/customers", params={"q": "回民中学"}, headers=org.service.headers)
    by_finance = await client.get(f"/api/v1/customers/{created['id']}", headers=org.finance.headers)

    assert page.status_code == 200, page.text
    shown = page.json()
    assert [(a["kind"], a["label"], a["text"]) for a in shown["alerts"]] == [
        ("halal", "清真", "清真，须清真专用车"),
        ("allergens", "过敏原", "过敏原：花生、虾"),
    ]
    assert shown["special_requirements"][1]["details_label"] == "过敏原"
    assert shown["preferences"]["delivery_notes"] == "后门卸货\n清真车辆专送"
    assert [w["weekday"] for w in shown["preferences"]["delivery_windows"]] == [1, 1, 3]
    # Service staff see masked mobiles but the whole alert.
    assert "****" in shown["contacts"][0]["mobile"]
    row = next(item for item in listed.json()["items"] if item["id"] == created["id"])
    assert [a["label"] for a in row["alerts"]] == ["清真", "过敏原"]
    assert [a["label"] for a in by_finance.json()["alerts"]] == ["清真", "过敏原"]


async def test_only_those_who_may_change_the_customer_change_its_requirements(client, org, api) -> None:  # type: ignore[no-untyped-def]
    created = await api.create_customer(
        org.sales_a, name="杭州市上城区清真餐厅", special_requirements=[{"kind": "halal"}]
    )
    by_service = await client.patch(
        f"/api/v1/customers/{created['id']}", json={"special_requirements": []}, headers=org.service.headers
    )
    by_other_rep = await client.patch(
        f"/api/v1/customers/{created['id']}", json={"special_requirements": []}, headers=org.sales_b.headers
    )
    by_owner = await client.patch(
        f"/api/v1/customers/{created['id']}",
        json={"special_requirements": [{"kind": "halal"}, {"kind": "no_pork"}, {"kind": "cold_chain"}]},
        headers=org.sales_a.headers,
    )

    api.problem(by_service, 403, code="permission_denied")
    api.problem(by_other_rep, 404, code="not_found")
    assert by_owner.status_code == 200, by_owner.text
    assert [a["label"] for a in by_owner.json()["alerts"]] == ["清真", "不含猪肉", "冷链"]


async def test_bad_preferences_and_requirements_are_refused_naming_the_field(client, org, api) -> None:  # type: ignore[no-untyped-def]
    async def create(**fields: Any) -> Any:
        return await client.post(
            "/api/v1/customers", json=api.customer_body(name="宁波市海曙区食堂", **fields), headers=org.sales_a.headers
        )

    windows = [
        {"weekday": 1, "start": "06:00", "end": "08:00"},
        {"weekday": 2, "start": "06:00", "end": "08:00"},
        {"weekday": 2, "start": "09:00", "end": "08:30"},
    ]
    end_first = await create(preferences={"delivery_windows": windows})
    weekday = await create(preferences={"delivery_windows": [{"weekday": 8, "start": "06:00", "end": "07:00"}]})
    time = await create(preferences={"delivery_windows": [{"weekday": 1, "start": "6点", "end": "07:00"}]})
    overlap = await create(
        preferences={
            "delivery_windows": [
                {"weekday": 5, "start": "06:00", "end": "08:00"},
                {"weekday": 5, "start": "07:30", "end": "09:00"},
            ]
        }
    )
    unknown = await create(special_requirements=[{"kind": "halal"}, {"kind": "kosher"}])
    no_allergens = await create(special_requirements=[{"kind": "allergens"}])
    extra = await create(preferences={"colour": "red"})

    api.problem(end_first, 422, field="preferences.delivery_windows[2].end")
    api.problem(weekday, 422, field="preferences.delivery_windows[0].weekday")
    api.problem(time, 422, field="preferences.delivery_windows[0].start")
    api.problem(overlap, 400, field="preferences.delivery_windows[1].start")
    api.problem(unknown, 400, field="special_requirements[1].kind")
    api.problem(no_allergens, 400, field="special_requirements[0].details")
    api.problem(extra, 422, field="preferences.colour")


async def test_an_admin_lists_their_own_requirement_kinds_and_a_rep_cannot(client, org, api) -> None:  # type: ignore[no-untyped-def]
    before = await client.get("/api/v1/special-requirement-kinds", headers=org.sales_a.headers)
    by_rep = await client.put(
        "/api/v1/special-requirement-kinds",
        json={"items": [{"key": "kosher", "label": "犹太洁食"}]},
        headers=org.sales_a.headers,
    )
    bad_key = await client.put(
        "/api/v1/special-requirement-kinds",
        json={"items": [{"key": "Kosher", "label": "犹太洁食"}]},
        headers=org.admin.headers,
    )

    assert [k["key"] for k in before.json()["items"]] == ["halal", "organic", "allergens", "no_pork", "cold_chain"]
    api.problem(by_rep, 403, code="permission_denied")
    api.problem(bad_key, 422, field="items[0].key")


async def test_a_manual_tier_needs_a_reason_is_kept_in_the_history_and_named_by_the_tenant(client, org, api) -> None:  # type: ignore[no-untyped-def]
    created = await api.create_customer(org.sales_a, name="杭州市滨江区星光酒店")
    url = f"/api/v1/customers/{created['id']}"
    no_reason = await client.put(f"{url}/tier", json={"value": "vip"}, headers=org.supervisor.headers)
    patched = await client.patch(url, json={"tier": "vip"}, headers=org.sales_a.headers)
    bad_grade = await client.put(f"{url}/grade", json={"value": "D", "reason": "试试"}, headers=org.supervisor.headers)
    by_other_rep = await client.put(f"{url}/tier", json={"value": "vip", "reason": "大单"}, headers=org.sales_b.headers)
    renamed = await client.put("/api/v1/tier-labels", json={"tier": {"vip": "战略客户"}}, headers=org.boss.headers)
    tiered = await client.put(
        f"{url}/tier", json={"value": "vip", "reason": "年采购额超百万"}, headers=org.supervisor.headers
    )
    graded = await client.put(f"{url}/grade", json={"value": "A", "reason": "回款及时"}, headers=org.supervisor.headers)
    history = await client.get(f"{url}/tier-changes", headers=org.sales_a.headers)
    cleared = await client.put(f"{url}/tier", json={"value": None, "reason": "恢复"}, headers=org.supervisor.headers)
    await client.put("/api/v1/tier-labels", json={"tier": {"vip": ""}}, headers=org.boss.headers)

    api.problem(no_reason, 422, field="reason")
    api.problem(patched, 400, field="reason")
    api.problem(bad_grade, 400, field="value")
    api.problem(by_other_rep, 404, code="not_found")
    assert renamed.json()["tier"] == {"vip": "战略客户", "key": "重点", "normal": "一般"}
    shown = tiered.json()
    assert (shown["tier"], shown["tier_label"], shown["tier_source"]) == ("vip", "战略客户", "manual")
    assert (graded.json()["grade"], graded.json()["grade_label"], graded.json()["grade_source"]) == ("A", "A", "manual")
    assert [(i["dimension"], i["to_value"], i["reason"], i["actor_name"]) for i in history.json()["items"]] == [
        ("grade", "A", "回款及时", "李主管"),
        ("tier", "vip", "年采购额超百万", "李主管"),
    ]
    assert (cleared.json()["tier"], cleared.json()["tier_source"]) == ("normal", None)


async def test_the_stage_history_shows_each_conversion_with_who_made_it(client, org, api) -> None:  # type: ignore[no-untyped-def]
    created = await api.create_customer(org.sales_a, name="杭州市拱墅区企业食堂")
    url = f"/api/v1/customers/{created['id']}"
    await client.patch(url, json={"lifecycle_stage": "prospect"}, headers=org.sales_a.headers)
    await client.patch(url, json={"lifecycle_stage": "signed"}, headers=org.supervisor.headers)
    history = await client.get(f"{url}/stage-changes", headers=org.sales_a.headers)
    hidden = await client.get(f"{url}/stage-changes", headers=org.sales_b.headers)

    assert [(i["from_stage"], i["to_stage"], i["actor_name"]) for i in history.json()["items"]] == [
        ("prospect", "signed", "李主管"),
        ("lead", "prospect", "张三"),
        (None, "lead", "张三"),
    ]
    api.problem(hidden, 404, code="not_found")


async def test_a_group_rolls_up_the_branches_each_caller_may_see(client, org, api) -> None:  # type: ignore[no-untyped-def]
    group = await api.create_customer(org.sales_a, name="浙江鲜味餐饮集团有限公司")
    mine = await api.create_customer(org.sales_a, name="鲜味西湖店", lifecycle_stage="signed")
    theirs = await api.create_customer(org.sales_b, name="鲜味滨江店", lifecycle_stage="prospect")
    joined = await client.put(
        f"/api/v1/customers/{mine['id']}/parent", json={"parent_customer_id": group["id"]}, headers=org.sales_a.headers
    )
    unseen = await client.put(
        f"/api/v1/customers/{theirs['id']}/parent",
        json={"parent_customer_id": group["id"]},
        headers=org.sales_b.headers,
    )
    await client.put(
        f"/api/v1/customers/{theirs['id']}/parent",
        json={"parent_customer_id": group["id"]},
        headers=org.supervisor.headers,
    )
    cycle = await client.put(
        f"/api/v1/customers/{group['id']}/parent", json={"parent_customer_id": mine["id"]}, headers=org.sales_a.headers
    )
    by_supervisor = await client.get(f"/api/v1/customers/{group['id']}/group", headers=org.supervisor.headers)
    by_rep = await client.get(f"/api/v1/customers/{group['id']}/group", headers=org.sales_a.headers)
    other_rep = await client.get(f"/api/v1/customers/{group['id']}/group", headers=org.sales_c.headers)

    assert joined.status_code == 200 and joined.json()["parent_customer_id"] == group["id"]
    api.problem(unseen, 400, field="parent_customer_id")
    api.problem(cycle, 400, field="parent_customer_id")
    whole = by_supervisor.json()
    assert (whole["branch_count"], whole["stages"]) == (2, {"prospect": 1, "signed": 1})
    assert whole["contact_count"] == 3 and {b["owner_name"] for b in whole["branches"]} == {"张三", "李四"}
    seen = by_rep.json()
    assert (seen["branch_count"], [b["name"] for b in seen["branches"]], seen["stages"]) == (
        1,
        ["鲜味西湖店"],
        {"signed": 1},
    )
    assert "鲜味滨江店" not in by_rep.text
    api.problem(other_rep, 404, code="not_found")


async def test_relations_read_from_both_ends_and_need_both_customers_visible(client, org, api) -> None:  # type: ignore[no-untyped-def]
    farm = await api.create_customer(org.sales_a, name="安吉县生态养殖场")
    dealer = await api.create_customer(org.sales_a, name="湖州市冻品商行")
    stranger = await api.create_customer(org.sales_c, name="广州市天河区食堂")

    added = await client.post(
        f"/api/v1/customers/{dealer['id']}/relations",
        json={"related_customer_id": farm["id"], "kind": "upstream_supplier", "note": "猪肉货源"},
        headers=org.sales_a.headers,
    )
    twice = await client.post(
        f"/api/v1/customers/{farm['id']}/relations",
        json={"related_customer_id": dealer["id"], "kind": "downstream_customer"},
        headers=org.sales_a.headers,
    )
    unseen = await client.post(
        f"/api/v1/customers/{dealer['id']}/relations",
        json={"related_customer_id": stranger["id"], "kind": "same_group"},
        headers=org.sales_a.headers,
    )
    bad_kind = await client.post(
        f"/api/v1/customers/{dealer['id']}/relations",
        json={"related_customer_id": farm["id"], "kind": "cousin"},
        headers=org.sales_a.headers,
    )
    from_farm = await client.get(f"/api/v1/customers/{farm['id']}/relations", headers=org.sales_a.headers)
    by_other_rep = await client.get(f"/api/v1/customers/{farm['id']}/relations", headers=org.sales_b.headers)

    assert added.status_code == 201, added.text
    assert (added.json()["kind"], added.json()["kind_label"]) == ("upstream_supplier", "上游供应商")
    api.problem(twice, 409, code="already_exists")
    api.problem(unseen, 400, field="related_customer_id")
    api.problem(bad_kind, 422, field="kind")
    assert [(r["related_customer_name"], r["kind_label"], r["note"]) for r in from_farm.json()["items"]] == [
        ("湖州市冻品商行", "下游客户", "猪肉货源")
    ]
    api.problem(by_other_rep, 404, code="not_found")
    removed = await client.delete(
        f"/api/v1/customers/{farm['id']}/relations/{added.json()['id']}", headers=org.sales_a.headers
    )
    assert removed.status_code == 204
    assert (await client.get(f"/api/v1/customers/{dealer['id']}/relations", headers=org.sales_a.headers)).json() == {
        "items": []
    }
