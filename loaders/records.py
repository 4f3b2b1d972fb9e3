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
from ontology.vocab import category_index, find_category, find_sector, sectors

from .readers import Table, column_config

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_SPLIT = re.compile(r"[;；、,，\n]+")
_DIRECTION_WORDS = {
    "≥": "≥", ">=": "≥", "＞＝": "≥", "正向": "≥", "不低于": "≥", "不少于": "≥", "大于等于": "≥", "以上": "≥", ">": "≥",
    "≤": "≤", "<=": "≤", "＜＝": "≤", "反向": "≤", "不高于": "≤", "不超过": "≤", "小于等于": "≤", "以内": "≤",
    "控制在": "≤", "<": "≤", "=": "=", "＝": "=", "等于": "=", "达到": "=", "区间": "区间", "定性": "定性",
}
_VALUE_PREFIX = re.compile(r"^(≥|≤|>=|<=|＞＝|＜＝|>|<|=|＝|不低于|不少于|不高于|不超过|控制在|达到)\s*")
_RANGE_VALUE = re.compile(r"^(\d+(?:\.\d+)?)\s*%?\s*[-~～—至]\s*(\d+(?:\.\d+)?)\s*%?$")


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
    """'≥95%' → ('≥', '95'); '90%-95%' → ('区间', '90-95'); plain '95' → (None, '95')."""
    v = value.strip()
    m = _RANGE_VALUE.match(v)
    if m:
        return "区间", f"{m.group(1)}-{m.group(2)}"
    direction = None
    m = _VALUE_PREFIX.match(v)
    if m:
        direction = _DIRECTION_WORDS.get(m.group(1), None)
        v = v[m.end():]
    for suffix in sorted({unit, "%", "以上", "以内", "以下"} - {""}, key=len, reverse=True):
        if v.endswith(suffix) and v[: -len(suffix)].strip():
            if suffix in ("以上",):
                direction = direction or "≥"
            if suffix in ("以内", "以下"):
                direction = direction or "≤"
            v = v[: -len(suffix)].strip()
    return direction, v


def rows_to_nodes(table: Table, index: StoreIndex) -> Resolved:
    res = Resolved()
    cfg = column_config()
    new_sectors: dict[str, Node] = {}
    new_fields: dict[str, Node] = {}
    new_types: dict[str, Node] = {}
    type_ids = dict(index.types)
    field_ids = dict(index.fields)
    seen_ids: dict[str, int] = {}
    seen_names: dict[tuple[str, str], int] = {}

    for row in table.rows:
        v = row.values

        def problem(fieldname: str | None, code: str, msg: str) -> None:
            res.problems.append(Problem(code, msg, row.file, row.row,
                                        row.columns.get(fieldname or "", None), fieldname))

        before = len(res.problems)
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
        if sector is not None:
            field_name = v.get("field", "").strip()
            if field_name:
                fid = field_ids.get((sid, field_name)) or field_id(sector.code, field_name)
                field_ids[(sid, field_name)] = fid
                if fid not in index.fields.values():
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
            synonyms=[s.strip() for s in _SPLIT.split(v.get("synonyms", "")) if s.strip()],
            status=status)
        if rec.formula in ("-", "—"):
            rec.formula = None
        for fieldname, code, msg in check_indicator(rec.to_dict()):
            problem(fieldname, code, msg)
        if len(res.problems) == before:
            node = indicator_node(rec)
            res.nodes.append(node)
            res.origin[node.id] = (row.file, row.row)
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
