"""Target review over HTTP: POST /targets/check (JSON) and POST /targets/check/xlsx (the Excel
申报表 as units fill it in). Both answer the same JSON as ``zhibiao check``.

Uploads are refused above ZHIBIAO_MAX_CHECK_MB (default 5 MB) *before* they are read whole: the
declared size is checked first, then the body is read in chunks and abandoned once over the limit,
so a large or endless upload cannot exhaust memory. A 申报表 is a few dozen KB."""
from __future__ import annotations

import os
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, File, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from engine.library import Library
from review import BadDocument, XlsxError, check_table, read_workbook

from ..deps import get_library

router = APIRouter(tags=["目标审核"])
Lib = Annotated[Library, Depends(get_library)]

CHUNK = 64 * 1024
XLSX_TYPES = {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/octet-stream",
              "application/zip", "application/x-zip-compressed", ""}


def max_upload_bytes() -> int:
    """The upload limit in bytes (ZHIBIAO_MAX_CHECK_MB, default 5)."""
    return int(float(os.environ.get("ZHIBIAO_MAX_CHECK_MB", "5")) * 1024 * 1024)


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"code": code, "message": message}, status_code=status)


EXAMPLE = {"project": {"name": "中小学教师培训", "sector": "教育", "amount": 1500000},
           "goals": {"period": "三年培训教师3000人次", "annual": "年内培训教师1000人次，培训合格率≥90%"},
           "rows": [{"level1": "产出指标", "level2": "质量指标", "name": "培训质量", "value": "进一步提高培训质量"},
                    {"level1": "产出指标", "level2": "数量指标", "name": "培训人次", "value": "≥1000", "unit": "人次"}]}


@router.post("/targets/check", summary="审核一张绩效目标表（JSON）")
def check_json(lib: Lib, doc: Annotated[Any, Body(openapi_examples={"示例": {"value": EXAMPLE}})]) -> Any:
    """{project, goals, rows} → {score, verdict, reasons, flags, rows}."""
    try:
        return check_table(doc, lib)
    except BadDocument as e:
        return _error(422, e.code, e.message)


@router.post("/targets/check/xlsx", summary="审核一张绩效目标申报表（Excel .xlsx 上传）")
async def check_xlsx(lib: Lib, file: Annotated[UploadFile, File(description="绩效目标申报表 .xlsx")]) -> Any:
    limit = max_upload_bytes()
    limit_mb = f"{limit / 1024 / 1024:g} MB"
    name = file.filename or ""
    if name and not name.lower().endswith((".xlsx", ".xlsm")):
        return _error(415, "unsupported_type", f"只接受 Excel .xlsx 文件，收到「{name}」（.xls 请另存为 .xlsx）")
    if file.size is not None and file.size > limit:
        return _error(413, "too_large", f"文件 {file.size / 1024 / 1024:.1f} MB 超过上限 {limit_mb}")
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = await file.read(CHUNK)
        if not chunk:
            break
        total += len(chunk)
        if total > limit:
            return _error(413, "too_large", f"文件超过上限 {limit_mb}，已停止读取")
        chunks.append(chunk)
    data = b"".join(chunks)
    if not data:
        return _error(400, "empty_file", "上传的文件为空")
    if not data.startswith(b"PK"):
        return _error(400, "not_xlsx", "不是有效的 Excel（.xlsx）文件：文件头不是 ZIP 格式")
    try:
        doc = await run_in_threadpool(read_workbook, data)
        return await run_in_threadpool(check_table, doc, lib)
    except XlsxError as e:
        return _error(422 if e.code in ("no_header", "no_rows") else 400, e.code, e.message)
    except BadDocument as e:
        return _error(422, e.code, e.message)
