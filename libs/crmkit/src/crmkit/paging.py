"""Opaque page tokens and page-size rules shared by every List RPC."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from sqlalchemy import ColumnElement, Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute

from crmkit.clock import as_utc
from crmkit.errors import InvalidArgument

T = TypeVar("T")
S = TypeVar("S", bound=Select[*tuple[Any, ...]])
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
        query = query.where(_after(created, key, _as_time(after[0]), str(after[1]), descending=True))
    return query.order_by(created.desc(), key.desc())


@dataclass(frozen=True)
class KeysetOrder:
    """One order a list can be read in: by `column` then `key`, either way, keyset-paged. Its
    `name` travels in the page token, so a token from another order is refused, not misread."""

    name: str
    column: ColumnElement[Any] | InstrumentedAttribute[Any]
    key: ColumnElement[str] | InstrumentedAttribute[str]
    descending: bool
    # What the column holds, so the token can carry it as text: "text", "time" or "date".
    value_kind: Literal["text", "time", "date"] = "text"

    def apply(self, query: S, page_token: str) -> S:
        after = decode_token(page_token, length=3)
        if after:
            if after[0] != self.name:
                raise InvalidArgument("page_token", MALFORMED)
            value = self._from_token(after[1])
            query = query.where(_after(self.column, self.key, value, str(after[2]), descending=self.descending))
        if self.descending:
            return query.order_by(self.column.desc(), self.key.desc())
        return query.order_by(self.column.asc(), self.key.asc())

    def page(self, rows: Sequence[T], page_size: int, keyset: Callable[[T], tuple[Any, str]]) -> tuple[list[T], str]:
        """The page out of `page_size + 1` rows read, and the next page's token ("" at the end)."""
        page = list(rows[:page_size])
        if len(rows) <= page_size:
            return page, ""
        value, key = keyset(page[-1])
        return page, encode_token([self.name, self._to_token(value), key])

    def _to_token(self, value: Any) -> str:
        if self.value_kind == "time":
            return as_utc(value).isoformat()
        if self.value_kind == "date":
            return str(value.isoformat())
        return str(value)

    def _from_token(self, value: Any) -> Any:
        if self.value_kind == "time":
            return _as_time(value)
        if self.value_kind == "date":
            try:
                return dt.date.fromisoformat(str(value))
            except ValueError as exc:
                raise InvalidArgument("page_token", MALFORMED) from exc
        return str(value)


def _as_time(value: Any) -> dt.datetime:
    try:
        # Tokens carry UTC; normalising here also rejects times that cannot be stored.
        return as_utc(dt.datetime.fromisoformat(str(value)))
    except (ValueError, OverflowError) as exc:
        raise InvalidArgument("page_token", MALFORMED) from exc


def _after(column: Any, key: Any, value: Any, key_value: str, *, descending: bool) -> ColumnElement[bool]:
    if descending:
        return or_(column < value, and_(column == value, key < key_value))
    return or_(column > value, and_(column == value, key > key_value))


def keyset_page(rows: Sequence[T], page_size: int, keyset: Any) -> tuple[list[T], str]:
    """The page out of `page_size + 1` rows read, and the token of the next page ("" at the
    end); `keyset(row)` gives the row's (created, key)."""
    page = list(rows[:page_size])
    if len(rows) <= page_size:
        return page, ""
    created, key = keyset(page[-1])
    return page, encode_token([as_utc(created).isoformat(), key])
