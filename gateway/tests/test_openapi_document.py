"""The committed `web/shared/openapi.json`, from which the front ends' typed client is generated,
is what `python -m crm_gateway.openapi` writes now."""

from __future__ import annotations

import difflib
from pathlib import Path

from crm_gateway.openapi import rendered

COMMITTED = Path(__file__).resolve().parents[2] / "web" / "shared" / "openapi.json"


def test_the_committed_openapi_document_is_current() -> None:
    current = rendered()
    committed = COMMITTED.read_text(encoding="utf-8") if COMMITTED.exists() else ""

    difference = list(
        difflib.unified_diff(committed.splitlines(), current.splitlines(), "committed", "now", lineterm="")
    )
    assert not difference, (
        "web/shared/openapi.json is stale; run `make openapi` (then `npm --prefix web run gen:api`):\n"
        + "\n".join(difference[:60])
    )
