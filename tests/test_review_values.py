"""The 指标值 parser reads values as units type them, and reports what it cannot read."""
from __future__ import annotations

import pytest

from review.values import chinese_number, normalise_unit, parse_value


@pytest.mark.parametrize("text,unit,kind,cmp,number,upper,out_unit,dim", [
    ("≥95%", None, "quantity", "≥", 95, None, "%", "rate"),
    (">=95%", None, "quantity", "≥", 95, None, "%", "rate"),
    ("不低于95%", None, "quantity", "≥", 95, None, "%", "rate"),
    ("95%以上", None, "quantity", "≥", 95, None, "%", "rate"),
    ("不少于1000人次", None, "quantity", "≥", 1000, None, "人次", "count"),
    ("≤120万元", None, "quantity", "≤", 120, None, "万元", "money"),
    ("不超过500万元", None, "quantity", "≤", 500, None, "万元", "money"),
    ("控制在500万元以内", None, "quantity", "≤", 500, None, "万元", "money"),
    ("50万元以内", None, "quantity", "≤", 50, None, "万元", "money"),
    ("达到90%", None, "quantity", "≥", 90, None, "%", "rate"),
    ("=100%", None, "quantity", "=", 100, None, "%", "rate"),
    ("10辆", None, "quantity", "=", 10, None, "辆", "count"),
    ("三十", None, "quantity", "=", 30, None, None, None),
    ("三十所", None, "quantity", "=", 30, None, "所", "count"),
    ("一百二十人", None, "quantity", "=", 120, None, "人", "count"),
    ("1.2万", "人次", "quantity", "=", 12000, None, "人次", "count"),
    ("1.2万人次", None, "quantity", "=", 1.2, None, "万人次", "count"),
    ("5亿", None, "quantity", "=", 5e8, None, None, None),
    ("5亿元", None, "quantity", "=", 5, None, "亿元", "money"),
    ("90%-95%", None, "range", "区间", 90, 95, "%", "rate"),
    ("90～95", "%", "range", "区间", 90, 95, "%", "rate"),
    ("95", "%", "quantity", "=", 95, None, "%", "rate"),
    ("≥600", "元/平米", "quantity", "≥", 600, None, "元/平方米", "unit_cost"),
    ("＞80％", None, "quantity", ">", 80, None, "%", "rate"),
    ("≤0.9‰", None, "quantity", "≤", 0.9, None, "‰", "rate"),
])
def test_quantities(text, unit, kind, cmp, number, upper, out_unit, dim):
    pv = parse_value(text, unit)
    assert (pv.kind, pv.comparator, pv.unit, pv.dimension) == (kind, cmp, out_unit, dim), pv
    assert pv.number == pytest.approx(number)
    assert pv.upper == (pytest.approx(upper) if upper is not None else None)


def test_money_is_converted_to_yuan_for_the_amount_check():
    assert parse_value("≤120万元").money_yuan == 1_200_000
    assert parse_value("≤3", "亿元").money_yuan == 300_000_000


@pytest.mark.parametrize("text,date", [
    ("2025年12月31日前", "2025-12-31"),
    ("2025年12月31日之前", "2025-12-31"),
    ("2025年12月底前", "2025-12-31"),
    ("2025年6月", "2025-06-30"),
    ("12月31日前", "--12-31"),
    ("年底前", "--12-31"),
    ("2025年年底前", "2025-12-31"),
    ("9月底前", "--09-30"),
])
def test_deadlines(text, date):
    pv = parse_value(text)
    assert pv.kind == "date" and pv.date == date and pv.dimension == "date"


def test_named_deadline_is_accepted_without_inventing_a_day():
    pv = parse_value("2025年汛期前")
    assert pv.kind == "date" and pv.date is None and pv.extra == "汛期前"


@pytest.mark.parametrize("text,period", [
    ("2023.07-2024.01", ("2023-07-01", "2024-01-31")),
    ("2025年1月-12月", ("2025-01-01", "2025-12-31")),
    ("2025年3月至2025年11月", ("2025-03-01", "2025-11-30")),
    ("2023-2025年", ("2023-01-01", "2025-12-31")),
])
def test_periods(text, period):
    pv = parse_value(text)
    assert pv.kind == "period" and pv.period == period


