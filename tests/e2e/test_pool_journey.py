"""The public pool through the whole stack as processes on PostgreSQL, with the customer
service's clock moved from the test (CRM_CUSTOMER_TEST_CLOCK_CONTROL, never in the chart):
rep A neglects a customer until the sweep returns it, rep B claims it with a supervisor's
approval, misses the first visit and loses it again, rep A is held off by the cool-down, rep B
claims it once more and keeps it by visiting."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Iterator

import httpx
import pytest

from crm_devstack.stack import Stack
from crmkit.db import create_engine, session_factory
from crmkit.identity import METADATA_KEY, Identity, IdentitySigner, Role
from crmkit.testing.clock import advance_service_clock_sync
from crmkit.testing.infra import NatsServer, PostgresServer
from crmkit.testing.jobs import ran_since

from .conftest import ADMIN_PASSWORD, branch_with_people, login, ok, running_stack

pytestmark = pytest.mark.e2e
PASSWORD = "journey-密码-2026"


@pytest.fixture(scope="module")
def clock_stack(
    postgres_server: PostgresServer, nats_server: NatsServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Stack, str]]:
    databases = {
        component: asyncio.run(postgres_server.create_database(f"pool_{component}"))
        for component in ("customer", "analytics", "gateway")
    }
    environment = {"CRM_CUSTOMER_TEST_CLOCK_CONTROL": "true"}
    for stack in running_stack(tmp_path_factory.mktemp("pool"), nats_server.url, databases, environment):
        yield stack, databases["customer"]


def _move(stack: Stack, database_url: str, by: dt.timedelta) -> None:
    """Move the customer service's clock and wait for the pool sweep the move sets off."""
    signer = IdentitySigner.from_file(stack.config.state_dir / "keys" / "identity_private.pem")
    operator = Identity(str(uuid.uuid4()), str(uuid.uuid4()), "ops", "/ops/", Role.ADMIN)
    moved_to = advance_service_clock_sync(
        f"127.0.0.1:{stack.port('customer')}", by, metadata=((METADATA_KEY, signer.sign(operator)),)
    )

    async def wait() -> None:
        engine = create_engine(database_url)
        try:
            await ran_since(session_factory(engine), "pool-sweep", moved_to, within=30.0)
        finally:
            await engine.dispose()

    asyncio.run(wait())


def test_a_neglected_customer_returns_is_claimed_lost_again_and_kept_by_a_visit(clock_stack) -> None:
    stack, customer_db = clock_stack
    with httpx.Client(base_url=stack.gateway_url, timeout=15) as client:
        admin = login(client, "admin", ADMIN_PASSWORD)
        branch, _, people = branch_with_people(
            client,
            admin,
            branch="济南分公司",
            shop="历下门店",
            people={"li.zhuguan": ("supervisor", "branch"), "rep.a": ("sales", "shop"), "rep.b": ("sales", "shop")},
            password=PASSWORD,
        )
        supervisor, rep_a, rep_b = people["li.zhuguan"], people["rep.a"], people["rep.b"]
        rules = {"no_follow_up_days": {"normal": 15}, "warn_days_before": 3, "cooldown_days": 30, "first_visit_days": 7}
        pool = ok(
            client.post(
                "/api/v1/pools",
                json={"name": "济南公海", "org_unit_id": branch["id"], "requires_approval": True, "rules": rules},
                headers=admin,
            ),
            201,
        )
        customer = ok(client.post("/api/v1/customers", json={"name": "济南历下区实验学校食堂"}, headers=rep_a), 201)
        url = f"/api/v1/customers/{customer['id']}"

        def claim_and_approve() -> None:
            made = ok(
                client.post(
                    f"/api/v1/pools/{pool['id']}/claims",
                    json={"customer_id": customer["id"], "reason": "客户主动来电"},
                    headers=rep_b,
                ),
                201,
            )
            assert made["status"] == "pending"
            decided = ok(
                client.post(f"/api/v1/pool-claims/{made['id']}/decision", json={"approve": True}, headers=supervisor)
            )
            assert decided["status"] == "approved"

        # 16 days without a follow-up: warned at day 12, returned at day 15.
        _move(stack, customer_db, dt.timedelta(days=12, hours=1))
        assert client.get(url, headers=rep_a).status_code == 200
        _move(stack, customer_db, dt.timedelta(days=4))
        assert client.get(url, headers=rep_a).status_code == 404
        in_pool = ok(client.get(f"/api/v1/pools/{pool['id']}/customers", headers=rep_b))["items"]
        assert [(c["id"], c["enter_kind"]) for c in in_pool] == [(customer["id"], "returned_by_rule")]

        claim_and_approve()
        assert ok(client.get(url, headers=rep_b))["owner_id"]

        # No visit within the first-visit days: back to the pool.
        _move(stack, customer_db, dt.timedelta(days=7, hours=1))
        assert client.get(url, headers=rep_b).status_code == 404

        # Rep A lost it 8 days ago: the 30-day cool-down holds them off.
        cooled = client.post(
            f"/api/v1/pools/{pool['id']}/claims",
            json={"customer_id": customer["id"], "reason": "想要回来"},
            headers=rep_a,
        )
        assert cooled.status_code == 412 and cooled.json()["code"] == "claim_cooldown", cooled.text

        # Rep B claims again, visits at once, and keeps it past the first-visit deadline.
        claim_and_approve()
        ok(client.post(f"{url}/follow-ups", json={"kind": "visit", "content": "上门拜访食堂主任"}, headers=rep_b), 201)
        _move(stack, customer_db, dt.timedelta(days=8))
        assert client.get(url, headers=rep_b).status_code == 200

        history = ok(client.get(f"{url}/owner-changes", headers=supervisor))["items"]
        assert [h["kind"] for h in reversed(history)] == [
            "created",
            "returned_by_rule",
            "approved",
            "returned_by_rule",
            "approved",
        ]
        assert history[1]["reason"].startswith("未按期回访")
        mine = ok(client.get("/api/v1/pool-claims", params={"view": "mine"}, headers=rep_b))["items"]
        assert [c["status"] for c in mine] == ["approved", "approved"]
