"""Projects at city scale on both stores: 130 units × 10 projects × 3 years (3,900 projects) with a
20-row target table each (about 90,000 work nodes), then the operations of a working day, timed
through the same engine the API uses:

* listing and filtering projects (one unit; the reviewers' queue: status + year; a sector + year),
* reading one project with its current table,
* putting a table (a new revision: review checks, indicator matching, one guarded commit),
* submitting it (review checks again, the 历史标准 check against earlier approved years, one commit).

    python bench/projects_bench.py [--neo4j bolt://127.0.0.1:7687] [--units 130] [--repeat 15]

The Neo4j URI may also come from NEO4J_URI (the database is wiped first: use a scratch server). Prints the
median of each operation per store and the ratio Neo4j / embedded (the embedded store is the baseline).
The projects are generated directly into the store (bulk guarded commits of 25 projects), not through
the API: generation is setup, not what is measured. The library is the general indicators plus one
sector (the tests' mini library), so the review's indicator matching has something to match."""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.accounts import Principal  # noqa: E402
from engine.library import Library  # noqa: E402
from engine.projects import Projects, project_edges  # noqa: E402
from engine.units import ensure_units  # noqa: E402
from graph import GraphStore, Node, Write, open_store  # noqa: E402

YEARS = (2023, 2024, 2025)
ROW_SHAPES = [("产出指标", "数量指标", "{n}完成数量", "≥{v}", "个"), ("产出指标", "质量指标", "{n}验收合格率", "≥{p}%", ""),
              ("产出指标", "时效指标", "{n}完成时间", "{y}年12月31日前", ""), ("成本指标", "经济成本指标", "{n}单位成本", "≤{c}", "元/个"),
              ("效益指标", "社会效益指标", "{n}受益人数", "≥{v}", "人"), ("满意度指标", "服务对象满意度指标", "{n}满意度", "≥{s}%", "")]


def mini_library(tmp: Path) -> Path:
    from ontology.build import library_document, render
    from ontology.catalogue import CATALOGUE_DIR, load_catalogue
    root = Path(__file__).resolve().parents[1]
    cat = load_catalogue([CATALOGUE_DIR / "general.txt", root / "tests" / "data" / "mini_catalogue.txt"])
    path = tmp / "mini_library.json"
    path.write_text(render(library_document(cat)), encoding="utf-8")
    return path


def rows_for(rnd: random.Random, topic: str, year: int, indicator_names: list[str]) -> list[dict[str, str]]:
    rows = []
    for i in range(20):
        l1, l2, name, value, unit = ROW_SHAPES[i % len(ROW_SHAPES)]
        if i % 7 == 3 and indicator_names:  # some rows use a library indicator by name
            name = rnd.choice(indicator_names)
        rows.append({"level1": l1, "level2": l2, "name": name.format(n=f"{topic}{i // 6 + 1}"),
                     "value": value.format(v=rnd.randint(10, 5000), p=rnd.choice((90, 95, 98, 100)), y=year,
                                           c=rnd.randint(50, 5000), s=rnd.choice((85, 90, 95))),
                     "unit": unit, "basis": rnd.choice(("计划标准", "行业标准", "历史标准"))})
    return rows


def generate(store: GraphStore, n_units: int, seed: int = 7) -> dict[str, Any]:
    """Units, projects, tables and rows, written in bulk commits. Returns what the timings need."""
    rnd = random.Random(seed)
    ensure_units(store)
    units = [n.props for n in store.iter_label("BudgetUnit")][:n_units]
    names = [n.props["name"] for n in store.iter_label("Indicator")][:300]
    batch: list[Node] = []
    links: list[tuple[str, str, str]] = []
    drafts: list[str] = []
    count = 0
    for u in units:
        for k in range(10):
            topic = rnd.choice(("校舍维修", "教师培训", "道路养护", "疾病防控", "草原保护", "技能培训", "文化惠民"))
            for year in YEARS:
                count += 1
                pid = f"PRJ-b{count:08x}"
                status = "approved" if year < 2025 else rnd.choice(("draft", "submitted", "returned", "approved"))
                sector = (u.get("sectors") or [None])[0]
                props = {"code": pid, "name": f"{u['name']}{topic}项目{k + 1}", "unit": u["code"], "year": year,
                         "amount": float(rnd.randint(10, 5000) * 10000), "sector": sector, "project_type": None,
                         "project_type_source": None, "period": f"{year}年", "description": "", "status": status,
                         "revision": 1, "submitted_revision": 1 if status != "draft" else None,
                         "approved_revision": 1 if status == "approved" else None, "events": 1, "etag": 1,
                         "created_by": "bench", "created_at": f"{year}-01-15T00:00:00Z",
                         "updated_at": f"{year}-01-15T00:00:00Z"}
                rows = rows_for(rnd, topic, year, names)
                tid = f"{pid}/r1"
                targets = [Node(f"{tid}/t{i:03d}", "Target", {"project": pid, "revision": 1, "row": i, **r,
                                                               "indicator": None, "category": None, "parsed": {}})
                           for i, r in enumerate(rows)]
                table = Node(tid, "TargetTable", {"project": pid, "revision": 1, "based_on": 0,
                                                  "goals": {"period": f"{topic}实施期目标", "annual": f"{year}年{topic}"},
                                                  "review": None, "score": None, "verdict": None, "source": "json",
                                                  "created_by": "bench", "created_at": props["created_at"],
                                                  "return_comment": None, "row_comments": [], "indicators": []},
                             [("HAS_ROW", t.id) for t in targets])
                batch += [Node(pid, "Project", props, project_edges(props)), table, *targets]
                links.append((f"UNIT-{u['code']}", "OWNS", pid))
                if status == "draft":
                    drafts.append(pid)
                if len(links) >= 25:
                    store.commit(Write(batch, links))
                    batch, links = [], []
    if links:
        store.commit(Write(batch, links))
    return {"units": units, "drafts": drafts, "projects": count, "names": names}


