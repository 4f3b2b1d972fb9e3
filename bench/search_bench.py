"""Search speed and quality, side by side, in one run.

    python bench/search_bench.py                       # engines + HTTP + 100k scale
    NEO4J_URI=bolt://127.0.0.1:7687 python bench/search_bench.py
    python bench/search_bench.py --sizes 100000,1000000 --http-seconds 10
    python bench/search_bench.py --skip engines,http,scale   # the command-line start only

1. The labelled queries (search/labelled/queries.yaml) through
   (a) this engine (search.index, in process),
   (b) Neo4j's full-text index with the cjk analyzer, through the driver (Neo4jStore.fulltext;
       needs NEO4J_URI; an empty Neo4j is seeded with the bundled library first; a non-empty one
       is used as it is, never wiped),
   (c) brute force: rapidfuzz WRatio of the query against every indicator name;
   median and p99 latency and recall@10 of each, with the ratios to (a).
2. HTTP: requests per second of GET /search (rotating through the labelled queries) under
   concurrent load from wrk on loopback, as a ratio to GET /health of the same app in the same run
   (without wrk, a Python asyncio client is used and said so: it measures less precisely).
3. Scale: the library replicated with generated name variants to 100,000 (and optionally
   1,000,000) indicators. Per size, one child process builds and saves the index (build time, its
   peak memory, and the peak RSS of the largest worker it forked, shared pages included; a
   library of 40,000 texts or more is built with os.cpu_count() workers) and a fresh child maps
   it as a serving replica would (time to open, peak RSS of that process, query latency with
   facets and without the result memo): each figure is the size's own, not the maximum of
   everything run before. Only this part: --skip engines,http,cli.
4. Command line: `zhibiao search 学生满意度` in a fresh process with a warm cache (median wall
   time and peak memory of several runs) and whether networkx is imported on that path.

Why these baselines: (b) is what a Neo4j deployment gives for free, so the engine has to beat it
to justify itself (aim: 10x faster, higher recall); (c) is the obvious "no index" answer and
shows what typo tolerance costs without candidate generation."""
from __future__ import annotations

import argparse
import json
import logging
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graph.store import Node  # noqa: E402
from search.evaluate import K, _metrics, load_queries, relevant_ids  # noqa: E402
from search.index import SearchIndex  # noqa: E402


def bundled_nodes() -> list[Node]:
    from ontology.build import LIBRARY_FILE
    return [Node.from_dict(d) for d in json.loads(LIBRARY_FILE.read_text(encoding="utf-8"))["nodes"]]


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]


def run_engines(engines: list[tuple[str, Callable[[str], list[str]], int]], queries: list[dict],
                rel: list[set[str]]) -> list[dict[str, Any]]:
    """Latency and recall@10 of each engine. Engines take turns pass by pass (A B C, A B C, …): each
    pass answers the whole query set as a service would answer a stream of queries, and the
    alternation spreads slow drifts of a shared machine over all engines alike. (Alternating query
    by query instead would charge each engine for the caches the others just evicted: the brute
    force pass walks every name, the Neo4j JVM wakes up on the same two cores.) Every pass counts;
    no engine here caches results, except the row that says so."""
    lat: dict[str, list[float]] = {name: [] for name, _, _ in engines}
    rec: dict[str, list[float]] = {name: [] for name, _, _ in engines}
    for r in range(max(n for _, _, n in engines)):
        for name, fn, rounds in engines:
            if r >= rounds:
                continue
            for q, rs in zip(queries, rel):
                t0 = time.perf_counter()
                ids = fn(q["q"])
                lat[name].append(time.perf_counter() - t0)
                if r == 0:
                    rec[name].append(_metrics(ids, rs)[0])
    return [{"engine": name, "median_ms": 1000 * statistics.median(lat[name]), "p99_ms": 1000 * pct(lat[name], 0.99),
             "recall@10": sum(rec[name]) / len(rec[name]), "n": len(queries)} for name, _, _ in engines]


_LUCENE = re.compile(r'([+\-!(){}\[\]^"~*?:\\/]|&&|\|\|)')


