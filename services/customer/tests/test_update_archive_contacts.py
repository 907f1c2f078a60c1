"""Changing a customer: masked updates, optimistic versions, owner transfer, archiving and contacts."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import replace

import grpc
from google.protobuf.field_mask_pb2 import FieldMask
from sqlalchemy import text

from crm.customer.v1 import customer_pb2 as pb
from crm.customer.v1 import events_pb2
from crmkit.identity import Placement, Role


def _update(customer: pb.Customer, *paths: str, expected_version: int = 0) -> pb.UpdateCustomerRequest:
    return pb.UpdateCustomerRequest(
        customer=customer, update_mask=FieldMask(paths=list(paths)), expected_version=expected_version
    )


async def test_update_changes_only_the_masked_fields_and_bumps_the_version(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    customer = await customer_service.create(rep, name="合肥蜀山区食堂", tags=["老客户"], type="团膳")

    response = await customer_service.stub.UpdateCustomer(
        _update(
            pb.Customer(
                id=customer.id, name="不该改的名字", tags=["新标签"], lifecycle_stage=pb.LIFECYCLE_STAGE_SIGNED
            ),
            "lifecycle_stage",
        ),
        metadata=customer_service.metadata(rep),
    )

    updated = response.customer
    assert updated.lifecycle_stage == pb.LIFECYCLE_STAGE_SIGNED
    assert (updated.name, list(updated.tags), updated.type) == ("合肥蜀山区食堂", ["老客户"], "团膳")
    assert updated.version == 2
    events = await customer_service.outbox()
    last = events_pb2.CustomerUpdated()
    assert events[-1].envelope.type == "crm.customer.v1.customer_updated"
    assert events[-1].envelope.payload.Unpack(last)
    assert list(last.changed_fields) == ["lifecycle_stage"]


async def test_update_that_changes_nothing_keeps_the_version(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    customer = await customer_service.create(rep, name="合肥蜀山区食堂")

    response = await customer_service.stub.UpdateCustomer(
        _update(pb.Customer(id=customer.id, name="合肥蜀山区食堂"), "name"), metadata=customer_service.metadata(rep)
    )

    assert response.customer.version == 1
    assert await customer_service.event_types() == ["crm.customer.v1.customer_created"]


async def test_update_mask_naming_an_unknown_field_is_refused(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    customer = await customer_service.create(rep, name="合肥蜀山区食堂")

    refusal = await customer_service.refusal(
        customer_service.stub.UpdateCustomer(
            _update(pb.Customer(id=customer.id, archived=True), "archived"), metadata=customer_service.metadata(rep)
        )
    )

    assert refusal.code == grpc.StatusCode.INVALID_ARGUMENT
    assert refusal.field == "update_mask"


async def test_update_with_a_stale_expected_version_is_aborted(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    customer = await customer_service.create(rep, name="合肥蜀山区食堂")
    await customer_service.stub.UpdateCustomer(
        _update(pb.Customer(id=customer.id, short_name="蜀山食堂"), "short_name", expected_version=1),
        metadata=customer_service.metadata(rep),
    )

    refusal = await customer_service.refusal(
        customer_service.stub.UpdateCustomer(
            _update(pb.Customer(id=customer.id, short_name="另一个简称"), "short_name", expected_version=1),
            metadata=customer_service.metadata(rep),
        )
    )

    assert refusal.code == grpc.StatusCode.ABORTED
    fetched = await customer_service.stub.GetCustomer(
        pb.GetCustomerRequest(id=customer.id), metadata=customer_service.metadata(rep)
    )
    assert (fetched.customer.short_name, fetched.customer.version) == ("蜀山食堂", 2)


async def test_supervisor_transfers_a_customer_to_another_rep_and_the_change_is_announced(customer_service) -> None:
    org = customer_service.org
    supervisor = org.person(Role.SUPERVISOR, org.sub_a)
    leaving = org.person(Role.SALES, org.shop_a)
    taking_over = org.person(Role.SALES, org.sub_a)
    customer = await customer_service.create(leaving, name="济南历下区食堂")

    response = await customer_service.stub.UpdateCustomer(
        _update(
            pb.Customer(
                id=customer.id, owner_id=taking_over.principal_id, org_unit_id=org.sub_a, org_path=org.path(org.sub_a)
            ),
            "owner_id",
        ),
        # As the gateway sends it: the new owner vouched for by the directory.
        metadata=customer_service.metadata(
            replace(supervisor, placement=Placement(taking_over.principal_id, org.sub_a, org.path(org.sub_a)))
        ),
    )

    assert (response.customer.owner_id, response.customer.org_unit_id) == (taking_over.principal_id, org.sub_a)
    assert await customer_service.list_names(taking_over) == ["济南历下区食堂"]
    assert await customer_service.list_names(leaving) == []
    # Search follows the transfer too (the term index carries the owner).
    assert await customer_service.search(taking_over, "食堂") == ["济南历下区食堂"]
    assert await customer_service.search(taking_over, "jnlx") == ["济南历下区食堂"]
    assert await customer_service.search(leaving, "食堂") == []
    last = (await customer_service.outbox())[-1].envelope
    changed = events_pb2.CustomerOwnerChanged()
    assert last.type == "crm.customer.v1.customer_owner_changed"
    assert last.payload.Unpack(changed)
    assert (changed.previous_owner_id, changed.previous_org_unit_id) == (leaving.principal_id, org.shop_a)
    assert changed.customer.owner_id == taking_over.principal_id


async def test_sales_rep_cannot_transfer_their_customer(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    colleague = org.person(Role.SALES, org.shop_a)
    customer = await customer_service.create(rep, name="济南历下区食堂")

    refusal = await customer_service.refusal(
        customer_service.stub.UpdateCustomer(
            _update(
                pb.Customer(
                    id=customer.id,
                    owner_id=colleague.principal_id,
                    org_unit_id=org.shop_a,
                    org_path=org.path(org.shop_a),
                ),
                "owner_id",
            ),
            metadata=customer_service.metadata(rep),
        )
    )

    assert refusal.code == grpc.StatusCode.PERMISSION_DENIED
    assert await customer_service.list_names(rep) == ["济南历下区食堂"]


async def test_supervisor_cannot_transfer_a_customer_outside_their_subtree(customer_service) -> None:
    org = customer_service.org
    supervisor = org.person(Role.SUPERVISOR, org.sub_a)
    customer = await customer_service.create(org.person(Role.SALES, org.shop_a), name="济南历下区食堂")

    refusal = await customer_service.refusal(
        customer_service.stub.UpdateCustomer(
            _update(
                pb.Customer(id=customer.id, owner_id="rep-in-b", org_unit_id=org.shop_b, org_path=org.path(org.shop_b)),
                "owner_id",
            ),
            metadata=customer_service.metadata(supervisor),
        )
    )

    assert refusal.code == grpc.StatusCode.PERMISSION_DENIED


async def test_archived_customer_leaves_the_list_unless_archived_ones_are_asked_for(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    customer = await customer_service.create(rep, name="昆明五华区食堂")
    await customer_service.create(rep, name="昆明盘龙区食堂")

    response = await customer_service.stub.ArchiveCustomer(
        pb.ArchiveCustomerRequest(id=customer.id), metadata=customer_service.metadata(rep)
    )

    assert response.customer.archived
    assert response.customer.version == 2
    assert await customer_service.list_names(rep) == ["昆明盘龙区食堂"]
    assert sorted(await customer_service.list_names(rep, include_archived=True)) == ["昆明五华区食堂", "昆明盘龙区食堂"]
    last = (await customer_service.outbox())[-1].envelope
    assert (last.type, last.aggregate_id, last.aggregate_version) == (
        "crm.customer.v1.customer_archived",
        customer.id,
        2,
    )


async def test_archived_customer_cannot_be_edited(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    customer = await customer_service.create(rep, name="昆明五华区食堂")
    await customer_service.stub.ArchiveCustomer(
        pb.ArchiveCustomerRequest(id=customer.id), metadata=customer_service.metadata(rep)
    )

    refusal = await customer_service.refusal(
        customer_service.stub.UpdateCustomer(
            _update(pb.Customer(id=customer.id, name="新名字"), "name"), metadata=customer_service.metadata(rep)
        )
    )

    assert refusal.code == grpc.StatusCode.FAILED_PRECONDITION
    fetched = await customer_service.stub.GetCustomer(
        pb.GetCustomerRequest(id=customer.id), metadata=customer_service.metadata(rep)
    )
    assert fetched.customer.name == "昆明五华区食堂"


async def test_new_contact_bumps_the_version_and_its_mobile_becomes_searchable(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    md = customer_service.metadata(rep)
    customer = await customer_service.create(rep, name="贵阳云岩区食堂")

    created = await customer_service.stub.CreateContact(
        pb.CreateContactRequest(
            customer_id=customer.id,
            contact=pb.Contact(name="周采购", mobile="+86 136 0013 6000", decision_role=pb.DECISION_ROLE_PURCHASER),
        ),
        metadata=md,
    )

    assert created.contact.mobile == "13600136000"
    assert created.contact.customer_id == customer.id
    fetched = await customer_service.stub.GetCustomer(pb.GetCustomerRequest(id=customer.id), metadata=md)
    assert fetched.customer.version == 2
    assert await customer_service.search(rep, "13600136000") == ["贵阳云岩区食堂"]
    assert await customer_service.search(rep, "6000") == ["贵阳云岩区食堂"]
    contacts = await customer_service.stub.ListContacts(pb.ListContactsRequest(customer_id=customer.id), metadata=md)
    assert [(c.name, c.decision_role) for c in contacts.contacts] == [("周采购", pb.DECISION_ROLE_PURCHASER)]


async def test_changed_contact_mobile_replaces_the_old_one_in_search(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    md = customer_service.metadata(rep)
    customer = await customer_service.create(
        rep, name="贵阳云岩区食堂", contacts=[pb.Contact(name="周", mobile="13600136000")]
    )

    updated = await customer_service.stub.UpdateContact(
        pb.UpdateContactRequest(
            contact=pb.Contact(id=customer.contacts[0].id, customer_id=customer.id, mobile="13700137000", title="经理"),
            update_mask=FieldMask(paths=["mobile"]),
        ),
        metadata=md,
    )

    assert (updated.contact.name, updated.contact.mobile, updated.contact.title) == ("周", "13700137000", "")
    fetched = await customer_service.stub.GetCustomer(pb.GetCustomerRequest(id=customer.id), metadata=md)
    assert fetched.customer.version == 2
    assert await customer_service.search(rep, "13700137000") == ["贵阳云岩区食堂"]
    assert await customer_service.search(rep, "13600136000") == []


async def test_deleted_contact_is_gone_and_its_mobile_no_longer_finds_the_customer(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    md = customer_service.metadata(rep)
    customer = await customer_service.create(
        rep,
        name="贵阳云岩区食堂",
        contacts=[pb.Contact(name="周", mobile="13600136000"), pb.Contact(name="吴", mobile="13700137000")],
    )
    leaving = next(c for c in customer.contacts if c.name == "周")

    await customer_service.stub.DeleteContact(
        pb.DeleteContactRequest(customer_id=customer.id, contact_id=leaving.id), metadata=md
    )

    contacts = await customer_service.stub.ListContacts(pb.ListContactsRequest(customer_id=customer.id), metadata=md)
    assert [c.name for c in contacts.contacts] == ["吴"]
    fetched = await customer_service.stub.GetCustomer(pb.GetCustomerRequest(id=customer.id), metadata=md)
    assert fetched.customer.version == 2
    assert await customer_service.search(rep, "13600136000") == []
    assert await customer_service.search(rep, "13700137000") == ["贵阳云岩区食堂"]


async def test_contact_mobile_already_used_by_another_customer_is_refused(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    await customer_service.create(rep, name="南宁青秀区食堂", contacts=[pb.Contact(name="黄", mobile="13600136000")])
    second = await customer_service.create(rep, name="南宁兴宁区食堂")

    refusal = await customer_service.refusal(
        customer_service.stub.CreateContact(
            pb.CreateContactRequest(customer_id=second.id, contact=pb.Contact(name="黄", mobile="136-0013-6000")),
            metadata=customer_service.metadata(rep),
        )
    )

    assert refusal.code == grpc.StatusCode.ALREADY_EXISTS
    assert "南宁青秀区食堂" in refusal.message
    assert refusal.field == "mobile"


async def test_contact_of_a_colleagues_customer_cannot_be_deleted(customer_service) -> None:
    org = customer_service.org
    owner = org.person(Role.SALES, org.shop_a)
    customer = await customer_service.create(
        owner, name="南宁青秀区食堂", contacts=[pb.Contact(name="黄", mobile="13600136000")]
    )

    refusal = await customer_service.refusal(
        customer_service.stub.DeleteContact(
            pb.DeleteContactRequest(customer_id=customer.id, contact_id=customer.contacts[0].id),
            metadata=customer_service.metadata(org.person(Role.SALES, org.shop_a)),
        )
    )

    assert refusal.code == grpc.StatusCode.NOT_FOUND


async def test_contacts_of_an_archived_customer_cannot_be_added(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    customer = await customer_service.create(rep, name="昆明官渡区食堂")
    await customer_service.stub.ArchiveCustomer(
        pb.ArchiveCustomerRequest(id=customer.id), metadata=customer_service.metadata(rep)
    )

    refusal = await customer_service.refusal(
        customer_service.stub.CreateContact(
            pb.CreateContactRequest(customer_id=customer.id, contact=pb.Contact(name="赵敏", mobile="13700001111")),
            metadata=customer_service.metadata(rep),
        )
    )

    assert refusal.code == grpc.StatusCode.FAILED_PRECONDITION


async def _contacts_entered_edited_and_added(service) -> tuple[list[str], list[list[str]]]:
    """Three contacts entered together (one created_at), the first edited, a fourth added: the
    names the create reply shows, and then what GetCustomer, ListContacts and search show."""
    org = service.org
    rep = org.person(Role.SALES, org.shop_a)
    md = service.metadata(rep)
    entered = ["赵采购", "钱财务", "孙厨师长"]
    customer = await service.create(
        rep,
        name="昆明五华区实验小学食堂",
        contacts=[pb.Contact(name=name, mobile=f"1390871000{index}") for index, name in enumerate(entered)],
    )
    # On PostgreSQL, changing an indexed column writes the row anew behind the others, so the
    # physical order (what ties on created_at fell back to) moves.
    await service.stub.UpdateContact(
        pb.UpdateContactRequest(
            contact=pb.Contact(id=customer.contacts[0].id, customer_id=customer.id, mobile="13908710008"),
            update_mask=FieldMask(paths=["mobile"]),
        ),
        metadata=md,
    )
    await service.stub.CreateContact(
        pb.CreateContactRequest(customer_id=customer.id, contact=pb.Contact(name="李经理", mobile="13908710009")),
        metadata=md,
    )
    fetched = await service.stub.GetCustomer(pb.GetCustomerRequest(id=customer.id), metadata=md)
    listed = await service.stub.ListContacts(pb.ListContactsRequest(customer_id=customer.id), metadata=md)
    found = await service.stub.SearchCustomers(pb.SearchCustomersRequest(query="五华"), metadata=md)
    shown = [
        [c.name for c in fetched.customer.contacts],
        [c.name for c in listed.contacts],
        [c.name for c in found.customers[0].contacts],
    ]
    return [c.name for c in customer.contacts], shown


async def test_contacts_keep_the_order_they_were_entered_in(customer_service) -> None:
    created, shown = await _contacts_entered_edited_and_added(customer_service)

    assert created == ["赵采购", "钱财务", "孙厨师长"]
    assert shown == [["赵采购", "钱财务", "孙厨师长", "李经理"]] * 3


async def test_on_sqlite_contacts_keep_the_order_they_were_entered_in(customer_service_sqlite) -> None:
    created, shown = await _contacts_entered_edited_and_added(customer_service_sqlite)

    assert created == ["赵采购", "钱财务", "孙厨师长"]
    assert shown == [["赵采购", "钱财务", "孙厨师长", "李经理"]] * 3


async def test_contact_added_by_a_replica_that_predates_positions_is_still_listed_last(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    md = customer_service.metadata(rep)
    customer = await customer_service.create(
        rep,
        name="西宁城西区食堂",
        contacts=[pb.Contact(name="赵采购", mobile="13909710001"), pb.Contact(name="钱财务", mobile="13909710002")],
    )
    # What an older replica writes during a rolling upgrade: no position, so the column default 0.
    async with customer_service.runtime.sessions() as session, session.begin():
        await session.execute(
            text(
                "INSERT INTO contacts (id, tenant_id, customer_id, name, decision_role, title, is_primary,"
                " created_at, updated_at) VALUES (:id, :tenant, :customer, '孙厨师长', '', '', false, :at, :at)"
            ),
            {"id": str(uuid.uuid4()), "tenant": org.tenant_id, "customer": customer.id, "at": dt.datetime.now(dt.UTC)},
        )

    fetched = await customer_service.stub.GetCustomer(pb.GetCustomerRequest(id=customer.id), metadata=md)
    listed = await customer_service.stub.ListContacts(pb.ListContactsRequest(customer_id=customer.id), metadata=md)

    assert [c.name for c in fetched.customer.contacts] == ["赵采购", "钱财务", "孙厨师长"]
    assert [c.name for c in listed.contacts] == ["赵采购", "钱财务", "孙厨师长"]
