"""The target table document as a strict model: what POST /targets/check and ``zhibiao check``
accept, bounded.

``check_table`` checks the shape (a ``rows`` list of objects); this adds what a lax reader would let
through: numbers that are really booleans (``"amount": false``), negative or infinite amounts,
texts of unbounded length, and more rows than ``max_table_rows`` (limits/limits.yaml). The same
function serves the API and the CLI, so both refuse the same documents with the same words."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr, ValidationError

from limits import LimitExceeded, count

TEXT = count("max_text_chars")
NAME = count("max_query_chars")

class ProjectInfo(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str | None = Field(None, max_length=NAME, description="项目名称")
    sector: str | None = Field(None, max_length=NAME, description="行业名称或编码，如 教育 或 205")
    # strict: ints are numbers; booleans and numeric strings are not
    amount: float | None = Field(None, ge=0, le=1e15, strict=True, allow_inf_nan=False,
                                  description="项目资金（元，不小于 0）")


class Goals(BaseModel):
    model_config = ConfigDict(extra="allow")
    period: str | None = Field(None, max_length=TEXT, description="实施期目标")
    annual: str | None = Field(None, max_length=TEXT, description="年度目标")


class TargetRow(BaseModel):
    model_config = ConfigDict(extra="allow")
    level1: str | None = Field(None, max_length=NAME, description="一级指标")
    level2: str | None = Field(None, max_length=NAME, description="二级指标")
    name: str | None = Field(None, max_length=NAME, description="三级指标名称")
    value: StrictStr | StrictInt | StrictFloat | None = Field(None, description="指标值，如 ≥95%（文本或数字）")
    unit: str | None = Field(None, max_length=NAME, description="计量单位")
    basis: str | None = Field(None, max_length=TEXT, description="指标值设定依据")


class TargetTable(BaseModel):
    model_config = ConfigDict(extra="allow")
    project: ProjectInfo | None = None
    goals: Goals | None = None
    rows: list[TargetRow] = Field(max_length=count("max_table_rows"), description="三级指标行")


class InvalidDocument(ValueError):
    """Field-level problems: ``errors`` as pydantic gives them (loc, type, ctx, input)."""

    def __init__(self, errors: list[dict[str, Any]]):
        super().__init__("目标表字段不正确")
        self.errors = errors


def check_document(doc: Any) -> None:
    """Raise LimitExceeded (too many rows: 422, as for any schema violation) or InvalidDocument (strict field checks); the
    shape itself (rows present, objects) is left to ``check_table``'s BadDocument."""
    if not isinstance(doc, dict) or not isinstance(doc.get("rows"), list):
        return
    limit = count("max_table_rows")
    if len(doc["rows"]) > limit:
        raise LimitExceeded("too_many_rows", f"目标表有 {len(doc['rows'])} 行，超过上限 {limit} 行"
                                             "（可用 ZHIBIAO_MAX_TABLE_ROWS 调整）；请拆分后分别审核", 422)
    if not all(isinstance(r, dict) for r in doc["rows"]):
        return
    for key in ("project", "goals"):
        if doc.get(key) is not None and not isinstance(doc[key], dict):
            return
    try:
        TargetTable.model_validate(doc)
    except ValidationError as e:
        errors = [err for err in e.errors() if err.get("type") != "too_long" or err.get("loc") != ("rows",)]
        if errors:
            raise InvalidDocument(errors) from None


def describe(errors: list[dict[str, Any]]) -> str:
    """A one-line Chinese account of field problems, for the CLI (the API has its own wording)."""
    parts = []
    for err in errors[:5]:
        where = ".".join(str(x) for x in err.get("loc", ()))
        given = err.get("input")
        kind = err.get("type", "")
        what = {"float_type": "应为数字", "greater_than_equal": "不能为负数", "less_than_equal": "超出范围",
                "string_type": "应为文本", "string_too_long": "过长", "finite_number": "应为有限的数字"}.get(kind, "不正确")
        parts.append(f"{where} {what}（收到 {str(given)[:40]}）")
    return "；".join(parts)


def openapi_schema() -> dict[str, Any]:
    """The JSON schema of the document with its definitions inlined (for a route's openapi_extra)."""
    schema = TargetTable.model_json_schema()
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return inline(defs[ref.split("/")[-1]])
            return {k: inline(v) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node
    return inline(schema)


def number_rows(result: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    """Add 1-based row numbers to a review result, as people count rows: ``row_number`` (position
    in the table, from 1) on every row and flag, and ``excel_row`` (the row in the sheet) when the
    table was read from an .xlsx. ``row``/``index`` stay 0-based positions for existing clients."""
    src = doc.get("rows") or []

    def excel(i: int | None) -> int | None:
        if i is None or not 0 <= i < len(src) or not isinstance(src[i], dict):
            return None
        return src[i].get("xlsx_row")
    for r in result.get("rows", []):
        i = r.get("index")
        r["row_number"] = None if i is None else i + 1
        r["excel_row"] = excel(i)
    for f in result.get("flags", []):
        i = f.get("row")
        f["row_number"] = None if i is None else i + 1
        f["excel_row"] = excel(i)
    return result
