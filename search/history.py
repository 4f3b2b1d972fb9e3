"""Unit costs from approved target tables: the history a budget-aware recommendation trusts first.

Why: a unit cost the finance bureau already approved for this unit (or, lacking that, for any unit
of the city) is a better basis for "what the amount buys" than the library's typical value or a
generic spending standard. The approved revision of each project's table holds the rows with the
library indicator they matched and the value the review parsed; the median over tables is used
(robust to one unusual project), and only values in the indicator's own unit count. Read from
the store and kept ``ttl`` seconds (ZHIBIAO_ACCEPTANCE_TTL, as the acceptance counts): approvals
are rare next to recommendations."""
from __future__ import annotations

import statistics
import threading
import time
from collections import defaultdict
from typing import Any

from graph.settings import setting
from graph.store import GraphStore

_CACHE: dict[tuple[str, str | None], tuple[float, dict[str, list[tuple[float, str | None]]]]] = {}
_LOCK = threading.Lock()


def approved_values(store: GraphStore, unit: str | None = None) -> dict[str, list[tuple[float, str | None]]]:
    """indicator id → [(number, unit as written)] over the approved tables (of one budget unit if given)."""
    projects = [p for p in store.iter_label("Project") if p.props.get("approved_revision")
                and (unit is None or str(p.props.get("unit")) == str(unit))]
    tables = store.get_many(f"{p.id}/r{p.props['approved_revision']}" for p in projects)
    row_ids = [d for t in tables.values() for kind, d in t.edges if kind == "HAS_ROW"]
    out: dict[str, list[tuple[float, str | None]]] = defaultdict(list)
    for row in store.get_many(row_ids).values():
        p = row.props
        parsed = p.get("parsed") or {}
        number = parsed.get("number")
        if not p.get("indicator") or number is None:
            continue
        try:
            out[p["indicator"]].append((float(number), parsed.get("unit") or p.get("unit") or None))
        except (TypeError, ValueError):
            continue
    return dict(out)


def cached_values(store: GraphStore, unit: str | None, ttl: float | None = None) -> dict[str, list[tuple[float, str | None]]]:
    ttl = setting("ZHIBIAO_ACCEPTANCE_TTL") if ttl is None else ttl
    key = (store.url or str(id(store)), unit)
    now = time.monotonic()
    hit = _CACHE.get(key)
    if hit is None or now - hit[0] > ttl:
        with _LOCK:
            hit = _CACHE.get(key)
            if hit is None or now - hit[0] > ttl:
                hit = (now, approved_values(store, unit))
                _CACHE[key] = hit
    return hit[1]


def history_for(store: GraphStore, units_of: dict[str, Any], unit: str | None = None):
    """A unit-cost history for the budget planner: the unit's own approved tables first, then the
    city's; a value counts only in the indicator's own unit (``units_of``: indicator id → unit)."""
    def median(values: list[tuple[float, str | None]], want: str | None) -> tuple[float, int] | None:
        same = [v for v, u in values if not u or u == want]
        return (statistics.median(same), len(same)) if same else None

    def history(indicator_id: str) -> tuple[float, str] | None:
        want = units_of.get(indicator_id)
        if unit is not None:
            got = median(cached_values(store, unit).get(indicator_id, []), want)
            if got:
                return got[0], f"本单位 {got[1]} 张已批复目标表的中位数"
        got = median(cached_values(store, None).get(indicator_id, []), want)
        if got:
            return got[0], f"全市 {got[1]} 张已批复目标表的中位数"
        return None
    return history
