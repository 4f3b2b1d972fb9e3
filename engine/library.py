"""Read models of the indicator library: statistics, the category and sector trees, filtered
listings and indicator details with neighbours.

The small vocabularies (categories, sectors, fields, project types), statistics and listing pages
are computed once per library version and held by that version's snapshot (engine/snapshot.py)
until the version moves (a load), so a busy server does not scan the store per request: a request
costs one version read. A page describes its indicators against one view (no
store round trip per indicator)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from graph.errors import ZhibiaoError
from graph.store import GraphStore, Node
from ontology.nodes import (APPLIES_TO, CATEGORY, FIELD, IN_CATEGORY, IN_FIELD, IN_SECTOR,
                            INDICATOR, LEVEL1, PART_OF, PROJECT_TYPE, SECTOR)

from .snapshot import snapshot_of

if TYPE_CHECKING:   # networkx (graph.view) is imported only by the commands that build a view
    from graph.view import GraphView

    from .snapshot import LibrarySnapshot


class BadQuery(ZhibiaoError, ValueError):
    """A parameter names something that does not exist; the message lists the valid choices."""
    status = 400

    def __init__(self, code: str, message: str, choices: list[str] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.choices = choices or []

    def body(self) -> dict[str, Any]:
        return {**super().body(), "choices": self.choices}


class NotFound(ZhibiaoError, LookupError):
    code = "not_found"
    status = 404




class Library:
    """The library as the API and CLI see it, over any GraphStore."""

    def __init__(self, store: GraphStore):
        self.store = store

    # --- per-version state lives in the library snapshot (engine/snapshot.py) ----------------
    def snapshot(self) -> "LibrarySnapshot":
        """The library at its current version: one version read per call."""
        return snapshot_of(self.store)

    def per_version(self, key: tuple, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per (library version, key), held by the version's snapshot. The API
        keeps encoded answers there too, so a repeated request costs one version read."""
        return self.snapshot().per_version(key, compute)

    def vocab(self) -> GraphView:
        return self.snapshot().vocab

    def stats(self) -> dict[str, Any]:
        return dict(self.per_version(("stats",), self._stats))

    def _stats(self) -> dict[str, Any]:
        s = self.store
        active_industry = s.count(INDICATOR, {"scope": "industry", "status": "active"})
        return {
            "general_categories": s.count(CATEGORY),
            "level1_groups": s.count(LEVEL1),
            "industry_indicators": active_industry,
            "general_indicators": s.count(INDICATOR, {"scope": "general", "status": "active"}),
            "deprecated_indicators": s.count(INDICATOR, {"status": "deprecated"}),
            "sectors": s.count(SECTOR),
            "fields": s.count(FIELD),
            "project_types": s.count(PROJECT_TYPE),
            "library_version": s.version(),
        }

    def category_tree(self) -> list[dict]:
        return self.per_version(("categories",), self._category_tree)

    def _category_tree(self) -> list[dict]:
        v = self.vocab()
        groups = sorted(v.by_label(LEVEL1), key=lambda n: n.props.get("order", 0))
        out = []
        for g in groups:
            cats = sorted((v.nodes[c] for c in v.sources(g.id, PART_OF)), key=lambda n: n.props.get("order", 0))
            out.append({"code": g.id, "name": g.props["name"],
                        "categories": [{"code": c.id, "name": c.props["name"], "short": c.props.get("short"),
                                        "kind": c.props.get("kind"), "use": c.props.get("use")} for c in cats]})
        return out

    def sector_tree(self) -> list[dict]:
        return self.per_version(("sectors",), self._sector_tree)

    def _sector_tree(self) -> list[dict]:
        v = self.vocab()
        out = []
        for s in sorted(v.by_label(SECTOR), key=lambda n: n.props["code"]):
            fields = sorted((v.nodes[f] for f in v.sources(s.id, PART_OF)), key=lambda n: n.props["name"])
            out.append({"code": s.props["code"], "name": s.props["name"], "id": s.id, "fields": [
                {"id": f.id, "name": f.props["name"], "project_types": [
                    {"id": p, "name": v.nodes[p].props["name"], "keywords": v.nodes[p].props.get("keywords", [])}
                    for p in sorted(v.sources(f.id, PART_OF), key=lambda i: v.nodes[i].props["name"])]}
                for f in fields]})
        return out

    # --- resolving names given by users ------------------------------------------------
    def resolve(self, label: str, text: str, sector: str | None = None) -> str:
        """An id from an id, a code or a name; BadQuery listing valid choices otherwise."""
        v = self.vocab()
        t = text.strip()
        cands = v.by_label(label)
        if sector:
            cands = [n for n in cands if sector in (dict(n.edges).get(IN_SECTOR), dict(n.edges).get(PART_OF))]
        for n in cands:
            if t in (n.id, n.props.get("name"), n.props.get("code"), n.props.get("short")):
                return n.id
        what = {SECTOR: "行业", FIELD: "领域", PROJECT_TYPE: "项目类型", CATEGORY: "二级指标类别"}.get(label, label)
        choices = sorted({n.props.get("name", n.id) for n in cands})
        shown = "、".join(choices[:40]) + ("等" if len(choices) > 40 else "")
        raise BadQuery(f"unknown_{label.lower()}", f"未知的{what}「{t}」；可选：{shown}", choices)

    # --- indicators --------------------------------------------------------------------
    def describe(self, node: Node, vocab: GraphView | None = None) -> dict[str, Any]:
        """An indicator with the names of its category, sector, field and project types; pass the
        ``vocab`` view when describing many, so the store is asked for the version once."""
        from .projection import project_node    # the one indicator shape (search hits use it too)
        return project_node(node, (vocab or self.vocab()).nodes)

    def list_indicators(self, sector: str | None = None, field: str | None = None,
                        project_type: str | None = None, category: str | None = None,
                        status: str | None = "active", scope: str | None = None,
                        offset: int = 0, limit: int = 50) -> dict[str, Any]:
        links: dict[str, str] = {}
        sid = self.resolve(SECTOR, sector) if sector else None
        if sid:
            links[IN_SECTOR] = sid
        if field:
            links[IN_FIELD] = self.resolve(FIELD, field, sid)
        if project_type:
            links[APPLIES_TO] = self.resolve(PROJECT_TYPE, project_type, sid)
        if category:
            links[IN_CATEGORY] = self.resolve(CATEGORY, category)
        props = {k: val for k, val in (("status", status), ("scope", scope)) if val}

        def compute() -> dict[str, Any]:
            page = self.store.list(INDICATOR, props, links, offset, limit)
            v = self.vocab()
            return {"total": page.total, "offset": offset, "limit": limit,
                    "items": [self.describe(n, v) for n in page.items]}
        return self.per_version(("list", tuple(sorted(props.items())), tuple(sorted(links.items())), offset, limit),
                                 compute)

    def indicator(self, node_id: str) -> dict[str, Any]:
        node = self.store.get(node_id)
        if node is None or node.label != INDICATOR:
            raise NotFound(f"指标 {node_id} 不存在")
        out = self.describe(node)
        out["neighbours"] = [{"edge": nb.edge, "direction": nb.direction, "id": nb.node.id,
                              "label": nb.node.label, "name": nb.node.props.get("name")}
                             for nb in self.store.neighbours(node_id)]
        return out

    def indicators_for_project_type(self, project_type: str, include_general: bool = True) -> list[dict]:
        """The industry indicators of a project type and, per target category, the general ones."""
        pt = self.resolve(PROJECT_TYPE, project_type)
        g = self.graph()
        ids = g.sources(pt, APPLIES_TO)
        if include_general:
            for cat in sorted(c.id for c in g.by_label(CATEGORY) if c.props.get("use") == "target"):
                ids += [i for i in g.sources(cat, IN_CATEGORY) if g.nodes[i].props.get("scope") == "general"]
        v = self.vocab()
        return [self.describe(g.nodes[i], v) for i in ids if g.nodes[i].props.get("status") == "active"]

    def graph(self) -> GraphView:
        """The whole library as a networkx view, held by the version's snapshot."""
        return self.snapshot().graph

    def history(self) -> list[dict]:
        return [r.to_dict() for r in self.store.history()]
