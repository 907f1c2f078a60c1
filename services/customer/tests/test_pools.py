"""The public pool: pools per org unit, release with a reason, claims with and without approval,
the cool-down, the daily limit, and exactly one winner when claims and decisions race."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import grpc

from crm.customer.v1 import customer_pb2 as pb
from crm.customer.v1 import follow_ups_pb2 as fpb
from crm.customer.v1 import ownership_pb2 as opb
from crm.customer.v1 import pools_pb2 as ppb
from crmkit.identity import Identity, Role


async def _pool(harness, unit: str, *, approval: bool = False, **rules: Any) -> ppb.Pool:  # type: ignore[no-untyped-def]
    org = harness.org
    boss = org.person(Role.BOSS, org.hq)
    request = ppb.CreatePoolRequest(
        pool=ppb.Pool(
            name="公海",
            org_unit_id=unit,
            org_path=org.path(unit),
            requires_approval=approval,
            rules=ppb.PoolRules(**rules) if rules else None,
        )
    )
    return (await harness.stub.CreatePool(request, metadata=harness.metadata(boss))).pool


async def _release(harness, who: Identity, customer_id: str, reason: str = "客户暂无需求", pool_id: str = ""):  # type: ignore[no-untyped-def]
    return await harness.stub.ReleaseToPool(
        ppb.ReleaseToPoolRequest(customer_id=customer_id, reason=reason, pool_id=pool_id),
        metadata=harness.metadata(who),
    )


def _claim(harness, who: Identity, pool_id: str, customer_id: str, reason: str = "老客户介绍"):  # type: ignore[no-untyped-def]
    return harness.stub.ClaimCustomer(
        ppb.ClaimCustomerRequest(pool_id=pool_id, customer_id=customer_id, reason=reason),
        metadata=harness.metadata(who),
    )


def _decide(harness, who: Identity, claim_id: str, approve: bool, comment: str = ""):  # type: ignore[no-untyped-def]
    return harness.stub.DecideClaim(
        ppb.DecideClaimRequest(claim_id=claim_id, approve=approve, comment=comment), metadata=harness.metadata(who)
    )


async def _pool_names(harness, who: Identity, pool_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    response = await harness.stub.ListPoolCustomers(
        ppb.ListPoolCustomersRequest(pool_id=pool_id), metadata=harness.metadata(who)
    )
    return [c.name for c in response.customers]


async def test_reps_see_the_pools_above_them_and_a_released_customer_waits_there(customer_service) -> None:
    org = customer_service.org
    rep_a, rep_b = org.person(Role.SALES, org.shop_a), org.person(Role.SALES, org.shop_b)
    hq_pool, sub_a_pool = await _pool(customer_service, org.hq), await _pool(customer_service, org.sub_a)
    customer = await customer_service.create(rep_a, name="潍坊奎文区食堂")

    released = await _release(customer_service, rep_a, customer.id, reason="连续三月无订单")
    pools_a = await customer_service.stub.ListPools(ppb.ListPoolsRequest(), metadata=customer_service.metadata(rep_a))
    pools_b = await customer_service.stub.ListPools(ppb.ListPoolsRequest(), metadata=customer_service.metadata(rep_b))

    assert (released.customer.enter_kind, released.customer.enter_reason) == ("released", "连续三月无订单")
    assert {p.id: p.customer_count for p in pools_a.pools} == {hq_pool.id: 0, sub_a_pool.id: 1}
    assert [p.id for p in pools_b.pools] == [hq_pool.id]
    assert await customer_service.list_names(rep_a) == []
    assert await _pool_names(customer_service, rep_a, sub_a_pool.id) == ["潍坊奎文区食堂"]
    hidden = await customer_service.refusal(
        customer_service.stub.ListPoolCustomers(
            ppb.ListPoolCustomersRequest(pool_id=sub_a_pool.id), metadata=customer_service.metadata(rep_b)
        )
    )
    assert hidden.code == grpc.StatusCode.NOT_FOUND
    types = [row.envelope.type for row in await customer_service.published_outbox()]
    assert types[-2:] == ["crm.customer.v1.customer_owner_changed", "crm.customer.v1.customer_released_to_pool"]


async def test_a_claim_without_approval_gives_the_rep_the_customer_and_a_first_visit_deadline(customer_service) -> None:
    org = customer_service.org
    rep_a, rep_b = org.person(Role.SALES, org.shop_a), org.person(Role.SALES, org.shop_a)
    pool = await _pool(customer_service, org.sub_a, first_visit_days=7)
    customer = await customer_service.create(rep_a, name="潍坊潍城区食堂")
    await _release(customer_service, rep_a, customer.id)

    claimed = (await _claim(customer_service, rep_b, pool.id, customer.id)).claim
    owned = (
        await customer_service.stub.GetCustomer(
            pb.GetCustomerRequest(id=customer.id), metadata=customer_service.metadata(rep_b)
        )
    ).customer
    history = await customer_service.stub.ListOwnerChanges(
        opb.ListOwnerChangesRequest(customer_id=customer.id), metadata=customer_service.metadata(rep_b)
    )

    assert claimed.status == ppb.CLAIM_STATUS_APPROVED
    assert (owned.owner_id, owned.org_unit_id, owned.pool_id) == (rep_b.principal_id, org.shop_a, "")
    due = owned.first_visit_due.ToDatetime(tzinfo=dt.UTC) - customer_service.clock()
    assert dt.timedelta(days=6, hours=23) < due <= dt.timedelta(days=7)
    assert [opb.OwnerChangeKind.Name(c.kind) for c in history.changes] == [
        "OWNER_CHANGE_KIND_CLAIMED",
        "OWNER_CHANGE_KIND_RELEASED",
        "OWNER_CHANGE_KIND_CREATED",
    ]
    # A visit logged by the new owner keeps the customer: the deadline is gone.
    await customer_service.stub.LogInteraction(
        fpb.LogInteractionRequest(
            interaction=fpb.Interaction(customer_id=customer.id, kind=fpb.INTERACTION_KIND_VISIT, content="首次拜访")
        ),
        metadata=customer_service.metadata(rep_b),
    )
    after = (
        await customer_service.stub.GetCustomer(
            pb.GetCustomerRequest(id=customer.id), metadata=customer_service.metadata(rep_b)
        )
    ).customer
    assert not after.HasField("first_visit_due")


async def test_a_released_customer_leaves_its_reps_search_and_joins_the_claimants(customer_service) -> None:
    """The pool keeps the old owner on the customer's search terms (no rewrite per return); the
    rep's search must still check the customer row, before and after a colleague claims it."""
    org = customer_service.org
    rep_a, rep_b = org.person(Role.SALES, org.shop_a), org.person(Role.SALES, org.shop_a)
    pool = await _pool(customer_service, org.sub_a)
    customer = await customer_service.create(rep_a, name="潍坊坊子区实验小学食堂")
    kept = await customer_service.create(rep_a, name="潍坊坊子区第二实验小学食堂")
    assert sorted(await customer_service.search(rep_a, "坊子")) == sorted([customer.name, kept.name])

    await _release(customer_service, rep_a, customer.id)
    in_pool = await customer_service.search(rep_a, "坊子"), await customer_service.search(rep_b, "坊子")
    await _claim(customer_service, rep_b, pool.id, customer.id)

    assert in_pool == ([kept.name], [])
    assert await customer_service.search(rep_a, "坊子") == [kept.name]
    assert await customer_service.search(rep_b, "坊子") == [customer.name]
    assert await customer_service.search(rep_b, "wffzq") == [customer.name]


