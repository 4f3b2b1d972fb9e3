"""Projects and their target tables in the work graph: the workflow (随报随审), revisions, diff,
history events and the audit trail. docs/work_graph.md describes the nodes; docs/projects_api.md
the JSON this module returns.

Every change follows one pattern (``_change``): read the Project node, check the role, the
visibility, the status and the revision the caller based its edit on, build the new nodes, and
commit them in one ``store.commit`` guarded by the project's ``etag``. If another writer got there
first the guard fails, the project is read again and the checks run again: a stale revision then
answers 409 ``stale_revision`` with the current one, never a silent overwrite, and two reviewers
approving the same submission cannot both succeed (the second finds it already approved).
"""
from __future__ import annotations

import uuid
from typing import Any, Callable

from graph.store import GraphStore, Node, Write, WriteConflict
from ontology.nodes import CATEGORY, PROJECT_TYPE
from ontology.vocab import find_sector
from review import BadDocument, check_table

from . import audit
from .accounts import Principal, require, visible
from .library import BadQuery, Library
from .work_errors import WorkError

PROJECT, TABLE, TARGET, EVENT, UNIT = "Project", "TargetTable", "Target", "Event", "BudgetUnit"
STATUSES = ("draft", "submitted", "returned", "resubmitted", "approved")
STATUS_NAMES = {"draft": "草稿", "submitted": "已提交", "returned": "已退回", "resubmitted": "已重新提交",
                "approved": "已批准"}
EDITABLE = ("draft", "returned", "approved")
SUBMIT_TO = {"draft": "submitted", "returned": "resubmitted"}
UNDER_REVIEW = ("submitted", "resubmitted")
ROW_FIELDS = ("level1", "level2", "name", "value", "unit", "basis")
PARSED_FIELDS = ("kind", "comparator", "number", "upper", "unit", "dimension", "date", "grade")
MAX_ROWS = 200
MAX_TRIES = 12

#: infer(name, description, sector code) → ProjectType id or None (the API passes the recommender's)
Infer = Callable[[str, str, "str | None"], "str | None"]


def project_edges(props: dict[str, Any]) -> list[tuple[str, str]]:
    """A Project's complete outgoing edges, rebuilt from its props (an upsert replaces them all)."""
    pid = props["code"]
    edges = [("HAS_TABLE", f"{pid}/r{r}") for r in range(1, int(props.get("revision") or 0) + 1)]
    if props.get("sector"):
        edges.append(("IN_SECTOR", f"SEC-{props['sector']}"))
    if props.get("project_type"):
        edges.append(("OF_TYPE", props["project_type"]))
    return sorted(edges)


def project_view(node: Node, unit_name: str | None = None) -> dict[str, Any]:
    p = node.props
    keys = ("code", "name", "unit", "year", "amount", "sector", "project_type", "project_type_source", "period",
            "description", "status", "revision", "submitted_revision", "approved_revision", "created_by",
            "created_at", "updated_at")
    return {"id": node.id, **{k: p.get(k) for k in keys}, "unit_name": unit_name}


def table_view(table: Node, rows: list[Node]) -> dict[str, Any]:
    p = table.props
    return {"project": p["project"], "revision": p["revision"], "based_on": p.get("based_on"),
            "source": p.get("source"), "goals": p.get("goals") or {"period": "", "annual": ""},
            "rows": [{"row": r.props["row"], **{k: r.props.get(k) for k in ROW_FIELDS},
                      "indicator": r.props.get("indicator"), "category": r.props.get("category")}
                     for r in sorted(rows, key=lambda n: n.props["row"])],
            "review": p.get("review"), "return_comment": p.get("return_comment"),
            "row_comments": p.get("row_comments") or [], "created_by": p.get("created_by"),
            "created_at": p.get("created_at")}


