"""The pool sweep, on the service's moved clock: warnings before a return, returns by each rule
to the nearest pool, and what saves a customer (a follow-up, a visit, a contract)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from crm.customer.v1 import customer_pb2 as pb
from crm.customer.v1 import events_pb2
from crm.customer.v1 import follow_ups_pb2 as fpb
from crm.customer.v1 import ownership_pb2 as opb
from crm.customer.v1 import pools_pb2 as ppb
from crmkit.clock import shanghai_date
from crmkit.identity import Identity, Role
from crmkit.testing.jobs import ran_since


async def _pool(harness, unit: str, **rules: Any) -> ppb.Pool:  # type: ignore[no-untyped-def]
    org = harness.org
    request = ppb.CreatePoolRequest(
        pool=ppb.Pool(name="公海", org_unit_id=unit, org_path=org.path(unit), rules=ppb.PoolRules(**rules))
    )
    return (await harness.stub.CreatePool(request, metadata=harness.metadata(org.person(Role.BOSS, org.hq)))).pool


async def _move(harness, by: dt.timedelta) -> None:  # type: ignore[no-untyped-def]
    """Move the service's clock and wait for the sweep that the move sets off."""
    moved_to = harness.clock.advance(by)
    await ran_since(harness.runtime.sessions, "pool-sweep", moved_to)


async def _get(harness, who: Identity, customer_id: str) -> pb.Customer:  # type: ignore[no-untyped-def]
    return (
        await harness.stub.GetCustomer(pb.GetCustomerRequest(id=customer_id), metadata=harness.metadata(who))
    ).customer


async def _events(harness, name: str) -> list[Any]:  # type: ignore[no-untyped-def]
    kinds = {
        "customer_return_warning": events_pb2.CustomerReturnWarning,
        "customer_returned_to_pool": events_pb2.CustomerReturnedToPool,
    }
    found = []
    for row in await harness.published_outbox():
        if row.envelope.type == f"crm.customer.v1.{name}":
            message = kinds[name]()
            assert row.envelope.payload.Unpack(message)
            found.append(message)
    return found


async def test_a_neglected_customer_is_warned_once_then_returned_to_the_nearest_pool(customer_service) -> None:
    org = customer_service.org
    rep, boss = org.person(Role.SALES, org.shop_a), org.person(Role.BOSS, org.hq)
    await _pool(customer_service, org.hq, no_follow_up_days={"normal": 30}, warn_days_before=3)
    sub_pool = await _pool(customer_service, org.sub_a, no_follow_up_days={"normal": 15}, warn_days_before=3)
    customer = await customer_service.create(rep, name="临沂兰山区食堂")

    await _move(customer_service, dt.timedelta(days=12, hours=1))
    await _move(customer_service, dt.timedelta(hours=2))
    warnings = await _events(customer_service, "customer_return_warning")
    still_owned = await _get(customer_service, boss, customer.id)
    await _move(customer_service, dt.timedelta(days=3))
    returned = await _get(customer_service, boss, customer.id)
    history = await customer_service.stub.ListOwnerChanges(
        opb.ListOwnerChangesRequest(customer_id=customer.id), metadata=customer_service.metadata(boss)
    )
    returns = await _events(customer_service, "customer_returned_to_pool")

    assert [(w.customer.id, w.owner_id, w.rule) for w in warnings] == [(customer.id, rep.principal_id, "no_follow_up")]
    assert still_owned.owner_id == rep.principal_id
    assert (returned.owner_id, returned.pool_id, returned.org_unit_id) == ("", sub_pool.id, org.sub_a)
    assert history.changes[0].kind == opb.OWNER_CHANGE_KIND_RETURNED_BY_RULE and history.changes[0].actor_id == ""
    assert [(r.customer.id, r.previous_owner_id, r.rule) for r in returns] == [
        (customer.id, rep.principal_id, "no_follow_up")
    ]
    assert await customer_service.list_names(rep) == []


