"""Contacts' mobiles, WeChat ids and emails: sealed at rest, found by blind indexes, resealed on rotation."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from sqlalchemy import select, text

from crm.customer.v1 import customer_pb2 as pb
from crm_customer.contacts.models import Contact
from crm_customer.contacts.personal import PersonalData
from crm_customer.contacts.resealing import keys_in_use, reseal_contacts
from crm_customer.models import Base
from crmkit.identity import Role
from crmkit.pii import Keyring, write_keyring

from .conftest import serve_customer_service

MOBILE, OTHER_MOBILE = "13604110000", "13604110001"
WECHAT, EMAIL = "yuhai_dl", "yuhai@haixian.example.cn"


def _plaintext_forms(value: str) -> list[bytes]:
    """A value as it could sit in a dump: its bytes, and their hex (how PostgreSQL prints bytea)."""
    return [value.encode(), value.encode().hex().encode()]


def _database_files(directory: Path) -> bytes:
    """The SQLite database as it is on disk: the file, its WAL and shared memory."""
    return b"".join(path.read_bytes() for path in directory.iterdir() if path.name.startswith("customer.db"))


async def _create_with_details(harness, rep) -> pb.Customer:
    created = await harness.create(
        rep,
        name="大连中山区海鲜酒楼",
        contacts=[pb.Contact(name="于海", mobile=MOBILE, wechat_id=WECHAT, email=EMAIL)],
    )
    await harness.stub.CreateContact(
        pb.CreateContactRequest(customer_id=created.id, contact=pb.Contact(name="孙丽", mobile=OTHER_MOBILE)),
        metadata=harness.metadata(rep),
    )
    return created


async def test_no_table_holds_a_contacts_details_in_clear_yet_reads_return_them(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    created = await _create_with_details(customer_service, rep)

    dump = b""
    async with customer_service.runtime.sessions() as session:
        for table in Base.metadata.sorted_tables:
            rows = await session.scalars(text(f"SELECT t::text FROM {table.name} t"))
            dump += "\n".join(rows).encode()
    fetched = await customer_service.stub.GetCustomer(
        pb.GetCustomerRequest(id=created.id), metadata=customer_service.metadata(rep)
    )

    assert b"\xe5\xa4\xa7\xe8\xbf\x9e" in dump or "大连".encode() in dump  # the dump did read the rows
    for value in (MOBILE, OTHER_MOBILE, WECHAT, EMAIL):
        assert not any(form in dump for form in _plaintext_forms(value)), value
    assert [(c.mobile, c.wechat_id, c.email) for c in fetched.customer.contacts] == [
        (MOBILE, WECHAT, EMAIL),
        (OTHER_MOBILE, "", ""),
    ]


async def test_the_sqlite_file_holds_no_contacts_details(customer_service_sqlite, tmp_path: Path) -> None:
    org = customer_service_sqlite.org
    rep = org.person(Role.SALES, org.shop_a)
    await _create_with_details(customer_service_sqlite, rep)
    assert await customer_service_sqlite.search(rep, MOBILE) == ["大连中山区海鲜酒楼"]

    stored = _database_files(tmp_path)

    assert "海鲜酒楼".encode() in stored
    for value in (MOBILE, OTHER_MOBILE, WECHAT, EMAIL):
        assert value.encode() not in stored, value


async def test_last_four_digits_find_only_mobiles_ending_so_though_their_bucket_holds_others(
    customer_service,
) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    personal = PersonalData(Keyring.from_file(customer_service.keys.personal_data_path))
    bucket = personal.tail_term(org.tenant_id, "8000")
    neighbour = next(
        tail
        for n in range(10000)
        if (tail := f"{n:04d}") != "8000" and personal.tail_term(org.tenant_id, tail) == bucket
    )
    await customer_service.create(rep, name="北京实验小学食堂", contacts=[pb.Contact(name="王", mobile="13800138000")])
    await customer_service.create(
        rep, name="天津港码头食堂", contacts=[pb.Contact(name="李", mobile=f"1391111{neighbour}")]
    )
    await customer_service.create(
        rep, name="河北保定养殖场", contacts=[pb.Contact(name="赵", mobile="13922228000"), pb.Contact(name="钱")]
    )

    assert sorted(await customer_service.search(rep, "8000")) == ["北京实验小学食堂", "河北保定养殖场"]
    assert await customer_service.search(rep, neighbour) == ["天津港码头食堂"]
    assert await customer_service.search(rep, "13922228000") == ["河北保定养殖场"]


async def test_duplicates_are_refused_by_blind_index_in_the_tenant_only(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    await customer_service.create(rep, name="沈阳和平区早餐店", contacts=[pb.Contact(name="刘", wechat_id=WECHAT)])
    duplicate = await customer_service.refusal(
        customer_service.create(rep, name="沈阳皇姑区早餐店", contacts=[pb.Contact(name="张", wechat_id=WECHAT)])
    )
    other_tenant = dataclasses.replace(rep, tenant_id="another-tenant")
    elsewhere = await customer_service.create(
        other_tenant, name="沈阳皇姑区早餐店", contacts=[pb.Contact(name="张", wechat_id=WECHAT)]
    )

    assert duplicate.field == "wechat_id"
    assert elsewhere.contacts[0].wechat_id == WECHAT


async def test_after_a_key_rotation_reads_work_throughout_and_reseal_moves_everything_to_the_new_key(
    customer_service, pg_database_url: str, nats_url: str, keys, tmp_path: Path
) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    created = await _create_with_details(customer_service, rep)
    old = Keyring.from_file(keys.personal_data_path)
    added = old.with_new_key()
    rotated = added.promoted(added.describe()[-1].split()[-1])
    rotated_path = tmp_path / "rotated.keys"
    write_keyring(rotated_path, rotated, create=True)
    rotated_keys = dataclasses.replace(keys, personal_data_path=rotated_path)

    async with serve_customer_service(pg_database_url, nats_url, customer_service.namespace, rotated_keys) as after:
        md = after.metadata(rep)
        mid_rotation = await after.stub.GetCustomer(pb.GetCustomerRequest(id=created.id), metadata=md)
        await after.stub.CreateContact(
            pb.CreateContactRequest(customer_id=created.id, contact=pb.Contact(name="新", email="xin@example.cn")),
            metadata=md,
        )
        before = await keys_in_use(after.runtime.sessions)
        resealed = await reseal_contacts(after.runtime.sessions, PersonalData(rotated), batch_size=2)
        in_use = await keys_in_use(after.runtime.sessions)
        found = await after.search(rep, MOBILE[-4:])
        async with after.runtime.sessions() as session:
            contacts = (await session.scalars(select(Contact).where(Contact.customer_id == created.id))).all()

    assert [c.mobile for c in mid_rotation.customer.contacts] == [MOBILE, OTHER_MOBILE]
    assert before[old.key_id] >= 2 and before[rotated.key_id] >= 1
    assert resealed >= 2
    assert in_use == {rotated.key_id: sum(before.values())}
    assert found == ["大连中山区海鲜酒楼"]
    opened = [PersonalData(rotated.retired(old.key_id)).details(c) for c in contacts]
    assert sorted((d.mobile or "", d.email) for d in opened) == [
        ("", "xin@example.cn"),
        (MOBILE, EMAIL),
        (OTHER_MOBILE, ""),
    ]
