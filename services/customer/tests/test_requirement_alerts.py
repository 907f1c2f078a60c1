"""Special requirements (特殊要求) travel with every row that names a customer — pool rows, claim
records, follow-up and revisit tasks, a transfer's skipped customers — so each can show the alert."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from crm.customer.v1 import follow_ups_pb2 as fpb
from crm.customer.v1 import pools_pb2 as ppb
from crm.customer.v1 import profile_pb2 as prpb
from crm.customer.v1 import revisits_pb2 as rpb
from crm.customer.v1 import transfers_pb2 as tpb
from crmkit.clock import shanghai_date
from crmkit.identity import Role
from crmkit.testing.jobs import ran_since

HALAL = prpb.SpecialRequirement(kind="halal", note="清真专用车辆")
ALLERGENS = prpb.SpecialRequirement(kind="allergens", details=["花生"])


def _kinds(row) -> list[str]:  # type: ignore[no-untyped-def]
    return [r.kind for r in row.special_requirements]


@pytest.mark.parametrize("backend", ["customer_service", "customer_service_sqlite"], indirect=True)
async def test_pool_rows_and_claim_records_carry_the_customers_requirements(backend) -> None:
    org = backend.org
    boss, rep_a, rep_b = (
        org.person(Role.BOSS, org.hq),
        org.person(Role.SALES, org.shop_a),
        org.person(Role.SALES, org.shop_a),
    )
    pool = (
        await backend.stub.CreatePool(
            ppb.CreatePoolRequest(
                pool=ppb.Pool(name="公海", org_unit_id=org.sub_a, org_path=org.path(org.sub_a), requires_approval=True)
            ),
            metadata=backend.metadata(boss),
        )
    ).pool
    halal = await backend.create(rep_a, name="西宁城东区回民中学食堂", special_requirements=[HALAL, ALLERGENS])
    plain = await backend.create(rep_a, name="西宁城西区小吃店")
    for customer in (halal, plain):
        released = await backend.stub.ReleaseToPool(
            ppb.ReleaseToPoolRequest(customer_id=customer.id, reason="暂无需求"), metadata=backend.metadata(rep_a)
        )
        assert _kinds(released.customer) == _kinds(customer)

    rows = await backend.stub.ListPoolCustomers(
        ppb.ListPoolCustomersRequest(pool_id=pool.id), metadata=backend.metadata(rep_b)
    )
    claimed = await backend.stub.ClaimCustomer(
        ppb.ClaimCustomerRequest(pool_id=pool.id, customer_id=halal.id, reason="老客户介绍"),
        metadata=backend.metadata(rep_b),
    )
    mine = await backend.stub.ListClaims(
        ppb.ListClaimsRequest(view=ppb.CLAIM_VIEW_MINE), metadata=backend.metadata(rep_b)
    )

    assert {c.name: _kinds(c) for c in rows.customers} == {
        "西宁城东区回民中学食堂": ["halal", "allergens"],
        "西宁城西区小吃店": [],
    }
    shown = next(c for c in rows.customers if c.id == halal.id)
    assert list(shown.special_requirements) == [HALAL, ALLERGENS]
    assert _kinds(claimed.claim) == ["halal", "allergens"]
    assert [(c.customer_name, _kinds(c)) for c in mine.claims] == [("西宁城东区回民中学食堂", ["halal", "allergens"])]


async def test_follow_up_and_revisit_tasks_carry_the_customers_requirements(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    today = shanghai_date(customer_service.clock()).isoformat()
    halal = await customer_service.create(rep, name="银川兴庆区清真餐厅", tier="vip", special_requirements=[HALAL])
    plain = await customer_service.create(rep, name="银川金凤区快餐店", tier="vip")
    for customer in (halal, plain):
        await customer_service.stub.LogInteraction(
            fpb.LogInteractionRequest(
                interaction=fpb.Interaction(
                    customer_id=customer.id,
                    kind=fpb.INTERACTION_KIND_PHONE,
                    content="电话确认",
                    next_follow_up_date=today,
                )
            ),
            metadata=customer_service.metadata(rep),
        )

    follow_ups = await customer_service.stub.ListFollowUpTasks(
        fpb.ListFollowUpTasksRequest(due=fpb.FOLLOW_UP_DUE_TODAY), metadata=customer_service.metadata(rep)
    )
    assert {t.customer_name: _kinds(t) for t in follow_ups.tasks} == {
        "银川兴庆区清真餐厅": ["halal"],
        "银川金凤区快餐店": [],
    }

    moved_to = customer_service.clock.advance(dt.timedelta(days=1))
    await ran_since(customer_service.runtime.sessions, "revisit-tasks", moved_to)
    revisits = await customer_service.stub.ListRevisitTasks(
        rpb.ListRevisitTasksRequest(due=rpb.REVISIT_DUE_ALL_OPEN), metadata=customer_service.metadata(rep)
    )
    history = await customer_service.stub.ListCustomerRevisits(
        rpb.ListCustomerRevisitsRequest(customer_id=halal.id), metadata=customer_service.metadata(rep)
    )
    assert {t.customer_name: _kinds(t) for t in revisits.tasks} == {
        "银川兴庆区清真餐厅": ["halal"],
        "银川金凤区快餐店": [],
    }
    assert [_kinds(t) for t in history.tasks] == [["halal"]]
    assert history.tasks[0].special_requirements[0].note == "清真专用车辆"


async def test_a_transfers_skipped_customers_carry_their_names_and_requirements(customer_service) -> None:
    org = customer_service.org
    admin = org.person(Role.ADMIN, org.hq)
    leaving = org.person(Role.SALES, org.shop_a)
    await customer_service.announce_user(leaving)
    halal = await customer_service.create(leaving, name="兰州城关区清真寺食堂", special_requirements=[HALAL])

    # No pool anywhere above the rep: every customer is skipped with no_pool.
    started = (
        await customer_service.stub.StartTransfer(
            tpb.StartTransferRequest(
                request_id=str(uuid.uuid4()),
                from_user_id=leaving.principal_id,
                mode=tpb.TRANSFER_MODE_POOL,
                reason="离职交接",
            ),
            metadata=customer_service.metadata(admin),
        )
    ).transfer
    moved_to = customer_service.clock.advance(dt.timedelta(seconds=10))
    await ran_since(customer_service.runtime.sessions, "customer-transfers", moved_to)
    done = (
        await customer_service.stub.GetTransfer(
            tpb.GetTransferRequest(id=started.id), metadata=customer_service.metadata(admin)
        )
    ).transfer
    listed = await customer_service.stub.ListTransfers(
        tpb.ListTransfersRequest(from_user_id=leaving.principal_id), metadata=customer_service.metadata(admin)
    )

    assert [(s.customer_id, s.reason, s.customer_name, _kinds(s)) for s in done.skips] == [
        (halal.id, "no_pool", "兰州城关区清真寺食堂", ["halal"])
    ]
    assert listed.transfers[0].skips == done.skips
