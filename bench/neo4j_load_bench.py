"""Loading the whole bundled library into Neo4j: the store's batched path (one transaction of
UNWIND batches) against a naive loop of one MERGE per node and per edge, each its own transaction.

    scripts/neo4j-local start && NEO4J_URI=bolt://127.0.0.1:7687 python bench/neo4j_load_bench.py [--runs 3]

Prints the median time of each, nodes per second and the ratio (aim: batched 20x or more faster).
Both start from an empty database; the naive loop writes the same nodes, labels and edges."""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from graph import open_store  # noqa: E402
from graph.neo4j_store import Neo4jStore, _flat  # noqa: E402
from graph.store import ChangeSet, LoadRecord, Node  # noqa: E402
from graph import cypher as Q  # noqa: E402
from ontology.build import LIBRARY_FILE  # noqa: E402


def nodes() -> list[Node]:
    return [Node.from_dict(d) for d in json.loads(LIBRARY_FILE.read_text(encoding="utf-8"))["nodes"]]


def batched(store: Neo4jStore, ns: list[Node]) -> float:
    store.wipe()
    t = time.perf_counter()
    store.apply(ChangeSet(ns), LoadRecord("bench", "", "bench", {}))
    return time.perf_counter() - t


def naive(store: Neo4jStore, ns: list[Node]) -> float:
    """What a first attempt looks like: a MERGE per row, auto-committed one by one."""
    store.wipe()
    t = time.perf_counter()
    with store._session() as s:
        for n in ns:
            s.run("MERGE (n:ZNode {id: $id}) SET n = $props", id=n.id, props=_flat(n, n.content_hash())).consume()
            s.run(f"MATCH (n:ZNode {{id: $id}}) SET n:{n.label}", id=n.id).consume()
        for n in ns:
            for typ, dst in n.edges:
                s.run(Q.CREATE_EDGES[typ], rows=[{"src": n.id, "dst": dst}]).consume()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    uri = os.environ.get("NEO4J_URI")
    if not uri:
        sys.exit("NEO4J_URI 未设置：先运行 scripts/neo4j-local start，再 export NEO4J_URI=bolt://127.0.0.1:7687")
    store = open_store(uri)
    assert isinstance(store, Neo4jStore)
    ns = nodes()
    edges = sum(len(n.edges) for n in ns)
    b = [batched(store, ns) for _ in range(args.runs)]
    n = [naive(store, ns) for _ in range(args.runs)]
    store.wipe()
    store.close()
    mb, mn = statistics.median(b), statistics.median(n)
    print(f"library: {len(ns)} nodes, {edges} edges, {args.runs} runs each, server {uri}")
    print(f"batched UNWIND, one transaction: median {mb:8.2f} s  ({len(ns) / mb:9.0f} nodes/s)")
    print(f"naive MERGE per row:             median {mn:8.2f} s  ({len(ns) / mn:9.0f} nodes/s)")
    print(f"ratio naive / batched:           {mn / mb:8.1f}x  (aim >= 20x)")


if __name__ == "__main__":
    main()
