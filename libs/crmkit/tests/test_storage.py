"""crmkit.storage: the same behaviour from the local directory and from a real S3-compatible
server (moto's server mode over HTTP, path-style like MinIO)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from crmkit.storage import ObjectNotFound, ObjectStorage, StorageSettings, check_key, open_object_storage
from crmkit.testing.s3 import S3Server, s3_server


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with s3_server() as server:
        yield server


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStorage:
    if request.param == "local":
        return open_object_storage(StorageSettings(backend="local", local_dir=tmp_path / "files"))
    server: S3Server = request.getfixturevalue("s3")
    return open_object_storage(server.settings(s3_prefix=f"run-{tmp_path.name}"))


async def _read(storage: ObjectStorage, key: str) -> tuple[int, bytes]:
    stream = await storage.get(key)
    return stream.size, b"".join([chunk async for chunk in stream])


async def test_put_get_delete_and_exists(storage: ObjectStorage) -> None:
    assert not await storage.exists("attachments/t1/a")
    await storage.put("attachments/t1/a", b"\x89PNG whatever")
    assert await storage.exists("attachments/t1/a")
    assert await _read(storage, "attachments/t1/a") == (13, b"\x89PNG whatever")
    await storage.put("attachments/t1/a", b"replaced")
    assert await _read(storage, "attachments/t1/a") == (8, b"replaced")
    await storage.delete("attachments/t1/a")
    assert not await storage.exists("attachments/t1/a")
    await storage.delete("attachments/t1/a")  # deleting twice is fine


async def test_a_missing_object_is_object_not_found(storage: ObjectStorage) -> None:
    with pytest.raises(ObjectNotFound):
        await storage.get("nothing/here")


async def test_a_stream_is_stored_whole_and_read_back_in_chunks(storage: ObjectStorage) -> None:
    # 12 MiB in 1 MiB pieces: past the 5 MiB part size, so S3 gets a multipart upload.
    pieces = [os.urandom(1024 * 1024) for _ in range(12)]

    async def produce() -> AsyncIterator[bytes]:
        for piece in pieces:
            yield piece

    await storage.put("big/one", produce())
    stream = await storage.get("big/one")
    assert stream.size == 12 * 1024 * 1024
    chunks = [chunk async for chunk in stream]
    assert len(chunks) > 1
    assert b"".join(chunks) == b"".join(pieces)


async def test_keys_cannot_leave_the_store(storage: ObjectStorage) -> None:
    for key in ("../etc/passwd", "/abs", "a//b", "a/../b", "a/./b", "", "a b", "a\\b"):
        with pytest.raises(ValueError):
            await storage.put(key, b"x")
    assert check_key("attachments/t-1/ab_c.jpg") == "attachments/t-1/ab_c.jpg"


def test_the_local_directory_is_under_the_state_directory_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CRM_STATE_DIR", raising=False)
    monkeypatch.delenv("CRM_STORAGE_LOCAL_DIR", raising=False)
    assert StorageSettings().local_dir == Path(".crm/files")


def test_s3_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_STORAGE_BACKEND", "s3")
    monkeypatch.setenv("CRM_STORAGE_S3_BUCKET", "keyuan-files")
    monkeypatch.setenv("CRM_STORAGE_S3_ENDPOINT", "https://oss-cn-hangzhou.aliyuncs.com")
    monkeypatch.setenv("CRM_STORAGE_S3_SECRET_ACCESS_KEY", "s3cr3t")
    settings = StorageSettings()
    assert (settings.backend, settings.s3_bucket, settings.s3_path_style) == ("s3", "keyuan-files", False)
    assert "s3cr3t" not in repr(settings)
    # Virtual-hosted style (OSS): the bucket goes into the host.
    assert repr(open_object_storage(settings)) == "ObstoreStorage(s3:keyuan-files)"


def test_s3_without_a_bucket_is_refused() -> None:
    with pytest.raises(ValueError, match="BUCKET"):
        StorageSettings(backend="s3")