async def test_the_rep_a_customer_left_waits_out_the_cool_down_before_claiming_it_again(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    pool = await _pool(customer_service, org.sub_a, cooldown_days=30)
    customer = await customer_service.create(rep, name="潍坊寒亭区食堂")
    await _release(customer_service, rep, customer.id)

    early = await customer_service.refusal(_claim(customer_service, rep, pool.id, customer.id))
    customer_service.clock.advance(dt.timedelta(days=30, minutes=1))
    later = (await _claim(customer_service, rep, pool.id, customer.id)).claim

    assert (early.code, early.trailers.get("crm-error-code")) == (grpc.StatusCode.FAILED_PRECONDITION, "claim_cooldown")
    assert later.status == ppb.CLAIM_STATUS_APPROVED


async def test_a_claim_that_needs_approval_waits_for_the_supervisor_and_blocks_other_claims(customer_service) -> None:
    org = customer_service.org
    rep_a, rep_b, rep_c = (org.person(Role.SALES, org.shop_a) for _ in range(3))
    supervisor, other_supervisor = org.person(Role.SUPERVISOR, org.sub_a), org.person(Role.SUPERVISOR, org.sub_b)
    pool = await _pool(customer_service, org.sub_a, approval=True)
    customer = await customer_service.create(rep_a, name="潍坊坊子区食堂")
    await _release(customer_service, rep_a, customer.id)

    pending = (await _claim(customer_service, rep_b, pool.id, customer.id)).claim
    second = await customer_service.refusal(_claim(customer_service, rep_c, pool.id, customer.id))
    outsider = await customer_service.refusal(_decide(customer_service, other_supervisor, pending.id, True))
    own = await customer_service.refusal(_decide(customer_service, rep_b, pending.id, True))
    no_comment = await customer_service.refusal(_decide(customer_service, supervisor, pending.id, False))
    to_decide = await customer_service.stub.ListClaims(
        ppb.ListClaimsRequest(view=ppb.CLAIM_VIEW_TO_DECIDE, status=ppb.CLAIM_STATUS_PENDING),
        metadata=customer_service.metadata(supervisor),
    )
    approved = (await _decide(customer_service, supervisor, pending.id, True, "同意")).claim
    again = await customer_service.refusal(_decide(customer_service, supervisor, pending.id, False, "撤回"))
    mine = await customer_service.stub.ListClaims(
        ppb.ListClaimsRequest(view=ppb.CLAIM_VIEW_MINE), metadata=customer_service.metadata(rep_b)
    )

    assert pending.status == ppb.CLAIM_STATUS_PENDING
    assert second.code == grpc.StatusCode.ABORTED
    assert outsider.code == grpc.StatusCode.NOT_FOUND and own.code == grpc.StatusCode.PERMISSION_DENIED
    assert (no_comment.code, no_comment.field) == (grpc.StatusCode.INVALID_ARGUMENT, "comment")
    assert [c.id for c in to_decide.claims] == [pending.id]
    assert (approved.status, approved.decider_id, approved.comment) == (
        ppb.CLAIM_STATUS_APPROVED,
        supervisor.principal_id,
        "同意",
    )
    assert again.code == grpc.StatusCode.ABORTED
    assert [(c.id, c.status, c.customer_name) for c in mine.claims] == [
        (pending.id, ppb.CLAIM_STATUS_APPROVED, "潍坊坊子区食堂")
    ]
    assert await customer_service.list_names(rep_b) == ["潍坊坊子区食堂"]
    types = [row.envelope.type for row in await customer_service.published_outbox()]
    assert "crm.customer.v1.pool_claim_submitted" in types and types[-1] == "crm.customer.v1.pool_claim_decided"


async def test_the_daily_claim_limit_counts_todays_claims_in_the_pool(customer_service) -> None:
    org = customer_service.org
    owner, rep = org.person(Role.SALES, org.shop_a), org.person(Role.SALES, org.shop_a)
    pool = await _pool(customer_service, org.sub_a, claims_per_day=1)
    customers = [await customer_service.create(owner, name=f"潍坊高新区第{n}食堂") for n in range(2)]
    for customer in customers:
        await _release(customer_service, owner, customer.id)

    await _claim(customer_service, rep, pool.id, customers[0].id)
    refused = await customer_service.refusal(_claim(customer_service, rep, pool.id, customers[1].id))

    assert (refused.code, refused.trailers.get("crm-error-code"), refused.trailers.get("crm-error-limit")) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "claim_limit_reached",
        "1",
    )


