"""Computing every warning of a full generated year (130 units, 900 projects, 92 monitored with two
reports each) from the store, on the embedded store and on Neo4j.

    python bench/loop_bench.py [--runs 5] [--scale full]
    NEO4J_URI=bolt://127.0.0.1:7687 python bench/loop_bench.py      # also Neo4j (the database is wiped)

For each store: the time to load the year, then the median of ``--runs`` computations of all warnings
from the stored plans, targets and each project's latest report (``loop.service.compute_warnings``),
after checking that the yearly report read back from the store reproduces the generator's totals,
and the median of the bureau's warning list (``list_warnings`` over the stored warnings). The named
baseline, run in the same process, is the pure computation over the generator's in-memory year
(no store): the ratio says what reading the year from the store costs. Every store must find the
same warnings as the baseline (checked)."""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.accounts import Principal  # noqa: E402
from graph import GraphStore, open_store  # noqa: E402
from loop import service  # noqa: E402
from loop.generate import Year, generate_year  # noqa: E402
from loop.load import load_year  # noqa: E402
from loop.monitoring import all_warnings  # noqa: E402

REVIEWER = Principal("bench", "reviewer")


def baseline(y: Year) -> list[dict]:
    """All warnings from the in-memory year: each monitored project's latest report."""
    by_id = {p["id"]: p for p in y.projects}
    latest: dict[str, dict] = {}
    for r in y.reports:
        if r["project_id"] not in latest or r["as_of"] > latest[r["project_id"]]["as_of"]:
            latest[r["project_id"]] = r
    return all_warnings((by_id[pid], y.plans[pid], r) for pid, r in latest.items())


def key(ws: list[dict]) -> list[tuple]:
    return sorted((w["project_id"], w["kind"], w["row"], w["measure"]) for w in ws)


def median_of(fn, runs: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(runs):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def check_totals(name: str, rep: dict, y: Year) -> None:
    """The yearly report read back from the store reproduces the generator's declared totals to the 元."""
    t = y.totals
    got = {"projects": rep["projects"]["count"], "units": rep["projects"]["units"], "budget": rep["projects"]["amount"],
           "monitored": {k: rep["monitoring"][k] for k in ("projects", "units", "amount")},
           "evaluated": {"projects": rep["evaluation"]["key_evaluated"], "amount": rep["evaluation"]["key_amount"]},
           "appraised": {k: rep["appraisal"][k] for k in ("projects", "requested", "cut")}}
    want = {k: t[k] for k in got}
    assert got == want, f"{name}: 年度报告合计 {got} 与生成输入 {want} 不一致"
    print(f"{name:8s} 年度报告合计与生成输入一致：{t['projects']} 个项目 {t['budget'] / 1e8:.2f} 亿元；监控 "
          f"{t['monitored']['projects']} 个 {t['monitored']['amount'] / 1e8:.2f} 亿元；重点评价 {t['evaluated']['projects']} 个 "
          f"{t['evaluated']['amount'] / 1e8:.2f} 亿元；事前评估 {t['appraised']['projects']} 个，申请 "
          f"{t['appraised']['requested'] / 1e8:.2f} 亿元，核减 {t['appraised']['cut'] / 1e8:.2f} 亿元")


def bench_store(name: str, store: GraphStore, y: Year, runs: int, expected: list[tuple], base: float) -> None:
    t = time.perf_counter()
    counts = load_year(store, y)
    load = time.perf_counter() - t
    check_totals(name, service.yearly_report(store, REVIEWER, y.year), y)
    med, ws = median_of(lambda: service.compute_warnings(store, y.year), runs)
    assert key(ws) == expected, f"{name}: 预警与基线不一致"
    med_list, listed = median_of(lambda: service.list_warnings(store, REVIEWER, year=y.year, limit=500), runs)
    print(f"{name:8s} 载入 {sum(counts.values()):,} 个节点 {load:6.2f} s | 计算全部预警 {len(ws)} 条："
          f"中位数 {med * 1000:8.1f} ms（基线的 {med / base:5.1f} 倍） | 财政预警列表 {listed['total']} 条："
          f"中位数 {med_list * 1000:7.1f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--scale", choices=["full", "test"], default="full")
    args = ap.parse_args()
    y = generate_year(args.scale)
    mon = [p for p in y.projects if p["id"] in y.plans]
    print(f"生成年度：{len(y.units)} 个单位，{len(y.projects)} 个项目，监控 {len(mon)} 个项目"
          f"（{len({p['unit'] for p in mon})} 个单位，{sum(p['amount'] for p in mon) / 1e8:.2f} 亿元），"
          f"{len(y.reports)} 份监控报告；每项取 {args.runs} 次的中位数")
    base, ws = median_of(lambda: baseline(y), args.runs)
    expected = key(ws)
    print(f"{'基线':8s} 内存中纯计算（无存储）全部预警 {len(ws)} 条：中位数 {base * 1000:8.1f} ms")
    with tempfile.TemporaryDirectory() as d:
        with open_store(f"sqlite:///{Path(d) / 'loop.db'}") as store:
            bench_store("SQLite", store, y, args.runs, expected, base)
    uri = os.environ.get("NEO4J_URI")
    if uri:
        from graph.neo4j_store import Neo4jStore
        with open_store(uri) as store:
            assert isinstance(store, Neo4jStore)
            store.wipe()
            bench_store("Neo4j", store, y, args.runs, expected, base)
            store.wipe()
    else:
        print("Neo4j：未设置 NEO4J_URI，跳过（scripts/neo4j-local start 后 export NEO4J_URI=…）")


if __name__ == "__main__":
    main()
