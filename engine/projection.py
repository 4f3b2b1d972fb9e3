"""One indicator projection: the JSON shape of an indicator wherever one is served.

/indicators, /indicators/{id}, the ``indicator`` of every /search hit, recommendation items and
review suggestions all describe an indicator with ``project()``, so the same indicator reads the
same in every room. The pydantic model that documents the shape in the OpenAPI schema is
``engine.indicator_schema.IndicatorOut`` (kept apart so that the command line does not import
pydantic)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Mapping

from ontology.nodes import APPLIES_TO, IN_CATEGORY, IN_FIELD, IN_SECTOR, PART_OF

if TYPE_CHECKING:
    from graph.store import Node

#: indicator properties carried as they are stored, in this order
PROPS = ("scope", "unit", "value_kind", "direction", "typical_value", "basis", "definition", "formula",
         "data_source", "synonyms", "status")
#: every key of a projection
FIELDS = ("id", "name", "category", "level1", "sector", "field", "project_types") + PROPS

Pair = tuple[str, "str | None"]


def project(indicator_id: str, props: Mapping[str, Any], *, category: Pair | None = None,
            level1: Pair | None = None, sector: Pair | None = None, field: Pair | None = None,
            project_types: Iterable[Pair] = ()) -> dict[str, Any]:
    """The indicator ``indicator_id`` with its stored ``props`` and the (id or code, name) of its
    category, 一级 group, sector (its code, e.g. "205"), field and project types (sorted by id, so the
    order does not depend on how a store returns edges)."""
    out: dict[str, Any] = {
        "id": indicator_id,
        "name": props.get("name"),
        "category": {"code": category[0], "name": category[1]} if category else None,
        "level1": {"code": level1[0], "name": level1[1]} if level1 else None,
        "sector": {"code": sector[0], "name": sector[1]} if sector else None,
        "field": {"id": field[0], "name": field[1]} if field else None,
        "project_types": [{"id": i, "name": n} for i, n in sorted(project_types)],
    }
    for k in PROPS:
        v = props.get(k)
        out[k] = list(v) if k == "synonyms" else v
    if out["synonyms"] is None:
        out["synonyms"] = []
    return out


def project_node(node: "Node", vocab: Mapping[str, "Node"]) -> dict[str, Any]:
    """The projection of a stored indicator node, naming what its edges point to from ``vocab``
    (id → category, 一级, sector, field and project type nodes)."""
    rel: dict[str, Any] = {"project_types": []}
    for typ, dst in node.edges:
        target = vocab.get(dst)
        name = target.props.get("name") if target else None
        if typ == IN_CATEGORY:
            rel["category"] = (dst, name)
            parent = target and dict(target.edges).get(PART_OF)
            if parent and parent in vocab:
                rel["level1"] = (parent, vocab[parent].props["name"])
        elif typ == IN_SECTOR:
            rel["sector"] = (dst.removeprefix("SEC-"), name)
        elif typ == IN_FIELD:
            rel["field"] = (dst, name)
        elif typ == APPLIES_TO:
            rel["project_types"].append((dst, name))
    return project(node.id, node.props, **rel)