async def _claims_race(harness) -> None:  # type: ignore[no-untyped-def]
    org = harness.org
    owner = org.person(Role.SALES, org.shop_a)
    reps = [org.person(Role.SALES, org.shop_a) for _ in range(5)]
    pool = await _pool(harness, org.sub_a)
    customer = await harness.create(owner, name="潍坊昌乐县食堂")
    await _release(harness, owner, customer.id)

    results = await asyncio.gather(
        *(_claim(harness, rep, pool.id, customer.id) for rep in reps), return_exceptions=True
    )

    won = [r for r in results if not isinstance(r, BaseException)]
    lost = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(won) == 1 and len(lost) == 4, results
    assert {r.code() for r in lost} == {grpc.StatusCode.ABORTED}
    winner = won[0].claim.claimant_id
    owners = [rep.principal_id for rep in reps if await harness.list_names(rep)]
    assert owners == [winner]


async def test_five_reps_claiming_one_customer_at_once_leave_exactly_one_owner(customer_service) -> None:
    await _claims_race(customer_service)


async def test_five_reps_claiming_one_customer_at_once_on_sqlite(customer_service_sqlite) -> None:
    await _claims_race(customer_service_sqlite)


async def test_two_supervisors_approving_at_once_decide_once(customer_service) -> None:
    org = customer_service.org
    owner, rep = org.person(Role.SALES, org.shop_a), org.person(Role.SALES, org.shop_a)
    supervisors = [org.person(Role.SUPERVISOR, org.sub_a), org.person(Role.BOSS, org.hq)]
    pool = await _pool(customer_service, org.sub_a, approval=True)
    customer = await customer_service.create(owner, name="潍坊青州市食堂")
    await _release(customer_service, owner, customer.id)
    pending = (await _claim(customer_service, rep, pool.id, customer.id)).claim

    results = await asyncio.gather(
        *(_decide(customer_service, s, pending.id, True, "同意") for s in supervisors), return_exceptions=True
    )

    assert sorted(type(r).__name__ for r in results) == ["AioRpcError", "DecideClaimResponse"]
    assert next(r for r in results if isinstance(r, grpc.aio.AioRpcError)).code() == grpc.StatusCode.ABORTED
    history = await customer_service.stub.ListOwnerChanges(
        opb.ListOwnerChangesRequest(customer_id=customer.id), metadata=customer_service.metadata(rep)
    )
    assert opb.OwnerChangeKind.Name(history.changes[0].kind) == "OWNER_CHANGE_KIND_APPROVED"
    assert len(history.changes) == 3


