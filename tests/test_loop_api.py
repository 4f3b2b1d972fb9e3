"""The loop over HTTP on both stores: a project approved through the projects workflow is
appraised, planned, monitored (warnings raised, explained and acted on), evaluated (self, review,
key), gets its budget proposal adjusted and appears in the yearly report, .xlsx and charts; every
write is role-checked and lands in the audit log."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from engine.accounts import add_user
from graph import GraphStore

ADMIN_PW = "admin-password-1"
ROWS = [
    {"level1": "产出指标", "level2": "数量指标", "name": "培训人次", "value": "≥1000", "unit": "人次", "basis": "计划标准"},
    {"level1": "产出指标", "level2": "时效指标", "name": "培训完成时间", "value": "2025年12月31日前", "unit": "", "basis": "计划标准"},
    {"level1": "成本指标", "level2": "经济成本指标", "name": "人均培训成本", "value": "≤1500", "unit": "元/人", "basis": "计划标准"},
    {"level1": "效益指标", "level2": "社会效益指标", "name": "参训教师教学能力提升率", "value": "≥80%", "unit": "", "basis": "历史标准"},
    {"level1": "满意度指标", "level2": "服务对象满意度指标", "name": "参训教师满意度", "value": "≥90%", "unit": "", "basis": "历史标准"},
]
GOALS = {"period": "三年培训教师3000人次", "annual": "年内培训教师1000人次，培训合格率≥90%"}
AMOUNT = 1_200_000


@pytest.fixture
def client_store(fresh_store: GraphStore, mini_library: Path):
    from api.app import create_app
    from loaders import load_file
    load_file(mini_library, fresh_store)
    with TestClient(create_app(store=fresh_store, seed=False)) as client:
        add_user(fresh_store, "admin", ADMIN_PW, "admin", None, "cli")
        yield client, fresh_store


def login(client: TestClient, name: str, password: str) -> dict[str, str]:
    r = client.post("/auth/token", json={"username": name, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def ok(r, status: int = 200) -> dict:
    assert r.status_code == status, r.text
    return r.json()


def refused(r, status: int, code: str | None = None) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) >= {"code", "message"} and (code is None or body["code"] == code), body


def test_the_loop_over_http(client_store) -> None:
    client, store = client_store
    admin = login(client, "admin", ADMIN_PW)
    other_code = next(u["code"] for u in ok(client.get("/units"))["items"] if u["code"] != "106")
    for body in ({"username": "edu", "password": "edu-password", "role": "unit", "unit": "106"},
                 {"username": "oth", "password": "oth-password", "role": "unit", "unit": other_code},
                 {"username": "rev", "password": "rev-password", "role": "reviewer"}):
        ok(client.post("/admin/users", json=body, headers=admin), 201)
    unit, other, rev = (login(client, n, f"{n}-password") for n in ("edu", "oth", "rev"))

    # a project approved through the projects workflow
    pid = ok(client.post("/projects", json={"name": "中小学教师培训", "unit": "106", "year": 2025, "amount": AMOUNT,
                                            "sector": "教育"}, headers=unit), 201)["id"]
    ok(client.put(f"/projects/{pid}/targets", json={"revision": 0, "goals": GOALS, "rows": ROWS}, headers=unit))
    ok(client.post(f"/projects/{pid}/submit", json={"revision": 1}, headers=unit))
    ok(client.post(f"/projects/{pid}/approve", json={"comment": "同意"}, headers=rev))

    # no token: 401; appraisal by the reviewer only; other units see nothing
    refused(client.get(f"/projects/{pid}/appraisal"), 401)
    appraisal = {"requested": AMOUNT, "approved": 1_000_000,
                 "scores": {"necessity": 90, "economy": 70, "target_quality": 85, "feasibility": 80},
                 "cost_items": [{"name": "教师培训", "standard": "STD-TRAIN-DAY", "quantity": 2000, "unit_cost": 600}],
                 "cuts": [{"amount": 200_000, "reason": "培训费超过综合定额 450 元/人·天，按标准核减"}]}
    refused(client.put(f"/projects/{pid}/appraisal", json=appraisal, headers=unit), 403, "forbidden")
    refused(client.put(f"/projects/{pid}/appraisal", json={**appraisal, "cuts": []}, headers=rev), 422,
            "cuts_do_not_add_up")
    without = {**appraisal, "scores": {k: v for k, v in appraisal["scores"].items() if k != "target_quality"}}
    a = ok(client.put(f"/projects/{pid}/appraisal", json=without, headers=rev))
    table_score = ok(client.get(f"/projects/{pid}/targets", headers=rev))["review"]["score"]
    assert a["dimensions"]["target_quality"]["score"] == table_score     # the target review's score by default
    a = ok(client.put(f"/projects/{pid}/appraisal", json=appraisal, headers=rev))
    assert a["cut"] == 200_000 and a["flags"][0]["code"] == "over_standard" and a["etag"] == 2
    assert ok(client.get(f"/projects/{pid}/appraisal", headers=unit))["approved"] == 1_000_000
    refused(client.get(f"/projects/{pid}/appraisal", headers=other), 404, "project_not_found")

    # monitoring: plan, a report half a year in, 25 points behind and a core target at 50%
    months = [100_000] * 12
    refused(client.put(f"/projects/{pid}/plan", json={"months": months}, headers=rev), 403)
    refused(client.put(f"/projects/{pid}/plan", json={"months": months}, headers=other), 404)
    refused(client.put(f"/projects/{pid}/plan", json={"months": months[:11]}, headers=unit), 422)
    ok(client.put(f"/projects/{pid}/plan", json={"months": months}, headers=unit))
    report = {"as_of": "2025-06-30", "spent": 300_000, "explanation": "培训场地改造延误",
              "actuals": [{"row": 0, "actual": "500"}, {"row": 1, "actual": None}]}
    refused(client.post(f"/projects/{pid}/progress", json={**report, "as_of": "30/06/2025"}, headers=unit), 422)
    refused(client.post(f"/projects/{pid}/progress", json=report, headers=rev), 403)
    out = ok(client.post(f"/projects/{pid}/progress", json=report, headers=unit), 201)
    assert sorted(w["kind"] for w in out["warnings"]) == ["execution_deviation", "target_shortfall"]
    assert out["report"]["execution"]["deviation_pts"] == -25.0
    refused(client.post(f"/projects/{pid}/progress", json=report, headers=unit), 409, "report_exists")
    assert ok(client.get("/warnings", headers=other))["total"] == 0
    mine = ok(client.get("/warnings", params={"year": 2025}, headers=unit))
    assert mine["total"] == 2 and mine["by_unit"][0]["unit"] == "106"
    wid = mine["items"][0]["id"]
    refused(client.post(f"/warnings/{wid}/explanation", json={"explanation": "x"}, headers=other), 404)
    assert ok(client.post(f"/warnings/{wid}/explanation", json={"explanation": "场地7月交付"},
                          headers=unit))["status"] == "explained"
    refused(client.post(f"/warnings/{wid}/actions", json={"action": "urge", "comment": "x"}, headers=unit), 403)
    assert ok(client.post(f"/warnings/{wid}/actions", json={"action": "urge", "comment": "督促按新计划执行"},
                          headers=rev))["status"] == "acted"
    chart = client.get(f"/projects/{pid}/progress/chart", params={"format": "svg"}, headers=rev)
    assert chart.status_code == 200 and chart.headers["content-type"].startswith("image/svg+xml")
    assert chart.text.startswith("<svg") and "计划" in chart.text
    bars = ok(client.get(f"/projects/{pid}/progress/2025-06-30/achievement", headers=unit))
    assert [b["rate"] for b in bars["bars"]][:2] == [50.0, None]

    # evaluation: the unit's self-evaluation, the bureau's review, a third-party key evaluation
    actuals = [{"row": 0, "actual": "1000"}, {"row": 1, "actual": "2025-12-20"}, {"row": 2, "actual": "1400"},
               {"row": 3, "actual": "85%"}, {"row": 4, "actual": "92%"}]
    ev = ok(client.put(f"/projects/{pid}/evaluation/self", json={"actuals": actuals, "spent": 1_140_000}, headers=unit))
    assert ev["self_total"] == 99.5 and ev["grade"] == "优"   # all targets met, 95% of the budget spent
    refused(client.put(f"/projects/{pid}/evaluation/review", json={"score": 80, "comment": "x"}, headers=unit), 403)
    ok(client.put(f"/projects/{pid}/evaluation/review", json={"score": 78, "comment": "资料不全，酌减"}, headers=rev))
    key = {"kind": "third_party", "scope": "project", "evaluator": "某会计师事务所", "method": "现场核查与问卷",
           "score": 68, "findings": "执行滞后", "recommendations": "压减下年预算"}
    ev = ok(client.put(f"/projects/{pid}/evaluation/key", json=key, headers=rev))
    assert (ev["final_score"], ev["final_source"], ev["grade"]) == (68, "key", "中")

    # results: 68 falls in the 60–69 band (cut 20%); the reviewer raises it with a reason
    prop = ok(client.get("/budget/proposals", params={"year": 2025}, headers=rev))
    mine = next(p for p in prop["projects"] if p["project_id"] == pid)
    assert (mine["band"], mine["proposed_amount"]) == ("D", 960_000)
    refused(client.get("/budget/proposals", params={"year": 2025}, headers=unit), 403)
    refused(client.put(f"/budget/proposals/{pid}", json={"amount": 1_000_000, "reason": ""}, headers=rev), 422)
    adj = ok(client.put(f"/budget/proposals/{pid}", json={"amount": 1_000_000, "reason": "整改到位，少压一点"}, headers=rev))
    assert adj["final_amount"] == 1_000_000

    # the yearly report, its workbook and a chart
    rep = ok(client.get("/reports/2025", headers=rev))
    assert rep["monitoring"]["projects"] == 1 and rep["monitoring"]["amount"] == AMOUNT
    assert rep["appraisal"]["cut"] == 200_000 and rep["results"]["final_amount"] == 1_000_000
    refused(client.get("/reports/2025", headers=unit), 403)
    x = client.get("/reports/2025.xlsx", headers=rev)
    assert x.status_code == 200
    from openpyxl import load_workbook
    wb = load_workbook(io.BytesIO(x.content))
    assert wb.sheetnames[:3] == ["总览", "事前评估", "运行监控"] and wb["预警"].max_row == 3
    svg = client.get("/reports/2025/charts/proposals", params={"format": "svg"}, headers=rev)
    assert svg.status_code == 200 and svg.text.startswith("<svg")

    # every write is in the audit log
    actions = [e["action"] for e in ok(client.get("/admin/audit", params={"limit": 500}, headers=admin))["items"]]
    for a in ("appraisal.write", "plan.write", "progress.report", "warning.explain", "warning.act", "evaluation.self",
              "evaluation.review", "evaluation.key", "proposal.adjust"):
        assert a in actions, a
