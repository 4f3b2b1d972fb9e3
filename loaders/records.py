"""From table rows and node documents to validated graph nodes.

Rows name sectors, fields and project types in words; this step resolves them against the store
(and against what the same file defines), derives stable ids the same way the curated library does,
and checks every field, so that one pass reports every problem with its row and column."""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from graph.store import GraphStore, Node
from ontology.model import (INDICATOR_FIELDS, Field, Indicator, ProjectType, field_id, general_indicator_id,
                            industry_indicator_id, project_type_id, sector_id)
from ontology.nodes import (category_nodes, FIELD, INDICATOR, LABELS, PART_OF, PROJECT_TYPE,
                            field_node, indicator_node, indicator_record, project_type_node, sector_node)
from ontology.problems import Problem
from ontology.model import Sector
from ontology.rules import check_indicator
from ontology.values import stored_value
from ontology.vocab import category_index, find_category, find_sector, sectors

from .readers import Table, column_config

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_SPLIT = re.compile(r"[;；、,，\n]+")
_DIRECTION_WORDS = {
    "≥": "≥", ">=": "≥", "＞＝": "≥", "正向": "≥", "不低于": "≥", "不少于": "≥", "大于等于": "≥", "以上": "≥", ">": "≥",
    "≤": "≤", "<=": "≤", "＜＝": "≤", "反向": "≤", "不高于": "≤", "不超过": "≤", "小于等于": "≤", "以内": "≤",
    "控制在": "≤", "<": "≤", "=": "=", "＝": "=", "等于": "=", "达到": "=", "区间": "区间", "定性": "定性",
}


@dataclass
class Resolved:
    """Everything a load would write, with where each node came from."""
    nodes: list[Node] = field(default_factory=list)
    origin: dict[str, tuple[str, int | None]] = field(default_factory=dict)  # node id → (file, row)
    problems: list[Problem] = field(default_factory=list)


class StoreIndex:
    """Names already in the store, so rows can refer to existing sectors and project types."""

    def __init__(self, store: GraphStore):
        self.store = store
        self.fields: dict[tuple[str, str], str] = {}
        self.types: dict[tuple[str, str], str] = {}
        self.type_field: dict[str, str] = {}
        self.type_names: dict[str, str] = {}
        for n in store.iter_label(FIELD):
            sec = dict(n.edges).get(PART_OF, "")
            self.fields[(sec, n.props["name"])] = n.id
        self.field_ids = set(self.fields.values())
        for n in store.iter_label(PROJECT_TYPE):
            e = dict(n.edges)
            self.types[(e.get("IN_SECTOR", ""), n.props["name"])] = n.id
            self.type_field[n.id] = e.get(PART_OF, "")
            self.type_names[n.id] = n.props["name"]


def _lookup(values: dict[str, list[str]], text: str) -> str | None:
    t = text.strip().lower()
    for key, words in values.items():
        if t in (w.lower() for w in words):
            return key
    return None


def _split_value(value: str, unit: str) -> tuple[str | None, str]:
    """'≥95%' → ('≥', '95'); '90%-95%' → ('区间', '90-95'); '达到预期' → (None, '达到预期'): the value grammar's
    stored form (ontology/values.py), so an exported value loads back as it was."""
    return stored_value(value, unit)


def _candidate_id(v: dict[str, str], cfg: dict) -> str | None:
    """The id a row without 指标编码 would get (as rows_to_nodes derives it), or None when the row
    cannot name one; only used to find the stored indicator the row updates, in one batch."""
    cat = find_category(v.get("category", ""))
    name = v.get("name", "").strip()
    if cat is None or not name:
        return None
    sector_text = v.get("sector", "").strip()
    scope = _lookup(cfg["scope_values"], v["scope"]) if v.get("scope") else ("industry" if sector_text else "general")
    if scope != "industry":
        return general_indicator_id(cat.code, name)
    info = find_sector(sector_text) if sector_text else None
    names = [p.strip() for p in _SPLIT.split(v.get("project_types", "")) if p.strip()]
    return industry_indicator_id(info.code, names[0], name) if info and names else None


def _stored_values(node: Node) -> tuple[dict[str, str], dict]:
    """A stored indicator as row values (text, as a file would give them) plus its relations as
    ids, which are carried over as they are when the file has no column for them."""
    rec = indicator_record(node)
    text = {"category": rec.get("category") or "", "name": rec.get("name") or "", "unit": rec.get("unit") or "",
            "value_kind": rec.get("value_kind") or "", "direction": rec.get("direction") or "",
            "typical_value": rec.get("typical_value") or "", "basis": rec.get("basis") or "",
            "definition": rec.get("definition") or "", "formula": rec.get("formula") or "",
            "data_source": rec.get("data_source") or "", "sector": rec.get("sector") or "",
            "status": rec.get("status") or "active", "scope": rec.get("scope") or ""}
    return text, {"project_types": list(rec.get("project_types") or []), "field": rec.get("field"),
                  "synonyms": list(rec.get("synonyms") or [])}


