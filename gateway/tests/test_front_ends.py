"""The gateway serves the console at / and the mobile H5 at /m/ from their builds: files as they
are, history-mode routes as index.html, nothing outside the builds, and the API untouched."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from crm_gateway.app import create_app
from crm_gateway.front_ends.serving import FrontEnds
from crm_gateway.settings import get_settings

PROBLEM_JSON = "application/problem+json"
YEAR = "public, max-age=31536000, immutable"
CONSOLE_INDEX = '<!doctype html><script type="module" src="/assets/index-3f2a1b.js"></script><title>客源</title>'
MOBILE_INDEX = '<!doctype html><script type="module" src="/m/assets/index-9c8d7e.js"></script><title>客源 H5</title>'
SECRET = "the gateway's private key"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _build(web: Path, app: str, index: str, assets: dict[str, str]) -> None:
    """A Vite build as small as it gets: index.html and hashed files under assets/."""
    _write(web / app / "dist" / "index.html", index)
    for name, text in assets.items():
        _write(web / app / "dist" / "assets" / name, text)


@pytest.fixture
def web(tmp_path: Path) -> Path:
    web = tmp_path / "web"
    _build(
        web,
        "console",
        CONSOLE_INDEX,
        {
            "index-3f2a1b.js": "console.log('控制台')",
            "index-3f2a1b.css": "body{margin:0}",
            "logo-77aa00.svg": "<svg xmlns='http://www.w3.org/2000/svg'/>",
            "icons-12ab34.woff2": "wOF2",
        },
    )
    _write(web / "console" / "dist" / "favicon.ico", "icon")
    _write(web / "console" / "dist" / "manifest.webmanifest", "{}")
    _build(web, "mobile", MOBILE_INDEX, {"index-9c8d7e.js": "console.log('H5')", "index-9c8d7e.css": "p{}"})
    # Beside the builds: what a path that escapes them would reach.
    _write(tmp_path / "secret.txt", SECRET)
    _write(web / "console" / "secret.txt", SECRET)
    return web


def _client(web_dir: Path | None, **settings: object) -> httpx.AsyncClient:
    app = create_app(get_settings(web_dir=web_dir, **settings), migrate=False)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")


@pytest_asyncio.fixture(loop_scope="module")
async def client(web: Path) -> AsyncIterator[httpx.AsyncClient]:
    # API docs off, so /docs, /redoc and /openapi.json are paths no route answers either.
    async with _client(web, api_docs=False) as client:
        yield client


def _assert_problem(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers["content-type"]
    assert response.json()["status"] == status


async def test_the_console_is_served_at_the_root_and_revalidated_on_every_load(client: httpx.AsyncClient) -> None:
    response = await client.get("/")

    assert response.status_code == 200
    assert response.text == CONSOLE_INDEX
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize("path", ["/customers", "/customers/5f0c-41d2?tab=contacts", "/admin/users/wang.lei", "/login"])
async def test_a_console_route_gets_the_consoles_index_html(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)

    assert response.status_code == 200
    assert response.text == CONSOLE_INDEX
    assert response.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize("path", ["/m/", "/m/customers", "/m/customers/new/contact"])
async def test_the_mobile_h5_and_its_routes_get_the_h5s_index_html(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)

    assert response.status_code == 200
    assert response.text == MOBILE_INDEX
    assert response.headers["cache-control"] == "no-cache"


async def test_m_without_the_slash_is_redirected_to_the_h5(client: httpx.AsyncClient) -> None:
    response = await client.get("/m?from=qr")

    assert response.status_code == 308
    assert response.headers["location"] == "http://gw/m/?from=qr"


@pytest.mark.parametrize(
    ("path", "content_type", "body"),
    [
        ("/assets/index-3f2a1b.js", "text/javascript; charset=utf-8", "console.log('控制台')"),
        ("/assets/index-3f2a1b.css", "text/css; charset=utf-8", "body{margin:0}"),
        ("/assets/logo-77aa00.svg", "image/svg+xml", "<svg xmlns='http://www.w3.org/2000/svg'/>"),
        ("/assets/icons-12ab34.woff2", "font/woff2", "wOF2"),
        ("/m/assets/index-9c8d7e.js", "text/javascript; charset=utf-8", "console.log('H5')"),
        ("/m/assets/index-9c8d7e.css", "text/css; charset=utf-8", "p{}"),
    ],
)
async def test_hashed_assets_are_cached_for_a_year_with_their_content_type(
    client: httpx.AsyncClient, path: str, content_type: str, body: str
) -> None:
    response = await client.get(path)

    assert response.status_code == 200
    assert response.text == body
    assert response.headers["content-type"] == content_type
    assert response.headers["cache-control"] == YEAR


async def test_unhashed_files_beside_index_html_are_revalidated(client: httpx.AsyncClient) -> None:
    icon = await client.get("/favicon.ico")
    manifest = await client.get("/manifest.webmanifest")

    assert (icon.status_code, icon.headers["content-type"]) == (200, "image/x-icon")
    assert manifest.headers["content-type"] == "application/manifest+json"
    assert icon.headers["cache-control"] == manifest.headers["cache-control"] == "no-cache"


async def test_an_unchanged_index_html_is_a_304(client: httpx.AsyncClient) -> None:
    first = await client.get("/customers")

    again = await client.get("/customers", headers={"if-none-match": first.headers["etag"]})

    assert again.status_code == 304
    assert again.content == b""


async def test_head_answers_headers_without_the_body(client: httpx.AsyncClient) -> None:
    response = await client.head("/assets/index-3f2a1b.js")

    assert response.status_code == 200
    assert response.content == b""
    assert int(response.headers["content-length"]) == len("console.log('控制台')".encode())


@pytest.mark.parametrize("path", ["/assets/index-000000.js", "/m/assets/gone.css", "/assets/"])
async def test_a_missing_asset_is_a_404_not_the_index_page(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)

    _assert_problem(response, 404)


@pytest.mark.parametrize(
    "path",
    [
        "/api",
        "/api/v1/no-such-thing",
        "/api/v2/customers",
        "/healthz/deep",
        "/readyz/x",
        "/docs",
        "/docs/oauth2-redirect",
        "/redoc",
        "/openapi.json",
        "/metrics",
    ],
)
async def test_api_and_operator_paths_never_fall_back_to_the_index_page(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)

    _assert_problem(response, 404)
    assert "客源" not in response.text


async def test_the_api_and_its_documents_keep_their_own_answers(web: Path) -> None:
    async with _client(web, api_docs=True) as client:
        health = await client.get("/healthz")
        document = await client.get("/openapi.json")
        docs = await client.get("/docs")
        wrong_method = await client.delete("/healthz")
        slash = await client.get("/api/v1/customers/", follow_redirects=False)

    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert document.json()["paths"]["/api/v1/customers"]
    assert "swagger" in docs.text.lower()
    _assert_problem(wrong_method, 405)
    # The router's own trailing-slash redirect still comes first.
    assert (slash.status_code, slash.headers["location"]) == (307, "http://gw/api/v1/customers")


async def test_other_methods_than_get_are_refused(client: httpx.AsyncClient) -> None:
    page = await client.post("/customers", json={})
    api = await client.post("/api/v1/no-such-thing", json={})

    _assert_problem(page, 405)
    assert page.headers["allow"] == "GET, HEAD"
    _assert_problem(api, 404)


async def _raw_get(app: FrontEnds, path: str) -> tuple[int, bytes]:
    """GET `path` exactly as a server would pass it on, without any client normalising it."""
    from fastapi import FastAPI

    from crm_gateway import problems

    wrapper = FastAPI()
    problems.install(wrapper)
    wrapper.router.default = app
    sent: list[dict[str, object]] = []
    incoming = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, object]:
        # The request, then the client hangs up (a file response listens for that while it sends).
        return incoming.pop() if incoming else {"type": "http.disconnect"}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"gw")],
        "client": ("127.0.0.1", 50000),
        "server": ("gw", 80),
    }
    await wrapper(scope, receive, send)  # type: ignore[arg-type]
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")  # type: ignore[misc]
    return int(status), body  # type: ignore[call-overload]


@pytest.mark.parametrize(
    "path",
    [
        "/../secret.txt",
        "/../../secret.txt",
        "/assets/../../secret.txt",
        "/assets/../../../secret.txt",
        "/m/../../secret.txt",
        "/m/../../../secret.txt",
        "/m/assets/../../../console/secret.txt",
        "/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "/index.html\x00.js",
    ],
)
async def test_no_path_reaches_a_file_outside_the_builds(web: Path, path: str) -> None:
    status, body = await _raw_get(FrontEnds(web), path)

    assert SECRET.encode() not in body
    assert status in (200, 404), status
    if status == 200:
        # Not a file of the build: a history-mode route, answered with the app's page.
        assert body in (CONSOLE_INDEX.encode(), MOBILE_INDEX.encode())


async def test_percent_encoded_dots_from_a_client_do_not_escape_either(client: httpx.AsyncClient) -> None:
    for path in ("/%2e%2e/secret.txt", "/assets/%2e%2e/%2e%2e/secret.txt", "/m/%2E%2E/%2E%2E/secret.txt"):
        response = await client.get(path)
        assert SECRET not in response.text, path


async def test_a_symbolic_link_out_of_the_build_is_not_followed(web: Path, tmp_path: Path) -> None:
    (web / "console" / "dist" / "assets" / "leak-000000.txt").symlink_to(tmp_path / "secret.txt")
    (web / "console" / "dist" / "leak.txt").symlink_to(tmp_path / "secret.txt")

    async with _client(web) as client:
        in_assets = await client.get("/assets/leak-000000.txt")
        beside_index = await client.get("/leak.txt")

    _assert_problem(in_assets, 404)
    _assert_problem(beside_index, 404)


async def test_a_missing_build_is_a_404_problem_and_the_other_app_and_the_api_still_answer(tmp_path: Path) -> None:
    web = tmp_path / "web"
    _build(web, "mobile", MOBILE_INDEX, {})

    async with _client(web) as client:
        console = await client.get("/customers")
        mobile = await client.get("/m/customers")
        health = await client.get("/healthz")

    _assert_problem(console, 404)
    assert "make web-build" in console.json()["detail"]
    assert mobile.text == MOBILE_INDEX
    assert health.status_code == 200


async def test_without_a_web_folder_every_page_path_is_a_404(tmp_path: Path) -> None:
    async with _client(None) as client:
        for path in ("/", "/m/", "/customers"):
            _assert_problem(await client.get(path), 404)


async def test_a_build_made_while_the_gateway_runs_is_served_at_once(tmp_path: Path) -> None:
    web = tmp_path / "web"
    async with _client(web) as client:
        before = await client.get("/")
        _build(web, "console", CONSOLE_INDEX, {})
        after = await client.get("/")

    assert (before.status_code, after.status_code) == (404, 200)


async def test_pages_carry_a_policy_that_runs_only_the_builds_own_scripts(client: httpx.AsyncClient) -> None:
    response = await client.get("/customers")

    directives = (d.partition(" ") for d in response.headers["content-security-policy"].split("; "))
    policy = {name: value for name, _, value in directives}
    assert policy["script-src"] == "'self'"
    assert policy["connect-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe-eval" not in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"


def test_the_web_folder_is_a_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = Path(__file__).resolve().parents[2]
    monkeypatch.delenv("CRM_GATEWAY_WEB_DIR", raising=False)
    assert get_settings().web_dir == repo / "web"

    monkeypatch.setenv("CRM_GATEWAY_WEB_DIR", str(tmp_path))
    assert get_settings().web_dir == tmp_path

    monkeypatch.setenv("CRM_GATEWAY_WEB_DIR", "")
    assert get_settings().web_dir is None
