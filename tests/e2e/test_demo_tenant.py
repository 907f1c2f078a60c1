"""What `make run` loads on a first start, loaded the same way into a real stack and read back."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Iterator

import httpx
import pytest

from crm_devstack.seed import DEMO_USER_PASSWORD, load_demo
from crm_devstack.stack import Stack
from crmkit.cn import pinyin_initials
from crmkit.testing.events import eventually_sync
from crmkit.testing.infra import NatsServer

from .conftest import ADMIN_PASSWORD, running_stack

pytestmark = pytest.mark.e2e
CUSTOMERS = 40


def login(client: httpx.Client, username: str, password: str) -> dict[str, str]:
    reply = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert reply.status_code == 200, reply.text
    return {"Authorization": f"Bearer {reply.json()['access_token']}"}


def test_demo_tenant_loads_through_the_api_with_its_custom_fields(stack: Stack) -> None:
    tenant = asyncio.run(load_demo(stack.gateway_url, ADMIN_PASSWORD, customers=CUSTOMERS))

    with httpx.Client(base_url=stack.gateway_url, timeout=10) as client:
        admin = login(client, "admin", ADMIN_PASSWORD)
        listed = client.get("/api/v1/customers", params={"page_size": 200}, headers=admin).json()["items"]
        fields = client.get("/api/v1/custom-fields", headers=admin).json()["items"]
        kept = next(c for c in tenant.customers if not c.release_reason)
        rep = kept.owner_username
        initials = pinyin_initials(kept.name)[:6]
        found = client.get("/api/v1/customers", params={"q": initials}, headers=login(client, rep, DEMO_USER_PASSWORD))
        group = tenant.groups[0]
        parent_id = next(c["id"] for c in listed if c["name"] == group.parent)
        rollup = client.get(f"/api/v1/customers/{parent_id}/group", headers=admin).json()
        # Visits with a check-in (and some with photos), read back as their owner.
        visited = [c for c in tenant.customers if any(f.check_in for f in c.follow_ups) and not c.release_reason]
        timelines = {}
        for seed in visited:
            owner = login(client, seed.owner_username, DEMO_USER_PASSWORD)
            customer_id = next(c["id"] for c in listed if c["name"] == seed.name)
            timelines[seed.name] = client.get(f"/api/v1/customers/{customer_id}/follow-ups", headers=owner).json()
        # A rep opens the app to a follow-up due today, its alerts on the row.
        due_seed = next(
            c for c in tenant.customers if not c.release_reason and c.follow_ups and c.follow_ups[-1].next_in_days == 0
        )
        due_today = client.get(
            "/api/v1/follow-up-tasks",
            params={"due": "today", "page_size": 200},
            headers=login(client, due_seed.owner_username, DEMO_USER_PASSWORD),
        ).json()["items"]
        imports = client.get("/api/v1/customer-imports", headers=admin).json()["items"]
        report = [
            (p["row"], p["column"], p["code"], p["reason"])
            for i in imports
            for p in client.get(f"/api/v1/customer-imports/{i['id']}/problems", headers=admin).json()["items"]
        ]
        total = eventually_sync(
            lambda: client.get("/api/v1/analytics/customer-summary", headers=admin).json()["total"],
            lambda total: total == CUSTOMERS,
            within=30.0,
            interval=0.2,
        )
        orders = client.get("/api/v1/orders", params={"page_size": 200}, headers=admin).json()["items"]
        quotes = client.get("/api/v1/quotes", params={"page_size": 200}, headers=admin).json()["items"]

    assert sorted(c["name"] for c in listed) == sorted(c.name for c in tenant.customers)
    # An uploaded import waits for confirmation with its report: two new customers, one update,
    # two rows with problems (the GB18030 file was detected as such).
    [waiting] = imports
    assert waiting["status"] == "checked" and waiting["encoding"] == "gb18030", waiting
    assert (waiting["dry_run"]["created"], waiting["dry_run"]["updated"], waiting["dry_run"]["problems"]) == (
        2,
        1,
        2,
    ), report
    assert [f["key"] for f in fields] == ["settlement", "delivery_window", "daily_meals"]
    by_name = {c.name: c for c in tenant.customers}
    assert due_seed.name in [t["customer_name"] for t in due_today]
    assert all(
        [a["kind"] for a in t["alerts"]] == [r["kind"] for r in by_name[t["customer_name"]].special_requirements]
        for t in due_today
    )
    assert all(c["custom_fields"] == by_name[c["name"]].custom_fields for c in listed)
    assert all(c["product_lines"] == by_name[c["name"]].product_lines for c in listed)
    assert all(c["source"] == by_name[c["name"]].source for c in listed)
    # The profile: requirements become alerts, the catering group rolls up its canteens.
    assert all(
        [a["kind"] for a in c["alerts"]] == [r["kind"] for r in by_name[c["name"]].special_requirements] for c in listed
    )
    assert any(c["alerts"] for c in listed)
    assert sorted(b["name"] for b in rollup["branches"]) == sorted(group.branches)
    assert kept.name in [c["name"] for c in found.json()["items"]]
    assert total == CUSTOMERS
    released = {c.name for c in tenant.customers if c.release_reason}
    assert released, "the demo tenant releases customers to its pools"
    assert {c["name"] for c in listed if c["pool_id"]} == released
    followed = {c.name: c for c in tenant.customers if c.follow_ups and not c.release_reason}
    assert followed, "the demo tenant logs follow-ups"
    shown = {c["name"]: c for c in listed}
    for name, seed in followed.items():
        assert shown[name]["last_interaction_at"] is not None
        next_in = seed.follow_ups[-1].next_in_days
        assert (shown[name]["next_follow_up_date"] is None) == (next_in is None)
    pinned = {c.name: (c.latitude, c.longitude) for c in tenant.customers if c.latitude is not None}
    assert pinned, "the demo tenant pins customers on the map"
    assert {n: (c["latitude"], c["longitude"]) for n, c in shown.items() if c["latitude"] is not None} == pinned
    assert timelines, "the demo tenant checks in at visits"
    for name, timeline in timelines.items():
        checked = [e for e in timeline["items"] if e["check_in"]]
        assert len(checked) == sum(1 for f in by_name[name].follow_ups if f.check_in)
        assert all((e["check_in"]["distance_m"] is not None) == (name in pinned) for e in checked)
        assert sum(len(e["photos"]) for e in checked) == sum(f.photos for f in by_name[name].follow_ups)
    # The order service's demo: each order placed for its customer and moved to its state.
    # (Besides a year of imported history, 导入历史订单: orders dated a month ago and earlier.)
    recent = dt.datetime.now(dt.UTC) - dt.timedelta(days=7)
    history = [o for o in orders if dt.datetime.fromisoformat(o["created_at"]) < recent]
    orders = [o for o in orders if o not in history]
    assert len(history) == 12 * 3 and {o["state"] for o in history} == {"completed"}
    assert sorted(o["customer_name"] for o in orders) == sorted(o.customer for o in tenant.orders)
    assert {o["state"] for o in orders} >= {"completed", "ready_to_ship", "draft"}
    assert orders[0]["urgent"], "urgent orders come first"
    # And its quotes: one approved at once, one waiting for the supervisor.
    assert sorted(q["status"] for q in quotes) == ["approved", "pending_approval"]


@pytest.fixture(scope="module")
def embedded_stack(nats_server: NatsServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The stack as `make run` starts it by default: a SQLite file per service."""
    yield from running_stack(tmp_path_factory.mktemp("embedded"), nats_server.url, {})


