"""Group accounts (集团客户) and relations between customers: one parent per branch, no cycles,
at most five levels, and rollups and relations that show only what the caller may see."""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from crm.customer.v1 import customer_pb2 as pb
from crm.customer.v1 import events_pb2
from crm.customer.v1 import profile_pb2 as prpb
from crmkit.events import event_type_of
from crmkit.identity import Identity, Role


async def _parent(harness: Any, who: Identity, customer_id: str, parent_id: str, version: int = 0) -> Any:
    return await harness.stub.SetParentCustomer(
        prpb.SetParentCustomerRequest(customer_id=customer_id, parent_customer_id=parent_id, expected_version=version),
        metadata=harness.metadata(who),
    )


async def _rollup(harness: Any, who: Identity, customer_id: str) -> prpb.GroupRollup:
    response = await harness.stub.GetGroupRollup(
        prpb.GetGroupRollupRequest(customer_id=customer_id), metadata=harness.metadata(who)
    )
    return response.rollup


def _contact(name: str, role: int, title: str = "") -> pb.Contact:
    return pb.Contact(name=name, decision_role=role, title=title)


@pytest.fixture(params=["postgresql", "sqlite"])
def harness(request: pytest.FixtureRequest) -> Any:
    """The service on PostgreSQL and on SQLite (the embedded default)."""
    return request.getfixturevalue("customer_service" if request.param == "postgresql" else "customer_service_sqlite")


async def test_a_parent_rolls_up_the_branches_the_caller_may_see(harness) -> None:
    org = harness.org
    rep, colleague = org.person(Role.SALES, org.shop_a), org.person(Role.SALES, org.shop_a)
    supervisor = org.person(Role.SUPERVISOR, org.sub_a)
    group = await harness.create(
        rep, name="浙江美食汇餐饮集团有限公司", contacts=[_contact("陈总", pb.DECISION_ROLE_DECISION_MAKER, "董事长")]
    )
    west = await harness.create(
        rep,
        name="美食汇西湖店",
        lifecycle_stage=pb.LIFECYCLE_STAGE_SIGNED,
        contacts=[_contact("王采购", pb.DECISION_ROLE_PURCHASER)],
    )
    east = await harness.create(
        colleague,
        name="美食汇滨江店",
        lifecycle_stage=pb.LIFECYCLE_STAGE_PROSPECT,
        contacts=[_contact("李店长", pb.DECISION_ROLE_USER)],
    )
    # A branch of the colleague's branch, which the rep owns again.
    kitchen = await harness.create(rep, name="美食汇滨江中央厨房", lifecycle_stage=pb.LIFECYCLE_STAGE_SIGNED)
    await _parent(harness, rep, west.id, group.id)
    # The colleague cannot see the group; their supervisor joins their store to it.
    await _parent(harness, supervisor, east.id, group.id)
    await _parent(harness, supervisor, kitchen.id, east.id)

    by_supervisor = await _rollup(harness, supervisor, group.id)
    by_rep = await _rollup(harness, rep, group.id)

    assert by_supervisor.branch_count == 3 and by_supervisor.contact_count == 3
    # Level by level, each by name in pinyin order (滨江 before 西湖).
    assert [(b.name, b.depth) for b in by_supervisor.branches] == [
        ("美食汇滨江店", 1), ("美食汇西湖店", 1), ("美食汇滨江中央厨房", 2)
    ]  # fmt: skip
    assert {(s.lifecycle_stage, s.count) for s in by_supervisor.stages} == {("signed", 2), ("prospect", 1)}
    first = by_supervisor.contacts[0]
    assert (first.customer_name, first.name, first.decision_role) == (
        "浙江美食汇餐饮集团有限公司", "陈总", "decision_maker"
    )  # fmt: skip
    assert {c.decision_role for c in by_supervisor.contacts} == {"decision_maker", "purchaser", "user"}
    # The rep does not see the colleague's store: it is neither counted nor named, and the
    # kitchen under it hangs from the group itself.
    assert by_rep.branch_count == 2 and by_rep.contact_count == 2
    assert {(b.name, b.parent_customer_id) for b in by_rep.branches} == {
        ("美食汇西湖店", group.id),
        ("美食汇滨江中央厨房", group.id),
    }
    assert east.id not in {c.customer_id for c in by_rep.contacts}
    assert "美食汇滨江店" not in str(by_rep)

    branch_view = await _rollup(harness, supervisor, kitchen.id)
    assert list(branch_view.ancestor_customer_ids) == [east.id, group.id]
    assert list((await _rollup(harness, rep, kitchen.id)).ancestor_customer_ids) == [group.id]


