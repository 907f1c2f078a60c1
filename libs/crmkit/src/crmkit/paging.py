"""Opaque page tokens and page-size rules shared by every List RPC."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute

from crmkit.clock import as_utc
from crmkit.errors import InvalidArgument

T = TypeVar("T")
MALFORMED = "malformed page token / 分页标记无效"

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
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        # RecursionError: a crafted token nesting "[" a thousand deep.
        raise InvalidArgument("page_token", MALFORMED) from exc
    if not isinstance(values, list) or len(values) != length:
        raise InvalidArgument("page_token", MALFORMED)
    return values


def newest_first(
    query: Select[Any],
    *,
    created: ColumnElement[dt.datetime] | InstrumentedAttribute[dt.datetime],
    key: ColumnElement[str] | InstrumentedAttribute[str],
    page_token: str,
) -> Select[Any]:
    """`query` newest first by (created, key), after the keyset in `page_token`."""
    after = decode_token(page_token, length=2)
    if after:
        try:
            # Tokens carry UTC; normalising here also rejects times that cannot be stored.
            created_after = as_utc(dt.datetime.fromisoformat(str(after[0])))
        except (ValueError, OverflowError) as exc:
            raise InvalidArgument("page_token", MALFORMED) from exc
        query = query.where(or_(created < created_after, and_(created == created_after, key < str(after[1]))))
    return query.order_by(created.desc(), key.desc())


def keyset_page(rows: Sequence[T], page_size: int, keyset: Any) -> tuple[list[T], str]:
    """The page out of `page_size + 1` rows read, and the token of the next page ("" at the
    end); `keyset(row)` gives the row's (created, key)."""
    page = list(rows[:page_size])
    if len(rows) <= page_size:
        return page, ""
    created, key = keyset(page[-1])
    return page, encode_token([as_utc(created).isoformat(), key])
