"""Target review over HTTP: POST /targets/check (JSON) and POST /targets/check/xlsx (the Excel
申报表 as units fill it in). Both answer the same JSON as ``zhibiao check``.

Every input is bounded (limits/limits.yaml): the JSON body by the body-limit middleware while it is
read (413, never parsed), the document's rows and fields by review.document (413 / 422), the
upload by its size (declared, then counted in chunks), and the .xlsx by what it inflates to, its
sheets, rows, cells and merged areas (limits.xlsx_guard, streamed before openpyxl builds anything)."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, File, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from engine.library import Library
from limits import LimitExceeded, human_mb, mb
from review import BadDocument, XlsxError, check_table, read_workbook
from review.document import InvalidDocument, check_document, number_rows, openapi_schema

from ..deps import get_library
from ..errors import error_response, validation_body

router = APIRouter(tags=["目标审核"])
Lib = Annotated[Library, Depends(get_library)]

CHUNK = 64 * 1024


def max_upload_bytes() -> int:
    """The upload limit in bytes (ZHIBIAO_MAX_CHECK_MB; default in limits/limits.yaml)."""
    return mb("max_check_mb")


def _error(status: int, code: str, message: str) -> JSONResponse:
    return error_response(status, code, message)


EXAMPLE = {"project": {"name": "中小学教师培训", "sector": "教育", "amount": 1500000},
           "goals": {"period": "三年培训教师3000人次", "annual": "年内培训教师1000人次，培训合格率≥90%"},
           "rows": [{"level1": "产出指标", "level2": "质量指标", "name": "培训质量", "value": "进一步提高培训质量"},
                    {"level1": "产出指标", "level2": "数量指标", "name": "培训人次", "value": "≥1000", "unit": "人次"}]}
_BODY_SCHEMA = {**openapi_schema(), "example": EXAMPLE}


def _review(doc: Any, lib: Library) -> Any:
    """Strict checks, then the review; every refusal in the API's error shape."""
    try:
        check_document(doc)
        return number_rows(check_table(doc, lib), doc)
    except BadDocument as e:
        return _error(422, e.code, e.message)
    except InvalidDocument as e:
        code, message, details = validation_body(RequestValidationError(
            [{**err, "loc": ("body", *err.get("loc", ()))} for err in e.errors]))
        return error_response(422, code, message, details=details)


@router.post("/targets/check", summary="审核一张绩效目标表（JSON）",
             openapi_extra={"requestBody": {"required": True,
                                            "content": {"application/json": {"schema": _BODY_SCHEMA}}}})
def check_json(lib: Lib, doc: Annotated[Any, Body()]) -> Any:
    """{project, goals, rows} → {score, verdict, reasons, flags, rows}. ``row_number`` counts rows
    from 1 (``excel_row`` is the sheet row of an .xlsx); ``index``/``row`` are 0-based positions."""
    return _review(doc, lib)


@router.post("/targets/check/xlsx", summary="审核一张绩效目标申报表（Excel .xlsx 上传）")
async def check_xlsx(lib: Lib, file: Annotated[UploadFile, File(description="绩效目标申报表 .xlsx")]) -> Any:
    limit = max_upload_bytes()
    name = file.filename or ""
    if name and not name.lower().endswith((".xlsx", ".xlsm")):
        return _error(415, "unsupported_type", f"只接受 Excel .xlsx 文件，收到「{name}」（.xls 请另存为 .xlsx）")
    if file.size is not None and file.size > limit:
        return _error(413, "too_large", f"文件 {human_mb(file.size)} 超过上限 {human_mb(limit)}")
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = await file.read(CHUNK)
        if not chunk:
            break
        total += len(chunk)
        if total > limit:
            return _error(413, "too_large", f"文件超过上限 {human_mb(limit)}，已停止读取")
        chunks.append(chunk)
    data = b"".join(chunks)
    del chunks
    if not data:
        return _error(400, "empty_file", "上传的文件为空")
    if not data.startswith(b"PK"):
        return _error(400, "not_xlsx", "不是有效的 Excel（.xlsx）文件：文件头不是 ZIP 格式")
    try:
        doc = await run_in_threadpool(read_workbook, data)
    except LimitExceeded as e:
        return _error(e.status, e.code, e.message)
    except XlsxError as e:
        return _error(422 if e.code in ("no_header", "no_rows") else 400, e.code, e.message)
    del data
    return await run_in_threadpool(_review, doc, lib)
