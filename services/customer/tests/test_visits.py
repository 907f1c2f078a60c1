"""Visits and attachments: uploads judged by their content and size, stored under random keys
with a thumbnail for images; customers' locations; a visit's check-in with its distance from
the customer and its photos, which must be the customer's own."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from typing import Any, cast

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.timestamp_pb2 import Timestamp
from PIL import Image

from crm.customer.v1 import calendar_pb2 as cpb
from crm.customer.v1 import customer_pb2 as pb
from crm.customer.v1 import events_pb2
from crm.customer.v1 import follow_ups_pb2 as fpb
from crm.customer.v1 import visits_pb2 as vpb
from crm_customer.visits.service import haversine_m
from crmkit.grpc_server import ERROR_CODE_KEY
from crmkit.identity import Identity, Role
from crmkit.storage import ObjectStorage, StorageSettings, open_object_storage

# 杭州西湖区某小学食堂 and a point about 150 m east of it.
SCHOOL = (30.2590, 120.1300)
NEARBY = (30.2590, 120.13156)


def image_bytes(fmt: str = "JPEG", size: tuple[int, int] = (1024, 768)) -> bytes:
    if fmt == "HEIF":
        from pillow_heif import register_heif_opener

        register_heif_opener()
    out = io.BytesIO()
    Image.new("RGBA" if fmt == "PNG" else "RGB", size, (200, 80, 40)).save(out, fmt)
    return out.getvalue()


def pdf_bytes() -> bytes:
    return b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def stored_objects(harness: Any) -> ObjectStorage:
    """The service's object storage, as the test harness configured it (beside the test's keys)."""
    return open_object_storage(StorageSettings(local_dir=harness.keys.public_path.parent / "files"))


async def upload(
    harness: Any,
    identity: Identity,
    customer_id: str,
    content: bytes,
    *,
    kind: int = vpb.ATTACHMENT_KIND_VISIT_PHOTO,
    filename: str = "photo.jpg",
    request_id: str = "",
) -> vpb.Attachment:
    response = await harness.stub.UploadAttachment(
        vpb.UploadAttachmentRequest(
            request_id=request_id, customer_id=customer_id, kind=kind, filename=filename, content=content
        ),
        metadata=harness.metadata(identity),
    )
    return cast(vpb.Attachment, response.attachment)


async def log_visit(harness: Any, identity: Identity, customer_id: str, **fields: Any) -> fpb.Interaction:
    fields.setdefault("kind", fpb.INTERACTION_KIND_VISIT)
    fields.setdefault("content", "上门拜访食堂主任，查看后厨")
    response = await harness.stub.LogInteraction(
        fpb.LogInteractionRequest(interaction=fpb.Interaction(customer_id=customer_id, **fields)),
        metadata=harness.metadata(identity),
    )
    return cast(fpb.Interaction, response.interaction)


def check_in(lat: float, lng: float, **fields: Any) -> vpb.VisitCheckIn:
    fields.setdefault("accuracy_m", 12.0)
    fields.setdefault("address", "浙江省杭州市西湖区文三路")
    return vpb.VisitCheckIn(latitude=lat, longitude=lng, **fields)


async def read(storage: ObjectStorage, key: str) -> bytes:
    return b"".join([chunk async for chunk in await storage.get(key)])


# --------------------------------------------------------------------------- attachments


async def test_a_png_named_pdf_is_stored_as_png_under_a_random_key_with_a_jpeg_thumbnail(customer_service) -> None:
    rep = customer_service.org.person(Role.SALES, customer_service.org.shop_a)
    customer = await customer_service.create(rep, name="杭州西湖区文三路小学食堂")
    png = image_bytes("PNG", (1200, 900))

    attachment = await upload(customer_service, rep, customer.id, png, filename="营业执照.pdf")
    again = await upload(customer_service, rep, customer.id, png, filename="营业执照.pdf")

    assert (attachment.content_type, attachment.size, attachment.filename) == ("image/png", len(png), "营业执照.pdf")
    assert (attachment.width, attachment.height, attachment.has_thumbnail) == (1200, 900, True)
    assert attachment.uploader_id == rep.principal_id
    assert attachment.storage_key.startswith(f"attachments/{customer_service.org.tenant_id}/")
    # 128 random bits each time: the same file twice gets two unrelated keys.
    assert attachment.storage_key != again.storage_key
    assert len(attachment.storage_key.rsplit("/", 1)[1]) == 32
    storage = stored_objects(customer_service)
    assert await read(storage, attachment.storage_key) == png
    thumbnail = Image.open(io.BytesIO(await read(storage, attachment.thumbnail_key)))
    assert (thumbnail.format, max(thumbnail.size)) == ("JPEG", 320)


@pytest.mark.parametrize(
    ("content", "content_type", "thumbnailed"),
    [
        (image_bytes("JPEG"), "image/jpeg", True),
        (image_bytes("WEBP"), "image/webp", True),
        (image_bytes("HEIF"), "image/heic", True),
        (pdf_bytes(), "application/pdf", False),
    ],
    ids=["jpeg", "webp", "heic", "pdf"],
)
async def test_each_accepted_type_is_recognised_from_its_content(
    customer_service, content: bytes, content_type: str, thumbnailed: bool
) -> None:
    rep = customer_service.org.person(Role.SALES, customer_service.org.shop_a)
    customer = await customer_service.create(rep, name="杭州拱墅区某中学食堂")

    attachment = await upload(
        customer_service, rep, customer.id, content, kind=vpb.ATTACHMENT_KIND_LICENCE, filename="x"
    )

    assert (attachment.content_type, attachment.has_thumbnail) == (content_type, thumbnailed)
    assert attachment.kind == vpb.ATTACHMENT_KIND_LICENCE


@pytest.mark.parametrize(
    "content",
    [b"just some text, not a picture\n", b"<svg xmlns='http://www.w3.org/2000/svg'/>", b"\xff\xd8\xff" + b"\0" * 64],
    ids=["text", "svg", "jpeg-header-only"],
)
async def test_anything_but_images_and_pdf_is_refused_as_unsupported_and_nothing_is_kept(
    customer_service, content: bytes
) -> None:
    rep = customer_service.org.person(Role.SALES, customer_service.org.shop_a)
    customer = await customer_service.create(rep, name="杭州上城区某幼儿园食堂")

    refused = await customer_service.refusal(upload(customer_service, rep, customer.id, content, filename="a.jpg"))
    listed = await customer_service.stub.ListAttachments(
        vpb.ListAttachmentsRequest(customer_id=customer.id), metadata=customer_service.metadata(rep)
    )

    assert refused.code == grpc.StatusCode.INVALID_ARGUMENT
    assert (refused.trailers[ERROR_CODE_KEY], refused.field) == ("unsupported_media_type", "content")
    assert list(listed.attachments) == []
    assert [t for t in await customer_service.event_types() if t.endswith("attachment_uploaded")] == []


async def test_an_upload_larger_than_its_kind_allows_is_refused_as_too_large(customer_service) -> None:
    rep = customer_service.org.person(Role.SALES, customer_service.org.shop_a)
    customer = await customer_service.create(rep, name="杭州滨江区某小学食堂")
    # A valid JPEG header and 10 MiB + 1 byte in all: past the default limit for visit photos.
    too_big = image_bytes("JPEG") + b"\0" * (10 * 1024 * 1024)

    refused = await customer_service.refusal(upload(customer_service, rep, customer.id, too_big))
    # The same size is within a contract's 20 MiB (it is then judged by its content).
    as_contract = await customer_service.refusal(
        upload(customer_service, rep, customer.id, b"x" * len(too_big), kind=vpb.ATTACHMENT_KIND_CONTRACT)
    )

    assert refused.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert (refused.trailers[ERROR_CODE_KEY], refused.field) == ("payload_too_large", "content")
    assert as_contract.trailers[ERROR_CODE_KEY] == "unsupported_media_type"


async def test_attachments_follow_the_customers_scope(customer_service) -> None:
    org = customer_service.org
    rep, other_rep = org.person(Role.SALES, org.shop_a), org.person(Role.SALES, org.shop_a)
    supervisor_a, supervisor_b = org.person(Role.SUPERVISOR, org.sub_a), org.person(Role.SUPERVISOR, org.sub_b)
    finance = org.person(Role.FINANCE, org.sub_a)
    customer = await customer_service.create(rep, name="杭州余杭区某中学食堂")
    attachment = await upload(customer_service, rep, customer.id, pdf_bytes(), kind=vpb.ATTACHMENT_KIND_LICENCE)

    async def get(identity: Identity) -> vpb.Attachment:
        response = await customer_service.stub.GetAttachment(
            vpb.GetAttachmentRequest(id=attachment.id), metadata=customer_service.metadata(identity)
        )
        return cast(vpb.Attachment, response.attachment)

    for allowed in (rep, supervisor_a, finance):
        assert (await get(allowed)).id == attachment.id
    for refused in (other_rep, supervisor_b):
        assert (await customer_service.refusal(get(refused))).code == grpc.StatusCode.NOT_FOUND
    other_tenant = Identity(
        principal_id=str(uuid.uuid4()),
        tenant_id=str(uuid.uuid4()),
        org_unit_id=org.hq,
        org_path=org.path(org.hq),
        role=Role.ADMIN,
    )
    assert (await customer_service.refusal(get(other_tenant))).code == grpc.StatusCode.NOT_FOUND
    upload_by_other = await customer_service.refusal(upload(customer_service, other_rep, customer.id, image_bytes()))
    assert upload_by_other.code == grpc.StatusCode.NOT_FOUND
    listed = await customer_service.refusal(
        customer_service.stub.ListAttachments(
            vpb.ListAttachmentsRequest(customer_id=customer.id), metadata=customer_service.metadata(other_rep)
        )
    )
    assert listed.code == grpc.StatusCode.NOT_FOUND


async def test_a_retried_upload_returns_the_first_and_is_published_once(customer_service) -> None:
    rep = customer_service.org.person(Role.SALES, customer_service.org.shop_a)
    customer = await customer_service.create(rep, name="杭州萧山区某小学食堂")
    request_id = str(uuid.uuid4())

    first = await upload(customer_service, rep, customer.id, image_bytes(), request_id=request_id)
    second = await upload(customer_service, rep, customer.id, image_bytes(), request_id=request_id)
    listed = await customer_service.stub.ListAttachments(
        vpb.ListAttachmentsRequest(customer_id=customer.id, kind=vpb.ATTACHMENT_KIND_VISIT_PHOTO),
        metadata=customer_service.metadata(rep),
    )
    rows = [r for r in await customer_service.published_outbox() if r.envelope.type.endswith("attachment_uploaded")]

    assert second.id == first.id
    assert [a.id for a in listed.attachments] == [first.id]
    assert len(rows) == 1
    event = events_pb2.AttachmentUploaded()
    assert rows[0].envelope.payload.Unpack(event)
    # Events carry what the file is, never where it is stored.
    assert (event.attachment.id, event.attachment.storage_key, event.attachment.thumbnail_key) == (first.id, "", "")


# --------------------------------------------------------------------------- locations


async def test_a_customers_location_is_checked_and_kept_and_carried_by_its_events(customer_service) -> None:
    rep = customer_service.org.person(Role.SALES, customer_service.org.shop_a)

    async def create(**fields: Any) -> Any:
        return await customer_service.refusal(customer_service.create(rep, name="杭州某食堂", **fields))

    assert (await create(latitude=91.0, longitude=120.0)).field == "customer.latitude"
    assert (await create(latitude=30.0, longitude=-180.5)).field == "customer.longitude"
    assert (await create(latitude=30.0)).field == "customer.longitude"
    assert (await create(longitude=120.0)).field == "customer.latitude"
    assert (await create(latitude=float("nan"), longitude=120.0)).field == "customer.latitude"

    customer = await customer_service.create(
        rep, name="杭州西湖区文三路小学食堂", latitude=SCHOOL[0], longitude=SCHOOL[1]
    )
    assert (customer.latitude, customer.longitude) == SCHOOL

    async def update(paths: list[str], **fields: Any) -> pb.Customer:
        response = await customer_service.stub.UpdateCustomer(
            pb.UpdateCustomerRequest(
                customer=pb.Customer(id=customer.id, **fields), update_mask=FieldMask(paths=paths)
            ),
            metadata=customer_service.metadata(rep),
        )
        return cast(pb.Customer, response.customer)

    half = await customer_service.refusal(update(["latitude"], latitude=30.3))
    assert half.field == "customer.longitude"
    moved = await update(["latitude", "longitude"], latitude=30.2601, longitude=120.1312)
    cleared = await update(["latitude", "longitude"])
    rows = await customer_service.published_outbox()

    assert (moved.latitude, moved.longitude) == (30.2601, 120.1312)
    assert not cleared.HasField("latitude") and not cleared.HasField("longitude")
    updates = []
    for row in rows:
        if row.envelope.type.endswith("customer_updated") and row.envelope.aggregate_id == customer.id:
            event = events_pb2.CustomerUpdated()
            row.envelope.payload.Unpack(event)
            updates.append(event)
    assert sorted(updates[0].changed_fields) == ["latitude", "longitude"]
    assert (updates[0].customer.latitude, updates[0].customer.longitude) == (30.2601, 120.1312)
    assert not updates[1].customer.HasField("latitude")


# --------------------------------------------------------------------------- visits


def test_haversine_measures_metres_on_the_earth() -> None:
    assert haversine_m(*SCHOOL, *SCHOOL) == 0
    assert haversine_m(*SCHOOL, *NEARBY) == pytest.approx(150, abs=1)
    # 杭州 to 上海 (人民广场) is about 165 km as the crow flies.
    assert haversine_m(30.2741, 120.1551, 31.2304, 121.4737) == pytest.approx(165_000, rel=0.02)


async def test_a_check_in_with_photos_is_measured_against_the_customer_and_published(customer_service) -> None:
    rep = customer_service.org.person(Role.SALES, customer_service.org.shop_a)
    customer = await customer_service.create(
        rep, name="杭州西湖区文三路小学食堂", latitude=SCHOOL[0], longitude=SCHOOL[1]
    )
    photos = [await upload(customer_service, rep, customer.id, image_bytes()) for _ in range(2)]
    checked_in = customer_service.clock() - dt.timedelta(minutes=2)
    stamp = Timestamp()
    stamp.FromDatetime(checked_in)

    logged = await log_visit(
        customer_service,
        rep,
        customer.id,
        check_in=check_in(*NEARBY, check_in_time=stamp),
        photo_attachment_ids=[p.id for p in photos],
    )
    listed = await customer_service.stub.ListInteractions(
        fpb.ListInteractionsRequest(customer_id=customer.id), metadata=customer_service.metadata(rep)
    )
    rows = await customer_service.published_outbox()

    assert logged.check_in.distance_m == pytest.approx(150, abs=1)
    assert (logged.check_in.accuracy_m, logged.check_in.address) == (12.0, "浙江省杭州市西湖区文三路")
    assert logged.check_in.check_in_time.ToDatetime(tzinfo=dt.UTC) == checked_in
    assert list(logged.photo_attachment_ids) == [p.id for p in photos]
    assert listed.interactions[0].check_in == logged.check_in
    assert list(listed.interactions[0].photo_attachment_ids) == [p.id for p in photos]
    event = events_pb2.InteractionLogged()
    assert rows[-1].envelope.payload.Unpack(event)
    assert event.interaction.check_in == logged.check_in
    assert list(event.interaction.photo_attachment_ids) == [p.id for p in photos]


async def test_a_check_in_at_a_customer_without_a_location_has_no_distance(customer_service_sqlite) -> None:
    harness = customer_service_sqlite
    rep = harness.org.person(Role.SALES, harness.org.shop_a)
    customer = await harness.create(rep, name="杭州临平区某小学食堂")
    photo = await upload(harness, rep, customer.id, image_bytes())

    logged = await log_visit(harness, rep, customer.id, check_in=check_in(*NEARBY), photo_attachment_ids=[photo.id])
    phone = await log_visit(harness, rep, customer.id, kind=fpb.INTERACTION_KIND_PHONE, content="电话回访")

    assert logged.HasField("check_in") and not logged.check_in.HasField("distance_m")
    # Without a time of its own the check-in is when the visit happened.
    assert logged.check_in.check_in_time == logged.occur_time
    assert list(logged.photo_attachment_ids) == [photo.id]
    assert not phone.HasField("check_in") and list(phone.photo_attachment_ids) == []


async def test_photos_must_be_this_customers_visit_photos(customer_service) -> None:
    org = customer_service.org
    rep, other_rep = org.person(Role.SALES, org.shop_a), org.person(Role.SALES, org.shop_a)
    customer = await customer_service.create(rep, name="杭州富阳区某中学食堂")
    mine = await customer_service.create(rep, name="杭州桐庐县某小学食堂")
    theirs = await customer_service.create(other_rep, name="杭州建德市某小学食堂")
    own_photo = await upload(customer_service, rep, customer.id, image_bytes())
    other_customers_photo = await upload(customer_service, rep, mine.id, image_bytes())
    other_reps_photo = await upload(customer_service, other_rep, theirs.id, image_bytes())
    licence = await upload(customer_service, rep, customer.id, pdf_bytes(), kind=vpb.ATTACHMENT_KIND_LICENCE)

    async def photos(ids: list[str]) -> Any:
        return await customer_service.refusal(log_visit(customer_service, rep, customer.id, photo_attachment_ids=ids))

    for foreign in (other_customers_photo.id, other_reps_photo.id, str(uuid.uuid4()), licence.id):
        refused = await photos([own_photo.id, foreign])
        assert refused.code == grpc.StatusCode.INVALID_ARGUMENT
        assert refused.field == "interaction.photo_attachment_ids[1]"
    too_many = await photos([own_photo.id] * 10)
    assert too_many.field == "interaction.photo_attachment_ids"
    assert (
        len(
            (
                await customer_service.stub.ListInteractions(
                    fpb.ListInteractionsRequest(customer_id=customer.id), metadata=customer_service.metadata(rep)
                )
            ).interactions
        )
        == 0
    )


async def test_check_ins_are_checked_and_only_visits_carry_them(customer_service) -> None:
    rep = customer_service.org.person(Role.SALES, customer_service.org.shop_a)
    customer = await customer_service.create(rep, name="杭州淳安县某小学食堂")
    future = Timestamp()
    future.FromDatetime(customer_service.clock() + dt.timedelta(hours=1))
    cases = {
        "interaction.check_in.latitude": {"check_in": check_in(-90.5, 120.0)},
        "interaction.check_in.longitude": {"check_in": check_in(30.0, 181.0)},
        "interaction.check_in.accuracy_m": {"check_in": check_in(30.0, 120.0, accuracy_m=-1)},
        "interaction.check_in.address": {"check_in": check_in(30.0, 120.0, address="路" * 201)},
        "interaction.check_in.check_in_time": {"check_in": check_in(30.0, 120.0, check_in_time=future)},
        "interaction.check_in": {"kind": fpb.INTERACTION_KIND_PHONE, "check_in": check_in(30.0, 120.0)},
        "interaction.photo_attachment_ids": {"kind": fpb.INTERACTION_KIND_WECHAT, "photo_attachment_ids": ["x"]},
    }
    for field, fields in cases.items():
        refused = await customer_service.refusal(log_visit(customer_service, rep, customer.id, **fields))
        assert (refused.code, refused.field) == (grpc.StatusCode.INVALID_ARGUMENT, field), field


async def test_a_visit_with_a_check_in_stays_a_visit(customer_service) -> None:
    rep = customer_service.org.person(Role.SALES, customer_service.org.shop_a)
    customer = await customer_service.create(rep, name="杭州西湖区某职校食堂")
    logged = await log_visit(customer_service, rep, customer.id, check_in=check_in(*SCHOOL))

    refused = await customer_service.refusal(
        customer_service.stub.UpdateInteraction(
            fpb.UpdateInteractionRequest(
                interaction=fpb.Interaction(id=logged.id, customer_id=customer.id, kind=fpb.INTERACTION_KIND_PHONE),
                update_mask=FieldMask(paths=["kind"]),
            ),
            metadata=customer_service.metadata(rep),
        )
    )
    edited = await customer_service.stub.UpdateInteraction(
        fpb.UpdateInteractionRequest(
            interaction=fpb.Interaction(id=logged.id, customer_id=customer.id, content="补充：后厨整洁"),
            update_mask=FieldMask(paths=["content"]),
        ),
        metadata=customer_service.metadata(rep),
    )

    assert refused.field == "interaction.kind"
    assert edited.interaction.check_in == logged.check_in


@pytest.mark.parametrize("backend", ["customer_service", "customer_service_sqlite"], indirect=True)
async def test_a_phone_that_refused_its_location_still_checks_in_with_no_location_and_no_distance(backend) -> None:
    rep = backend.org.person(Role.SALES, backend.org.shop_a)
    customer = await backend.create(rep, name="杭州拱墅区某小学食堂", latitude=SCHOOL[0], longitude=SCHOOL[1])

    logged = await log_visit(
        backend, rep, customer.id, check_in=vpb.VisitCheckIn(no_location=True, address="拱墅区湖墅南路")
    )
    listed = await backend.stub.ListInteractions(
        fpb.ListInteractionsRequest(customer_id=customer.id), metadata=backend.metadata(rep)
    )

    assert logged.check_in.no_location and not logged.check_in.HasField("distance_m")
    assert (logged.check_in.latitude, logged.check_in.longitude, logged.check_in.address) == (0, 0, "拱墅区湖墅南路")
    assert logged.check_in.check_in_time == logged.occur_time
    assert listed.interactions[0].check_in == logged.check_in


async def test_a_check_in_without_a_location_takes_no_coordinates(customer_service) -> None:
    rep = customer_service.org.person(Role.SALES, customer_service.org.shop_a)
    customer = await customer_service.create(rep, name="杭州上城区某小学食堂")
    cases = {
        "interaction.check_in.latitude": vpb.VisitCheckIn(no_location=True, latitude=30.2),
        "interaction.check_in.longitude": vpb.VisitCheckIn(no_location=True, longitude=120.1),
        "interaction.check_in.accuracy_m": vpb.VisitCheckIn(no_location=True, accuracy_m=30),
    }
    for field, value in cases.items():
        refused = await customer_service.refusal(log_visit(customer_service, rep, customer.id, check_in=value))
        assert (refused.code, refused.field) == (grpc.StatusCode.INVALID_ARGUMENT, field), field


# --------------------------------------------------------------------------- deleting attachments


async def delete(harness: Any, identity: Identity, attachment_id: str) -> None:
    await harness.stub.DeleteAttachment(
        vpb.DeleteAttachmentRequest(id=attachment_id), metadata=harness.metadata(identity)
    )


@pytest.mark.parametrize("backend", ["customer_service", "customer_service_sqlite"], indirect=True)
async def test_a_deleted_attachment_is_gone_with_its_files_and_published(backend) -> None:
    rep = backend.org.person(Role.SALES, backend.org.shop_a)
    customer = await backend.create(rep, name="杭州富阳区某小学食堂")
    kept = await upload(backend, rep, customer.id, image_bytes())
    wrong = await upload(backend, rep, customer.id, image_bytes(), filename="拍错了.jpg")
    storage = stored_objects(backend)
    assert await read(storage, wrong.thumbnail_key)

    await delete(backend, rep, wrong.id)

    listed = await backend.stub.ListAttachments(
        vpb.ListAttachmentsRequest(customer_id=customer.id), metadata=backend.metadata(rep)
    )
    assert [a.id for a in listed.attachments] == [kept.id]
    gone = await backend.refusal(
        backend.stub.GetAttachment(vpb.GetAttachmentRequest(id=wrong.id), metadata=backend.metadata(rep))
    )
    assert gone.code == grpc.StatusCode.NOT_FOUND
    for key in (wrong.storage_key, wrong.thumbnail_key):
        assert not await storage.exists(key), key
    assert await read(storage, kept.storage_key)
    rows = [r for r in await backend.published_outbox() if r.envelope.type.endswith("attachment_deleted")]
    assert len(rows) == 1
    event = events_pb2.AttachmentDeleted()
    assert rows[0].envelope.payload.Unpack(event)
    assert (event.attachment.id, event.attachment.storage_key, event.deleted_by) == (wrong.id, "", rep.principal_id)
    assert rows[0].envelope.aggregate_id == customer.id
    again = await backend.refusal(delete(backend, rep, wrong.id))
    assert again.code == grpc.StatusCode.NOT_FOUND


async def test_another_reps_or_tenants_attachment_looks_missing_to_delete(customer_service) -> None:
    org = customer_service.org
    rep, other_rep = org.person(Role.SALES, org.shop_a), org.person(Role.SALES, org.shop_a)
    customer = await customer_service.create(rep, name="杭州桐庐县某中学食堂")
    attachment = await upload(customer_service, rep, customer.id, pdf_bytes(), kind=vpb.ATTACHMENT_KIND_CONTRACT)
    other_tenant = Identity(
        principal_id=str(uuid.uuid4()),
        tenant_id=str(uuid.uuid4()),
        org_unit_id=org.hq,
        org_path=org.path(org.hq),
        role=Role.ADMIN,
    )

    by_other_rep = await customer_service.refusal(delete(customer_service, other_rep, attachment.id))
    by_other_tenant = await customer_service.refusal(delete(customer_service, other_tenant, attachment.id))
    missing_id = str(uuid.uuid4())
    missing = await customer_service.refusal(delete(customer_service, rep, missing_id))
    malformed = await customer_service.refusal(delete(customer_service, rep, ""))

    assert by_other_rep.code == by_other_tenant.code == missing.code == grpc.StatusCode.NOT_FOUND
    assert by_other_rep.message.replace(attachment.id, "?") == missing.message.replace(missing_id, "?")
    assert (malformed.code, malformed.field) == (grpc.StatusCode.INVALID_ARGUMENT, "id")
    assert (await get_attachment(customer_service, rep, attachment.id)).id == attachment.id


async def test_an_attachment_a_visit_or_licence_refers_to_is_not_deleted(customer_service) -> None:
    rep = customer_service.org.person(Role.SALES, customer_service.org.shop_a)
    customer = await customer_service.create(rep, name="杭州建德市某小学食堂")
    photo = await upload(customer_service, rep, customer.id, image_bytes())
    scan = await upload(customer_service, rep, customer.id, pdf_bytes(), kind=vpb.ATTACHMENT_KIND_LICENCE)
    await log_visit(customer_service, rep, customer.id, photo_attachment_ids=[photo.id])
    await customer_service.stub.CreateLicence(
        cpb.CreateLicenceRequest(
            licence=cpb.Licence(
                customer_id=customer.id, kind="食品经营许可证", number="JY13301060012345", attachment_id=scan.id
            )
        ),
        metadata=customer_service.metadata(rep),
    )

    for attachment in (photo, scan):
        refused = await customer_service.refusal(delete(customer_service, rep, attachment.id))
        assert (refused.code, refused.trailers.get(ERROR_CODE_KEY)) == (
            grpc.StatusCode.FAILED_PRECONDITION,
            "attachment_in_use",
        )
        assert (await get_attachment(customer_service, rep, attachment.id)).id == attachment.id
        assert await read(stored_objects(customer_service), attachment.storage_key)


async def get_attachment(harness: Any, identity: Identity, attachment_id: str) -> vpb.Attachment:
    response = await harness.stub.GetAttachment(
        vpb.GetAttachmentRequest(id=attachment_id), metadata=harness.metadata(identity)
    )
    return cast(vpb.Attachment, response.attachment)
