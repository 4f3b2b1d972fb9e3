"""Target review speed: one 30-row table checked in-process and over HTTP (FastAPI TestClient,
JSON and the Excel upload), against parsing the 30 values alone as the baseline.

    python bench/review_bench.py [--runs 200] [--store URL]

Without --store the bundled library is seeded into a temporary embedded store (a few seconds,
not timed), so suggestions search all 10,285 industry indicators. Prints medians in ms; aim:
in-process under 5 ms. "cold" clears the suggestion memo before every run (every vague row
searches the library); "warm" keeps it, as a server does between submissions."""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.library import Library  # noqa: E402
from graph import open_store  # noqa: E402
from review.checker import check_table  # noqa: E402
from review.classify import index_for  # noqa: E402
from review.evaluate import load_all  # noqa: E402
from review.values import parse_value  # noqa: E402


def table_30() -> dict:
    """30 rows as units write them (good and weak), from the labelled set."""
    rows = [r for t in load_all()[:4] for r in t["rows"]][:30]
    return {"project": {"name": "义务教育学校综合项目", "sector": "教育", "amount": 20_000_000},
            "goals": {"period": "2025—2027年完成32所农村学校校舍维修改造", "annual": "年内完成12所学校校舍维修改造"},
            "rows": rows}


def median_ms(fn, runs: int) -> float:
    fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--store", help="已有存储（默认在临时目录载入内置指标库）")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(args.store or f"sqlite:///{Path(tmp) / 'bench.db'}")
        if store.is_empty():
            from loaders import seed_bundled_library
            print("载入内置指标库（不计时）……", file=sys.stderr)
            seed_bundled_library(store)
        lib = Library(store)
        doc = table_30()
        assert len(doc["rows"]) == 30
        idx = index_for(lib)
        res = check_table(doc, lib)
        print(f"表：30 行，{len(res['flags'])} 条提示，评分 {res['score']}；指标库 {len(idx.refs)} 个指标")

        baseline = median_ms(lambda: [parse_value(r["value"], r.get("unit")) for r in doc["rows"]], args.runs)

        def cold() -> None:
            idx.memo.clear()
            check_table(doc, lib)
        in_cold = median_ms(cold, args.runs)
        in_warm = median_ms(lambda: check_table(doc, lib), args.runs)

        from fastapi.testclient import TestClient

        from api.app import create_app
        from api.routes import targets
        from review.labelled.make_sample_xlsx import write
        app = create_app(store=store, seed=False)
        if not any(getattr(r, "path", "") == "/targets/check" for r in app.router.routes):
            app.include_router(targets.router)
        xlsx = write(Path(tmp) / "申报表.xlsx").read_bytes()
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        with TestClient(app) as client:
            http_json = median_ms(lambda: client.post("/targets/check", json=doc).raise_for_status(), args.runs)
            http_xlsx = median_ms(lambda: client.post("/targets/check/xlsx", files={"file": ("a.xlsx", xlsx, mime)})
                                  .raise_for_status(), max(args.runs // 4, 10))
        store.close()
    print(f"基线：只解析 30 个指标值            {baseline:7.2f} ms")
    print(f"进程内 check_table（cold 建议缓存）  {in_cold:7.2f} ms  （{in_cold / baseline:.1f}× 基线）")
    print(f"进程内 check_table（warm）           {in_warm:7.2f} ms  （{in_warm / baseline:.1f}× 基线）")
    print(f"HTTP POST /targets/check（JSON）     {http_json:7.2f} ms")
    print(f"HTTP POST /targets/check/xlsx（11 行）{http_xlsx:7.2f} ms")
    ok = in_cold < 5.0
    print("目标：进程内 < 5 ms —— " + ("达到" if ok else "未达到"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