def _patch(row_values: dict[str, str], stored: Node) -> tuple[dict[str, str], dict, list[str]]:
    """Row values of a row that updates ``stored``: the columns the file has win, the others keep
    the stored values. Returns (values, carried relations, fields the row clears)."""
    base, carried = _stored_values(stored)
    given = {k: val for k, val in row_values.items()}
    values = {**base, **given}
    if "typical_value" in given and "direction" not in given:
        values.pop("direction", None)     # the direction follows the new value (≥95% → ≥)
    if ("typical_value" in given or "unit" in given) and "value_kind" not in given:
        values.pop("value_kind", None)    # derived again from the new value and unit
    if "sector" in given:
        new = find_sector(given["sector"]) if given["sector"].strip() else None
        if new is None or new.code != base["sector"]:
            carried.pop("project_types", None)   # another sector: its types and field must be given
            carried.pop("field", None)
    for key in ("project_types", "field", "synonyms"):
        if key in given:
            carried.pop(key, None)
    stored_rel = _stored_values(stored)[1]
    cleared = [f for f, val in given.items() if not val.strip() and
               (base.get(f) or (stored_rel.get(f) if f in stored_rel else None))]
    return values, carried, cleared


def rows_to_nodes(table: Table, index: StoreIndex) -> Resolved:
    """Rows to nodes. A row whose indicator is already stored (by 指标编码, or by the id its
    names give) is a patch: only the columns the file has change it; an empty cell in a present
    column clears that field, with a warning naming what was cleared."""
    res = Resolved()
    cfg = column_config()
    labels = {f: names[0] for f, names in cfg["fields"].items()}
    wanted = {r.row: (r.values.get("id", "").strip() or _candidate_id(r.values, cfg)) for r in table.rows}
    stored_by_id = {i: n for i, n in index.store.get_many({i for i in wanted.values() if i}).items()
                    if n.label == INDICATOR}
    new_sectors: dict[str, Node] = {}
    new_fields: dict[str, Node] = {}
    new_types: dict[str, Node] = {}
    type_ids = dict(index.types)
    field_ids = dict(index.fields)
    seen_ids: dict[str, int] = {}
    seen_names: dict[tuple[str, str], int] = {}

    for row in table.rows:
        v = row.values
        stored = stored_by_id.get(wanted.get(row.row) or "")
        carried: dict = {}
        cleared: list[str] = []
        if stored is not None:
            v, carried, cleared = _patch(row.values, stored)

        def problem(fieldname: str | None, code: str, msg: str) -> None:
            # a field whose column the file lacks is named by its Chinese header, not its key
            column = row.columns.get(fieldname or "") or \
                (f"{labels[fieldname]}（文件中无此列）" if fieldname in labels else None)
            res.problems.append(Problem(code, msg, row.file, row.row, column, fieldname))

        before = len(res.problems)
        if stored is None:
            missing = [f for f in cfg["required"] if f not in row.values]
            if missing:
                what = f"指标编码 {row.values['id']} 在库中不存在，" if row.values.get("id") else ""
                problem(missing[0], "missing_field", f"{what}新指标须填写：{'、'.join(labels[f] for f in missing)}")
                continue
        cat = find_category(v.get("category", ""))
        if cat is None:
            names = "、".join(dict.fromkeys(c.name for c in category_index().values()))
            problem("category", "unknown_category", f"未知的二级指标 {v.get('category', '')!r}；可选：{names}")
            continue
        name = v.get("name", "").strip()
        sector_text = v.get("sector", "").strip()
        scope = _lookup(cfg["scope_values"], v["scope"]) if v.get("scope") else ("industry" if sector_text else "general")
        if scope is None:
            problem("scope", "bad_scope", f"范围应为 行业专用 或 通用，实际为 {v['scope']!r}")
            continue
        sector = None
        if scope == "industry":
            info = find_sector(sector_text) if sector_text else None
            if info is None:
                problem("sector", "unknown_sector", f"未知的行业 {sector_text!r}；可选：{'、'.join(s.name for s in sectors())}")
                continue
            sector = info
            sid = sector_id(info.code)
            new_sectors.setdefault(sid, sector_node(Sector(sid, info.code, info.name)))
        unit = v.get("unit", "").strip()
        if unit in ("-", "—", "/", "无"):
            unit = ""
        raw_value = v.get("typical_value", "").strip()
        direction_text = v.get("direction", "").strip()
        direction = _DIRECTION_WORDS.get(direction_text) if direction_text else None
        if direction_text and direction is None:
            problem("direction", "bad_direction", f"无法识别的指标方向 {direction_text!r}：应为 ≥、≤、=、区间 或 定性")
        value_direction, value = _split_value(raw_value, unit) if raw_value else (None, "")
        kind_text = v.get("value_kind", "").strip()
        if kind_text:
            kind = kind_text if kind_text in ("定量", "定性") else None
            if kind is None:
                problem("value_kind", "bad_value_kind", f"指标值类型应为 定量 或 定性，实际为 {kind_text!r}")
                kind = kind_text
        elif direction == "定性" or (not unit and value and not re.match(r"^[\d.]+$", value)):
            kind = "定性"
        else:
            kind = "定量"
        direction = direction or value_direction or ("定性" if kind == "定性" else "≥")
        if value in ("-", "—"):
            value = ""
        status = _lookup(cfg["status_values"], v["status"]) if v.get("status") else "active"
        if status is None:
            problem("status", "bad_status", f"状态应为 启用 或 停用，实际为 {v['status']!r}")
            status = v["status"]
        # project types and field
        pt_ids: list[str] = []
        fid = None
        if sector is not None and "project_types" in carried:
            pt_ids = list(carried["project_types"])   # the file has no 项目类型 column: kept as stored
            fid = carried.get("field")
            if not pt_ids:
                problem("project_types", "missing_field", "行业专用指标必须填写项目类型")
        elif sector is not None:
            field_name = v.get("field", "").strip()
            if not field_name and carried.get("field"):
                fid = carried["field"]
            elif field_name:
                fid = field_ids.get((sid, field_name)) or field_id(sector.code, field_name)
                field_ids[(sid, field_name)] = fid
                if fid not in index.field_ids:
                    new_fields.setdefault(fid, field_node(Field(fid, field_name, sid)))
            names = [p.strip() for p in _SPLIT.split(v.get("project_types", "")) if p.strip()]
            if not names:
                problem("project_types", "missing_field", "行业专用指标必须填写项目类型")
            for pname in names:
                ptid = type_ids.get((sid, pname))
                if ptid is None:
                    if fid is None:
                        problem("project_types", "unknown_project_type",
                                f"行业「{sector.name}」下没有项目类型「{pname}」；如需新建，请填写 领域 列")
                        continue
                    ptid = project_type_id(sector.code, pname)
                    type_ids[(sid, pname)] = ptid
                    new_types[ptid] = project_type_node(ProjectType(ptid, pname, fid, sid, []))
                pt_ids.append(ptid)
            if fid is None and pt_ids:
                fid = index.type_field.get(pt_ids[0]) or dict(new_types[pt_ids[0]].edges).get(PART_OF)
        given_id = v.get("id", "").strip()
        if given_id:
            if not ID_PATTERN.match(given_id):
                problem("id", "bad_id", f"指标编码只能由字母、数字、点、下划线和连字符组成（至多 64 位）：{given_id!r}")
                continue
            iid = given_id
        elif sector is not None and pt_ids:
            first_name = index.type_names.get(pt_ids[0]) or new_types[pt_ids[0]].props["name"]
            iid = industry_indicator_id(sector.code, first_name, name)
        else:
            iid = general_indicator_id(cat.code, name)
        if iid in seen_ids:
            problem("id", "duplicate_id", f"指标编码 {iid} 与第 {seen_ids[iid]} 行重复")
            continue
        seen_ids[iid] = row.row
        for pt in pt_ids:
            key = (pt, name)
            if key in seen_names:
                problem("name", "duplicate_name", f"同一项目类型下指标名称「{name}」与第 {seen_names[key]} 行重复")
            seen_names[key] = row.row
        rec = Indicator(
            id=iid, name=name, category=cat.code, scope=scope,
            sector=sector.code if sector else None, field=fid, project_types=pt_ids,
            unit=unit or None, value_kind=kind, direction=direction, typical_value=value or None,
            basis=v.get("basis") or None, definition=v.get("definition", "").strip(),
            formula=(v.get("formula") or "").strip() or None,
            data_source=(v.get("data_source") or "").strip() or cat.default_source,
            synonyms=list(carried["synonyms"]) if "synonyms" in carried else
            [s.strip() for s in _SPLIT.split(v.get("synonyms", "")) if s.strip()],
            status=status)
        if rec.formula in ("-", "—"):
            rec.formula = None
        for fieldname, code, msg in check_indicator(rec.to_dict()):
            problem(fieldname, code, msg)
        if len(res.problems) == before:
            node = indicator_node(rec)
            res.nodes.append(node)
            res.origin[node.id] = (row.file, row.row)
            if cleared:
                res.problems.append(Problem("field_cleared", f"指标 {iid}：清空了 {'、'.join(labels[f] for f in cleared)}"
                                                             "（文件中这些列的单元格为空）", row.file, row.row,
                                            None, cleared[0], severity="warning"))
    # the 21 categories come from ontology/data; upserting them is a no-op when unchanged and makes
    # a table loadable into an empty store (a bureau starting from its own library)
    extra = category_nodes() + list(new_sectors.values()) + list(new_fields.values()) + list(new_types.values())
    res.nodes = extra + res.nodes
    return res


