"""One snapshot of the library per version: the one owner of per-version library state, shared by
every reader (search, review, recommend, the API and the CLI).

A snapshot is identified by the store and the library version. It holds the vocabulary view, the
whole library as a graph view, the projection of every indicator (engine/projection.py, the JSON
every room serves), the parsed typical value of every indicator (the value grammar,
ontology/values.py), the results the API computes once per version (``per_version``: statistics,
trees, listing pages) and what readers derive from it (``derived``: the search index, its
autocomplete and recommender, the review classifier's index). Readers keep no library state of
their own: they ask the snapshot.

Each part is made on first use, and the nodes are read from the store only when a part needs them:
a command that only searches maps the search index from its on-disk cache and never reads the
library (``zhibiao search`` stays well under a second), a listing reads only the vocabulary.

When the library version moves, the next caller either waits for the new snapshot (``wait=True``)
or keeps the previous one while a background thread builds the new one together with every part
readers registered as ``eager`` (``wait=False``, what a server wants on its hot paths: the first
search after a load does not wait for the new index). ``max_age`` lets a hot path check the
version at most that often (one round trip per second, not per request)."""
from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from functools import cached_property
from typing import TYPE_CHECKING, Any, Callable

from graph.store import GraphStore, Node
from ontology.nodes import CATEGORY, FIELD, INDICATOR, LEVEL1, PROJECT_TYPE, SECTOR

if TYPE_CHECKING:   # networkx (graph.view) is imported only when a view is built
    from graph.view import GraphView

_VOCAB_LABELS = (LEVEL1, CATEGORY, SECTOR, FIELD, PROJECT_TYPE)
_RESULTS = 512        # per-version results kept (least recently used dropped)


class LibrarySnapshot:
    """The library at one version; every part is built once, on first use."""

    def __init__(self, version: int, store: GraphStore | None = None, nodes: list[Node] | None = None):
        self.version = version
        # weakly: the registry below is keyed by the store and must not keep a closed store alive
        self._store = weakref.ref(store) if store is not None else None
        self._nodes = nodes
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}
        self._derived: dict[str, Any] = {}
        self._results: OrderedDict[tuple, Any] = OrderedDict()

    @property
    def store(self) -> GraphStore | None:
        return self._store() if self._store is not None else None

    # --- the library itself -----------------------------------------------------------------
    @property
    def nodes(self) -> list[Node]:
        """Every library node (work-graph nodes excluded), read once. Read after the version was
        taken, so a load committed in between shows here; the next ``snapshot_of`` sees the newer
        version and replaces this snapshot, so the gap only ever delays, never mixes, an update."""
        if self._nodes is None:
            with self._lock:
                if self._nodes is None:
                    store = self.store
                    assert store is not None, "a snapshot without nodes needs its store"
                    self._nodes = store.snapshot()[1]
        return self._nodes

    @cached_property
    def indicators(self) -> dict[str, Node]:
        return {n.id: n for n in self.nodes if n.label == INDICATOR}

    @cached_property
    def vocab(self) -> "GraphView":
        """Sectors, fields, project types, categories: from the nodes when they are already read,
        otherwise from five small label reads (a listing need not read 10,000 indicators)."""
        from graph.view import build_view
        store = self.store
        if self._nodes is None and store is not None:
            nodes = [n for label in _VOCAB_LABELS for n in store.iter_label(label)]
        else:
            nodes = [n for n in self.nodes if n.label in _VOCAB_LABELS]
        return build_view(self.version, nodes)

    @cached_property
    def graph(self) -> "GraphView":
        """The whole library as a networkx view (indicators of a project type, neighbourhoods)."""
        from graph.view import build_view
        return build_view(self.version, self.nodes)

    @cached_property
    def projections(self) -> dict[str, dict[str, Any]]:
        """id → the indicator's projection (the shape /indicators/{id} serves, without neighbours)."""
        from .projection import project_node
        return {i: project_node(n, self.vocab.nodes) for i, n in self.indicators.items()}

    def projection(self, indicator_id: str) -> dict[str, Any] | None:
        """One indicator's projection, made on demand: a reader that shows a few indicators (review's
        suggested rewrites) need not project all ten thousand."""
        done = self.__dict__.get("projections")
        if done is not None:
            return done.get(indicator_id)
        node = self.indicators.get(indicator_id)
        if node is None:
            return None
        from .projection import project_node
        return project_node(node, self.vocab.nodes)

    @cached_property
    def values(self) -> dict[str, Any]:
        """id → the parsed typical value (ontology.values.ParsedValue) with the indicator's unit."""
        from ontology.values import parse_value
        return {i: parse_value(n.props.get("typical_value"), n.props.get("unit"))
                for i, n in self.indicators.items()}

    # --- what readers derive ------------------------------------------------------------------
    def derived(self, key: str, build: Callable[["LibrarySnapshot"], Any]) -> Any:
        """``build(self)`` once per snapshot under ``key``: how a reader keeps what it derives from
        the library (the search index, review's classifier index) without a cache of its own, and
        without this module importing the reader. One lock per key: a long search-index build
        does not hold up review's index, and a builder may ask for another key."""
        got = self._derived.get(key, _MISSING)
        if got is not _MISSING:
            return got
        with self._lock:
            lock = self._key_locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._derived:
                self._derived[key] = build(self)
            return self._derived[key]

    def per_version(self, key: tuple, compute: Callable[[], Any]) -> Any:
        """``compute()`` once for this version under ``key`` (statistics, trees, listing pages,
        encoded answers): a repeated request costs the version check, not a scan."""
        with self._lock:
            if key in self._results:
                self._results.move_to_end(key)
                return self._results[key]
        value = compute()
        with self._lock:
            self._results[key] = value
            while len(self._results) > _RESULTS:
                self._results.popitem(last=False)
        return value