async def test_cycles_and_groups_deeper_than_five_levels_are_refused_naming_the_field(harness) -> None:
    org = harness.org
    rep = org.person(Role.SALES, org.shop_a)
    chain = [await harness.create(rep, name=f"温州连锁第{i}级") for i in range(6)]
    for upper, lower in zip(chain[:4], chain[1:5], strict=True):  # noqa: RUF007 (the sixth stays out)
        await _parent(harness, rep, lower.id, upper.id)

    cycle = await harness.refusal(_parent(harness, rep, chain[0].id, chain[3].id))
    itself = await harness.refusal(_parent(harness, rep, chain[2].id, chain[2].id))
    too_deep = await harness.refusal(_parent(harness, rep, chain[5].id, chain[4].id))
    # Moving a two-level subtree under the fourth level would make six levels as well.
    other_root = await harness.create(rep, name="温州另一集团")
    subtree_top = await harness.create(rep, name="温州另一集团分部")
    await _parent(harness, rep, subtree_top.id, other_root.id)
    deep_subtree = await harness.refusal(_parent(harness, rep, other_root.id, chain[3].id))
    stale = await harness.refusal(_parent(harness, rep, chain[5].id, chain[0].id, version=7))

    for refused in (cycle, itself, too_deep, deep_subtree):
        assert (refused.code, refused.field) == (grpc.StatusCode.INVALID_ARGUMENT, "parent_customer_id")
    assert "下级" in cycle.message and "5" in too_deep.message
    assert stale.code == grpc.StatusCode.ABORTED
    # Five levels are fine; standing alone again is too.
    fine = await _parent(harness, rep, chain[5].id, chain[3].id)
    alone = await _parent(harness, rep, chain[5].id, "")
    assert fine.parent_customer_id == chain[3].id and alone.parent_customer_id == ""


async def test_a_rep_cannot_join_a_customer_to_one_they_cannot_see_and_parent_changes_are_announced(
    harness,
) -> None:
    org = harness.org
    rep, colleague = org.person(Role.SALES, org.shop_a), org.person(Role.SALES, org.shop_a)
    mine = await harness.create(rep, name="金华市婺城区分店")
    theirs = await harness.create(colleague, name="金华餐饮集团")

    unseen = await harness.refusal(_parent(harness, rep, mine.id, theirs.id))
    not_mine = await harness.refusal(_parent(harness, rep, theirs.id, mine.id))
    joined = await _parent(harness, org.person(Role.SUPERVISOR, org.sub_a), mine.id, theirs.id)
    read = (await harness.stub.GetCustomer(pb.GetCustomerRequest(id=mine.id), metadata=harness.metadata(rep))).customer
    rows = await harness.published_outbox()

    assert (unseen.code, unseen.field) == (grpc.StatusCode.INVALID_ARGUMENT, "parent_customer_id")
    assert not_mine.code == grpc.StatusCode.NOT_FOUND
    assert joined.version == 2 and read.parent_customer_id == theirs.id
    changed = [r for r in rows if r.envelope.type == event_type_of(events_pb2.CustomerParentChanged)]
    message = events_pb2.CustomerParentChanged()
    assert len(changed) == 1 and changed[0].envelope.payload.Unpack(message)
    assert (message.customer.parent_customer_id, message.previous_parent_customer_id) == (theirs.id, "")


