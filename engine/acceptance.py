"""Learning from real use: how many approved target tables used each library indicator.

The recommender's ``acceptance`` criterion reads it: an indicator that budget units kept in tables
the finance bureau approved is a safer suggestion than one nobody used. A table counts once per
indicator (its approved revision; a reopened project keeps its last approved one). The counts are
kept for ``ttl`` seconds (ZHIBIAO_ACCEPTANCE_TTL, default 60): approvals are rare next to
recommendations, and a minute's delay costs nothing."""
from __future__ import annotations

import math
import threading
import time
from collections import Counter

from graph.settings import setting
from graph.store import GraphStore

_CACHE: dict[str, tuple[float, dict[str, int]]] = {}
_LOCK = threading.Lock()


def approved_use_counts(store: GraphStore) -> dict[str, int]:
    """indicator id → number of approved tables that use it (read from the store now)."""
    projects = [p for p in store.iter_label("Project") if p.props.get("approved_revision")]
    tables = store.get_many(f"{p.id}/r{p.props['approved_revision']}" for p in projects)
    counts: Counter = Counter()
    for t in tables.values():
        counts.update(set(t.props.get("indicators") or []))
    return dict(counts)


def acceptance_scores(store: GraphStore, ttl: float | None = None) -> dict[str, float]:
    """0..1 per indicator: log(1 + uses) / log(1 + most uses), cached for ``ttl`` seconds."""
    ttl = setting("ZHIBIAO_ACCEPTANCE_TTL") if ttl is None else ttl
    key = store.url or str(id(store))
    now = time.monotonic()
    hit = _CACHE.get(key)
    if hit is None or now - hit[0] > ttl:
        with _LOCK:
            hit = _CACHE.get(key)
            if hit is None or now - hit[0] > ttl:
                hit = (now, approved_use_counts(store))
                _CACHE[key] = hit
    counts = hit[1]
    top = max(counts.values(), default=0)
    return {i: math.log1p(n) / math.log1p(top) for i, n in counts.items()} if top else {}
