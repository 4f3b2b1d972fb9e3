"""Every (role, endpoint, own/other unit) pair of the work API: each forbidden pair is denied
(401 anonymous, 403 not the role's action, 404 another unit's project, answered exactly like a
project that does not exist), and each allowed pair gets through the policy (any answer but
401/403/404 and never a server error). The expectation is written out here, not derived from
engine/data/roles.yaml, so the test checks the policy file instead of repeating it."""
from __future__ import annotations

import io
from pathlib import Path

from fastapi.testclient import TestClient

from engine.accounts import add_user
from engine.target_xlsx import write_workbook

from projects_support import GOALS, ROWS, work_app  # noqa: F401 (fixture)

PROJECT_ENDPOINTS = {
    "get": ("GET", "/projects/{pid}"),
    "put_targets": ("PUT", "/projects/{pid}/targets"),
    "put_xlsx": ("PUT", "/projects/{pid}/targets/xlsx"),
    "get_targets": ("GET", "/projects/{pid}/targets"),
    "export_xlsx": ("GET", "/projects/{pid}/targets.xlsx"),
    "revisions": ("GET", "/projects/{pid}/revisions"),
    "revision": ("GET", "/projects/{pid}/revisions/1"),
    "diff": ("GET", "/projects/{pid}/revisions/1/diff/2"),
    "history": ("GET", "/projects/{pid}/history"),
    "submit": ("POST", "/projects/{pid}/submit"),
    "return": ("POST", "/projects/{pid}/return"),
    "approve": ("POST", "/projects/{pid}/approve"),
}
OTHER_ENDPOINTS = {
    "list": ("GET", "/projects"),
    "create": ("POST", "/projects"),
    "add_user": ("POST", "/admin/users"),
    "list_users": ("GET", "/admin/users"),
    "audit": ("GET", "/admin/audit"),
    "library_load": ("POST", "/library/loads"),
    "units_load": ("POST", "/units/loads"),
    "me": ("GET", "/auth/me"),
}
READ = {"get", "get_targets", "export_xlsx", "revisions", "revision", "diff", "history"}
# what each role may do, on its own unit (own) and on another unit (other)
ALLOWED = {
    ("unit", "own"): READ | {"put_targets", "put_xlsx", "submit", "list", "create", "me"},
    ("unit", "other"): {"list", "me"},   # the listing answers, but never with the other unit's projects
    ("reviewer", "own"): READ | {"return", "approve", "list", "me"},
    ("reviewer", "other"): READ | {"return", "approve", "list", "me"},
    ("maintainer", "own"): {"library_load", "units_load", "me"},
    ("maintainer", "other"): {"library_load", "units_load", "me"},
    ("admin", "own"): {"add_user", "list_users", "audit", "me"},
    ("admin", "other"): {"add_user", "list_users", "audit", "me"},
    ("anonymous", "own"): set(),
    ("anonymous", "other"): set(),
}


def _project(client: TestClient, headers: dict, unit: str) -> str:
    r = client.post("/projects", json={"name": "教师培训", "unit": unit, "year": 2025, "amount": 100000},
                    headers=headers)
    pid = r.json()["id"]
    for rev in (0, 1):
        assert client.put(f"/projects/{pid}/targets", json={"revision": rev, "goals": GOALS, "rows": ROWS},
                          headers=headers).status_code == 200
    assert client.post(f"/projects/{pid}/submit", headers=headers).status_code == 200
    return pid


