"""`make run` builds the front ends only when a build is missing or older than its sources, and
installs the workspace's packages only when they are missing or older than the lock."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from crm_devstack import front_ends
from crm_devstack.front_ends import build_front_ends, install_packages, packages_stale, stale_builds

BEFORE, BUILT, AFTER = 1_000_000.0, 2_000_000.0, 3_000_000.0


def _file(path: Path, at: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x")
    os.utime(path, (at, at))
    return path


@pytest.fixture
def web(tmp_path: Path) -> Path:
    """A workspace whose sources predate both builds and whose packages are installed."""
    web = tmp_path / "web"
    _file(web / "package.json", BEFORE)
    _file(web / "package-lock.json", BEFORE)
    _file(web / "node_modules" / ".package-lock.json", BEFORE + 1)
    _file(web / "shared" / "src" / "api" / "client.ts", BEFORE)
    for app in ("console", "mobile"):
        _file(web / app / "src" / "main.ts", BEFORE)
        _file(web / app / "index.html", BEFORE)
        _file(web / app / "dist" / "index.html", BUILT)
    return web


class Commands:
    def __init__(self) -> None:
        self.ran: list[list[str]] = []

    def __call__(self, command: list[str], **options: Any) -> None:
        assert options.get("check") is True
        self.ran.append([Path(command[0]).name, *command[1:]])


@pytest.fixture(autouse=True)
def npm_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(front_ends.shutil, "which", lambda name: f"/usr/bin/{name}")


def test_builds_newer_than_every_source_are_current(web: Path) -> None:
    assert stale_builds(web) == []
    assert not packages_stale(web)


def test_a_missing_build_is_stale(web: Path) -> None:
    (web / "mobile" / "dist" / "index.html").unlink()

    assert stale_builds(web) == ["mobile"]


def test_a_changed_app_source_makes_only_that_app_stale(web: Path) -> None:
    _file(web / "console" / "src" / "features" / "customers" / "CustomerHeader.vue", AFTER)

    assert stale_builds(web) == ["console"]


@pytest.mark.parametrize("changed", ["shared/src/api/client.ts", "package-lock.json", "tsconfig.base.json"])
def test_a_changed_shared_source_or_workspace_file_makes_both_stale(web: Path, changed: str) -> None:
    _file(web / changed, AFTER)

    assert stale_builds(web) == ["console", "mobile"]


@pytest.mark.parametrize(
    "written",
    [
        "node_modules/vue/index.js",
        "console/node_modules/.vite/deps.js",
        "test-results/journey/trace.zip",
        "mobile/playwright-report/index.html",
        "console/dist/assets/index-abc.js",
        "shared/.cache/x",
    ],
)
def test_what_installs_builds_and_tests_leave_behind_is_no_source(web: Path, written: str) -> None:
    _file(web / written, AFTER)

    assert stale_builds(web) == []


def test_without_a_workspace_nothing_is_stale_or_run(tmp_path: Path) -> None:
    commands = Commands()

    assert stale_builds(tmp_path / "web") == []
    assert not packages_stale(tmp_path / "web")
    assert build_front_ends(tmp_path / "web", run=commands) == []
    assert commands.ran == []


def test_a_stale_build_installs_missing_packages_then_builds_every_app(web: Path) -> None:
    (web / "node_modules" / ".package-lock.json").unlink()
    _file(web / "mobile" / "src" / "main.ts", AFTER)
    commands = Commands()

    rebuilt = build_front_ends(web, run=commands)

    assert rebuilt == ["mobile"]
    assert commands.ran == [["npm", "ci", "--no-audit", "--no-fund"], ["npm", "--prefix", str(web), "run", "build"]]


def test_current_builds_run_nothing(web: Path) -> None:
    commands = Commands()

    assert build_front_ends(web, run=commands) == []
    assert commands.ran == []


def test_packages_are_reinstalled_when_the_lock_changed(web: Path) -> None:
    _file(web / "package-lock.json", AFTER)
    commands = Commands()

    assert packages_stale(web)
    assert install_packages(web, run=commands) is True
    assert commands.ran == [["npm", "ci", "--no-audit", "--no-fund"]]


def test_a_missing_npm_is_said_plainly(web: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(front_ends.shutil, "which", lambda name: None)
    (web / "console" / "dist" / "index.html").unlink()

    with pytest.raises(front_ends.NpmMissing, match="npm not found"):
        build_front_ends(web, run=Commands())