def check_nodes(nodes: list[Node], fname: str, store: GraphStore, origin: dict[str, tuple[str, int | None]]) -> list[Problem]:
    """Checks for node documents (library JSON, RDF): labels, ids, edges, indicator field rules."""
    problems: list[Problem] = []
    ids: dict[str, int] = {}
    for i, n in enumerate(nodes):
        where = origin.get(n.id, (fname, None))
        if n.id in ids:
            problems.append(Problem("duplicate_id", f"节点编码 {n.id} 重复", where[0], where[1], None, "id"))
        ids[n.id] = i
        if not ID_PATTERN.match(n.id or ""):
            problems.append(Problem("bad_id", f"非法的节点编码 {n.id!r}", where[0], where[1], None, "id"))
        if n.label not in LABELS:
            problems.append(Problem("unknown_label", f"未知的节点类型 {n.label!r}", where[0], where[1], None, "label"))
            continue
        if n.label == INDICATOR:
            rec = indicator_record(n)
            unknown = set(n.props) - set(INDICATOR_FIELDS)
            if unknown:
                problems.append(Problem("bad_record", f"指标 {n.id} 含有未知字段：{'、'.join(sorted(unknown))}",
                                        where[0], where[1]))
                continue
            for fieldname, code, msg in check_indicator(rec):
                problems.append(Problem(code, f"指标 {n.id}：{msg}", where[0], where[1], None, fieldname))
            if rec.get("scope") == "industry" and (not rec["sector"] or not rec["project_types"]):
                problems.append(Problem("missing_field", f"行业专用指标 {n.id} 缺少行业或项目类型", where[0], where[1]))
    targets = {d for n in nodes for _, d in n.edges} - set(ids)
    known = store.get_many(targets)
    for n in nodes:
        for typ, d in n.edges:
            if d not in ids and d not in known:
                where = origin.get(n.id, (fname, None))
                problems.append(Problem("dangling_edge", f"节点 {n.id} 的 {typ} 指向不存在的节点 {d}",
                                        where[0], where[1], None, typ))
    return problems


