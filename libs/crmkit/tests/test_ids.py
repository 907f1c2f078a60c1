"""Time-ordered ids are UUIDs of version 7 whose order follows the clock."""

from __future__ import annotations

import time
import uuid

from crmkit.ids import time_ordered_id


def test_a_time_ordered_id_is_a_version_7_uuid_starting_with_the_milliseconds() -> None:
    before = time.time_ns() // 1_000_000
    value = uuid.UUID(time_ordered_id())
    after = time.time_ns() // 1_000_000
    assert (value.version, value.variant) == (7, uuid.RFC_4122)
    assert before <= value.int >> 80 <= after


def test_ids_of_later_milliseconds_sort_after_earlier_ones() -> None:
    first = time_ordered_id()
    while uuid.UUID(second := time_ordered_id()).int >> 80 == uuid.UUID(first).int >> 80:
        pass
    assert first < second