async def test_relations_show_from_both_ends_with_the_inverse_kind_and_only_between_visible_customers(
    harness,
) -> None:
    org = harness.org
    rep, colleague = org.person(Role.SALES, org.shop_a), org.person(Role.SALES, org.shop_a)
    supervisor = org.person(Role.SUPERVISOR, org.sub_a)
    farm = await harness.create(rep, name="安吉生态养殖场")
    dealer = await harness.create(rep, name="湖州冻品商行")
    referrer = await harness.create(colleague, name="湖州美食城")

    added = await harness.stub.AddCustomerRelation(
        prpb.AddCustomerRelationRequest(
            customer_id=dealer.id,
            related_customer_id=farm.id,
            kind=prpb.RELATION_KIND_UPSTREAM_SUPPLIER,
            note="猪肉货源",
        ),
        metadata=harness.metadata(rep),
    )
    twice = await harness.refusal(
        harness.stub.AddCustomerRelation(
            prpb.AddCustomerRelationRequest(
                customer_id=farm.id, related_customer_id=dealer.id, kind=prpb.RELATION_KIND_DOWNSTREAM_CUSTOMER
            ),
            metadata=harness.metadata(rep),
        )
    )
    unseen = await harness.refusal(
        harness.stub.AddCustomerRelation(
            prpb.AddCustomerRelationRequest(
                customer_id=dealer.id, related_customer_id=referrer.id, kind=prpb.RELATION_KIND_REFERRED_BY
            ),
            metadata=harness.metadata(rep),
        )
    )
    await harness.stub.AddCustomerRelation(
        prpb.AddCustomerRelationRequest(
            customer_id=dealer.id, related_customer_id=referrer.id, kind=prpb.RELATION_KIND_REFERRED_BY
        ),
        metadata=harness.metadata(supervisor),
    )

    async def listed(who: Identity, customer_id: str) -> list[tuple[str, str]]:
        response = await harness.stub.ListCustomerRelations(
            prpb.ListCustomerRelationsRequest(customer_id=customer_id), metadata=harness.metadata(who)
        )
        return sorted((r.related_customer_name, prpb.RelationKind.Name(r.kind)) for r in response.relations)

    assert added.relation.kind == prpb.RELATION_KIND_UPSTREAM_SUPPLIER and added.relation.note == "猪肉货源"
    assert twice.code == grpc.StatusCode.ALREADY_EXISTS
    assert (unseen.code, unseen.field) == (grpc.StatusCode.INVALID_ARGUMENT, "related_customer_id")
    assert await listed(rep, farm.id) == [("湖州冻品商行", "RELATION_KIND_DOWNSTREAM_CUSTOMER")]
    # The rep does not see the referrer, so that relation is not shown to them.
    assert await listed(rep, dealer.id) == [("安吉生态养殖场", "RELATION_KIND_UPSTREAM_SUPPLIER")]
    assert await listed(supervisor, dealer.id) == [
        ("安吉生态养殖场", "RELATION_KIND_UPSTREAM_SUPPLIER"),
        ("湖州美食城", "RELATION_KIND_REFERRED_BY"),
    ]
    assert await listed(supervisor, referrer.id) == [("湖州冻品商行", "RELATION_KIND_REFERRED")]

    await harness.stub.RemoveCustomerRelation(
        prpb.RemoveCustomerRelationRequest(customer_id=farm.id, relation_id=added.relation.id),
        metadata=harness.metadata(rep),
    )
    assert await listed(rep, dealer.id) == []
    types = await harness.event_types()
    assert types.count(event_type_of(events_pb2.CustomerRelationAdded)) == 2
    assert types.count(event_type_of(events_pb2.CustomerRelationRemoved)) == 1
