"""The loop's pure computations: achievement at the edges, the two warnings, self-evaluation
scoring, tiered budget proposals (and a changed rules file), appraisal checks, the generated year."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from loop.achievement import achievement
from loop.appraisal import appraise, summary
from loop.budget import apply_rate, propose
from loop.config import DATA_DIR, read_rules, rules
from loop.errors import LoopInputError
from loop.evaluation import final_score, grade_of, self_evaluation
from loop.generate import generate_year, split_total
from loop.monitoring import assess, check_plan

PLAN = [100_000] * 10 + [0, 0]          # 1,000,000 元 a year, all planned by October


def project(rows: list[dict] | None = None, amount: int = 1_000_000) -> dict:
    return {"id": "P1", "unit": "U1", "year": 2025, "amount": amount, "rows": rows or []}


def row(n: int, value: str, level2: str = "数量指标", level1: str = "产出指标", unit: str | None = None, **kw) -> dict:
    return {"row": n, "level1": level1, "level2": level2, "name": f"指标{n}", "value": value, "unit": unit, **kw}


def kinds(result: dict) -> list[str]:
    return [w["kind"] for w in result["warnings"]]


# --- execution deviation: strictly more than 10 points -------------------------------------------
@pytest.mark.parametrize("spent, warned", [(601_000, True), (599_000, False), (600_000, False),
                                          (399_000, True), (401_000, False)])
def test_execution_deviation_edges(spent: int, warned: bool) -> None:
    # as of 31 May the plan is 500,000 (50%): 60.1% deviates by 10.1 points, 59.9% by 9.9, 60% by exactly 10
    res = assess(project(), PLAN, {"as_of": "2025-05-31", "spent": spent})
    assert res["execution"]["planned_pct"] == 50.0
    assert ("execution_deviation" in kinds(res)) is warned
    if warned:
        assert abs(res["warnings"][0]["measure"]) == 10.1


# --- target shortfall: a core target strictly below 80% -----------------------------------------
@pytest.mark.parametrize("actual, warned", [("79.9", True), ("80", False), ("80.0", False), (76, False)])
def test_target_shortfall_edges(actual: object, warned: bool) -> None:
    target = "≥95" if actual == 76 else "≥100"       # 76 / 95 is exactly 80%
    res = assess(project([row(1, target, unit="个")]), PLAN,
                 {"as_of": "2025-05-31", "spent": 500_000, "actuals": [{"row": 1, "actual": actual}]})
    assert ("target_shortfall" in kinds(res)) is warned
    assert res["targets"][0]["rate"] == (79.9 if warned else 80.0)


def test_at_most_target_below_plan_is_achieved() -> None:
    res = assess(project([row(1, "≤500万元", level2="经济成本指标", level1="成本指标", core=True)]), PLAN,
                 {"as_of": "2025-05-31", "spent": 500_000, "actuals": [{"row": 1, "actual": "420万元"}]})
    assert res["targets"][0]["status"] == "achieved" and res["targets"][0]["rate"] == 100.0
    assert res["warnings"] == []
    over = achievement("≤500万元", "6000000元")      # 600万 against a 500万 cap: 83.3%
    assert over.status == "partial" and over.rate == 83.3333


def test_missing_actual_is_not_reported_not_a_shortfall() -> None:
    res = assess(project([row(1, "≥100", unit="个")]), PLAN, {"as_of": "2025-05-31", "spent": 500_000, "actuals": []})
    assert res["targets"][0]["status"] == "not_reported" and res["targets"][0]["rate"] is None
    assert res["warnings"] == [] and res["not_reported"] == [1]
    assert achievement("≥95%", "").status == "not_reported"


def test_non_core_targets_raise_no_shortfall() -> None:
    rows = [row(1, "≥90%", level2="服务对象满意度指标", level1="满意度指标")]
    res = assess(project(rows), PLAN, {"as_of": "2025-05-31", "spent": 500_000, "actuals": [{"row": 1, "actual": "50%"}]})
    assert res["targets"][0]["core"] is False and res["warnings"] == []
    rows[0]["core"] = True          # a row marked core by the unit counts
    res = assess(project(rows), PLAN, {"as_of": "2025-05-31", "spent": 500_000, "actuals": [{"row": 1, "actual": "50%"}]})
    assert kinds(res) == ["target_shortfall"]


@pytest.mark.parametrize("target, actual, status, rate", [
    ("2025年12月31日前", "2025-11-20", "achieved", 100.0),
    ("2025年12月31日前", "2026-01-05", "not_achieved", 0.0),
    ("12月31日前", "2025-12-31", "achieved", 100.0),
    ("良", "优", "achieved", 100.0),
    ("良", "中", "partial", 66.6667),
    ("优良", "良", "achieved", 100.0),
    ("达到国家二级标准", "达到", "achieved", 100.0),
    ("10辆", "未完成", "not_achieved", 0.0),
    ("90%-95%", "92%", "achieved", 100.0),
    ("≥95%", "良", "not_comparable", None),
    ("有效提升群众满意度", "90%", "not_measurable", None),
])
def test_achievement_kinds(target: str, actual: str, status: str, rate: float | None) -> None:
    a = achievement(target, actual, year=2025)
    assert (a.status, a.rate) == (status, rate), a.reason


def test_thresholds_are_data(tmp_path: Path) -> None:
    th = yaml.safe_load((DATA_DIR / "thresholds.yaml").read_text(encoding="utf-8"))
    th["execution_deviation"]["max_points"] = 5
    res = assess(project(), PLAN, {"as_of": "2025-05-31", "spent": 560_000}, th)
    assert kinds(res) == ["execution_deviation"]


def test_bad_plan_is_refused_with_its_place() -> None:
    with pytest.raises(LoopInputError) as e:
        check_plan([100] * 11, 1000)
    assert e.value.code == "bad_plan"
    with pytest.raises(LoopInputError) as e:
        check_plan([100] * 5 + [-1] + [0] * 6, 1000)
    assert e.value.field == "plan[5]"
    with pytest.raises(LoopInputError) as e:
        check_plan([100] * 12, 1000)
    assert e.value.code == "plan_over_budget"


# --- self-evaluation --------------------------------------------------------------------------
def test_self_evaluation_national_weights() -> None:
    rows = [row(1, "≥100", unit="个"), row(2, "≥95%", level2="质量指标"),
            row(3, "≥90%", level2="社会效益指标", level1="效益指标"),
            row(4, "≥90%", level2="服务对象满意度指标", level1="满意度指标")]
    actuals = [{"row": 1, "actual": "50"}, {"row": 2, "actual": "95%"}, {"row": 3, "actual": "90%"},
               {"row": 4, "actual": None}]
    r = self_evaluation(project(rows), actuals, spent=800_000)
    # 产出 50: row 1 half (12.5 of 25) + row 2 full (25); 效益 30 full; 满意度 not reported: 0; 执行率 80% of 10
    assert r["groups"]["output"]["score"] == 37.5
    assert r["groups"]["benefit"]["score"] == 30
    assert r["groups"]["satisfaction"]["score"] == 0
    assert r["groups"]["budget_execution"]["score"] == 8
    assert r["total"] == 75.5 and r["grade"] == "中"


def test_empty_group_points_are_redistributed_and_manual_rate_used() -> None:
    rows = [row(1, "按要求完成", level2="质量指标")]
    r = self_evaluation(project(rows), [{"row": 1, "actual": "完成", "rate": 60}], spent=1_000_000)
    # only 产出 (50) and 执行率 (10) have rows: scaled to 100 → 83.3333 and 16.6667
    assert r["groups"]["output"]["points"] == 83.3333
    assert r["rows"][0]["rate_source"] == "evaluator" and r["rows"][0]["rate"] == 60
    assert r["total"] == round(83.3333 * 0.6 + 16.6667, 2)


def test_grades_and_final_score_precedence() -> None:
    assert [grade_of(s) for s in (90, 89.99, 80, 60, 59.9)] == ["优", "良", "良", "中", "差"]
    assert final_score(70, 82, None) == (82, "review")
    assert final_score(70, 82, 91) == (91, "key")
    assert final_score(70, None, None) == (70, "self")
    assert final_score(None, None, None) == (None, None)


# --- tiered proposals ---------------------------------------------------------------------------
SCORES = [("A", "U1", 1_000_000, 95), ("B", "U1", 2_000_000, 85), ("C", "U2", 3_000_000, 75),
          ("D", "U2", 4_000_000, 65), ("E", "U3", 5_000_000, 50), ("F", "U3", 1_000_001, None)]


def _items() -> list[dict]:
    return [{"project_id": p, "unit": u, "amount": a, "score": s} for p, u, a, s in SCORES]


def test_tiered_rules_give_the_expected_proposal() -> None:
    out = propose(_items())
    got = {p["project_id"]: (p["action"], p["proposed_amount"]) for p in out["projects"]}
    assert got == {"A": ("increase", 1_050_000), "B": ("keep", 2_000_000), "C": ("cut", 2_700_000),
                   "D": ("cut", 3_200_000), "E": ("stop", 0), "F": ("keep", 1_000_001)}
    units = {u["unit"]: u["change"] for u in out["units"]}
    assert units == {"U1": 50_000, "U2": -1_100_000, "U3": -5_000_000}
    assert out["city"]["change"] == -6_050_000 and out["city"]["base_amount"] == 16_000_001


def test_a_changed_rules_file_changes_the_proposal_without_code(tmp_path: Path, monkeypatch) -> None:
    doc = yaml.safe_load((DATA_DIR / "budget_rules.yaml").read_text(encoding="utf-8"))
    doc["bands"][2]["rate_pct"] = -15          # 70–79: cut 15% instead of 10%
    doc["bands"][4] = {"band": "E", "min": 0, "action": "cut", "rate_pct": -50, "label": "差：压减 50%"}
    (tmp_path / "budget_rules.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("ZHIBIAO_LOOP_DATA", str(tmp_path))
    assert rules("budget_rules")["bands"][2]["rate_pct"] == -15
    got = {p["project_id"]: (p["action"], p["proposed_amount"]) for p in propose(_items())["projects"]}
    assert got["C"] == ("cut", 2_550_000) and got["E"] == ("cut", 2_500_000)
    assert got["A"] == ("increase", 1_050_000)
    monkeypatch.delenv("ZHIBIAO_LOOP_DATA")
    assert {p["project_id"]: p["proposed_amount"] for p in propose(_items())["projects"]}["C"] == 2_700_000


def test_adjusted_amount_counts_in_the_totals() -> None:
    items = _items()
    items[4].update(adjusted_amount=4_000_000, adjust_reason="民生兜底项目，保留八成")
    out = propose(items)
    e = next(p for p in out["projects"] if p["project_id"] == "E")
    assert e["proposed_amount"] == 0 and e["final_amount"] == 4_000_000
    assert out["city"]["change"] == -2_050_000


def test_rounding_is_half_up_to_the_yuan() -> None:
    assert apply_rate(15, -10) == 14 and apply_rate(25, -10) == 23 and apply_rate(5, -10) == 5   # 13.5→14, 22.5→23, 4.5→5


def test_rules_file_must_be_a_mapping(tmp_path: Path) -> None:
    bad = tmp_path / "budget_rules.yaml"
    bad.write_text("- 1\n- 2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="YAML 映射"):
        read_rules(bad)


# --- appraisal --------------------------------------------------------------------------------
APPRAISAL = {"requested": 2_000_000, "approved": 1_500_000,
             "scores": {"necessity": 90, "economy": 70, "target_quality": 80, "feasibility": 85},
             "cost_items": [{"name": "校舍维修", "standard": "STD-SCHOOL-REPAIR", "quantity": 1000, "unit_cost": 1500},
                            {"name": "第三方评价", "standard": "STD-EVAL", "quantity": 1, "unit_cost": 100000}],
             "cuts": [{"amount": 300_000, "reason": "单价超标准部分核减"}, {"amount": 200_000, "reason": "压缩非必要内容"}]}


def test_appraisal_checks_standards_and_cuts() -> None:
    a = appraise(APPRAISAL)
    assert a["cut"] == 500_000 and a["cut_rate_pct"] == 25.0
    assert a["score"] == round((90 * 30 + 70 * 25 + 80 * 25 + 85 * 20) / 100, 2) and a["conclusion"] == "予以支持"
    assert [f["code"] for f in a["flags"]] == ["over_standard", "requested_above_implied"]
    assert a["flags"][0]["excess_yuan"] == 300_000.0 and a["implied_amount"] == 1_600_000


@pytest.mark.parametrize("change, code", [
    ({"cuts": [{"amount": 500_000, "reason": " "}]}, "reason_required"),
    ({"cuts": [{"amount": 400_000, "reason": "x"}]}, "cuts_do_not_add_up"),
    ({"approved": 3_000_000}, "approved_over_requested"),
    ({"scores": {"necessity": 101}}, "bad_score"),
    ({"cost_items": [{"name": "x", "standard": "NOPE", "quantity": 1, "unit_cost": 1}]}, "unknown_standard"),
    ({"requested": -1}, "bad_amount"),
])
def test_bad_appraisal_is_refused(change: dict, code: str) -> None:
    with pytest.raises(LoopInputError) as e:
        appraise({**APPRAISAL, **change})
    assert e.value.code == code


# --- the generated year -------------------------------------------------------------------------
def test_split_total_is_exact() -> None:
    parts = split_total(4_440_000_000, [1.3, 0.2, 7, 0.01, 2.5])
    assert sum(parts) == 4_440_000_000 and all(p >= 0 for p in parts)


def test_generated_test_year_has_its_declared_shape() -> None:
    y = generate_year("test")
    t = y.totals
    mon = [p for p in y.projects if p["id"] in y.plans]
    assert len(y.units) == t["units"] and len(y.projects) == t["projects"]
    assert (len(mon), len({p["unit"] for p in mon}), sum(p["amount"] for p in mon)) == \
        (t["monitored"]["projects"], t["monitored"]["units"], t["monitored"]["amount"])
    assert len(y.key_evaluations) == t["evaluated"]["projects"]
    s = summary([appraise(d) for d in y.appraisals.values()])
    assert (s["projects"], s["requested"], s["cut"]) == (6, 20_200_000, 6_800_000)
    assert {p["unit"] for p in y.projects} == {u["code"] for u in y.units}   # every unit has a project
    assert generate_year("test").projects == y.projects                     # deterministic


def test_full_year_matches_the_2025_figures() -> None:
    y = generate_year("full")
    mon = [p for p in y.projects if p["id"] in y.plans]
    assert (len(y.units), len(y.projects), len(mon), len({p["unit"] for p in mon})) == (130, 900, 92, 25)
    assert sum(p["amount"] for p in mon) == 4_440_000_000
    assert sum(p["amount"] for p in y.projects if p["id"] in y.key_evaluations) == 3_764_000_000
    s = summary([appraise(d) for d in y.appraisals.values()])
    assert (s["projects"], s["requested"], s["cut"]) == (41, 202_000_000, 68_000_000)
    assert round(s["cut_rate_pct"]) == 34
