"""Async SQLAlchemy engines for SQLite (embedded default) and PostgreSQL, and Alembic upgrades."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Column, Insert, MetaData, String, Table, event, literal, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Mapper

SessionFactory = async_sessionmaker[AsyncSession]

# Services run short statements under many concurrent requests. Starting a parallel worker
# cost ~5 ms on a phrase search whose own work was under 1 ms, and JIT compiles a query whose
# row estimate is off for far longer than it runs; neither pays for itself here.
OLTP_SERVER_SETTINGS = {"max_parallel_workers_per_gather": "0", "jit": "off"}


def private_file(path: Path) -> None:
    """Create `path` (and its folder) readable by this user only, before anything writes to it.
    SQLite gives its -wal and -shm files the mode of the database file."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def prepare_sqlite_file(url: str) -> None:
    """A SQLite database file is created private before migrations or the engine touch it."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        private_file(Path(parsed.database))


# How long a SQLite write waits for the one writer before it fails as busy: below the callers'
# deadline (5 s), so a call the caller gave up on does not keep waiting for the lock.
SQLITE_BUSY_SECONDS = 4.0


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An engine tuned for the backend: WAL and a busy timeout on SQLite, a pool on PostgreSQL."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        prepare_sqlite_file(url)
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_SECONDS}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # We say when transactions begin (below), not the driver: it would begin one only at
            # the first write, so a transaction's reads would run before it, unprotected.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _begin_immediate(connection: Any) -> None:
            """A transaction takes SQLite's one write lock when it begins, so what it reads stays
            true until it commits: a check-then-write (a duplicate, a cap, a claim) cannot be
            overtaken. Readers are not held up (WAL); autocommit reads begin nothing."""
            if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
                connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    # No pre-ping: it costs a round trip on every checkout (measured: ~5% of a GetCustomer).
    # Connections are recycled instead, and a dead one fails one call that the client retries.
    kwargs.setdefault("pool_recycle", 1800)
    if parsed.get_driver_name() == "asyncpg":
        kwargs.setdefault("connect_args", {"server_settings": OLTP_SERVER_SETTINGS})
    return create_async_engine(url, **kwargs)


def session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, expire_on_commit=False)


def insert_unless_present(dialect_name: str, table: Table, values: dict[str, Any]) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING on PostgreSQL or SQLite: the row is created once, by
    whichever replica gets there first, and nobody waits on an error."""
    if dialect_name == "postgresql":
        return postgresql.insert(table).values(**values).on_conflict_do_nothing()
    return sqlite.insert(table).values(**values).on_conflict_do_nothing()


async def insert_new(session: AsyncSession, objects: Sequence[object]) -> None:
    """Insert new mapped objects with one executemany per table, outside the unit of work: a
    batch job writing thousands of rows spends most of a flush in the ORM's bookkeeping. The
    objects stay transient (the session does not track them); column defaults apply as a flush
    would apply them. Tables are written in the order their first object comes, so give parents
    before children."""
    for table, rows in new_rows(objects).items():
        await session.execute(table.insert(), rows)


def new_rows(objects: Sequence[object]) -> dict[Table, list[dict[str, Any]]]:
    """New mapped objects as rows by table, with their column defaults applied as a flush would
    apply them (`insert_new`; `insert_rows` takes each table's)."""
    by_table: dict[Table, list[dict[str, Any]]] = {}
    for obj in objects:
        state = sa_inspect(obj)
        mapper = state.mapper
        # A new object's values are all in its state's dict (nothing to load or expire), read
        # without the instrumented attributes; a batch turns thousands of objects into rows.
        values = state.dict
        row: dict[str, Any] = {}
        for attribute, key, default in _insert_columns(mapper):
            value = values.get(attribute)
            if value is None and default is not None:
                value = default.arg(None) if default.is_callable else default.arg
            row[key] = value
        by_table.setdefault(mapper.local_table, []).append(row)
    return by_table


@functools.cache
def _insert_columns(mapper: Mapper[Any]) -> tuple[tuple[str, str, Any], ...]:
    """A mapper's column attributes as (attribute, column key, column default)."""
    return tuple((prop.key, prop.columns[0].key, prop.columns[0].default) for prop in mapper.column_attrs)


