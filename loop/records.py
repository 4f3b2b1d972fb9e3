"""How the loop's records sit in the work graph (see docs/work_graph.md for projects).

Every record points at its project with ``ABOUT`` and carries ``project``, ``unit`` and ``year`` as
plain properties so that both stores can filter on them::

    (SpendingPlan   {id: PLAN-{project}})                 -[:ABOUT]->(Project)
    (ProgressReport {id: PRG-{project}-{as_of}})          -[:ABOUT]->(Project)
    (Warning        {id: WRN-{project}-{as_of}-{kind}-{row}}) -[:ABOUT]->(Project)
    (Appraisal      {id: APR-{project}})                  -[:ABOUT]->(Project)
    (Evaluation     {id: EVL-{project}})                  -[:ABOUT]->(Project)
    (Proposal       {id: PRP-{project}-{next year}})      -[:ABOUT]->(Project)

Records that change after they are written (plan, warning, appraisal, evaluation, proposal) have an
``etag`` that every change guards (compare-and-set) and increments. Amounts are whole 元."""
from __future__ import annotations

from typing import Any

from graph.store import GraphStore, Node

PLAN, REPORT, WARNING, APPRAISAL, EVALUATION, PROPOSAL = (
    "SpendingPlan", "ProgressReport", "Warning", "Appraisal", "Evaluation", "Proposal")
LABELS = (PLAN, REPORT, WARNING, APPRAISAL, EVALUATION, PROPOSAL)
ABOUT = "ABOUT"
PROJECT, TARGET = "Project", "Target"


def plan_id(pid: str) -> str:
    return f"PLAN-{pid}"


def report_id(pid: str, as_of: str) -> str:
    return f"PRG-{pid}-{as_of}"


def warning_id(pid: str, as_of: str, kind: str, row: int | None) -> str:
    return f"WRN-{pid}-{as_of}-{kind}-{'x' if row is None else row}"


def appraisal_id(pid: str) -> str:
    return f"APR-{pid}"


def evaluation_id(pid: str) -> str:
    return f"EVL-{pid}"


def proposal_id(pid: str, next_year: int) -> str:
    return f"PRP-{pid}-{next_year}"


def record(node_id: str, label: str, project: dict[str, Any], props: dict[str, Any]) -> Node:
    """A loop record about ``project`` with the common properties."""
    return Node(node_id, label, {"project": project["id"], "unit": project["unit"], "year": project["year"], **props},
                [(ABOUT, project["id"])])


def table_revision(props: dict[str, Any]) -> int:
    """The target table that counts: the approved revision, else the latest one."""
    return int(props.get("approved_revision") or props.get("revision") or 0)


def project_views(store: GraphStore, nodes: list[Node], with_rows: bool = True) -> list[dict[str, Any]]:
    """Projects as the computations need them (id, unit, year, amount, name and target rows), read in
    three batched lookups by id: the projects' tables, then every row the tables link with HAS_ROW."""
    out = []
    for node in nodes:
        p = node.props
        out.append({"id": node.id, "unit": p.get("unit"), "year": int(p.get("year") or 0),
                    "amount": int(p.get("amount") or 0), "name": p.get("name"), "status": p.get("status"),
                    "revision": table_revision(p), "rows": []})
    if not with_rows:
        return out
    tables = store.get_many(f"{v['id']}/r{v['revision']}" for v in out if v["revision"])
    rows = store.get_many(d for t in tables.values() for e, d in t.edges if e == "HAS_ROW")
    for v in out:
        table = tables.get(f"{v['id']}/r{v['revision']}")
        if table is None:
            continue
        found = (rows[d] for e, d in table.edges if e == "HAS_ROW" and d in rows)
        v["rows"] = sorted(({k: t.props.get(k) for k in ("row", "level1", "level2", "name", "value", "unit", "core")}
                            for t in found), key=lambda r: r["row"])
    return out


def project_view(store: GraphStore, node: Node, with_rows: bool = True) -> dict[str, Any]:
    """One project as the computations need it (see ``project_views``)."""
    return project_views(store, [node], with_rows)[0]


def public(node: Node) -> dict[str, Any]:
    """A record as the API shows it: its id and properties."""
    return {"id": node.id, **node.props}
