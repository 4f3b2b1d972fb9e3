"""Every error the API gives is one JSON shape, ``{"code", "message"}``: a stable English code and a
Chinese message (some add ``details`` or ``choices``). This module makes it so for every source of
errors (unknown paths, wrong methods, validation, malformed JSON, bodies over the limit, the
library's own errors, store outages, and anything unexpected) and documents those answers in the
OpenAPI of every route, including routes other modules add later: the patch runs when the schema is
first built, over whatever routes exist then.

Status codes::

    400 bad request / unknown name (BadQuery, with ``choices``)   409 version conflict
    401 / 403 not signed in / not allowed                        413 body or file over a limit
    404 unknown path or resource                                 415 unsupported file type
    405 method not allowed on this path                          422 invalid parameter or JSON
    500 unexpected error (logged)                                503 store unreachable (Retry-After)

The Chinese wording lives in api/messages.yaml."""
from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from graph import StoreUnavailable
from graph.errors import ZhibiaoError

logger = logging.getLogger("zhibiao.api")
_MESSAGES = Path(__file__).resolve().parent / "messages.yaml"


@lru_cache(maxsize=1)
def messages() -> dict[str, Any]:
    return yaml.safe_load(_MESSAGES.read_text(encoding="utf-8"))


def status_text(status: int) -> tuple[str, str]:
    """(code, Chinese message) for an HTTP status without a more specific code."""
    code, text = messages()["status"].get(status, [f"http_{status}", f"请求未能完成（HTTP {status}）"])
    return code, text


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None,
                   **extra: Any) -> JSONResponse:
    """The one error body of the API."""
    return JSONResponse({"code": code, "message": message, **extra}, status_code=status, headers=headers)


# --- validation messages in Chinese ------------------------------------------------------
def _where_in_json(body: Any, pos: int) -> str:
    """'第 3 行第 12 列' for a character offset into the request body."""
    text = body.decode("utf-8", "replace") if isinstance(body, (bytes, bytearray)) else body
    if not isinstance(text, str) or not isinstance(pos, int):
        return ""
    pos = max(0, min(pos, len(text)))
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    near = text[max(0, pos - 10):pos + 10].replace("\n", " ")
    return f"第 {line} 行第 {col} 列（「{near}」附近）"


def _json_reason(english: str) -> str:
    for prefix, chinese in messages()["json"].items():
        if english.startswith(prefix):
            return chinese
    return "格式不正确"


def _field_name(loc: tuple | list) -> str:
    parts = [str(x) for x in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        where = {"body": "请求体", "query": "查询参数", "path": "路径参数", "header": "请求头", "cookie": "Cookie"}[parts[0]]
        rest = ".".join(parts[1:])
        return f"{where} {rest}" if rest else where
    return ".".join(parts)


def _problem(err: dict[str, Any]) -> str:
    template = messages()["validation"].get(err.get("type", ""))
    ctx = {k: v for k, v in (err.get("ctx") or {}).items()}
    if template:
        try:
            text = template.format(**{k: str(v) for k, v in ctx.items()})
        except (KeyError, IndexError):
            text = template
    else:
        text = f"取值不正确（{err.get('msg', '')}）"
    given = err.get("input")
    if err.get("type") != "missing" and isinstance(given, (int, float, str, bool)) and len(str(given)) <= 40:
        shown = str(given).lower() if isinstance(given, bool) else str(given)
        text += f"，收到「{shown}」"
    return text


def validation_body(e: RequestValidationError) -> tuple[str, str, list[dict[str, str]]]:
    """(code, message, details) for a validation error: malformed JSON is located by line and
    column in words, every other problem is named by its field."""
    errors = list(e.errors())
    bad_json = next((x for x in errors if x.get("type") == "json_invalid"), None)
    if bad_json is not None:
        loc = bad_json.get("loc") or ()
        pos = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else None
        where = _where_in_json(getattr(e, "body", None), pos) if pos is not None else ""
        reason = _json_reason(str((bad_json.get("ctx") or {}).get("error", "")))
        message = f"请求体不是有效的 JSON：{where}{'，' if where else ''}{reason}"
        return "bad_json", message, [{"field": "请求体", "problem": message}]
    details = [{"field": _field_name(x.get("loc") or ()), "problem": _problem(x)} for x in errors]
    shown = "；".join(f"{d['field']} {d['problem']}" for d in details[:5])
    more = f"；另有 {len(details) - 5} 处" if len(details) > 5 else ""
    # paging parameters have their own codes on every route (bad_limit, bad_offset), always 422
    named = {tuple(x.get("loc") or ())[-1] for x in errors if tuple(x.get("loc") or ())[:1] == ("query",)}
    code = f"bad_{named.pop()}" if len(errors) and len(named) == 1 and named <= {"limit", "offset"} \
        and all(tuple(x.get("loc") or ())[:1] == ("query",) for x in errors) else "invalid_parameter"
    return code, f"参数不正确：{shown}{more}", details


def _allowed_methods(request: Request) -> str:
    """Every method some route of the app takes on this path, asked of the routes themselves (so
    included routers of any depth count). Starlette's 405 names only the methods of the first route
    that matched the path: a path with a GET route and a POST route would advertise one of them."""
    from starlette.routing import Match
    allowed = []
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):
        scope = {**request.scope, "method": method}
        for route in request.app.router.routes:
            try:
                match, _ = route.matches(scope)
            except Exception:  # a route that cannot judge this scope does not take it
                continue
            if match == Match.FULL and not getattr(route, "path", "/").startswith(("/docs-assets", "/static")):
                allowed.append(method)
                break
    return ", ".join(allowed)


