"""How fast hostile inputs are refused, against an ordinary request in the same run, and what they
leave in memory (RSS from /proc/self/status).

Cases, all through the in-process API (POST /targets/check/xlsx and /targets/check):
- baseline: an ordinary 30-row 申报表 (.xlsx), reviewed;
- a zip bomb: a 1 MB .xlsx whose sheet inflates to 400 MB (refused by the zip directory);
- a million-row sheet (refused while streaming, at the row limit);
- a 150 MB JSON body streamed in 64 KB chunks (refused at the body limit, never parsed).

    python3 bench/hardening_bench.py [--runs 5]

Prints medians and the ratio to the baseline; the aim is that every refusal costs no more than
reviewing an ordinary table, and that RSS ends within a few MB of where it started."""
from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    from fastapi.testclient import TestClient
    from openpyxl import Workbook

    from api.app import create_app
    from engine.library import Library
    from graph import open_store
    from loaders import load_file
    from ontology.build import library_document, render
    from ontology.catalogue import CATALOGUE_DIR, load_catalogue
    from test_hardening import (XLSX_MIME, _asgi_post, _json_stream, bomb_parts, million_rows, rss_mb,
                                workbook_with_sheet)

    import os
    # the million-row sheet is 7 MB compressed: allow 10 MB uploads so the row guard is what refuses it
    os.environ["ZHIBIAO_MAX_CHECK_MB"] = "10"
    tmp = Path(tempfile.mkdtemp(prefix="zhibiao-hardening-"))
    cat = load_catalogue([CATALOGUE_DIR / "general.txt", ROOT / "tests" / "data" / "mini_catalogue.txt"])
    (tmp / "lib.json").write_text(render(library_document(cat)), encoding="utf-8")
    store = open_store(f"sqlite:///{tmp / 'bench.db'}")
    load_file(tmp / "lib.json", store)

    wb = Workbook()
    ws = wb.active
    ws.append(["一级指标", "二级指标", "三级指标", "指标值", "计量单位"])
    for i in range(30):
        ws.append(["产出指标", "数量指标", f"培训人次{i}", f"≥{1000 + i}", "人次"])
    buf = io.BytesIO()
    wb.save(buf)
    ordinary = buf.getvalue()
    bomb = workbook_with_sheet(bomb_parts(400), level=9)
    big = workbook_with_sheet(million_rows(), level=9)

    app = create_app(store=store, seed=False)
    app.state.library = Library(store)
    times: dict[str, list[float]] = {k: [] for k in ("ordinary 30-row xlsx", "zip bomb (400 MB inflated)",
                                                      "million-row sheet (7 MB)", "150 MB JSON body")}
    with TestClient(app) as client:
        def upload(data: bytes, want: int) -> None:
            r = client.post("/targets/check/xlsx", files={"file": ("表.xlsx", data, XLSX_MIME)})
            assert r.status_code == want, r.text[:200]
        cases = {"ordinary 30-row xlsx": lambda: upload(ordinary, 200),
                 "zip bomb (400 MB inflated)": lambda: upload(bomb, 413),
                 "million-row sheet (7 MB)": lambda: upload(big, 413),
                 "150 MB JSON body": lambda: _asgi_post(app, "/targets/check", _json_stream(150),
                                                        [(b"content-type", b"application/json")])}
        for fn in cases.values():
            fn()   # warm: the first review builds the category index
        start_rss = rss_mb()
        for _ in range(args.runs):
            for name, fn in cases.items():
                t0 = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t0)
    end_rss = rss_mb()
    base = statistics.median(times["ordinary 30-row xlsx"])
    print(f"{args.runs} runs each (median); baseline: reviewing an ordinary 30-row table")
    for name, ts in times.items():
        m = statistics.median(ts)
        print(f"  {name:<28} {m * 1000:8.1f} ms   {m / base:5.2f}x baseline")
    print(f"RSS {start_rss:.0f} MB after warm-up → {end_rss:.0f} MB after {args.runs * len(cases)} requests "
          f"({end_rss - start_rss:+.0f} MB)")
    store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
