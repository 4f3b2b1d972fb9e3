"""Bounds an .xlsx before any spreadsheet library builds it in memory.

An .xlsx is a zip of XML parts. A small file can inflate to hundreds of MB (a zip bomb), hold a
million rows, or declare one merged range over the whole sheet (which openpyxl expands into one
object per cell). :func:`check_xlsx` reads the zip's central directory (declared sizes, number of
sheets) and then streams every part through the decompressor, counting the bytes actually produced
(a declared size can lie) and, in worksheet parts, the rows, cells, the sheet's extent and the area
of merged ranges. It stops at the first limit crossed, so its own work is bounded by the limits it
checks; memory stays at one chunk per part.

A file that is not a zip at all is left to the reader, which says so in its own words."""
from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import BinaryIO

from . import LimitExceeded, count, human_mb, mb

CHUNK = 256 * 1024
_SHEET = re.compile(r"^xl/(worksheets|chartsheets|dialogsheets|macrosheets)/[^/]+\.xml$", re.I)
_ROW = re.compile(rb"<(?:\w+:)?row[\s>/]([^>]*)")
_CELL = re.compile(rb"<(?:\w+:)?c[\s>/]([^>]*)")
_REF_ATTR = re.compile(rb'\br="\$?([A-Z]{1,3})?\$?(\d+)"')
_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*\bref="\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?"')


def _col_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n


class _SheetCounter:
    """Counts rows, cells, extent and merged area of one worksheet part, chunk by chunk."""

    def __init__(self, name: str, max_rows: int, max_cells: int, what: str):
        self.name, self.max_rows, self.max_cells, self.what = name, max_rows, max_cells, what
        self.rows = self.cells = self.max_row = self.max_col = self.merged = 0
        self.carry = b""

    def feed(self, data: bytes, final: bool = False) -> None:
        buf = self.carry + data
        cut = len(buf) if final else buf.rfind(b"<")
        if cut < 0:
            cut = 0
        part, self.carry = buf[:cut], buf[cut:]
        if len(self.carry) > CHUNK:      # one tag longer than a chunk: no real sheet has that
            part, self.carry = buf, b""
        for m in _ROW.finditer(part):
            self.rows += 1
            ref = _REF_ATTR.search(m.group(1))
            row_no = int(ref.group(2)) if ref else self.rows
            self.max_row = max(self.max_row, row_no, self.rows)
        for m in _CELL.finditer(part):
            self.cells += 1
            ref = _REF_ATTR.search(m.group(1))
            if ref and ref.group(1):
                self.max_col = max(self.max_col, _col_number(ref.group(1)))
                self.max_row = max(self.max_row, int(ref.group(2)))
        for m in _MERGE.finditer(part):
            c1, r1 = _col_number(m.group(1)), int(m.group(2))
            c2, r2 = (_col_number(m.group(3)), int(m.group(4))) if m.group(3) else (c1, r1)
            self.merged += (abs(c2 - c1) + 1) * (abs(r2 - r1) + 1)
            self.max_row = max(self.max_row, r1, r2)
            self.max_col = max(self.max_col, c1, c2)
        self._check()

    def _check(self) -> None:
        sheet = f"{self.what}的工作表部件 {self.name}"
        if self.max_row > self.max_rows:
            raise LimitExceeded("too_many_rows", f"{sheet} 超过 {self.max_rows} 行（读到第 {self.max_row} 行时停止）；"
                                                 f"请拆分文件", 413)
        area = self.max_row * max(self.max_col, 1)
        if self.cells > self.max_cells or area > self.max_cells:
            raise LimitExceeded("too_many_cells", f"{sheet} 的单元格范围超过 {self.max_cells} 个"
                                                  f"（已到 {self.max_row} 行 × {max(self.max_col, 1)} 列）；请拆分文件", 413)
        if self.merged > self.max_cells:
            raise LimitExceeded("too_many_cells", f"{sheet} 的合并单元格覆盖超过 {self.max_cells} 个单元格", 413)


def check_xlsx(source: bytes | bytearray | str | Path | BinaryIO, *, kind: str = "check") -> None:
    """Raise LimitExceeded if the workbook is over a limit; return quietly otherwise (or when it is
    not a zip: the reader reports that). ``kind`` is ``check`` (a target table) or ``load`` (an
    indicator file): they have their own row and cell limits."""
    what = "目标表" if kind == "check" else "指标文件"
    max_total = mb("xlsx_max_uncompressed_mb")
    max_sheets = count("xlsx_max_sheets")
    max_rows, max_cells = count(f"{kind}_max_rows"), count(f"{kind}_max_cells")
    fh: BinaryIO = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else \
        open(source, "rb") if isinstance(source, (str, Path)) else source
    try:
        try:
            zf = zipfile.ZipFile(fh)
        except (zipfile.BadZipFile, OSError, ValueError):
            return
        with zf:
            infos = zf.infolist()
            declared = sum(i.file_size for i in infos)
            if declared > max_total:
                raise LimitExceeded("xlsx_too_large", f"{what}解压后共 {human_mb(declared)}，超过上限 "
                                                      f"{human_mb(max_total)}（可能是压缩炸弹）；未读取", 413)
            sheets = [i for i in infos if _SHEET.match(i.filename)]
            if len(sheets) > max_sheets:
                raise LimitExceeded("too_many_sheets", f"{what}有 {len(sheets)} 个工作表，超过上限 {max_sheets}", 413)
            total = 0
            for info in infos:
                counter = _SheetCounter(info.filename, max_rows, max_cells, what) \
                    if _SHEET.match(info.filename) else None
                try:
                    with zf.open(info) as part:
                        while True:
                            chunk = part.read(CHUNK)
                            if not chunk:
                                break
                            total += len(chunk)
                            if total > max_total:
                                raise LimitExceeded("xlsx_too_large", f"{what}解压后超过上限 {human_mb(max_total)}"
                                                                      "（实际内容大于文件声明的大小）；已停止读取", 413)
                            if counter:
                                counter.feed(chunk)
                    if counter:
                        counter.feed(b"", final=True)
                except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError,
                        RuntimeError, ValueError) as e:
                    if isinstance(e, LimitExceeded):
                        raise
                    return  # a damaged or encrypted part: the reader reports it
    finally:
        if not isinstance(source, (bytes, bytearray)) and isinstance(source, (str, Path)):
            fh.close()
