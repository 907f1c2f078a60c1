"""Row ids that arrive in key order: UUID version 7 (RFC 9562) for rows written in bulk."""

from __future__ import annotations

import secrets
import time
import uuid

_VERSION_7 = 0x7 << 76
_VARIANT = 0b10 << 62


def time_ordered_id() -> str:
    """A UUID whose first 48 bits are the Unix time in milliseconds, the rest random.

    A batch job that writes thousands of rows keyed by a random UUID scatters each batch over
    the whole of every index that holds the id (after another column shared by many rows, such
    as a search term): each batch then rewrites pages all over an index far larger than the
    cache. Ids that grow with time put a batch's keys beside each other at the end of each run
    instead. They are still UUIDs, in the same text form; the time they give away is the row's
    creation, which the rows that use them show anyway."""
    millis = time.time_ns() // 1_000_000
    random_bits = secrets.randbits(74)
    value = (millis & ((1 << 48) - 1)) << 80 | _VERSION_7 | (random_bits >> 62) << 64 | _VARIANT
    value |= random_bits & ((1 << 62) - 1)
    return str(uuid.UUID(int=value))
