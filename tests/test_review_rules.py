"""Row and table rules: each code fires on its failing example and not on its passing one;
well-formed targets get no error; rules, messages and sources are data; the catalogue covers
every code."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from review.checker import BadDocument, check_table
from review.rules import config

ROOT = Path(__file__).resolve().parent.parent
GOALS = {"period": "2025年完成12所学校校舍维修改造，维修面积1.2万平方米",
         "annual": "年内完成12所学校校舍维修改造，工程验收合格率100%，师生满意度90%"}
PROJECT = {"name": "义务教育学校校舍维修改造", "sector": "教育", "amount": 8_000_000}


def good_rows() -> list[dict]:
    """A complete, well-formed table: every kind, quantified, dated."""
    return [
        {"level1": "产出指标", "level2": "数量指标", "name": "维修改造学校数", "value": "12", "unit": "所"},
        {"level1": "产出指标", "level2": "数量指标", "name": "维修改造面积", "value": "≥1.2万", "unit": "平方米"},
        {"level1": "产出指标", "level2": "数量指标", "name": "购置校车", "value": "10辆"},
        {"level1": "产出指标", "level2": "质量指标", "name": "工程验收合格率", "value": "≥95%"},
        {"level1": "产出指标", "level2": "时效指标", "name": "工程完工时间", "value": "2025年12月31日前"},
        {"level1": "成本指标", "level2": "经济成本指标", "name": "项目总成本", "value": "≤120万元"},
        {"level1": "成本指标", "level2": "经济成本指标", "name": "单位面积维修成本", "value": "≤600", "unit": "元/平方米"},
        {"level1": "效益指标", "level2": "社会效益指标", "name": "消除D级危房面积", "value": "≥3000", "unit": "平方米"},
        {"level1": "效益指标", "level2": "可持续影响指标", "name": "设施使用年限", "value": "≥20年"},
        {"level1": "满意度指标", "level2": "服务对象满意度指标", "name": "师生满意度", "value": "≥90%"},
    ]


def run(rows=None, project=None, goals=None, extra=None):
    rows = good_rows() if rows is None else rows
    if extra:
        rows = rows + extra
    return check_table({"project": PROJECT if project is None else project,
                        "goals": GOALS if goals is None else goals, "rows": rows})


def codes(result, row=None):
    if row == "table":
        return {f["code"] for f in result["flags"] if f["row"] is None}
    if row is None:
        return {f["code"] for f in result["flags"]}
    return {f["code"] for f in result["flags"] if f["row"] == row}


def test_well_formed_table_passes_without_flags():
    res = run()
    assert [f for f in res["flags"] if f["severity"] != "info"] == []
    assert res["verdict"] == "pass" and res["score"] == 100
    assert len(res["rows"]) == len(good_rows())


@pytest.mark.parametrize("level2,name,value,unit", [
    ("质量指标", "设备完好率", "≥95%", None), ("数量指标", "购置巡逻车", "10辆", None),
    ("时效指标", "项目完成时间", "2025年12月31日前", None), ("经济成本指标", "设备采购成本", "≤120万元", None),
    ("质量指标", "验收合格率", "不低于95%", None), ("服务对象满意度指标", "群众满意度", "95", "%"),
    ("时效指标", "项目实施期", "2023.07-2024.01", None), ("时效指标", "物资入库时间", "年底前", None),
    ("数量指标", "培训人次", "1.2万人次", None), ("数量指标", "新建幼儿园", "三十所", None),
    ("社会效益指标", "受益人口", "不少于1000人", None), ("质量指标", "出水水质", "达到国家二级标准", None)])
def test_well_formed_values_get_no_error(level2, name, value, unit):
    res = run(extra=[{"level1": "", "level2": level2, "name": name, "value": value, "unit": unit}])
    assert not [f for f in res["flags"] if f["severity"] in ("error", "warning")], res["flags"]


# (row, expected code): each failing example from the rule catalogue
ROW_CASES = [
    ({"level2": "质量指标", "name": "培训质量", "value": "进一步提高培训质量"}, "vague_value"),
    ({"level2": "社会效益指标", "name": "群众幸福感", "value": "有效提升"}, "vague_value"),
    ({"level2": "质量指标", "name": "培训合格率", "value": "合格"}, "not_quantified"),
    ({"level2": "质量指标", "name": "工程质量", "value": "优良"}, "grade_no_criteria"),
    ({"level2": "数量指标", "name": "外墙维修面积", "value": "4000"}, "unit_missing"),
    ({"level2": "数量指标", "name": "取证人数", "value": "≥1200", "unit": "%"}, "unit_mismatch"),
    ({"level2": "质量指标", "name": "培训合格率", "value": "120%"}, "out_of_range"),
    ({"level2": "服务对象满意度指标", "name": "群众满意度", "value": "50%"}, "out_of_range"),
    ({"level2": "数量指标", "name": "新增床位数", "value": "-5", "unit": "张"}, "out_of_range"),
    ({"level2": "数量指标", "name": "资金到位率", "value": "100%"}, "input_as_target"),
    ({"level2": "经济效益指标", "name": "预算执行率", "value": "≥95%"}, "input_as_target"),
    ({"level2": "社会效益指标", "name": "项目顺利实施", "value": "顺利实施"}, "name_is_goal"),
    ({"level2": "社会效益指标", "name": "学生营养状况改善", "value": "学生营养状况改善"}, "value_repeats_name"),
    ({"level2": "社会效益指标", "name": "参训教师满意度", "value": "≥90%"}, "wrong_category"),
    ({"level2": "质量指标", "name": "资金拨付及时率", "value": "≥95%"}, "wrong_category"),
    ({"level2": "时效指标", "name": "完成及时性", "value": "及时"}, "timeliness_no_date"),
    ({"level2": "经济成本指标", "name": "平台建设费用", "value": "合理"}, "cost_not_money"),
    ({"level2": "经济成本指标", "name": "工程总成本", "value": "≤900万元"}, "cost_over_amount"),
    ({"level2": "质量指标", "name": "验收情况", "value": "见附件"}, "unparsed_value"),
    ({"level2": "质量指标", "name": "设备完好率", "value": ""}, "empty_value"),
]


@pytest.mark.parametrize("row,code", ROW_CASES, ids=[c for _, c in ROW_CASES])
def test_row_rule_fires(row, code):
    res = run(extra=[{"level1": "", **row}])
    assert code in codes(res, len(good_rows())), res["flags"]
    flag = next(f for f in res["flags"] if f["code"] == code)
    assert flag["severity"] == config()["rules"][code]["severity"]
    assert re.search(r"[\u4e00-\u9fa5]", flag["message"]) and flag["suggestion"]


def test_vague_target_gets_a_library_rewrite_with_unit_direction_and_typical_value():
    res = run(extra=[{"level1": "产出指标", "level2": "质量指标", "name": "培训质量", "value": "进一步提高培训质量"}])
    flag = next(f for f in res["flags"] if f["code"] == "vague_value")
    assert re.search(r"培训.*合格率 [≥=] (\d+|__)%", flag["suggestion"]), flag["suggestion"]
    assert "指标库" in flag["suggestion"]
    rw = flag["rewrite"]
    assert rw["category"] == "OUT-QUA" and rw["source"] in ("project_type", "sector", "general")
    assert rw["sector"] in (None, "教育") and rw["value"]


def test_duplicate_rows():
    rows = good_rows()
    res = run(extra=[dict(rows[0])])
    dup = [f for f in res["flags"] if f["code"] == "duplicate_row"]
    assert [f["row"] for f in dup] == [len(rows)] and "第 1 行" in dup[0]["message"]


def test_category_predicted_comes_from_the_name_not_the_level_columns():
    rows = [{"level1": "", "level2": "", "name": "师生满意度", "value": "≥90%"},
            {"level1": "效益指标", "level2": "社会效益指标", "name": "工程验收合格率", "value": "100%"},
            {"level1": "产出指标", "level2": "数量指标", "name": "工程完工时间", "value": "2025年10月底前"}]
    res = run(rows=rows)
    assert [r["category_predicted"] for r in res["rows"]] == ["服务对象满意度指标", "质量指标", "时效指标"]


def test_rows_are_one_per_input_row_in_order_with_parsed_values():
    res = run()
    assert [r["index"] for r in res["rows"]] == list(range(len(good_rows())))
    r = res["rows"][5]
    assert (r["comparator"], r["number"], r["unit"]) == ("≤", 120, "万元")
    assert res["rows"][4]["date"] == "2025-12-31"


def test_cost_without_project_amount_says_so_instead_of_guessing():
    res = run(project={"name": "校舍维修", "sector": "教育"})
    assert "cost_amount_unknown" in codes(res)
    assert "cost_over_amount" not in codes(res)
    info = next(f for f in res["flags"] if f["code"] == "cost_amount_unknown")
    assert info["severity"] == "info"


def test_unknown_sector_says_so():
    res = run(project={"name": "某项目", "sector": "火星开发", "amount": 8_000_000})
    assert "sector_unknown" in codes(res, "table")


def test_public_unknown_when_sector_missing_and_no_satisfaction():
    rows = [r for r in good_rows() if "满意" not in r["name"]]
    res = run(rows=rows, project={"name": "档案数字化", "amount": 8_000_000},
              goals={"annual": "完成档案数字化12所学校"})
    assert {"public_unknown", "sector_unknown"} <= codes(res, "table")
    assert "missing_satisfaction" not in codes(res)


def test_missing_kinds_and_satisfaction():
    rows = [r for r in good_rows() if r["level2"] in ("数量指标", "质量指标")]
    res = run(rows=rows)
    kinds = [f["message"] for f in res["flags"] if f["code"] == "missing_kind"]
    assert len(kinds) == 3 and any("时效" in m for m in kinds) and any("成本" in m for m in kinds)
    assert "missing_satisfaction" in codes(res, "table") and "too_few_rows" in codes(res, "table")


def test_goal_rules():
    assert "goal_missing" in codes(run(goals={}), "table")
    vague = run(goals={"period": "进一步提升教师队伍整体素质", "annual": "进一步提升教师队伍整体素质"})
    assert {"goal_vague", "annual_copies_period"} <= codes(vague, "table")
    unrelated = run(goals={"annual": "完成图书馆古籍修复300册，举办非遗展览"})
    assert "goal_not_reflected" in codes(unrelated, "table")
    assert not codes(run(), "table")


def test_all_qualitative():
    rows = [{"level2": "数量指标", "name": "实验室建设", "value": "按计划完成"},
            {"level2": "质量指标", "name": "建设质量", "value": "优"}]
    res = run(rows=rows)
    assert "all_qualitative" in codes(res, "table")
    assert res["verdict"] == "revise" and res["score"] < 80 and res["reasons"]


def test_bad_documents_are_refused_with_a_code():
    for doc, code in (([], "bad_document"), ({}, "no_rows"), ({"rows": [1]}, "bad_row"),
                      ({"rows": [], "project": {"amount": "很多"}}, "bad_amount")):
        with pytest.raises(BadDocument) as e:
            check_table(doc)
        assert e.value.code == code and re.search(r"[\u4e00-\u9fa5]", e.value.message)


def test_every_rule_is_data_with_severity_message_and_a_named_source():
    c = config()
    for code, r in c["rules"].items():
        assert r["severity"] in ("error", "warning", "info"), code
        assert r["message"] and r["suggestion"], code
        src = c["sources"][r["source"]]
        assert src == "本局审核实践" or src.startswith("《"), (code, src)
        assert not re.search(r"第[一二三四五六七八九十\d]+条", src), "no invented clause numbers"


def test_rule_catalogue_documents_every_code_with_examples():
    doc = (ROOT / "docs" / "review_rules.md").read_text(encoding="utf-8")
    for code in config()["rules"]:
        section = doc.split(f"`{code}`", 1)
        assert len(section) == 2, f"{code} 未写入 docs/review_rules.md"
        body = section[1].split("\n### ", 1)[0]
        if config()["rules"][code]["severity"] == "info":
            assert "- 提示" in body and "- 不提示" in body, code
        else:
            assert "- 不通过" in body and "- 通过" in body, code


# --- issue 11: families seen in real tables --------------------------------------------------------
def _row_codes(row: dict, project: dict | None = None) -> set[str]:
    res = run(extra=[{"level1": "", **row}], project=project)
    return {f["code"] for f in res["flags"] if f["row"] == len(good_rows()) and f["severity"] != "info"}


@pytest.mark.parametrize("row", [
    {"level2": "数量指标", "name": "实施营造林总面积(亩)", "value": "80000"},
    {"level2": "数量指标", "name": "★补助各类瓜果蔬菜种植面积", "value": "29.5亩"},
    {"level2": "数量指标", "name": "★★★受益建档立卡贫困人口数≥**人", "value": ">=80"},
    {"level2": "质量指标", "name": "种植作物成活率(≥**%)", "value": ">=85"},
    {"level2": "质量指标", "name": "指标2:设备验收合格率", "value": "≥95%"},
    {"level2": "数量指标", "name": "开展技术培训", "value": "6组"},
    {"level2": "数量指标", "name": "情景教学或外训批次", "value": "6批次"},
    {"level2": "数量指标", "name": "发表论文", "value": "≥2篇"},
    {"level2": "数量指标", "name": "飞机增雨作业", "value": "≥30航时"},
    {"level2": "数量指标", "name": "开展送戏下乡", "value": "≥70村"},
    {"level2": "社会效益指标", "name": "道路交通事故万车死亡率", "value": "≤3人/万车"},
    {"level2": "社会效益指标", "name": "每千名老年人拥有养老床位数", "value": "≥30张/千人"},
    {"level2": "社会效益指标", "name": "孕产妇死亡率", "value": "≤10/10万"},
    {"level2": "数量指标", "name": "药品抽检批次", "value": "≥120批次"},
    {"level2": "时效指标", "name": "项目实施时间", "value": "2020年1月--2020年11月"},
    {"level2": "时效指标", "name": "项目实施期", "value": "2021年1-12月"},
    {"level2": "质量指标", "name": "营养改善计划覆盖率", "value": "≧100", "unit": "%"},
    {"level2": "社会效益指标", "name": "政策知晓率", "value": "═100", "unit": "%"},
    {"level2": "质量指标", "name": "树木成活率", "value": "≥85"},
    {"level2": "质量指标", "name": "委托业务报告合格率", "value": "≥100百分比"},
    {"level2": "经济成本指标", "name": "义务教育小学生均公用经费", "value": "780元/生/年"},
    {"level2": "经济成本指标", "name": "农村低保标准(≥**元/人·月)", "value": ">=530元/人*月"},
    {"level2": "时效指标", "name": "财政补助资金到位时间", "value": "9月30日前"},
    {"level2": "时效指标", "name": "补助发放时间", "value": "每季度末"},
    {"level2": "社会效益指标", "name": "改造路段通行速度提升", "value": "≥15%"},
    {"level2": "质量指标", "name": "农村低保标准", "value": "≥530元/人·月"},
], ids=lambda r: r["name"] + "=" + r["value"])
def test_real_table_writing_that_is_fine_is_not_flagged(row):
    assert _row_codes(row) == set()


@pytest.mark.parametrize("row,code", [
    ({"level2": "质量指标", "name": "教学条件改善、办学水平提高", "value": "=100%"}, "name_is_goal"),
    ({"level2": "社会效益指标", "name": "教学质量提高、办学条件改善", "value": "=100%"}, "name_is_goal"),
    ({"level2": "可持续影响指标", "name": "学生受益情况", "value": "=100%"}, "name_is_goal"),
    ({"level2": "质量指标", "name": "麻风村休养员生活得到改善", "value": "100%"}, "name_is_goal"),
    ({"level2": "时效指标", "name": "1年", "value": "1年"}, "name_is_goal"),
    ({"level2": "时效指标", "name": "资金拨付到位情况", "value": "12月底前100%到位"}, "input_as_target"),
    ({"level2": "时效指标", "name": "资金到位及时率", "value": "≧100", "unit": "%"}, "input_as_target"),
    ({"level2": "时效指标", "name": "资金到位时间", "value": "2023年3月底前"}, "input_as_target"),
    ({"level2": "经济成本指标", "name": "每年财政补助1000万元", "value": "1000万元"}, "input_as_target"),
    ({"level2": "经济成本指标", "name": "培训费", "value": "320"}, "unit_missing"),
    ({"level2": "数量指标", "name": "指标1:新建堤防、护岸长度", "value": "公里"}, "placeholder_value"),
    ({"level2": "质量指标", "name": "指标1:工程验收合格率", "value": "≧ %"}, "placeholder_value"),
    ({"level2": "服务对象满意度指标", "name": "学生满意度(≥**%)", "value": "≥50"}, "out_of_range"),
], ids=lambda x: x["name"] if isinstance(x, dict) else x)
def test_real_table_weaknesses_are_flagged(row, code):
    assert code in _row_codes(row)


def test_combined_level2_cell_is_not_a_filing():
    from review.rules import filed_category
    assert filed_category("社会、经济、生态效益 指标") is None
    assert filed_category("成本指标") == "COST-ECO" and filed_category("数量值") == "OUT-QTY"
    assert filed_category("服务对象满意度指标等") == "SAT-SVC"


def test_category_is_predicted_from_value_and_unit_when_the_name_does_not_say():
    rows = [{"level2": "", "name": "其中露天蔬菜", "value": "20亩"},
            {"level2": "", "name": "生活垃圾运输车辆", "value": "283辆"},
            {"level2": "", "name": "项目实施期", "value": "2021年1月-12月"},
            {"level2": "", "name": "义务教育小学生均公用经费", "value": "780元/生/年"},
            {"level2": "", "name": "消防水炮射程", "value": "≥80M"},
            {"level2": "", "name": "药品抽检批次", "value": "≥120批次"},
            {"level2": "", "name": "实施营造林总面积(亩)", "value": "80000"}]
    res = run(rows=rows)
    assert [r["category_code"] for r in res["rows"]] == ["OUT-QTY", "OUT-QTY", "OUT-TIME", "COST-ECO", "OUT-QUA",
                                                          "OUT-QTY", "OUT-QTY"]
    assert all(0 < r["category_confidence"] <= 1 for r in res["rows"])


def test_a_rewrite_keeps_the_category_and_says_where_it_came_from():
    res = run(extra=[{"level1": "", "level2": "社会效益指标", "name": "企业竞争力", "value": "增强"}])
    flag = next(f for f in res["flags"] if f["code"] == "vague_value")
    rw = flag["rewrite"]
    assert rw["category"] == "BEN-SOC" and rw["source"] in ("project_type", "sector", "general", "pattern")
    if rw["source"] == "pattern":
        assert "__" in rw["text"] and "写法模板" in flag["suggestion"]


def test_a_cost_rewrite_never_exceeds_the_project_amount():
    project = {"name": "麻风病防治", "sector": "卫生健康", "amount": 40_000}
    res = run(extra=[{"level1": "", "level2": "经济成本指标", "name": "防治成本", "value": "合理"}], project=project)
    flag = next(f for f in res["flags"] if f["code"] == "cost_not_money")
    rw = flag["rewrite"]
    assert rw["category"] == "COST-ECO"
    if rw["value"]:
        from review.values import parse_value
        pv = parse_value(rw["value"])
        assert pv.money_yuan is None or pv.money_yuan <= 40_000


# --- budget: quantity × unit cost and cost rows against the amount ----------------------------------
TRAINING = [{"level2": "数量指标", "name": "培训农牧民人数", "value": "≥5000人"},
            {"level2": "经济成本指标", "name": "人均培训成本", "value": "≤2500元/人"}]


def _budget(rows, amount):
    res = check_table({"project": {"name": "农牧民技能培训", "sector": "社会保障和就业", "amount": amount},
                       "goals": {"annual": "培训农牧民5000人"}, "rows": rows})
    return [f for f in res["flags"] if f["code"] == "budget_exceeded"]


def test_quantity_times_unit_cost_over_the_amount_is_flagged():
    flags = _budget(TRAINING, 1_000_000)          # 5000 × 2500 = 1,250万 at 100万
    assert len(flags) == 1 and flags[0]["row"] is None and flags[0]["severity"] == "error"
    assert "12,500,000" in flags[0]["message"] and "容差" in flags[0]["message"]
    assert _budget(TRAINING, 80_000_000) == []    # fits at 8000万
    assert _budget(TRAINING, 12_000_000) == []    # 4% over: within the 10% tolerance
    assert _budget(TRAINING, None) == []          # no amount, nothing guessed


def test_monthly_unit_cost_is_counted_over_a_year_and_said_so():
    rows = [{"level2": "数量指标", "name": "公益性岗位补贴人数", "value": "100人"},
            {"level2": "经济成本指标", "name": "公益性岗位补贴标准", "value": "1800", "unit": "元/人·月"}]
    flags = _budget(rows, 1_000_000)              # 100 × 1800 × 12 = 216万
    assert flags and "按一年计" in flags[0]["message"]


def test_unit_cost_is_matched_only_with_a_quantity_of_the_same_thing():
    rows = [{"level2": "数量指标", "name": "零就业家庭就业人数", "value": "150人"},
            {"level2": "经济成本指标", "name": "公益性岗位补贴标准", "value": "1800", "unit": "元/人·月"}]
    assert _budget(rows, 900_000) == []
    rows = [{"level2": "数量指标", "name": "农村低保对象人数", "value": "7800人"},
            {"level2": "经济成本指标", "name": "农村低保标准", "value": "5400", "unit": "元/人·年"}]
    assert _budget(rows, 38_000_000) == []        # a guarantee line is paid as a top-up, not per head


def test_cost_rows_together_over_the_amount_are_flagged_unless_one_is_the_total():
    rows = [{"level2": "经济成本指标", "name": "设备购置费", "value": "80万元"},
            {"level2": "经济成本指标", "name": "培训费", "value": "50万元"}]
    assert len(_budget(rows, 1_000_000)) == 1
    rows.append({"level2": "经济成本指标", "name": "项目总成本", "value": "≤100万元"})
    assert _budget(rows, 1_000_000) == []


@pytest.mark.parametrize("row,expected", [
    ({"level2": "质量指标", "name": "围绕农业生产、生态环境修复、改善空气质量等需求", "value": "解决旱情"}, {"name_is_goal"}),
    ({"level2": "经济效益指标", "name": "项目实施是否产生经济价值", "value": "否"}, {"name_is_goal"}),
    ({"level2": "社会效益指标", "name": "保障人民群众基本文化权益", "value": "影响程度明显"}, {"name_is_goal", "vague_value"}),
    ({"level2": "时效指标", "name": "教育均衡化发展", "value": "有效"}, {"timeliness_no_date", "vague_value"}),
], ids=lambda x: x["name"] if isinstance(x, dict) else "")
def test_goal_sentences_and_vague_values_are_both_said(row, expected):
    assert expected <= _row_codes(row)
