"""Reads a 绩效目标申报表 (.xlsx) as budget units fill it in, into the check_table document.

Real tables are not a clean grid: a merged title row, a "（2025年度）" line, "填报单位（盖章）：…",
project information as label/value pairs, the goals (实施期目标 / 年度目标) in merged blocks, then
the header row of the indicator area and rows whose 一级/二级 cells are merged over many rows,
and a footer (填表人、联系电话). The reader finds each part by its labels (review/data/xlsx.yaml)
rather than by fixed positions, fills merged cells from their top-left cell, and says what it
could not find instead of guessing (e.g. an amount without 元/万元 is not used).
"""
from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from graph.errors import ZhibiaoError

DATA_DIR = Path(__file__).resolve().parent / "data"


class XlsxError(ZhibiaoError, ValueError):
    """The upload is not a readable target table; ``code`` is stable, ``message`` Chinese."""

    def __init__(self, code: str, message: str):
        super().__init__(message, code)
        self.status = 422 if code in ("no_header", "no_rows") else 400


@lru_cache(maxsize=1)
def config() -> dict[str, Any]:
    return yaml.safe_load((DATA_DIR / "xlsx.yaml").read_text(encoding="utf-8"))


def _key(text: str) -> str:
    t = re.sub(r"\s+", "", str(text or ""))
    t = re.sub(r"[（(][^）)]*[）)]", "", t)
    return t.strip("：:*＊")


def _match(text: str, aliases: list[str], prefix: bool = True) -> bool:
    k = _key(text)
    if not k:
        return False
    return k in aliases or (prefix and any(k.startswith(a) and len(k) <= len(a) + 6 for a in aliases))


def _cell_text(cell: Any) -> str:
    v = cell.value
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, (int, float)):
        fmt = str(getattr(cell, "number_format", "") or "")
        if "%" in fmt:
            return f"{v * 100:.10g}%"
        return f"{v:.10g}"
    if isinstance(v, (dt.datetime, dt.date)):
        return f"{v.year}年{v.month}月{v.day}日"
    return str(v).strip()


def _grid(ws: Any) -> list[list[str]]:
    c = config()
    max_r = min(ws.max_row or 0, c["max_rows"])
    max_c = min(ws.max_column or 0, c["max_cols"])
    grid = [[_cell_text(cell) for cell in row]
            for row in ws.iter_rows(min_row=1, max_row=max_r, max_col=max_c)]
    for rng in ws.merged_cells.ranges:
        if rng.min_row > max_r or rng.min_col > max_c:
            continue
        top = grid[rng.min_row - 1][rng.min_col - 1]
        for r in range(rng.min_row - 1, min(rng.max_row, max_r)):
            for col in range(rng.min_col - 1, min(rng.max_col, max_c)):
                grid[r][col] = top
    return grid


def _find_header(grid: list[list[str]]) -> tuple[int, dict[str, int]] | None:
    cols = config()["columns"]
    best: tuple[int, dict[str, int]] | None = None
    for r, row in enumerate(grid):
        mapping: dict[str, int] = {}
        for ci, text in enumerate(row):
            for field, aliases in cols.items():
                if field not in mapping and _match(text, aliases, prefix=field not in ("unit", "basis")):
                    # a merged header spans several columns: keep the first
                    if ci not in mapping.values():
                        mapping[field] = ci
                    break
        if all(f in mapping for f in config()["required_columns"]) and (best is None or len(mapping) > len(best[1])):
            best = (r, mapping)
            if len(mapping) >= 5:
                break
    return best


def _right_value(row: list[str], ci: int) -> str:
    """The first cell right of a label that is not the label itself (merged labels repeat)."""
    label = row[ci]
    for v in row[ci + 1:]:
        if v and v != label:
            return v
    return ""


