"""The start-up heap is frozen so full collections do not rescan it under load."""

from __future__ import annotations

import gc

from crmkit.heap import freeze_startup_heap


def test_freeze_startup_heap_moves_live_objects_out_of_the_collectors_reach() -> None:
    gc.unfreeze()
    built_at_startup: list[list[int]] = [[] for _ in range(1000)]  # lists are tracked by the collector
    assert gc.get_freeze_count() == 0
    try:
        freeze_startup_heap()

        assert gc.get_freeze_count() >= len(built_at_startup)
    finally:
        gc.unfreeze()
