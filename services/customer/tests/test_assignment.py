"""Assignment rules (自动分配): new customers nobody named an owner for are placed by the first rule
they meet, skipping inactive users and users at their cap (unknown ones are refused in the rule),
else left to a pool; a dry run says why; only admins and bosses edit rules; round-robin turns hold
under concurrent creates."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from typing import Any

import grpc
import pytest

from crm.customer.v1 import assignment_pb2 as apb
from crm.customer.v1 import customer_pb2 as pb
from crm.customer.v1 import ownership_pb2 as opb
from crm.customer.v1 import pools_pb2 as ppb
from crmkit.identity import PARTNER_PERMISSION, Identity, Role

ZHEJIANG = [pb.Address(label="收货地址", province="浙江", city="杭州", district="西湖区", detail="文三路1号")]
SHANDONG = [pb.Address(label="收货地址", province="山东", city="潍坊", district="奎文区", detail="胜利街2号")]


def _rule(
    name: str, strategy: int, *, users: list[str] | None = None, unit: str = "", **conditions: Any
) -> apb.AssignmentRule:
    return apb.AssignmentRule(
        name=name,
        enabled=True,
        strategy=strategy,
        conditions=apb.AssignmentConditions(**conditions),
        target=apb.AssignmentTarget(user_ids=users or [], org_unit_id=unit),
    )


async def _set_rules(harness, who: Identity, *rules: apb.AssignmentRule) -> apb.SetAssignmentRulesResponse:  # type: ignore[no-untyped-def]
    return await harness.stub.SetAssignmentRules(
        apb.SetAssignmentRulesRequest(rules=list(rules)), metadata=harness.metadata(who)
    )


async def _create_by_rule(harness, who: Identity, name: str, **fields: Any) -> pb.Customer:  # type: ignore[no-untyped-def]
    request = pb.CreateCustomerRequest(
        request_id=str(uuid.uuid4()), customer=pb.Customer(name=name, **fields), assign_by_rule=True
    )
    return (await harness.stub.CreateCustomer(request, metadata=harness.metadata(who))).customer


async def _reps(harness, unit: str, count: int) -> list[Identity]:  # type: ignore[no-untyped-def]
    reps = [harness.org.person(Role.SALES, unit) for _ in range(count)]
    for rep in reps:
        await harness.announce_user(rep)
    return reps


async def _pool(harness, unit: str) -> ppb.Pool:  # type: ignore[no-untyped-def]
    boss = harness.org.person(Role.BOSS, harness.org.hq)
    request = ppb.CreatePoolRequest(pool=ppb.Pool(name="公海", org_unit_id=unit, org_path=harness.org.path(unit)))
    return (await harness.stub.CreatePool(request, metadata=harness.metadata(boss))).pool


async def test_a_region_rule_hands_new_customers_to_its_reps_in_turn_and_records_the_rule(customer_service) -> None:
    org = customer_service.org
    admin = org.person(Role.ADMIN, org.hq)
    rep_a, rep_b = await _reps(customer_service, org.shop_a, 2)
    rules = await _set_rules(
        customer_service,
        admin,
        _rule(
            "浙江客户轮流分配",
            apb.ASSIGNMENT_STRATEGY_ROUND_ROBIN,
            users=[rep_a.principal_id, rep_b.principal_id],
            provinces=["浙江"],
        ),
    )
    rule_id = rules.rules[0].id

    created = [await _create_by_rule(customer_service, admin, f"杭州食堂{i}", addresses=ZHEJIANG) for i in range(3)]
    history = await customer_service.stub.ListOwnerChanges(
        opb.ListOwnerChangesRequest(customer_id=created[0].id), metadata=customer_service.metadata(admin)
    )

    assert [c.owner_id for c in created] == [rep_a.principal_id, rep_b.principal_id, rep_a.principal_id]
    assert {c.assigned_rule_id for c in created} == {rule_id}
    assert (created[1].org_unit_id, created[1].org_path) == (org.shop_a, org.path(org.shop_a))
    assert [(c.kind, c.rule_id) for c in history.changes] == [(opb.OWNER_CHANGE_KIND_ASSIGNED_BY_RULE, rule_id)]
    types = [row.envelope.type for row in await customer_service.outbox()]
    assert types.count("crm.customer.v1.customer_created") == 3


async def test_a_product_line_rule_skips_inactive_and_capped_users(customer_service) -> None:
    org = customer_service.org
    boss = org.person(Role.BOSS, org.hq)
    left, full, free = await _reps(customer_service, org.shop_b, 3)
    await customer_service.announce_user(left, active=False, version=2)
    await customer_service.stub.SetProductLines(
        pb.SetProductLinesRequest(product_lines=["猪料", "禽料"]), metadata=customer_service.metadata(boss)
    )
    await customer_service.stub.SetCustomerCaps(
        opb.SetCustomerCapsRequest(users=[opb.UserCustomerCap(user_id=full.principal_id, cap=1)]),
        metadata=customer_service.metadata(boss),
    )
    await customer_service.create(full, name="已有客户")
    await _set_rules(
        customer_service,
        boss,
        _rule(
            "猪料给指定销售",
            apb.ASSIGNMENT_STRATEGY_FIXED,
            users=[left.principal_id, full.principal_id, free.principal_id],
            product_lines=["猪料"],
        ),
    )
    dry = await customer_service.stub.DryRunAssignment(
        apb.DryRunAssignmentRequest(facts=apb.AssignmentFacts(product_lines=["禽料", "猪料"])),
        metadata=customer_service.metadata(boss),
    )
    customer = await _create_by_rule(customer_service, boss, "养殖场", product_lines=["猪料"])

    assert customer.owner_id == free.principal_id
    assert dry.owner_id == free.principal_id
    assert [(s.user_id, s.reason) for s in dry.checks[0].skipped] == [
        (left.principal_id, "inactive"),
        (full.principal_id, "at_cap"),
    ]


async def test_with_no_rule_or_nobody_eligible_the_customer_waits_in_the_pool(customer_service) -> None:
    org = customer_service.org
    admin = org.person(Role.ADMIN, org.hq)
    supervisor = org.person(Role.SUPERVISOR, org.sub_a)
    (rep,) = await _reps(customer_service, org.shop_a, 1)
    hq_pool, sub_pool = await _pool(customer_service, org.hq), await _pool(customer_service, org.sub_a)
    await customer_service.announce_user(rep, active=False, version=2)
    rules = await _set_rules(
        customer_service,
        admin,
        _rule("浙江", apb.ASSIGNMENT_STRATEGY_LEAST_LOADED, users=[rep.principal_id], provinces=["浙江"]),
    )

    unmatched = await _create_by_rule(customer_service, supervisor, "潍坊食堂", addresses=SHANDONG)
    nobody = await _create_by_rule(customer_service, admin, "杭州食堂", addresses=ZHEJIANG)

    assert (unmatched.owner_id, unmatched.pool_id, unmatched.org_unit_id) == ("", sub_pool.id, org.sub_a)
    assert unmatched.assigned_rule_id == ""
    assert (nobody.owner_id, nobody.pool_id, nobody.assigned_rule_id) == ("", hq_pool.id, rules.rules[0].id)
    pooled = await customer_service.stub.ListPoolCustomers(
        ppb.ListPoolCustomersRequest(pool_id=sub_pool.id), metadata=customer_service.metadata(supervisor)
    )
    assert [(c.name, c.enter_kind) for c in pooled.customers] == [("潍坊食堂", "created")]


async def test_without_rules_or_pools_the_creator_owns_it_and_a_partner_is_refused_clearly(customer_service) -> None:
    admin = customer_service.org.person(Role.ADMIN, customer_service.org.hq)
    partner = replace(admin, permissions=frozenset({PARTNER_PERMISSION}))

    kept = await _create_by_rule(customer_service, admin, "管理员自己的客户")
    refused = await customer_service.refusal(_create_by_rule(customer_service, partner, "无处可去"))

    assert (kept.owner_id, kept.assigned_rule_id) == (admin.principal_id, "")
    assert refused.code == grpc.StatusCode.FAILED_PRECONDITION
    assert refused.trailers["crm-error-code"] == "no_assignee"


async def test_a_sales_rep_owns_what_they_create_even_when_asking_for_rules(customer_service) -> None:
    org = customer_service.org
    (rep,) = await _reps(customer_service, org.shop_a, 1)
    (other,) = await _reps(customer_service, org.shop_a, 1)
    admin = org.person(Role.ADMIN, org.hq)
    await _set_rules(customer_service, admin, _rule("全部", apb.ASSIGNMENT_STRATEGY_FIXED, users=[other.principal_id]))

    customer = await _create_by_rule(customer_service, rep, "自己的客户")

    assert (customer.owner_id, customer.assigned_rule_id) == (rep.principal_id, "")


async def test_a_dry_run_explains_each_rule_and_takes_no_turn(customer_service) -> None:
    org = customer_service.org
    boss = org.person(Role.BOSS, org.hq)
    rep_a, rep_b = await _reps(customer_service, org.shop_a, 2)
    await _set_rules(
        customer_service,
        boss,
        _rule("山东", apb.ASSIGNMENT_STRATEGY_FIXED, users=[rep_b.principal_id], provinces=["山东"]),
        _rule("展会客户", apb.ASSIGNMENT_STRATEGY_FIXED, users=[rep_a.principal_id], sources=["trade_show"]),
        _rule("分店轮流", apb.ASSIGNMENT_STRATEGY_ROUND_ROBIN, unit=org.sub_a),
    )
    customer = await customer_service.create(boss, name="杭州酒店", addresses=ZHEJIANG, source="online")

    answers = [
        await customer_service.stub.DryRunAssignment(
            apb.DryRunAssignmentRequest(customer_id=customer.id), metadata=customer_service.metadata(boss)
        )
        for _ in range(2)
    ]

    first = answers[0]
    assert [(c.rule_name, c.matched) for c in first.checks] == [
        ("山东", False),
        ("展会客户", False),
        ("分店轮流", True),
    ]
    assert "浙江" in first.checks[0].reason and "山东" in first.checks[0].reason
    assert "online" in first.checks[1].reason
    assert first.owner_id == min(rep_a.principal_id, rep_b.principal_id)
    assert answers[1].owner_id == first.owner_id
    assert "分店轮流" in first.explanation


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        (_rule("空目标", apb.ASSIGNMENT_STRATEGY_FIXED), "rules[0].target"),
        (_rule("两种目标", apb.ASSIGNMENT_STRATEGY_FIXED, users=["u1"], unit="unit"), "rules[0].target"),
        (_rule("无方式", apb.ASSIGNMENT_STRATEGY_UNSPECIFIED, users=["u1"]), "rules[0].strategy"),
        (_rule("未知方式", 42, users=["u1"]), "rules[0].strategy"),
        (_rule("", apb.ASSIGNMENT_STRATEGY_FIXED, users=["u1"]), "rules[0].name"),
        (_rule("未知用户", apb.ASSIGNMENT_STRATEGY_FIXED, users=[str(uuid.uuid4())]), "rules[0].target.user_ids[0]"),
        (
            _rule("重复", apb.ASSIGNMENT_STRATEGY_FIXED, users=["u1"], provinces=["浙江", "浙江"]),
            "rules[0].conditions.provinces",
        ),
        (_rule("x" * 51, apb.ASSIGNMENT_STRATEGY_FIXED, users=["u1"]), "rules[0].name"),
    ],
    ids=[
        "empty-target",
        "both-targets",
        "no-strategy",
        "unknown-strategy",
        "no-name",
        "unknown-user",
        "repeated-value",
        "long-name",
    ],
)
async def test_a_bad_rule_is_refused_naming_its_field(customer_service, rule: apb.AssignmentRule, field: str) -> None:
    admin = customer_service.org.person(Role.ADMIN, customer_service.org.hq)

    refused = await customer_service.refusal(_set_rules(customer_service, admin, rule))

    assert (refused.code, refused.field) == (grpc.StatusCode.INVALID_ARGUMENT, field)


async def test_only_admins_and_bosses_edit_rules_and_reps_cannot_read_them(customer_service) -> None:
    org = customer_service.org
    (rep,) = await _reps(customer_service, org.shop_a, 1)
    supervisor = org.person(Role.SUPERVISOR, org.sub_a)
    rule = _rule("全部", apb.ASSIGNMENT_STRATEGY_FIXED, users=[rep.principal_id])

    by_supervisor = await customer_service.refusal(_set_rules(customer_service, supervisor, rule))
    by_rep = await customer_service.refusal(
        customer_service.stub.ListAssignmentRules(
            apb.ListAssignmentRulesRequest(), metadata=customer_service.metadata(rep)
        )
    )
    readable = await customer_service.stub.ListAssignmentRules(
        apb.ListAssignmentRulesRequest(), metadata=customer_service.metadata(supervisor)
    )

    assert by_supervisor.code == grpc.StatusCode.PERMISSION_DENIED
    assert by_rep.code == grpc.StatusCode.PERMISSION_DENIED
    assert list(readable.rules) == []


async def test_a_dry_run_of_another_tenants_customer_is_not_found(customer_service) -> None:
    org = customer_service.org
    admin = org.person(Role.ADMIN, org.hq)
    stranger = Identity(
        principal_id=str(uuid.uuid4()),
        tenant_id=str(uuid.uuid4()),
        org_unit_id=org.hq,
        org_path=org.path(org.hq),
        role=Role.ADMIN,
    )
    theirs = await customer_service.create(stranger, name="别家客户")

    refused = await customer_service.refusal(
        customer_service.stub.DryRunAssignment(
            apb.DryRunAssignmentRequest(customer_id=theirs.id), metadata=customer_service.metadata(admin)
        )
    )
    unknown_unit = await customer_service.refusal(
        customer_service.stub.DryRunAssignment(
            apb.DryRunAssignmentRequest(org_unit_id=str(uuid.uuid4())), metadata=customer_service.metadata(admin)
        )
    )

    assert refused.code == grpc.StatusCode.NOT_FOUND
    assert unknown_unit.code == grpc.StatusCode.NOT_FOUND


async def _turns_under_concurrent_creates(harness) -> None:  # type: ignore[no-untyped-def]
    org = harness.org
    admin = org.person(Role.ADMIN, org.hq)
    reps = await _reps(harness, org.shop_a, 3)
    await _set_rules(
        harness, admin, _rule("轮流", apb.ASSIGNMENT_STRATEGY_ROUND_ROBIN, users=[r.principal_id for r in reps])
    )

    created = await asyncio.gather(*(_create_by_rule(harness, admin, f"并发客户{i}") for i in range(6)))

    owners = [c.owner_id for c in created]
    assert sorted(owners.count(r.principal_id) for r in reps) == [2, 2, 2]


async def test_round_robin_turns_hold_under_concurrent_creates_on_postgresql(customer_service) -> None:
    await _turns_under_concurrent_creates(customer_service)


async def test_round_robin_turns_hold_under_concurrent_creates_on_sqlite(customer_service_sqlite) -> None:
    await _turns_under_concurrent_creates(customer_service_sqlite)
