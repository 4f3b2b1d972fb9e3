"""Writes a project's target table as the 绩效目标申报表 units file (.xlsx), in the layout the
review reader (review/xlsx.py, POST /targets/check/xlsx) reads, so an exported table re-imports to
the same rows: title, year, 填报单位, project information, the goals, the header, one line per
row with runs of equal 一级/二级 cells merged as units do, and a footer. Every cell is text, so
values keep exactly what was typed (no 0.9 shown as 90%)."""
from __future__ import annotations

import io
from typing import Any


def write_workbook(project: dict[str, Any], table: dict[str, Any], unit_name: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    from ontology.vocab import find_sector
    wb = Workbook()
    ws = wb.active
    ws.title = "绩效目标申报表"
    ws.merge_cells("A1:F1")
    ws["A1"] = "项目支出绩效目标申报表"
    ws["A1"].font = Font(bold=True, size=16)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.merge_cells("A2:F2")
    ws["A2"] = f"（{project.get('year')}年度）"
    ws.merge_cells("A3:F3")
    ws["A3"] = f"填报单位（盖章）：{unit_name}"
    sector = find_sector(project["sector"]).name if project.get("sector") and find_sector(project["sector"]) else ""
    info = [("项目名称", project.get("name") or ""), ("主管部门", unit_name), ("所属行业", sector),
            ("项目实施期", project.get("period") or ""),
            ("项目资金（元）", f"{project.get('amount'):.2f}元" if project.get("amount") is not None else "")]
    r = 4
    for label, value in info:
        ws[f"A{r}"], ws[f"C{r}"] = label, str(value)
        ws.merge_cells(f"A{r}:B{r}")
        ws.merge_cells(f"C{r}:F{r}")
        r += 1
    goals = table.get("goals") or {}
    ws[f"A{r}"], ws[f"C{r}"], ws[f"E{r}"] = "总体目标", "实施期目标", "年度目标"
    ws.merge_cells(f"A{r}:B{r + 1}")
    ws.merge_cells(f"C{r}:D{r}")
    ws.merge_cells(f"E{r}:F{r}")
    ws[f"C{r + 1}"], ws[f"E{r + 1}"] = goals.get("period") or "", goals.get("annual") or ""
    ws.merge_cells(f"C{r + 1}:D{r + 1}")
    ws.merge_cells(f"E{r + 1}:F{r + 1}")
    r += 2
    ws[f"A{r}"] = "绩效指标"
    ws.merge_cells(f"A{r}:F{r}")
    r += 1
    for col, text in zip("ABCDEF", ("一级指标", "二级指标", "三级指标", "指标值", "计量单位", "指标值设定依据")):
        ws[f"{col}{r}"] = text
    start = r + 1
    rows = table.get("rows") or []
    for i, row in enumerate(rows):
        for col, key in zip("ABCDEF", ("level1", "level2", "name", "value", "unit", "basis")):
            cell = ws[f"{col}{start + i}"]
            cell.value = str(row.get(key) or "") or None
            cell.data_type = "s"
    for col, key in (("A", "level1"), ("B", "level2")):  # merge runs of equal 一级/二级 cells
        run = 0
        for i in range(1, len(rows) + 1):
            same = i < len(rows) and rows[i].get(key) == rows[run].get(key) and \
                (key == "level1" or rows[i].get("level1") == rows[run].get("level1"))
            if not same:
                if i - run > 1 and rows[run].get(key):
                    for j in range(run + 1, i):
                        ws[f"{col}{start + j}"] = None
                    ws.merge_cells(f"{col}{start + run}:{col}{start + i - 1}")
                run = i
    ws[f"A{start + len(rows) + 1}"] = f"填表人：{table.get('created_by') or ''}    第 {table.get('revision')} 版"
    for col, width in zip("ABCDEF", (14, 18, 30, 22, 12, 16)):
        ws.column_dimensions[col].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
