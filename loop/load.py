"""Load a generated year into a store, the way the year would have been filed: budget units, their
approved projects with target tables (nodes as in docs/work_graph.md), monthly plans, progress
reports with their assessment and warnings, appraisals and evaluations.

Written in guarded batches (each batch creates only nodes that must not exist yet, so loading the
same year twice is refused, not duplicated), each with one audit entry of the ``system`` actor."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine import audit
from graph.store import GraphStore, Node, Write

from . import records as R
from .appraisal import appraise
from .evaluation import final_score, grade_of, self_evaluation
from .generate import Year
from .monitoring import assess

UNIT, TABLE = "BudgetUnit", "TargetTable"


def _project_nodes(p: dict[str, Any], at: str) -> list[Node]:
    pid, rev = p["id"], 1
    table = f"{pid}/r{rev}"
    targets = [Node(f"{table}/t{r['row']:03d}", R.TARGET,
                    {"project": pid, "revision": rev, "row": r["row"], "level1": r["level1"], "level2": r["level2"],
                     "name": r["name"], "value": r["value"], "unit": r.get("unit"), "basis": "计划标准",
                     "parsed": None, "indicator": None, "category": None}) for r in p["rows"]]
    tnode = Node(table, TABLE, {"project": pid, "revision": rev, "based_on": 0,
                                "goals": {"period": f"完成{p['name']}", "annual": f"年内完成{p['name']}"},
                                "review": None, "score": None, "verdict": None, "source": "generated",
                                "created_by": "generator", "created_at": at, "return_comment": None,
                                "row_comments": []}, [("HAS_ROW", t.id) for t in targets])
    pnode = Node(pid, R.PROJECT, {"code": pid, "name": p["name"], "unit": p["unit"], "year": p["year"], "sector": None,
                                  "project_type": None, "project_type_source": None, "amount": p["amount"],
                                  "period": f"{p['year']}年1月-12月", "description": "生成的年度数据", "status": "approved",
                                  "revision": rev, "submitted_revision": rev, "approved_revision": rev, "events": 0,
                                  "etag": 1, "created_by": "generator", "created_at": at, "updated_at": at},
                 [("HAS_TABLE", table)])
    return [pnode, tnode, *targets]


def _loop_nodes(y: Year, p: dict[str, Any], at: str) -> list[Node]:
    pid = p["id"]
    out: list[Node] = []
    if pid in y.plans:
        out.append(R.record(R.plan_id(pid), R.PLAN, p, {"months": y.plans[pid], "total": sum(y.plans[pid]), "etag": 1,
                                                        "updated_by": "generator", "updated_at": at}))
        for rep in (r for r in y.reports if r["project_id"] == pid):
            res = assess(p, y.plans[pid], rep)
            rid = R.report_id(pid, rep["as_of"])
            ws = [R.record(R.warning_id(pid, w["as_of"], w["kind"], w["row"]), R.WARNING, p,
                           {"report": rid, "as_of": w["as_of"], "kind": w["kind"], "row": w["row"],
                            "measure": w["measure"], "threshold": w["threshold"], "message": w["message"],
                            "status": "open", "explanation": rep.get("explanation"), "actions": [], "etag": 1,
                            "raised_at": at}) for w in res["warnings"]]
            out.append(R.record(rid, R.REPORT, p, {
                "as_of": rep["as_of"], "spent": rep["spent"], "actuals": rep["actuals"],
                "explanation": rep.get("explanation", ""), "revision": 1, "execution": res["execution"],
                "targets": res["targets"], "not_reported": res["not_reported"], "warnings": [w.id for w in ws],
                "reported_by": "generator", "reported_at": at}))
            out.extend(ws)
    if pid in y.appraisals:
        out.append(R.record(R.appraisal_id(pid), R.APPRAISAL, p, {**appraise(y.appraisals[pid]),
                                                                   "appraised_by": "generator", "appraised_at": at,
                                                                   "etag": 1}))
    if pid in y.self_evaluations:
        se = y.self_evaluations[pid]
        part = {**self_evaluation(p, se["actuals"], se["spent"]), "actuals": se["actuals"], "by": "generator", "at": at,
                "revision": 1}
        review = {"score": y.reviews[pid], "comment": "复核", "by": "generator", "at": at} if pid in y.reviews else None
        key = {**y.key_evaluations[pid], "by": "generator", "at": at} if pid in y.key_evaluations else None
        final, source = final_score(part["total"], review and review["score"], key and key["score"])
        out.append(R.record(R.evaluation_id(pid), R.EVALUATION, p, {
            "self": part, "review": review, "key": key, "self_total": part["total"],
            "review_score": review and review["score"], "key_score": key and key["score"], "final_score": final,
            "final_source": source, "grade": grade_of(final) if final is not None else None, "amount": p["amount"],
            "etag": 1}))
    return out


def load_year(store: GraphStore, y: Year, batch: int = 40,
              progress: Callable[[int, int], None] | None = None, actor: str = "system") -> dict[str, int]:
    """Write the year; returns node counts per label. Refused (WriteConflict) if any unit or
    project of it already exists."""
    at = audit.now()
    units = [Node(f"UNIT-{u['code']}", UNIT, {"code": u["code"], "name": u["name"], "department": u["department"],
                                             "sectors": [], "active": True, "source": "generated"}) for u in y.units]
    store.commit(Write(units + [audit.entry(actor, "loop.generate", f"year-{y.year}", None, None,
                                            {"units": len(units), "scale": y.scale})],
                       expect={u.id: None for u in units}))
    counts: dict[str, int] = {UNIT: len(units)}
    total = len(y.projects)
    for start in range(0, total, batch):
        chunk = y.projects[start:start + batch]
        nodes: list[Node] = []
        for p in chunk:
            nodes += _project_nodes(p, at) + _loop_nodes(y, p, at)
        for n in nodes:
            counts[n.label] = counts.get(n.label, 0) + 1
        store.commit(Write(nodes + [audit.entry(actor, "loop.generate", f"year-{y.year}", None, None,
                                                {"projects": [p["id"] for p in chunk]})],
                           links=[(f"UNIT-{p['unit']}", "OWNS", p["id"]) for p in chunk],
                           expect={p["id"]: None for p in chunk}))
        if progress:
            progress(min(start + batch, total), total)
    return counts
