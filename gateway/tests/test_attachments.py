"""Attachments and visits over REST: a multipart upload judged by its content, the file streamed
back only to those who may see the customer, signed URLs that expire and cannot be altered, a
visit's check-in with photos, and customers' locations."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from PIL import Image

CUSTOMERS = "/api/v1/customers"
# 杭州西湖区文三路 and a point about 150 m east of it.
SCHOOL = {"latitude": 30.2590, "longitude": 120.1300}
NEARBY = {"latitude": 30.2590, "longitude": 120.13156}


def jpeg(size: tuple[int, int] = (800, 600), colour: tuple[int, int, int] = (30, 120, 60)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (640, 480), (10, 20, 200, 128)).save(out, "PNG")
    return out.getvalue()


async def _upload(
    client,
    person,
    customer_id: str,
    content: bytes,
    *,
    kind: str = "visit_photo",
    name: str = "a.jpg",
    mime: str = "image/jpeg",
):  # type: ignore[no-untyped-def]
    return await client.post(
        f"{CUSTOMERS}/{customer_id}/attachments",
        files={"file": (name, content, mime)},
        data={"kind": kind},
        headers=person.headers,
    )


async def test_a_multipart_upload_is_judged_by_its_content_and_streamed_back(client, org, api) -> None:  # type: ignore[no-untyped-def]
    customer = await api.create_customer(org.sales_a, name="杭州西湖区文三路小学食堂")
    picture = png()

    uploaded = await _upload(
        client, org.sales_a, customer["id"], picture, kind="licence", name="营业执照.pdf", mime="application/pdf"
    )
    assert uploaded.status_code == 201, uploaded.text
    body = uploaded.json()
    content = await client.get(body["content_url"], headers=org.sales_a.headers)
    thumbnail = await client.get(body["thumbnail_url"], headers=org.sales_a.headers)
    listed = await client.get(f"{CUSTOMERS}/{customer['id']}/attachments", headers=org.sales_a.headers)
    only_photos = await client.get(
        f"{CUSTOMERS}/{customer['id']}/attachments", params={"kind": "visit_photo"}, headers=org.sales_a.headers
    )

    assert (body["kind"], body["content_type"], body["filename"]) == ("licence", "image/png", "营业执照.pdf")
    assert (body["size"], body["width"], body["height"], body["uploader_name"]) == (len(picture), 640, 480, "张三")
    assert body["created_at"].endswith("+08:00") and body["signed_until"].endswith("+08:00")
    assert "storage_key" not in body and "thumbnail_key" not in body
    assert content.status_code == 200
    assert (content.content, content.headers["content-type"]) == (picture, "image/png")
    assert content.headers["x-content-type-options"] == "nosniff"
    assert content.headers["content-disposition"].startswith("inline; filename*=UTF-8''")
    assert thumbnail.headers["content-type"] == "image/jpeg"
    assert max(Image.open(io.BytesIO(thumbnail.content)).size) == 320
    assert [a["id"] for a in listed.json()["items"]] == [body["id"]]
    assert only_photos.json()["items"] == []


async def test_a_text_file_is_415_and_an_oversized_photo_413(client, org, api) -> None:  # type: ignore[no-untyped-def]
    customer = await api.create_customer(org.sales_a, name="杭州拱墅区某小学食堂")

    text = await _upload(client, org.sales_a, customer["id"], b"not an image at all", name="x.jpg")
    pdf_as_photo = await _upload(client, org.sales_a, customer["id"], b"%PDF-1.4\n%%EOF\n", name="x.pdf")
    too_big = await _upload(client, org.sales_a, customer["id"], jpeg() + b"\0" * (10 * 1024 * 1024))
    way_too_big = await client.post(
        f"{CUSTOMERS}/{customer['id']}/attachments",
        content=b"x" * 10,
        headers={
            **org.sales_a.headers,
            "content-length": str(30 * 1024 * 1024),
            "content-type": "multipart/form-data; boundary=x",
        },
    )
    unknown_kind = await _upload(client, org.sales_a, customer["id"], jpeg(), kind="selfie")
    no_file = await client.post(
        f"{CUSTOMERS}/{customer['id']}/attachments", data={"kind": "other"}, headers=org.sales_a.headers
    )

    api.problem(text, 415, code="unsupported_media_type", field="file")
    api.problem(pdf_as_photo, 415, code="unsupported_media_type", field="file")
    api.problem(too_big, 413, code="payload_too_large", field="file")
    assert way_too_big.status_code == 413
    api.problem(unknown_kind, 422, field="kind")
    api.problem(no_file, 422, field="file")


async def test_another_rep_gets_404_for_the_file_and_everything_about_it(client, org, api) -> None:  # type: ignore[no-untyped-def]
    customer = await api.create_customer(org.sales_a, name="杭州上城区某中学食堂")
    body = (await _upload(client, org.sales_a, customer["id"], jpeg())).json()

    for person in (org.supervisor, org.service, org.finance, org.boss):
        shown = await client.get(body["thumbnail_url"], headers=person.headers)
        assert shown.status_code == 200, (person.role, shown.text)
    for url in (f"/api/v1/attachments/{body['id']}", body["content_url"], body["thumbnail_url"]):
        api.problem(await client.get(url, headers=org.sales_b.headers), 404)
        api.problem(await client.get(url, headers=org.sales_c.headers), 404)
    api.problem(await client.get(f"{CUSTOMERS}/{customer['id']}/attachments", headers=org.sales_b.headers), 404)
    api.problem(await _upload(client, org.sales_b, customer["id"], jpeg()), 404)
    api.problem(
        await client.post(f"/api/v1/attachments/{body['id']}/signed-urls", json={}, headers=org.sales_b.headers), 404
    )
    api.problem(await client.get(body["content_url"]), 401)


async def test_a_signed_url_opens_the_file_without_a_header_until_it_expires_and_not_once_altered(  # type: ignore[no-untyped-def]
    client, org, api, stack
) -> None:
    customer = await api.create_customer(org.sales_a, name="杭州滨江区某小学食堂")
    picture = jpeg()
    body = (await _upload(client, org.sales_a, customer["id"], picture)).json()
    signed = await client.post(
        f"/api/v1/attachments/{body['id']}/signed-urls", json={"seconds": 60}, headers=org.sales_a.headers
    )
    assert signed.status_code == 200, signed.text
    urls = signed.json()

    opened = await client.get(urls["content_url"])
    thumbnail = await client.get(body["signed_thumbnail_url"])
    assert (opened.status_code, opened.content) == (200, picture)
    assert opened.headers["cache-control"].startswith("private, max-age=")
    assert thumbnail.headers["content-type"] == "image/jpeg"

    parts = urlsplit(urls["content_url"])
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    other = (await _upload(client, org.sales_a, customer["id"], jpeg(colour=(1, 2, 3)))).json()
    tampered = {
        "another attachment": (parts.path.replace(body["id"], other["id"]), query),
        "the thumbnail": (parts.path.replace("/content", "/thumbnail"), query),
        "another user": (parts.path, {**query, "user": org.sales_b.id}),
        "another tenant": (parts.path, {**query, "tenant": org.sales_b.id}),
        "a later expiry": (parts.path, {**query, "expires": str(int(query["expires"]) + 3600)}),
        "another signature": (parts.path, {**query, "signature": query["signature"][:-2] + "AA"}),
    }
    for why, (path, params) in tampered.items():
        refused = await client.get(f"{path}?{urlencode(params)}")
        assert refused.status_code == 403, why
        assert refused.json()["code"] == "link_invalid", why
        assert refused.content != picture

    with stack.clock.shifted(dt.timedelta(seconds=61)):
        expired = await client.get(urls["content_url"])
    api.problem(expired, 403, code="link_expired")


async def test_a_signed_url_stops_working_once_its_user_may_not_see_the_customer(client, org, api) -> None:  # type: ignore[no-untyped-def]
    customer = await api.create_customer(org.sales_a, name="杭州余杭区某幼儿园食堂")
    body = (await _upload(client, org.sales_a, customer["id"], jpeg())).json()
    assert (await client.get(body["signed_thumbnail_url"])).status_code == 200

    moved = await client.patch(
        f"{CUSTOMERS}/{customer['id']}",
        json={"owner_id": org.sales_b.id, "reason": "调整片区"},
        headers=org.admin.headers,
    )
    assert moved.status_code == 200, moved.text

    api.problem(await client.get(body["signed_thumbnail_url"]), 404)


async def test_a_rep_checks_in_at_a_visit_with_photos_and_the_distance_is_shown(client, org, api) -> None:  # type: ignore[no-untyped-def]
    customer = await api.create_customer(org.sales_a, name="杭州西湖区某职校食堂", **SCHOOL)
    assert (customer["latitude"], customer["longitude"]) == (SCHOOL["latitude"], SCHOOL["longitude"])
    photos = [(await _upload(client, org.sales_a, customer["id"], jpeg(colour=(i, i, i)))).json() for i in (10, 20)]

    logged = await client.post(
        f"{CUSTOMERS}/{customer['id']}/follow-ups",
        json={
            "kind": "visit",
            "content": "到店拜访，查看冷库",
            "check_in": {**NEARBY, "accuracy_m": 15, "address": "浙江省杭州市西湖区文三路 478 号"},
            "photo_attachment_ids": [p["id"] for p in photos],
        },
        headers=org.sales_a.headers,
    )
    assert logged.status_code == 201, logged.text
    entry = logged.json()
    listed = (await client.get(f"{CUSTOMERS}/{customer['id']}/follow-ups", headers=org.service.headers)).json()

    assert 145 < entry["check_in"]["distance_m"] < 155
    assert entry["check_in"]["address"] == "浙江省杭州市西湖区文三路 478 号"
    assert entry["check_in"]["checked_in_at"].endswith("+08:00")
    assert [p["attachment_id"] for p in entry["photos"]] == [p["id"] for p in photos]
    # Whoever may see the customer sees its visit photos: here the service staff, by signed URL.
    shown = listed["items"][0]
    assert shown["check_in"] == entry["check_in"]
    assert (await client.get(shown["photos"][1]["thumbnail_url"])).headers["content-type"] == "image/jpeg"


async def test_bad_check_ins_and_locations_are_refused_naming_the_field(client, org, api) -> None:  # type: ignore[no-untyped-def]
    customer = await api.create_customer(org.sales_a, name="杭州临平区某小学食堂")
    other = await api.create_customer(org.sales_a, name="杭州萧山区某小学食堂")
    foreign_photo = (await _upload(client, org.sales_a, other["id"], jpeg())).json()
    url = f"{CUSTOMERS}/{customer['id']}/follow-ups"

    async def log(**fields: Any):  # type: ignore[no-untyped-def]
        return await client.post(url, json={"kind": "visit", "content": "拜访", **fields}, headers=org.sales_a.headers)

    api.problem(await log(check_in={"latitude": 91, "longitude": 120}), 422, field="check_in.latitude")
    api.problem(await log(check_in={"latitude": 30, "longitude": -181}), 422, field="check_in.longitude")
    api.problem(await log(check_in={"latitude": 30}), 422, field="check_in.longitude")
    api.problem(await log(check_in={**SCHOOL, "accuracy_m": -3}), 422, field="check_in.accuracy_m")
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).isoformat()
    api.problem(await log(check_in={**SCHOOL, "checked_in_at": future}), 400, field="check_in.checked_in_at")
    api.problem(await log(kind="phone", check_in=SCHOOL), 400, field="check_in")
    api.problem(await log(photo_attachment_ids=[foreign_photo["id"]]), 400, field="photo_attachment_ids[0]")

    create = await client.post(
        CUSTOMERS, json=api.customer_body(latitude=95, longitude=120), headers=org.sales_a.headers
    )
    api.problem(create, 422, field="latitude")
    half = await client.post(CUSTOMERS, json=api.customer_body(latitude=30.1), headers=org.sales_a.headers)
    api.problem(half, 400, field="longitude")
    patched = await client.patch(
        f"{CUSTOMERS}/{customer['id']}", json={"longitude": 120.2}, headers=org.sales_a.headers
    )
    api.problem(patched, 400, field="latitude")
    pinned = await client.patch(f"{CUSTOMERS}/{customer['id']}", json=SCHOOL, headers=org.sales_a.headers)
    cleared = await client.patch(
        f"{CUSTOMERS}/{customer['id']}", json={"latitude": None, "longitude": None}, headers=org.sales_a.headers
    )
    assert (pinned.json()["latitude"], pinned.json()["longitude"]) == (SCHOOL["latitude"], SCHOOL["longitude"])
    assert (cleared.json()["latitude"], cleared.json()["longitude"]) == (None, None)


async def test_a_check_in_without_a_location_is_recorded_as_no_location_without_a_distance(client, org, api) -> None:  # type: ignore[no-untyped-def]
    customer = await api.create_customer(org.sales_a, name="杭州滨江区某小学食堂", **SCHOOL)
    url = f"{CUSTOMERS}/{customer['id']}/follow-ups"

    async def log(check_in: dict[str, Any]):  # type: ignore[no-untyped-def]
        body = {"kind": "visit", "content": "拜访，手机未授权定位", "check_in": check_in}
        return await client.post(url, json=body, headers=org.sales_a.headers)

    logged = await log({"no_location": True, "address": "滨江区江南大道"})
    assert logged.status_code == 201, logged.text
    check_in = logged.json()["check_in"]
    assert (check_in["no_location"], check_in["latitude"], check_in["longitude"]) == (True, None, None)
    assert (check_in["distance_m"], check_in["address"]) == (None, "滨江区江南大道")
    assert check_in["checked_in_at"].endswith("+08:00")
    api.problem(await log({"no_location": True, "latitude": 30.2, "longitude": 120.2}), 400, field="check_in.latitude")
    api.problem(await log({"no_location": True, "latitude": 95}), 422, field="check_in.latitude")
    api.problem(await log({"address": "滨江区"}), 422, field="check_in.latitude")


async def test_a_deleted_file_is_gone_for_everyone_and_a_visit_photo_stays(client, org, api) -> None:  # type: ignore[no-untyped-def]
    customer = await api.create_customer(org.sales_a, name="杭州余杭区某小学食堂")
    wrong = (await _upload(client, org.sales_a, customer["id"], jpeg())).json()
    kept = (await _upload(client, org.sales_a, customer["id"], jpeg(colour=(9, 9, 9)))).json()
    await client.post(
        f"{CUSTOMERS}/{customer['id']}/follow-ups",
        json={"kind": "visit", "content": "拜访", "photo_attachment_ids": [kept["id"]]},
        headers=org.sales_a.headers,
    )

    by_other_rep = await client.delete(f"/api/v1/attachments/{wrong['id']}", headers=org.sales_b.headers)
    deleted = await client.delete(f"/api/v1/attachments/{wrong['id']}", headers=org.sales_a.headers)
    in_use = await client.delete(f"/api/v1/attachments/{kept['id']}", headers=org.sales_a.headers)

    api.problem(by_other_rep, 404, code="not_found")
    assert deleted.status_code == 204, deleted.text
    api.problem(in_use, 412, code="attachment_in_use")
    listed = (await client.get(f"{CUSTOMERS}/{customer['id']}/attachments", headers=org.sales_a.headers)).json()
    assert [a["id"] for a in listed["items"]] == [kept["id"]]
    for url in (wrong["content_url"], f"/api/v1/attachments/{wrong['id']}"):
        api.problem(await client.get(url, headers=org.sales_a.headers), 404, code="not_found")
    assert (await client.get(wrong["signed_thumbnail_url"])).status_code in (403, 404)
    api.problem(await client.delete(f"/api/v1/attachments/{wrong['id']}", headers=org.sales_a.headers), 404)
