"""历史标准: a target weaker than what the same unit already committed to, and got approved, for the
same indicator in an earlier year. Rule code ``weaker_than_history`` (docs/review_rules.md).

Only what can be compared honestly is compared: quantitative values (``≥ 95%``, ``≤ 600 元/平方米``,
``12 所``) of the same indicator (the library indicator the row uses, else the same 三级 name) with
the same unit. "Weaker" follows the direction of the comparator: for ≥/>/= (more is better) a lower
number, for ≤/< (less is better, e.g. costs) a higher one. The most recent earlier approved year
is the reference, and its value is quoted in the message. Submission (engine/projects.py) calls it
and adds its flags to the stored review."""
from __future__ import annotations

from typing import Any

from graph.store import GraphStore

CODE = "weaker_than_history"
HIGHER_IS_BETTER = ("≥", ">", "=", None)
LOWER_IS_BETTER = ("≤", "<")


def _key(row: dict[str, Any]) -> str:
    return row.get("indicator") or f"name:{(row.get('name') or '').strip()}"


def _quantity(parsed: dict[str, Any] | None) -> tuple[str | None, float, str] | None:
    if not parsed or parsed.get("kind") != "quantity" or parsed.get("number") is None:
        return None
    return parsed.get("comparator"), float(parsed["number"]), parsed.get("unit") or ""


def approved_history(store: GraphStore, unit: str, year: int, exclude: str) -> dict[str, tuple[int, dict, dict]]:
    """indicator key → (year, row props, parsed) of the most recent earlier approved table of ``unit``."""
    best: dict[str, tuple[int, dict, dict]] = {}
    projects = [p for p in store.list("Project", {"unit": unit}).items
                if p.id != exclude and p.props.get("approved_revision") and int(p.props.get("year") or 0) < year]
    tables = store.get_many(f"{p.id}/r{p.props['approved_revision']}" for p in projects)
    row_ids = [d for t in tables.values() for typ, d in t.edges if typ == "HAS_ROW"]
    for row in store.get_many(row_ids).values():
        proj = next((p for p in projects if p.id == row.props.get("project")), None)
        if proj is None:
            continue
        y = int(proj.props["year"])
        k = _key(row.props)
        if k not in best or best[k][0] < y:
            best[k] = (y, row.props, row.props.get("parsed") or {})
    return best


def weaker_than_history(store: GraphStore, unit: str, year: int, project_id: str, rows: list[dict[str, Any]],
                        parsed: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """Flags (the /targets/check flag shape) for rows weaker than the unit's earlier approved value."""
    history = approved_history(store, unit, int(year), project_id)
    if not history:
        return []
    flags = []
    for r in rows:
        ref = history.get(_key(r))
        now = _quantity(parsed.get(r["row"]))
        if ref is None or now is None:
            continue
        then = _quantity(ref[2])
        if then is None or then[2] != now[2]:
            continue
        (c_now, v_now, _), (c_then, v_then, _) = now, then
        if c_now in HIGHER_IS_BETTER and c_then in HIGHER_IS_BETTER:
            weaker = v_now < v_then
        elif c_now in LOWER_IS_BETTER and c_then in LOWER_IS_BETTER:
            weaker = v_now > v_then
        else:
            continue
        if weaker:
            earlier = f"{ref[1].get('value')}{ref[1].get('unit') or ''}"
            flags.append({"row": r["row"], "code": CODE, "severity": "warning",
                          "message": f"「{r.get('name')}」本次目标 {r.get('value')}{r.get('unit') or ''} 弱于本单位 {ref[0]} 年"
                                     f"已批准的 {earlier}（历史标准）",
                          "suggestion": f"目标值不低于 {ref[0]} 年已达到的 {earlier}，或在指标值设定依据中说明下调原因"})
    return flags