async def test_a_follow_up_restarts_the_count_and_a_contract_exempts(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    await _pool(customer_service, org.sub_a, no_follow_up_days={"normal": 15}, exempt_active_contract=True)
    followed = await customer_service.create(rep, name="临沂罗庄区食堂")
    today = shanghai_date(customer_service.clock())
    contracted = await customer_service.create(
        rep,
        name="临沂河东区食堂",
        contract_start=today.isoformat(),
        contract_end=(today + dt.timedelta(days=365)).isoformat(),
    )

    await _move(customer_service, dt.timedelta(days=10))
    await customer_service.stub.LogInteraction(
        fpb.LogInteractionRequest(
            interaction=fpb.Interaction(customer_id=followed.id, kind=fpb.INTERACTION_KIND_PHONE, content="电话回访")
        ),
        metadata=customer_service.metadata(rep),
    )
    await _move(customer_service, dt.timedelta(days=10))

    assert sorted(await customer_service.list_names(rep)) == ["临沂河东区食堂", "临沂罗庄区食堂"]
    await _move(customer_service, dt.timedelta(days=6))
    assert await customer_service.list_names(rep) == ["临沂河东区食堂"]
    assert (await _get(customer_service, rep, contracted.id)).owner_id == rep.principal_id


async def test_a_claimed_customer_without_a_first_visit_goes_back_and_one_visited_stays(customer_service) -> None:
    org = customer_service.org
    owner, rep_b, rep_c = (org.person(Role.SALES, org.shop_a) for _ in range(3))
    pool = await _pool(customer_service, org.sub_a, first_visit_days=7, no_follow_up_days={})
    customers = [await customer_service.create(owner, name=name) for name in ("临沂兰陵县食堂", "临沂沂水县食堂")]
    for customer, claimant in zip(customers, (rep_b, rep_c), strict=True):
        await customer_service.stub.ReleaseToPool(
            ppb.ReleaseToPoolRequest(customer_id=customer.id, reason="无人跟进"),
            metadata=customer_service.metadata(owner),
        )
        await customer_service.stub.ClaimCustomer(
            ppb.ClaimCustomerRequest(pool_id=pool.id, customer_id=customer.id, reason="有意向"),
            metadata=customer_service.metadata(claimant),
        )
    await customer_service.stub.LogInteraction(
        fpb.LogInteractionRequest(
            interaction=fpb.Interaction(
                customer_id=customers[1].id, kind=fpb.INTERACTION_KIND_VISIT, content="上门拜访"
            )
        ),
        metadata=customer_service.metadata(rep_c),
    )

    await _move(customer_service, dt.timedelta(days=7, minutes=1))
    returns = await _events(customer_service, "customer_returned_to_pool")

    assert await customer_service.list_names(rep_b) == []
    assert await customer_service.list_names(rep_c) == ["临沂沂水县食堂"]
    assert [(r.customer.id, r.rule) for r in returns] == [(customers[0].id, "first_visit_missed")]
    assert "未按期回访" in returns[0].reason
    # Missing the first visit bars nobody: the claimant may try again at once; the owner who
    # released it waits out the cool-down.
    again = await customer_service.stub.ClaimCustomer(
        ppb.ClaimCustomerRequest(pool_id=pool.id, customer_id=customers[0].id, reason="再次跟进"),
        metadata=customer_service.metadata(rep_b),
    )
    assert again.claim.status == ppb.CLAIM_STATUS_APPROVED


async def test_a_lead_not_signed_in_time_returns_but_a_signed_one_stays(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    await _pool(customer_service, org.sub_a, no_deal_days=60, no_follow_up_days={}, warn_days_before=3)
    await customer_service.create(rep, name="临沂费县食堂")
    await customer_service.create(rep, name="临沂平邑县食堂", lifecycle_stage=pb.LIFECYCLE_STAGE_SIGNED)

    await _move(customer_service, dt.timedelta(days=60, minutes=1))

    assert await customer_service.list_names(rep) == ["临沂平邑县食堂"]


async def test_a_claim_nobody_decides_in_a_week_expires_and_frees_the_customer(customer_service) -> None:
    org = customer_service.org
    owner, rep_b, rep_c = (org.person(Role.SALES, org.shop_a) for _ in range(3))
    pool = await _pool(customer_service, org.sub_a, no_follow_up_days={}, first_visit_days=0)
    request = ppb.CreatePoolRequest(
        pool=ppb.Pool(name="审批公海", org_unit_id=org.sub_b, org_path=org.path(org.sub_b), requires_approval=True)
    )
    del pool
    approval_pool = (
        await customer_service.stub.CreatePool(
            request, metadata=customer_service.metadata(org.person(Role.BOSS, org.hq))
        )
    ).pool
    rep_b, rep_c = org.person(Role.SALES, org.shop_b), org.person(Role.SALES, org.shop_b)
    owner = org.person(Role.SALES, org.shop_b)
    customer = await customer_service.create(owner, name="临沂郯城县食堂")
    await customer_service.stub.ReleaseToPool(
        ppb.ReleaseToPoolRequest(customer_id=customer.id, reason="无人跟进"), metadata=customer_service.metadata(owner)
    )
    pending = (
        await customer_service.stub.ClaimCustomer(
            ppb.ClaimCustomerRequest(pool_id=approval_pool.id, customer_id=customer.id, reason="有意向"),
            metadata=customer_service.metadata(rep_b),
        )
    ).claim

    await _move(customer_service, dt.timedelta(days=7, minutes=1))
    mine = await customer_service.stub.ListClaims(
        ppb.ListClaimsRequest(view=ppb.CLAIM_VIEW_MINE), metadata=customer_service.metadata(rep_b)
    )
    second = await customer_service.stub.ClaimCustomer(
        ppb.ClaimCustomerRequest(pool_id=approval_pool.id, customer_id=customer.id, reason="也有意向"),
        metadata=customer_service.metadata(rep_c),
    )

    assert [(c.id, c.status) for c in mine.claims] == [(pending.id, ppb.CLAIM_STATUS_EXPIRED)]
    assert second.claim.status == ppb.CLAIM_STATUS_PENDING
