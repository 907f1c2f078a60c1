"""Opaque page tokens and page-size rules shared by every List RPC."""

from __future__ import annotations

import base64
import json
from typing import Any

from crmkit.errors import InvalidArgument

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


def page_size(requested: int, *, default: int = DEFAULT_PAGE_SIZE, maximum: int = MAX_PAGE_SIZE) -> int:
    if requested < 0 or requested > maximum:
        raise InvalidArgument("page_size", f"must be between 0 and {maximum} / 每页数量须在0到{maximum}之间")
    return requested or default


def encode_token(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, ensure_ascii=False).encode()).decode().rstrip("=")


def decode_token(token: str, *, length: int) -> list[Any]:
    if not token:
        return []
    try:
        padded = token + "=" * (-len(token) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidArgument("page_token", "malformed page token / 分页标记无效") from exc
    if not isinstance(values, list) or len(values) != length:
        raise InvalidArgument("page_token", "malformed page token / 分页标记无效")
    return values
