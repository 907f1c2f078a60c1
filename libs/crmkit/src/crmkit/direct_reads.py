"""Hot reads on PostgreSQL straight through an asyncpg pool, past SQLAlchemy's execution layer.

The queries stay written once, in SQLAlchemy Core: SQLite runs them through a session
(`SessionReader`), PostgreSQL through `DirectReads`, which compiles each statement for asyncpg
once and afterwards only binds values. On a phrase search the execution layer (cache key,
parameter processing, result wrapping) cost more Python time than asyncpg's whole round trip.

What that layer did is then the caller's: values are bound as given and results come back as
asyncpg returns them, with no type conversion (fine for strings, integers, booleans and
timestamps; a TypeDecorator, Enum or JSON parameter would need converting by hand). Statements
must be built once and reused (`functools.cache`), since each new one is compiled and kept.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Executable

from crmkit.db import OLTP_SERVER_SETTINGS

Rows = Sequence[Sequence[Any]]


class StatementReader(Protocol):
    """Runs a read-only Core statement with named values; rows are indexed by position."""

    async def fetch(self, statement: Executable, values: Mapping[str, Any]) -> Rows: ...


class SessionReader:
    """The portable reader: a SQLAlchemy session (SQLite, and PostgreSQL outside the hot paths)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def fetch(self, statement: Executable, values: Mapping[str, Any]) -> Rows:
        return (await self._session.execute(statement, dict(values))).all()


@dataclass(frozen=True)
class _Compiled:
    statement: Executable  # kept alive so its id() is never reused while cached
    sql: str
    names: tuple[str, ...]
    defaults: Mapping[str, Any]


_DIALECT = PGDialect_asyncpg()  # type: ignore[no-untyped-call]


def compile_for_asyncpg(statement: Executable) -> _Compiled:
    """The statement's PostgreSQL text with $n placeholders and the names bound to them."""
    compiled = statement.compile(dialect=_DIALECT)  # type: ignore[attr-defined]
    sql = str(compiled)
    if "POSTCOMPILE" in sql:
        # An expanding IN (a Python list bound at execution) needs SQLAlchemy's execution layer.
        raise ValueError("direct reads take no expanding IN lists; use literal columns or arrays")
    # Only values fixed in the statement (literals, bindparams given a value) have defaults; a
    # name the caller must supply and forgets is a KeyError, never a silent NULL.
    defaults = {name: bind.value for bind, name in compiled.bind_names.items() if not bind.required}
    return _Compiled(statement, sql, tuple(compiled.positiontup or ()), defaults)


async def _keep_session(connection: asyncpg.Connection[Any]) -> None:
    """Nothing to undo between uses: these connections only run single reads outside any
    transaction and never set session state. asyncpg's default reset (RESET ALL, CLOSE ALL,
    UNLISTEN, unlock advisory locks) would cost a round trip per read."""


class DirectReads:
    """An asyncpg pool opened on first use and closed with the runtime, for read-only statements."""

    def __init__(
        self,
        url: URL,
        *,
        size: int = 10,
        init: Callable[[asyncpg.Connection[Any]], Awaitable[None]] | None = None,
    ) -> None:
        self._dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._size = size
        self._init = init
        self._pool: asyncpg.Pool[Any] | None = None
        self._opening = asyncio.Lock()
        self._compiled: dict[int, _Compiled] = {}

    async def pool(self) -> asyncpg.Pool[Any]:
        if self._pool is not None:
            return self._pool
        async with self._opening:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    self._dsn,
                    min_size=1,
                    max_size=self._size,
                    init=self._init,
                    reset=_keep_session,
                    server_settings=OLTP_SERVER_SETTINGS,
                )
        return self._pool

    async def fetch(self, statement: Executable, values: Mapping[str, Any]) -> Rows:
        """Statements are expected to be built once and reused (`functools.cache`): each new
        statement object is compiled on first use and kept."""
        compiled = self._compiled.get(id(statement))
        if compiled is None:
            compiled = self._compiled[id(statement)] = compile_for_asyncpg(statement)
        arguments = [values[name] if name in values else compiled.defaults[name] for name in compiled.names]
        rows: list[asyncpg.Record] = await (self._pool or await self.pool()).fetch(compiled.sql, *arguments)
        return rows

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
