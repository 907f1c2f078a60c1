"""Partner systems: an admin registers one and gets its key once; the key acts in the client's role
and org unit; each partner has its own rate limit; a revoked key stops working."""

from __future__ import annotations

import base64
from typing import Any

import grpc
import pytest

from crm.customer.v1 import customer_pb2, customer_pb2_grpc

CLIENTS = "/api/v1/api-clients"
# Partners: 4 at once, then one a second, drawn one at a time so the count is exact.
GATEWAY_SETTINGS = {"rate_limits": {"partners": {"burst": 4, "per_minute": 60}}, "rate_limit_lease": 1}


async def _register(api, admin, **body: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = await api.client.post(CLIENTS, json={"name": "用友ERP对接", "role": "admin", **body}, headers=admin)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_a_partner_key_is_shown_once_and_acts_in_the_clients_role_and_org_unit(api, org) -> None:  # type: ignore[no-untyped-def]
    ours = await api.create_customer(org.sales_a, name="杭州滨江区软件园食堂")
    theirs = await api.create_customer(org.sales_c, name="广州天河区体育中心食堂")
    client = await _register(api, org.admin.headers, name="华东仓储系统", role="supervisor", org_unit_id=org.sub1)
    partner = _bearer(client["key"])

    listed = (await api.client.get(CLIENTS, headers=org.admin.headers)).json()["items"]
    seen = await api.client.get("/api/v1/customers", params={"page_size": 200}, headers=partner)
    created = await api.client.post(
        "/api/v1/customers",
        json=api.customer_body(name="杭州拱墅区物流园食堂", owner_id=org.sales_a.id),
        headers=partner,
    )
    ownerless = await api.client.post("/api/v1/customers", json=api.customer_body(name="无主客户"), headers=partner)

    assert client["key"].startswith("ky_") and client["key_hint"] == client["key"][:9]
    assert [c["id"] for c in listed if c["id"] == client["id"]] and all("key" not in c for c in listed)
    ids = {c["id"] for c in seen.json()["items"]}
    assert ours["id"] in ids and theirs["id"] not in ids
    assert created.status_code == 201, created.text
    assert created.json()["owner_id"] == org.sales_a.id
    # No owner: the tenant's assignment rules decide; this tenant has neither rules nor a pool,
    # and a partner owns nothing, so it must name the owner.
    api.problem(ownerless, 412, code="no_assignee")


async def test_a_revoked_key_is_refused_like_any_unknown_key(api, org) -> None:  # type: ignore[no-untyped-def]
    client = await _register(api, org.admin.headers, name="旧版对账系统", role="finance")
    before = await api.client.get("/api/v1/customers", headers=_bearer(client["key"]))

    revoked = await api.client.delete(f"{CLIENTS}/{client['id']}", headers=org.admin.headers)
    after = await api.client.get("/api/v1/customers", headers=_bearer(client["key"]))
    made_up = await api.client.get("/api/v1/customers", headers=_bearer("ky_" + "x" * 43))
    listed = (await api.client.get(CLIENTS, headers=org.admin.headers)).json()["items"]

    assert before.status_code == 200
    assert revoked.status_code == 204
    assert api.problem(after, 401)["detail"] == api.problem(made_up, 401)["detail"]
    assert next(c for c in listed if c["id"] == client["id"])["active"] is False


async def test_each_partner_has_its_own_rate_limit_apart_from_users_and_other_partners(api, org) -> None:  # type: ignore[no-untyped-def]
    busy = await _register(api, org.admin.headers, name="高频同步任务", role="boss")
    roomy = await _register(
        api, org.admin.headers, name="报表系统", role="boss", rate_limit={"burst": 50, "per_minute": 600}
    )
    quiet = await _register(api, org.admin.headers, name="月结系统", role="boss")

    async def statuses(headers: dict[str, str], count: int) -> list[int]:
        return [(await api.client.get("/api/v1/org-units", headers=headers)).status_code for _ in range(count)]

    flooded = await statuses(_bearer(busy["key"]), 5)
    refused = await api.client.get("/api/v1/org-units", headers=_bearer(busy["key"]))
    own_limit = await statuses(_bearer(roomy["key"]), 10)
    other_partner = await statuses(_bearer(quiet["key"]), 2)
    user = await statuses(org.admin.headers, 6)

    assert flooded[:4] == [200] * 4 and flooded[4] == 429
    api.problem(refused, 429, code="rate_limited")
    assert int(refused.headers["retry-after"]) >= 1
    assert own_limit == [200] * 10
    assert other_partner == [200, 200]
    assert user == [200] * 6


async def test_registering_partners_is_for_admins_and_bad_input_names_the_field(api, org) -> None:  # type: ignore[no-untyped-def]
    admin = org.admin.headers
    by_boss = await api.client.post(CLIENTS, json={"name": "x", "role": "admin"}, headers=org.boss.headers)
    as_sales = await api.client.post(CLIENTS, json={"name": "销售助手", "role": "sales"}, headers=admin)
    unknown_role = await api.client.post(CLIENTS, json={"name": "x", "role": "root"}, headers=admin)
    no_unit = await api.client.post(CLIENTS, json={"name": "x", "role": "admin", "org_unit_id": "nope"}, headers=admin)
    zero_burst = await api.client.post(
        CLIENTS, json={"name": "x", "role": "admin", "rate_limit": {"burst": 0, "per_minute": 1}}, headers=admin
    )
    empty_name = await api.client.post(CLIENTS, json={"name": " ", "role": "admin"}, headers=admin)
    missing = await api.client.delete(f"{CLIENTS}/00000000-0000-0000-0000-000000000000", headers=admin)
    listed_by_rep = await api.client.get(CLIENTS, headers=org.sales_a.headers)

    api.problem(by_boss, 403)
    api.problem(as_sales, 400, field="role")
    api.problem(unknown_role, 422)
    api.problem(no_unit, 400, field="org_unit_id")
    api.problem(zero_burst, 422)
    api.problem(empty_name, 422)
    api.problem(missing, 404)
    api.problem(listed_by_rep, 403)


# --------------------------------------------------------------------------- partners on gRPC

TOKEN = "/api/v1/oauth/token"


async def _token(api, client_id: str, secret: str, **form: str):  # type: ignore[no-untyped-def]
    return await api.client.post(
        TOKEN, data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret, **form}
    )


