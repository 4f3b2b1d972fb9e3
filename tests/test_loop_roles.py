"""Every (role, loop endpoint, own/other unit) pair over HTTP: each forbidden pair is denied (401
anonymous, 403 not the role's action, 404 another unit's record, answered exactly like a record that
does not exist) and each allowed pair gets through (never 401/403/404, never a server error). The
expectation is written out here, not derived from engine/data/roles.yaml."""
from __future__ import annotations

from projects_support import GOALS, ROWS, work_app  # noqa: F401 (fixture)

from engine.accounts import Principal, add_user
from loop import service

PROJECT = {
    "get_appraisal": ("GET", "/projects/{pid}/appraisal"),
    "put_appraisal": ("PUT", "/projects/{pid}/appraisal"),
    "put_plan": ("PUT", "/projects/{pid}/plan"),
    "get_progress": ("GET", "/projects/{pid}/progress"),
    "post_progress": ("POST", "/projects/{pid}/progress"),
    "chart": ("GET", "/projects/{pid}/progress/chart"),
    "achievement": ("GET", "/projects/{pid}/progress/2025-06-30/achievement"),
    "get_evaluation": ("GET", "/projects/{pid}/evaluation"),
    "put_self": ("PUT", "/projects/{pid}/evaluation/self"),
    "put_review": ("PUT", "/projects/{pid}/evaluation/review"),
    "put_key": ("PUT", "/projects/{pid}/evaluation/key"),
    "adjust": ("PUT", "/budget/proposals/{pid}"),
    "explain": ("POST", "/warnings/{wid}/explanation"),
    "act": ("POST", "/warnings/{wid}/actions"),
}
OTHER = {
    "warnings": ("GET", "/warnings"),
    "proposals": ("GET", "/budget/proposals?year=2025"),
    "report": ("GET", "/reports/2025"),
    "report_xlsx": ("GET", "/reports/2025.xlsx"),
    "proposals_chart": ("GET", "/reports/2025/charts/proposals"),
}
READ = {"get_appraisal", "get_progress", "chart", "achievement", "get_evaluation"}
BUREAU = {"proposals", "report", "report_xlsx", "proposals_chart"}
ALLOWED = {
    ("unit", "own"): READ | {"put_plan", "post_progress", "put_self", "explain", "warnings"},
    ("unit", "other"): {"warnings"},     # answers, but never with the other unit's warnings
    ("reviewer", "own"): READ | {"put_appraisal", "put_review", "put_key", "adjust", "act", "warnings"} | BUREAU,
    ("reviewer", "other"): READ | {"put_appraisal", "put_review", "put_key", "adjust", "act", "warnings"} | BUREAU,
    ("maintainer", "own"): set(),
    ("maintainer", "other"): set(),
    ("admin", "own"): READ | {"warnings"} | BUREAU,
    ("admin", "other"): READ | {"warnings"} | BUREAU,
    ("anonymous", "own"): set(),
    ("anonymous", "other"): set(),
}
BODIES = {
    "put_appraisal": {"requested": 100000, "approved": 90000,
                      "scores": {"necessity": 80, "economy": 80, "target_quality": 80, "feasibility": 80},
                      "cuts": [{"amount": 10000, "reason": "压缩"}]},
    "put_plan": {"months": [8000] * 12},
    "post_progress": {"as_of": "2025-07-31", "spent": 50000, "actuals": [{"row": 0, "actual": "900"}]},
    "put_self": {"actuals": [{"row": 0, "actual": "1000"}], "spent": 90000},
    "put_review": {"score": 85, "comment": "复核"},
    "put_key": {"kind": "bureau", "scope": "project", "evaluator": "市财政局", "method": "现场核查", "score": 80,
                "findings": "基本完成", "recommendations": "继续"},
    "adjust": {"amount": 95000, "reason": "酌情"},
    "explain": {"explanation": "原因"},
    "act": {"action": "urge", "comment": "督促"},
}


