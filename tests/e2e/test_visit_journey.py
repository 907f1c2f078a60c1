"""A visit with check-in and photos through the whole stack as processes on PostgreSQL: a rep
pins the customer on the map, uploads two photos from the phone, checks in at the visit with
them; the photos come back to the rep (with the Authorization header and by signed URL) and
never to another rep; the file in object storage is under a key nobody can guess."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest
from PIL import Image

from crm_devstack.stack import Stack

from .conftest import ADMIN_PASSWORD, branch_with_people, login, ok

pytestmark = pytest.mark.e2e
PASSWORD = "visit-密码-2026"


def _photo(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (1600, 1200), colour).save(out, "JPEG", quality=90)
    return out.getvalue()


def test_a_rep_checks_in_at_a_visit_with_two_photos_retrievable_by_the_rep_and_not_another_rep(stack: Stack) -> None:
    with httpx.Client(base_url=stack.gateway_url, timeout=30) as client:
        admin = login(client, "admin", ADMIN_PASSWORD)
        _, _, people = branch_with_people(
            client,
            admin,
            branch="杭州分公司",
            shop="西湖门店",
            people={"visit.rep": ("sales", "shop"), "visit.other": ("sales", "shop")},
            password=PASSWORD,
        )
        rep, other = people["visit.rep"], people["visit.other"]
        customer = ok(
            client.post(
                "/api/v1/customers",
                json={
                    "name": "杭州西湖区文三路小学食堂",
                    "type": "学校食堂",
                    "latitude": 30.2590,
                    "longitude": 120.1300,
                },
                headers=rep,
            ),
            201,
        )
        photos = [_photo((180, 40, 40)), _photo((40, 40, 180))]
        uploaded = [
            ok(
                client.post(
                    f"/api/v1/customers/{customer['id']}/attachments",
                    files={"file": (f"IMG_000{i}.JPG", content, "image/jpeg")},
                    data={"kind": "visit_photo"},
                    headers=rep,
                ),
                201,
            )
            for i, content in enumerate(photos)
        ]

        visit = ok(
            client.post(
                f"/api/v1/customers/{customer['id']}/follow-ups",
                json={
                    "kind": "visit",
                    "content": "拜访后勤主任，查看冷库与后厨",
                    "check_in": {
                        "latitude": 30.2590,
                        "longitude": 120.13156,
                        "accuracy_m": 10,
                        "address": "浙江省杭州市西湖区文三路",
                    },
                    "photo_attachment_ids": [a["id"] for a in uploaded],
                },
                headers=rep,
            ),
            201,
        )

        assert 145 < visit["check_in"]["distance_m"] < 155
        assert [p["attachment_id"] for p in visit["photos"]] == [a["id"] for a in uploaded]
        timeline = ok(client.get(f"/api/v1/customers/{customer['id']}/follow-ups", headers=rep))["items"]
        assert timeline[0]["check_in"] == visit["check_in"]

        for attachment, content in zip(uploaded, photos, strict=True):
            # The rep: with the header, and through the signed URL an <img> would use.
            by_header = client.get(attachment["content_url"], headers=rep)
            assert (by_header.status_code, by_header.content) == (200, content)
            signed = client.get(
                next(p for p in visit["photos"] if p["attachment_id"] == attachment["id"])["content_url"]
            )
            assert (signed.status_code, signed.content) == (200, content)
            thumbnail = client.get(attachment["signed_thumbnail_url"])
            assert thumbnail.headers["content-type"] == "image/jpeg"
            assert max(Image.open(io.BytesIO(thumbnail.content)).size) == 320
            # Another rep: nothing, whichever way they ask.
            for url in (
                attachment["content_url"],
                attachment["thumbnail_url"],
                f"/api/v1/attachments/{attachment['id']}",
            ):
                refused = client.get(url, headers=other)
                assert refused.status_code == 404, refused.text
                assert refused.content != content
        assert client.get(f"/api/v1/customers/{customer['id']}/follow-ups", headers=other).status_code == 404

        # The phone refused its location: the rep still checks in, recorded as no_location with
        # no distance; a wrong photo not used by any visit is deleted, and its file goes.
        unlocated = ok(
            client.post(
                f"/api/v1/customers/{customer['id']}/follow-ups",
                json={
                    "kind": "visit",
                    "content": "再次拜访，手机未授权定位",
                    "check_in": {"no_location": True, "address": "文三路小学后门"},
                },
                headers=rep,
            ),
            201,
        )
        assert (unlocated["check_in"]["no_location"], unlocated["check_in"]["distance_m"]) == (True, None)
        visits = ok(
            client.get(f"/api/v1/customers/{customer['id']}/follow-ups", params={"kind": "visit"}, headers=rep)
        )["items"]
        assert [v["id"] for v in visits] == [unlocated["id"], visit["id"]]
        wrong = ok(
            client.post(
                f"/api/v1/customers/{customer['id']}/attachments",
                files={"file": ("IMG_9.JPG", _photo((9, 9, 9)), "image/jpeg")},
                data={"kind": "visit_photo"},
                headers=rep,
            ),
            201,
        )
        assert client.delete(f"/api/v1/attachments/{wrong['id']}", headers=other).status_code == 404
        assert client.delete(f"/api/v1/attachments/{uploaded[0]['id']}", headers=rep).status_code == 412
        assert client.delete(f"/api/v1/attachments/{wrong['id']}", headers=rep).status_code == 204
        assert client.get(wrong["content_url"], headers=rep).status_code == 404

        # On disk (the default local store under the state directory) the files sit under random
        # keys in the tenant's folder, and no file name the client sent appears.
        stored = [p for p in Path(stack.config.state_dir / "files").rglob("*") if p.is_file()]
        assert {p.read_bytes() for p in stored} >= set(photos)
        assert _photo((9, 9, 9)) not in {p.read_bytes() for p in stored}
        assert not any("IMG_" in str(p) for p in stored)
