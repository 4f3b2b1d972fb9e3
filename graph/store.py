"""The graph store interface shared by the embedded (SQLite) and the Neo4j stores.

A store keeps a property graph: nodes (id, label, properties) with their outgoing edges, a library
version that changes only when content changes, and a history of loads. Writes come as a whole
change set applied in one transaction, so a load is all or nothing whatever the backend.

Error hierarchy::

    StoreError                 any store failure (Chinese message, stable ``code``)
    ├── StoreUnavailable       the backend cannot be reached (API answers 503)
    ├── VersionConflict        another writer changed the library since the change set was computed
    ├── WriteConflict          a guarded work-graph write found another value than it expected
    └── StoreURLError          the --store URL is not understood

Two kinds of content share the graph. The *library* (Level1, Category, Sector, Field, ProjectType,
Indicator) is written by ``apply`` and versioned: every change moves the library version, which
search indexes and caches follow. The *work graph* (budget units, projects, target tables, events,
accounts, audit; ``WORK_LABELS``) is written by ``commit``: small guarded transactions that never
move the library version. ``snapshot()`` returns the library only, unless asked for everything.
"""
from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from .errors import ZhibiaoError


class StoreError(ZhibiaoError):
    code = "store_error"
    status = 500

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        if code:
            self.code = code


class StoreUnavailable(StoreError):
    code = "store_unavailable"
    status = 503


class VersionConflict(StoreError):
    code = "version_conflict"
    status = 409


class StoreURLError(StoreError):
    code = "bad_store_url"
    status = 400


class WriteConflict(StoreError):
    """A guard of a ``commit`` did not hold: ``current`` holds the guarded properties as stored
    (None when the node does not exist), so the caller can tell the user what changed."""
    code = "write_conflict"
    status = 409

    def __init__(self, node_id: str, current: dict[str, Any] | None):
        what = "不存在" if current is None else "已被他人修改"
        super().__init__(f"节点 {node_id} {what}，写入未执行")
        self.node_id = node_id
        self.current = current


#: labels of the work graph: written by ``commit``, outside the library version and its snapshot
WORK_LABELS = ("BudgetUnit", "Project", "TargetTable", "Target", "Event", "User", "AuditEntry", "Setting",
               "Appraisal", "SpendingPlan", "ProgressReport", "Warning", "Evaluation", "Proposal")


Edge = tuple[str, str]  # (edge type, target node id)


@dataclass
class Node:
    id: str
    label: str
    props: dict[str, Any]
    edges: list[Edge] = field(default_factory=list)

    def content_hash(self) -> str:
        """Hash of everything a load can change; equal hashes mean an upsert is a no-op.

        Cached on first use: nodes of a change set are not mutated once built."""
        cached = self.__dict__.get("_hash")
        if cached is not None:
            return cached
        payload = "\x1f".join((self.label, self.props_json(), "\x1e".join(f"{t}\x1d{d}" for t, d in sorted(self.edges))))
        self.__dict__["_hash"] = digest = hashlib.sha1(payload.encode("utf-8")).hexdigest()
        return digest

    def props_json(self) -> str:
        """The properties as canonical JSON (sorted keys), as stores keep them; computed once."""
        cached = self.__dict__.get("_props_json")
        if cached is None:
            cached = self.__dict__["_props_json"] = json.dumps(self.props, ensure_ascii=False, sort_keys=True)
        return cached

    def to_dict(self) -> dict:
        return {"id": self.id, "label": self.label, "props": self.props,
                "edges": [list(e) for e in self.edges]}

    @classmethod
    def from_dict(cls, d: dict) -> "Node":
        return cls(d["id"], d["label"], dict(d["props"]), [tuple(e) for e in d.get("edges", [])])


@dataclass
class ChangeSet:
    """Nodes to create or replace (with their full set of outgoing edges).

    ``base_version`` is the library version the change set was computed against; a store refuses
    it when the version moved in between (optimistic concurrency between loaders)."""
    upserts: list[Node] = field(default_factory=list)
    base_version: int | None = None

    def __len__(self) -> int:
        return len(self.upserts)


@dataclass
class Write:
    """One atomic change of the work graph (see ``GraphStore.commit``).

    ``upserts`` create or replace nodes with their full set of outgoing edges; ``links`` add edges
    ``(src, type, dst)`` to nodes that keep their other edges (e.g. BudgetUnit -OWNS-> a new Project);
    ``expect`` guards the write: node id → the property values it must have now, or None for "must
    not exist yet". Any guard that fails refuses the whole write with WriteConflict."""
    upserts: list[Node] = field(default_factory=list)
    links: list[tuple[str, str, str]] = field(default_factory=list)
    expect: dict[str, dict[str, Any] | None] = field(default_factory=dict)


