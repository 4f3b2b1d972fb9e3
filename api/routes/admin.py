"""Admin and maintainer routes: accounts and the audit log (admin), library and unit-list loads
(maintainer). Every route needs a bearer token; the role policy lives in engine/data/roles.yaml."""
from __future__ import annotations

import tempfile
from pathlib import Path as FsPath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, StringConstraints

from engine import accounts, audit
from engine.maintenance import load_library_file, load_unit_file

from ..auth import User
from ..errors import error_response

router = APIRouter(tags=["管理"])
CHUNK = 256 * 1024
LOAD_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".json", ".ttl", ".jsonld")


class UserIn(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    username: Annotated[str, StringConstraints(min_length=2, max_length=40)]
    password: Annotated[str, StringConstraints(min_length=8, max_length=128)]
    role: Literal["admin", "maintainer", "reviewer", "unit"]
    unit: Annotated[str, StringConstraints(min_length=1, max_length=20)] | None = None


@router.post("/admin/users", status_code=201, summary="新建账号（管理员）")
def add_user(body: UserIn, who: User, request: Request) -> dict[str, Any]:
    accounts.require(who, "user.manage")
    return accounts.add_user(request.app.state.library.store, body.username, body.password, body.role, body.unit,
                             who.username)


@router.get("/admin/users", summary="账号列表（管理员；不含密码散列）")
def list_users(who: User, request: Request) -> dict[str, Any]:
    accounts.require(who, "user.manage")
    return {"items": accounts.list_users(request.app.state.library.store)}


@router.get("/admin/audit", summary="审计日志：每一次写入的操作人、操作、对象、时间与前后内容散列（管理员）")
def audit_log(who: User, request: Request,
              actor: Annotated[str | None, Query(max_length=40)] = None,
              action: Annotated[str | None, Query(max_length=60)] = None,
              offset: Annotated[int, Query(ge=0, le=1000000)] = 0,
              limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
    accounts.require(who, "audit.read")
    return audit.read(request.app.state.library.store, actor or None, action or None, offset, limit)


async def _save_upload(file: UploadFile, limit: int) -> FsPath | JSONResponse:
    name = FsPath(file.filename or "upload").name
    if not name.lower().endswith(LOAD_SUFFIXES):
        return error_response(415, "unsupported_type", f"不支持的文件类型「{name}」：应为 {'、'.join(LOAD_SUFFIXES)}")
    folder = FsPath(tempfile.mkdtemp(prefix="zhibiao-upload-"))
    path = folder / name
    total = 0
    with path.open("wb") as out:
        while chunk := await file.read(CHUNK):
            total += len(chunk)
            if total > limit:
                out.close()
                path.unlink()
                folder.rmdir()
                return error_response(413, "too_large", f"文件超过上限 {limit / 1048576:g} MB，已停止读取")
            out.write(chunk)
    return path


async def _run_load(fn: Any, request: Request, who: Any, file: UploadFile, dry_run: bool) -> Any:
    from limits import mb
    saved = await _save_upload(file, mb("max_load_mb"))
    if isinstance(saved, JSONResponse):
        return saved
    try:
        report = await run_in_threadpool(fn, request.app.state.library.store, saved, who, dry_run, saved.name)
    finally:
        saved.unlink(missing_ok=True)
        saved.parent.rmdir()
    if report.get("errors"):
        return JSONResponse({"code": "load_failed", "message": f"校验失败：{len(report['errors'])} 个错误，未写入任何内容",
                             **report}, status_code=422)
    return report


@router.post("/library/loads", summary="加载指标库文件（维护人员；先 dry_run=true 校验，通过后才能正式加载）")
async def library_load(request: Request, who: User, file: Annotated[UploadFile, File(description="指标文件")],
                       dry_run: Annotated[bool, Query(description="只校验不写入（默认）")] = True) -> Any:
    accounts.require(who, "library.load")
    return await _run_load(load_library_file, request, who, file, dry_run)


@router.post("/units/loads", summary="加载预算单位名录 CSV/XLSX（维护人员；全部成功或全部不写）")
async def units_load(request: Request, who: User, file: Annotated[UploadFile, File(description="预算单位名录")],
                     dry_run: Annotated[bool, Query(description="只校验不写入")] = False) -> Any:
    accounts.require(who, "units.load")
    return await _run_load(load_unit_file, request, who, file, dry_run)
