"""Readers: pure functions from a file to rows (tables) or nodes (library JSON, RDF).

They never touch a store, so they are tested on files alone. Every row keeps its file, row number
and the column letter of each cell, so that a validation problem points at the exact cell."""
from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import yaml

from ontology.problems import Problem

HERE = Path(__file__).resolve().parent


class ReadError(Exception):
    """A file that cannot be read as a table at all; carries the located problems."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


@lru_cache(maxsize=1)
def column_config() -> dict:
    return yaml.safe_load((HERE / "columns.yaml").read_text(encoding="utf-8"))


def _norm_header(text: str) -> str:
    t = unicodedata.normalize("NFKC", str(text or "")).strip()
    t = re.sub(r"[\s*＊:：（）()\[\]【】]", "", t)
    return t.lower()


@lru_cache(maxsize=1)
def _alias_index() -> dict[str, str]:
    idx: dict[str, str] = {}
    for fieldname, aliases in column_config()["fields"].items():
        for a in aliases:
            idx[_norm_header(a)] = fieldname
    return idx


def column_letter(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


@dataclass
class Row:
    file: str
    row: int
    values: dict[str, str]
    columns: dict[str, str] = field(default_factory=dict)  # field → column label, e.g. "C（计量单位）"


@dataclass
class Table:
    file: str
    format: str
    header_row: int
    rows: list[Row]
    encoding: str | None = None


def max_file_bytes() -> int:
    """ZHIBIAO_MAX_LOAD_MB, default in limits/limits.yaml (max_load_mb)."""
    from limits import mb
    return mb("max_load_mb")


def detect_format(path: Path) -> str:
    """By extension first, then by content; raise a located error for anything else."""
    ext = path.suffix.lower()
    by_ext = {e: name for name, spec in FORMATS.items() for e in spec.extensions}
    if ext in by_ext:
        return by_ext[ext]
    with path.open("rb") as fh:
        head = fh.read(512)
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    stripped = head.lstrip(b"\xef\xbb\xbf \r\n\t")
    if stripped[:1] in (b"{", b"["):
        return "json"
    if stripped.startswith((b"@prefix", b"@base", b"PREFIX")):
        return "ttl"
    raise ReadError([Problem("unsupported_format", f"不支持的文件类型 {ext or '（无扩展名）'}：应为 CSV、XLSX、JSON、"
                                                    "Turtle(.ttl) 或 JSON-LD(.jsonld)", path.name)])


def check_size(path: Path) -> None:
    size = path.stat().st_size
    limit = max_file_bytes()
    if size == 0:
        raise ReadError([Problem("empty_file", "文件为空", path.name)])
    if size > limit:
        raise ReadError([Problem("file_too_large", f"文件大小 {size / 1048576:.1f} MB 超过上限 "
                                                   f"{limit / 1048576:.0f} MB（可用 ZHIBIAO_MAX_LOAD_MB 调整）",
                                 path.name)])


def decode(path: Path, data: bytes) -> tuple[str, str]:
    """UTF-8 (with or without BOM) first, then GB18030 (a superset of GBK); binary is refused."""
    if b"\x00" in data[:65536]:
        raise ReadError([Problem("not_a_table", "文件含有二进制内容，不是文本表格（CSV）", path.name)])
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        controls = sum(1 for ch in text[:65536] if unicodedata.category(ch) == "Cc" and ch not in "\r\n\t")
        if controls > 8:
            raise ReadError([Problem("not_a_table", "文件含有大量控制字符，不是文本表格", path.name)])
        return text, ("utf-8" if enc == "utf-8-sig" else "gb18030")
    raise ReadError([Problem("bad_encoding", "无法识别文件编码：应为 UTF-8 或 GBK/GB18030", path.name)])


def _find_header(grid: list[list[str]], fname: str) -> tuple[int, dict[int, str]]:
    scan = column_config()["header_scan_rows"]
    best: tuple[int, dict[int, str]] = (-1, {})
    aliases = _alias_index()
    for r, cells in enumerate(grid[:scan]):
        mapping = {}
        for c, cell in enumerate(cells):
            f = aliases.get(_norm_header(cell))
            if f and f not in mapping.values():
                mapping[c] = f
        if len(mapping) > len(best[1]):
            best = (r, mapping)
    if len(best[1]) < 2:
        raise ReadError([Problem("no_header", f"前 {scan} 行中找不到表头行（应含 二级指标、三级指标/指标名称、计量单位 等列名）",
                                 fname)])
    missing = [f for f in column_config()["required"] if f not in best[1].values()]
    # with 指标编码, a file may patch stored indicators with some columns only (e.g. 指标编码 + 状态);
    # rows that create an indicator are then checked for the required fields one by one
    if missing and "id" not in best[1].values():
        names = "、".join(column_config()["fields"][f][0] for f in missing)
        raise ReadError([Problem("missing_column", f"缺少必需的列：{names}", fname, best[0] + 1, None, missing[0])])
    return best


def _check_rows(n: int, fname: str) -> None:
    from limits import count
    limit = count("load_max_rows")
    if n > limit:
        raise ReadError([Problem("too_many_rows", f"文件有 {n} 行，超过上限 {limit} 行（可用 ZHIBIAO_LOAD_MAX_ROWS 调整）；"
                                                  "请拆分文件", fname)])


def _rows_from_grid(grid: list[list[str]], fname: str, fmt: str, encoding: str | None = None) -> Table:
    _check_rows(len(grid), fname)
    header, mapping = _find_header(grid, fname)
    headers = grid[header]
    cols = {f: f"{column_letter(c)}（{headers[c]}）" for c, f in mapping.items()}
    rows = []
    for r in range(header + 1, len(grid)):
        cells = grid[r]
        values = {f: (cells[c].strip() if c < len(cells) and cells[c] is not None else "") for c, f in mapping.items()}
        if not any(values.values()):
            continue
        rows.append(Row(fname, r + 1, values, cols))
    if not rows:
        raise ReadError([Problem("no_rows", "表头之后没有数据行", fname, header + 1)])
    return Table(fname, fmt, header + 1, rows, encoding)


def read_csv(path: Path) -> Table:
    text, enc = decode(path, path.read_bytes())
    sample = text[:4096]
    delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    try:
        grid = [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)]
    except csv.Error as e:
        raise ReadError([Problem("malformed_csv", f"CSV 格式错误：{e}", path.name)]) from e
    return _rows_from_grid(grid, path.name, "csv", enc)


def read_xlsx(path: Path) -> Table:
    """Merged cells (一级/二级 spanning several rows) are filled from their top-left cell."""
    import zipfile

    from openpyxl import load_workbook

    from limits import LimitExceeded
    from limits.xlsx_guard import check_xlsx
    try:
        check_xlsx(path, kind="load")   # bounded before openpyxl builds anything
    except LimitExceeded as e:
        raise ReadError([Problem(e.code, e.message, path.name)]) from None
    try:
        wb = load_workbook(path, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as e:
        raise ReadError([Problem("not_a_table", f"不是有效的 XLSX 文件：{e}", path.name)]) from e
    last_error: ReadError | None = None
    for ws in wb.worksheets:
        grid = [[("" if v is None else str(v)) for v in row] for row in ws.iter_rows(values_only=True)]
        for rng in ws.merged_cells.ranges:
            top = grid[rng.min_row - 1][rng.min_col - 1] if rng.min_row - 1 < len(grid) else ""
            for r in range(rng.min_row - 1, min(rng.max_row, len(grid))):
                for c in range(rng.min_col - 1, rng.max_col):
                    if c < len(grid[r]):
                        grid[r][c] = top
        try:
            table = _rows_from_grid(grid, f"{path.name}[{ws.title}]", "xlsx")
            return table
        except ReadError as e:
            last_error = e
    raise last_error or ReadError([Problem("no_rows", "工作簿中没有工作表", path.name)])


def read_json(path: Path) -> tuple[str, Any]:
    text, _ = decode(path, path.read_bytes())
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise ReadError([Problem("malformed_json", f"JSON 格式错误：{e.msg}", path.name, e.lineno, f"第{e.colno}列")]) from e
    return text, doc


def rows_from_json(path: Path, doc: Any) -> Table:
    """A JSON array of records (or {"indicators": [...]}) with the same keys as the table columns."""
    items = doc.get("indicators") if isinstance(doc, dict) else doc
    if not isinstance(items, list) or not items:
        raise ReadError([Problem("not_a_table", "JSON 应为指标记录数组，或含 indicators / nodes 数组的对象", path.name)])
    _check_rows(len(items), path.name)
    aliases = _alias_index()
    rows = []
    for i, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise ReadError([Problem("bad_record", "每条记录应为 JSON 对象", path.name, i)])
        values: dict[str, str] = {}
        for k, v in item.items():
            f = aliases.get(_norm_header(k))
            if f is None:
                continue
            if isinstance(v, list):
                v = ";".join(str(x) for x in v)
            values[f] = "" if v is None else str(v).strip()
        rows.append(Row(path.name, i, values, {f: f for f in values}))
    present = set().union(*(r.values for r in rows))
    missing = [f for f in column_config()["required"] if f not in present]
    if missing and "id" not in present:
        raise ReadError([Problem("missing_column", f"记录缺少必需字段：{'、'.join(missing)}", path.name, 1, None, missing[0])])
    return Table(path.name, "json", 0, rows, "utf-8")


@dataclass(frozen=True)
class Format:
    """A loadable file format: its extensions, how the ingest turns it into nodes (``kind``:
    "table" rows through ``read``, "json" a node document or records, "rdf" through rdflib with
    ``rdf_format``)."""
    extensions: tuple[str, ...]
    kind: str
    read: Callable[[Path], Table] | None = None
    rdf_format: str | None = None


#: format name → Format: detect_format and the ingest read this registry (a new format registers here)
FORMATS: dict[str, Format] = {
    "csv": Format((".csv", ".txt", ".tsv"), "table", read_csv),
    "xlsx": Format((".xlsx", ".xlsm"), "table", read_xlsx),
    "json": Format((".json",), "json"),
    "ttl": Format((".ttl", ".turtle"), "rdf", rdf_format="turtle"),
    "jsonld": Format((".jsonld", ".json-ld"), "rdf", rdf_format="json-ld"),
}


def register_format(name: str, fmt: Format) -> None:
    """Make ``zhibiao load`` accept files with ``fmt.extensions`` as format ``name``."""
    FORMATS[name] = fmt
