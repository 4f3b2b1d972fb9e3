"""Reads the list of municipal budget units (预算单位名录) from CSV/TSV or XLSX, with the same rules
as indicator files: every problem is located (file, row, column), and a file with any error is
refused whole. Pure: returns records and problems, never touches a store (engine/units.py writes).

Columns (header names, first match wins): 单位编码, 单位名称, 主管部门, 行业 (支出功能分类类级: codes
or names, several separated by ; 、 or ,). Lines starting with # are comments."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ontology.problems import Problem
from ontology.vocab import find_sector

from .readers import ReadError, check_size, column_letter, decode

BUNDLED = Path(__file__).resolve().parent.parent / "ontology" / "data" / "budget_units.tsv"
COLUMNS = {"code": ("单位编码", "单位代码", "预算单位编码", "编码", "代码"),
           "name": ("单位名称", "预算单位名称", "预算单位", "名称"),
           "department": ("主管部门", "主管部门名称"),
           "sectors": ("行业", "所属行业", "支出功能分类")}
CODE_RE = re.compile(r"^[0-9A-Za-z\-]{1,20}$")
MAX_UNITS = 5000


@dataclass
class UnitRecord:
    code: str
    name: str
    department: str
    sectors: list[str] = field(default_factory=list)
    row: int = 0


def _norm(text: str) -> str:
    return re.sub(r"[\s*＊:：（）()]", "", str(text or ""))


def _grid(path: Path) -> list[list[str]]:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        import zipfile

        from openpyxl import load_workbook

        from limits import LimitExceeded
        from limits.xlsx_guard import check_xlsx
        try:
            check_xlsx(path, kind="load")
        except LimitExceeded as e:
            raise ReadError([Problem(e.code, e.message, path.name)]) from None
        try:
            wb = load_workbook(path, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError) as e:
            raise ReadError([Problem("not_a_table", f"不是有效的 XLSX 文件：{e}", path.name)]) from e
        ws = wb.worksheets[0]
        grid = [["" if v is None else str(v).strip() for v in row] for row in ws.iter_rows(values_only=True)]
        wb.close()
        return grid
    if path.suffix.lower() not in (".csv", ".tsv", ".txt"):
        raise ReadError([Problem("unsupported_format", f"预算单位名录应为 CSV、TSV 或 XLSX，收到 {path.suffix or '无扩展名'}",
                                 path.name)])
    import csv
    import io
    text, _ = decode(path, path.read_bytes())
    lines = [ln if not ln.lstrip().startswith("#") else "" for ln in text.splitlines()]
    body = "\n".join(lines)
    delimiter = "\t" if body.count("\t") > body.count(",") else ","
    try:
        return [[c.strip() for c in row] for row in csv.reader(io.StringIO(body), delimiter=delimiter, strict=True)]
    except csv.Error as e:
        raise ReadError([Problem("malformed_csv", f"CSV 格式错误：{e}", path.name)]) from e


def read_units(path: str | Path) -> tuple[list[UnitRecord], list[Problem]]:
    """Records and located problems; any problem of severity error means the file must not be loaded."""
    path = Path(path)
    try:
        check_size(path)
        grid = _grid(path)
    except ReadError as e:
        return [], e.problems
    fname = path.name
    header_row, mapping = -1, {}
    for r, cells in enumerate(grid[:20]):
        m = {}
        for c, cell in enumerate(cells):
            for f, aliases in COLUMNS.items():
                if _norm(cell) in aliases and f not in m.values():
                    m[c] = f
        if "code" in m.values() and "name" in m.values():
            header_row, mapping = r, m
            break
    if header_row < 0:
        return [], [Problem("no_header", "前 20 行中找不到表头（至少需要 单位编码、单位名称 两列）", fname)]
    col = {f: c for c, f in mapping.items()}
    headers = grid[header_row]
    problems: list[Problem] = []
    out: list[UnitRecord] = []
    seen: dict[str, int] = {}
    for r in range(header_row + 1, len(grid)):
        cells = grid[r]
        if not any(cells):
            continue
        rown = r + 1

        def cell(f: str) -> str:
            c = col.get(f)
            return cells[c] if c is not None and c < len(cells) else ""

        def where(f: str) -> str:
            c = col.get(f)
            return f"{column_letter(c)}（{headers[c]}）" if c is not None else f

        code, name = cell("code"), cell("name")
        if not CODE_RE.match(code):
            problems.append(Problem("bad_unit_code", f"单位编码「{code}」应为 1–20 位字母、数字或 -", fname, rown,
                                    where("code"), "code"))
            continue
        if code in seen:
            problems.append(Problem("duplicate_unit", f"单位编码 {code} 与第 {seen[code]} 行重复", fname, rown,
                                    where("code"), "code"))
            continue
        seen[code] = rown
        if not name or len(name) > 100:
            problems.append(Problem("bad_unit_name", "单位名称不能为空，且不超过 100 字", fname, rown, where("name"), "name"))
            continue
        sectors = []
        for part in [p for p in re.split(r"[;；、,，/]", cell("sectors")) if p.strip()]:
            info = find_sector(part.strip())
            if info is None:
                problems.append(Problem("unknown_sector", f"未知的行业「{part.strip()}」（应为支出功能分类类级编码或名称，如 205 或 教育）",
                                        fname, rown, where("sectors"), "sectors"))
            else:
                sectors.append(info.code)
        out.append(UnitRecord(code, name, cell("department") or name, sorted(set(sectors)), rown))
        if len(out) > MAX_UNITS:
            problems.append(Problem("too_many_rows", f"预算单位超过 {MAX_UNITS} 个，请检查文件", fname, rown))
            break
    if not out and not problems:
        problems.append(Problem("no_rows", "表头之后没有预算单位", fname, header_row + 1))
    return out, problems