async def insert_rows(session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert many rows (dicts by column key) in the session's transaction: COPY on PostgreSQL
    (asyncpg's binary copy; several times an executemany's rate on a batch of thousands), one
    executemany elsewhere. A column the rows leave out gets its Python default, or its server
    default (a serial key) when it has no Python one; a value is bound as the column's type binds
    it (JSON as text)."""
    if not rows:
        return
    connection = await session.connection()
    if connection.dialect.name != "postgresql" or connection.dialect.driver != "asyncpg":
        await session.execute(table.insert(), list(rows))
        return
    # The rows of one batch share their keys: the first row's say which columns COPY names.
    given = set(rows[0])
    columns = [c for c in table.columns if c.key in given or c.default is not None or not _filled_by_database(c)]
    dialect = connection.dialect
    keys = [c.key for c in columns]
    records = [[row.get(key) for key in keys] for row in rows]
    # Only the columns that need it are touched again: Python defaults, then bind processing.
    for index, column in enumerate(columns):
        binder = column.type.dialect_impl(dialect).bind_processor(dialect)
        if column.default is None and binder is None:
            continue
        default = column.default is not None
        for record in records:
            value = record[index]
            if value is None and default:
                value = _python_default(column)
            record[index] = binder(value) if binder is not None else value
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    if not driver.is_in_transaction():
        # The driver begins the session's transaction with its first statement; COPY goes round
        # the driver, so without one it would commit on its own, outside the caller's transaction.
        await connection.execute(select(literal(1)))
    await driver.copy_records_to_table(
        table.name, records=records, columns=[c.name for c in columns], schema_name=table.schema
    )


async def insert_records(
    session: AsyncSession, table: Table, columns: Sequence[str], records: Sequence[Sequence[Any]]
) -> None:
    """`insert_rows` for rows already in the form the driver takes: tuples of `columns` (keys of
    `table`), every value given and needing no bind processing (text, numbers). A batch of
    hundreds of thousands of small rows then goes to COPY as it is, without a dict per row."""
    if not records:
        return
    connection = await session.connection()
    if connection.dialect.name != "postgresql" or connection.dialect.driver != "asyncpg":
        await session.execute(table.insert(), [dict(zip(columns, record, strict=True)) for record in records])
        return
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    if not driver.is_in_transaction():
        # As in `insert_rows`: COPY must not begin (and commit) a transaction of its own.
        await connection.execute(select(literal(1)))
    await driver.copy_records_to_table(
        table.name, records=records, columns=[table.columns[key].name for key in columns], schema_name=table.schema
    )


def _filled_by_database(column: Column[Any]) -> bool:
    """A server default or a serial key: COPY leaves it to the database when the rows omit it."""
    serial = column.primary_key and column.autoincrement is True
    return column.server_default is not None or serial


def _python_default(column: Column[Any]) -> Any:
    default: Any = column.default
    return default.arg(None) if default.is_callable else default.arg


def bytewise(length: int) -> String:
    """A string column compared byte by byte whatever the database's default collation, so a
    prefix match (org subtree, search-term ranges) can use a b-tree; SQLite compares bytes already."""
    return String(length, collation="C").with_variant(String(length), "sqlite")


# Every service's Alembic environment (env.py and the revision template) is crmkit's; a service
# keeps only its revisions, and hands its tables over in the config.
SHARED_ALEMBIC_ENV = Path(__file__).resolve().parent / "alembic_env"


def alembic_config(
    versions_dir: Path, url: str, metadata: MetaData, attributes: Mapping[str, Any] | None = None
) -> Config:
    """`attributes` reach the migrations as `alembic.context.config.attributes` (the keyring of a
    service that keeps personal data, for revisions that seal or re-index it)."""
    config = Config()
    config.set_main_option("script_location", str(SHARED_ALEMBIC_ENV))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", str(versions_dir))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes.update(attributes or {})
    config.attributes["target_metadata"] = metadata
    return config


async def upgrade_database(
    versions_dir: Path,
    url: str,
    metadata: MetaData,
    revision: str = "head",
    attributes: Mapping[str, Any] | None = None,
) -> None:
    """Apply every migration (or those up to `revision`). Alembic's env runs its own event loop,
    so give it a thread."""
    prepare_sqlite_file(url)
    config = alembic_config(versions_dir, url, metadata, attributes)
    await asyncio.to_thread(command.upgrade, config, revision)


def new_revision(versions_dir: Path, url: str, metadata: MetaData, message: str) -> None:
    """Write a revision autogenerated from the difference between the database and the models."""
    command.revision(alembic_config(versions_dir, url, metadata), message=message, autogenerate=True)
