"""Recommended target sets that a unit can submit: within the amount, passing the checker for every
project type, offered only where the type applies, with the type inferred from real project names.

The bundled library's search index is built once for this module (a few seconds)."""
from __future__ import annotations

import re

import pytest

from engine.library import BadQuery
from ontology.nodes import PROJECT_TYPE
from review.checker import check_table
from search.evaluate import (REAL_TYPE_TOP1, REAL_TYPE_TOP3, bundled_index, evaluate_real_types,
                             load_real_tables)
from search.recommend import Recommender
from search.regions import region_data, resolve_region
from projects_support import work_app  # noqa: F401 (fixture)

_VALUE = re.compile(r"^[≥≤=]?(\d+(?:\.\d+)?)(.*)$")


@pytest.fixture(scope="module")
def index():
    return bundled_index()


@pytest.fixture(scope="module")
def rec(index) -> Recommender:
    return Recommender(index)


def _rows(res: dict) -> list[dict]:
    return [i for g in res["groups"] for i in g["indicators"]]


def _number(value: str | None) -> tuple[float, str] | None:
    m = _VALUE.match(value or "")
    return (float(m.group(1)), m.group(2)) if m else None


def _spend(rows: list[dict]) -> list[tuple[str, str, float]]:
    """Every (quantity, unit cost, money) a reader of the table could multiply: a unit cost
    元/X or 万元/X against any row counted in X or 万X, read from the proposed values alone."""
    out = []
    for c in rows:
        cu = c["unit"] or ""
        if c["level2"] != "经济成本指标" or "/" not in cu:
            continue
        num, den = cu.split("/", 1)
        scale = {"元": 1, "万元": 10000}.get(num)
        base, _, per = den.partition("·")
        if scale is None or per in ("天", "日"):
            continue
        cv = _number(c["suggested_value"])
        for q in rows:
            qv = _number(q["suggested_value"])
            if q is c or not qv or q["level2"] == "经济成本指标":
                continue
            f = {base: 1, "万" + base: 10000, **({"人次": 1, "名": 1} if base == "人" else {})}.get(q["unit"])
            if f and cv:
                out.append((q["name"], c["name"], qv[0] * f * cv[0] * scale * (12 if per == "月" else 1)))
    return out


def test_budget_changes_quantities_and_never_exceeds_the_amount(rec: Recommender) -> None:
    """The issue's case: 农牧民技能培训 got "≥5000人, ≤2500元/人" at 100万 and at 8000万."""
    small = rec.recommend("农牧民技能培训", "开展农牧民职业技能培训和劳务输出", amount=1_000_000)
    large = rec.recommend("农牧民技能培训", "开展农牧民职业技能培训和劳务输出", amount=80_000_000)
    def qty(res: dict) -> dict[str, str]:
        return {i["name"]: i["suggested_value"] for i in _rows(res) if i["level2"] == "数量指标"}
    assert qty(small) != qty(large)
    for res, amount in ((small, 1_000_000), (large, 80_000_000)):
        spend = _spend(_rows(res))
        assert spend, "a budget-aware set pairs at least one quantity with a unit cost"
        assert all(money <= amount for _, _, money in spend), spend
        b = res["budget"]
        assert b["amount"] == amount and b["within_amount"] and b["planned_yuan"] <= amount
        assert b["assumption"] and all(p["unit_cost_source"] for p in b["pairs"])
        assert all(p["unit_cost_source"].startswith(("指标库典型值", "支出标准", "历史项目", "按预算封顶"))
                   for p in b["pairs"])
    big = dict(_number(v) and (k, _number(v)[0]) for k, v in qty(large).items() if _number(v))
    little = dict(_number(v) and (k, _number(v)[0]) for k, v in qty(small).items() if _number(v))
    assert any(big[k] > little[k] for k in big.keys() & little.keys())


def test_without_an_amount_values_are_placeholders(rec: Recommender) -> None:
    res = rec.recommend("农牧民技能培训", "开展农牧民职业技能培训")
    assert res["budget"]["amount"] is None and "占位" in res["budget"]["assumption"]
    assert res["budget"]["placeholders"]
    assert all(i.get("value_source") == "指标库典型值（占位）" for i in _rows(res)
               if i["name"] in res["budget"]["placeholders"])
    zero = rec.recommend("农牧民技能培训", "开展农牧民职业技能培训", amount=0)
    assert zero["budget"]["amount"] == 0 and "占位" in zero["budget"]["assumption"]


