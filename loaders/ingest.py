"""One load: read, validate everything, then apply one atomic change set and record it.

Nothing is written unless every row passes (SHACL and field rules); a load of unchanged content
writes nothing and leaves the library version as it was, but is still recorded in the history."""
from __future__ import annotations

import gc
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from graph.store import ChangeSet, GraphStore, LoadRecord, Node, diff
from ontology.build import LIBRARY_FILE, STAMP_FILE
from ontology.nodes import INDICATOR
from ontology.problems import Problem
from ontology.rules import field_rules

from . import readers
from .readers import ReadError
from .records import StoreIndex, check_nodes, near_duplicates, rows_to_nodes

Progress = Callable[[int, int], None]
_NODE_ID = re.compile(r'^\{"edges": \[.*?\], "id": "([^"]+)"')


@dataclass
class LoadReport:
    file: str
    format: str = ""
    encoding: str | None = None
    rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False
    record: LoadRecord | None = None
    version_before: int = 0
    version_after: int = 0

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def to_dict(self) -> dict:
        return {"file": self.file, "format": self.format, "encoding": self.encoding, "rows": self.rows,
                "dry_run": self.dry_run, "counts": self.counts, "version_before": self.version_before,
                "version_after": self.version_after, "errors": [p.to_dict() for p in self.errors],
                "warnings": [p.to_dict() for p in self.warnings]}


class LoadError(Exception):
    """Validation failed: nothing was written. ``report.errors`` says where and why."""

    def __init__(self, report: LoadReport):
        super().__init__(f"{report.file}: {len(report.errors)} 个错误，未写入任何内容")
        self.report = report


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _nodes_from_document(path: Path, doc: dict, text: str | None) -> tuple[list[Node], dict, list[Problem]]:
    """A library document {"format", "nodes": [...]}: one node per line as the build writes it."""
    nodes, origin, problems = [], {}, []
    line_of = {}
    for lineno, line in enumerate(text.splitlines() if text else (), start=1):
        m = _NODE_ID.search(line)
        if m:
            line_of.setdefault(m.group(1), lineno)
    for i, d in enumerate(doc.get("nodes") or []):
        try:
            n = Node.from_dict(d)
            if not isinstance(n.props, dict) or not all(isinstance(e, tuple) and len(e) == 2 for e in n.edges):
                raise TypeError("props/edges")
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            problems.append(Problem("bad_record", f"第 {i + 1} 个节点格式不正确：{e}", path.name, line_of.get(
                d.get("id") if isinstance(d, dict) else None)))
            continue
        nodes.append(n)
        origin[n.id] = (path.name, line_of.get(n.id))
    return nodes, origin, problems


_SHACL_CHUNK = 500


def _shacl(nodes: list[Node], store: GraphStore, path: Path, origin: dict,
           progress: Progress | None = None) -> list[Problem]:
    """SHACL over the incoming nodes in chunks, each with the types of the nodes it points at (for
    sh:class checks). Shapes target single nodes, so chunking changes no verdict; it bounds memory
    and lets a long validation report progress."""
    from ontology import rdf
    by_id = {n.id: n for n in nodes}
    outside = {d for n in nodes for _, d in n.edges} - set(by_id)
    labels = {i: n.label for i, n in store.get_many(outside).items()}
    labels.update({i: n.label for i, n in by_id.items()})
    located: list[Problem] = []
    total = len(nodes)
    for start in range(0, total, _SHACL_CHUNK):
        chunk = nodes[start:start + _SHACL_CHUNK]
        ids = {n.id for n in chunk}
        context = [Node(t, labels[t], {}) for t in {d for n in chunk for _, d in n.edges} - ids if t in labels]
        for p in rdf.validate(rdf.nodes_to_graph(chunk + context)):
            node_id = p.message.split(" ", 2)[1] if p.message.startswith("节点 ") else None
            if node_id not in ids:
                continue  # context nodes carry only their type, for sh:class lookups
            f, r = origin.get(node_id, (path.name, None))
            located.append(Problem(p.code, p.message, f, r, None, p.field))
        if progress:
            progress(min(start + _SHACL_CHUNK, total), total)
    return located


def _bundled_stamp_ok(path: Path, file_hash: str) -> bool:
    """The bundled library is SHACL-validated at build time; the stamp proves this exact content
    passed these exact shapes, so a seed need not repeat the slow SHACL pass."""
    from ontology.rules import validation_hash
    try:
        if path.resolve() != LIBRARY_FILE.resolve() or not STAMP_FILE.exists():
            return False
        stamp = json.loads(STAMP_FILE.read_text(encoding="utf-8"))
        return stamp.get("sha256") == file_hash and stamp.get("shapes_sha256") == validation_hash() \
            and stamp.get("conforms") is True
    except (OSError, ValueError):
        return False