def neo4j_engine(uri: str, nodes: list[Node]) -> Callable[[str], list[str]] | None:
    from graph import open_store
    logging.getLogger("neo4j").setLevel(logging.ERROR)  # schema notifications on an empty graph
    store = open_store(uri)
    if not store.has_fulltext:
        print(f"  {uri} 没有原生全文索引：不参与比较", flush=True)
        return None
    if store.is_empty():
        from loaders import seed_bundled_library
        print(f"  Neo4j 为空，先载入内置指标库（{uri}）……", flush=True)
        t0 = time.perf_counter()
        seed_bundled_library(store)
        print(f"  载入用时 {time.perf_counter() - t0:.0f} s", flush=True)
    n_here = sum(1 for n in nodes if n.label == "Indicator")
    n_there = store.count("Indicator")
    if n_there != n_here:
        print(f"  注意：Neo4j 中有 {n_there} 个指标，内置库 {n_here} 个（不清空他人的数据，按现状比较）")

    def search(q: str) -> list[str]:
        text = _LUCENE.sub(r"\\\1", q).strip()
        return [r[0] for r in store.fulltext(text, limit=K)] if text else []
    search("预热")  # driver connection pool, query plan
    return search


def brute_engine(index: SearchIndex) -> Callable[[str], list[str]]:
    from rapidfuzz import fuzz, process
    names = [d.name for d in index.docs]
    ids = [d.id for d in index.docs]

    def search(q: str) -> list[str]:
        return [ids[i] for _, _, i in process.extract(q, names, scorer=fuzz.WRatio, limit=K)]
    return search


def compare_engines(args: argparse.Namespace) -> None:
    print("== 1. 三种检索方式，同一批标注查询 ==", flush=True)
    nodes = bundled_nodes()
    t0 = time.perf_counter()
    index = SearchIndex(1, nodes)
    print(f"  本引擎索引：{len(index.docs)} 个指标，建立用时 {time.perf_counter() - t0:.1f} s")
    queries = load_queries()
    rel = [relevant_ids(index, q) for q in queries]
    keep = [i for i, r in enumerate(rel) if r]
    queries, rel = [queries[i] for i in keep], [rel[i] for i in keep]
    # (a) cold: the result memo is off, every query is computed; (a) warm is shown for reference
    # only (a repeated query is answered from the per-index memo) and not used for the ratios
    def cold(q: str) -> list[str]:
        index.__dict__.get("_word_memo", {}).clear()  # no memo of the query's segmentation either
        return [h["id"] for h in index.search(q, limit=K, facets=False, cache=False)["hits"]]
    engines: list[tuple[str, Callable[[str], list[str]], int]] = [("(a) 本引擎（不用结果缓存）", cold, 3)]
    uri = os.environ.get("NEO4J_URI")
    neo_fn = neo4j_engine(uri, nodes) if uri else None
    if neo_fn:
        engines.append(("(b) Neo4j 全文索引 cjk", neo_fn, 3))
    else:
        print("  (b) 跳过：未设置 NEO4J_URI（运行 scripts/neo4j-local start 并导出 NEO4J_URI 后重跑）")
    engines.append(("(c) rapidfuzz 逐个比对全部名称", brute_engine(index), 1))
    rows = run_engines(engines, queries, rel)
    for q in queries:  # fill the memo, then time repeats (reference only, not used in ratios)
        index.search(q["q"], limit=K, facets=False)
    rows += run_engines([("(a) 本引擎（重复查询，命中缓存）",
                          lambda q: [h["id"] for h in index.search(q, limit=K, facets=False)["hits"]], 3)],
                        queries, rel)
    base = rows[0]
    print(f"  {'引擎':<28}{'中位数 ms':>10}{'p99 ms':>10}{'recall@10':>11}{'中位数倍数':>12}")
    for r in rows:
        ratio = r["median_ms"] / base["median_ms"]
        print(f"  {r['engine']:<28}{r['median_ms']:>10.2f}{r['p99_ms']:>10.2f}{r['recall@10']:>11.3f}"
              f"{ratio:>11.1f}x")
    by_kind: dict[str, list[int]] = {}
    for i, q in enumerate(queries):
        by_kind.setdefault(q.get("kind", "other"), []).append(i)
    print(f"  按查询类型的 recall@10（{len(queries)} 条查询）：")
    fns = {"(a)": cold, "(c)": brute_engine(index)}
    if neo_fn:
        fns["(b)"] = neo_fn
    for kind, idxs in sorted(by_kind.items()):
        parts = []
        for label, fn in sorted(fns.items()):
            rec = sum(_metrics(fn(queries[i]["q"]), rel[i])[0] for i in idxs) / len(idxs)
            parts.append(f"{label} {rec:.2f}")
        print(f"    {kind:<11} n={len(idxs):>3}  " + "  ".join(parts))