def test_unit_cost_sources_spending_standard_and_unit_history(index) -> None:
    std = Recommender(index).recommend("生态岗位聘用", "聘用草原管护员和护林员", project_type="生态岗位",
                                       amount=3_500_000)
    sources = [p["unit_cost_source"] for p in std["budget"]["pairs"]]
    assert any(s.startswith("支出标准") for s in sources), sources
    # the project store's history, once projects are recorded, takes precedence over both
    hist = Recommender(index, unit_cost_history=lambda iid: (3000.0, "本单位 3 张已批复目标表的中位数")).recommend(
        "生态岗位聘用", "聘用草原管护员和护林员", project_type="生态岗位", amount=3_000_000)
    pair = hist["budget"]["pairs"][0]
    assert pair["unit_cost_source"].startswith("历史项目：本单位") and pair["unit_cost_value"].startswith("3000")
    assert pair["subtotal_yuan"] <= 3_000_000


def test_every_project_type_set_passes_its_own_check(index, rec: Recommender) -> None:
    """Recommender and checker agree: each type's set at a plausible amount passes `check`."""
    border = {n for n, r in region_data()["project_types"].items() if r.get("border")}
    failures = []
    types = [c for c in index.ctx.values() if c.label == PROJECT_TYPE]
    assert len(types) >= 504
    amount = 5_000_000
    for c in types:
        sector = index.ctx[c.sector_id].name
        res = rec.recommend(c.name, project_type=c.name, sector=sector, amount=amount, period="2026年",
                            region="亚东县" if c.name in border else None)
        rows = [{"level1": i["level1"], "level2": i["level2"], "name": i["name"],
                 "value": i["suggested_value"] or "", "basis": i["basis"]} for i in _rows(res)]
        out = check_table({"project": {"name": c.name, "sector": sector, "amount": amount}, "rows": rows})
        if out["verdict"] != "pass":
            errs = [f"{f['code']}:{rows[f['row']]['name'] if f.get('row') is not None else ''}"
                    for f in (x if isinstance(x, dict) else x.__dict__ for x in out["flags"])
                    if f.get("severity") == "error"]
            failures.append(f"{c.name}: score {out['score']} {errs}")
        assert res["budget"]["within_amount"], c.name
    assert not failures, f"{len(failures)} sets fail: {failures[:10]}"


def test_border_types_only_for_border_counties(rec: Recommender) -> None:
    text = ("抵边村边民安居和基础设施建设", "建设边境小康村，改善边民生产生活条件")
    assert "边境小康村建设" not in [c["name"] for c in rec.infer_project_types(*text)]  # the city: no border county
    assert "边境小康村建设" not in [c["name"] for c in rec.infer_project_types(*text, region=resolve_region("城关区"))]
    assert rec.infer_project_types(*text, region=resolve_region("亚东县"))[0]["name"] == "边境小康村建设"
    # a Lhasa-only type is not offered to a county elsewhere
    assert "拉萨河治理" not in [c["name"] for c in rec.infer_project_types("拉萨河治理", region=resolve_region("萧县"))]
    # the place named in the project's own text counts when the caller does not say where the unit is
    named = rec.recommend("亚东县抵边村边民安居工程", "建设边境小康村", amount=3_000_000)
    assert named["region"]["name"] == "亚东县" and named["project_types"][0]["name"] == "边境小康村建设"
    with pytest.raises(BadQuery):
        rec.recommend("边境村建设", region="县" * 41)
    # named explicitly where it does not apply: kept, but the unit is told
    res = rec.recommend("边境村建设", project_type="边境小康村建设", region="城关区", amount=2_000_000)
    assert res["notes"] and "边境" in res["notes"][0] and res["region"]["name"] == "城关区"