def load_file(path: str | Path, store: GraphStore, *, dry_run: bool = False,
              progress: Progress | None = None, source: str | None = None,
              shacl: bool = True, check_progress: Progress | None = None) -> LoadReport:
    """Validate ``path`` and, unless ``dry_run``, write it to ``store`` in one transaction.

    ``check_progress`` follows the SHACL validation, ``progress`` the write. Raises LoadError
    (nothing written) when any row has an error.

    The cyclic garbage collector is paused meanwhile: a load allocates hundreds of thousands of
    small acyclic objects, and collections triggered by them would rescan everything alive."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _load_file(path, store, dry_run=dry_run, progress=progress, source=source, shacl=shacl,
                          check_progress=check_progress)
    finally:
        if enabled:
            gc.enable()


def _load_file(path: str | Path, store: GraphStore, *, dry_run: bool, progress: Progress | None,
               source: str | None, shacl: bool, check_progress: Progress | None) -> LoadReport:
    path = Path(path)
    report = LoadReport(file=source or path.name, dry_run=dry_run)
    report.version_before = report.version_after = store.version()
    try:
        if not path.exists() or not path.is_file():
            raise ReadError([Problem("file_not_found", "文件不存在", str(path))])
        readers.check_size(path)
        file_hash = _sha256(path)
        # the bundled library passed every check at build time (stamp): no need to repeat them
        trusted = _bundled_stamp_ok(path, file_hash)
        fmt = readers.detect_format(path)
        report.format = fmt
        nodes: list[Node]
        origin: dict = {}
        spec = readers.FORMATS[fmt]
        if spec.kind == "table" and spec.read is not None:
            table = spec.read(path)
            report.encoding, report.rows = table.encoding, len(table.rows)
            resolved = rows_to_nodes(table, StoreIndex(store))
            nodes, origin = resolved.nodes, resolved.origin
            report.problems += resolved.problems
        elif spec.kind == "json":
            text, doc = readers.read_json(path)
            report.encoding = "utf-8"
            if isinstance(doc, dict) and "nodes" in doc:
                # a trusted (stamped) file has no errors to locate: skip the line scan
                nodes, origin, probs = _nodes_from_document(path, doc, None if trusted else text)
                report.problems += probs
                report.rows = len(doc["nodes"]) if isinstance(doc["nodes"], list) else 0
                if not trusted:
                    report.problems += check_nodes(nodes, path.name, store, origin)
            else:
                table = readers.rows_from_json(path, doc)
                report.rows = len(table.rows)
                resolved = rows_to_nodes(table, StoreIndex(store))
                nodes, origin = resolved.nodes, resolved.origin
                report.problems += resolved.problems
        else:
            from rdflib import Graph
            from ontology import rdf
            text, _ = readers.decode(path, path.read_bytes())
            try:
                g = Graph().parse(data=text, format=spec.rdf_format)
            except Exception as e:  # rdflib raises many parser-specific types
                raise ReadError([Problem("malformed_rdf", f"RDF 解析失败：{str(e)[:300]}", path.name)]) from e
            nodes, probs = rdf.graph_to_nodes(g)
            report.encoding, report.rows = "utf-8", len(nodes)
            report.problems += [Problem(p.code, p.message, path.name, None, None, p.field) for p in probs]
            if not nodes:
                report.problems.append(Problem("no_rows", "RDF 文件中没有指标库节点", path.name))
            report.problems += check_nodes(nodes, path.name, store, origin)
    except ReadError as e:
        report.problems += e.problems
        raise LoadError(report) from None
    if report.errors:
        raise LoadError(report)
    changed, counts = diff(nodes, store.hashes(n.id for n in nodes))
    # unchanged nodes passed SHACL when they were stored; only what this load changes is checked
    if shacl and changed and not trusted:
        report.problems += _shacl(changed, store, path, origin, check_progress)
        if report.errors:
            raise LoadError(report)
    ind_changed = [n for n in changed if n.label == INDICATOR]
    changed_ids = {c.id for c in ind_changed}
    if not trusted:
        others = [n for n in store.iter_label(INDICATOR) if n.id not in changed_ids] if ind_changed else []
        report.problems += near_duplicates(ind_changed, others, field_rules()["near_duplicate_threshold"])
    counts["deprecated"] = sum(1 for n in changed if n.props.get("status") == "deprecated")
    counts["indicators"] = sum(1 for n in nodes if n.label == INDICATOR)
    counts["rows"] = report.rows
    counts["warnings"] = len(report.warnings)
    report.counts = counts
    if dry_run:
        return report
    record = LoadRecord(source=report.file, file_hash=file_hash, format=report.format, counts=counts)
    report.record = store.apply(ChangeSet(upserts=nodes, base_version=report.version_before), record, progress)
    report.version_after = report.record.version_after
    return report


def seed_bundled_library(store: GraphStore, progress: Progress | None = None) -> LoadReport:
    return load_file(LIBRARY_FILE, store, progress=progress, source="bundled:ontology/library/library.json")
