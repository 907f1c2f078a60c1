"""Ownership over REST: the history a transfer writes, and caps on customers held."""

from __future__ import annotations

import uuid


async def test_a_transfer_with_a_reason_shows_in_the_customers_history(client, org, api) -> None:  # type: ignore[no-untyped-def]
    customer = await api.create_customer(org.sales_a, name="嘉兴南湖区食堂")

    moved = await client.patch(
        f"/api/v1/customers/{customer['id']}",
        json={"owner_id": org.sales_b.id, "reason": "张三调往新店"},
        headers=org.supervisor.headers,
    )
    history = await client.get(f"/api/v1/customers/{customer['id']}/owner-changes", headers=org.supervisor.headers)
    by_old_owner = await client.get(f"/api/v1/customers/{customer['id']}/owner-changes", headers=org.sales_a.headers)

    assert moved.status_code == 200, moved.text
    items = history.json()["items"]
    assert [(i["kind"], i["from_owner_name"], i["to_owner_name"], i["reason"]) for i in items] == [
        ("transferred", "张三", "李四", "张三调往新店"),
        ("created", "", "张三", ""),
    ]
    assert items[0]["actor_name"] == "李主管" and items[1]["from_owner_id"] is None
    api.problem(by_old_owner, 404, code="not_found")


async def test_past_the_cap_a_rep_is_refused_with_customer_cap_reached_naming_it(client, org, api) -> None:  # type: ignore[no-untyped-def]
    rep = await api.hire(org.admin.headers, f"cap.rep.{uuid.uuid4().hex[:6]}", "sales")
    headers = await api.login(rep["username"], api.user_password)
    capped = await client.put(
        "/api/v1/customer-caps", json={"users": [{"user_id": rep["id"], "cap": 1}]}, headers=org.boss.headers
    )
    first = await client.post("/api/v1/customers", json=api.customer_body(name="嘉兴秀洲区食堂"), headers=headers)
    second = await client.post("/api/v1/customers", json=api.customer_body(name="嘉兴平湖市食堂"), headers=headers)
    listed = await client.get("/api/v1/customer-caps", headers=org.admin.headers)
    lifted = await client.put(
        "/api/v1/customer-caps", json={"users": [{"user_id": rep["id"], "cap": None}]}, headers=org.boss.headers
    )

    assert capped.status_code == 200, capped.text
    assert first.status_code == 201, first.text
    problem = api.problem(second, 412, code="customer_cap_reached")
    assert problem["cap"] == 1 and "1" in problem["detail"]
    mine = next(u for u in listed.json()["users"] if u["user_id"] == rep["id"])
    assert (mine["cap"], mine["held"], mine["user_name"]) == (1, 1, rep["username"])
    assert next(u for u in lifted.json()["users"] if u["user_id"] == rep["id"])["cap"] is None


async def test_caps_are_set_by_admins_and_bosses_only_and_bad_ones_name_the_field(client, org, api) -> None:  # type: ignore[no-untyped-def]
    by_supervisor = await client.put("/api/v1/customer-caps", json={"default_cap": 50}, headers=org.supervisor.headers)
    zero = await client.put("/api/v1/customer-caps", json={"default_cap": 0}, headers=org.boss.headers)
    stranger = await client.put(
        "/api/v1/customer-caps", json={"users": [{"user_id": str(uuid.uuid4()), "cap": 5}]}, headers=org.boss.headers
    )

    api.problem(by_supervisor, 403, code="permission_denied")
    api.problem(zero, 422, field="default_cap")
    api.problem(stranger, 400, field="users[0].user_id")


async def test_a_collaborator_finds_the_shared_customer_until_the_owner_removes_them(client, org, api) -> None:  # type: ignore[no-untyped-def]
    customer = await api.create_customer(org.sales_a, name="嘉兴海盐县协作食堂")
    url = f"/api/v1/customers/{customer['id']}"
    before = await client.get(url, headers=org.sales_b.headers)

    shared = await client.put(
        f"{url}/collaborators/{org.sales_b.id}",
        json={"access": "read", "expires_at": "2099-01-01T00:00:00+08:00"},
        headers=org.sales_a.headers,
    )
    seen = await client.get(url, headers=org.sales_b.headers)
    found = await client.get("/api/v1/customers", params={"q": "海盐"}, headers=org.sales_b.headers)
    edit = await client.patch(url, json={"short_name": "海盐食堂"}, headers=org.sales_b.headers)
    removed = await client.delete(f"{url}/collaborators/{org.sales_b.id}", headers=org.sales_a.headers)
    after = await client.get(url, headers=org.sales_b.headers)
    listed = await client.get(f"{url}/collaborators", headers=org.supervisor.headers)

    api.problem(before, 404, code="not_found")
    assert shared.status_code == 200, shared.text
    (item,) = shared.json()["items"]
    assert (item["user_name"], item["access"], item["added_by_name"]) == ("李四", "read", "张三")
    assert item["expires_at"].startswith("2099-01-01T00:00:00+08:00")
    assert seen.status_code == 200 and seen.json()["owner_id"] == org.sales_a.id
    assert seen.json()["my_collaboration"] == "read"
    assert [c["name"] for c in found.json()["items"]] == ["嘉兴海盐县协作食堂"]
    api.problem(edit, 403, code="permission_denied")
    assert removed.status_code == 204
    api.problem(after, 404, code="not_found")
    assert listed.json()["items"] == []


async def test_bad_collaborators_are_refused_naming_the_field(client, org, api) -> None:  # type: ignore[no-untyped-def]
    customer = await api.create_customer(org.sales_a, name="嘉兴桐乡市协作酒店")
    url = f"/api/v1/customers/{customer['id']}/collaborators"

    unknown = await client.put(f"{url}/{uuid.uuid4()}", json={"access": "read"}, headers=org.sales_a.headers)
    finance = await client.put(f"{url}/{org.finance.id}", json={"access": "read"}, headers=org.sales_a.headers)
    owner = await client.put(f"{url}/{org.sales_a.id}", json={"access": "read"}, headers=org.sales_a.headers)
    access = await client.put(f"{url}/{org.sales_b.id}", json={"access": "admin"}, headers=org.sales_a.headers)
    past = await client.put(
        f"{url}/{org.sales_b.id}",
        json={"access": "read", "expires_at": "2020-01-01T00:00:00+08:00"},
        headers=org.sales_a.headers,
    )
    naive = await client.put(
        f"{url}/{org.sales_b.id}",
        json={"access": "read", "expires_at": "2099-01-01T00:00:00"},
        headers=org.sales_a.headers,
    )
    by_other_rep = await client.put(f"{url}/{org.service.id}", json={"access": "read"}, headers=org.sales_b.headers)

    api.problem(unknown, 400, field="user_id")
    api.problem(finance, 400, field="user_id")
    api.problem(owner, 400, field="user_id")
    api.problem(access, 422, field="access")
    api.problem(past, 400, field="expires_at")
    api.problem(naive, 400, field="expires_at")
    api.problem(by_other_rep, 404, code="not_found")


async def test_a_rep_finds_colleagues_to_ask_in_but_not_finance_or_the_inactive(client, org, api) -> None:  # type: ignore[no-untyped-def]
    listed = await client.get("/api/v1/colleagues", headers=org.sales_a.headers)

    assert listed.status_code == 200, listed.text
    roles = {u["id"]: u["role"] for u in listed.json()["items"]}
    assert {org.sales_b.id, org.supervisor.id, org.service.id} <= set(roles)
    assert org.finance.id not in roles and org.admin.id not in roles
    assert set(roles.values()) <= {"sales", "supervisor", "service"}