def _text(value: Any) -> str:
    """A cell as text, as typed: 95 and 95.0 are both "95"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _not_found(pid: str) -> WorkError:
    return WorkError("not_found", "project_not_found", f"项目 {pid} 不存在")


def _stale(current: int) -> WorkError:
    return WorkError("conflict", "stale_revision",
                     f"目标表已被更新为第 {current} 版，您的修改基于旧版本，未保存；请刷新后重新编辑", current_revision=current)


def _wrong_status(status: str, doing: str) -> WorkError:
    return WorkError("conflict", "wrong_status", f"项目当前状态为「{STATUS_NAMES.get(status, status)}」，不能{doing}",
                     current_status=status)


class Projects:
    """The project workflow over one store; ``infer`` suggests a project type for new projects."""

    def __init__(self, library: Library, infer: Infer | None = None):
        self.lib = library
        self.store: GraphStore = library.store
        self.infer = infer

    # --- reading with the policy ------------------------------------------------------------------
    def _project(self, who: Principal, pid: str, action: str) -> Node:
        """The project if the role may ``action`` and the user can see it; 403 / 404 otherwise.
        The role is checked before the lookup, so neither answer says whether the project exists."""
        require(who, action)
        node = self.store.get(pid) if isinstance(pid, str) and len(pid) <= 100 else None
        if node is None or node.label != PROJECT or not visible(who, node.props.get("unit")):
            raise _not_found(pid)
        return node

    def _unit_name(self, code: str | None) -> str | None:
        node = self.store.get(f"UNIT-{code}") if code else None
        return node.props.get("name") if node else None

    def list(self, who: Principal, unit: str | None = None, status: str | None = None, year: int | None = None,
             sector: str | None = None, offset: int = 0, limit: int = 50) -> dict[str, Any]:
        require(who, "project.read")
        props: dict[str, Any] = {}
        if not visible(who, unit if unit else "\0"):
            if unit and unit != who.unit:  # another unit's projects do not exist for this account
                return {"total": 0, "offset": offset, "limit": limit, "items": []}
            unit = who.unit
        if unit:
            props["unit"] = unit
        if status:
            if status not in STATUSES:
                raise WorkError("invalid", "unknown_status", f"未知的状态「{status}」；可选：{'、'.join(STATUSES)}")
            props["status"] = status
        if year is not None:
            props["year"] = year
        if sector:
            props["sector"] = self._sector_code(sector)
        page = self.store.list(PROJECT, props, offset=offset, limit=limit)
        names = {n.id: n.props.get("name") for n in self.store.get_many(
            {f"UNIT-{p.props.get('unit')}" for p in page.items}).values()}
        return {"total": page.total, "offset": offset, "limit": limit,
                "items": [project_view(n, names.get(f"UNIT-{n.props.get('unit')}")) for n in page.items]}

    def get(self, who: Principal, pid: str) -> dict[str, Any]:
        node = self._project(who, pid, "project.read")
        out = project_view(node, self._unit_name(node.props.get("unit")))
        rev = node.props.get("revision") or 0
        out["table"] = self._table(pid, rev) if rev else None
        return out

    def _table_nodes(self, pid: str, rev: int) -> tuple[Node, list[Node]] | None:
        table = self.store.get(f"{pid}/r{rev}")
        if table is None:
            return None
        rows = self.store.get_many(d for t, d in table.edges if t == "HAS_ROW")
        return table, list(rows.values())

    def _table(self, pid: str, rev: int) -> dict[str, Any]:
        got = self._table_nodes(pid, rev) if isinstance(rev, int) and rev >= 1 else None
        if got is None:
            raise WorkError("not_found", "revision_not_found", f"项目 {pid} 没有第 {rev} 版目标表")
        return table_view(*got)

    def table(self, who: Principal, pid: str, rev: int | None = None) -> dict[str, Any]:
        node = self._project(who, pid, "project.read")
        return self._table(pid, node.props.get("revision") or 0 if rev is None else rev)

    def revisions(self, who: Principal, pid: str) -> dict[str, Any]:
        node = self._project(who, pid, "project.read")
        n = node.props.get("revision") or 0
        tables = self.store.get_many(f"{pid}/r{r}" for r in range(1, n + 1))
        return {"revisions": [{"revision": t.props["revision"], "created_by": t.props.get("created_by"),
                               "created_at": t.props.get("created_at"), "score": t.props.get("score"),
                               "verdict": t.props.get("verdict"), "source": t.props.get("source")}
                              for t in sorted(tables.values(), key=lambda t: t.props["revision"])]}

    def history(self, who: Principal, pid: str) -> dict[str, Any]:
        self._project(who, pid, "project.read")
        events = self.store.list(EVENT, {"project": pid}).items
        keys = ("seq", "action", "from", "to", "actor", "at", "comment", "row_comments", "revision", "score")
        return {"events": [{k: e.props.get(k) for k in keys} for e in events]}

    def diff(self, who: Principal, pid: str, a: int, b: int) -> dict[str, Any]:
        self._project(who, pid, "project.read")
        ta, tb = self._table(pid, a), self._table(pid, b)
        return {"project": pid, "from": a, "to": b, **diff_tables(ta, tb)}

    # --- writes -----------------------------------------------------------------------------------
    def _change(self, who: Principal, pid: str, action: str,
                build: Callable[[Node], tuple[list[Node], Any]]) -> Any:
        """Read, check and write under the project's etag; on a lost race read again and re-check."""
        for _ in range(MAX_TRIES):
            node = self._project(who, pid, action)
            nodes, result = build(node)
            try:
                self.store.commit(Write(nodes, expect={pid: {"etag": node.props.get("etag", 0)}}))
                return result
            except WriteConflict:
                continue
        raise WorkError("conflict", "busy", "项目正被多人同时修改，请稍后重试")

    @staticmethod
    def _next(node: Node, **changes: Any) -> Node:
        props = {**node.props, **changes, "etag": node.props.get("etag", 0) + 1, "updated_at": audit.now()}
        return Node(node.id, PROJECT, props, project_edges(props))

    @staticmethod
    def _event(project: Node, who: Principal, action: str, frm: str | None, to: str, comment: str | None = None,
               row_comments: list[dict] | None = None, score: int | None = None) -> Node:
        """The transition event; ``project`` is the new Project node (its ``events`` already counted)."""
        seq = project.props["events"]
        return Node(f"{project.id}/e{seq:04d}", EVENT,
                    {"project": project.id, "seq": seq, "action": action, "from": frm, "to": to,
                     "actor": who.username, "at": audit.now(), "comment": comment,
                     "row_comments": row_comments or [], "revision": project.props.get("revision") or 0,
                     "score": score}, [("ABOUT", project.id)])

    def create(self, who: Principal, name: str, unit: str, year: int, amount: float, sector: str | None = None,
               project_type: str | None = None, period: str | None = None,
               description: str | None = None) -> dict[str, Any]:
        require(who, "project.create")
        if not visible(who, unit):
            raise WorkError("forbidden", "forbidden", "只能为本单位新建项目")
        unit_node = self.store.get(f"UNIT-{unit}")
        if unit_node is None or unit_node.label != UNIT:
            raise WorkError("invalid", "unknown_unit", f"预算单位「{unit}」不存在")
        if not unit_node.props.get("active", True):
            raise WorkError("invalid", "inactive_unit", f"预算单位「{unit}」已不在现行名录中")
        sector_code = self._sector_code(sector) if sector else None
        pt_id, pt_source = None, None
        if project_type:
            pt_id, pt_source = self._project_type(project_type), "confirmed"
        elif self.infer is not None:
            try:
                pt_id = self.infer(name, description or "", sector_code)
            except Exception:  # inference is a convenience: a failing recommender never blocks a project
                pt_id = None
            pt_source = "inferred" if pt_id else None
        pid = f"PRJ-{uuid.uuid4().hex[:10]}"
        now = audit.now()
        props = {"code": pid, "name": name, "unit": unit, "year": year, "amount": amount, "sector": sector_code,
                 "project_type": pt_id, "project_type_source": pt_source, "period": period or "",
                 "description": description or "", "status": "draft", "revision": 0, "submitted_revision": None,
                 "approved_revision": None, "events": 1, "etag": 1, "created_by": who.username,
                 "created_at": now, "updated_at": now}
        node = Node(pid, PROJECT, props, project_edges(props))
        event = self._event(node, who, "create", None, "draft")
        self.store.commit(Write([node, event, audit.entry(who.username, "project.create", pid, None, node)],
                                links=[(unit_node.id, "OWNS", pid)], expect={pid: None}))
        return project_view(node, unit_node.props.get("name"))

    def put_table(self, who: Principal, pid: str, revision: int, goals: dict[str, str] | None,
                  rows: list[dict[str, Any]], project_type: str | None = None,
                  source: str = "json") -> dict[str, Any]:
        """Write a new revision (``revision`` + 1) of the table; ``revision`` is the one the edit was based on."""
        first = self._project(who, pid, "project.edit")
        if not rows or len(rows) > MAX_ROWS:
            raise WorkError("invalid", "bad_rows", f"目标表应有 1–{MAX_ROWS} 行指标，收到 {len(rows)} 行")
        rows = [{k: _text(r.get(k)) for k in ROW_FIELDS} for r in rows]
        goals = {"period": str((goals or {}).get("period") or ""), "annual": str((goals or {}).get("annual") or "")}
        pt = self._project_type(project_type) if project_type else None
        review = self._review(first.props, goals, rows)
        names = self._indicator_names()

        def build(node: Node) -> tuple[list[Node], dict[str, Any]]:
            p = node.props
            status = p["status"]
            if status not in EDITABLE:
                raise _wrong_status(status, "修改目标表（审核中）")
            if revision != p.get("revision", 0):
                raise _stale(p.get("revision", 0))
            rev = revision + 1
            changes: dict[str, Any] = {"revision": rev}
            if pt:
                changes.update(project_type=pt, project_type_source="confirmed")
            if status == "approved":
                changes.update(status="draft", events=p["events"] + 1)
            new = self._next(node, **changes)
            tid = f"{pid}/r{rev}"
            targets = []
            for i, r in enumerate(rows):
                parsed = review["rows"][i] if i < len(review["rows"]) else {}
                ind = self._match_indicator(names, r["name"], p.get("sector"))
                cat = self._category(r["level2"]) or parsed.get("category_code")
                edges = ([("USES", ind)] if ind else []) + ([("IN_CATEGORY", cat)] if cat else [])
                targets.append(Node(f"{tid}/t{i:03d}", TARGET,
                                    {"project": pid, "revision": rev, "row": i, **r, "indicator": ind, "category": cat,
                                     "parsed": {k: parsed.get(k) for k in PARSED_FIELDS}}, sorted(edges)))
            table = Node(tid, TABLE, {"project": pid, "revision": rev, "based_on": revision, "goals": goals,
                                      "review": review, "score": review["score"], "verdict": review["verdict"],
                                      "source": source, "created_by": who.username, "created_at": audit.now(),
                                      "return_comment": None, "row_comments": [],
                                      "indicators": sorted({t.props["indicator"] for t in targets
                                                            if t.props["indicator"]})},
                         [("HAS_ROW", t.id) for t in targets])
            out = [new, table, *targets, audit.entry(who.username, "project.put_targets", tid, None, table,
                                                     {"based_on": revision, "rows": len(rows), "source": source})]
            if status == "approved":
                out.append(self._event(new, who, "reopen", "approved", "draft"))
            return out, table_view(table, targets)
        return self._change(who, pid, "project.edit", build)

    def submit(self, who: Principal, pid: str, revision: int | None = None) -> dict[str, Any]:
        def build(node: Node) -> tuple[list[Node], dict[str, Any]]:
            p = node.props
            if p["status"] not in SUBMIT_TO:
                raise _wrong_status(p["status"], "提交")
            rev = p.get("revision") or 0
            if revision is not None and revision != rev:
                raise _stale(rev)
            if rev == 0:
                raise WorkError("conflict", "no_table", "项目还没有目标表，请先填报再提交")
            table, rows = self._table_nodes(pid, rev)  # type: ignore[misc]
            view = table_view(table, rows)
            review = self._review(p, view["goals"], view["rows"])
            from review.history import weaker_than_history
            history_flags = weaker_than_history(self.store, p["unit"], p["year"], pid, view["rows"],
                                                {r["row"]: rr for r, rr in zip(view["rows"], review["rows"])})
            review["flags"] = sorted(review["flags"] + history_flags,
                                     key=lambda f: (f["row"] is None, f["row"] if f["row"] is not None else 0))
            to = SUBMIT_TO[p["status"]]
            new = self._next(node, status=to, submitted_revision=rev, events=p["events"] + 1)
            new_table = Node(table.id, TABLE, {**table.props, "review": review, "score": review["score"],
                                               "verdict": review["verdict"], "submitted_at": audit.now()}, table.edges)
            action = "submit" if to == "submitted" else "resubmit"
            return [new, new_table, self._event(new, who, action, p["status"], to, score=review["score"]),
                    audit.entry(who.username, f"project.{action}", pid, node, new, {"revision": rev})], \
                project_view(new, self._unit_name(p.get("unit")))
        return self._change(who, pid, "project.submit", build)

    def return_(self, who: Principal, pid: str, comment: str, row_comments: list[dict[str, Any]] | None = None,
                revision: int | None = None) -> dict[str, Any]:
        row_comments = [{"row": int(rc["row"]), "comment": str(rc["comment"])} for rc in (row_comments or [])]

        def build(node: Node) -> tuple[list[Node], dict[str, Any]]:
            p = node.props
            if p["status"] not in UNDER_REVIEW:
                raise _wrong_status(p["status"], "退回")
            rev = p.get("revision") or 0
            if revision is not None and revision != rev:
                raise _stale(rev)
            table, rows = self._table_nodes(pid, rev)  # type: ignore[misc]
            for rc in row_comments:
                if not 0 <= rc["row"] < len(rows):
                    raise WorkError("invalid", "bad_row", f"第 {rc['row']} 行不存在：第 {rev} 版目标表共 {len(rows)} 行（从 0 起）")
            new = self._next(node, status="returned", events=p["events"] + 1)
            new_table = Node(table.id, TABLE, {**table.props, "return_comment": comment, "row_comments": row_comments},
                             table.edges)
            return [new, new_table, self._event(new, who, "return", p["status"], "returned", comment, row_comments,
                                                table.props.get("score")),
                    audit.entry(who.username, "project.return", pid, node, new, {"revision": rev})], \
                project_view(new, self._unit_name(p.get("unit")))
        return self._change(who, pid, "project.return", build)

    def approve(self, who: Principal, pid: str, comment: str | None = None,
                revision: int | None = None) -> dict[str, Any]:
        def build(node: Node) -> tuple[list[Node], dict[str, Any]]:
            p = node.props
            if p["status"] not in UNDER_REVIEW:
                raise _wrong_status(p["status"], "批准")
            rev = p.get("revision") or 0
            if revision is not None and revision != rev:
                raise _stale(rev)
            table = self.store.get(f"{pid}/r{rev}")
            new = self._next(node, status="approved", approved_revision=rev, events=p["events"] + 1)
            new_table = Node(table.id, TABLE, {**table.props, "approved_by": who.username,
                                               "approved_at": audit.now()}, table.edges)
            return [new, new_table, self._event(new, who, "approve", p["status"], "approved", comment,
                                                score=table.props.get("score")),
                    audit.entry(who.username, "project.approve", pid, node, new, {"revision": rev})], \
                project_view(new, self._unit_name(p.get("unit")))
        return self._change(who, pid, "project.approve", build)

    # --- helpers -----------------------------------------------------------------------------------
    def _review(self, project: dict[str, Any], goals: dict[str, str], rows: list[dict[str, Any]]) -> dict[str, Any]:
        sector = find_sector(project["sector"]).name if project.get("sector") and find_sector(project["sector"]) else None
        doc = {"project": {"name": project.get("name"), "sector": sector, "amount": project.get("amount")},
               "goals": goals, "rows": [{k: r.get(k) for k in ROW_FIELDS} for r in rows]}
        try:
            return check_table(doc, self.lib)
        except BadDocument as e:
            raise WorkError("invalid", e.code, e.message) from None

    def _sector_code(self, text: str) -> str:
        info = find_sector(str(text))
        if info is None:
            from ontology.vocab import sectors
            raise WorkError("invalid", "unknown_sector", f"未知的行业「{text}」；可选：{'、'.join(s.name for s in sectors())}")
        return info.code

    def _project_type(self, text: str) -> str:
        try:
            return self.lib.resolve(PROJECT_TYPE, text)
        except BadQuery as e:
            raise WorkError("invalid", e.code, e.message) from None

    def _category(self, level2: str) -> str | None:
        if not level2:
            return None
        try:
            return self.lib.resolve(CATEGORY, level2)
        except BadQuery:
            return None

    def _indicator_names(self) -> dict[str, list[tuple[str, str | None]]]:
        """name → [(indicator id, sector code)], held by the library snapshot of the current version."""
        return self.lib.snapshot().derived("indicator_names", _names_of)

    @staticmethod
    def _match_indicator(names: dict[str, list[tuple[str, str | None]]], name: str, sector: str | None) -> str | None:
        """The library indicator a row uses: same name, preferring the project's sector, then general."""
        cands = names.get(name.strip())
        if not cands:
            return None
        for want in (sector, None):
            for iid, sec in cands:
                if sec == want:
                    return iid
        return cands[0][0]


