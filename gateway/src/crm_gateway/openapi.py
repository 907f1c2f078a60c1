"""The gateway's OpenAPI document, written for the front ends' typed client.

`python -m crm_gateway.openapi [PATH]` writes it (default `web/shared/openapi.json`); the web
workspace generates its TypeScript types from that file, and a test fails when the committed file
is not what the gateway would write now.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from crm_gateway.app import create_app
from crm_gateway.settings import get_settings

DEFAULT_PATH = Path("web/shared/openapi.json")


def document() -> dict[str, Any]:
    """The document as served at /openapi.json, whatever the environment's docs setting."""
    return create_app(get_settings(api_docs=True)).openapi()


def rendered() -> str:
    return json.dumps(document(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else DEFAULT_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(rendered(), encoding="utf-8")


if __name__ == "__main__":
    main()
