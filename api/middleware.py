"""ASGI middleware: request bodies bounded while they are read, and CORS when configured.

Body limit. A request whose declared Content-Length is over the limit is answered 413 at once,
without reading a byte of its body. A body without a length (chunked) is counted as it arrives;
the moment the count passes the limit, reading stops and the answer is 413. Nothing is buffered
here: the route reads the same stream it would read without the middleware, so a 150 MB body is
neither parsed nor held in memory. The limit is ``max_body_mb`` for JSON and other bodies and
``max_upload_mb`` for multipart uploads (limits/limits.yaml; each route checks its own file limit).

CORS is off unless ZHIBIAO_CORS_ORIGINS lists origins (comma-separated, ``*`` for any)."""
from __future__ import annotations

import json
from typing import Any, Awaitable, Callable

from fastapi import FastAPI, HTTPException

from graph.settings import setting
from limits import human_mb, mb

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when the body passes the limit. An HTTPException, so FastAPI's body
    parsing re-raises it as it is and the error handler answers 413 in the API's shape."""

    def __init__(self, limit: int):
        super().__init__(413, {"code": "too_large",
                               "message": f"请求体超过上限 {human_mb(limit)}，已停止读取（未解析）"})


def body_limit_for(scope: Scope) -> int:
    headers = dict(scope.get("headers") or [])
    ctype = headers.get(b"content-type", b"").decode("latin-1").lower()
    return mb("max_upload_mb") if ctype.startswith("multipart/") else mb("max_body_mb")


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = body_limit_for(scope)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > limit
            except ValueError:
                too_big = False
            if too_big:
                await _send_413(send, limit, declared=int(declared))
                return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message.get("type") == "http.request":
                received += len(message.get("body") or b"")
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if message.get("type") == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except BodyTooLarge:
            if started:
                raise
            await _send_413(send, limit)


async def _send_413(send: Send, limit: int, declared: int | None = None) -> None:
    size = f"（声明 {human_mb(declared)}）" if declared is not None else ""
    body = json.dumps({"code": "too_large", "message": f"请求体超过上限 {human_mb(limit)}{size}，未读取、未解析"},
                      ensure_ascii=False).encode("utf-8")
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def cors_origins() -> list[str]:
    """ZHIBIAO_CORS_ORIGINS as a list (empty: CORS off)."""
    raw = setting("ZHIBIAO_CORS_ORIGINS") or ""
    return [o.strip() for o in raw.split(",") if o.strip()]


def install(app: FastAPI) -> None:
    """Body limit always; CORS only for the configured origins, outside the body limit so that a
    browser on another origin also reads a 413."""
    app.add_middleware(BodyLimitMiddleware)
    origins = cors_origins()
    if origins:
        from fastapi.middleware.cors import CORSMiddleware
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                           allow_headers=["*"], allow_credentials="*" not in origins, max_age=600)
