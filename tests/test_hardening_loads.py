"""A partial file never erases: a row changes only the fields of the columns its file has; an
explicitly empty cell is the only way to clear a field, and it says so in a warning."""
from __future__ import annotations

from pathlib import Path

import pytest

from graph import GraphStore
from loaders import LoadError, load_file
from ontology.nodes import indicator_record

FULL_HEADER = ["指标编码", "二级指标", "三级指标", "计量单位", "指标值", "指标值设定依据", "指标解释", "计算公式",
               "数据来源", "行业", "领域", "项目类型", "同义词"]
FULL_ROW = ["X-KG-1", "质量指标", "幼儿园食堂食品安全检查合格率", "%", "≥98%", "行业标准", "食堂食品安全检查合格的园所占比",
            "合格园所数/检查园所数×100%", "市场监管部门抽检记录", "教育", None, "普惠性幼儿园建设", "食堂合格率;食品安全合格率"]


def _csv(tmp_path: Path, name: str, header: list[str], *rows: list[str]) -> Path:
    p = tmp_path / name
    p.write_text("\n".join(",".join(r) for r in [header, *rows]) + "\n", encoding="utf-8")
    return p


@pytest.fixture
def stored(tmp_path: Path, mini_store: GraphStore) -> dict:
    """One fully described industry indicator, loaded from a file with every column."""
    pt = mini_store.list("ProjectType", {"name": "普惠性幼儿园建设"}).items[0]
    field_name = mini_store.get(dict(pt.edges)["PART_OF"]).props["name"]
    row = [field_name if v is None else v for v in FULL_ROW]
    load_file(_csv(tmp_path, "full.csv", FULL_HEADER, row), mini_store)
    rec = indicator_record(mini_store.get("X-KG-1"))
    assert rec["sector"] == "205" and rec["field"] and rec["project_types"] == [pt.id]
    assert rec["typical_value"] == "98" and rec["basis"] == "行业标准" and len(rec["synonyms"]) == 2
    return rec


def _after(store: GraphStore) -> dict:
    return indicator_record(store.get("X-KG-1"))


def _same_except(before: dict, after: dict, *changed: str) -> None:
    for key in before:
        if key not in changed:
            assert after[key] == before[key], f"{key} changed: {before[key]!r} → {after[key]!r}"


def test_deprecation_by_id_and_status_alone_keeps_everything(tmp_path, mini_store, stored) -> None:
    r = load_file(_csv(tmp_path, "stop.csv", ["指标编码", "状态"], ["X-KG-1", "停用"]), mini_store)
    assert r.counts["updated"] == 1 and r.counts["deprecated"] == 1 and not r.warnings
    after = _after(mini_store)
    assert after["status"] == "deprecated"
    _same_except(stored, after, "status")


@pytest.mark.parametrize("column,value,key,expected", [
    ("指标值", "≥99%", "typical_value", "99"),
    ("指标值设定依据", "历史标准", "basis", "历史标准"),
    ("同义词", "食堂检查合格率", "synonyms", ["食堂检查合格率"]),
    ("计量单位", "‰", "unit", "‰"),
    ("指标解释", "检查合格的幼儿园食堂所占比例", "definition", "检查合格的幼儿园食堂所占比例"),
    ("计算公式", "合格食堂数/食堂总数×100%", "formula", "合格食堂数/食堂总数×100%"),
    ("数据来源", "教育部门年报", "data_source", "教育部门年报"),
    ("二级指标", "时效指标", "category", "OUT-TIME"),
    ("三级指标", "幼儿园食堂检查合格率", "name", "幼儿园食堂检查合格率"),
])
def test_one_column_changes_one_field(tmp_path, mini_store, stored, column, value, key, expected) -> None:
    r = load_file(_csv(tmp_path, "one.csv", ["指标编码", column], ["X-KG-1", value]), mini_store)
    assert r.counts["updated"] == 1 and not r.errors
    after = _after(mini_store)
    assert after[key] == expected
    # the links to sector, field and project type, and every other field, stay as stored
    _same_except(stored, after, key, *(("direction", "value_kind") if key == "typical_value" else ()))


@pytest.mark.parametrize("column,key,empty", [("同义词", "synonyms", []), ("指标值", "typical_value", None)])
def test_an_empty_cell_clears_with_a_warning(tmp_path, mini_store, stored, column, key, empty) -> None:
    # a value needs its basis: clearing the value clears the basis in the same row
    header = ["指标编码", column] + (["指标值设定依据"] if key == "typical_value" else [])
    row = ["X-KG-1", ""] + ([""] if key == "typical_value" else [])
    r = load_file(_csv(tmp_path, "clear.csv", header, row), mini_store)
    assert _after(mini_store)[key] == empty
    cleared = [w for w in r.warnings if w.code == "field_cleared"]
    assert cleared and column in cleared[0].message and cleared[0].row == 2
    _same_except(stored, _after(mini_store), key, "basis", "direction", "value_kind")


