"""``zhibiao check FILE [--json] [--store URL]``: review a performance target table from the
command line, JSON ({project, goals, rows}) or the Excel 申报表, with the same result as
POST /targets/check and /targets/check/xlsx. Human-readable Chinese by default.

Exit codes follow cli/main.py: 0 the table passes, 1 it needs revision or the file is not a
target table, 2 usage, 3 store unavailable."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Callable

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
SEVERITY_LABEL = {"error": "必须修改", "warning": "建议修改", "info": "提示"}


def max_file_bytes() -> int:
    """Same limit as the HTTP upload (ZHIBIAO_MAX_CHECK_MB; limits/limits.yaml)."""
    from limits import mb
    return mb("max_check_mb")


def read_document(path: Path) -> dict[str, Any]:
    """The check_table document of a JSON or XLSX file; ValueError with a Chinese message."""
    from limits import LimitExceeded
    from review import XlsxError, read_workbook
    from review.document import InvalidDocument, check_document, describe
    if not path.exists():
        raise ValueError(f"[not_found] 文件不存在：{path}")
    size = path.stat().st_size
    if size > max_file_bytes():
        raise ValueError(f"[too_large] 文件 {size / 1024 / 1024:.1f} MB 超过上限 {max_file_bytes() / 1024 / 1024:g} MB")
    data = path.read_bytes()
    if data.startswith(b"PK") or path.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            return read_workbook(data)   # the same limits as the HTTP upload (limits.xlsx_guard)
        except (XlsxError, LimitExceeded) as e:
            raise ValueError(f"[{e.code}] {e.message}") from None
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        where = f"第 {e.lineno} 行第 {e.colno} 列：" if isinstance(e, json.JSONDecodeError) else ""
        raise ValueError(f"[bad_json] 不是有效的 JSON 或 XLSX 文件：{where}{e}") from None
    try:
        check_document(doc)              # the same strict checks as POST /targets/check
    except LimitExceeded as e:
        raise ValueError(f"[{e.code}] {e.message}") from None
    except InvalidDocument as e:
        raise ValueError(f"[invalid_parameter] 目标表字段不正确：{describe(e.errors)}") from None
    return doc


def _row_label(doc: dict[str, Any], index: int) -> str:
    """'第 3 行' (1-based, in the submitted list), or 'Excel 第 12 行' for a row read from a sheet."""
    src = (doc.get("rows") or [])[index] if index < len(doc.get("rows") or []) else {}
    xlsx_row = src.get("xlsx_row") if isinstance(src, dict) else None
    return f"Excel 第 {xlsx_row} 行" if xlsx_row else f"第 {index + 1} 行"


def render(result: dict[str, Any], doc: dict[str, Any]) -> str:
    """The result as a reviewer reads it: verdict, then flags by row with the fix."""
    verdict = "通过" if result["verdict"] == "pass" else "需修改"
    name = (doc.get("project") or {}).get("name") or "（未填项目名称）"
    lines = [f"项目：{name}", f"结论：{verdict}    评分：{result['score']}"]
    lines += [f"  · {r}" for r in result.get("reasons", [])]
    rows = result["rows"]
    flags = result["flags"]
    if not flags:
        lines.append("未发现问题。")
    for f in flags:
        where = "整表" if f["row"] is None else f"{_row_label(doc, f['row'])}「{rows[f['row']]['name']}」"
        lines.append(f"[{SEVERITY_LABEL.get(f['severity'], f['severity'])}] {f['code']}  {where}")
        lines.append(f"    {f['message']}")
        if f.get("suggestion"):
            lines.append(f"    建议：{f['suggestion']}")
    lines.append("")
    lines.append("逐行解析：")
    for r in rows:
        val = r["value"] or "（空）"
        cat = r.get("category_predicted") or "无法判断"
        lines.append(f"  {r['index'] + 1:>2}. {r['name'] or '（无名称）'} = {val}    → {cat}")
    return "\n".join(lines)


def cmd_check(args: argparse.Namespace) -> int:
    """Read FILE, review it against the library in --store, print and set the exit code."""
    from engine.library import Library
    from review import BadDocument, check_table
    from review.document import number_rows

    from .stores import open_for
    try:
        doc = read_document(Path(args.file))
    except ValueError as e:
        print(str(e), file=sys.stderr)
        return EXIT_INVALID
    with open_for(args) as store:
        try:
            result = number_rows(check_table(doc, Library(store)), doc)
        except BadDocument as e:
            print(f"[{e.code}] {e.message}", file=sys.stderr)
            return EXIT_INVALID
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(render(result, doc))
    return EXIT_OK if result["verdict"] == "pass" else EXIT_INVALID


def register(sub: Any, add: Callable[..., argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Declare the command with cli/main.py's ``add`` (which adds --store and --no-seed)."""
    p = add("check", "审核绩效目标表（JSON 或 Excel 申报表），指出空泛、不可衡量的目标并给出改法", cmd_check)
    p.add_argument("file", help="目标表文件：.json（{project, goals, rows}）或 .xlsx 申报表")
    p.add_argument("--json", action="store_true", help="以 JSON 输出（与 POST /targets/check 相同）")
    return p
