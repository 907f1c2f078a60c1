"""Closures and licences through the whole stack as processes on PostgreSQL, with the customer
service's clock moved from the test (CRM_CUSTOMER_TEST_CLOCK_CONTROL, never in the chart):

- a licence expiring in 7 days notifies its owner once (the licence-expiry job's event, through
  NATS, into the gateway's inbox), however often the job runs after;
- a school calendar (校历) applied to 50 customers by a filter pauses their pool clocks over the
  holiday: a customer without it returns to the pool on time, the 50 stay while closed and return
  later by exactly the closed days.

Dates are taken from the customer service's own clock, which other tests of the module move."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import grpc
import httpx
import pytest

from crm.testing.v1 import clock_control_pb2, clock_control_pb2_grpc
from crm_devstack.stack import Stack
from crmkit.clock import shanghai_date
from crmkit.db import create_engine, session_factory
from crmkit.identity import METADATA_KEY, Identity, IdentitySigner, Role
from crmkit.testing.clock import advance_service_clock_sync
from crmkit.testing.events import eventually_sync
from crmkit.testing.infra import NatsServer, PostgresServer
from crmkit.testing.jobs import ran_since

from .conftest import ADMIN_PASSWORD, branch_with_people, login, ok, running_stack

pytestmark = pytest.mark.e2e
PASSWORD = "calendar-密码-2026"
SCHOOLS = 50


@pytest.fixture(scope="module")
def clock_stack(
    postgres_server: PostgresServer, nats_server: NatsServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Stack, str]]:
    databases = {
        component: asyncio.run(postgres_server.create_database(f"calendar_{component}"))
        for component in ("customer", "analytics", "gateway")
    }
    environment = {"CRM_CUSTOMER_TEST_CLOCK_CONTROL": "true"}
    for stack in running_stack(tmp_path_factory.mktemp("calendar"), nats_server.url, databases, environment):
        yield stack, databases["customer"]


def _operator(stack: Stack) -> tuple[tuple[str, str], ...]:
    signer = IdentitySigner.from_file(stack.config.state_dir / "keys" / "identity_private.pem")
    operator = Identity(str(uuid.uuid4()), str(uuid.uuid4()), "ops", "/ops/", Role.ADMIN)
    return ((METADATA_KEY, signer.sign(operator)),)


def _service_today(stack: Stack) -> dt.date:
    """Today (Asia/Shanghai) on the customer service's clock."""
    with grpc.insecure_channel(f"127.0.0.1:{stack.port('customer')}") as channel:
        now = clock_control_pb2_grpc.ClockControlServiceStub(channel).Get(
            clock_control_pb2.GetRequest(), metadata=_operator(stack), timeout=5.0
        )
    return shanghai_date(now.now.ToDatetime(tzinfo=dt.UTC))


def _move(stack: Stack, database_url: str, by: dt.timedelta, job: str) -> None:
    """Move the customer service's clock and wait for the run of `job` the move sets off."""
    moved_to = advance_service_clock_sync(f"127.0.0.1:{stack.port('customer')}", by, metadata=_operator(stack))

    async def wait() -> None:
        engine = create_engine(database_url)
        try:
            await ran_since(session_factory(engine), job, moved_to, within=60.0)
        finally:
            await engine.dispose()

    asyncio.run(wait())


