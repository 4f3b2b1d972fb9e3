"""Seeding the bundled library into a fresh embedded store, against parsing the same file alone.

    python bench/load_bench.py [--runs 5]

Prints the median of each and the ratio (aim: seeding under 3× parsing). Parsing is the baseline:
reading and decoding the library JSON into nodes, which any load must do."""
from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from graph import open_store  # noqa: E402
from graph.store import Node  # noqa: E402
from loaders import seed_bundled_library  # noqa: E402
from ontology.build import LIBRARY_FILE  # noqa: E402


def parse_only() -> int:
    doc = json.loads(LIBRARY_FILE.read_text(encoding="utf-8"))
    return len([Node.from_dict(d) for d in doc["nodes"]])


def seed_once(tmp: Path, i: int) -> int:
    with open_store(f"sqlite:///{tmp / f'bench{i}.db'}") as store:
        report = seed_bundled_library(store)
        return report.counts["created"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    parse_t, seed_t = [], []
    with tempfile.TemporaryDirectory() as d:
        for i in range(args.runs):
            gc.collect()  # each timing starts from the same heap: no garbage of the previous run
            t = time.perf_counter()
            n = parse_only()
            parse_t.append(time.perf_counter() - t)
            gc.collect()
            t = time.perf_counter()
            created = seed_once(Path(d), i)
            seed_t.append(time.perf_counter() - t)
    p, s = statistics.median(parse_t), statistics.median(seed_t)
    print(f"library: {LIBRARY_FILE.name}, {n} nodes, {created} created per seed, {args.runs} runs")
    print(f"parse only (baseline):   median {p * 1000:8.1f} ms")
    print(f"seed embedded store:     median {s * 1000:8.1f} ms")
    print(f"ratio seed / parse:      {s / p:6.2f}x  (aim < 3x)")


if __name__ == "__main__":
    main()
