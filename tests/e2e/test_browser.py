"""The front ends' browser journeys (Playwright, in Debian's Chromium) against the whole stack as
processes, the gateway serving the built console and H5. The journeys themselves live in web/;
this starts what they need and reports how they went.

Without /usr/bin/chromium the test skips (`make browser` installs it as root), unless
CRM_REQUIRE_BROWSER=1, which CI sets: then a missing browser fails it.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from crm_devstack.front_ends import WEB_DIR, build_front_ends
from crm_devstack.stack import REPO_ROOT, Stack

from .conftest import ADMIN_PASSWORD

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
REQUIRE_BROWSER = "CRM_REQUIRE_BROWSER"
PLAYWRIGHT_CONFIGS = ("playwright.config.ts", "playwright.config.js", "playwright.config.mjs")
# The journeys (web/e2e/*.spec.ts: issue 10's customers, issue 11's pools and ownership) log
# several people in, create and search customers in two viewports, claim and approve, and take a
# screenshot of every step, on a machine that shares two cores with the stack.
PLAYWRIGHT_TIMEOUT = 1200


def playwright_config() -> Path | None:
    return next((WEB_DIR / name for name in PLAYWRIGHT_CONFIGS if (WEB_DIR / name).is_file()), None)


@pytest.fixture(scope="module")
def front_ends_built() -> Path:
    """The Playwright config, once the workspace, the browser and the builds are there."""
    if not (WEB_DIR / "package.json").is_file():
        pytest.skip("web/package.json does not exist yet: no front ends to test in a browser")
    config = playwright_config()
    if config is None:
        pytest.skip(f"no Playwright config in web/ ({' or '.join(PLAYWRIGHT_CONFIGS)}): no browser journeys yet")
    if not CHROMIUM.is_file():
        message = f"{CHROMIUM} is missing: run `make browser` as root (apt-get install chromium)"
        if os.environ.get(REQUIRE_BROWSER) == "1":
            pytest.fail(f"{message}; {REQUIRE_BROWSER}=1 requires the browser tests to run")
        pytest.skip(f"{message}; set {REQUIRE_BROWSER}=1 to make this an error")
    build_front_ends(WEB_DIR)
    return config


@pytest.fixture(scope="module")
def browser_stack(front_ends_built: Path, stack: Stack) -> Iterator[Stack]:
    # Requested after the checks above, so a skip starts no processes.
    yield stack


@pytest.mark.timeout(PLAYWRIGHT_TIMEOUT + 300)
def test_the_browser_journeys_pass_against_the_running_stack(
    front_ends_built: Path, browser_stack: Stack, tmp_path: Path
) -> None:
    artifacts = tmp_path / "browser"
    artifacts.mkdir()
    env = {
        **os.environ,
        "CRM_WEB_BASE_URL": browser_stack.gateway_url,
        "CRM_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH": str(CHROMIUM),
        "CRM_WEB_ARTIFACTS": str(artifacts),
    }
    command = ["npx", "--prefix", str(WEB_DIR), "playwright", "test", "--config", str(front_ends_built)]
    try:
        finished = subprocess.run(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=PLAYWRIGHT_TIMEOUT,
        )
    except subprocess.TimeoutExpired as exc:
        output = exc.stdout if isinstance(exc.stdout, str) else (exc.stdout or b"").decode(errors="replace")
        pytest.fail(f"Playwright did not finish in {PLAYWRIGHT_TIMEOUT}s; artifacts in {artifacts}\n{output[-20000:]}")
    # Shown with -s, and kept in the report of a failure: the journey prints its timings.
    print(finished.stdout)
    assert finished.returncode == 0, (
        f"{' '.join(command)} exited with {finished.returncode}; screenshots and traces in {artifacts}\n"
        f"{finished.stdout[-20000:]}"
    )
