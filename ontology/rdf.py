"""The library as RDF: export to Turtle / JSON-LD, import back, validate with SHACL.

Every node property and edge has exactly one predicate (``_PROPS``, ``_EDGES``), so an export read
back gives the same nodes: lists are sorted sets, absent values are omitted and come back as None."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Iterable

from rdflib import RDF, XSD, Graph, Literal, Namespace, URIRef
from rdflib.namespace import SKOS

from graph.store import Node

from .nodes import (APPLIES_TO, CATEGORY, FIELD, IN_CATEGORY, IN_FIELD, IN_SECTOR, INDICATOR,
                    LEVEL1, PART_OF, PROJECT_TYPE, SECTOR)
from .problems import Problem
from .rules import validation_hash as shapes_hash  # noqa: F401 (re-exported: the key of the validation stamp)

HERE = Path(__file__).resolve().parent
ZB = Namespace("https://w3id.org/zhibiao/ontology#")
ID = Namespace("https://w3id.org/zhibiao/id/")

_CLASSES = {LEVEL1: ZB.CategoryGroup, CATEGORY: ZB.GeneralCategory, SECTOR: ZB.Sector,
            FIELD: ZB.Field, PROJECT_TYPE: ZB.ProjectType, INDICATOR: ZB.Indicator}
_LABEL_OF_CLASS = {v: k for k, v in _CLASSES.items()}
_SCHEME = {LEVEL1: ZB.CategoryScheme, CATEGORY: ZB.CategoryScheme, SECTOR: ZB.SectorScheme,
           FIELD: ZB.SectorScheme, PROJECT_TYPE: ZB.SectorScheme}

# property → (predicate, kind) where kind is "text" (zh-tagged), "str", "int" or "list"
_PROPS: dict[str, dict[str, tuple[URIRef, str]]] = {
    LEVEL1: {"name": (SKOS.prefLabel, "text"), "order": (ZB.order, "int")},
    CATEGORY: {"name": (SKOS.prefLabel, "text"), "short": (ZB.shortName, "str"), "use": (ZB.use, "str"),
               "kind": (ZB.kind, "str"), "default_source": (ZB.defaultDataSource, "str"),
               "order": (ZB.order, "int")},
    SECTOR: {"code": (SKOS.notation, "str"), "name": (SKOS.prefLabel, "text")},
    FIELD: {"name": (SKOS.prefLabel, "text")},
    PROJECT_TYPE: {"name": (SKOS.prefLabel, "text"), "keywords": (ZB.keyword, "list")},
    INDICATOR: {"name": (SKOS.prefLabel, "text"), "scope": (ZB.scope, "str"), "unit": (ZB.unit, "str"),
                "value_kind": (ZB.valueKind, "str"), "direction": (ZB.direction, "str"),
                "typical_value": (ZB.typicalValue, "str"), "basis": (ZB.valueBasis, "str"),
                "definition": (SKOS.definition, "text"), "formula": (ZB.formula, "str"),
                "data_source": (ZB.dataSource, "str"), "synonyms": (SKOS.altLabel, "list"),
                "status": (ZB.status, "str")},
}
_EDGES = {PART_OF: SKOS.broader, IN_CATEGORY: ZB.category, IN_SECTOR: ZB.sector,
          IN_FIELD: ZB.field, APPLIES_TO: ZB.appliesTo}
_EDGE_OF_PRED = {v: k for k, v in _EDGES.items()}


def _bind(g: Graph) -> Graph:
    g.bind("zb", ZB)
    g.bind("id", ID)
    g.bind("skos", SKOS)
    return g


def nodes_to_graph(nodes: Iterable[Node]) -> Graph:
    g = _bind(Graph())
    for n in nodes:
        if n.label not in _CLASSES:
            continue
        s = ID[n.id]
        g.add((s, RDF.type, _CLASSES[n.label]))
        if n.label in _SCHEME:
            g.add((s, RDF.type, SKOS.Concept))
            g.add((s, SKOS.inScheme, _SCHEME[n.label]))
            if n.label in (LEVEL1, SECTOR):
                g.add((s, SKOS.topConceptOf, _SCHEME[n.label]))
        for key, (pred, kind) in _PROPS[n.label].items():
            value = n.props.get(key)
            if value is None or value == []:
                continue
            if kind == "list":
                for v in value:
                    g.add((s, pred, Literal(v, lang="zh") if pred == SKOS.altLabel else Literal(v)))
            elif kind == "text":
                g.add((s, pred, Literal(value, lang="zh")))
            elif kind == "int":
                g.add((s, pred, Literal(int(value), datatype=XSD.integer)))
            else:
                g.add((s, pred, Literal(str(value))))
        for typ, dst in n.edges:
            g.add((s, _EDGES[typ], ID[dst]))
    return g


def graph_to_nodes(g: Graph) -> tuple[list[Node], list[Problem]]:
    """Read nodes back; subjects with an unknown or missing zb class are reported, not guessed."""
    nodes: list[Node] = []
    problems: list[Problem] = []
    for s in sorted(set(g.subjects(RDF.type, None))):
        if not isinstance(s, URIRef) or not str(s).startswith(str(ID)):
            continue
        labels = [_LABEL_OF_CLASS[o] for o in g.objects(s, RDF.type) if o in _LABEL_OF_CLASS]
        node_id = str(s)[len(str(ID)):]
        if len(labels) != 1:
            problems.append(Problem("unknown_class", f"节点 {node_id} 没有唯一的 zb 类型", field="rdf:type"))
            continue
        label = labels[0]
        props: dict = {}
        for key, (pred, kind) in _PROPS[label].items():
            vals = sorted(str(o) for o in g.objects(s, pred))
            if kind == "list":
                props[key] = vals
            elif not vals:
                props[key] = None
            elif len(vals) > 1:
                problems.append(Problem("multiple_values", f"节点 {node_id} 的 {key} 有多个值", field=key))
                props[key] = vals[0]
            else:
                props[key] = int(vals[0]) if kind == "int" else vals[0]
        edges = sorted((_EDGE_OF_PRED[p], str(o)[len(str(ID)):]) for p, o in g.predicate_objects(s)
                       if p in _EDGE_OF_PRED and str(o).startswith(str(ID)))
        nodes.append(Node(node_id, label, props, edges))
    return nodes, problems


@lru_cache(maxsize=1)
def shapes_graph() -> Graph:
    return Graph().parse(HERE / "shapes.ttl", format="turtle")





@lru_cache(maxsize=1)
def vocabulary_graph() -> Graph:
    return Graph().parse(HERE / "zhibiao.ttl", format="turtle")


def validate(data: Graph) -> list[Problem]:
    """SHACL-validate a data graph (with the vocabulary for class lookups)."""
    from pyshacl import validate as shacl_validate
    from rdflib.namespace import SH
    conforms, report, _ = shacl_validate(data, shacl_graph=shapes_graph(), ont_graph=vocabulary_graph(),
                                         inference="none", advanced=True, allow_warnings=True)
    if conforms:
        return []
    problems = []
    for r in report.subjects(RDF.type, SH.ValidationResult):
        focus = report.value(r, SH.focusNode)
        path = report.value(r, SH.resultPath)
        msg = report.value(r, SH.resultMessage)
        node_id = str(focus)[len(str(ID)):] if focus is not None and str(focus).startswith(str(ID)) else str(focus)
        problems.append(Problem("shacl", f"节点 {node_id} 不满足 SHACL 约束：{msg}",
                                field=str(path).rsplit("#", 1)[-1].rsplit("/", 1)[-1] if path else None))
    return sorted(problems, key=lambda p: p.message)


def export(nodes: Iterable[Node], fmt: str) -> str:
    g = nodes_to_graph(nodes)
    if fmt == "ttl":
        return g.serialize(format="turtle")
    if fmt == "jsonld":
        context = {"zb": str(ZB), "id": str(ID), "skos": str(SKOS), "xsd": str(XSD)}
        return g.serialize(format="json-ld", context=context, indent=1, ensure_ascii=False)
    raise ValueError(fmt)
