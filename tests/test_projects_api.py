"""The whole story of issue 9 over HTTP, on both stores: accounts, a project drafted, submitted,
returned with a row comment, fixed, resubmitted and approved; history, audit, diff, stale writes,
the .xlsx round trip and the 历史标准 check."""
from __future__ import annotations

from engine.accounts import add_user
from projects_support import GOALS, ROWS, accounts, login, new_project, work_app  # noqa: F401 (fixture)


def test_whole_story_over_http(work_app) -> None:
    client, store = work_app
    admin, unit, reviewer = accounts(client)
    p = new_project(client, unit)
    assert p["status"] == "draft" and p["revision"] == 0 and p["unit_name"] == "市教育局"
    assert p["project_type"] and p["project_type_source"] == "inferred"  # by the recommender
    pid = p["id"]

    r = client.put(f"/projects/{pid}/targets", json={"revision": 0, "goals": GOALS, "rows": ROWS}, headers=unit)
    assert r.status_code == 200, r.text
    t1 = r.json()
    assert t1["revision"] == 1 and len(t1["rows"]) == 6 and "score" in t1["review"]
    assert any(f["code"] for f in t1["review"]["flags"])  # 进一步提高培训质量 is flagged

    r = client.post(f"/projects/{pid}/submit", json={"revision": 1}, headers=unit)
    assert r.status_code == 200 and r.json()["status"] == "submitted", r.text

    # the queue: the reviewer sees it among submitted projects
    queue = client.get("/projects", params={"status": "submitted"}, headers=reviewer).json()
    assert [x["id"] for x in queue["items"]] == [pid]

    r = client.post(f"/projects/{pid}/return", headers=reviewer,
                    json={"comment": "质量指标不可衡量", "row_comments": [{"row": 1, "comment": "请给出可衡量的合格率"}]})
    assert r.status_code == 200 and r.json()["status"] == "returned", r.text
    table = client.get(f"/projects/{pid}/targets", headers=unit).json()
    assert table["row_comments"] == [{"row": 1, "comment": "请给出可衡量的合格率"}]

    fixed = [dict(x) for x in ROWS]
    fixed[1] = {**fixed[1], "name": "培训合格率", "value": "≥95%", "basis": "行业标准"}
    r = client.put(f"/projects/{pid}/targets", json={"revision": 1, "goals": GOALS, "rows": fixed}, headers=unit)
    assert r.status_code == 200 and r.json()["revision"] == 2, r.text
    r = client.post(f"/projects/{pid}/submit", headers=unit)
    assert r.status_code == 200 and r.json()["status"] == "resubmitted", r.text
    r = client.post(f"/projects/{pid}/approve", json={"comment": "同意"}, headers=reviewer)
    assert r.status_code == 200 and r.json()["status"] == "approved" and r.json()["approved_revision"] == 2

    events = client.get(f"/projects/{pid}/history", headers=unit).json()["events"]
    assert [(e["action"], e["from"], e["to"]) for e in events] == [
        ("create", None, "draft"), ("submit", "draft", "submitted"), ("return", "submitted", "returned"),
        ("resubmit", "returned", "resubmitted"), ("approve", "resubmitted", "approved")]
    assert [e["actor"] for e in events] == ["edu", "edu", "rev", "edu", "rev"]
    assert events[2]["row_comments"] == [{"row": 1, "comment": "请给出可衡量的合格率"}]
    assert events[1]["score"] is not None and events[4]["comment"] == "同意"

    d = client.get(f"/projects/{pid}/revisions/1/diff/2", headers=reviewer).json()
    assert d["summary"] == {"added": 1, "removed": 1, "changed": 0, "same": 5}
    assert {x["name"] for x in d["rows"] if x["change"] != "same"} == {"培训质量", "培训合格率"}

    # every write is in the audit log, with who, what and content hashes
    log = client.get("/admin/audit", params={"limit": 1000}, headers=admin).json()["items"]
    actions = [(e["actor"], e["action"]) for e in log if e["actor"] != "system" and e["actor"] != "cli"]
    assert actions == [("admin", "user.create"), ("admin", "user.create"), ("edu", "project.create"),
                       ("edu", "project.put_targets"), ("edu", "project.submit"), ("rev", "project.return"),
                       ("edu", "project.put_targets"), ("edu", "project.resubmit"), ("rev", "project.approve")]
    assert all(e["at"] and e["after"] for e in log if e["action"].startswith("project."))
    assert all(e["before"] for e in log if e["action"] in ("project.submit", "project.return", "project.approve"))

    # the approved table is frozen: a stale edit is refused, a fresh one opens revision 3 (draft again)
    r = client.put(f"/projects/{pid}/targets", json={"revision": 1, "goals": GOALS, "rows": ROWS}, headers=unit)
    assert r.status_code == 409 and r.json()["code"] == "stale_revision" and r.json()["current_revision"] == 2
    assert client.get(f"/projects/{pid}/revisions/2", headers=unit).json()["rows"][1]["name"] == "培训合格率"
    r = client.put(f"/projects/{pid}/targets", headers=unit,
                   json={"revision": 2, "goals": GOALS, "rows": fixed, "project_type": p["project_type"]})
    assert r.status_code == 200 and r.json()["revision"] == 3
    again = client.get(f"/projects/{pid}", headers=unit).json()
    assert (again["status"], again["approved_revision"], again["project_type_source"]) == ("draft", 2, "confirmed")
    events = client.get(f"/projects/{pid}/history", headers=unit).json()["events"]
    assert (events[-1]["action"], events[-1]["from"], events[-1]["to"]) == ("reopen", "approved", "draft")
    r = client.post(f"/projects/{pid}/approve", headers=reviewer)  # a draft cannot be approved: submit again
    assert r.status_code == 409 and r.json()["code"] == "wrong_status" and r.json()["current_status"] == "draft"
    assert store.version() == 1  # the library version never moved


