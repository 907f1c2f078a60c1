"""The devstack restarts what dies, with backoff, and stops nothing else."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from crm_devstack.stack import RESTART_BACKOFF_MAX, Stack, StackConfig


class Exited:
    def __init__(self, code: int | None) -> None:
        self.code = code

    def poll(self) -> int | None:
        return self.code


def test_a_dead_component_is_restarted_after_a_growing_pause_and_the_others_are_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = Stack(StackConfig(state_dir=tmp_path))
    running = Exited(None)
    stack.processes = {"analytics": Exited(-9), "customer": running}  # type: ignore[dict-item]
    started: list[tuple[str, float]] = []
    clock = {"now": 100.0}

    def start_component(name: str, *, timeout: float = 60.0) -> None:
        started.append((name, clock["now"]))
        stack.processes[name] = Exited(1)  # type: ignore[assignment]  # and it dies again at once

    monkeypatch.setattr(stack, "start_component", start_component)
    for step in range(200):
        clock["now"] = 100.0 + step * 0.5
        stack.supervise(clock["now"])

    times = [at for name, at in started]
    assert {name for name, _ in started} == {"analytics"}
    assert stack.processes["customer"] is running
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert gaps[:5] == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert max(gaps) == RESTART_BACKOFF_MAX