async def _grpc_customers(stack, token: str, call: str, request: Any) -> Any:  # type: ignore[no-untyped-def]
    async with grpc.aio.insecure_channel(stack.settings.upstreams["customer"]) as channel:
        stub = customer_pb2_grpc.CustomerServiceStub(channel)
        return await getattr(stub, call)(request, metadata=(("authorization", f"Bearer {token}"),))


async def test_a_partner_trades_its_key_for_a_token_and_calls_the_customer_service_within_its_scopes(
    api,
    org,
    stack,  # type: ignore[no-untyped-def]
) -> None:
    ours = await api.create_customer(org.sales_a, name="杭州下沙大学城食堂")
    theirs = await api.create_customer(org.sales_c, name="深圳南山科技园食堂")
    client = await _register(
        api, org.admin.headers, name="金蝶ERP对接", role="supervisor", org_unit_id=org.sub1, scopes=["customers:read"]
    )

    issued = await _token(api, client["id"], client["key"])
    assert issued.status_code == 200, issued.text
    token = issued.json()
    listed = await _grpc_customers(
        stack, token["access_token"], "ListCustomers", customer_pb2.ListCustomersRequest(page_size=200)
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await _grpc_customers(
            stack, token["access_token"], "CreateCustomer", customer_pb2.CreateCustomerRequest(request_id="p-1")
        )
    clients = (await api.client.get(CLIENTS, headers=org.admin.headers)).json()["items"]

    assert token["token_type"] == "Bearer" and token["scope"] == "customers:read" and token["expires_in"] == 900
    ids = {customer.id for customer in listed.customers}
    assert ours["id"] in ids and theirs["id"] not in ids  # the client's org unit's data scope
    assert refused.value.code() is grpc.StatusCode.PERMISSION_DENIED
    assert "customers:write" in (refused.value.details() or "")
    assert next(c for c in clients if c["id"] == client["id"])["last_used_at"] is not None


async def test_a_token_request_is_refused_the_oauth_way(api, org) -> None:  # type: ignore[no-untyped-def]
    client = await _register(api, org.admin.headers, name="物流调度系统", role="admin", scopes=["customers:read"])
    unscoped = await _register(api, org.admin.headers, name="旧系统", role="admin")
    basic = base64.b64encode(f"{client['id']}:{client['key']}".encode()).decode()

    by_basic = await api.client.post(
        TOKEN, data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}
    )
    wrong_secret = await _token(api, client["id"], "ky_" + "x" * 43)
    unknown_client = await _token(api, "00000000-0000-0000-0000-000000000000", client["key"])
    beyond_grant = await _token(api, client["id"], client["key"], scope="customers:read customers:write")
    unknown_scope = await _token(api, client["id"], client["key"], scope="everything")
    nothing_granted = await _token(api, unscoped["id"], unscoped["key"])
    password_grant = await api.client.post(TOKEN, data={"grant_type": "password", "username": "a", "password": "b"})
    no_secret = await api.client.post(TOKEN, data={"grant_type": "client_credentials", "client_id": client["id"]})

    assert by_basic.status_code == 200 and by_basic.json()["scope"] == "customers:read"
    assert wrong_secret.status_code == unknown_client.status_code == 401
    assert wrong_secret.json() == unknown_client.json()
    assert wrong_secret.json()["error"] == "invalid_client"
    assert [r.json()["error"] for r in (beyond_grant, unknown_scope, nothing_granted)] == ["invalid_scope"] * 3
    assert beyond_grant.status_code == 400
    assert (password_grant.status_code, password_grant.json()["error"]) == (400, "unsupported_grant_type")
    assert (no_secret.status_code, no_secret.json()["error"]) == (400, "invalid_request")


async def test_rotating_a_key_stops_the_old_one_and_scopes_are_an_admins_to_grant(api, org) -> None:  # type: ignore[no-untyped-def]
    client = await _register(api, org.admin.headers, name="财务对账系统", role="finance")
    granted = await api.client.put(
        f"{CLIENTS}/{client['id']}/scopes",
        json={"scopes": ["customers:read", "orders:read"]},
        headers=org.admin.headers,
    )
    by_boss = await api.client.put(f"{CLIENTS}/{client['id']}/scopes", json={"scopes": []}, headers=org.boss.headers)
    unknown = await api.client.put(
        f"{CLIENTS}/{client['id']}/scopes", json={"scopes": ["root"]}, headers=org.admin.headers
    )
    rotated = await api.client.post(f"{CLIENTS}/{client['id']}/rotate", headers=org.admin.headers)
    old_rest = await api.client.get("/api/v1/customers", headers=_bearer(client["key"]))
    old_token = await _token(api, client["id"], client["key"])
    new_token = await _token(api, client["id"], rotated.json()["key"])

    assert granted.status_code == 200 and granted.json()["scopes"] == ["customers:read", "orders:read"]
    api.problem(by_boss, 403)
    api.problem(unknown, 422)
    assert rotated.status_code == 200 and rotated.json()["key"] != client["key"]
    api.problem(old_rest, 401)
    assert old_token.status_code == 401
    assert new_token.status_code == 200 and new_token.json()["scope"] == "customers:read orders:read"
