"""Revisit plans (定期回访) through the whole stack as processes on PostgreSQL, with the customer
and analytics services' clocks moved from the test (CRM_<NAME>_TEST_CLOCK_CONTROL, never in the
chart): a rep's two VIP customers get revisit tasks 14 days on; the rep completes one on the day
with satisfaction 5 and misses the other, which the job announces overdue and the supervisor
sees; analytics then shows the rep's 回访率 at 50%."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from crm_devstack.stack import Stack
from crmkit.clock import SHANGHAI
from crmkit.db import create_engine, session_factory
from crmkit.identity import METADATA_KEY, Identity, IdentitySigner, Role
from crmkit.testing.clock import advance_service_clock_sync
from crmkit.testing.infra import NatsServer, PostgresServer
from crmkit.testing.jobs import ran_since

from .conftest import ADMIN_PASSWORD, branch_with_people, login, ok, running_stack

pytestmark = pytest.mark.e2e
PASSWORD = "revisit-密码-2026"
JOB = "revisit-tasks"


@pytest.fixture(scope="module")
def clock_stack(
    postgres_server: PostgresServer, nats_server: NatsServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Stack, str]]:
    databases = {
        component: asyncio.run(postgres_server.create_database(f"revisit_{component}"))
        for component in ("customer", "analytics", "gateway")
    }
    environment = {"CRM_CUSTOMER_TEST_CLOCK_CONTROL": "true", "CRM_ANALYTICS_TEST_CLOCK_CONTROL": "true"}
    for stack in running_stack(tmp_path_factory.mktemp("revisit"), nats_server.url, databases, environment):
        yield stack, databases["customer"]


def _advance(stack: Stack, component: str, by: dt.timedelta) -> dt.datetime:
    signer = IdentitySigner.from_file(stack.config.state_dir / "keys" / "identity_private.pem")
    operator = Identity(str(uuid.uuid4()), str(uuid.uuid4()), "ops", "/ops/", Role.ADMIN)
    return advance_service_clock_sync(
        f"127.0.0.1:{stack.port(component)}", by, metadata=((METADATA_KEY, signer.sign(operator)),)
    )


def _move_to(stack: Stack, database_url: str, moment: dt.datetime, now: dt.datetime) -> dt.datetime:
    """Move both services' clocks to `moment` (from the customer service's `now`) and wait for the
    revisit job that the move sets off. Returns the customer service's new time."""
    moved_to = _advance(stack, "customer", moment - now)
    _advance(stack, "analytics", moment - now)

    async def wait() -> None:
        engine = create_engine(database_url)
        try:
            await ran_since(session_factory(engine), JOB, moved_to, within=30.0)
        finally:
            await engine.dispose()

    asyncio.run(wait())
    return moved_to


def _until(check: Callable[[], Any], *, within: float = 30.0) -> Any:
    deadline = time.monotonic() + within
    while True:
        answer = check()
        if answer or time.monotonic() > deadline:
            return answer
        time.sleep(0.5)


def test_a_vip_revisit_done_on_time_and_one_missed_make_a_revisit_rate_of_half(clock_stack) -> None:  # type: ignore[no-untyped-def]
    stack, customer_db = clock_stack
    with httpx.Client(base_url=stack.gateway_url, timeout=15) as client:
        admin = login(client, "admin", ADMIN_PASSWORD)
        _, _, people = branch_with_people(
            client,
            admin,
            branch="南京分公司",
            shop="鼓楼门店",
            people={"zhou.zhuguan": ("supervisor", "branch"), "rep.revisit": ("sales", "shop")},
            password=PASSWORD,
        )
        supervisor, rep = people["zhou.zhuguan"], people["rep.revisit"]
        rep_id = ok(client.get("/api/v1/auth/me", headers=rep))["id"]
        kept = ok(
            client.post("/api/v1/customers", json={"name": "南京鼓楼区实验小学食堂", "tier": "vip"}, headers=rep), 201
        )
        missed = ok(
            client.post("/api/v1/customers", json={"name": "南京鼓楼区人民医院食堂", "tier": "vip"}, headers=rep), 201
        )
        created = dt.datetime.fromisoformat(kept["created_at"])
        due = created.astimezone(SHANGHAI).date() + dt.timedelta(days=14)

        # The next morning the daily job has given each a task, due 14 days after it was created.
        now = _move_to(stack, customer_db, created + dt.timedelta(days=1), created)
        tasks = ok(client.get("/api/v1/revisit-tasks", params={"due": "open"}, headers=rep))["items"]
        assert sorted((t["customer_id"], t["due_date"], t["assignee_id"]) for t in tasks) == sorted(
            [(kept["id"], due.isoformat(), rep_id), (missed["id"], due.isoformat(), rep_id)]
        )
        by_customer = {t["customer_id"]: t for t in tasks}

        # On the due day the rep visits one of them, very satisfied.
        now = _move_to(stack, customer_db, dt.datetime.combine(due, dt.time(10), tzinfo=SHANGHAI), now)
        today = ok(client.get("/api/v1/revisit-tasks", params={"due": "today"}, headers=rep))["items"]
        assert {t["id"] for t in today} == {t["id"] for t in tasks}
        done = ok(
            client.post(
                f"/api/v1/revisit-tasks/{by_customer[kept['id']]['id']}/complete",
                json={"satisfaction": 5, "kind": "visit", "content": "上门回访后勤主任", "new_needs": "增加清真菜品"},
                headers=rep,
            )
        )
        assert (done["status"], done["on_time"], done["satisfaction"]) == ("done", True, 5)
        assert ok(client.get(f"/api/v1/customers/{kept['id']}", headers=rep))["last_interaction_at"] is not None

        # The next day the other one is overdue, and the supervisor sees it.
        _move_to(stack, customer_db, dt.datetime.combine(due + dt.timedelta(days=1), dt.time(10), tzinfo=SHANGHAI), now)
        overdue = ok(client.get("/api/v1/revisit-tasks", params={"due": "overdue"}, headers=supervisor))["items"]
        assert [(t["customer_id"], t["assignee_name"]) for t in overdue] == [(missed["id"], "rep.revisit")]
        assert overdue[0]["overdue_at"] is not None

        # 回访率: one done on time out of two due, for the rep and in total.
        month = due.strftime("%Y-%m")

        def half() -> dict[str, Any] | None:
            rate = ok(client.get("/api/v1/analytics/revisit-rate", params={"from": month, "to": month}, headers=rep))
            totals = rate["totals"]
            return rate if totals and (totals[0]["due"], totals[0]["done_on_time"]) == (2, 1) else None

        rate = _until(half)
        assert rate is not None, "analytics did not count the two revisits"
        assert [(r["assignee_id"], r["due"], r["done_on_time"], r["rate"]) for r in rate["by_assignee"]] == [
            (rep_id, 2, 1, 0.5)
        ]
        assert rate["totals"][0]["rate"] == 0.5
        history = ok(client.get(f"/api/v1/customers/{kept['id']}/revisits", headers=supervisor))["items"]
        assert [(h["status"], h["satisfaction"], h["new_needs"]) for h in history][-1] == ("done", 5, "增加清真菜品")
