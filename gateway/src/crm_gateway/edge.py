"""The gateway's edge, as plain ASGI: security headers on every response, and request bodies held
to a size before they are read."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The console and the mobile H5 (front_ends/) are Vite builds served from this origin that load
# nothing from elsewhere: scripts only as files from 'self' (a production Vite build has no inline
# script, and nothing may need eval: vue-i18n must compile messages without `new Function`, i.e.
# its JIT compiler or precompiled messages). Styles allow 'unsafe-inline' on purpose: component
# libraries add <style> elements and style attributes at run time (vue-echarts injects its
# stylesheet, Element Plus and Vant position popups, overlays and z-indexes with inline styles),
# and listing hashes of styles made at run time is impossible. Style injection alone runs no
# code, and the apps never render HTML from data, so the risk it leaves is small. img-src has
# data: for the two-factor QR code (an SVG data URL), font-src data: for Vant's inlined icon font.
# Nothing may frame the apps (clickjacking).
CONSOLE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# FastAPI's /docs and /redoc pages load Swagger UI and ReDoc from their CDN.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
    "font-src 'self' https://fonts.gstatic.com; "
    "worker-src 'self' blob:; frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")


class EdgeGuard:
    """Security headers on every response; a body over `max_body_bytes` is refused with 413
    before it is read (by its Content-Length) or as soon as it grows past the limit (chunked).
    `upload_limits`: paths that take files, each with its own larger limit."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        hsts_seconds: int = 0,
        upload_limits: dict[str, int] | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.upload_limits = dict(upload_limits or {})
        self._headers = [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=(self)"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]
        if hsts_seconds:
            # Only where the operator says the gateway is reached over https (behind TLS).
            self._headers.append((b"strict-transport-security", f"max-age={hsts_seconds}".encode()))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = DOCS_CSP if scope["path"].startswith(DOCS_PATHS) else CONSOLE_CSP
        started = refused = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 has gone out; whatever the app answers after it is dropped
            if message["type"] == "http.response.start":
                started = True
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"server"]
                headers.extend(self._headers)
                headers.append((b"content-security-policy", csp.encode()))
                message = {**message, "headers": headers}
            await send(message)

        limit = self.upload_limits.get(scope["path"], self.max_body_bytes)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await self._refuse(scope, send_with_headers, limit)
            return
        received = 0

        async def counted_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request" and not refused:
                received += len(message.get("body", b""))
                if received > limit and not started:
                    # Answer now and tell the app the client is gone, so it stops reading; an
                    # exception here would reach FastAPI's body parsing and come out as a 400.
                    await self._refuse(scope, send_with_headers, limit)
                    refused = True
                    return {"type": "http.disconnect"}
            return message

        await self.app(scope, counted_receive, send_with_headers)

    async def _refuse(self, scope: Scope, send: Send, limit: int) -> None:
        english = _accepts_english(scope)
        body = {
            "type": "https://keyuan.dev/problems/payload_too_large",
            "title": "Request too large" if english else "请求过大",
            "status": 413,
            "code": "payload_too_large",
            "detail": f"request body larger than {limit} bytes" if english else f"请求体超过{limit}字节",
        }
        payload = json.dumps(body, ensure_ascii=False).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(payload)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", ()):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _accepts_english(scope: Scope) -> bool:
    for key, value in scope.get("headers", ()):
        if key == b"accept-language":
            return bytes(value).lower().startswith(b"en")
    return False
