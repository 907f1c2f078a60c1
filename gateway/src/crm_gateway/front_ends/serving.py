"""Serves the front ends' Vite builds: a file as it is, any other path of an app its index.html
(the apps route in history mode), hashed assets cached for a year, index.html revalidated."""

from __future__ import annotations

import mimetypes
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from starlette.datastructures import URL, Headers
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.staticfiles import NotModifiedResponse
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocketClose

# Paths that belong to the API and the operators: an unknown one is a 404, never a page of the
# console (a client expecting JSON must not get HTML with a 200).
RESERVED = ("/api", "/healthz", "/readyz", "/docs", "/redoc", "/openapi.json", "/metrics")
# Vite writes content-hashed names under assets/: a new build is a new URL, so they never change.
ASSETS = "assets/"
IMMUTABLE = "public, max-age=31536000, immutable"
# index.html (and unhashed files such as favicon.ico) name the current assets: revalidate each
# load (ETag, so an unchanged one is a 304).
REVALIDATE = "no-cache"
# What a Vite build emits, fixed here rather than left to the machine's mime.types, which a slim
# image may lack or map differently (a module script must not go out as application/octet-stream).
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/x-icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".txt": "text/plain; charset=utf-8",
    ".wasm": "application/wasm",
}
NOT_BUILT = "front end not built: run `make web-build` / 前端尚未构建，请运行 make web-build"


@dataclass(frozen=True)
class FrontEnd:
    name: str
    # The URL prefix the app was built for (Vite's `base`), ending in "/".
    base: str
    dist: Path

    @property
    def path(self) -> str:
        # Read by the request metrics as the route's path: static traffic is labelled by app.
        return self.base


def front_ends(web_dir: Path) -> tuple[FrontEnd, ...]:
    """The apps of the web workspace, the longest prefix first: /m/ is the mobile H5's, every
    other path the console's."""
    return (
        FrontEnd("mobile", "/m/", web_dir / "mobile" / "dist"),
        FrontEnd("console", "/", web_dir / "console" / "dist"),
    )


def content_type(path: Path) -> str:
    suffix = path.suffix.lower()
    return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def is_reserved(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in RESERVED)


def _regular_file(path: Path) -> os.stat_result | None:
    try:
        found = path.stat()
    except (OSError, ValueError):
        # Missing, a name too long, a NUL byte: not a file we serve.
        return None
    return found if stat.S_ISREG(found.st_mode) else None


class FrontEnds:
    """The gateway's answer to a request no API route matched (the router's `default`): the
    front ends' files and history-mode routes, and 404 problem+json for everything else."""

    def __init__(self, web_dir: Path | None) -> None:
        self.apps = front_ends(web_dir) if web_dir is not None else ()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await WebSocketClose()(scope, receive, send)
            return
        response = self.response_for(scope)
        await response(scope, receive, send)

    def response_for(self, scope: Scope) -> Response:
        # Errors are raised as HTTPException: the app's handler turns them into problem+json.
        path: str = scope["path"]
        if is_reserved(path) or not self.apps:
            raise HTTPException(status_code=404)
        if scope["method"] not in ("GET", "HEAD"):
            raise HTTPException(status_code=405, headers={"Allow": "GET, HEAD"})
        if any(app.base == path + "/" for app in self.apps):
            # "/m": the H5's relative URLs need its base with the slash.
            return RedirectResponse(URL(scope=scope).replace(path=path + "/"), status_code=308)
        app = next(app for app in self.apps if path.startswith(app.base))
        scope["route"] = app
        # Looked up on each request (a stat or two, no thread hop): a build made while the
        # gateway runs is served at once.
        root = app.dist.resolve()
        index = root / "index.html"
        index_stat = _regular_file(index)
        if index_stat is None:
            raise HTTPException(status_code=404, detail=NOT_BUILT)
        relative = path[len(app.base) :]
        if ".." in relative.split("/") or "\x00" in relative:
            raise HTTPException(status_code=404)
        candidate = (root / relative).resolve()
        if not candidate.is_relative_to(root):
            # A symbolic link out of the build: never followed.
            raise HTTPException(status_code=404)
        found = _regular_file(candidate)
        if found is not None:
            return _file(candidate, found, scope, IMMUTABLE if relative.startswith(ASSETS) else REVALIDATE)
        if relative.startswith(ASSETS):
            # A hashed file that is not there is an old page asking for its old build, not a
            # route: index.html in its place would only fail as a script with a 200.
            raise HTTPException(status_code=404)
        return _file(index, index_stat, scope, REVALIDATE)


def _file(path: Path, found: os.stat_result, scope: Scope, cache_control: str) -> Response:
    response = FileResponse(
        path, stat_result=found, media_type=content_type(path), headers={"cache-control": cache_control}
    )
    if_none_match = Headers(scope=scope).get("if-none-match")
    if if_none_match is not None:
        tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        if response.headers["etag"] in tags or "*" in tags:
            return NotModifiedResponse(response.headers)
    return response
