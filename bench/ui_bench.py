"""Web interface speed in a real browser (Debian's chromium through Playwright; nothing downloaded).

Measures, on the bundled library served by the app on a free local port:
- bytes transferred by a first visit (empty cache) to the search page, without and with a query
  (aim: ≤ 500 KB);
- type-ahead: for each prefix (characters, pinyin, initials) typed into the box, the time from the
  /suggest response arriving in the page to the suggestions being rendered (performance marks
  ``suggest:response`` → ``suggest:rendered`` set by web/static/app.js; aim: median ≤ 100 ms), beside
  the time to the next animation frame (list on screen, mark ``suggest:painted``), beside
  the baseline of the same run: the /suggest round trip itself (fetch start → response end, from the
  Resource Timing entry of the same request).

    python bench/ui_bench.py [--rounds 5] [--store sqlite:///path.db]
"""
from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PREFIXES = ["学生", "学生满意", "xuesheng", "xueshengmanyidu", "xsmyd", "pxrc", "peixun", "培训人次", "校舍",
            "xiaoshe", "dlyh", "道路养护", "jkjy", "满意度", "wxgz", "维修改造", "cbzb", "成本", "sgaq", "施工"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seeded_store(tmp: Path) -> str:
    from graph import open_store
    from loaders import seed_bundled_library
    url = f"sqlite:///{tmp / 'bench.db'}"
    with open_store(url) as store:
        seed_bundled_library(store)
    return url


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5, help="passes over the prefix list")
    ap.add_argument("--store", help="store URL (default: a fresh embedded store seeded with the bundled library)")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("未找到 chromium（apt-get install chromium fonts-wqy-microhei）", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="zhibiao-uibench-"))
    store = args.store or seeded_store(tmp)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--host", "127.0.0.1",
                               "--port", str(port), "--log-level", "warning"], cwd=ROOT,
                              env={**os.environ, "ZHIBIAO_STORE": store})
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/health", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        urllib.request.urlopen(base + "/suggest?q=a", timeout=120).read()  # index warmed
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"])
            for path in ("/", "/?q=学生满意度"):
                ctx = browser.new_context()
                page = ctx.new_page()
                page.goto(base + path, wait_until="load")
                total = page.evaluate("""() => performance.getEntriesByType('navigation')[0].transferSize +
                    performance.getEntriesByType('resource').reduce((a, e) => a + e.transferSize, 0)""")
                print(f"first load {path:<16} {total / 1024:7.1f} KB transferred (aim ≤ 500 KB)")
                ctx.close()

            ctx = browser.new_context()
            page = ctx.new_page()
            page.goto(base + "/")
            render, paint, fetch = [], [], []
            for _ in range(args.rounds):
                for prefix in PREFIXES:
                    page.evaluate("performance.clearMeasures(); performance.clearResourceTimings()")
                    box = page.locator("#q")
                    box.fill("")
                    with page.expect_response(lambda r: "/suggest?" in r.url):
                        box.fill(prefix)
                    page.wait_for_function("performance.getEntriesByName('suggest-paint').length > 0")
                    render.append(page.evaluate("performance.getEntriesByName('suggest-render')[0].duration"))
                    paint.append(page.evaluate("performance.getEntriesByName('suggest-paint')[0].duration"))
                    fetch.append(page.evaluate("""() => { const e = performance.getEntriesByType('resource')
                        .filter(e => e.name.includes('/suggest?')).pop(); return e ? e.responseEnd - e.fetchStart : NaN }"""))
            ctx.close()
            browser.close()
        n = len(render)
        med_r, med_f = statistics.median(render), statistics.median(fetch)
        p95 = sorted(render)[int(0.95 * (n - 1))]
        print(f"type-ahead render after response: median {med_r:.2f} ms, p95 {p95:.2f} ms over {n} prefixes "
              f"(aim: median ≤ 100 ms)")
        print(f"  … to the next frame on screen:  median {statistics.median(paint):.2f} ms, "
              f"p95 {sorted(paint)[int(0.95 * (n - 1))]:.2f} ms")
        print(f"baseline /suggest round trip:     median {med_f:.2f} ms; render is {med_r / med_f:.3f}x of it")
        return 0
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