# --- HTTP -------------------------------------------------------------------------------------------

_SERVER = r'''
import sys, uvicorn
sys.path.insert(0, {root!r})
from api.app import create_app
app = create_app({url!r}, seed=True)
if not any(getattr(r, "path", None) == "/search" for r in app.routes):
    from api.routes import search
    app.include_router(search.router)
uvicorn.run(app, host="127.0.0.1", port={port}, log_level="warning", access_log=False)
'''


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, timeout: float = 120) -> None:
    t0 = time.time()
    while time.time() - t0 < timeout:
        try:
            urllib.request.urlopen(url, timeout=60).read()
            return
        except Exception:
            time.sleep(0.3)
    raise RuntimeError(f"服务未就绪：{url}")


def _wrk(url: str, seconds: int, conns: int, script: Path | None) -> float:
    cmd = ["wrk", "-t2", f"-c{conns}", f"-d{seconds}s", "--latency"] + (["-s", str(script)] if script else []) + [url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    # the "Latency Distribution" line "     50%    1.23ms", not "70.50%" of the thread stats
    lat = re.search(r"^\s+50%\s+(\S+)\s*$", out, re.M)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        print(f"    注意：{errors.group(1)} 个非 2xx 响应")
    print(f"    {url.split('?')[0].rsplit('/', 1)[-1] or '/'}: {float(m.group(1)):.0f} req/s, 中位延迟 {lat.group(1) if lat else '?'}")
    return float(m.group(1))


def _py_load(url_fn: Callable[[int], str], seconds: int, conns: int) -> float:
    import asyncio

    try:  # the test extra installs httpx2 (module httpx2); plain httpx where that is installed
        import httpx2 as httpx
    except ImportError:
        import httpx  # type: ignore[no-redef]

    async def main() -> float:
        done = 0
        stop = time.perf_counter() + seconds
        async with httpx.AsyncClient(timeout=30) as client:
            async def worker(k: int) -> None:
                nonlocal done
                i = k
                while time.perf_counter() < stop:
                    await client.get(url_fn(i))
                    i += conns
                    done += 1
            t0 = time.perf_counter()
            await asyncio.gather(*(worker(k) for k in range(conns)))
            return done / (time.perf_counter() - t0)
    rps = asyncio.run(main())
    print(f"    {url_fn(0).split('?')[0]}: {rps:.0f} req/s（Python 客户端）")
    return rps


def http_bench(args: argparse.Namespace) -> None:
    print(f"\n== 2. HTTP 吞吐：/search 与 /health（同一应用、同一轮，{args.http_conns} 并发，各 {args.http_seconds} s）==",
          flush=True)
    for cached in (False, True):
        print("  " + ("结果缓存开启（默认；172 条查询轮流，重复查询命中缓存）" if cached else
                      "结果缓存关闭（ZHIBIAO_SEARCH_RESULT_CACHE=0：每个请求都完整计算）"), flush=True)
        _http_once(args, cached)


def _http_once(args: argparse.Namespace, cached: bool) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="zb-search-bench-"))
    port = _free_port()
    env = dict(os.environ, ZHIBIAO_SEARCH_CACHE_DIR=str(tmp / "cache"),
               ZHIBIAO_SEARCH_RESULT_CACHE="4096" if cached else "0")
    code = _SERVER.format(root=str(ROOT), url=f"sqlite:///{tmp / 'bench.db'}", port=port)
    proc = subprocess.Popen([sys.executable, "-c", code], env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait(base + "/health")
        t0 = time.perf_counter()
        _wait(base + "/search?q=" + urllib.parse.quote("学生满意度"))  # builds the index once
        print(f"  服务已启动；首次 /search（含建索引）{time.perf_counter() - t0:.1f} s")
        qs = [urllib.parse.quote(q["q"]) for q in load_queries()]
        if shutil.which("wrk"):
            lua = tmp / "queries.lua"
            lua.write_text("local qs = {" + ",".join(f'"{q}"' for q in qs) + "}\nlocal i = 0\n"
                           "request = function()\n  i = i + 1\n"
                           "  return wrk.format(\"GET\", \"/search?q=\" .. qs[(i % #qs) + 1])\nend\n")
            health = _wrk(base + "/health", args.http_seconds, args.http_conns, None)
            search = _wrk(base + "/search", args.http_seconds, args.http_conns, lua)
        else:
            print("  未安装 wrk：改用 Python asyncio 客户端（客户端本身会成为瓶颈，比值仍可参考）")
            health = _py_load(lambda i: base + "/health", args.http_seconds, args.http_conns)
            search = _py_load(lambda i: base + "/search?q=" + qs[i % len(qs)], args.http_seconds, args.http_conns)
        print(f"  /search 吞吐为 /health 的 {search / health:.2f} 倍（{search:.0f} / {health:.0f} req/s）")
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)