def _approved(client, unit_headers: dict, reviewer: dict, unit: str) -> str:
    r = client.post("/projects", json={"name": "教师培训", "unit": unit, "year": 2025, "amount": 100000},
                    headers=unit_headers)
    pid = r.json()["id"]
    assert client.put(f"/projects/{pid}/targets", json={"revision": 0, "goals": GOALS, "rows": ROWS},
                      headers=unit_headers).status_code == 200
    assert client.post(f"/projects/{pid}/submit", headers=unit_headers).status_code == 200
    assert client.post(f"/projects/{pid}/approve", json={}, headers=reviewer).status_code == 200
    return pid


def test_every_forbidden_loop_pair_is_denied(work_app) -> None:
    client, store = work_app
    for name, role, unit in (("edu", "unit", "106"), ("police", "unit", "110"), ("rev", "reviewer", None),
                             ("mnt", "maintainer", None)):
        add_user(store, name, f"{name}-password", role, unit, "cli")

    def token(name: str, pw: str) -> dict:
        return {"Authorization": "Bearer " + client.post("/auth/token", json={"username": name, "password": pw})
                .json()["access_token"]}
    heads = {"unit": token("edu", "edu-password"), "reviewer": token("rev", "rev-password"),
             "maintainer": token("mnt", "mnt-password"), "admin": token("admin", "admin-password-1"), "anonymous": {}}
    police = token("police", "police-password")
    projects = {"own": _approved(client, heads["unit"], heads["reviewer"], "106"),
                "other": _approved(client, police, heads["reviewer"], "110")}
    warnings = {}
    for scope, unit in (("own", "106"), ("other", "110")):   # each project gets a plan, a report and a warning
        who = Principal(f"u{unit}", "unit", unit)
        service.set_plan(store, who, projects[scope], [8000] * 12)
        out = service.report_progress(store, who, projects[scope], {"as_of": "2025-06-30", "spent": 1000})
        warnings[scope] = out["warnings"][0]["id"]
        service.put_appraisal(store, Principal("rev0", "reviewer"), projects[scope], BODIES["put_appraisal"])
        service.put_review(store, Principal("rev0", "reviewer"), projects[scope], BODIES["put_review"])

    def call(role: str, scope: str, ep: str, pid: str | None = None, wid: str | None = None) -> tuple[int, dict]:
        method, path = {**PROJECT, **OTHER}[ep]
        path = path.format(pid=pid or projects[scope], wid=wid or warnings[scope])
        r = client.request(method, path, headers=heads[role], json=BODIES.get(ep))
        body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
        return r.status_code, body

    denied_wrongly, allowed_wrongly = [], []
    forbidden_pairs = 0
    for (role, scope), allowed in ALLOWED.items():
        for ep in list(PROJECT) + list(OTHER):
            status, body = call(role, scope, ep)
            assert status < 500, (role, scope, ep, status, body)
            if ep in allowed:
                if status in (401, 403, 404):
                    denied_wrongly.append((role, scope, ep, status, body))
                continue
            forbidden_pairs += 1
            expected = (401,) if role == "anonymous" else (403, 404)
            if status not in expected:
                allowed_wrongly.append((role, scope, ep, status))
            assert set(body) >= {"code", "message"}, body
            if status == 404:   # another unit's record looks exactly like no record at all
                ghost = "PRJ-0000000000"
                gs, gbody = call(role, scope, ep, pid=ghost, wid=f"WRN-{ghost}-2025-06-30-execution_deviation-x")
                assert gs == 404 and gbody["code"] == body["code"], (ep, gbody, body)
    assert not allowed_wrongly, allowed_wrongly
    assert not denied_wrongly, denied_wrongly
    assert forbidden_pairs >= 90
    # the unit's warning list never shows the other unit, whatever it asks for
    for params in ({}, {"unit": "110"}, {"project": projects["other"]}):
        listed = client.get("/warnings", params=params, headers=heads["unit"]).json()
        assert {w["unit"] for w in listed["items"]} <= {"106"}, params