async def test_bad_pool_requests_are_refused_naming_the_field(customer_service) -> None:
    org = customer_service.org
    rep, boss = org.person(Role.SALES, org.shop_a), org.person(Role.BOSS, org.hq)
    customer = await customer_service.create(rep, name="潍坊诸城市食堂")
    no_pool = await customer_service.refusal(_release(customer_service, rep, customer.id))
    pool = await _pool(customer_service, org.sub_a)

    def create(**fields: Any):  # type: ignore[no-untyped-def]
        base = {"name": "公海", "org_unit_id": org.hq, "org_path": org.path(org.hq)}
        return customer_service.stub.CreatePool(
            ppb.CreatePoolRequest(pool=ppb.Pool(**{**base, **fields})), metadata=customer_service.metadata(boss)
        )

    refusals = {
        "reason": await customer_service.refusal(_release(customer_service, rep, customer.id, reason="  ")),
        "pool_id": await customer_service.refusal(_release(customer_service, rep, customer.id, pool_id="no-such-pool")),
        "pool.name": await customer_service.refusal(create(name="")),
        "pool.rules.no_follow_up_days": await customer_service.refusal(
            create(rules=ppb.PoolRules(no_follow_up_days={"gold": 10}))
        ),
        "pool.rules.cooldown_days": await customer_service.refusal(create(rules=ppb.PoolRules(cooldown_days=-1))),
        "pool.org_unit_id": await customer_service.refusal(create(org_unit_id=org.sub_a, org_path=org.path(org.sub_a))),
    }
    by_rep = await customer_service.refusal(
        customer_service.stub.CreatePool(
            ppb.CreatePoolRequest(pool=ppb.Pool(name="公海", org_unit_id=org.shop_a, org_path=org.path(org.shop_a))),
            metadata=customer_service.metadata(rep),
        )
    )
    unknown_pool = await customer_service.refusal(_claim(customer_service, rep, "no-such-pool", customer.id))
    not_in_pool = await customer_service.refusal(_claim(customer_service, rep, pool.id, customer.id))

    assert no_pool.code == grpc.StatusCode.FAILED_PRECONDITION
    assert {field: (r.code, r.field) for field, r in refusals.items()} == {
        field: (grpc.StatusCode.INVALID_ARGUMENT, field) for field in refusals
    }
    assert by_rep.code == grpc.StatusCode.PERMISSION_DENIED
    assert unknown_pool.code == not_in_pool.code == grpc.StatusCode.NOT_FOUND