def _names_of(snap: Any) -> dict[str, list[tuple[str, str | None]]]:
    names: dict[str, list[tuple[str, str | None]]] = {}
    for n in snap.indicators.values():
        if n.props.get("status") != "active":
            continue
        sec = next((d.removeprefix("SEC-") for t, d in n.edges if t == "IN_SECTOR"), None)
        names.setdefault(str(n.props.get("name", "")).strip(), []).append((n.id, sec))
    return names


def diff_tables(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Row-by-row comparison: rows are matched on (一级, 二级, 三级 name), repeated names in order."""
    def keyed(rows: list[dict]) -> dict[tuple, dict]:
        out: dict[tuple, dict] = {}
        for r in rows:
            k = (r.get("level1"), r.get("level2"), r.get("name"))
            n = 0
            while (*k, n) in out:
                n += 1
            out[(*k, n)] = r
        return out
    ka, kb = keyed(a["rows"]), keyed(b["rows"])
    rows, summary = [], {"added": 0, "removed": 0, "changed": 0, "same": 0}
    for k in list(ka) + [k for k in kb if k not in ka]:
        before, after = ka.get(k), kb.get(k)
        if before is None:
            change, fields = "added", []
        elif after is None:
            change, fields = "removed", []
        else:
            fields = [f for f in ROW_FIELDS if (before.get(f) or "") != (after.get(f) or "")]
            change = "changed" if fields else "same"
        summary[change] += 1
        rows.append({"change": change, "name": k[2], "before": before, "after": after, "fields": fields})
    goals = [{"field": f, "before": a["goals"].get(f), "after": b["goals"].get(f)}
             for f in ("period", "annual") if (a["goals"].get(f) or "") != (b["goals"].get(f) or "")]
    return {"goals": goals, "rows": rows, "summary": summary}
