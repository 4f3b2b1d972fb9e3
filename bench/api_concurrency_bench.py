"""Throughput of /stats and /indicators?limit=500 under 32 concurrent clients, against /health in
the same run (the baseline: one version read and a tiny answer). Aim: both within 3x of /health.

A real server (uvicorn, one process) on 127.0.0.1 and a free port serves the bundled library from
an embedded store; 32 asyncio clients each keep one HTTP/1.1 connection and send requests back to
back for a fixed time. Endpoints alternate run by run so none profits from a warmer machine; the
figure per endpoint is the median of the runs.

    python3 bench/api_concurrency_bench.py [--store sqlite:///path.db] [--neo4j bolt://127.0.0.1:7687]
                                           [--runs 5] [--seconds 3] [--cold-pages 9]

With --neo4j the same measurements run against Neo4j too, and the ratio Neo4j / embedded for
/indicators?limit=500 is printed (aim: within 3x), both for cached pages under load and for the
first request of each page (the store read).

Without --store the bundled library is seeded into a temporary store first (takes a while)."""
from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PATHS = {"health": "/health", "stats": "/stats", "indicators500": "/indicators?limit=500"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def client(port: int, path: str, stop: float, counts: list[int], latencies: list[float]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n".encode()
    try:
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            writer.write(request)
            await writer.drain()
            length = 0
            status = await reader.readline()
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            if not status.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"{path}: {status!r}")
            counts[0] += 1
            latencies.append(time.perf_counter() - t0)
    finally:
        writer.close()


async def run_once(port: int, path: str, clients: int, seconds: float) -> tuple[float, float]:
    counts = [0]
    latencies: list[float] = []
    start = time.perf_counter()
    await asyncio.gather(*(client(port, path, start + seconds, counts, latencies) for _ in range(clients)))
    elapsed = time.perf_counter() - start
    return counts[0] / elapsed, statistics.median(latencies) * 1000


def seed(url: str) -> None:
    from graph import open_store
    from loaders import seed_bundled_library
    with open_store(url) as store:
        if store.is_empty():
            print("seeding the bundled library …", file=sys.stderr)
            seed_bundled_library(store)


def cold_pages(port: int, pages: int) -> float:
    """Median latency (ms) of /indicators?limit=500 pages each asked for the first time this version:
    the path that reads the store (one bounded query per page, then the encoded answer is kept)."""
    lat = []
    for k in range(pages):
        t0 = time.perf_counter()
        urllib.request.urlopen(f"http://127.0.0.1:{port}/indicators?limit=500&offset={500 * (k + 1)}", timeout=120).read()
        lat.append((time.perf_counter() - t0) * 1000)
    return statistics.median(lat)


def wait_ready(port: int) -> None:
    """Until the server on ``port`` answers /health (at most a minute)."""
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).read()
            return
        except OSError:
            time.sleep(0.2)


BARE_APP = ("import uvicorn\nfrom fastapi import FastAPI\napp = FastAPI()\n"
            "@app.get('/health')\ndef health():\n    return {'status': 'ok'}\n"
            "uvicorn.run(app, host='127.0.0.1', port={port}, log_level='warning')\n")


def bare_health(args: argparse.Namespace) -> float:
    """req/s of /health on a bare FastAPI app (a sync endpoint, nothing else) served the same way:
    the HTTP floor this app's own /health is compared with."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", BARE_APP.replace("{port}", str(port))], cwd=ROOT)
    try:
        wait_ready(port)
        return statistics.median(asyncio.run(run_once(port, "/health", args.clients, args.seconds))[0]
                                 for _ in range(args.runs))
    finally:
        server.terminate()
        server.wait(timeout=10)


def measure(url: str, args: argparse.Namespace) -> dict[str, float]:
    """Serve ``url`` with uvicorn and measure every endpoint; returns req/s and p50 per endpoint and the
    cold-page median."""
    seed(url)
    port = free_port()
    code = ("import uvicorn; from api.app import create_app; "
            f"uvicorn.run(create_app({url!r}, seed=False), host='127.0.0.1', port={port}, log_level='warning')")
    server = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)
    try:
        wait_ready(port)
        # the start-up warm-up (search index, library snapshot, review's index) runs in background threads:
        # wait for it (these two requests block until it is there), or the first pages would pay for it
        urllib.request.urlopen(f"http://127.0.0.1:{port}/search?q=%E6%BB%A1%E6%84%8F%E5%BA%A6", timeout=300).read()
        check = json.dumps({"rows": [{"level2": "满意度指标", "name": "群众满意度", "value": "≥90%"}]}).encode()
        urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/targets/check", data=check,
                                                      headers={"Content-Type": "application/json"}), timeout=300).read()
        out: dict[str, float] = {"cold500_ms": cold_pages(port, args.cold_pages)}
        for path in PATHS.values():   # warm: the first request of a version computes its answer
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=60).read()
        rates: dict[str, list[float]] = {k: [] for k in PATHS}
        p50: dict[str, list[float]] = {k: [] for k in PATHS}
        for i in range(args.runs):
            order = list(PATHS) if i % 2 == 0 else list(reversed(PATHS))
            for name in order:
                rate, median_ms = asyncio.run(run_once(port, PATHS[name], args.clients, args.seconds))
                rates[name].append(rate)
                p50[name].append(median_ms)
        print(f"{args.clients} clients, {args.runs} runs of {args.seconds:g} s each, store {url}")
        base = statistics.median(rates["health"])
        for name, path in PATHS.items():
            r = statistics.median(rates[name])
            out[name] = r
            out[f"{name}_p50"] = statistics.median(p50[name])
            print(f"  {path:<24} {r:8.0f} req/s  p50 {out[name + '_p50']:7.1f} ms  health/this = {base / r:4.2f}x")
        print(f"  first request of a 500-item page (store read), median of {args.cold_pages}: {out['cold500_ms']:.1f} ms")
        worst = max(base / out[n] for n in ("stats", "indicators500"))
        print(f"aim: /stats and /indicators?limit=500 within 3x of /health — worst {worst:.2f}x "
              f"{'(met)' if worst <= 3 else '(NOT met)'}")
        return out
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", help="the store to serve (default: a temporary embedded store, seeded)")
    ap.add_argument("--neo4j", metavar="URL", help="also serve this Neo4j (seeded if empty) and compare it with the embedded store")
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--cold-pages", type=int, default=9, help="distinct 500-item pages timed on first request")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="zhibiao-bench-")
    url = args.store or f"sqlite:///{tmp}/bench.db"
    sys.path.insert(0, str(ROOT))
    embedded = measure(url, args)
    bare = bare_health(args)
    print(f"bare FastAPI /health (sync endpoint, same server stack): {bare:.0f} req/s; this app's /health "
          f"(a version read, middleware) reaches {embedded['health'] / bare:.2f}x of it")
    if args.neo4j:
        neo = measure(args.neo4j, args)
        warm = embedded["indicators500"] / neo["indicators500"]
        cold = neo["cold500_ms"] / embedded["cold500_ms"]
        print(f"/indicators?limit=500, Neo4j / embedded store in the same run (time per request): cached pages "
              f"under load {warm:.2f}x, first request of a page {cold:.2f}x — aim within 3x: "
              f"{'met' if max(warm, cold) <= 3 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