def test_every_forbidden_pair_is_denied(work_app, mini_library: Path, tmp_path: Path) -> None:
    client, store = work_app
    for name, role, unit in (("edu", "unit", "106"), ("police", "unit", "110"), ("rev", "reviewer", None),
                             ("mnt", "maintainer", None)):
        add_user(store, name, f"{name}-password", role, unit, "cli")

    def token(name: str, pw: str) -> dict:
        return {"Authorization": "Bearer " + client.post("/auth/token", json={"username": name, "password": pw})
                .json()["access_token"]}
    heads = {"unit": token("edu", "edu-password"), "reviewer": token("rev", "rev-password"),
             "maintainer": token("mnt", "mnt-password"), "admin": token("admin", "admin-password-1"), "anonymous": {}}
    projects = {"own": _project(client, heads["unit"], "106"),
                "other": _project(client, token("police", "police-password"), "110")}
    units_csv = tmp_path / "units.csv"
    units_csv.write_text("单位编码,单位名称,主管部门,行业\n106,市教育局,市教育局,205\n110,市公安局,市公安局,204\n",
                         encoding="utf-8")
    xlsx = write_workbook({"name": "教师培训", "year": 2025, "amount": 100000}, {"goals": GOALS, "rows": ROWS,
                                                                            "revision": 1}, "市教育局")

    def call(role: str, scope: str, ep: str, pid: str | None = None) -> tuple[int, dict]:
        method, path = {**PROJECT_ENDPOINTS, **OTHER_ENDPOINTS}[ep]
        path = path.format(pid=pid or projects[scope])
        unit = "106" if scope == "own" else "110"
        kw: dict = {"headers": heads[role]}
        current = store.get(projects[scope]).props["revision"]
        if ep == "put_targets":
            kw["json"] = {"revision": current, "goals": GOALS, "rows": ROWS}
        elif ep == "put_xlsx":
            kw["data"] = {"revision": str(current)}
            kw["files"] = {"file": ("t.xlsx", io.BytesIO(xlsx))}
        elif ep == "return":
            kw["json"] = {"comment": "请修改", "row_comments": [{"row": 0, "comment": "值太低"}]}
        elif ep == "create":
            kw["json"] = {"name": "新项目", "unit": unit, "year": 2026, "amount": 1000}
        elif ep == "add_user":
            kw["json"] = {"username": f"u{len(seen)}", "password": "password-123", "role": "reviewer"}
        elif ep == "library_load":
            kw["files"] = {"file": ("mini.json", mini_library.read_bytes())}
        elif ep == "units_load":
            kw["files"] = {"file": ("units.csv", units_csv.read_bytes())}
            kw["params"] = {"dry_run": "true"}
        r = client.request(method, path, **kw)
        body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
        return r.status_code, body

    seen: list[tuple] = []
    denied_wrongly, allowed_wrongly = [], []
    forbidden_pairs = 0
    for (role, scope), allowed in ALLOWED.items():
        for ep in list(PROJECT_ENDPOINTS) + list(OTHER_ENDPOINTS):
            status, body = call(role, scope, ep)
            seen.append((role, scope, ep, status))
            assert status < 500, (role, scope, ep, status, body)
            if ep in allowed:
                if status in (401, 403, 404):
                    denied_wrongly.append((role, scope, ep, status, body))
            else:
                forbidden_pairs += 1
                expected = (401,) if role == "anonymous" else (403, 404)
                if status not in expected:
                    allowed_wrongly.append((role, scope, ep, status))
                assert set(body) >= {"code", "message"}, body
                if status == 404:  # another unit's project looks exactly like no project at all
                    ghost_status, ghost = call(role, scope, ep, pid="PRJ-0000000000")
                    assert ghost_status == 404 and ghost["code"] == body["code"]
                    assert ghost["message"].replace("PRJ-0000000000", "X") == \
                        body["message"].replace(projects[scope], "X")
    assert not allowed_wrongly, allowed_wrongly
    assert not denied_wrongly, denied_wrongly
    assert forbidden_pairs >= 100
    # the unit account's listing never shows the other unit, whatever it asks for
    for params in ({}, {"unit": "110"}, {"status": "submitted"}):
        items = client.get("/projects", params=params, headers=heads["unit"]).json()["items"]
        assert projects["other"] not in [p["id"] for p in items]
    # denied writes changed nothing: the other unit's project is still submitted at revision 2
    other = store.get(projects["other"]).props
    assert (other["status"], other["revision"]) in (("submitted", 2), ("approved", 2), ("returned", 2))
    print(f"\n角色矩阵：{len(seen)} 对（角色×接口×本/他单位），其中禁止 {forbidden_pairs} 对，全部被拒绝")