@pytest.mark.parametrize("text,kind,grade,standard", [
    ("优良", "grade", "优良", None),
    ("合格", "grade", "合格", None),
    ("达标", "grade", "达标", None),
    ("达到预期", "grade", "达到预期", None),
    ("较好", "grade", "较好", None),
    ("达到国家二级标准", "standard", None, "国家二级标准"),
    ("符合《城市道路工程设计规范》", "standard", None, "《城市道路工程设计规范》"),
    ("达到地表水Ⅲ类标准", "standard", None, "类标准"),
])
def test_qualitative(text, kind, grade, standard):
    pv = parse_value(text)
    assert pv.kind == kind
    if grade:
        assert pv.grade == grade
    if standard:
        assert standard in pv.standard


@pytest.mark.parametrize("text", ["有效提升", "进一步提高培训质量", "明显改善", "逐步完善", "若干", "稳中有升"])
def test_vague_values_are_not_numbers(text):
    pv = parse_value(text)
    assert pv.kind == "vague" and pv.number is None


@pytest.mark.parametrize("text", ["见附件", "得到解决", "延长"])
def test_unparseable_is_reported_not_guessed(text):
    pv = parse_value(text)
    assert pv.kind == "unparsed" and pv.number is None and pv.problems


def test_empty():
    assert parse_value("").kind == "empty"
    assert parse_value(None, "%").kind == "empty"


def test_unit_conflict_between_value_and_column_is_recorded():
    pv = parse_value("95%", "个")
    assert pv.unit == "%" and any("不一致" in p for p in pv.problems)


def test_unknown_unit_is_kept_not_guessed():
    unit, dim, known = normalise_unit("坨")
    assert (unit, dim, known) == ("坨", None, False)


@pytest.mark.parametrize("text,n", [("三十", 30), ("十二", 12), ("一百零五", 105), ("两千五", 2500),
                                    ("三万五千", 35000), ("十", 10)])
def test_chinese_numerals(text, n):
    assert chinese_number(text) == n


def test_to_dict_is_json_ready():
    import json
    d = parse_value("2023.07-2024.01").to_dict()
    assert json.loads(json.dumps(d, ensure_ascii=False))["period"] == ["2023-07-01", "2024-01-31"]


# --- issue 11: how real tables write values ------------------------------------------------------
@pytest.mark.parametrize("text,period", [
    ("2020年1月--2020年11月", ("2020-01-01", "2020-11-30")),
    ("2020年1月——2020年11月", ("2020-01-01", "2020-11-30")),
    ("2021年1-12月", ("2021-01-01", "2021-12-31")),
    ("2020年1月1日至2020年12月31日", ("2020-01-01", "2020-12-31")),
    ("2020.1-2020.11", ("2020-01-01", "2020-11-30")),
    ("2020/01/01-2020/12/31", ("2020-01-01", "2020-12-31")),
    ("2019年3月~2019年12月", ("2019-03-01", "2019-12-31")),
    ("1-12月", ("--01-01", "--12-31")),
])
def test_date_ranges_in_every_spelling_are_periods_not_negative_numbers(text, period):
    pv = parse_value(text)
    assert pv.kind == "period" and pv.period == period and pv.number is None


@pytest.mark.parametrize("text,unit,dim", [
    ("6组", "组", "count"), ("3批次", "批次", "count"), ("10架次", "架次", "count"), ("5台次", "台次", "count"),
    ("120航时", "航时", "duration"), ("≥1场", "场", "count"), ("≥2篇", "篇", "count"), ("4期", "期", "count"),
    ("280人次", "人次", "count"), ("≥70村", "村", "count"),
])
def test_measure_words_are_units(text, unit, dim):
    pv = parse_value(text)
    assert (pv.kind, pv.unit, pv.dimension) == ("quantity", unit, dim) and not pv.extra


@pytest.mark.parametrize("text,unit", [("≤3人/万车", "人/万车"), ("≥30张/千人", "张/千人"), ("≤2例/10万人以内", "例/10万人"),
                                       ("≤8人/十万人", "人/十万人")])
def test_per_base_units_are_rates_per_population(text, unit):
    pv = parse_value(text)
    assert pv.unit == unit and pv.dimension == "per_base"


def test_money_per_unit_is_a_unit_cost_not_a_per_base_rate():
    assert parse_value("≤3800元/千瓦").dimension == "unit_cost"
    assert parse_value("5千克").unit == "千克" and parse_value("5千克").number == 5
    assert parse_value("5万米").number == 50000


