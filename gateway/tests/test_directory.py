"""Org units and users: only admins change them, and everyone lists only the people in their scope."""

from __future__ import annotations

import uuid

import pytest


def _new_user(org_unit_id: str, username: str = "new.rep") -> dict[str, str]:
    return {
        "username": username,
        "display_name": "新销售",
        "password": "long-enough-pw",
        "role": "sales",
        "org_unit_id": org_unit_id,
    }


@pytest.mark.parametrize("role", ["boss", "supervisor", "sales", "service", "finance"])
async def test_only_admin_may_create_users_and_org_units(client, org, api, role: str) -> None:  # type: ignore[no-untyped-def]
    person = org.by_role(role)

    user = await client.post("/api/v1/users", json=_new_user(org.shop1, f"by.{role}"), headers=person.headers)
    unit = await client.post(
        "/api/v1/org-units", json={"name": "新门店", "parent_id": org.sub1}, headers=person.headers
    )

    api.problem(user, 403, code="permission_denied")
    api.problem(unit, 403, code="permission_denied")


async def test_org_units_nest_hq_subsidiary_shop(client, org) -> None:  # type: ignore[no-untyped-def]
    response = await client.get("/api/v1/org-units", headers=org.admin.headers)

    assert response.status_code == 200, response.text
    units = {u["id"]: u for u in response.json()["items"]}
    assert units[org.hq]["kind"] == "hq" and units[org.hq]["parent_id"] is None
    assert (units[org.sub1]["kind"], units[org.sub1]["parent_id"]) == ("subsidiary", org.hq)
    assert (units[org.shop1]["kind"], units[org.shop1]["parent_id"]) == ("shop", org.sub1)
    assert units[org.shop1]["path"] == f"/{org.hq}/{org.sub1}/{org.shop1}/"


async def test_duplicate_username_is_409_naming_the_username_field(client, org, api) -> None:  # type: ignore[no-untyped-def]
    response = await client.post("/api/v1/users", json=_new_user(org.shop2, "sales.a"), headers=org.admin.headers)

    api.problem(response, 409, code="already_exists", field="username")


async def test_a_shop_cannot_get_sub_units(client, org, api) -> None:  # type: ignore[no-untyped-def]
    response = await client.post(
        "/api/v1/org-units", json={"name": "柜台", "parent_id": org.shop1}, headers=org.admin.headers
    )

    api.problem(response, 400, code="invalid_argument", field="parent_id")


async def test_unknown_parent_unit_is_400_naming_parent_id(client, org, api) -> None:  # type: ignore[no-untyped-def]
    response = await client.post(
        "/api/v1/org-units",
        json={"name": "幽灵分公司", "parent_id": "00000000-0000-0000-0000-000000000000"},
        headers=org.admin.headers,
    )

    api.problem(response, 400, field="parent_id")


async def test_admin_creates_a_user_who_can_log_in(client, org, api) -> None:  # type: ignore[no-untyped-def]
    response = await client.post("/api/v1/users", json=_new_user(org.shop2, "fresh.rep"), headers=org.admin.headers)

    assert response.status_code == 201, response.text
    created = response.json()
    assert created["org_unit_name"] == "广州门店" and created["role"] == "sales" and created["active"] is True
    assert "password" not in created and "password_hash" not in created
    headers = await api.login("fresh.rep", "long-enough-pw")
    me = (await client.get("/api/v1/auth/me", headers=headers)).json()
    assert me["id"] == created["id"]


async def test_supervisor_lists_only_users_in_their_subtree(client, org) -> None:  # type: ignore[no-untyped-def]
    response = await client.get("/api/v1/users", headers=org.supervisor.headers)

    assert response.status_code == 200, response.text
    usernames = {u["username"] for u in response.json()["items"]}
    assert usernames == {"supervisor1", "sales.a", "sales.b", "service1", "finance1"}


async def test_sales_rep_lists_only_themself(client, org) -> None:  # type: ignore[no-untyped-def]
    response = await client.get("/api/v1/users", headers=org.sales_a.headers)

    assert response.status_code == 200, response.text
    assert [u["id"] for u in response.json()["items"]] == [org.sales_a.id]