@dataclass
class LoadRecord:
    """One entry of the load history: what was loaded, when, and what it did to the library."""
    source: str
    file_hash: str
    format: str
    counts: dict[str, int]
    version_before: int = 0
    version_after: int = 0
    at: str = ""
    seq: int = 0
    note: str = ""

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Page:
    total: int
    items: list[Node]


@dataclass
class Neighbour:
    edge: str
    direction: str  # "out" (this node → other) or "in" (other → this node)
    node: Node


ProgressFn = Callable[[int, int], None]


class GraphStore(ABC):
    """Core operations every backend implements; helpers below are built on them."""

    #: whether the backend offers a native full-text index (Neo4j does)
    has_fulltext: bool = False
    url: str = ""

    @abstractmethod
    def apply(self, changes: ChangeSet, record: LoadRecord,
              progress: ProgressFn | None = None) -> LoadRecord:
        """Write the change set and the load record in one transaction.

        Nodes whose content is unchanged are skipped; the library version moves by one only when
        something changed. Returns the stored record (with versions, time and sequence)."""

    @abstractmethod
    def commit(self, write: Write) -> None:
        """Write work-graph nodes and links in one transaction, after checking every guard of
        ``write.expect`` inside that transaction (compare-and-set). Raises WriteConflict, writing
        nothing, when a guard fails. Never moves the library version and leaves no load record."""

    @abstractmethod
    def version(self) -> int:
        """Current library version (0 for an empty store)."""

    @abstractmethod
    def get(self, node_id: str) -> Node | None: ...

    @abstractmethod
    def get_many(self, node_ids: Iterable[str]) -> dict[str, Node]: ...

    @abstractmethod
    def neighbours(self, node_id: str) -> list[Neighbour]: ...

    @abstractmethod
    def list(self, label: str, props: dict[str, Any] | None = None,
             links: dict[str, str] | None = None, offset: int = 0,
             limit: int | None = None) -> Page:
        """Nodes of one label whose properties equal ``props`` and that have an outgoing edge of
        each type in ``links`` to the given node id, ordered by id."""

    @abstractmethod
    def count(self, label: str, props: dict[str, Any] | None = None) -> int: ...

    @abstractmethod
    def snapshot(self, include_work: bool = False) -> tuple[int, list[Node]]:
        """The version and every library node with its edges, read consistently; with
        ``include_work`` the work-graph nodes too (migrate carries a store over whole)."""

    @abstractmethod
    def history(self) -> list[LoadRecord]:
        """Load history, oldest first."""

    @abstractmethod
    def restore_history(self, records: list[LoadRecord], version: int) -> None:
        """Replace history and version (used by migrate to carry a store over whole)."""

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def wipe(self) -> None:
        """Delete everything (nodes, history, version): tests, benchmarks and a replacing migrate."""

    def fulltext(self, query: str, limit: int = 10) -> list[tuple[str, str, float]]:
        """(id, name, score) from the backend's native full-text index; only a store whose
        ``has_fulltext`` is true offers one (Neo4j), callers read the flag first."""
        raise StoreError(f"存储 {self.url} 没有原生全文索引（检索请用 search/ 的索引）", "fulltext_unsupported")

    # --- helpers with default bodies -------------------------------------------------
    def iter_label(self, label: str, batch: int = 2000) -> Iterator[Node]:
        offset = 0
        while True:
            page = self.list(label, offset=offset, limit=batch)
            yield from page.items
            offset += len(page.items)
            if not page.items or offset >= page.total:
                return

    def hashes(self, node_ids: Iterable[str]) -> dict[str, str]:
        """Content hashes of the stored nodes among ``node_ids``: enough to tell what a load changes.
        Backends that keep the hash override this to avoid reading whole nodes."""
        return {i: n.content_hash() for i, n in self.get_many(node_ids).items()}

    def is_empty(self) -> bool:
        return self.version() == 0 and self.count("Category") == 0

    def __enter__(self) -> "GraphStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def diff(changes: Iterable[Node], current: dict[str, str]) -> tuple[list[Node], dict[str, int]]:
    """Keep only nodes that are new or changed (``current``: id → stored content hash); count
    created / updated / unchanged."""
    out: list[Node] = []
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for n in changes:
        old = current.get(n.id)
        if old is None:
            counts["created"] += 1
            out.append(n)
        elif old != n.content_hash():
            counts["updated"] += 1
            out.append(n)
        else:
            counts["unchanged"] += 1
    return out, counts
