"""Projects and their target tables over HTTP (docs/projects_api.md has every body and error).

Every route needs a bearer token; the engine decides what the user may do (403), what they may see
(404 for another unit's project, the same answer as for a project that does not exist) and refuses
stale writes (409 with the current revision)."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Path, Query, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from engine.target_xlsx import write_workbook
from review import XlsxError, read_workbook

from ..auth import ProjectsDep, User
from ..errors import error_response

router = APIRouter(tags=["项目与绩效目标"])

Short = Annotated[str, StringConstraints(max_length=200)]
Text = Annotated[str, StringConstraints(max_length=2000)]
ProjectId = Annotated[str, Path(max_length=100, description="项目编号，如 PRJ-3f9a2c1b7d")]
Revision = Annotated[int, Field(ge=0, le=100000, description="编辑所基于的版本号（首次填报为 0）")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK = 64 * 1024


class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class ProjectIn(Strict):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    unit: Annotated[str, StringConstraints(min_length=1, max_length=20)]
    year: Annotated[int, Field(ge=2000, le=2100)]
    amount: Annotated[float, Field(ge=0, le=1e13, allow_inf_nan=False, description="项目金额（元），不能为负")]
    sector: Annotated[str, StringConstraints(max_length=50)] | None = None
    project_type: Short | None = None
    period: Short | None = None
    description: Text | None = None


class Goals(Strict):
    period: Text = ""
    annual: Text = ""


class RowIn(Strict):
    level1: Short = ""
    level2: Short = ""
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    value: Short | Annotated[float, Field(allow_inf_nan=False)] | None = ""
    unit: Short | None = ""
    basis: Short | None = ""


class TargetsIn(Strict):
    revision: Revision
    goals: Goals = Goals()
    rows: Annotated[list[RowIn], Field(min_length=1, max_length=200)]
    project_type: Short | None = None


class SubmitIn(Strict):
    revision: Revision | None = None


class RowComment(Strict):
    row: Annotated[int, Field(ge=0, le=199)]
    comment: Annotated[str, StringConstraints(min_length=1, max_length=500)]


class ReturnIn(Strict):
    comment: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    row_comments: Annotated[list[RowComment], Field(max_length=200)] = []
    revision: Revision | None = None


class ApproveIn(Strict):
    comment: Text | None = None
    revision: Revision | None = None


@router.get("/projects", summary="项目列表（单位账号只见本单位）")
def list_projects(who: User, svc: ProjectsDep,
                  unit: Annotated[str | None, Query(max_length=20, description="预算单位编码")] = None,
                  status: Annotated[Literal["draft", "submitted", "returned", "resubmitted", "approved"] | None,
                                    Query(description="状态")] = None,
                  year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
                  sector: Annotated[str | None, Query(max_length=50, description="行业编码或名称")] = None,
                  offset: Annotated[int, Query(ge=0, le=100000)] = 0,
                  limit: Annotated[int, Query(ge=1, le=500)] = 50) -> dict[str, Any]:
    return svc.list(who, unit or None, status, year, sector or None, offset, limit)


@router.post("/projects", status_code=201, summary="新建项目（草稿）")
def create_project(body: ProjectIn, who: User, svc: ProjectsDep) -> dict[str, Any]:
    return svc.create(who, body.name.strip(), body.unit, body.year, body.amount, body.sector or None,
                      body.project_type or None, body.period, body.description)


@router.get("/projects/{pid}", summary="项目详情（含当前版本的目标表）")
def get_project(pid: ProjectId, who: User, svc: ProjectsDep) -> dict[str, Any]:
    return svc.get(who, pid)


@router.put("/projects/{pid}/targets", summary="填报目标表：写入新版本并返回审核结果")
def put_targets(pid: ProjectId, body: TargetsIn, who: User, svc: ProjectsDep) -> dict[str, Any]:
    rows = [r.model_dump() for r in body.rows]
    return svc.put_table(who, pid, body.revision, body.goals.model_dump(), rows, body.project_type or None)


@router.get("/projects/{pid}/targets", summary="当前版本的目标表")
def get_targets(pid: ProjectId, who: User, svc: ProjectsDep) -> dict[str, Any]:
    return svc.table(who, pid)


@router.get("/projects/{pid}/targets.xlsx", summary="导出绩效目标申报表（.xlsx，可重新导入）",
            response_class=Response, responses={200: {"content": {XLSX: {}}, "description": "申报表 .xlsx"}})
def export_xlsx(pid: ProjectId, who: User, svc: ProjectsDep) -> Response:
    project = svc.get(who, pid)
    table = svc.table(who, pid)
    data = write_workbook(project, table, svc._unit_name(project["unit"]) or project["unit"])
    return Response(data, media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{pid}-r{table["revision"]}.xlsx"'})


async def read_upload(file: UploadFile, limit: int) -> bytes | JSONResponse:
    """The uploaded bytes, read in chunks and abandoned once over ``limit``; or the error answer."""
    name = file.filename or ""
    if name and not name.lower().endswith((".xlsx", ".xlsm")):
        return error_response(415, "unsupported_type", f"只接受 Excel .xlsx 文件，收到「{name}」")
    chunks, total = [], 0
    while chunk := await file.read(CHUNK):
        total += len(chunk)
        if total > limit:
            return error_response(413, "too_large", f"文件超过上限 {limit / 1048576:g} MB，已停止读取")
        chunks.append(chunk)
    data = b"".join(chunks)
    if not data:
        return error_response(400, "empty_file", "上传的文件为空")
    if not data.startswith(b"PK"):
        return error_response(400, "not_xlsx", "不是有效的 Excel（.xlsx）文件：文件头不是 ZIP 格式")
    return data


@router.put("/projects/{pid}/targets/xlsx", summary="用申报表 .xlsx 填报目标表（同 PUT /projects/{id}/targets）")
async def put_targets_xlsx(pid: ProjectId, who: User, svc: ProjectsDep,
                           file: Annotated[UploadFile, File(description="绩效目标申报表 .xlsx")],
                           revision: Annotated[int, Form(ge=0, le=100000, description="编辑所基于的版本号")]) -> Any:
    from limits import mb
    data = await read_upload(file, mb("max_check_mb"))
    if isinstance(data, JSONResponse):
        return data
    try:
        doc = await run_in_threadpool(read_workbook, data)
    except XlsxError as e:
        return error_response(422 if e.code in ("no_header", "no_rows") else 400, e.code, e.message)
    rows = [{k: r.get(k) for k in ("level1", "level2", "name", "value", "unit", "basis")} for r in doc["rows"]]
    return await run_in_threadpool(svc.put_table, who, pid, revision, doc.get("goals") or {}, rows, None, "xlsx")


@router.post("/projects/{pid}/submit", summary="提交审核（运行审核规则并随版本保存结果）")
def submit(pid: ProjectId, who: User, svc: ProjectsDep, body: SubmitIn | None = None) -> dict[str, Any]:
    return svc.submit(who, pid, body.revision if body else None)


@router.post("/projects/{pid}/return", summary="退回修改（整表意见与逐行意见）")
def return_project(pid: ProjectId, body: ReturnIn, who: User, svc: ProjectsDep) -> dict[str, Any]:
    return svc.return_(who, pid, body.comment, [c.model_dump() for c in body.row_comments], body.revision)


@router.post("/projects/{pid}/approve", summary="审核通过（同一提交只能被批准一次）")
def approve(pid: ProjectId, who: User, svc: ProjectsDep, body: ApproveIn | None = None) -> dict[str, Any]:
    return svc.approve(who, pid, body.comment if body else None, body.revision if body else None)


@router.get("/projects/{pid}/history", summary="状态变更记录：谁、何时、从何到何、意见、评分")
def history(pid: ProjectId, who: User, svc: ProjectsDep) -> dict[str, Any]:
    return svc.history(who, pid)


@router.get("/projects/{pid}/revisions", summary="目标表的全部版本")
def revisions(pid: ProjectId, who: User, svc: ProjectsDep) -> dict[str, Any]:
    return svc.revisions(who, pid)


@router.get("/projects/{pid}/revisions/{rev}", summary="某一版本的目标表")
def revision(pid: ProjectId, rev: Annotated[int, Path(ge=1, le=100000)], who: User, svc: ProjectsDep) -> dict[str, Any]:
    return svc.table(who, pid, rev)


@router.get("/projects/{pid}/revisions/{a}/diff/{b}", summary="逐行比较两个版本")
def diff(pid: ProjectId, a: Annotated[int, Path(ge=1, le=100000)], b: Annotated[int, Path(ge=1, le=100000)],
         who: User, svc: ProjectsDep) -> dict[str, Any]:
    return svc.diff(who, pid, a, b)