async def test_user_outside_the_callers_scope_is_404(client, org, api) -> None:  # type: ignore[no-untyped-def]
    foreign = await client.get(f"/api/v1/users/{org.sales_c.id}", headers=org.supervisor.headers)
    own_team = await client.get(f"/api/v1/users/{org.sales_a.id}", headers=org.supervisor.headers)

    api.problem(foreign, 404, code="not_found")
    assert own_team.status_code == 200 and own_team.json()["username"] == "sales.a"


async def test_admin_lists_every_user_of_the_tenant(client, org) -> None:  # type: ignore[no-untyped-def]
    response = await client.get("/api/v1/users", headers=org.admin.headers)

    usernames = {u["username"] for u in response.json()["items"]}
    assert {"admin", "boss", "supervisor1", "sales.a", "sales.b", "service1", "finance1", "sales.c"} <= usernames


async def test_admin_changes_a_users_role_and_name_and_the_next_token_carries_the_role(  # type: ignore[no-untyped-def]
    client, org, api
) -> None:
    hired = await api.hire(org.admin.headers, "role.change", "sales")
    first = await api.login("role.change", api.user_password)

    changed = await client.patch(
        f"/api/v1/users/{hired['id']}", json={"role": "supervisor", "display_name": "王主管"}, headers=org.admin.headers
    )
    again = await api.login("role.change", api.user_password)

    assert changed.status_code == 200, changed.text
    assert (changed.json()["role"], changed.json()["display_name"]) == ("supervisor", "王主管")
    # The old token still acts as a sales rep (sees only themself); the next one as a supervisor.
    assert len((await client.get("/api/v1/users", headers=first)).json()["items"]) == 1
    assert len((await client.get("/api/v1/users", headers=again)).json()["items"]) > 1


async def test_changing_users_is_for_admins_and_never_ones_own_role(client, org, api) -> None:  # type: ignore[no-untyped-def]
    by_boss = await client.patch(f"/api/v1/users/{org.sales_a.id}", json={"role": "boss"}, headers=org.boss.headers)
    own = await client.patch(f"/api/v1/users/{org.admin.id}", json={"role": "sales"}, headers=org.admin.headers)
    empty = await client.patch(f"/api/v1/users/{org.sales_a.id}", json={}, headers=org.admin.headers)
    null = await client.patch(f"/api/v1/users/{org.sales_a.id}", json={"role": None}, headers=org.admin.headers)
    unknown = await client.patch(f"/api/v1/users/{org.sales_a.id}", json={"role": "owner"}, headers=org.admin.headers)

    api.problem(by_boss, 403, code="permission_denied")
    api.problem(own, 400, field="role")
    api.problem(empty, 400, field="body")
    api.problem(null, 400, field="role")
    api.problem(unknown, 422, field="role")


async def test_renaming_an_org_unit_shows_in_the_tree_and_an_unknown_one_is_404(  # type: ignore[no-untyped-def]
    client, org, api
) -> None:
    unit = await client.post(
        "/api/v1/org-units", json={"name": "佛山门店", "parent_id": org.sub1}, headers=org.admin.headers
    )
    renamed = await client.patch(
        f"/api/v1/org-units/{unit.json()['id']}", json={"name": "佛山禅城门店"}, headers=org.admin.headers
    )
    unknown = await client.patch(
        f"/api/v1/org-units/{uuid.uuid4()}", json={"name": "别人的总部"}, headers=org.admin.headers
    )
    by_supervisor = await client.patch(
        f"/api/v1/org-units/{unit.json()['id']}", json={"name": "改名"}, headers=org.supervisor.headers
    )
    tree = (await client.get("/api/v1/org-units", headers=org.admin.headers)).json()["items"]

    assert renamed.status_code == 200, renamed.text
    assert {u["name"] for u in tree if u["id"] == unit.json()["id"]} == {"佛山禅城门店"}
    api.problem(unknown, 404, code="not_found")
    api.problem(by_supervisor, 403, code="permission_denied")
