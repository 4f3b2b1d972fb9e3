"""The loop on both stores: a generated year loads and its yearly report reproduces the inputs'
totals exactly; every operation is role-checked, hides other units' projects, validates, guards
and audits; warnings recomputed from the store match the pure computation."""
from __future__ import annotations

import pytest

from engine.accounts import Principal
from engine.work_errors import WorkError
from graph import GraphStore, WriteConflict
from loop import records as R
from loop import service
from loop.generate import generate_year
from loop.load import load_year
from loop.monitoring import assess

YEAR = 2025
REVIEWER = Principal("rev", "reviewer")
MAINTAINER = Principal("maint", "maintainer")


@pytest.fixture
def year_store(fresh_store: GraphStore):
    y = generate_year("test", YEAR)
    load_year(fresh_store, y)
    return fresh_store, y


def unit_of(who: str) -> Principal:
    return Principal(f"u_{who}", "unit", who)


def audit_actions(store: GraphStore, obj: str) -> list[str]:
    return [n.props["action"] for n in store.list("AuditEntry", {"object": obj}).items]


def test_generated_year_report_reproduces_the_inputs_totals(year_store) -> None:
    store, y = year_store
    rep = service.yearly_report(store, REVIEWER, YEAR)
    t = y.totals
    assert rep["projects"] == {"count": t["projects"], "units": t["units"], "amount": t["budget"]}
    m = rep["monitoring"]
    assert (m["projects"], m["units"], m["amount"]) == (t["monitored"]["projects"], t["monitored"]["units"],
                                                        t["monitored"]["amount"])
    assert m["reports"] == len(y.reports)
    e = rep["evaluation"]
    assert (e["key_evaluated"], e["key_amount"]) == (t["evaluated"]["projects"], t["evaluated"]["amount"])
    assert e["self_evaluated"] == len(y.self_evaluations) and e["reviewed"] == len(y.reviews)
    a = rep["appraisal"]
    assert (a["projects"], a["requested"], a["cut"]) == (t["appraised"]["projects"], t["appraised"]["requested"],
                                                         t["appraised"]["cut"])
    assert rep["results"]["base_amount"] == t["budget"]
    assert sum(u["base_amount"] for u in rep["units"]) == t["budget"]
    # the stored warnings are exactly those of the pure computation over the generated reports
    by_id = {p["id"]: p for p in y.projects}
    expected = sorted((w["project_id"], w["as_of"], w["kind"], w["row"]) for r in y.reports
                      for w in assess(by_id[r["project_id"]], y.plans[r["project_id"]], r)["warnings"])
    stored = sorted((w["project"], w["as_of"], w["kind"], w["row"]) for w in store.list(R.WARNING, {"year": YEAR}).items
                    for w in [w.props])
    assert stored == expected and m["warnings"] == len(expected) > 0


def test_recomputed_warnings_use_each_projects_latest_report(year_store) -> None:
    store, y = year_store
    by_id = {p["id"]: p for p in y.projects}
    latest = {}
    for r in y.reports:
        if r["project_id"] not in latest or r["as_of"] > latest[r["project_id"]]["as_of"]:
            latest[r["project_id"]] = r
    expected = sorted((w["project_id"], w["kind"], w["row"]) for pid, r in latest.items()
                      for w in assess(by_id[pid], y.plans[pid], r)["warnings"])
    got = sorted((w["project_id"], w["kind"], w["row"]) for w in service.compute_warnings(store, YEAR))
    assert got == expected


def test_loading_the_same_year_twice_is_refused(year_store) -> None:
    store, y = year_store
    with pytest.raises(WriteConflict):
        load_year(store, y)
    assert store.count(R.PROJECT) == len(y.projects)


def _fresh_project(store: GraphStore, y) -> dict:
    """A project of the generated year that has no plan yet (so the monitoring story starts clean)."""
    return next(p for p in y.projects if p["id"] not in y.plans and p["id"] not in y.appraisals)


