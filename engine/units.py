"""Budget units (预算单位) in the work graph: the bundled reconstruction on first use, a maintainer's
real list loaded from CSV/XLSX (all or nothing), and the listing.

A reload replaces names, departments and sectors; units missing from the new list are kept (their
projects still point at them) but marked ``active: false``. Each unit keeps its OWNS edges."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from graph.store import GraphStore, Node, Write
from loaders.units import BUNDLED, read_units

from . import audit

UNIT = "BudgetUnit"


def unit_id(code: str) -> str:
    return f"UNIT-{code}"


def view(node: Node) -> dict[str, Any]:
    p = node.props
    return {"code": p["code"], "name": p["name"], "department": p.get("department"), "sectors": p.get("sectors", []),
            "active": p.get("active", True)}


def list_units(store: GraphStore, offset: int = 0, limit: int = 200) -> dict[str, Any]:
    page = store.list(UNIT, offset=offset, limit=limit)
    return {"total": page.total, "offset": offset, "limit": limit, "items": [view(n) for n in page.items]}


def load_units(store: GraphStore, path: str | Path, actor: str, dry_run: bool = False,
               source: str | None = None) -> dict[str, Any]:
    """Validate the whole file, then write every unit in one commit (or nothing). Returns a report:
    ``{file, dry_run, counts: {rows, created, updated, unchanged, deactivated}, errors, warnings}``."""
    records, problems = read_units(path)
    errors = [p.to_dict() for p in problems if p.severity == "error"]
    report: dict[str, Any] = {"file": Path(path).name, "dry_run": dry_run, "errors": errors,
                              "warnings": [p.to_dict() for p in problems if p.severity != "error"],
                              "counts": {"rows": len(records)}}
    if errors:
        return report
    existing = {n.id: n for n in store.iter_label(UNIT)}
    nodes: list[Node] = []
    counts = {"created": 0, "updated": 0, "unchanged": 0, "deactivated": 0}
    for r in records:
        uid = unit_id(r.code)
        old = existing.pop(uid, None)
        owns = [e for e in (old.edges if old else []) if e[0] == "OWNS"]
        node = Node(uid, UNIT, {"code": r.code, "name": r.name, "department": r.department, "sectors": r.sectors,
                                "active": True, "source": source or Path(path).name},
                    sorted(set(owns + [("IN_SECTOR", f"SEC-{s}") for s in r.sectors])))
        if old is None:
            counts["created"] += 1
        elif {**old.props, "source": None} == {**node.props, "source": None} and old.edges == node.edges:
            counts["unchanged"] += 1
            continue
        else:
            counts["updated"] += 1
        nodes.append(node)
    for old in existing.values():  # not in the new list: kept for their projects, marked inactive
        if old.props.get("active", True):
            nodes.append(Node(old.id, UNIT, {**old.props, "active": False}, old.edges))
            counts["deactivated"] += 1
    report["counts"].update(counts)
    if not dry_run and nodes:
        store.commit(Write(nodes + [audit.entry(actor, "units.load", report["file"], None, None,
                                                {"counts": report["counts"]})]))
    return report


def ensure_units(store: GraphStore) -> None:
    """Load the bundled (reconstructed) unit list into a store that has no units yet."""
    if store.count(UNIT) == 0:
        load_units(store, BUNDLED, actor="system", source="bundled")