def _info(grid: list[list[str]], header: int) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    c = config()
    project: dict[str, Any] = {}
    goals: dict[str, str] = {}
    warnings: list[str] = []
    amount_text = amount_label = None
    for r in range(header):
        row = grid[r]
        for ci, text in enumerate(row):
            if not text:
                continue
            m = re.match(r"^([^：:]{1,24})[：:](.*)$", text)
            head, tail = (m[1], m[2].strip()) if m else (text, "")
            for field, aliases in c["labels"].items():
                if field in project or (field == "amount" and amount_text is not None) or not _match(head, aliases):
                    continue
                if field == "amount":
                    # the amount may sit behind sub-labels ("项目资金（万元）| 年度资金总额 | 800")
                    hint = text
                    for v in ([tail] if tail else []) + row[ci + 1:]:
                        if v and re.search(r"\d", v):
                            amount_text, amount_label = v, hint
                            break
                        hint += v
                    break
                value = tail or _right_value(row, ci)
                value = re.split(r"\s{2,}", value)[0].strip()
                if value:
                    project[field] = value
                break
            for field, aliases in c["goal_labels"].items():
                if field in goals or not _match(text, aliases, prefix=False):
                    continue
                right = _right_value(row, ci)
                below = next((grid[rr][ci] for rr in range(r + 1, min(header, r + 4))
                              if grid[rr][ci] and grid[rr][ci] != text), "")
                # goal headers side by side (实施期目标 | 年度目标) have the texts below;
                # a label with a long text to its right is a row layout
                every = [a for al in c["goal_labels"].values() for a in al]
                if right and _match(right, every, prefix=False):
                    continue   # a group label ("总体目标" over 实施期目标 | 年度目标)
                if right and len(right) > 8:
                    goals[field] = right
                elif below and not _match(below, every, prefix=False):
                    goals[field] = below
    if amount_text:
        project["amount"] = _amount(amount_text, amount_label or "", warnings)
    return project, goals, warnings


def _amount(text: str, label: str, warnings: list[str]) -> float | None:
    from ontology.values import parse_value
    pv = parse_value(text)
    if pv.number is None:
        warnings.append(f"项目资金「{text}」不是数字，未用于成本核对")
        return None
    if pv.unit in ("元", "万元", "亿元"):
        return pv.money_yuan
    if "万元" in label:
        return pv.number * 10000
    if "元" in label:
        return pv.number
    warnings.append(f"项目资金「{text}」未注明元或万元，未用于成本核对")
    return None


def read_workbook(source: str | Path | bytes) -> dict[str, Any]:
    """The check_table document of the first worksheet that has an indicator header row.

    Raises XlsxError for a file that is not a target table and limits.LimitExceeded for one over
    the input limits (limits/limits.yaml)."""
    from openpyxl import load_workbook

    from limits.xlsx_guard import check_xlsx
    data = source if isinstance(source, (bytes, bytearray)) else Path(source).read_bytes()
    # sizes, sheets, rows, cells and merged areas are bounded before openpyxl builds anything
    # (LimitExceeded propagates: the API answers 413, the CLI exits 1)
    check_xlsx(data, kind="check")
    try:
        wb = load_workbook(io.BytesIO(data), data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as e:
        raise XlsxError("not_xlsx", f"不是有效的 Excel（.xlsx）文件：{e}") from None
    for ws in wb.worksheets:
        grid = _grid(ws)
        found = _find_header(grid)
        if found is None:
            continue
        header, cols = found
        project, goals, warnings = _info(grid, header)
        rows = _rows(grid, header, cols)
        if not rows:
            raise XlsxError("no_rows", f"工作表「{ws.title}」第 {header + 1} 行表头之后没有指标行")
        return {"project": project, "goals": goals, "rows": rows,
                "source": {"sheet": ws.title, "header_row": header + 1, "warnings": warnings}}
    names = "、".join(config()["columns"]["name"][:2] + config()["columns"]["value"][:1])
    raise XlsxError("no_header", f"找不到指标表头行（应含 {names} 等列名）")


def _rows(grid: list[list[str]], header: int, cols: dict[str, int]) -> list[dict[str, Any]]:
    c = config()
    head_texts = {grid[header][ci] for ci in cols.values()}
    out = []
    for r in range(header + 1, len(grid)):
        row = grid[r]
        cells = {f: (row[ci] if ci < len(row) else "") for f, ci in cols.items()}
        first = next((x for x in row if x), "")
        if not any(row):
            if out:
                break
            continue
        if any(_key(first).startswith(w) for w in c["footer_words"]):
            break
        if {cells.get("name"), cells.get("value")} <= head_texts:
            continue   # a repeated header (second header line or a page break)
        if not cells.get("name") and not cells.get("value"):
            continue
        out.append({"level1": cells.get("level1") or None, "level2": cells.get("level2") or None,
                    "name": cells.get("name", ""), "value": cells.get("value", ""),
                    "unit": cells.get("unit") or None, "basis": cells.get("basis") or None,
                    "xlsx_row": r + 1})
    return out
