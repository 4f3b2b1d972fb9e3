"""Export the whole library: Turtle and JSON-LD (lossless, re-loadable), the library JSON document,
and a CSV or an Excel workbook with the Chinese headers maintainers use (both re-loadable by the
table loader). The CSV starts with a byte-order mark so that Excel on a Chinese Windows PC opens it
as UTF-8 instead of showing garbled text."""
from __future__ import annotations

import csv
import io

from graph.store import GraphStore
from ontology import rdf
from ontology.nodes import INDICATOR, node_indicator

from .library import Library

FORMATS = ("ttl", "jsonld", "csv", "json", "xlsx")
BINARY_FORMATS = ("xlsx",)
CSV_COLUMNS = ("指标编码", "范围", "一级指标", "二级指标", "三级指标", "计量单位", "指标值类型", "指标方向", "指标值",
               "指标值设定依据", "指标解释", "计算公式", "数据来源", "行业", "领域", "项目类型", "同义词", "状态")


def export_text(store: GraphStore, fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"不支持的导出格式 {fmt!r}；可选：{'、'.join(FORMATS)}")
    if fmt in BINARY_FORMATS:
        raise ValueError(f"{fmt} 是二进制格式：请用 export_bytes")
    version, nodes = store.snapshot()
    if fmt in ("ttl", "jsonld"):
        return rdf.export(nodes, fmt)
    if fmt == "json":
        from ontology.build import render
        return render({"format": "zhibiao-library/1", "nodes": [n.to_dict() for n in nodes]})
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    w.writerows(_indicator_rows(store, nodes))
    return "\ufeff" + buf.getvalue()


def export_bytes(store: GraphStore, fmt: str) -> bytes:
    """Any format as bytes: the text formats UTF-8 encoded, ``xlsx`` as an Excel workbook."""
    if fmt != "xlsx":
        return export_text(store, fmt).encode("utf-8")
    from openpyxl import Workbook
    from openpyxl.styles import Font
    _, nodes = store.snapshot()
    wb = Workbook()
    ws = wb.active
    ws.title = "指标库"
    ws.append(list(CSV_COLUMNS))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in _indicator_rows(store, nodes):
        ws.append(row)
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _indicator_rows(store: GraphStore, nodes: list) -> list[list[str]]:
    lib = Library(store)
    vocab = lib.vocab()
    rows = []
    for n in nodes:
        if n.label != INDICATOR:
            continue
        d = lib.describe(n, vocab)
        ind = node_indicator(n)
        rows.append([ind.id, "通用" if ind.scope == "general" else "行业专用",
                     (d["level1"] or {}).get("name", ""), (d["category"] or {}).get("name", ""), ind.name,
                     ind.unit or "", ind.value_kind, ind.direction, ind.typical_value or "", ind.basis or "",
                     ind.definition, ind.formula or "", ind.data_source, (d["sector"] or {}).get("name", ""),
                     (d["field"] or {}).get("name", ""), ";".join(p["name"] for p in d["project_types"]),
                     ";".join(ind.synonyms), "停用" if ind.status == "deprecated" else "启用"])
    return rows
