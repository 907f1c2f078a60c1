"""Assignment rules and transfers over REST: rules placing a customer an admin creates without an
owner, the dry run's explanation, a departing rep's book spread evenly by the transfer job, and
refusals by role and bad input. The directory copy is fed the way the gateway will feed it: the
test publishes user_changed for the org's people onto the stack's NATS."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import nats
import pytest_asyncio

from crm.gateway.v1.events_pb2 import UserChanged
from crmkit.bus import ensure_stream
from crmkit.events import subject_for
from crmkit.testing.events import envelope_for

RULES = "/api/v1/assignment-rules"
TRANSFERS = "/api/v1/transfers"
HANGZHOU = [{"label": "收货地址", "province": "浙江", "city": "杭州", "district": "西湖区", "detail": "文三路1号"}]


async def _wait_for(check: Any, within: float = 20.0) -> Any:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        answer = await check()
        if answer is not None:
            return answer
        assert asyncio.get_running_loop().time() < deadline, "gave up waiting"
        await asyncio.sleep(0.3)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def directory(stack, org) -> None:  # type: ignore[no-untyped-def]
    """Every person of the org in the customer service's directory copy."""
    units = (await stack.client.get("/api/v1/org-units", headers=org.admin.headers)).json()["items"]
    paths = {u["id"]: u["path"] for u in units}
    me = (await stack.client.get("/api/v1/auth/me", headers=org.admin.headers)).json()
    people = [org.admin, org.boss, org.supervisor, org.sales_a, org.sales_b, org.service, org.finance, org.sales_c]
    nc = await nats.connect(stack.nats_url)
    try:
        js = nc.jetstream()
        await ensure_stream(js, "gateway", namespace=stack.namespace)
        for person in people:
            message = UserChanged(
                user_id=person.id,
                org_unit_id=person.org_unit_id,
                org_path=paths[person.org_unit_id],
                role=person.role,
                active=True,
                display_name=person.username,
            )
            envelope = envelope_for(
                message,
                tenant_id=me["tenant_id"],
                org_unit_id=person.org_unit_id,
                aggregate_id=person.id,
                aggregate_version=1,
                occurred_at=dt.datetime.now(dt.UTC),
            )
            await js.publish(
                subject_for("gateway", "user_changed", stack.namespace),
                envelope.SerializeToString(),
                headers={"Nats-Msg-Id": envelope.id},
            )
    finally:
        await nc.close()

    async def known() -> bool | None:
        answer = await stack.client.post(
            f"{RULES}/dry-run", json={"facts": {"provinces": ["浙江"]}}, headers=org.admin.headers
        )
        # The last one announced is on file once a rule may name them.
        probe = await stack.client.put(
            RULES,
            json={"rules": [{"name": "探测", "enabled": False, "user_ids": [org.sales_c.id], "strategy": "fixed"}]},
            headers=org.admin.headers,
        )
        return True if answer.status_code == 200 and probe.status_code == 200 else None

    await _wait_for(known)


async def test_rules_place_a_customer_an_admin_creates_and_the_dry_run_says_why(client, org, api, directory) -> None:  # type: ignore[no-untyped-def]
    rules = await client.put(
        RULES,
        json={
            "rules": [
                {
                    "name": "猪料客户",
                    "conditions": {"product_lines": ["猪料"]},
                    "user_ids": [org.sales_b.id],
                    "strategy": "fixed",
                },
                {
                    "name": "浙江客户轮流",
                    "conditions": {"provinces": ["浙江"]},
                    "org_unit_id": org.shop1,
                    "strategy": "round_robin",
                },
            ]
        },
        headers=org.admin.headers,
    )
    dry = await client.post(
        f"{RULES}/dry-run", json={"facts": {"provinces": ["浙江"], "product_lines": ["禽料"]}}, headers=org.boss.headers
    )
    created = await client.post(
        "/api/v1/customers",
        json=api.customer_body(name="杭州西湖区食堂", addresses=HANGZHOU),
        headers=org.admin.headers,
    )
    listed = await client.get(RULES, headers=org.supervisor.headers)

    assert rules.status_code == 200, rules.text
    assert dry.status_code == 200, dry.text
    body = dry.json()
    assert [(c["rule_name"], c["matched"]) for c in body["checks"]] == [("猪料客户", False), ("浙江客户轮流", True)]
    assert "禽料" in body["checks"][0]["reason"]
    assert body["owner_id"] in {org.sales_a.id, org.sales_b.id} and body["owner_name"]
    assert created.status_code == 201, created.text
    assert created.json()["owner_id"] == body["owner_id"]
    assert created.json()["assigned_rule_id"] == rules.json()["items"][1]["id"]
    assert [r["name"] for r in listed.json()["items"]] == ["猪料客户", "浙江客户轮流"]