# --- handlers ----------------------------------------------------------------------------
def install(app: FastAPI) -> None:
    """Register the handlers and the OpenAPI patch on ``app``."""

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, e: StarletteHTTPException) -> JSONResponse:
        detail = e.detail
        code, text = status_text(e.status_code)
        if isinstance(detail, dict) and "code" in detail and "message" in detail:
            code, text = str(detail["code"]), str(detail["message"])
        elif e.status_code == 404:
            text = f"找不到 {request.url.path}：没有这个路径或资源（接口列表见 /docs）"
        elif e.status_code == 405:
            allow = _allowed_methods(request) or (e.headers or {}).get("Allow") or (e.headers or {}).get("allow") or ""
            text = f"{request.url.path} 不支持 {request.method} 请求" + (f"；可用：{allow}" if allow else "")
            if allow:
                e.headers = {**dict(e.headers or {}), "Allow": allow}
        elif isinstance(detail, str) and detail and any("\u4e00" <= ch <= "\u9fff" for ch in detail):
            text = detail  # a Chinese detail given by a route is already the answer
        return error_response(e.status_code, code, text, headers=dict(e.headers or {}) or None)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, e: RequestValidationError) -> JSONResponse:
        code, message, details = validation_body(e)
        return error_response(422, code, message, details=details)

    @app.exception_handler(ZhibiaoError)
    async def known_error(_: Request, e: ZhibiaoError) -> JSONResponse:
        """Every error of the project (BadQuery, NotFound, LimitExceeded, StoreError, review and
        loop errors …): its own status, code and Chinese message, in the one error shape."""
        if e.status >= 500:
            logger.error("%s：%s", e.code, e.message)
        return JSONResponse(e.body(), status_code=e.status)

    @app.exception_handler(StoreUnavailable)
    async def unavailable(_: Request, e: StoreUnavailable) -> JSONResponse:
        return error_response(503, e.code, f"指标库存储暂时不可用，请稍后重试（{e}）", headers={"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def unexpected(request: Request, e: Exception) -> JSONResponse:
        logger.exception("未预料的错误：%s %s", request.method, request.url.path)
        code, text = status_text(500)
        return error_response(500, code, text)

    document_errors(app)


# --- OpenAPI: the error answers of every route --------------------------------------------
ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error", "type": "object", "required": ["code", "message"],
    "description": "所有错误的统一格式：code 为稳定的英文代码，message 为中文说明。",
    "properties": {
        "code": {"type": "string", "description": "稳定的英文错误代码，如 not_found、invalid_parameter"},
        "message": {"type": "string", "description": "中文说明"},
        "details": {"type": "array", "description": "参数错误逐项说明（422）",
                    "items": {"type": "object", "properties": {"field": {"type": "string"},
                                                               "problem": {"type": "string"}}}},
        "choices": {"type": "array", "items": {"type": "string"}, "description": "可选的取值（400 未知名称）"},
    },
}
_ALL = (400, 401, 403, 404, 405, 413, 422, 500, 503)
_WRITES = (409, 415)


def _error_ref(status: int) -> dict[str, Any]:
    return {"description": f"{status_text(status)[1]}（{status_text(status)[0]}）",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def patch_openapi(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the Error schema and every error status to every operation (idempotent). FastAPI's
    default 422 body (``detail``) is replaced: this API answers ``{code, message, details}``."""
    comps = schema.setdefault("components", {}).setdefault("schemas", {})
    comps["Error"] = ERROR_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):
        comps.pop(name, None)
    for ops in schema.get("paths", {}).values():
        for method, op in ops.items():
            if not isinstance(op, dict) or method not in ("get", "post", "put", "patch", "delete", "head", "options"):
                continue
            responses = op.setdefault("responses", {})
            statuses = _ALL + (_WRITES if method in ("post", "put", "patch", "delete") else ())
            for status in statuses:
                key = str(status)
                if key == "422" or key not in responses:
                    responses[key] = _error_ref(status)
                else:
                    content = responses[key].setdefault("content", {})
                    content.setdefault("application/json", {"schema": {"$ref": "#/components/schemas/Error"}})
    return schema


def document_errors(app: FastAPI) -> None:
    """Wrap ``app.openapi`` so the schema, built once on first use, documents the error answers."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = patch_openapi(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


__all__ = ["ERROR_SCHEMA", "HTTPException", "document_errors", "error_response", "install", "messages",
           "patch_openapi", "status_text", "validation_body"]