def test_xlsx_export_reimports_to_the_same_rows(work_app) -> None:
    client, _ = work_app
    _, unit, _ = accounts(client)
    pid = new_project(client, unit)["id"]
    client.put(f"/projects/{pid}/targets", json={"revision": 0, "goals": GOALS, "rows": ROWS}, headers=unit)
    r = client.get(f"/projects/{pid}/targets.xlsx", headers=unit)
    assert r.status_code == 200 and r.content.startswith(b"PK")
    # the same file is what /targets/check/xlsx reads
    check = client.post("/targets/check/xlsx", files={"file": ("t.xlsx", r.content)})
    assert check.status_code == 200 and len(check.json()["rows"]) == len(ROWS)
    up = client.put(f"/projects/{pid}/targets/xlsx", headers=unit, data={"revision": "1"},
                    files={"file": ("t.xlsx", r.content)})
    assert up.status_code == 200, up.text
    t2 = up.json()
    assert t2["revision"] == 2 and t2["source"] == "xlsx" and t2["goals"] == GOALS
    keys = ("level1", "level2", "name", "value", "unit", "basis")
    assert [{k: row[k] for k in keys} for row in t2["rows"]] == [{k: row[k] for k in keys} for row in ROWS]
    d = client.get(f"/projects/{pid}/revisions/1/diff/2", headers=unit).json()
    assert d["summary"]["same"] == len(ROWS) and d["goals"] == []


def test_history_check_flags_a_weaker_target(work_app) -> None:
    client, _ = work_app
    _, unit, reviewer = accounts(client)
    old = new_project(client, unit, year=2024)["id"]
    client.put(f"/projects/{old}/targets", json={"revision": 0, "goals": GOALS, "rows": ROWS}, headers=unit)
    client.post(f"/projects/{old}/submit", headers=unit)
    assert client.post(f"/projects/{old}/approve", headers=reviewer).status_code == 200
    new = new_project(client, unit, year=2025)["id"]
    weaker = [dict(x) for x in ROWS]
    weaker[5] = {**weaker[5], "value": "≥85%"}       # satisfaction below 2024's ≥90%
    weaker[3] = {**weaker[3], "value": "≤1400"}      # cheaper than before: stronger, not flagged
    client.put(f"/projects/{new}/targets", json={"revision": 0, "goals": GOALS, "rows": weaker}, headers=unit)
    r = client.post(f"/projects/{new}/submit", headers=unit)
    assert r.status_code == 200
    flags = client.get(f"/projects/{new}/targets", headers=reviewer).json()["review"]["flags"]
    hist = [f for f in flags if f["code"] == "weaker_than_history"]
    assert [f["row"] for f in hist] == [5]
    assert "2024" in hist[0]["message"] and "≥90%" in hist[0]["message"]