def test_type_inference_gives_the_reason_and_top3_when_unsure(rec: Recommender) -> None:
    sure = rec.recommend("党校主体班", "举办中青班、进修班等主体班次，开设党性教育课程", amount=1_640_000)
    ti = sure["type_inference"]
    assert sure["project_types"][0]["name"] == "党校主体班培训" and "主体班" in ti["reason"]
    vague = rec.recommend("专项工作经费", "保障年度重点工作开展")
    ti = vague["type_inference"]
    assert not ti["sure"] and len(ti["alternatives"]) == 3 and "前三" in ti["reason"]


def test_new_plateau_types_are_recommended_from_unit_wording(rec: Recommender) -> None:
    cases = {"机关日常运转经费": "公用经费和日常运转", "药品和医疗器械监督抽检": "药品化妆品医疗器械抽检与监管",
             "寺庙管理和僧尼培训": "宗教事务和寺庙管理", "普惠性民办幼儿园生均补助": "民办幼儿园补助",
             "内地西藏班学生送学": "内地西藏班", "雪顿节活动经费": "雪顿节和藏历新年活动",
             "人畜分离改造工程": "人畜分离", "生态岗位补助资金": "生态岗位"}
    for name, want in cases.items():
        assert rec.infer_project_types(name)[0]["name"] == want, name


def test_real_tables_type_inference(index) -> None:
    if load_real_tables() is None:
        pytest.skip("../shared/real-tables/dev_tables.json is not there (real tables are kept outside the repo)")
    res = evaluate_real_types(index)
    assert not res["stale_labels"]
    assert res["summary"]["n"] >= 20
    assert res["summary"]["top1"] >= REAL_TYPE_TOP1 and res["summary"]["top3"] >= REAL_TYPE_TOP3, res["tables"]
    from search.evaluate import REAL_THRESHOLDS
    assert res["summary"]["name_coverage"] >= REAL_THRESHOLDS["real.name_coverage"]
    # the set recommended for each real project at its real amount stays within it and passes check
    assert res["summary"]["recommend_within_amount"] == 1.0 and res["summary"]["recommend_passes_check"] == 1.0, \
        [(r["project"], r["check_score"]) for r in res["tables"] if not (r["within_amount"] and r["passes_check"])]


def test_approved_tables_give_the_unit_costs(work_app, monkeypatch) -> None:
    """Once a unit's table is approved, its unit cost is what the next recommendation plans with."""
    from engine.library import Library
    from projects_support import GOALS, ROWS, accounts, new_project
    from search.engine import build_index
    client, store = work_app
    monkeypatch.setenv("ZHIBIAO_ACCEPTANCE_TTL", "0")
    _, unit, reviewer = accounts(client)
    rec = Recommender(build_index(store), Library(store))
    first = rec.recommend("中小学教师培训", amount=1_500_000, unit="106")
    pair = first["budget"]["pairs"][0]
    assert not pair["unit_cost_source"].startswith("历史项目")
    cost = next(i for i in _rows(first) if i["name"] == pair["unit_cost"])
    rows = [r for r in ROWS if r["level2"] != "经济成本指标"] + [
        {"level1": cost["level1"], "level2": cost["level2"], "name": cost["name"], "value": "≤1200",
         "unit": cost["unit"], "basis": "历史标准"}]
    pid = new_project(client, unit)["id"]
    assert client.put(f"/projects/{pid}/targets", json={"revision": 0, "goals": GOALS, "rows": rows},
                      headers=unit).status_code == 200
    client.post(f"/projects/{pid}/submit", headers=unit)
    assert client.post(f"/projects/{pid}/approve", headers=reviewer).status_code == 200
    again = rec.recommend("中小学教师培训", amount=1_500_000, unit="106")
    pair = next(p for p in again["budget"]["pairs"] if p["unit_cost"] == cost["name"])
    assert pair["unit_cost_source"].startswith("历史项目：本单位") and pair["unit_cost_value"].startswith("1200")
    assert pair["subtotal_yuan"] <= 1_500_000
    other = rec.recommend("中小学教师培训", amount=1_500_000, unit="999")  # another unit: the city's history
    assert next(p for p in other["budget"]["pairs"] if p["unit_cost"] == cost["name"])[
        "unit_cost_source"].startswith("历史项目：全市")