def median_ms(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def run(store: GraphStore, lib_path: Path, n_units: int, repeat: int) -> dict[str, float]:
    from loaders import load_file
    load_file(lib_path, store)
    t = time.perf_counter()
    data = generate(store, n_units)
    gen_s = time.perf_counter() - t
    svc = Projects(Library(store))
    reviewer = Principal("bench-reviewer", "reviewer")
    rnd = random.Random(11)
    u = data["units"][len(data["units"]) // 2]
    unit_user = Principal("bench-unit", "unit", u["code"])
    sector = next((x["sectors"][0] for x in data["units"] if x.get("sectors")), None)
    out = {"generate_s": gen_s, "projects": data["projects"]}
    out["list_one_unit"] = median_ms(lambda: svc.list(unit_user), repeat)
    out["list_queue_status_year"] = median_ms(lambda: svc.list(reviewer, status="submitted", year=2025), repeat)
    out["list_sector_year"] = median_ms(lambda: svc.list(reviewer, sector=sector, year=2024), repeat)
    pick = lambda: rnd.choice(data["drafts"])  # noqa: E731
    out["get_project_with_table"] = median_ms(lambda: svc.get(reviewer, pick()), repeat)
    svc.put_table(Principal("w", "unit", store.get(data["drafts"][0]).props["unit"]), data["drafts"][0], 1, {"period": "预热", "annual": "预热"},
                  rows_for(rnd, "预热", 2025, data["names"]))  # warm the review index once, not timed
    todo = iter(data["drafts"][1:])

    def put_and_keep() -> None:
        pid = next(todo)
        who = Principal("w", "unit", store.get(pid).props["unit"])
        svc.put_table(who, pid, 1, {"period": "实施期", "annual": "年度"}, rows_for(rnd, "修改", 2025, data["names"]))
        submitted.append((who, pid))
    submitted: list[tuple[Principal, str]] = []
    out["put_table"] = median_ms(put_and_keep, repeat)
    queue = iter(submitted)

    def submit() -> None:
        who, pid = next(queue)
        svc.submit(who, pid)
    out["submit"] = median_ms(submit, repeat)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--neo4j", default=os.environ.get("NEO4J_URI"), help="Neo4j bolt URI（会被清空）")
    ap.add_argument("--units", type=int, default=130)
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="zhibiao-projects-bench-"))
    lib = mini_library(tmp)
    results: dict[str, dict[str, float]] = {}
    with open_store(f"sqlite:///{tmp / 'bench.db'}") as store:
        results["embedded"] = run(store, lib, args.units, args.repeat)
    print("嵌入式：", {k: round(v, 1) for k, v in results["embedded"].items()}, flush=True)
    if args.neo4j:
        from graph.neo4j_store import Neo4jStore
        store = open_store(args.neo4j)
        assert isinstance(store, Neo4jStore)
        store.wipe()
        try:
            results["neo4j"] = run(store, lib, args.units, args.repeat)
        finally:
            store.wipe()
            store.close()
    e = results["embedded"]
    print(f"生成：{int(e['projects'])} 个项目（{args.units} 个单位 × 10 个项目 × 3 年，每表 20 行），"
          + "，".join(f"{k} 用时 {v['generate_s']:.1f} 秒" for k, v in results.items()))
    print(f"{'操作（中位数，毫秒）':<28}" + "".join(f"{k:>12}" for k in results) + ("      neo4j/嵌入式" if "neo4j" in results else ""))
    for key in ("list_one_unit", "list_queue_status_year", "list_sector_year", "get_project_with_table", "put_table",
                "submit"):
        line = f"{key:<32}" + "".join(f"{r[key]:>12.1f}" for r in results.values())
        if "neo4j" in results:
            line += f"{results['neo4j'][key] / e[key]:>12.2f}x"
        print(line)


if __name__ == "__main__":
    main()