def test_token_errors_and_concurrent_approvals(work_app) -> None:
    import threading
    client, store = work_app
    _, unit, reviewer = accounts(client)
    assert client.get("/projects").status_code == 401
    assert client.get("/projects", headers={"Authorization": "Bearer zb1.e30.AAAA"}).json()["code"] == "bad_token"
    from engine.accounts import Principal, issue_token
    expired, _ = issue_token(store, Principal("edu", "unit", "106"), ttl=-1)
    r = client.get("/projects", headers={"Authorization": f"Bearer {expired}"})
    assert r.status_code == 401 and r.json()["code"] == "token_expired"
    assert client.post("/auth/token", json={"username": "edu", "password": "wrong-password"}).status_code == 401
    add_user(store, "rev2", "rev2-password", "reviewer", None, "cli")
    reviewer2 = login(client, "rev2", "rev2-password")

    pid = new_project(client, unit)["id"]
    client.put(f"/projects/{pid}/targets", json={"revision": 0, "goals": GOALS, "rows": ROWS}, headers=unit)
    client.post(f"/projects/{pid}/submit", headers=unit)
    barrier = threading.Barrier(2)
    codes: list[int] = []

    def approve(h: dict) -> None:
        barrier.wait()
        codes.append(client.post(f"/projects/{pid}/approve", headers=h).status_code)
    threads = [threading.Thread(target=approve, args=(h,)) for h in (reviewer, reviewer2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [200, 409]
    events = client.get(f"/projects/{pid}/history", headers=unit).json()["events"]
    assert [e["action"] for e in events].count("approve") == 1


def test_approved_tables_feed_the_acceptance_criterion(work_app) -> None:
    from engine.acceptance import acceptance_scores, approved_use_counts
    client, store = work_app
    _, unit, reviewer = accounts(client)
    ind = next(n for n in store.iter_label("Indicator") if n.props.get("status") == "active")
    rows = ROWS + [{"level1": "产出指标", "level2": "数量指标", "name": ind.props["name"], "value": "≥1", "unit": "个"}]
    pids = []
    for _ in range(2):
        pid = new_project(client, unit)["id"]
        table = client.put(f"/projects/{pid}/targets", json={"revision": 0, "goals": GOALS, "rows": rows},
                           headers=unit).json()
        assert table["rows"][-1]["indicator"] == ind.id  # the row is linked to the library indicator
        client.post(f"/projects/{pid}/submit", headers=unit)
        pids.append(pid)
    assert approved_use_counts(store).get(ind.id) is None  # submitted is not approved
    client.post(f"/projects/{pids[0]}/approve", headers=reviewer)
    assert approved_use_counts(store)[ind.id] == 1
    client.post(f"/projects/{pids[1]}/approve", headers=reviewer)
    assert approved_use_counts(store)[ind.id] == 2
    assert acceptance_scores(store, ttl=0)[ind.id] == 1.0


def test_recommender_acceptance_counts_approved_use(work_app, monkeypatch) -> None:
    """An indicator kept in approved tables scores acceptance 1.0 in the next recommendation."""
    from engine.library import Library
    from search.engine import SearchService
    client, store = work_app
    monkeypatch.setenv("ZHIBIAO_ACCEPTANCE_TTL", "0")
    _, unit, reviewer = accounts(client)
    svc = SearchService(Library(store))
    items = lambda: [i for g in svc.recommend("中小学教师培训")["groups"] for i in g["indicators"]]  # noqa: E731
    before = items()
    assert before and all(i["score"]["acceptance"] == 0.0 for i in before)
    chosen = before[-1]
    rows = ROWS + [{"level1": chosen["level1"], "level2": chosen["level2"], "name": chosen["name"],
                    "value": chosen["suggested_value"] or "≥1", "unit": chosen["unit"] or ""}]
    pid = new_project(client, unit)["id"]
    client.put(f"/projects/{pid}/targets", json={"revision": 0, "goals": GOALS, "rows": rows}, headers=unit)
    client.post(f"/projects/{pid}/submit", headers=unit)
    assert client.post(f"/projects/{pid}/approve", headers=reviewer).status_code == 200
    after = {i["id"]: i["score"] for i in items()}
    assert after[chosen["id"]]["acceptance"] == 1.0
    assert after[chosen["id"]]["total"] > chosen["score"]["total"]
