"""Build the canonical library file from the curated sources, reproducibly.

    python -m ontology.build            # writes ontology/library/library.json
    python -m ontology.build --check    # fails if the file is not what the sources give

The output is deterministic (sorted, no timestamps), so a rebuild from unchanged sources yields a
byte-identical file and a diff shows exactly what a curator changed."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .catalogue import Catalogue, load_catalogue
from .nodes import category_nodes, field_node, indicator_node, project_type_node, sector_node

LIBRARY_DIR = Path(__file__).resolve().parent / "library"
LIBRARY_FILE = LIBRARY_DIR / "library.json"
STAMP_FILE = LIBRARY_DIR / "library.shacl.json"
FORMAT = "zhibiao-library/1"


def library_document(cat: Catalogue) -> dict:
    nodes = category_nodes()
    nodes += [sector_node(s) for s in sorted(cat.sectors.values(), key=lambda s: s.id)]
    nodes += [field_node(f) for f in sorted(cat.fields.values(), key=lambda f: f.id)]
    nodes += [project_type_node(p) for p in sorted(cat.project_types.values(), key=lambda p: p.id)]
    nodes += [indicator_node(i) for i in sorted(cat.indicators, key=lambda i: i.id)]
    return {"format": FORMAT, "nodes": [n.to_dict() for n in nodes]}


def render(doc: dict) -> str:
    # one node per line: readable diffs, and the loader can report the line of a bad node
    lines = [json.dumps(n, ensure_ascii=False, sort_keys=True) for n in doc["nodes"]]
    return '{"format": "%s", "nodes": [\n%s\n]}\n' % (doc["format"], ",\n".join(lines))


def doc_nodes(text: str) -> list:
    from graph.store import Node
    return [Node.from_dict(d) for d in json.loads(text)["nodes"]]


def shacl_stamp(nodes: list, text: str) -> dict:
    """Validate the whole library against the SHACL shapes once, at build time, and record it."""
    import hashlib
    from . import rdf
    problems = rdf.validate(rdf.nodes_to_graph(nodes))
    for p in problems[:20]:
        print(p, file=sys.stderr)
    return {"sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(), "shapes_sha256": rdf.shapes_hash(),
            "conforms": not problems, "nodes": len(nodes)}


def build(check_only: bool = False, out: Path = LIBRARY_FILE) -> int:
    cat = load_catalogue()
    errs = [p for p in cat.problems if p.severity == "error"]
    for p in errs[:50]:
        print(p, file=sys.stderr)
    if errs:
        print(f"源文件有 {len(errs)} 个错误，未生成库文件", file=sys.stderr)
        return 1
    text = render(library_document(cat))
    industry = sum(i.scope == "industry" for i in cat.indicators)
    if check_only:
        current = out.read_text(encoding="utf-8") if out.exists() else ""
        if current != text:
            print(f"{out} 与源文件不一致：请运行 python -m ontology.build", file=sys.stderr)
            return 1
        import hashlib
        from . import rdf
        stamp = json.loads(STAMP_FILE.read_text(encoding="utf-8")) if STAMP_FILE.exists() else {}
        if stamp.get("sha256") != hashlib.sha256(text.encode("utf-8")).hexdigest() \
                or stamp.get("shapes_sha256") != rdf.shapes_hash() or not stamp.get("conforms"):
            print(f"{STAMP_FILE} 已过期：请运行 python -m ontology.build", file=sys.stderr)
            return 1
        print(f"{out} 与源文件一致（行业指标 {industry} 个）")
        return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    stamp = shacl_stamp(doc_nodes(text), text)
    if not stamp["conforms"]:
        return 1
    STAMP_FILE.write_text(json.dumps(stamp, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"已生成 {out}：行业指标 {industry} 个，通用指标 {len(cat.indicators) - industry} 个，"
          f"行业 {len(cat.sectors)} 个，项目类型 {len(cat.project_types)} 个")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ontology.build", description="从行业源文件生成规范库文件")
    ap.add_argument("--check", action="store_true", help="只检查库文件是否与源文件一致")
    args = ap.parse_args(argv)
    return build(check_only=args.check)


if __name__ == "__main__":
    sys.exit(main())