@pytest.mark.parametrize("text,unit", [("780元/生/年", "元/人·年"), (">=530元/人*月", "元/人·月"), ("≤5300元/户", "元/户")])
def test_unit_costs_as_units_write_them(text, unit):
    pv = parse_value(text)
    assert pv.unit == unit and pv.dimension == "unit_cost"


@pytest.mark.parametrize("text,cmp", [("≧735", "≥"), ("═100", "="), ("≦5", "≤"), (">=85", "≥"), ("≥100百分比", "≥")])
def test_comparator_spellings(text, cmp):
    assert parse_value(text).comparator == cmp


@pytest.mark.parametrize("text", ["≧ %", "公里", "万亩", "≥**人", "≤__万元", "%"])
def test_values_with_only_a_comparator_or_unit_are_placeholders(text):
    assert parse_value(text).kind == "placeholder"


@pytest.mark.parametrize("name,clean,unit,marked", [
    ("★补助各类瓜果蔬菜种植面积", "补助各类瓜果蔬菜种植面积", None, True),
    ("★★★受益建档立卡贫困人口数≥**人", "受益建档立卡贫困人口数", "人", True),
    ("种植作物成活率(≥**%)", "种植作物成活率", "%", True),
    ("指标1:项目总成本(≤**万元)", "项目总成本", "万元", True),
    ("★农村低保标准(≥**元/人·月)", "农村低保标准", "元/人·月", True),
    ("实施营造林总面积(亩)", "实施营造林总面积", "亩", False),
    ("黄金蜜(葡萄)种植数量", "黄金蜜(葡萄)种植数量", None, False),
    ("建设项目个数(含续建)", "建设项目个数(含续建)", None, False),
])
def test_template_marks_and_units_are_taken_out_of_names(name, clean, unit, marked):
    from review.values import clean_name
    assert clean_name(name) == (clean, unit, marked)


def test_unit_from_the_name_is_used_when_the_value_has_none():
    pv = parse_value("80000", None, "亩")
    assert (pv.unit, pv.dimension, pv.unit_source) == ("亩", "area", "name")
    pv = parse_value("≤28.40/株", None, "元/株")
    assert (pv.unit, pv.dimension, pv.extra) == ("元/株", "unit_cost", "")
    assert parse_value("95%", None, "亩").unit == "%"    # the value's own unit wins


@pytest.mark.parametrize("text,date", [
    ("2023.12", "2023-12-31"), ("2023/12", "2023-12-31"), ("当年12月底", "--12-31"),
    ("2023年6月底前完成", "2023-06-30"), ("在2023年12月31日前完成", "2023-12-31"),
    ("2023年12月31日前全部完成", "2023-12-31"), ("截至2023年12月31日", "2023-12-31"), ("年底前完成", "--12-31"),
])
def test_deadlines_with_the_action_written_around_them(text, date):
    pv = parse_value(text)
    assert pv.kind == "date" and pv.date == date


@pytest.mark.parametrize("text,cmp,number,unit", [("500余人", "≥", 500, "人"), ("10多次", "≥", 10, "次"),
                                                   ("2万元/人", "=", 2, "万元/人"), ("1.5元/千克·次", "=", 1.5, "元/千克·次"),
                                                   ("≤600元/平方米以内", "≤", 600, "元/平方米")])
def test_more_than_and_unit_costs_of_any_base(text, cmp, number, unit):
    pv = parse_value(text)
    assert (pv.comparator, pv.number, pv.unit) == (cmp, number, unit)


@pytest.mark.parametrize("text,unit", [("≤10/10万", "/10万"), ("≤200/100000", "/100000"), ("≤0.5次/百万公里", "次/百万公里")])
def test_rates_per_population_written_without_a_numerator_unit(text, unit):
    pv = parse_value(text)
    assert (pv.unit, pv.dimension) == (unit, "per_base")


def test_a_plain_fraction_is_not_a_per_base_rate():
    assert parse_value("1/3").dimension is None


@pytest.mark.parametrize("text", ["每季度末", "每月10日前", "每年6月底前", "每学期开学前", "每月底前"])
def test_recurring_deadlines_are_deadlines_without_an_invented_day(text):
    pv = parse_value(text)
    assert pv.kind == "date" and pv.date is None


@pytest.mark.parametrize("text", ["按季度拨付", "每季度"])
def test_a_frequency_without_a_deadline_is_not_a_date(text):
    assert parse_value(text).kind != "date"
