"""One snapshot of the library per version: read once, shared by every reader that needs the
whole library rather than a page of it.

A snapshot is built from one consistent ``store.snapshot()`` read and holds the vocabulary view,
the projection of every indicator (engine/projection.py, the JSON every room serves), the parsed
typical value of every indicator (the value grammar, ontology/values.py), and what readers derive
from them (``derived``: the review classifier's index, built on first use from the same nodes, not
from a second read of the store). When the library version moves, the next caller either waits
for the new snapshot (``wait=True``) or keeps the previous one while a background thread builds
the new one (``wait=False``, what a server wants on its hot paths).

Not yet held here: the search index. search/engine.py keeps its own per-version index (a
memory-mapped on-disk cache with its own background rebuild); it is the one other owner of
per-version library state."""
from __future__ import annotations

import threading
from functools import cached_property
from typing import Any, Callable

from graph.store import GraphStore, Node
from ontology.nodes import CATEGORY, FIELD, INDICATOR, LEVEL1, PROJECT_TYPE, SECTOR

_VOCAB_LABELS = (LEVEL1, CATEGORY, SECTOR, FIELD, PROJECT_TYPE)
_KEEP = 8   # stores a process works with at once (tests and migrations open several)


class LibrarySnapshot:
    """The library at one version. The vocabulary is built at once; projections, parsed values
    and derived indexes on first use (each once per snapshot)."""

    def __init__(self, version: int, nodes: list[Node]):
        from graph.view import build_view
        self.version = version
        self.indicators: dict[str, Node] = {n.id: n for n in nodes if n.label == INDICATOR}
        self.vocab = build_view(version, [n for n in nodes if n.label in _VOCAB_LABELS])
        self._lock = threading.Lock()
        self._derived: dict[str, Any] = {}

    @cached_property
    def projections(self) -> dict[str, dict[str, Any]]:
        """id → the indicator's projection (the shape /indicators/{id} serves, without neighbours)."""
        from .projection import project_node
        return {i: project_node(n, self.vocab.nodes) for i, n in self.indicators.items()}

    @cached_property
    def values(self) -> dict[str, Any]:
        """id → the parsed typical value (ontology.values.ParsedValue) with the indicator's unit."""
        from ontology.values import parse_value
        return {i: parse_value(n.props.get("typical_value"), n.props.get("unit"))
                for i, n in self.indicators.items()}

    def derived(self, key: str, build: Callable[["LibrarySnapshot"], Any]) -> Any:
        """``build(self)`` once per snapshot under ``key``: how a reader keeps what it derives from
        the library (the review classifier's index) without a cache of its own, and without this
        module importing the reader."""
        with self._lock:
            if key not in self._derived:
                self._derived[key] = build(self)
            return self._derived[key]


_lock = threading.Lock()
_snapshots: dict[tuple, LibrarySnapshot] = {}
_building: set[tuple] = set()


def _key(store: GraphStore) -> tuple:
    return (id(store), store.url)


def _build(store: GraphStore) -> LibrarySnapshot:
    version, nodes = store.snapshot()
    return LibrarySnapshot(version, nodes)


def _keep(key: tuple, snap: LibrarySnapshot) -> None:
    with _lock:
        old = _snapshots.get(key)
        if old is None or snap.version >= old.version:   # a late background build never undoes a newer one
            _snapshots[key] = snap
        while len(_snapshots) > _KEEP:
            _snapshots.pop(next(iter(_snapshots)))


def snapshot_of(store: GraphStore, wait: bool = True) -> LibrarySnapshot:
    """The snapshot of ``store`` at its current version. With ``wait=False`` a stale snapshot is
    returned at once while the new one is built in the background (never two builds at once)."""
    key = _key(store)
    version = store.version()
    snap = _snapshots.get(key)
    if snap is not None and snap.version == version:
        return snap
    if snap is not None and not wait:
        with _lock:
            start = key not in _building
            _building.add(key)
        if start:
            def rebuild() -> None:
                try:
                    _keep(key, _build(store))
                finally:
                    with _lock:
                        _building.discard(key)
            threading.Thread(target=rebuild, name="library-snapshot", daemon=True).start()
        return snap
    fresh = _build(store)
    _keep(key, fresh)
    return fresh


def warm(store: GraphStore, derive: dict[str, Callable[[LibrarySnapshot], Any]] | None = None) -> threading.Thread:
    """Build the snapshot of ``store`` and what readers derive from it (``derive``: key → build) in a
    background thread, so that the first request after a start (a /targets/check) does not pay for
    it. A store that goes away meanwhile only ends the warm-up."""
    def run() -> None:
        try:
            snap = snapshot_of(store)
            for key, build in (derive or {}).items():
                snap.derived(key, build)
        except Exception:     # a closed or unreachable store: the first request builds it instead
            pass
    t = threading.Thread(target=run, name="library-snapshot-warm", daemon=True)
    t.start()
    return t