@pytest.mark.parametrize("column,field", [("计算公式", "formula"), ("指标值设定依据", "basis")])
def test_clearing_a_field_the_rules_require_is_refused(tmp_path, mini_store, stored, column, field) -> None:
    """A quantitative indicator needs its formula, a value needs its basis: emptying them alone is
    an error located at the cell, and nothing is written."""
    before = mini_store.version()
    with pytest.raises(LoadError) as info:
        load_file(_csv(tmp_path, "bad.csv", ["指标编码", column], ["X-KG-1", ""]), mini_store)
    e = info.value.report.errors[0]
    assert e.field == field and e.row == 2 and e.column.startswith("B")
    assert mini_store.version() == before and _after(mini_store) == stored


def test_links_are_kept_without_their_columns_and_changed_with_them(tmp_path, mini_store, stored) -> None:
    load_file(_csv(tmp_path, "v.csv", ["指标编码", "指标值", "同义词"], ["X-KG-1", "≥97%", "合格率"]), mini_store)
    after = _after(mini_store)
    assert (after["sector"], after["field"], after["project_types"], after["scope"]) == \
        (stored["sector"], stored["field"], stored["project_types"], "industry")
    # a new project type in the same sector (with its field) replaces the links
    r = load_file(_csv(tmp_path, "pt.csv", ["指标编码", "项目类型", "领域"], ["X-KG-1", "幼儿园食堂改造", "学前教育"]),
                  mini_store)
    assert not r.errors, r.errors
    after = _after(mini_store)
    assert after["project_types"] != stored["project_types"] and after["basis"] == "行业标准"
    assert mini_store.get(after["project_types"][0]).props["name"] == "幼儿园食堂改造"


def test_file_without_ids_and_without_some_columns_keeps_them(tmp_path, mini_store, stored) -> None:
    """Rows found by their names (no 指标编码) are patches too: a file without the 同义词 and 依据
    columns keeps both."""
    header = ["二级指标", "三级指标", "计量单位", "指标值", "指标解释", "计算公式", "行业", "项目类型"]
    row = ["质量指标", "幼儿园食堂食品安全检查合格率", "%", "≥98%", "食堂食品安全检查合格的园所占比", "合格数/总数×100%", "教育",
           "普惠性幼儿园建设"]
    # the stored indicator has an explicit id, so a name-derived row is another indicator: load one by name first
    load_file(_csv(tmp_path, "byname.csv", header + ["同义词", "指标值设定依据"], row + ["别名甲", "行业标准"]), mini_store)
    ind = mini_store.list("Indicator", {"name": "幼儿园食堂食品安全检查合格率"}).items
    derived = next(n for n in ind if n.id != "X-KG-1")
    r = load_file(_csv(tmp_path, "again.csv", header, row[:3] + ["≥99%"] + row[4:]), mini_store)
    assert not r.errors, r.errors
    assert r.counts["updated"] == 1
    after = indicator_record(mini_store.get(derived.id))
    assert after["synonyms"] == ["别名甲"] and after["basis"] == "行业标准" and after["typical_value"] == "99"


def test_unknown_id_with_few_columns_is_refused(tmp_path, mini_store, stored) -> None:
    before = mini_store.version()
    with pytest.raises(LoadError) as info:
        load_file(_csv(tmp_path, "new.csv", ["指标编码", "状态"], ["NO-SUCH-1", "停用"]), mini_store)
    e = info.value.report.errors[0]
    assert e.code == "missing_field" and "NO-SUCH-1" in e.message and "计量单位" in e.message and e.row == 2
    assert mini_store.version() == before


def test_a_missing_column_is_named_in_chinese(tmp_path, mini_store) -> None:
    """A row with a value needs 指标值设定依据: when the file has no such column, the error names the
    column as maintainers know it, not the internal key."""
    header = ["二级指标", "三级指标", "计量单位", "指标值", "指标解释", "计算公式", "行业", "项目类型"]
    row = ["质量指标", "园所抽检合格率", "%", "≥95%", "抽检合格园所占比", "合格数/总数×100%", "教育", "普惠性幼儿园建设"]
    with pytest.raises(LoadError) as info:
        load_file(_csv(tmp_path, "yiju.csv", header, row), mini_store)
    e = info.value.report.errors[0]
    assert e.field == "basis" and "指标值设定依据" in str(e) and "basis" not in str(e)
