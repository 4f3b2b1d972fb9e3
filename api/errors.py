"""Errors as JSON bodies with a stable English ``code`` and a Chinese ``message``."""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from engine.library import BadQuery, NotFound
from graph import StoreError, StoreUnavailable


def install(app: FastAPI) -> None:
    @app.exception_handler(BadQuery)
    async def bad_query(_: Request, e: BadQuery) -> JSONResponse:
        return JSONResponse({"code": e.code, "message": e.message, "choices": e.choices}, status_code=400)

    @app.exception_handler(NotFound)
    async def not_found(_: Request, e: NotFound) -> JSONResponse:
        return JSONResponse({"code": "not_found", "message": e.message}, status_code=404)

    @app.exception_handler(StoreUnavailable)
    async def unavailable(_: Request, e: StoreUnavailable) -> JSONResponse:
        return JSONResponse({"code": e.code, "message": f"指标库存储暂时不可用，请稍后重试（{e}）"}, status_code=503,
                            headers={"Retry-After": "5"})

    @app.exception_handler(StoreError)
    async def store_error(_: Request, e: StoreError) -> JSONResponse:
        return JSONResponse({"code": e.code, "message": str(e)}, status_code=500)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, e: RequestValidationError) -> JSONResponse:
        details = [{"field": ".".join(str(x) for x in err.get("loc", [])[1:]), "problem": err.get("msg")}
                   for err in e.errors()]
        fields = "、".join(d["field"] for d in details)
        return JSONResponse({"code": "invalid_parameter", "message": f"参数不正确：{fields}", "details": details},
                            status_code=422)