def test_monitoring_story_with_roles_and_audit(year_store) -> None:
    store, y = year_store
    p = _fresh_project(store, y)
    owner, other = unit_of(p["unit"]), unit_of(next(u["code"] for u in y.units if u["code"] != p["unit"]))
    months = [p["amount"] // 12] * 12
    # another unit's project does not exist for it; a reviewer may not file a unit's plan
    with pytest.raises(WorkError) as e:
        service.set_plan(store, other, p["id"], months)
    assert e.value.kind == "not_found"
    with pytest.raises(WorkError) as e:
        service.set_plan(store, REVIEWER, p["id"], months)
    assert e.value.kind == "forbidden"
    with pytest.raises(WorkError) as e:
        service.report_progress(store, owner, p["id"], {"as_of": "2025-06-30", "spent": 0})
    assert e.value.code == "plan_required"
    with pytest.raises(WorkError) as e:
        service.set_plan(store, owner, p["id"], months[:11])
    assert e.value.kind == "invalid" and store.get(R.plan_id(p["id"])) is None
    plan = service.set_plan(store, owner, p["id"], months)
    assert plan["etag"] == 1 and plan["total"] == sum(months)
    # half a year planned, a quarter spent: execution deviation; core row 0 at 50%: target shortfall
    body = {"as_of": "2025-06-30", "spent": sum(months[:6]) // 2,
            "actuals": [{"row": 0, "actual": str(int(p["rows"][0]["value"].lstrip("≥")) // 2)},
                        {"row": 2, "actual": None}], "explanation": "招标延期"}
    with pytest.raises(WorkError) as e:
        service.report_progress(store, owner, p["id"], {**body, "actuals": [{"row": 99, "actual": "1"}]})
    assert e.value.code == "unknown_row" and e.value.extra["field"] == "actuals[0].row"
    out = service.report_progress(store, owner, p["id"], body)
    kinds = sorted(w["kind"] for w in out["warnings"])
    assert kinds == ["execution_deviation", "target_shortfall"]
    assert 2 in out["report"]["not_reported"]
    with pytest.raises(WorkError) as e:
        service.report_progress(store, owner, p["id"], body)
    assert e.value.code == "report_exists"
    # the unit sees its warnings only; the bureau sees them among all
    mine = service.list_warnings(store, owner, year=YEAR)
    assert {w["unit"] for w in mine["items"]} == {p["unit"]}
    assert service.list_warnings(store, owner, unit=other.unit)["total"] == 0
    everyone = service.list_warnings(store, REVIEWER, year=YEAR)
    assert everyone["total"] > mine["total"] and len(everyone["by_unit"]) > 1
    wid = next(w["id"] for w in out["warnings"] if w["kind"] == "execution_deviation")
    with pytest.raises(WorkError) as e:
        service.act_on_warning(store, owner, wid, "urge", "请加快")
    assert e.value.kind == "forbidden"
    with pytest.raises(WorkError) as e:
        service.explain_warning(store, other, wid, "不是我的")
    assert e.value.kind == "not_found"
    w = service.explain_warning(store, owner, wid, "工程招标延期两个月，已于6月完成招标")
    assert w["status"] == "explained" and w["etag"] == 2
    with pytest.raises(WorkError) as e:
        service.act_on_warning(store, REVIEWER, wid, "shout", "x")
    assert e.value.code == "unknown_action"
    w = service.act_on_warning(store, REVIEWER, wid, "urge", "督促按新计划支付")
    assert w["status"] == "acted" and w["actions"][0]["by"] == "rev"
    assert audit_actions(store, R.plan_id(p["id"])) == ["plan.write"]
    assert audit_actions(store, R.report_id(p["id"], "2025-06-30")) == ["progress.report"]
    assert sorted(audit_actions(store, wid)) == ["warning.act", "warning.explain"]
    prog = service.progress(store, REVIEWER, p["id"])
    assert [r["as_of"] for r in prog["reports"]] == ["2025-06-30"] and len(prog["curve"]["planned"]) == 12


def test_evaluation_parts_and_final_score(year_store) -> None:
    store, y = year_store
    p = next(p for p in y.projects if p["id"] not in y.self_evaluations)   # an appraised (new) project
    owner = unit_of(p["unit"])
    actuals = [{"row": r["row"], "actual": None} for r in p["rows"]]
    ev = service.put_self_evaluation(store, owner, p["id"], {"actuals": actuals, "spent": p["amount"]})
    assert ev["final_source"] == "self" and ev["self_total"] == 10.0      # nothing reported: only budget execution
    with pytest.raises(WorkError) as e:
        service.put_review(store, owner, p["id"], {"score": 90, "comment": "x"})
    assert e.value.kind == "forbidden"
    with pytest.raises(WorkError) as e:
        service.put_review(store, REVIEWER, p["id"], {"score": 120, "comment": "x"})
    assert e.value.code == "bad_score"
    ev = service.put_review(store, REVIEWER, p["id"], {"score": 72.5, "comment": "自评偏低，核实后复核"})
    assert (ev["final_score"], ev["final_source"], ev["grade"]) == (72.5, "review", "中")
    key = {"kind": "third_party", "scope": "project", "evaluator": "某会计师事务所", "method": "现场核查",
           "score": 91, "findings": "产出全部完成", "recommendations": "继续保障"}
    with pytest.raises(WorkError) as e:
        service.put_key_evaluation(store, REVIEWER, p["id"], {**key, "findings": ""})
    assert e.value.code == "bad_key_evaluation"
    ev = service.put_key_evaluation(store, REVIEWER, p["id"], key)
    assert (ev["final_score"], ev["final_source"], ev["grade"], ev["etag"]) == (91, "key", "优", 3)
    assert ev["self"]["total"] == 10.0 and ev["review"]["score"] == 72.5   # parts are kept
    assert audit_actions(store, R.evaluation_id(p["id"])) == ["evaluation.self", "evaluation.review", "evaluation.key"]
    got = service.get_evaluation(store, unit_of(p["unit"]), p["id"])
    assert got["final_score"] == 91


def test_appraisal_and_proposal_adjustment(year_store) -> None:
    store, y = year_store
    p = next(p for p in y.projects if p["id"] in y.key_evaluations)
    doc = {"requested": p["amount"], "approved": p["amount"] - 1000,
           "scores": {"necessity": 80, "economy": 80, "target_quality": 80, "feasibility": 80},
           "cuts": [{"amount": 1000, "reason": "差旅费超标准"}]}
    with pytest.raises(WorkError) as e:
        service.put_appraisal(store, unit_of(p["unit"]), p["id"], doc)
    assert e.value.kind == "forbidden"
    with pytest.raises(WorkError) as e:
        service.put_appraisal(store, REVIEWER, p["id"], {**doc, "cuts": []})
    assert e.value.code == "cuts_do_not_add_up"
    a = service.put_appraisal(store, REVIEWER, p["id"], doc)
    assert (a["cut"], a["conclusion"], a["etag"]) == (1000, "予以支持", 1)
    assert service.get_appraisal(store, unit_of(p["unit"]), p["id"])["approved"] == p["amount"] - 1000
    before = service.proposals(store, REVIEWER, YEAR)
    mine = next(x for x in before["projects"] if x["project_id"] == p["id"])
    with pytest.raises(WorkError) as e:
        service.adjust_proposal(store, REVIEWER, p["id"], {"amount": 5, "reason": " "})
    assert e.value.code == "reason_required"
    adj = service.adjust_proposal(store, REVIEWER, p["id"], {"amount": mine["proposed_amount"] + 1_000_000,
                                                            "reason": "重点民生项目，适当增加"})
    assert adj["final_amount"] == mine["proposed_amount"] + 1_000_000 and adj["adjust_reason"]
    after = service.proposals(store, REVIEWER, YEAR)
    assert after["city"]["final_amount"] == before["city"]["final_amount"] + mine["proposed_amount"] + 1_000_000 \
        - mine["final_amount"]
    with pytest.raises(WorkError) as e:            # units do not read the bureau's proposals
        service.proposals(store, unit_of(p["unit"]), YEAR)
    assert e.value.kind == "forbidden"
    with pytest.raises(WorkError) as e:
        service.yearly_report(store, MAINTAINER, YEAR)
    assert e.value.kind == "forbidden"
    assert audit_actions(store, R.proposal_id(p["id"], YEAR + 1)) == ["proposal.adjust"]


def test_library_version_does_not_move(year_store) -> None:
    store, _ = year_store
    assert store.version() == 0 and store.snapshot()[1] == []


def test_evaluation_parts_written_at_once_are_all_kept(year_store) -> None:
    """Self-evaluation, review and key evaluation written by three threads at the same moment: each
    guarded write re-reads and re-applies its part, so none is lost."""
    import threading
    store, y = year_store
    p = next(p for p in y.projects if p["id"] not in y.self_evaluations)
    owner = unit_of(p["unit"])
    key = {"kind": "bureau", "scope": "spending_standard", "standard": "STD-TRAIN-DAY", "evaluator": "市财政局",
           "method": "标准测算对比", "score": 66, "findings": "定额偏高", "recommendations": "下调定额"}
    jobs = [lambda: service.put_self_evaluation(store, owner, p["id"], {"actuals": [], "spent": p["amount"]}),
            lambda: service.put_review(store, REVIEWER, p["id"], {"score": 81, "comment": "复核"}),
            lambda: service.put_key_evaluation(store, REVIEWER, p["id"], key)]
    errors: list[BaseException] = []
    start = threading.Barrier(len(jobs))

    def run(job) -> None:
        start.wait()
        try:
            job()
        except BaseException as e:   # noqa: BLE001 - reported by the assertion below
            errors.append(e)
    threads = [threading.Thread(target=run, args=(j,)) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    ev = service.get_evaluation(store, REVIEWER, p["id"])
    assert ev["etag"] == 3 and ev["self"] and ev["review"]["score"] == 81
    assert ev["key"]["standard"] == {"code": "STD-TRAIN-DAY", "name": "培训费（综合定额）"}
    assert (ev["final_score"], ev["final_source"]) == (66, "key")
    assert audit_actions(store, R.evaluation_id(p["id"])).count("evaluation.key") == 1
