"""Writes a 绩效目标申报表 the way budget units fill it in (merged title, 填报单位 line, project
information, goals, a two-line header, merged 一级/二级 cells, a footer), used by the tests, the
bench and as a demonstration:  python -m review.labelled.make_sample_xlsx OUT.xlsx"""
from __future__ import annotations

import sys
from pathlib import Path

ROWS = [
    ("产出指标", "数量指标", "维修改造学校数", "12", "所", "计划标准"),
    ("产出指标", "数量指标", "维修改造面积", "≥1.2万", "平方米", "计划标准"),
    ("产出指标", "质量指标", "工程验收合格率", 1.0, "%", "行业标准"),
    ("产出指标", "质量指标", "培训质量", "进一步提高培训质量", "", "其他标准"),
    ("产出指标", "时效指标", "工程完工时间", "2025年11月30日前", "", "计划标准"),
    ("成本指标", "经济成本指标", "单位面积维修成本", "≤600", "元/平方米", "行业标准"),
    ("成本指标", "经济成本指标", "项目总成本", "≤900万元", "", "计划标准"),
    ("效益指标", "社会效益指标", "师生满意度", "≥90%", "", "历史标准"),
    ("效益指标", "社会效益指标", "办学条件", "明显改善", "", "其他标准"),
    ("效益指标", "可持续影响指标", "设施使用年限", "≥20年", "", "行业标准"),
    ("满意度指标", "服务对象满意度指标", "家长满意度", 0.9, "%", "历史标准"),
]


def write(path: str | Path, rows: list[tuple] | None = None) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    rows = rows or ROWS
    wb = Workbook()
    ws = wb.active
    ws.title = "绩效目标申报表"
    ws.merge_cells("A1:G1")
    ws["A1"] = "项目支出绩效目标申报表"
    ws["A1"].font = Font(bold=True, size=16)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.merge_cells("A2:G2")
    ws["A2"] = "（2025年度）"
    ws.merge_cells("A3:G3")
    ws["A3"] = "填报单位（盖章）：某市教育局                    填报日期：2025年3月10日"
    ws["A4"], ws["C4"] = "项目名称", "义务教育薄弱学校校舍维修改造"
    ws.merge_cells("A4:B4")
    ws.merge_cells("C4:G4")
    ws["A5"], ws["C5"], ws["E5"], ws["F5"] = "主管部门", "某市教育局", "实施单位", "各县区教育局"
    ws.merge_cells("A5:B5")
    ws["A6"], ws["C6"], ws["E6"], ws["F6"] = "所属行业", "教育", "项目实施期", "2025年1月-12月"
    ws.merge_cells("A6:B6")
    ws["A7"], ws["C7"], ws["D7"] = "项目资金（万元）", "年度资金总额", 800
    ws.merge_cells("A7:B7")
    ws["A8"], ws["C8"], ws["E8"] = "总体目标", "实施期目标", "年度目标"
    ws.merge_cells("A8:B9")
    ws.merge_cells("C8:D8")
    ws.merge_cells("E8:G8")
    ws["C9"] = "2025—2027年完成全市32所农村学校校舍维修改造，消除D级危房"
    ws["E9"] = "2025年完成12所学校校舍维修改造，维修面积1.2万平方米，工程验收合格率100%"
    ws.merge_cells("C9:D9")
    ws.merge_cells("E9:G9")
    ws["A10"] = "绩效指标"
    ws.merge_cells("A10:G10")
    for col, text in zip("ABCDEFG", ("一级指标", "二级指标", "三级指标", "指标值", "计量单位", "指标值设定依据", "备注")):
        ws[f"{col}11"] = text
    start = 12
    for i, (l1, l2, name, value, unit, basis) in enumerate(rows):
        r = start + i
        ws[f"A{r}"], ws[f"B{r}"], ws[f"C{r}"], ws[f"D{r}"], ws[f"E{r}"], ws[f"F{r}"] = l1, l2, name, value, unit, basis
        if isinstance(value, float):
            ws[f"D{r}"].number_format = "0%"
    # merge runs of equal 一级/二级 cells, as units do
    for col, idx in (("A", 0), ("B", 1)):
        run_start = 0
        for i in range(1, len(rows) + 1):
            if i == len(rows) or rows[i][idx] != rows[run_start][idx] or (idx == 1 and rows[i][0] != rows[run_start][0]):
                if i - run_start > 1:
                    for j in range(run_start + 1, i):
                        ws[f"{col}{start + j}"] = None
                    ws.merge_cells(f"{col}{start + run_start}:{col}{start + i - 1}")
                run_start = i
    foot = start + len(rows) + 1
    ws[f"A{foot}"] = "填表人：张三    联系电话：0891-6000000    单位负责人：李四"
    out = Path(path)
    wb.save(out)
    return out


if __name__ == "__main__":
    print(write(sys.argv[1] if len(sys.argv) > 1 else "申报表示例.xlsx"))
