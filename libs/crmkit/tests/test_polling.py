"""Bounded polling for tests (`crmkit.testing.events.eventually`, `eventually_sync`)."""

from __future__ import annotations

import itertools

import pytest

from crmkit.testing.events import eventually, eventually_sync


async def test_eventually_returns_the_first_result_the_condition_holds_for() -> None:
    counter = itertools.count()

    async def probe() -> int:
        return next(counter)

    assert await eventually(probe, lambda value: value >= 3, interval=0) == 3


async def test_eventually_fails_naming_the_last_result_once_its_time_is_up() -> None:
    async def probe() -> str:
        return "still pending"

    with pytest.raises(AssertionError, match=r"within 0\.05s; last result: 'still pending'"):
        await eventually(probe, lambda value: value == "done", within=0.05, interval=0.01)


def test_eventually_sync_without_a_condition_polls_until_the_probe_is_true() -> None:
    answers = iter([False, False, True])

    assert eventually_sync(lambda: next(answers), interval=0) is True


def test_eventually_sync_fails_once_its_time_is_up() -> None:
    with pytest.raises(AssertionError, match="last result: 0"):
        eventually_sync(lambda: 0, lambda total: total == 40, within=0.05, interval=0.01)