def test_demo_tenant_loads_on_the_embedded_sqlite_defaults(embedded_stack: Stack) -> None:
    """All 500, as `make run` loads them: uvloop with aiosqlite once stalled this past the deadline."""
    tenant = asyncio.run(load_demo(embedded_stack.gateway_url, ADMIN_PASSWORD))

    names: list[str] = []
    with httpx.Client(base_url=embedded_stack.gateway_url, timeout=10) as client:
        admin = login(client, "admin", ADMIN_PASSWORD)
        token = ""
        while True:
            params = {"page_size": 200, **({"page_token": token} if token else {})}
            page = client.get("/api/v1/customers", params=params, headers=admin).json()
            names.extend(c["name"] for c in page["items"])
            token = page["next_page_token"]
            if not token:
                break

    assert embedded_stack.config.database_urls == {}
    assert len(tenant.customers) == 500
    assert sorted(names) == sorted(c.name for c in tenant.customers)


def test_guessing_a_demo_users_password_locks_the_account_until_the_admin_unlocks_it(embedded_stack: Stack) -> None:
    """On the embedded (SQLite) stack, over HTTP, by a guesser who waits as long as it is told."""
    with httpx.Client(base_url=embedded_stack.gateway_url, timeout=10) as client:
        users = client.get("/api/v1/users", headers=login(client, "admin", ADMIN_PASSWORD)).json()["items"]
    if "li.na" not in {u["username"] for u in users}:  # the demo test before this one loads the users
        asyncio.run(load_demo(embedded_stack.gateway_url, ADMIN_PASSWORD, customers=0))
    with httpx.Client(base_url=embedded_stack.gateway_url, timeout=10) as client:
        answers: list[httpx.Response] = []
        while not answers or answers[-1].status_code != 429 or answers[-1].json()["code"] != "account_locked":
            reply = client.post("/api/v1/auth/login", json={"username": "li.na", "password": "guess-2026"})
            if reply.status_code == 429 and reply.json()["code"] == "login_throttled":
                time.sleep(int(reply.headers["retry-after"]))  # the progressive delay: 1, then 2 s
                continue
            answers.append(reply)
            assert len(answers) <= 6, [a.text for a in answers]
        right_password = client.post("/api/v1/auth/login", json={"username": "li.na", "password": DEMO_USER_PASSWORD})
        admin = login(client, "admin", ADMIN_PASSWORD)
        li_na = next(u for u in client.get("/api/v1/users", headers=admin).json()["items"] if u["username"] == "li.na")
        unlocked = client.post(f"/api/v1/users/{li_na['id']}/unlock", headers=admin)
        after = client.post("/api/v1/auth/login", json={"username": "li.na", "password": DEMO_USER_PASSWORD})

    assert [a.status_code for a in answers] == [401] * 5 + [429]
    assert right_password.status_code == 429 and int(right_password.headers["retry-after"]) > 14 * 60
    assert unlocked.status_code == 204
    assert after.status_code == 200, after.text