async def test_rules_are_refused_to_supervisors_and_bad_rules_are_named(client, org, api, directory) -> None:  # type: ignore[no-untyped-def]
    rule = {"name": "全部", "user_ids": [org.sales_a.id], "strategy": "fixed"}

    by_supervisor = await client.put(RULES, json={"rules": [rule]}, headers=org.supervisor.headers)
    by_rep = await client.get(RULES, headers=org.sales_a.headers)
    bad_strategy = await client.put(RULES, json={"rules": [{**rule, "strategy": "random"}]}, headers=org.admin.headers)
    no_target = await client.put(
        RULES, json={"rules": [{"name": "空", "strategy": "fixed"}]}, headers=org.admin.headers
    )
    unknown_user = await client.put(
        RULES, json={"rules": [{**rule, "user_ids": [str(uuid.uuid4())]}]}, headers=org.admin.headers
    )
    neither = await client.post(f"{RULES}/dry-run", json={}, headers=org.admin.headers)
    foreign = await client.post(f"{RULES}/dry-run", json={"customer_id": str(uuid.uuid4())}, headers=org.admin.headers)

    api.problem(by_supervisor, 403)
    api.problem(by_rep, 403)
    api.problem(bad_strategy, 422)
    api.problem(no_target, 422)
    api.problem(unknown_user, 400, field="rules[0].target.user_ids[0]")
    api.problem(neither, 422)
    api.problem(foreign, 404)


async def test_an_admin_spreads_a_departing_reps_customers_evenly_over_two_reps(client, org, api, directory) -> None:  # type: ignore[no-untyped-def]
    book = [await api.create_customer(org.sales_c, name=f"广州天河区客户{i}") for i in range(4)]
    held_before = {p.id: len(await api.customer_ids(p)) for p in (org.sales_a, org.sales_b)}

    started = await client.post(
        TRANSFERS,
        json={
            "from_user_id": org.sales_c.id,
            "mode": "evenly",
            "to_user_ids": [org.sales_a.id, org.sales_b.id],
            "reason": "离职交接",
        },
        headers=org.admin.headers,
    )
    assert started.status_code == 202, started.text

    async def finished() -> dict[str, Any] | None:
        got = await client.get(f"{TRANSFERS}/{started.json()['id']}", headers=org.admin.headers)
        assert got.status_code == 200, got.text
        return got.json() if got.json()["status"] == "completed" else None

    done = await _wait_for(finished)
    held_after = {p.id: len(await api.customer_ids(p)) for p in (org.sales_a, org.sales_b)}
    listed = await client.get(TRANSFERS, params={"from_user_id": org.sales_c.id}, headers=org.supervisor.headers)

    assert (done["moved"], done["skipped"], done["from_user_name"]) == (4, 0, "王五")
    assert {p: held_after[p] - held_before[p] for p in held_after} == {org.sales_a.id: 2, org.sales_b.id: 2}
    assert not {c["id"] for c in book} & await api.customer_ids(org.sales_c)
    # The rep sits in the other subsidiary: this supervisor does not see the transfer.
    assert listed.json()["items"] == []


