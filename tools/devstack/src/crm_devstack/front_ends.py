"""The web workspace's packages and builds, for `make web`, `make web-build`, `make run` and the
browser tests: `npm ci` when its packages are missing or older than its lock, `npm run build`
when a front end's build is missing or older than its sources.

`python -m crm_devstack.front_ends install|build`. Before `web/package.json` exists both do nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from crm_devstack.stack import REPO_ROOT

WEB_DIR = REPO_ROOT / "web"
# The apps the gateway serves, each built to <app>/dist; the shared package is a source of both.
APPS = ("console", "mobile")
SHARED = "shared"
# Never sources: installed packages, builds, and what tests and tools leave behind.
NOT_SOURCES = frozenset({"node_modules", "dist", "test-results", "playwright-report", "coverage"})

Run = Callable[..., object]


class NpmMissing(RuntimeError):
    pass


def _modified(path: Path) -> float:
    return path.stat().st_mtime if path.exists() else 0.0


def newest_source(folder: Path) -> float:
    """The latest modification time of a source file under `folder` (0 when there is none)."""
    newest = 0.0
    for directory, subdirectories, files in os.walk(folder):
        subdirectories[:] = [d for d in subdirectories if d not in NOT_SOURCES and not d.startswith(".")]
        for name in files:
            newest = max(newest, _modified(Path(directory, name)))
    return newest


def stale_builds(web_dir: Path = WEB_DIR) -> list[str]:
    """The apps whose build is missing or older than one of its sources: the app's folder, the
    shared package, and the files at the workspace's top (package.json, the lock, shared configs)."""
    if not (web_dir / "package.json").is_file():
        return []
    workspace = max((_modified(p) for p in web_dir.iterdir() if p.is_file()), default=0.0)
    common = max(workspace, newest_source(web_dir / SHARED))
    stale = []
    for app in APPS:
        if not (web_dir / app).is_dir():
            continue
        built = web_dir / app / "dist" / "index.html"
        if not built.is_file() or _modified(built) < max(common, newest_source(web_dir / app)):
            stale.append(app)
    return stale


def packages_stale(web_dir: Path = WEB_DIR) -> bool:
    """Whether `npm ci` is due: no packages installed, or the lock changed since (npm records what
    it installed in node_modules/.package-lock.json)."""
    if not (web_dir / "package.json").is_file():
        return False
    installed = web_dir / "node_modules" / ".package-lock.json"
    return not installed.is_file() or _modified(web_dir / "package-lock.json") > _modified(installed)


def _npm() -> str:
    found = shutil.which("npm")
    if found is None:
        raise NpmMissing("npm not found: install Node.js 20 (with npm) to build the console and the H5")
    return found


def install_packages(web_dir: Path = WEB_DIR, *, run: Run = subprocess.run) -> bool:
    """`npm ci` in the workspace when due; whether it ran."""
    if not packages_stale(web_dir):
        return False
    print("安装前端依赖 / npm ci in web/ …", flush=True)
    run([_npm(), "ci", "--no-audit", "--no-fund"], cwd=web_dir, check=True)
    return True


def build_front_ends(web_dir: Path = WEB_DIR, *, run: Run = subprocess.run) -> list[str]:
    """Build the front ends when one's build is stale (packages first, when due); the apps that
    were stale. `npm run build` builds every app: they share the workspace and a build is quick."""
    stale = stale_builds(web_dir)
    if not stale:
        return []
    install_packages(web_dir, run=run)
    print(f"构建前端 / building the front ends ({', '.join(stale)} out of date) …", flush=True)
    run([_npm(), "--prefix", str(web_dir), "run", "build"], check=True)
    return stale


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if args not in (["install"], ["build"]):
        raise SystemExit("usage: python -m crm_devstack.front_ends install|build")
    try:
        if args == ["install"]:
            install_packages()
        else:
            build_front_ends()
    except NpmMissing as exc:
        raise SystemExit(str(exc)) from exc
    except subprocess.CalledProcessError as exc:
        raise SystemExit(f"{' '.join(map(str, exc.cmd))} failed with exit code {exc.returncode}") from exc


if __name__ == "__main__":
    main()