def near_duplicates(nodes: list[Node], store_nodes: list[Node], threshold: int) -> list[Problem]:
    """Similar (not identical) names in the same category and sector: likely the same indicator twice."""
    from rapidfuzz import fuzz
    from rapidfuzz.process import cdist

    def key(n: Node) -> tuple:
        e = dict.fromkeys(("IN_CATEGORY", "IN_SECTOR"), "")
        for t, d in n.edges:
            if t in e:
                e[t] = d
        return (e["IN_CATEGORY"], e["IN_SECTOR"])
    groups: dict[tuple, dict[str, str]] = defaultdict(dict)
    for n in store_nodes + nodes:
        if n.label == INDICATOR:
            groups[key(n)][n.id] = n.props.get("name", "")
    new_by_group: dict[tuple, list[Node]] = defaultdict(list)
    for n in nodes:
        if n.label == INDICATOR:
            new_by_group[key(n)].append(n)
    out = []
    reported: set[frozenset] = set()
    for k, new in new_by_group.items():
        ids = list(groups[k])
        names = [groups[k][i] for i in ids]
        scores = cdist([n.props.get("name", "") for n in new], names, scorer=fuzz.ratio, score_cutoff=threshold)
        for row, n in enumerate(new):
            name = n.props.get("name", "")
            for col in scores[row].nonzero()[0]:
                other, score = ids[col], scores[row][col]
                if other == n.id or names[col] == name or frozenset((n.id, other)) in reported:
                    continue
                reported.add(frozenset((n.id, other)))
                out.append(Problem("near_duplicate", f"指标「{name}」（{n.id}）与同类别同行业的「{names[col]}」（{other}）"
                                                     f"名称相近（相似度 {score:.0f}），请确认不是重复指标", severity="warning"))
    return out
