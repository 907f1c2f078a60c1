"""Licences (资质证照): validation naming the field, kinds per tenant with the types that require
them, status per licence and per customer, who sees them, the expiring list, and the expiry job's
notices at 30 and 7 days and on expiry, each once, on the moved clock."""

from __future__ import annotations

import datetime as dt
from typing import Any

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask

from crm.customer.v1 import calendar_pb2 as cpb
from crm.customer.v1 import events_pb2
from crmkit.clock import shanghai_date
from crmkit.events import event_type_of
from crmkit.identity import Identity, Role
from crmkit.testing.jobs import ran_since

FOOD_LICENCE = "食品经营许可证"


def _in(harness, days: int) -> str:  # type: ignore[no-untyped-def]
    return (shanghai_date(harness.clock()) + dt.timedelta(days=days)).isoformat()


async def _record(harness, who: Identity, customer_id: str, **fields: Any) -> cpb.Licence:  # type: ignore[no-untyped-def]
    values = {"kind": FOOD_LICENCE, "number": "JY13301060012345", "issuer": "杭州市西湖区市场监督管理局", **fields}
    request = cpb.CreateLicenceRequest(licence=cpb.Licence(customer_id=customer_id, **values))
    return (await harness.stub.CreateLicence(request, metadata=harness.metadata(who))).licence


async def _licences(harness, who: Identity, customer_id: str) -> cpb.ListCustomerLicencesResponse:  # type: ignore[no-untyped-def]
    return await harness.stub.ListCustomerLicences(
        cpb.ListCustomerLicencesRequest(customer_id=customer_id), metadata=harness.metadata(who)
    )


async def _notices(harness) -> list[tuple[str, str, int]]:  # type: ignore[no-untyped-def]
    """(event, licence id, days before) of every expiry notice so far."""
    found = []
    for row in await harness.outbox():
        if row.envelope.type == event_type_of(events_pb2.LicenceExpiring):
            expiring = events_pb2.LicenceExpiring()
            assert row.envelope.payload.Unpack(expiring)
            found.append(("expiring", expiring.licence.id, expiring.days_before))
        elif row.envelope.type == event_type_of(events_pb2.LicenceExpired):
            expired = events_pb2.LicenceExpired()
            assert row.envelope.payload.Unpack(expired)
            found.append(("expired", expired.licence.id, 0))
    return found


