"""Customer profile (issue 12): preferences and special requirements, tiers and grades with their
sources and history, the lifecycle stage history."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask

from crm.customer.v1 import customer_pb2 as pb
from crm.customer.v1 import events_pb2
from crm.customer.v1 import profile_pb2 as prpb
from crm_customer.customers.models import Customer
from crm_customer.tiers.service import AUTOMATIC_TIER_PERMISSION
from crmkit.events import event_type_of
from crmkit.identity import Identity, Role

VALUE, GRADE = prpb.TIER_DIMENSION_VALUE, prpb.TIER_DIMENSION_GRADE
MANUAL, AUTOMATIC = prpb.TIER_SOURCE_MANUAL, prpb.TIER_SOURCE_AUTOMATIC


@pytest.fixture(params=["postgresql", "sqlite"])
def harness(request: pytest.FixtureRequest) -> Any:
    """The service on PostgreSQL and on SQLite (the embedded default)."""
    return request.getfixturevalue("customer_service" if request.param == "postgresql" else "customer_service_sqlite")


def _window(weekday: int, start: str, end: str) -> prpb.DeliveryWindow:
    return prpb.DeliveryWindow(weekday=weekday, start=start, end=end)


HALAL = prpb.SpecialRequirement(kind="halal", note="回民食堂")
NO_PORK = prpb.SpecialRequirement(kind="no_pork")


def _analytics(org: Any) -> Identity:
    """The identity the analytics service will call with: tenant-wide, allowed automatic tiers."""
    return replace(
        org.person(Role.ADMIN, org.hq, principal_id="service:analytics"),
        permissions=frozenset({AUTOMATIC_TIER_PERMISSION}),
    )


async def _update(harness: Any, who: Identity, customer: pb.Customer, *paths: str, reason: str = "") -> pb.Customer:
    response = await harness.stub.UpdateCustomer(
        pb.UpdateCustomerRequest(customer=customer, update_mask=FieldMask(paths=list(paths)), reason=reason),
        metadata=harness.metadata(who),
    )
    return response.customer


# ------------------------------------------------------------------ preferences and requirements


async def test_a_halal_customer_carries_its_requirements_and_preferences_in_reads_and_events(harness) -> None:
    org = harness.org
    rep = org.person(Role.SALES, org.shop_a)
    preferences = prpb.CustomerPreferences(
        categories=["冷冻肉品", "新鲜蔬菜"],
        specifications=["牛腩 5kg/箱"],
        quality_grade="一级",
        brands=["伊赛"],
        delivery_windows=[_window(3, "14:00", "16:00"), _window(1, "06:00", "07:30"), _window(1, "10:00", "11:00")],
        delivery_notes="后门卸货\n清真车辆专送",
    )
    created = await harness.create(
        rep,
        name="杭州市西湖区回民中学食堂",
        preferences=preferences,
        special_requirements=[HALAL, prpb.SpecialRequirement(kind="allergens", details=["花生", "虾"])],
    )
    read = (
        await harness.stub.GetCustomer(pb.GetCustomerRequest(id=created.id), metadata=harness.metadata(rep))
    ).customer
    updated = await _update(
        harness,
        rep,
        pb.Customer(id=created.id, special_requirements=[HALAL, NO_PORK, prpb.SpecialRequirement(kind="cold_chain")]),
        "special_requirements",
    )
    rows = await harness.published_outbox()

    assert [r.kind for r in read.special_requirements] == ["halal", "allergens"]
    assert list(read.special_requirements[1].details) == ["花生", "虾"]
    # Windows are kept in weekday and time order.
    assert [(w.weekday, w.start, w.end) for w in read.preferences.delivery_windows] == [
        (1, "06:00", "07:30"),
        (1, "10:00", "11:00"),
        (3, "14:00", "16:00"),
    ]
    assert read.preferences.delivery_notes == "后门卸货\n清真车辆专送"
    assert [r.kind for r in updated.special_requirements] == ["halal", "no_pork", "cold_chain"]
    mine = [r for r in rows if r.envelope.aggregate_id == created.id]
    born, changed = events_pb2.CustomerCreated(), events_pb2.CustomerUpdated()
    assert mine[0].envelope.payload.Unpack(born) and mine[-1].envelope.payload.Unpack(changed)
    assert [r.kind for r in born.customer.special_requirements] == ["halal", "allergens"]
    assert born.customer.preferences.categories == ["冷冻肉品", "新鲜蔬菜"]
    assert list(changed.changed_fields) == ["special_requirements"]
    assert [r.kind for r in changed.customer.special_requirements] == ["halal", "no_pork", "cold_chain"]


@pytest.mark.parametrize(
    ("preferences", "requirements", "field"),
    [
        ({"delivery_windows": [_window(8, "06:00", "07:00")]}, [], "customer.preferences.delivery_windows[0].weekday"),
        ({"delivery_windows": [_window(1, "6点", "07:00")]}, [], "customer.preferences.delivery_windows[0].start"),
        ({"delivery_windows": [_window(1, "07:00", "25:00")]}, [], "customer.preferences.delivery_windows[0].end"),
        (
            {
                "delivery_windows": [
                    _window(1, "06:00", "08:00"),
                    _window(2, "06:00", "08:00"),
                    _window(2, "09:00", "08:30"),
                ]
            },
            [],
            "customer.preferences.delivery_windows[2].end",
        ),
        (
            {"delivery_windows": [_window(5, "06:00", "08:00"), _window(5, "07:30", "09:00")]},
            [],
            "customer.preferences.delivery_windows[1].start",
        ),
        ({"categories": ["x" * 31]}, [], "customer.preferences.categories[0]"),
        ({}, [prpb.SpecialRequirement(kind="kosher")], "customer.special_requirements[0].kind"),
        ({}, [HALAL, HALAL], "customer.special_requirements[1].kind"),
        ({}, [prpb.SpecialRequirement(kind="allergens")], "customer.special_requirements[0].details"),
        ({}, [prpb.SpecialRequirement(kind="halal", details=["羊肉"])], "customer.special_requirements[0].details"),
    ],
)
async def test_bad_preferences_and_requirements_are_refused_naming_the_field(
    harness, preferences: dict[str, Any], requirements: list[prpb.SpecialRequirement], field: str
) -> None:
    org = harness.org
    rep = org.person(Role.SALES, org.shop_a)
    refused = await harness.refusal(
        harness.create(
            rep,
            name="宁波市鄞州区食堂",
            preferences=prpb.CustomerPreferences(**preferences),
            special_requirements=requirements,
        )
    )
    assert (refused.code, refused.field) == (grpc.StatusCode.INVALID_ARGUMENT, field)
    assert await harness.customer_count() == 0


async def test_a_tenants_own_requirement_kinds_replace_the_defaults_and_customers_keep_removed_ones(
    harness,
) -> None:
    org = harness.org
    admin, rep = org.person(Role.ADMIN, org.hq), org.person(Role.SALES, org.shop_a)
    defaults = await harness.stub.ListSpecialRequirementKinds(
        prpb.ListSpecialRequirementKindsRequest(), metadata=harness.metadata(rep)
    )
    customer = await harness.create(rep, name="嘉兴市南湖区清真餐厅", special_requirements=[HALAL])
    by_rep = await harness.refusal(
        harness.stub.SetSpecialRequirementKinds(
            prpb.SetSpecialRequirementKindsRequest(kinds=[prpb.SpecialRequirementKind(key="kosher", label="犹太洁食")]),
            metadata=harness.metadata(rep),
        )
    )
    await harness.stub.SetSpecialRequirementKinds(
        prpb.SetSpecialRequirementKindsRequest(
            kinds=[
                prpb.SpecialRequirementKind(key="kosher", label="犹太洁食", description="须有洁食认证"),
                prpb.SpecialRequirementKind(key="cold_chain", label="冷链"),
            ]
        ),
        metadata=harness.metadata(admin),
    )
    # Halal is no longer listed: the customer keeps it through an edit, but nobody adds it anew.
    kept = await _update(
        harness,
        rep,
        pb.Customer(id=customer.id, special_requirements=[HALAL, prpb.SpecialRequirement(kind="kosher")]),
        "special_requirements",
    )
    refused = await harness.refusal(harness.create(rep, name="嘉兴市秀洲区食堂", special_requirements=[HALAL]))

    assert [k.key for k in defaults.kinds] == ["halal", "organic", "allergens", "no_pork", "cold_chain"]
    assert [k.label for k in defaults.kinds][:2] == ["清真", "有机认证"]
    assert by_rep.code == grpc.StatusCode.PERMISSION_DENIED
    assert [r.kind for r in kept.special_requirements] == ["halal", "kosher"]
    assert (refused.code, refused.field) == (grpc.StatusCode.INVALID_ARGUMENT, "customer.special_requirements[0].kind")


# ------------------------------------------------------------------ tiers and grades


async def _set_tier(
    harness: Any, who: Identity, customer_id: str, dimension: int, value: str, reason: str = "年度评审"
) -> prpb.SetCustomerTierResponse:
    return await harness.stub.SetCustomerTier(
        prpb.SetCustomerTierRequest(customer_id=customer_id, dimension=dimension, value=value, reason=reason),
        metadata=harness.metadata(who),
    )


async def _automatic(harness: Any, customer_id: str, dimension: int, value: str) -> prpb.SetAutomaticTierResponse:
    return await harness.stub.SetAutomaticTier(
        prpb.SetAutomaticTierRequest(
            customer_id=customer_id, dimension=dimension, value=value, reason="近90天采购额前10%"
        ),
        metadata=harness.metadata(_analytics(harness.org)),
    )


async def _stored_tier(harness: Any, customer_id: str) -> str:
    async with harness.runtime.sessions() as session:
        customer = await session.get(Customer, customer_id)
        assert customer is not None
        return customer.tier


async def test_a_manual_tier_wins_over_the_automatic_one_until_cleared(harness) -> None:
    org = harness.org
    rep, supervisor = org.person(Role.SALES, org.shop_a), org.person(Role.SUPERVISOR, org.sub_a)
    customer = await harness.create(rep, name="苏州工业园区星湖学校食堂")

    automatic = await _automatic(harness, customer.id, VALUE, "vip")
    manual = await _set_tier(harness, supervisor, customer.id, VALUE, "key", reason="客户要求降级对接")
    hidden = await _automatic(harness, customer.id, VALUE, "normal")
    tier_while_manual = await _stored_tier(harness, customer.id)
    cleared = await _set_tier(harness, supervisor, customer.id, VALUE, "", reason="恢复系统评级")
    again = await _automatic(harness, customer.id, VALUE, "normal")
    read = (
        await harness.stub.GetCustomer(pb.GetCustomerRequest(id=customer.id), metadata=harness.metadata(rep))
    ).customer

    assert (automatic.state.tier, automatic.state.tier_source, automatic.changed) == ("vip", AUTOMATIC, True)
    assert (manual.state.tier, manual.state.tier_source, manual.state.automatic_tier) == ("key", MANUAL, "vip")
    # The automatic value moves on underneath; the customer keeps the manual one.
    assert (hidden.state.tier, hidden.state.automatic_tier, hidden.changed) == ("key", "normal", True)
    # The pool sweep reads customers.tier: it holds the effective tier.
    assert tier_while_manual == "key"
    assert (cleared.state.tier, cleared.state.tier_source, cleared.state.manual_tier) == ("normal", AUTOMATIC, "")
    assert again.changed is False
    assert (read.tier, read.tier_source, read.automatic_tier) == ("normal", AUTOMATIC, "normal")
    assert await _stored_tier(harness, customer.id) == "normal"

    history = await harness.stub.ListTierChanges(
        prpb.ListTierChangesRequest(customer_id=customer.id), metadata=harness.metadata(rep)
    )
    assert [
        (prpb.TierSource.Name(c.source), c.from_value, c.to_value, c.effective_value, c.reason) for c in history.changes
    ] == [
        ("TIER_SOURCE_MANUAL", "key", "", "normal", "恢复系统评级"),
        ("TIER_SOURCE_AUTOMATIC", "vip", "normal", "key", "近90天采购额前10%"),
        ("TIER_SOURCE_MANUAL", "", "key", "key", "客户要求降级对接"),
        ("TIER_SOURCE_AUTOMATIC", "", "vip", "vip", "近90天采购额前10%"),
    ]
    assert history.changes[0].actor_id == supervisor.principal_id
    assert history.changes[1].actor_id == "service:analytics"

    rows = await harness.published_outbox()
    tier_events = [r for r in rows if r.envelope.type == event_type_of(events_pb2.CustomerTierChanged)]
    assert len(tier_events) == 4
    last = events_pb2.CustomerTierChanged()
    assert tier_events[-1].envelope.payload.Unpack(last)
    assert (last.customer.tier, last.customer.tier_source, last.change.reason) == ("normal", AUTOMATIC, "恢复系统评级")


async def test_grades_have_their_own_sources_and_history(harness) -> None:
    org = harness.org
    rep = org.person(Role.SALES, org.shop_a)
    customer = await harness.create(rep, name="杭州市滨江区企业食堂", grade="B")

    await _automatic(harness, customer.id, GRADE, "A")
    read_manual = await _set_tier(harness, rep, customer.id, GRADE, "S", reason="签约三年大客户")
    history = await harness.stub.ListTierChanges(
        prpb.ListTierChangesRequest(customer_id=customer.id, dimension=GRADE), metadata=harness.metadata(rep)
    )

    assert customer.grade == "B" and customer.grade_source == MANUAL and customer.tier_source == 0
    assert (read_manual.state.grade, read_manual.state.automatic_grade, read_manual.state.tier) == ("S", "A", "normal")
    assert [(c.from_value, c.to_value) for c in history.changes] == [("B", "S"), ("", "A"), ("", "B")]
    assert history.changes[-1].reason.startswith("新建客户时设定")


async def test_tier_changes_need_a_reason_and_automatic_ones_a_service_identity(harness) -> None:
    org = harness.org
    rep, other_rep = org.person(Role.SALES, org.shop_a), org.person(Role.SALES, org.shop_a)
    admin = org.person(Role.ADMIN, org.hq)
    customer = await harness.create(rep, name="湖州市吴兴区食堂")

    no_reason = await harness.refusal(_set_tier(harness, rep, customer.id, VALUE, "vip", reason=""))
    patched = await harness.refusal(_update(harness, rep, pb.Customer(id=customer.id, tier="vip"), "tier"))
    bad_value = await harness.refusal(_set_tier(harness, rep, customer.id, GRADE, "D"))
    stranger = await harness.refusal(_set_tier(harness, other_rep, customer.id, VALUE, "vip"))
    by_person = await harness.refusal(
        harness.stub.SetAutomaticTier(
            prpb.SetAutomaticTierRequest(customer_id=customer.id, dimension=VALUE, value="vip"),
            metadata=harness.metadata(admin),
        )
    )
    with_reason = await _update(harness, rep, pb.Customer(id=customer.id, tier="vip"), "tier", reason="大单")

    assert (no_reason.code, no_reason.field) == (grpc.StatusCode.INVALID_ARGUMENT, "reason")
    assert (patched.code, patched.field) == (grpc.StatusCode.INVALID_ARGUMENT, "reason")
    assert (bad_value.code, bad_value.field) == (grpc.StatusCode.INVALID_ARGUMENT, "value")
    assert stranger.code == grpc.StatusCode.NOT_FOUND
    assert by_person.code == grpc.StatusCode.PERMISSION_DENIED
    assert (with_reason.tier, with_reason.tier_source) == ("vip", MANUAL)


async def test_tenants_name_their_tiers_and_grades(harness) -> None:
    org = harness.org
    boss, rep = org.person(Role.BOSS, org.hq), org.person(Role.SALES, org.shop_a)
    await harness.stub.SetTierLabels(
        prpb.SetTierLabelsRequest(
            labels=[
                prpb.TierLabel(dimension=VALUE, value="vip", label="战略客户"),
                prpb.TierLabel(dimension=GRADE, value="S", label="S级"),
            ]
        ),
        metadata=harness.metadata(boss),
    )
    labels = await harness.stub.ListTierLabels(prpb.ListTierLabelsRequest(), metadata=harness.metadata(rep))
    unknown = await harness.refusal(
        harness.stub.SetTierLabels(
            prpb.SetTierLabelsRequest(labels=[prpb.TierLabel(dimension=GRADE, value="E", label="E")]),
            metadata=harness.metadata(boss),
        )
    )

    assert [(label.value, label.label) for label in labels.labels] == [
        ("vip", "战略客户"), ("key", "重点"), ("normal", "一般"), ("S", "S级"), ("A", "A"), ("B", "B"), ("C", "C"),
    ]  # fmt: skip
    assert (unknown.code, unknown.field) == (grpc.StatusCode.INVALID_ARGUMENT, "labels[0].value")


# ------------------------------------------------------------------ lifecycle stage history


async def test_every_stage_a_customer_enters_is_kept_with_its_actor_and_announced(harness) -> None:
    org = harness.org
    rep, supervisor = org.person(Role.SALES, org.shop_a), org.person(Role.SUPERVISOR, org.sub_a)
    customer = await harness.create(rep, name="绍兴市越城区食堂")

    await _update(
        harness, rep, pb.Customer(id=customer.id, lifecycle_stage=pb.LIFECYCLE_STAGE_PROSPECT), "lifecycle_stage"
    )
    await _update(harness, rep, pb.Customer(id=customer.id, name="绍兴市越城区实验食堂"), "name")
    await _update(
        harness, supervisor, pb.Customer(id=customer.id, lifecycle_stage=pb.LIFECYCLE_STAGE_SIGNED), "lifecycle_stage"
    )
    history = await harness.stub.ListStageChanges(
        prpb.ListStageChangesRequest(customer_id=customer.id), metadata=harness.metadata(rep)
    )
    hidden = await harness.refusal(
        harness.stub.ListStageChanges(
            prpb.ListStageChangesRequest(customer_id=customer.id),
            metadata=harness.metadata(org.person(Role.SALES, org.shop_a)),
        )
    )
    rows = await harness.published_outbox()

    assert [(c.from_stage, c.to_stage, c.actor_id) for c in history.changes] == [
        ("prospect", "signed", supervisor.principal_id),
        ("lead", "prospect", rep.principal_id),
        ("", "lead", rep.principal_id),
    ]
    assert hidden.code == grpc.StatusCode.NOT_FOUND
    stage_events = [r for r in rows if r.envelope.type == event_type_of(events_pb2.CustomerStageChanged)]
    announced = []
    for row in stage_events:
        message = events_pb2.CustomerStageChanged()
        assert row.envelope.payload.Unpack(message)
        announced.append((message.from_stage, message.to_stage, row.envelope.actor_id))
    assert announced == [
        (pb.LIFECYCLE_STAGE_LEAD, pb.LIFECYCLE_STAGE_PROSPECT, rep.principal_id),
        (pb.LIFECYCLE_STAGE_PROSPECT, pb.LIFECYCLE_STAGE_SIGNED, supervisor.principal_id),
    ]
