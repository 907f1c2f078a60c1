"""`make run`: the whole stack on this machine, demo data on first start, Ctrl-C stops it."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from crm_devstack.demo_data import TENANT_NAME
from crm_devstack.front_ends import WEB_DIR, NpmMissing, build_front_ends
from crm_devstack.seed import DEMO_USER_PASSWORD, load_demo
from crm_devstack.stack import Stack, StackConfig, start_order
from crmkit.components import registry

DEMO_MARKER = "demo-loaded"


def prepare_front_ends() -> None:
    """Build the console and the H5 when their builds are stale. The API does not need them, so a
    failed build is reported and the stack starts anyway."""
    try:
        build_front_ends()
    except (NpmMissing, subprocess.CalledProcessError) as exc:
        print(f"前端未构建 / the front ends were not built ({exc}); the API runs without them", file=sys.stderr)


def front_end_lines(gateway_url: str) -> str:
    lines = []
    for label, app, path in (("Console ", "console", "/"), ("H5      ", "mobile", "/m/")):
        built = (WEB_DIR / app / "dist" / "index.html").is_file()
        lines.append(f"\n  {label}{gateway_url}{path}" + ("" if built else " (not built: make web-build)"))
    return "".join(lines)


def main() -> None:
    state_dir = Path(os.environ.get("CRM_STATE_DIR", ".crm")).resolve()
    first_start = not (state_dir / DEMO_MARKER).exists()
    admin_password = os.environ.get("CRM_BOOTSTRAP_ADMIN_PASSWORD", "")
    generated = False
    if first_start and not admin_password:
        admin_password = secrets.token_urlsafe(12)
        generated = True
    components = registry().values()
    database_urls = {
        c.name: os.environ[f"{c.env_prefix}DATABASE_URL"]
        for c in components
        if os.environ.get(f"{c.env_prefix}DATABASE_URL")
    }
    # The registry's ports, each overridable by the component's own variable.
    ports = {
        c.name: int(os.environ.get(f"{c.env_prefix}HTTP_PORT", c.http_port))
        if c.kind == "http"
        else int(os.environ.get(f"{c.env_prefix}GRPC_PORT", c.grpc_port))
        for c in components
    }
    metrics_ports = {
        c.name: int(os.environ.get(f"{c.env_prefix}METRICS_PORT", c.metrics_port)) for c in components if c.metrics_port
    }
    stack = Stack(
        StackConfig(
            state_dir=state_dir,
            ports=ports,
            metrics_ports=metrics_ports,
            nats_url=os.environ.get("CRM_NATS_URL", ""),
            database_urls=database_urls,
            admin_password=admin_password,
            tenant_name=TENANT_NAME,
            log_dir=state_dir / "logs",
        )
    )
    stopping = False

    def _stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        prepare_front_ends()
        print(f"启动中 / starting NATS, {', '.join(c.name for c in start_order())} …", flush=True)
        stack.start()
        if first_start:
            print("首次启动，正在载入演示数据 / loading demo data (about 500 customers) …", flush=True)
            started = time.monotonic()
            asyncio.run(load_demo(stack.gateway_url, admin_password))
            (state_dir / DEMO_MARKER).write_text("loaded\n")
            print(f"演示数据已载入 / demo data loaded in {time.monotonic() - started:.1f}s", flush=True)
        # Our own NATS admits only the services' users; an external one is the operator's.
        nats_users = f" (one user per service, seeds in {stack.nats_seeds_dir})" if stack.nats_seed_files else ""
        metrics_urls = ", ".join(
            f"http://127.0.0.1:{port}/metrics ({name})" for name, port in stack.config.metrics_ports.items()
        )
        print(
            f"""
  客源 Keyuan CRM is running
  Gateway  {stack.gateway_url}{front_end_lines(stack.gateway_url)}
  API docs {stack.gateway_url}/docs
  NATS     {stack.config.nats_url}{nats_users}
  Metrics  {metrics_urls}
  Logs     {state_dir / "logs"}
  登录 / log in: POST {stack.gateway_url}/api/v1/auth/login {{"username": "admin", "password": …}}""",
            flush=True,
        )
        if generated:
            print(f"  admin 初始密码 / initial password (shown once): {admin_password}", flush=True)
        elif first_start:
            print("  admin password: the value of CRM_BOOTSTRAP_ADMIN_PASSWORD", flush=True)
        else:
            print("  admin password: as set on first start", flush=True)
        if first_start:
            print(f"  演示用户密码 / demo users' password: {DEMO_USER_PASSWORD} (e.g. wang.lei, see /api/v1/users)")
        print("  Ctrl-C 停止 / stops everything\n", flush=True)
        while not stopping:
            for name, code in stack.supervise():
                print(
                    f"{name} exited with {code} and was restarted; see {state_dir / 'logs' / (name + '.log')}",
                    file=sys.stderr,
                    flush=True,
                )
            time.sleep(0.5)
    finally:
        print("正在停止 / stopping …", flush=True)
        stack.stop()
        print("已停止 / stopped", flush=True)


if __name__ == "__main__":
    main()
