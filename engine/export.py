"""Export the whole library: Turtle and JSON-LD (lossless, re-loadable), the library JSON document,
and a CSV with the Chinese headers maintainers use (re-loadable by the CSV loader)."""
from __future__ import annotations

import csv
import io

from graph.store import GraphStore
from ontology import rdf
from ontology.nodes import INDICATOR, node_indicator

from .library import Library

FORMATS = ("ttl", "jsonld", "csv", "json")
CSV_COLUMNS = ("指标编码", "范围", "一级指标", "二级指标", "三级指标", "计量单位", "指标值类型", "指标方向", "指标值",
               "指标值设定依据", "指标解释", "计算公式", "数据来源", "行业", "领域", "项目类型", "同义词", "状态")


def export_text(store: GraphStore, fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"不支持的导出格式 {fmt!r}；可选：{'、'.join(FORMATS)}")
    version, nodes = store.snapshot()
    if fmt in ("ttl", "jsonld"):
        return rdf.export(nodes, fmt)
    if fmt == "json":
        from ontology.build import render
        return render({"format": "zhibiao-library/1", "nodes": [n.to_dict() for n in nodes]})
    lib = Library(store)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for n in nodes:
        if n.label != INDICATOR:
            continue
        d = lib.describe(n)
        ind = node_indicator(n)
        w.writerow([ind.id, "通用" if ind.scope == "general" else "行业专用",
                    (d["level1"] or {}).get("name", ""), (d["category"] or {}).get("name", ""), ind.name,
                    ind.unit or "", ind.value_kind, ind.direction, ind.typical_value or "", ind.basis or "",
                    ind.definition, ind.formula or "", ind.data_source, (d["sector"] or {}).get("name", ""),
                    (d["field"] or {}).get("name", ""), ";".join(p["name"] for p in d["project_types"]),
                    ";".join(ind.synonyms), "停用" if ind.status == "deprecated" else "启用"])
    return buf.getvalue()