_MISSING = object()
_lock = threading.Lock()
# keyed by the store object itself, weakly: a store that is closed and collected takes its snapshot
# with it, and a new store can never inherit an old one's snapshot through a reused id()
_snapshots: "weakref.WeakKeyDictionary[GraphStore, LibrarySnapshot]" = weakref.WeakKeyDictionary()
_checked: "weakref.WeakKeyDictionary[GraphStore, float]" = weakref.WeakKeyDictionary()
_building: "weakref.WeakSet[GraphStore]" = weakref.WeakSet()
_eager: dict[str, Callable[[LibrarySnapshot], Any]] = {}


def register(key: str, build: Callable[[LibrarySnapshot], Any]) -> None:
    """Have ``build`` run (under ``key``) whenever a snapshot is built in the background, before it
    replaces the previous one: the parts a server must never build on a request's time."""
    _eager[key] = build


def _keep(store: GraphStore, snap: LibrarySnapshot) -> LibrarySnapshot:
    """Publish ``snap`` unless a snapshot of the same or a newer version is already kept, and return
    the one kept: two threads that both found no snapshot share the first one (and what was already
    derived from it) instead of the second silently replacing it; a late background build never
    undoes a newer one."""
    with _lock:
        old = _snapshots.get(store)
        if old is None or snap.version > old.version:
            _snapshots[store] = snap
            return snap
        return old


def forget(store: GraphStore) -> None:
    """Drop the snapshot of ``store`` (its next reader builds a new one): tests, and a store being closed."""
    with _lock:
        _snapshots.pop(store, None)
        _checked.pop(store, None)


def snapshot_of(store: GraphStore, wait: bool = True, max_age: float = 0.0) -> LibrarySnapshot:
    """The snapshot of ``store`` at its current version. With ``wait=False`` a stale snapshot is
    returned at once while the new one (and every registered eager part) is built in the background,
    never two builds at once. With ``max_age`` the version is read at most once per that many seconds."""
    snap = _snapshots.get(store)
    now = time.monotonic()
    if snap is not None and max_age > 0 and now - _checked.get(store, 0.0) < max_age:
        return snap
    version = store.version()
    _checked[store] = now
    if snap is not None and snap.version == version:
        return snap
    if snap is not None and not wait:
        with _lock:
            start = store not in _building
            _building.add(store)
        if start:
            def rebuild() -> None:
                try:
                    new = LibrarySnapshot(version, store)
                    for k, build in list(_eager.items()):
                        new.derived(k, build)
                    _keep(store, new)
                except Exception:   # an unreachable store: keep serving the old snapshot, retry later
                    pass
                finally:
                    with _lock:
                        _building.discard(store)
            threading.Thread(target=rebuild, name="library-snapshot", daemon=True).start()
        return snap
    return _keep(store, LibrarySnapshot(version, store))


def warm(store: GraphStore, derive: dict[str, Callable[[LibrarySnapshot], Any]] | None = None) -> threading.Thread:
    """Build the snapshot of ``store`` and what readers derive from it (``derive``: key → build, plus
    every registered eager part) in a background thread, so that the first request after a start
    does not pay for it. A store that goes away meanwhile only ends the warm-up."""
    def run() -> None:
        try:
            snap = snapshot_of(store)
            for key, build in {**_eager, **(derive or {})}.items():
                snap.derived(key, build)
        except Exception:     # a closed or unreachable store: the first request builds it instead
            pass
    t = threading.Thread(target=run, name="library-snapshot-warm", daemon=True)
    t.start()
    return t