# --- scale ------------------------------------------------------------------------------------------

QUALIFIERS = ["城区", "县域", "农牧区", "乡镇", "边境", "高原", "重点", "新建", "改扩建", "省级", "市级", "县级",
              "社区", "村级", "园区", "一期", "二期", "示范", "试点", "专项", "片区", "流域", "口岸", "景区",
              "学校", "医院", "企业", "机关", "街道", "牧区", "林区", "灌区", "城乡", "跨区域", "应急", "长效",
              "年度", "季度", "中心城区", "东部", "西部", "南部", "北部", "老城区", "新区", "开发区", "工业园",
              "农业园", "产业园", "科技园", "物流园", "保税区", "自贸区", "高新区", "经开区", "度假区", "旅游区",
              "生态区", "保护区", "示范区"]


def generated_library(nodes: list[Node], size: int) -> list[Node]:
    """The bundled library plus name variants (qualifier + name) of its industry indicators until
    ``size`` indicators: realistic wording and graph shape, many more distinct names."""
    base = [n for n in nodes if n.label == "Indicator" and n.props.get("scope") == "industry"]
    out = list(nodes)
    total = sum(1 for n in nodes if n.label == "Indicator")
    k = 0
    while total < size:
        q = QUALIFIERS[k % len(QUALIFIERS)] + (str(k // len(QUALIFIERS)) if k >= len(QUALIFIERS) else "")
        for n in base:
            if total >= size:
                break
            props = dict(n.props, name=q + n.props["name"], synonyms=[q + s for s in n.props.get("synonyms") or []])
            out.append(Node(f"{n.id}-G{k}", "Indicator", props, n.edges))
            total += 1
        k += 1
    return out


def _child_build(size: int, folder: str) -> dict[str, Any]:
    """In a child process: build the index of a generated library of ``size`` and save it."""
    lib = generated_library(bundled_nodes(), size)
    t0 = time.perf_counter()
    idx = SearchIndex(1, lib)
    build = time.perf_counter() - t0
    del lib
    idx.save(Path(folder))
    return {"docs": len(idx.docs), "build_s": build,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            # a large library is built with forked workers: the largest one's peak RSS (pages it
            # shares copy-on-write with the building process included), 0 when none was forked
            "worker_peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}


def _child_serve(folder: str) -> dict[str, Any]:
    """In a fresh child process, as an API replica would: map the saved index, answer every
    labelled query (facets on, result memo off), report latency and this process's peak RSS."""
    t0 = time.perf_counter()
    idx = SearchIndex.load(Path(folder))
    opened = time.perf_counter() - t0
    queries = [q["q"] for q in load_queries()]
    lat = []
    for rnd in range(2):
        for q in queries:
            t1 = time.perf_counter()
            idx.search(q, limit=K, facets=True, cache=False)
            if rnd:  # the first round pages the mapped files in; the second is timed
                lat.append(time.perf_counter() - t1)
    return {"open_ms": 1000 * opened, "median_ms": 1000 * statistics.median(lat), "p99_ms": 1000 * pct(lat, 0.99),
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _in_child(*args: str) -> dict[str, Any]:
    """Run one scale step in its own process, so its peak memory (ru_maxrss) is its own."""
    r = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", *args],
                       capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(r.stderr[-2000:])
    return json.loads(r.stdout.strip().splitlines()[-1])


def scale_bench(args: argparse.Namespace) -> None:
    sizes = [int(s) for s in args.sizes.split(",") if s]
    if not sizes:
        return
    print("\n== 3. 规模：生成的指标库（内置库 + 名称变体）；建索引与检索各在独立子进程中 ==", flush=True)
    n0 = sum(1 for n in bundled_nodes() if n.label == "Indicator")
    print(f"  {'指标数':>10}{'建索引 s':>10}{'建索引峰值 MB':>14}{'工作进程峰值 MB':>16}{'打开 ms':>9}"
          f"{'服务进程 RSS MB':>16}{'中位数 ms':>10}{'p99 ms':>9}")
    for size in [n0] + sizes:
        folder = Path(tempfile.mkdtemp(prefix="zb-scale-")) / "index"
        try:
            b = _in_child("build", str(size), str(folder))
            q = _in_child("serve", str(folder))
        finally:
            shutil.rmtree(folder.parent, ignore_errors=True)
        print(f"  {b['docs']:>10}{b['build_s']:>10.1f}{b['peak_mb']:>14.0f}{b.get('worker_peak_mb', 0):>16.0f}"
              f"{q['open_ms']:>9.1f}{q['rss_mb']:>16.0f}{q['median_ms']:>10.2f}{q['p99_ms']:>9.2f}", flush=True)


def cli_bench(args: argparse.Namespace) -> None:
    """Wall time and peak memory of ``zhibiao search 学生满意度`` in a fresh process with a warm
    cache (the index folder exists), median of several runs; also whether networkx or jieba's
    dictionary were imported on that path."""
    print("\n== 4. 命令行：zhibiao search 学生满意度（缓存已建，新进程）==", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="zb-cli-bench-"))
    env = dict(os.environ, ZHIBIAO_SEARCH_CACHE_DIR=str(tmp / "cache"))
    cmd = [sys.executable, "-m", "cli", "search", "学生满意度", "--store", f"sqlite:///{tmp / 'cli.db'}"]
    try:
        subprocess.run(cmd, env=env, capture_output=True, check=True, cwd=ROOT)  # seed + build the cache
        walls, rss = [], []
        for _ in range(args.cli_runs):
            t0 = time.perf_counter()
            r = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd] if Path("/usr/bin/time").exists() else cmd,
                               env=env, capture_output=True, text=True, check=True, cwd=ROOT)
            walls.append(time.perf_counter() - t0)
            last = r.stderr.strip().splitlines()[-1:] or ["0"]
            rss.append(int(last[0]) / 1024 if last[0].isdigit() else 0.0)
        imp = subprocess.run([sys.executable, "-X", "importtime", *cmd[1:]], env=env, capture_output=True, text=True,
                             cwd=ROOT).stderr
        mods = {line.rsplit("|", 1)[-1].strip() for line in imp.splitlines() if "|" in line}
        print(f"  中位数 {statistics.median(walls):.2f} s（{len(walls)} 次，最快 {min(walls):.2f} s），"
              f"峰值内存 {statistics.median(rss):.0f} MB；导入 networkx：{'是' if 'networkx' in mods else '否'}，"
              f"导入 jieba：{'是' if 'jieba' in mods else '否'}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="100000", help="生成库规模，逗号分隔（如 100000,1000000；空则跳过）")
    ap.add_argument("--http-seconds", type=int, default=8)
    ap.add_argument("--http-conns", type=int, default=16)
    ap.add_argument("--cli-runs", type=int, default=7)
    ap.add_argument("--skip", default="", help="跳过的部分：engines,http,scale,cli")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)  # internal: one scale step
    args = ap.parse_args(argv)
    if args.child:
        step, *rest = args.child
        res = _child_build(int(rest[0]), rest[1]) if step == "build" else _child_serve(rest[0])
        print(json.dumps(res))
        return 0
    skip = set(args.skip.split(","))
    if "engines" not in skip:
        compare_engines(args)
    if "http" not in skip:
        http_bench(args)
    if "scale" not in skip:
        scale_bench(args)
    if "cli" not in skip:
        cli_bench(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