async def test_bad_licences_are_refused_naming_the_field(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    customer = await customer_service.create(rep, name="杭州西湖区天目山路酒楼", type="中餐")
    cases = [
        ({"valid_from": "2027-06-01", "valid_until": "2027-05-31"}, "licence.valid_until"),
        ({"kind": "驾驶证"}, "licence.kind"),
        ({"kind": ""}, "licence.kind"),
        ({"number": ""}, "licence.number"),
        ({"number": "号" * 65}, "licence.number"),
        ({"valid_until": "2027-02-30"}, "licence.valid_until"),
        ({"attachment_id": "../../etc/passwd"}, "licence.attachment_id"),
        ({"issuer": "局" * 101}, "licence.issuer"),
    ]
    for fields, field in cases:
        refused = await customer_service.refusal(_record(customer_service, rep, customer.id, **fields))
        assert (refused.code, refused.field) == (grpc.StatusCode.INVALID_ARGUMENT, field), (fields, refused)
    kept = await _record(
        customer_service, rep, customer.id, attachment_id="att_7f3a-22", valid_until=_in(customer_service, 400)
    )
    turned_round = await customer_service.refusal(
        customer_service.stub.UpdateLicence(
            cpb.UpdateLicenceRequest(
                licence=cpb.Licence(id=kept.id, customer_id=customer.id, valid_from=_in(customer_service, 500)),
                update_mask=FieldMask(paths=["valid_from"]),
            ),
            metadata=customer_service.metadata(rep),
        )
    )
    assert (turned_round.code, turned_round.field) == (grpc.StatusCode.INVALID_ARGUMENT, "licence.valid_until")
    assert kept.attachment_id == "att_7f3a-22"


async def test_a_customer_shows_each_licences_status_and_what_its_type_is_missing(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    canteen = await customer_service.create(rep, name="杭州西湖区文二路小学食堂", type="学校食堂")

    nothing_yet = (await _licences(customer_service, rep, canteen.id)).summary
    await _record(customer_service, rep, canteen.id, valid_until=_in(customer_service, 10))
    expiring = await _licences(customer_service, rep, canteen.id)
    await _record(
        customer_service, rep, canteen.id, kind="质检报告", number="ZJ2026-118", valid_until=_in(customer_service, -1)
    )
    with_expired = (await _licences(customer_service, rep, canteen.id)).summary
    await _record(
        customer_service, rep, canteen.id, kind="质检报告", number="ZJ2027-004", valid_until=_in(customer_service, 365)
    )
    renewed = await _licences(customer_service, rep, canteen.id)

    assert (nothing_yet.status, list(nothing_yet.missing_kinds)) == (cpb.LICENCE_STATUS_MISSING, [FOOD_LICENCE])
    assert (expiring.summary.status, list(expiring.summary.expiring_kinds)) == (
        cpb.LICENCE_STATUS_EXPIRING,
        [FOOD_LICENCE],
    )
    assert (expiring.licences[0].status, expiring.licences[0].days_left) == (cpb.LICENCE_STATUS_EXPIRING, 10)
    assert (with_expired.status, list(with_expired.expired_kinds)) == (cpb.LICENCE_STATUS_EXPIRED, ["质检报告"])
    # The renewal supersedes the expired report; the food licence still expires soon.
    assert (renewed.summary.status, list(renewed.summary.expired_kinds)) == (cpb.LICENCE_STATUS_EXPIRING, [])
    assert [(lic.kind, lic.status) for lic in renewed.licences] == [
        (FOOD_LICENCE, cpb.LICENCE_STATUS_EXPIRING),
        ("质检报告", cpb.LICENCE_STATUS_VALID),
        ("质检报告", cpb.LICENCE_STATUS_EXPIRED),
    ]


async def test_kinds_are_the_tenants_own_with_the_types_that_require_them(customer_service) -> None:
    org = customer_service.org
    admin, rep = org.person(Role.ADMIN, org.hq), org.person(Role.SALES, org.shop_a)
    defaults = await customer_service.stub.ListLicenceKinds(
        cpb.ListLicenceKindsRequest(), metadata=customer_service.metadata(rep)
    )
    farm = await customer_service.create(rep, name="临安区太湖源生态养殖场", type="养殖场")

    unknown_type = await customer_service.refusal(
        customer_service.stub.SetLicenceKinds(
            cpb.SetLicenceKindsRequest(kinds=[cpb.LicenceKind(name="排污许可证", required_for_types=["火星基地"])]),
            metadata=customer_service.metadata(admin),
        )
    )
    by_rep = await customer_service.refusal(
        customer_service.stub.SetLicenceKinds(
            cpb.SetLicenceKindsRequest(kinds=[cpb.LicenceKind(name="排污许可证")]),
            metadata=customer_service.metadata(rep),
        )
    )
    await customer_service.stub.SetLicenceKinds(
        cpb.SetLicenceKindsRequest(
            kinds=[
                cpb.LicenceKind(name="营业执照", required_for_types=["养殖场"]),
                cpb.LicenceKind(name="排污许可证", required_for_types=["养殖场"]),
            ]
        ),
        metadata=customer_service.metadata(admin),
    )
    farm_summary = (await _licences(customer_service, rep, farm.id)).summary
    gone_kind = await customer_service.refusal(_record(customer_service, rep, farm.id, kind="动物防疫条件合格证"))

    assert [k.name for k in defaults.kinds] == [
        "营业执照", "食品经营许可证", "卫生许可证", "清真认证", "有机认证", "动物防疫条件合格证", "质检报告"
    ]  # fmt: skip
    assert "学校食堂" in next(k for k in defaults.kinds if k.name == FOOD_LICENCE).required_for_types
    assert (unknown_type.code, unknown_type.field) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "kinds[0].required_for_types[0]",
    )
    assert by_rep.code == grpc.StatusCode.PERMISSION_DENIED
    assert list(farm_summary.missing_kinds) == ["营业执照", "排污许可证"]
    assert (gone_kind.code, gone_kind.field) == (grpc.StatusCode.INVALID_ARGUMENT, "licence.kind")


async def test_finance_sees_licences_service_staff_do_not_and_another_rep_finds_nothing(customer_service) -> None:
    org = customer_service.org
    rep, other_rep = org.person(Role.SALES, org.shop_a), org.person(Role.SALES, org.shop_a)
    finance, service_staff = org.person(Role.FINANCE, org.sub_a), org.person(Role.SERVICE, org.sub_a)
    customer = await customer_service.create(rep, name="杭州上城区延安路西餐厅", type="西餐")
    licence = await _record(customer_service, rep, customer.id, valid_until=_in(customer_service, 200))

    by_finance = await _licences(customer_service, finance, customer.id)
    by_service = await customer_service.refusal(_licences(customer_service, service_staff, customer.id))
    by_other_rep = await customer_service.refusal(_licences(customer_service, other_rep, customer.id))
    recorded_by_finance = await customer_service.refusal(_record(customer_service, finance, customer.id))
    deleted_by_other = await customer_service.refusal(
        customer_service.stub.DeleteLicence(
            cpb.DeleteLicenceRequest(customer_id=customer.id, licence_id=licence.id),
            metadata=customer_service.metadata(other_rep),
        )
    )

    assert [lic.id for lic in by_finance.licences] == [licence.id]
    assert by_service.code == grpc.StatusCode.PERMISSION_DENIED
    assert by_other_rep.code == grpc.StatusCode.NOT_FOUND
    assert recorded_by_finance.code == grpc.StatusCode.PERMISSION_DENIED
    assert deleted_by_other.code == grpc.StatusCode.NOT_FOUND


async def test_recording_and_changing_a_licence_publishes_licence_recorded(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    customer = await customer_service.create(rep, name="杭州拱墅区湖墅南路团膳", type="团膳")
    licence = await _record(customer_service, rep, customer.id, valid_until=_in(customer_service, 100))
    await customer_service.stub.UpdateLicence(
        cpb.UpdateLicenceRequest(
            licence=cpb.Licence(id=licence.id, customer_id=customer.id, valid_until=_in(customer_service, 465)),
            update_mask=FieldMask(paths=["valid_until"]),
        ),
        metadata=customer_service.metadata(rep),
    )

    recorded = []
    for row in await customer_service.outbox():
        if row.envelope.type == event_type_of(events_pb2.LicenceRecorded):
            message = events_pb2.LicenceRecorded()
            assert row.envelope.payload.Unpack(message)
            recorded.append(message)

    assert [(m.created, m.licence.valid_until, m.licence.version) for m in recorded] == [
        (True, _in(customer_service, 100), 1),
        (False, _in(customer_service, 465), 2),
    ]
    assert {(m.tenant_id, m.customer_id, m.customer_name, m.owner_id) for m in recorded} == {
        (org.tenant_id, customer.id, "杭州拱墅区湖墅南路团膳", rep.principal_id)
    }


@pytest.mark.parametrize("backend", ["customer_service", "customer_service_sqlite"], indirect=True)
async def test_supervisors_list_the_expiring_and_expired_licences_of_their_subtree(backend) -> None:
    customer_service = backend
    org = customer_service.org
    rep, rep_b = org.person(Role.SALES, org.shop_a), org.person(Role.SALES, org.shop_b)
    supervisor = org.person(Role.SUPERVISOR, org.sub_a)
    mine = await customer_service.create(rep, name="杭州滨江区江南大道酒店", type="连锁酒店")
    theirs = await customer_service.create(rep_b, name="苏州姑苏区十全街酒店", type="连锁酒店")
    soon = await _record(customer_service, rep, mine.id, valid_until=_in(customer_service, 5))
    lapsed = await _record(
        customer_service, rep, mine.id, kind="营业执照", number="91330108MA2", valid_until=_in(customer_service, -3)
    )
    renewed_old = await _record(
        customer_service, rep, mine.id, kind="卫生许可证", number="WS-1", valid_until=_in(customer_service, -40)
    )
    await _record(
        customer_service, rep, mine.id, kind="卫生许可证", number="WS-2", valid_until=_in(customer_service, 300)
    )
    await _record(customer_service, rep_b, theirs.id, valid_until=_in(customer_service, 2))

    async def listed(who: Identity, status: int = 0) -> list[str]:
        found = await customer_service.stub.ListExpiringLicences(
            cpb.ListExpiringLicencesRequest(status=status), metadata=customer_service.metadata(who)
        )
        return [item.licence.id for item in found.licences]

    assert await listed(supervisor) == [lapsed.id, soon.id]
    assert await listed(supervisor, cpb.LICENCE_STATUS_EXPIRED) == [lapsed.id]
    assert await listed(supervisor, cpb.LICENCE_STATUS_EXPIRING) == [soon.id]
    assert await listed(rep_b) != [] and soon.id not in await listed(rep_b)
    assert renewed_old.id not in await listed(supervisor)
    bad = await customer_service.refusal(listed(supervisor, cpb.LICENCE_STATUS_VALID))
    assert (bad.code, bad.field) == (grpc.StatusCode.INVALID_ARGUMENT, "status")


async def _next_day_run(harness, days: int) -> None:  # type: ignore[no-untyped-def]
    moved_to = harness.clock.advance(dt.timedelta(days=days, minutes=5))
    await ran_since(harness.runtime.sessions, "licence-expiry", moved_to)


@pytest.mark.parametrize("backend", ["customer_service", "customer_service_sqlite"], indirect=True)
async def test_the_owner_is_told_30_and_7_days_before_and_once_expired_each_once(backend) -> None:
    customer_service = backend
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    customer = await customer_service.create(rep, name="杭州萧山区金城路中餐厅", type="中餐")
    licence = await _record(customer_service, rep, customer.id, valid_until=_in(customer_service, 40))
    # Recorded a week before it expires: only the 7-day notice.
    late = await _record(
        customer_service, rep, customer.id, kind="营业执照", number="92330109MA1", valid_until=_in(customer_service, 5)
    )

    await _next_day_run(customer_service, 1)
    first_day = await _notices(customer_service)
    await _next_day_run(customer_service, 9)  # 30 days left
    await _next_day_run(customer_service, 1)
    thirty = await _notices(customer_service)
    await _next_day_run(customer_service, 23)  # 7 days left
    await _next_day_run(customer_service, 1)
    seven = await _notices(customer_service)
    await _next_day_run(customer_service, 7)  # the day after its last valid day
    await _next_day_run(customer_service, 2)
    expired = await _notices(customer_service)

    assert first_day == [("expiring", late.id, 7)]
    # The late one lapsed meanwhile, after its 7-day notice.
    assert sorted(thirty[1:]) == sorted([("expired", late.id, 0), ("expiring", licence.id, 30)])
    assert seven[len(thirty) :] == [("expiring", licence.id, 7)]
    assert expired[len(seven) :] == [("expired", licence.id, 0)]