def test_a_licence_expiring_in_7_days_notifies_the_owner_once(clock_stack) -> None:
    stack, customer_db = clock_stack
    with httpx.Client(base_url=stack.gateway_url, timeout=30) as client:
        admin = login(client, "admin", ADMIN_PASSWORD)
        _, _, people = branch_with_people(
            client,
            admin,
            branch="台州分公司",
            shop="椒江门店",
            people={"lic.rep": ("sales", "shop")},
            password=PASSWORD,
        )
        rep = people["lic.rep"]
        today = _service_today(stack)

        def with_licence(name: str, days_left: int) -> dict[str, Any]:
            customer = ok(client.post("/api/v1/customers", json={"name": name, "type": "中餐"}, headers=rep), 201)
            ok(
                client.post(
                    f"/api/v1/customers/{customer['id']}/licences",
                    json={
                        "kind": "食品经营许可证",
                        "number": f"JY1331002{days_left:07d}",
                        "issuer": "台州市椒江区市场监督管理局",
                        "valid_from": (today - dt.timedelta(days=1800)).isoformat(),
                        "valid_until": (today + dt.timedelta(days=days_left)).isoformat(),
                    },
                    headers=rep,
                ),
                201,
            )
            return customer

        soon = with_licence("台州椒江区海门老街酒楼", 7)
        # Its 7-day notice falls on the second run: once it shows, the second run's events are in.
        sentinel = with_licence("台州椒江区东海大道饭店", 9)

        def notices() -> list[dict[str, Any]]:
            items: list[dict[str, Any]] = ok(
                client.get("/api/v1/notifications", params={"page_size": 100}, headers=rep)
            )["items"]
            return [n for n in items if n["kind"].startswith("licence_")]

        def about(items: list[dict[str, Any]], customer: dict[str, Any]) -> list[dict[str, Any]]:
            return [n for n in items if n["link_id"] == customer["id"]]

        _move(stack, customer_db, dt.timedelta(days=1, minutes=5), "licence-expiry")
        first = eventually_sync(notices, lambda items: bool(about(items, soon)), within=30)
        _move(stack, customer_db, dt.timedelta(days=1, minutes=5), "licence-expiry")
        later = eventually_sync(notices, lambda items: len(about(items, sentinel)) == 2, within=30)

        expiring = about(first, soon)
        assert [n["kind"] for n in expiring] == ["licence_expiring"]
        assert "食品经营许可证" in expiring[0]["body"] and "台州椒江区海门老街酒楼" in expiring[0]["body"]
        assert [n["id"] for n in about(later, soon)] == [expiring[0]["id"]]
        listed = ok(client.get("/api/v1/licences/expiring", params={"status": "expiring"}, headers=rep))["items"]
        assert {i["customer_name"] for i in listed} == {soon["name"], sentinel["name"]}


def test_a_school_calendar_applied_to_50_customers_pauses_their_pool_clocks_over_the_holiday(clock_stack) -> None:
    stack, customer_db = clock_stack
    with httpx.Client(base_url=stack.gateway_url, timeout=30) as client:
        admin = login(client, "admin", ADMIN_PASSWORD)
        branch, _, people = branch_with_people(
            client,
            admin,
            branch="杭州分公司",
            shop="西湖门店",
            people={"school.rep": ("sales", "shop")},
            password=PASSWORD,
        )
        rep = people["school.rep"]
        ok(
            client.post(
                "/api/v1/pools",
                json={
                    "name": "杭州公海",
                    "org_unit_id": branch["id"],
                    "rules": {"no_follow_up_days": {"normal": 15}, "warn_days_before": 3},
                },
                headers=admin,
            ),
            201,
        )
        schools = {
            ok(
                client.post(
                    "/api/v1/customers", json={"name": f"杭州西湖区第{n}小学食堂", "type": "学校食堂"}, headers=rep
                ),
                201,
            )["id"]
            for n in range(1, SCHOOLS + 1)
        }
        neglected = ok(
            client.post("/api/v1/customers", json={"name": "杭州西湖区文三路酒楼", "type": "中餐"}, headers=rep), 201
        )
        today = _service_today(stack)
        # The winter break covers the day their 15 days run out: days 10 to 20, eleven days.
        template = ok(
            client.post(
                "/api/v1/closure-templates",
                json={
                    "name": "2027 杭州中小学校历",
                    "ranges": [
                        {
                            "start_date": (today + dt.timedelta(days=10)).isoformat(),
                            "end_date": (today + dt.timedelta(days=20)).isoformat(),
                            "reason": "winter_break",
                        }
                    ],
                },
                headers=admin,
            ),
            201,
        )
        applied = ok(
            client.post(
                f"/api/v1/closure-templates/{template['id']}/customers",
                json={"filter": {"type": "学校食堂"}},
                headers=rep,
            )
        )
        assert set(applied["applied_customer_ids"]) == schools

        def owned() -> set[str]:
            found = ok(client.get("/api/v1/customers", params={"page_size": 200}, headers=rep))["items"]
            return {c["id"] for c in found}

        _move(stack, customer_db, dt.timedelta(days=16, hours=1), "pool-sweep")
        while_closed = owned()
        _move(stack, customer_db, dt.timedelta(days=5), "pool-sweep")
        after_the_break = owned()
        _move(stack, customer_db, dt.timedelta(days=5), "pool-sweep")
        fifteen_open_days_later = owned()

        assert neglected["id"] not in while_closed
        assert while_closed == schools
        assert after_the_break == schools
        assert fifteen_open_days_later == set()
