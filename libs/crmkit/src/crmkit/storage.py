"""Object storage behind one interface: a local directory by default, any S3-compatible store
(MinIO, AWS S3, Aliyun OSS) by configuration.

Both backends are obstore stores (Rust's `object_store` under a small Python binding): native
async, streamed reads, multipart writes of streams, and no botocore. A caller sees only
`ObjectStorage`: put bytes or an async stream under a key, read it back as an async stream of
chunks, delete it, ask whether it exists. Keys are the caller's; they are checked here to be
plain relative paths, so no key reaches outside the directory or the bucket's prefix.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path
from typing import Literal, Protocol
from urllib.parse import urlsplit, urlunsplit

import obstore
from obstore.store import LocalStore, S3Store
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from crmkit.settings import state_dir

# Reads come in chunks of at least this much (the last may be smaller).
READ_CHUNK = 256 * 1024
# Letters, digits and - _ . between slashes; no empty, "." or ".." segment, no leading slash.
_KEY = re.compile(r"^[A-Za-z0-9_\-][A-Za-z0-9_\-.]*(/[A-Za-z0-9_\-][A-Za-z0-9_\-.]*)*$")


class ObjectNotFound(LookupError):
    """No object under the key."""


class StorageSettings(BaseSettings):
    """Where objects live. Every process that reads or writes them (the customer service, which
    stores attachments, and the gateway, which streams them) reads the same un-prefixed
    variables `CRM_STORAGE_*`."""

    model_config = SettingsConfigDict(env_prefix="CRM_STORAGE_", extra="ignore")

    backend: Literal["local", "s3"] = "local"
    # local: a directory on this machine (`make run`: .crm/files). One replica only, or a shared volume.
    local_dir: Path = Field(default_factory=lambda: state_dir() / "files")
    # s3: the service's endpoint without the bucket, e.g. http://minio:9000 (MinIO),
    # https://oss-cn-hangzhou.aliyuncs.com (Aliyun OSS); empty for AWS S3 (the region's endpoint).
    s3_endpoint: str = ""
    s3_bucket: str = ""
    s3_region: str = ""
    s3_access_key_id: str = ""
    s3_secret_access_key: SecretStr = SecretStr("")
    # Path-style requests (http://host/bucket/key): MinIO and most self-hosted stores. Off,
    # requests go to http://bucket.host/key (virtual-hosted style), which Aliyun OSS requires and
    # AWS recommends.
    s3_path_style: bool = False
    # Keys are stored under this prefix in the bucket (several environments may share a bucket).
    s3_prefix: str = ""

    @model_validator(mode="after")
    def _s3_needs_a_bucket(self) -> StorageSettings:
        if self.backend == "s3" and not self.s3_bucket:
            raise ValueError("CRM_STORAGE_S3_BUCKET is required with CRM_STORAGE_BACKEND=s3")
        if self.s3_endpoint and urlsplit(self.s3_endpoint).scheme not in ("http", "https"):
            raise ValueError("CRM_STORAGE_S3_ENDPOINT must be an http:// or https:// URL")
        return self


class ObjectStream(Protocol):
    """An object being read: its size, then its bytes as chunks (`async for chunk in stream`)."""

    size: int

    def __aiter__(self) -> AsyncIterator[bytes]: ...


class ObjectStorage(Protocol):
    async def put(self, key: str, data: bytes | AsyncIterable[bytes]) -> None:
        """Store `data` under `key`, replacing what was there; all or nothing."""

    async def get(self, key: str) -> ObjectStream:
        """The object under `key`, ready to stream; `ObjectNotFound` if there is none."""

    async def delete(self, key: str) -> None:
        """Remove the object; a missing one is not an error."""

    async def exists(self, key: str) -> bool: ...


def check_key(key: str) -> str:
    if len(key) > 512 or not _KEY.match(key) or any(part in (".", "..") for part in key.split("/")):
        raise ValueError(f"not a valid object key: {key!r}")
    return key


class _Chunks:
    def __init__(self, result: obstore.GetResult) -> None:
        self.size = int(result.meta["size"])
        self._result = result

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._result.stream(min_chunk_size=READ_CHUNK):
            yield bytes(chunk)


class ObstoreStorage:
    """`ObjectStorage` on an obstore store (LocalStore or S3Store)."""

    def __init__(self, store: LocalStore | S3Store, *, description: str) -> None:
        self._store = store
        self.description = description

    def __repr__(self) -> str:
        return f"ObstoreStorage({self.description})"

    async def put(self, key: str, data: bytes | AsyncIterable[bytes]) -> None:
        await obstore.put_async(self._store, check_key(key), data)

    async def get(self, key: str) -> ObjectStream:
        try:
            result = await obstore.get_async(self._store, check_key(key))
        except FileNotFoundError as exc:
            raise ObjectNotFound(key) from exc
        return _Chunks(result)

    async def delete(self, key: str) -> None:
        # Deleting is idempotent: S3 answers a missing key with success too.
        with contextlib.suppress(FileNotFoundError):
            await obstore.delete_async(self._store, check_key(key))

    async def exists(self, key: str) -> bool:
        try:
            await obstore.head_async(self._store, check_key(key))
        except FileNotFoundError:
            return False
        return True


def _virtual_hosted(endpoint: str, bucket: str) -> str:
    """https://oss-cn-hangzhou.aliyuncs.com → https://<bucket>.oss-cn-hangzhou.aliyuncs.com, which is
    how object_store expects a virtual-hosted endpoint."""
    parts = urlsplit(endpoint)
    return urlunsplit((parts.scheme, f"{bucket}.{parts.netloc}", parts.path, "", ""))


def open_object_storage(settings: StorageSettings | None = None) -> ObstoreStorage:
    """The storage the settings describe (the environment's when none are given)."""
    settings = settings if settings is not None else StorageSettings()
    if settings.backend == "local":
        directory = settings.local_dir.resolve()
        directory.mkdir(parents=True, exist_ok=True)
        return ObstoreStorage(LocalStore(prefix=directory), description=f"local:{directory}")
    options: dict[str, object] = {"virtual_hosted_style_request": not settings.s3_path_style}
    if settings.s3_endpoint:
        endpoint = settings.s3_endpoint.rstrip("/")
        options["endpoint"] = endpoint if settings.s3_path_style else _virtual_hosted(endpoint, settings.s3_bucket)
    if settings.s3_region:
        options["region"] = settings.s3_region
    if settings.s3_access_key_id:
        options["access_key_id"] = settings.s3_access_key_id
        options["secret_access_key"] = settings.s3_secret_access_key.get_secret_value()
    store = S3Store(
        settings.s3_bucket,
        prefix=settings.s3_prefix.strip("/") or None,
        # http:// only when the operator wrote it (a MinIO inside the cluster, tests).
        client_options={"allow_http": settings.s3_endpoint.startswith("http://")},
        **options,  # type: ignore[arg-type]
    )
    return ObstoreStorage(store, description=f"s3:{settings.s3_bucket}")
