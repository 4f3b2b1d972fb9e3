"""Mapping between the ontology's records and the graph store's nodes and edges.

Labels and edge types are the graph vocabulary shared by both stores and by the RDF export::

    (Category)-[:PART_OF]->(Level1)
    (Field)-[:PART_OF]->(Sector)          (ProjectType)-[:PART_OF]->(Field)
    (Indicator)-[:IN_CATEGORY]->(Category)
    (Indicator)-[:IN_SECTOR]->(Sector)    (Indicator)-[:IN_FIELD]->(Field)
    (Indicator)-[:APPLIES_TO]->(ProjectType)

Projects, targets and budget units will join as further labels (Project, Target, BudgetUnit)."""
from __future__ import annotations

from graph.store import Node

from .model import Field, Indicator, ProjectType, Sector, sector_id
from .vocab import categories, level1_groups

LEVEL1, CATEGORY, SECTOR, FIELD, PROJECT_TYPE, INDICATOR = (
    "Level1", "Category", "Sector", "Field", "ProjectType", "Indicator")
LABELS = (LEVEL1, CATEGORY, SECTOR, FIELD, PROJECT_TYPE, INDICATOR)
PART_OF, IN_CATEGORY, IN_SECTOR, IN_FIELD, APPLIES_TO = (
    "PART_OF", "IN_CATEGORY", "IN_SECTOR", "IN_FIELD", "APPLIES_TO")


#: properties that are relations: kept as edges only, rebuilt from edges when read back
_RELATION_PROPS = ("category", "sector", "field", "project_types")


def category_nodes() -> list[Node]:
    """The 7 一级 groups and 21 二级 categories, from ontology/data/categories.yaml."""
    out = [Node(code, LEVEL1, {"name": name, "order": i}) for i, (code, name) in enumerate(level1_groups())]
    for i, c in enumerate(categories()):
        out.append(Node(c.code, CATEGORY, {"name": c.name, "short": c.short, "use": c.use,
                                           "kind": c.kind, "default_source": c.default_source,
                                           "order": i},
                        [(PART_OF, c.level1_code)]))
    return out


def sector_node(s: Sector) -> Node:
    return Node(s.id, SECTOR, {"code": s.code, "name": s.name})


def field_node(f: Field) -> Node:
    return Node(f.id, FIELD, {"name": f.name}, [(PART_OF, f.sector)])


def project_type_node(p: ProjectType) -> Node:
    return Node(p.id, PROJECT_TYPE, {"name": p.name, "keywords": sorted(set(p.keywords))},
                sorted([(PART_OF, p.field), (IN_SECTOR, p.sector)]))


def indicator_node(ind: Indicator) -> Node:
    props = ind.to_dict()
    for key in ("id",) + _RELATION_PROPS:
        props.pop(key)
    props["synonyms"] = sorted(set(props["synonyms"]))
    edges = [(IN_CATEGORY, ind.category)]
    if ind.sector:
        edges.append((IN_SECTOR, sector_id(ind.sector)))
    if ind.field:
        edges.append((IN_FIELD, ind.field))
    edges += [(APPLIES_TO, pt) for pt in ind.project_types]
    return Node(ind.id, INDICATOR, props, sorted(set(edges)))


def indicator_record(node: Node) -> dict:
    """The indicator's fields as a plain dict (cheap: no dataclass round trip), for validation."""
    rel: dict = {"category": None, "sector": None, "field": None, "project_types": []}
    for typ, dst in node.edges:
        if typ == IN_CATEGORY:
            rel["category"] = dst
        elif typ == IN_SECTOR:
            rel["sector"] = dst.removeprefix("SEC-")
        elif typ == IN_FIELD:
            rel["field"] = dst
        elif typ == APPLIES_TO:
            rel["project_types"].append(dst)
    return {"id": node.id, **node.props, **rel}


def node_indicator(node: Node) -> Indicator:
    return Indicator.from_dict(indicator_record(node))

