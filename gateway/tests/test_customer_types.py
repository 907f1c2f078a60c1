"""The tenant's list of customer types: the boss sets it, everyone uses it."""

from __future__ import annotations

TYPES = "/api/v1/customer-types"


async def test_boss_replaces_the_customer_types_and_reps_see_the_new_list(client, org, api) -> None:  # type: ignore[no-untyped-def]
    response = await client.put(TYPES, json={"items": ["冷链物流", "社区团购"]}, headers=org.boss.headers)

    assert response.status_code == 200, response.text
    listed = await client.get(TYPES, headers=org.sales_a.headers)
    assert listed.json()["items"] == ["冷链物流", "社区团购"]
    created = await client.post(
        "/api/v1/customers",
        json=api.customer_body(name="上海冷链物流中心", type="冷链物流"),
        headers=org.sales_a.headers,
    )
    assert created.status_code == 201, created.text


async def test_sales_cannot_change_customer_types(client, org, api) -> None:  # type: ignore[no-untyped-def]
    response = await client.put(TYPES, json={"items": ["中餐"]}, headers=org.sales_a.headers)

    api.problem(response, 403, code="permission_denied")


async def test_repeated_customer_type_is_400_naming_the_item(client, org, api) -> None:  # type: ignore[no-untyped-def]
    response = await client.put(TYPES, json={"items": ["中餐", "中餐"]}, headers=org.admin.headers)

    api.problem(response, 400, field="items[1]")


async def test_empty_customer_type_list_is_422(client, org, api) -> None:  # type: ignore[no-untyped-def]
    response = await client.put(TYPES, json={"items": []}, headers=org.admin.headers)

    api.problem(response, 422, field="items")


async def test_product_lines_are_the_tenants_and_customers_name_them_with_a_source(client, org, api) -> None:  # type: ignore[no-untyped-def]
    by_rep = await client.put("/api/v1/product-lines", json={"product_lines": ["猪料"]}, headers=org.sales_a.headers)
    saved = await client.put(
        "/api/v1/product-lines", json={"product_lines": ["猪料", "禽料", "水产料"]}, headers=org.boss.headers
    )
    created = await client.post(
        "/api/v1/customers",
        json=api.customer_body(name="周口川汇区养殖场", type="", product_lines=["禽料"], source="referral"),
        headers=org.sales_a.headers,
    )
    unknown = await client.post(
        "/api/v1/customers",
        json=api.customer_body(name="周口项城市养殖场", type="", product_lines=["禽料", "牛料"]),
        headers=org.sales_a.headers,
    )
    bad_source = await client.post(
        "/api/v1/customers", json=api.customer_body(name="周口沈丘县养殖场", source="广告"), headers=org.sales_a.headers
    )
    listed = await client.get("/api/v1/product-lines", headers=org.sales_a.headers)

    api.problem(by_rep, 403, code="permission_denied")
    assert saved.status_code == 200 and listed.json()["product_lines"] == ["猪料", "禽料", "水产料"]
    assert created.status_code == 201, created.text
    assert (created.json()["product_lines"], created.json()["source"]) == (["禽料"], "referral")
    api.problem(unknown, 400, field="product_lines[1]")
    api.problem(bad_source, 422, field="source")
