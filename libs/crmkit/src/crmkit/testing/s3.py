"""A real S3-compatible server for tests: moto's server mode (HTTP on a loopback port, in a
thread of the test process), with a bucket made for the test."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
from moto.server import ThreadedMotoServer

from crmkit.storage import StorageSettings


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    bucket: str

    def settings(self, **values: object) -> StorageSettings:
        """Storage settings for the bucket, path-style over http as MinIO is usually reached."""
        return StorageSettings(
            backend="s3",
            s3_endpoint=self.endpoint,
            s3_bucket=self.bucket,
            s3_region="us-east-1",
            s3_access_key_id="test-key",
            s3_secret_access_key="test-secret",
            s3_path_style=True,
            **values,  # type: ignore[arg-type]
        )


@contextmanager
def s3_server() -> Iterator[S3Server]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        bucket = f"keyuan-test-{secrets.token_hex(4)}"
        # CreateBucket is a plain PUT of the bucket's path; the server checks no signature.
        httpx.put(f"{endpoint}/{bucket}", timeout=10).raise_for_status()
        yield S3Server(endpoint=endpoint, bucket=bucket)
    finally:
        server.stop()