async def test_transfers_are_refused_to_reps_and_bad_starts_are_named(client, org, api, directory) -> None:  # type: ignore[no-untyped-def]
    body = {"from_user_id": org.sales_c.id, "mode": "one_user", "to_user_ids": [org.sales_a.id], "reason": "离职"}

    by_rep = await client.post(TRANSFERS, json=body, headers=org.sales_a.headers)
    bad_mode = await client.post(TRANSFERS, json={**body, "mode": "everyone"}, headers=org.admin.headers)
    no_reason = await client.post(TRANSFERS, json={**body, "reason": ""}, headers=org.admin.headers)
    to_finance = await client.post(TRANSFERS, json={**body, "to_user_ids": [org.finance.id]}, headers=org.admin.headers)
    unknown = await client.get(f"{TRANSFERS}/{uuid.uuid4()}", headers=org.admin.headers)

    api.problem(by_rep, 403)
    api.problem(bad_mode, 422)
    api.problem(no_reason, 422)
    api.problem(to_finance, 400, field="to_user_ids[0]")
    api.problem(unknown, 404)


async def test_deactivating_a_rep_who_holds_customers_needs_a_handover_that_moves_them(
    client, org, api, directory
) -> None:  # type: ignore[no-untyped-def]
    rep = await api.hire(org.admin.headers, f"leaving.{uuid.uuid4().hex[:6]}", "sales")
    headers = await api.login(rep["username"], api.user_password)
    book = []
    for name in ("广州越秀区离职客户一", "广州越秀区离职客户二"):
        created = await client.post("/api/v1/customers", json=api.customer_body(name=name), headers=headers)
        assert created.status_code == 201, created.text
        book.append(created.json()["id"])
    url = f"/api/v1/users/{rep['id']}"

    bare = await client.post(f"{url}/deactivate", json={}, headers=org.admin.headers)
    by_boss = await client.post(f"{url}/deactivate", json={}, headers=org.boss.headers)
    unknown = await client.post(f"/api/v1/users/{uuid.uuid4()}/deactivate", json={}, headers=org.admin.headers)
    handover = {"mode": "one_user", "to_user_ids": [org.sales_a.id], "reason": "离职交接"}
    done = await client.post(f"{url}/deactivate", json={"handover": handover}, headers=org.admin.headers)
    again = await client.post(f"{url}/deactivate", json={"handover": handover}, headers=org.admin.headers)
    sign_in = await client.post("/api/v1/auth/login", json={"username": rep["username"], "password": api.user_password})

    async def finished() -> dict[str, Any] | None:
        got = (await client.get(f"{TRANSFERS}/{done.json()['transfer']['id']}", headers=org.admin.headers)).json()
        return got if got["status"] == "completed" else None

    transfer = await _wait_for(finished)
    reactivated = await client.post(f"{url}/activate", headers=org.admin.headers)
    back = await client.post("/api/v1/auth/login", json={"username": rep["username"], "password": api.user_password})

    problem = api.problem(bare, 412, code="handover_required", field="handover")
    assert problem["held"] == 2 and "2" in problem["detail"]
    api.problem(by_boss, 403, code="permission_denied")
    api.problem(unknown, 404, code="not_found")
    assert done.status_code == 200, done.text
    assert done.json()["user"]["active"] is False
    assert again.status_code == 200 and again.json()["transfer"] is None
    assert sign_in.status_code == 401
    assert (transfer["moved"], transfer["to_user_ids"]) == (2, [org.sales_a.id])
    assert set(book) <= await api.customer_ids(org.sales_a)
    assert reactivated.json()["active"] is True and back.status_code == 200


async def test_an_admin_cannot_deactivate_themselves(client, org, api) -> None:  # type: ignore[no-untyped-def]
    me = (await client.get("/api/v1/auth/me", headers=org.admin.headers)).json()

    refused = await client.post(f"/api/v1/users/{me['id']}/deactivate", json={}, headers=org.admin.headers)

    api.problem(refused, 400, field="user_id")
