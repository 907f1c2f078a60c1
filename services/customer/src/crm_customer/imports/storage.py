"""Where an import's files live between the upload, the dry run and the import: chunks of at most
1 MiB in the service's own database (`customer_import_files`), so any replica's job can read what
another replica received, and a restart loses nothing. Everything goes through these functions,
so the files can move to the kit's object storage without touching the rest.

A reader gets the file as a local temporary file (openpyxl needs to seek in an xlsx); it is
written chunk by chunk, so the process never holds the whole file."""

from __future__ import annotations

import hashlib
import tempfile
from typing import IO

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_customer.imports.models import ImportFileChunk
from crmkit.db import SessionFactory

CHUNK = 1 << 20
UPLOAD = "upload"


def rejects_kind(pass_: str) -> str:
    return f"rejects_{pass_}"


def append_chunk(session: AsyncSession, import_id: str, seq: int, data: bytes) -> None:
    session.add(ImportFileChunk(import_id=import_id, kind=UPLOAD, seq=seq, data=data))


async def spool(sessions: SessionFactory, import_id: str, kind: str = UPLOAD) -> tuple[IO[bytes], str, int]:
    """The stored file as a temporary file (rewound; deleted when closed), its SHA-256 and size.
    Each chunk is read on its own, so memory holds one at a time."""
    # Handed to the caller, who closes it.
    out = tempfile.TemporaryFile(prefix="keyuan-import-")  # noqa: SIM115
    digest, size, seq = hashlib.sha256(), 0, 0
    while True:
        async with sessions() as session:
            data = await session.scalar(
                select(ImportFileChunk.data).where(
                    ImportFileChunk.import_id == import_id, ImportFileChunk.kind == kind, ImportFileChunk.seq == seq
                )
            )
        if data is None:
            break
        out.write(data)
        digest.update(data)
        size += len(data)
        seq += 1
    out.seek(0)
    return out, digest.hexdigest(), size


async def store(session: AsyncSession, import_id: str, kind: str, source: IO[bytes]) -> int:
    """Store a file (replacing one of the same kind) from an open binary file; its size."""
    await session.execute(
        delete(ImportFileChunk).where(ImportFileChunk.import_id == import_id, ImportFileChunk.kind == kind)
    )
    size = seq = 0
    while data := source.read(CHUNK):
        session.add(ImportFileChunk(import_id=import_id, kind=kind, seq=seq, data=data))
        await session.flush()
        size += len(data)
        seq += 1
    return size


async def has_file(session: AsyncSession, import_id: str, kind: str) -> bool:
    found = await session.scalar(
        select(ImportFileChunk.seq).where(ImportFileChunk.import_id == import_id, ImportFileChunk.kind == kind).limit(1)
    )
    return found is not None


async def read_range(session: AsyncSession, import_id: str, kind: str, offset: int) -> tuple[bytes, int]:
    """Up to one chunk of a stored file from `offset` (chunks are CHUNK long but the last), and
    the file's size."""
    total = int(
        await session.scalar(
            select(func.coalesce(func.sum(func.length(ImportFileChunk.data)), 0)).where(
                ImportFileChunk.import_id == import_id, ImportFileChunk.kind == kind
            )
        )
        or 0
    )
    seq, skip = divmod(offset, CHUNK)
    data = await session.scalar(
        select(ImportFileChunk.data).where(
            ImportFileChunk.import_id == import_id, ImportFileChunk.kind == kind, ImportFileChunk.seq == seq
        )
    )
    return (bytes(data[skip:]) if data else b""), total


async def discard(session: AsyncSession, import_id: str, kind: str = UPLOAD) -> None:
    await session.execute(
        delete(ImportFileChunk).where(ImportFileChunk.import_id == import_id, ImportFileChunk.kind == kind)
    )
