"""Quality of search and recommendation on the labelled sets in search/labelled/.

    python -m search.evaluate                     # the bundled library, built in memory
    python -m search.evaluate --store URL --json  # a store's current library

Search: recall@10, MRR and nDCG@10 over queries.yaml, overall and per kind of query.
Recommendation: over projects.yaml, project-type accuracy (top inferred type is a labelled one),
category coverage (share of required kinds the set covers), precision (share of recommended
indicators that belong to a labelled project type or are labelled indicators) and recall of the
labelled indicators. Real tables: over ../shared/real-tables (published target tables kept outside
the repo; labels of their project types in search/labelled/real_types.yaml), the share whose
project type inferred from the project name and annual goal is a labelled one (top 1 and top 3).
Exits 1 when a figure falls below its threshold (THRESHOLDS, justified there)
or when a label names nothing in the library (a stale label must be fixed, not silently ignored)."""
from __future__ import annotations

import argparse
import json
import math
import re
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

from graph.settings import setting

from .index import SearchIndex

LABELLED = Path(__file__).resolve().parent / "labelled"
# real tables published by units, kept outside the repo (never copied in): ../shared/real-tables
REAL_TABLES = Path(setting("ZHIBIAO_REAL_TABLES") or
                   Path(__file__).resolve().parent.parent.parent / "shared" / "real-tables")

# Thresholds sit a few points under the figures measured on the bundled library (10,355 indicators)
# when the labelled sets were written, so that they catch regressions without failing on noise
# from a library revision; the figures themselves are printed by this script:
# - search recall@10 / MRR / nDCG@10 measured 0.98 / 0.96 / 0.96 overall (colloquial wording is the
#   weakest kind at about 0.84 recall). 0.90 / 0.88 / 0.88 still mean that a budget unit finds the
#   indicator it means on the first page for nine queries in ten, typically in first place.
# - recommendation category coverage must be 1.0: a target table missing a required kind is
#   rejected by reviewers (domain.md), so anything less is a bug, not a quality trade-off.
# - project type accuracy measured 1.00 and precision 0.99; 0.90 / 0.90 leave room for library
#   revisions that add look-alike project types, while a wrong type (which makes most of the set
#   irrelevant) on more than one project in ten fails.
# - labelled-indicator recall measured 0.82: the labels are each project type's core quantity and
#   satisfaction indicators, and a set with per-category quotas cannot hold every one; 0.65 is the
#   floor below which the scoring is no longer preferring the core indicators.
# - real tables (issue 11): the type inferred from a real project name was right for about half
#   before the library had the city's common types and inference read the annual goal; the floors
#   sit under the figures measured on the 20 development tables (printed by this script).
REAL_TYPE_TOP1 = 0.80
REAL_TYPE_TOP3 = 0.90
THRESHOLDS = {
    "search.recall@10": 0.90, "search.mrr": 0.88, "search.ndcg@10": 0.88,
    "recommend.category_coverage": 1.0, "recommend.project_type_accuracy": 0.90,
    "recommend.precision": 0.90, "recommend.indicator_recall": 0.65,
}
# on the real tables, when ../shared/real-tables is there (reported apart: the repo does not hold them)
# every set recommended for a real project at its real amount must stay within it and pass the
# checker: anything less is the disagreement issue 11 reports, not a quality trade-off
REAL_THRESHOLDS = {"real.type_top1": REAL_TYPE_TOP1, "real.type_top3": REAL_TYPE_TOP3,
                   "real.recommend_within_amount": 1.0, "real.recommend_passes_check": 1.0,
                   # measured 0.113 before issue 11's library work, 0.127 after: a floor, not a goal
                   "real.name_coverage": 0.12}
K = 10


def load_queries() -> list[dict[str, Any]]:
    return yaml.safe_load((LABELLED / "queries.yaml").read_text(encoding="utf-8"))["queries"]


def load_projects() -> list[dict[str, Any]]:
    return yaml.safe_load((LABELLED / "projects.yaml").read_text(encoding="utf-8"))["projects"]


def relevant_ids(index: SearchIndex, label: dict[str, Any]) -> set[str]:
    """Ids of the indicators a label names (by exact names or a name pattern, optionally only those
    of one project type or sector)."""
    names = set(label.get("names") or [])
    pat = re.compile(label["pattern"]) if label.get("pattern") else None
    pts = {c.id for c in index.ctx.values() if c.name == label.get("project_type")} if label.get("project_type") else None
    out = set()
    for d in index.docs:
        if not (d.name in names or (pat and pat.search(d.name))):
            continue
        if pts is not None and not pts.intersection(d.pts):
            continue
        if label.get("sector") and d.sector_name != label["sector"]:
            continue
        out.add(d.id)
    return out


def _metrics(ranked: list[str], rel: set[str]) -> tuple[float, float, float]:
    top = ranked[:K]
    hits = [1 if i in rel else 0 for i in top]
    ideal = min(K, len(rel))
    recall = sum(hits) / ideal if ideal else 0.0
    mrr = next((1 / (r + 1) for r, h in enumerate(hits) if h), 0.0)
    dcg = sum(h / math.log2(r + 2) for r, h in enumerate(hits))
    idcg = sum(1 / math.log2(r + 2) for r in range(ideal))
    return recall, mrr, (dcg / idcg if idcg else 0.0)


def evaluate_search(index: SearchIndex) -> dict[str, Any]:
    per_kind: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
    rows, stale, times = [], [], []
    for q in load_queries():
        rel = relevant_ids(index, q)
        if not rel:
            stale.append(q["q"])
            continue
        t0 = time.perf_counter()
        res = index.search(q["q"], limit=K, facets=False)
        times.append(time.perf_counter() - t0)
        m = _metrics([h["id"] for h in res["hits"]], rel)
        per_kind[q.get("kind", "other")].append(m)
        per_kind["all"].append(m)
        rows.append({"q": q["q"], "kind": q.get("kind"), "recall@10": round(m[0], 3), "rr": round(m[1], 3),
                     "top": [h["name"] for h in res["hits"][:3]]})
    summary = {k: {"n": len(v), "recall@10": sum(x[0] for x in v) / len(v), "mrr": sum(x[1] for x in v) / len(v),
                   "ndcg@10": sum(x[2] for x in v) / len(v)} for k, v in per_kind.items()}
    times.sort()
    return {"summary": summary, "stale_labels": stale, "queries": rows,
            "latency_ms": {"median": 1000 * times[len(times) // 2] if times else None,
                           "p99": 1000 * times[min(len(times) - 1, int(len(times) * 0.99))] if times else None}}


def evaluate_recommend(index: SearchIndex) -> dict[str, Any]:
    from .recommend import Recommender
    rec = Recommender(index)
    rows, stale = [], []
    for p in load_projects():
        pt_ids = {c.id for c in index.ctx.values() if c.name in set(p["project_types"])}
        labelled = {d.id for d in index.docs if d.name in set(p.get("indicators") or []) and pt_ids.intersection(d.pts)}
        if not pt_ids or (p.get("indicators") and not labelled):
            stale.append(p["project"])
            continue
        res = rec.recommend(p["project"], p.get("description", ""), sector=p.get("sector"))
        top_pt = res["project_types"][0]["id"] if res["project_types"] else None
        items = [i for g in res["groups"] for i in g["indicators"]]
        ids = {i["id"] for i in items}
        good = sum(1 for i in items if i["id"] in labelled or pt_ids.intersection(index.by_id[i["id"]].pts))
        kinds = p.get("kinds") or res["coverage"]["required"]
        covered = [k for k in kinds if k in res["coverage"]["covered"]]
        rows.append({"project": p["project"], "sector_given": bool(p.get("sector")),
                     "project_type_ok": top_pt in pt_ids,
                     "inferred": [c["name"] for c in res["project_types"][:2]],
                     "category_coverage": len(covered) / len(kinds),
                     "precision": good / len(items) if items else 0.0,
                     "indicator_recall": len(labelled & ids) / len(labelled) if labelled else 1.0,
                     "size": len(items)})
    n = len(rows) or 1
    sectors = {c.sector_id for p in load_projects() for c in index.ctx.values() if c.name in set(p["project_types"])}
    return {"summary": {"n": len(rows), "sectors": len(sectors),
                        "project_type_accuracy": sum(r["project_type_ok"] for r in rows) / n,
                        "category_coverage": sum(r["category_coverage"] for r in rows) / n,
                        "precision": sum(r["precision"] for r in rows) / n,
                        "indicator_recall": sum(r["indicator_recall"] for r in rows) / n,
                        "mean_set_size": sum(r["size"] for r in rows) / n},
            "stale_labels": stale, "projects": rows}


def load_real_tables() -> list[dict[str, Any]] | None:
    """The development set of real tables, or None when ../shared/real-tables is not there."""
    path = REAL_TABLES / "dev_tables.json"
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def _name_coverage(index: SearchIndex, tables: list[dict[str, Any]]) -> tuple[int, int]:
    """Real row names with a same- or near-same-named library indicator or synonym (rapidfuzz ratio ≥ 85
    after stripping 指标1:/★ prefixes and a trailing unit in brackets): does the library speak as units write?"""
    from rapidfuzz import fuzz, process
    names = sorted({d.name for d in index.docs} | {s for d in index.docs for s in d.synonyms})
    rows = [r for t in tables for r in t.get("indicators") or [] if (r.get("name") or "").strip()]
    hit = 0
    for r in rows:
        name = re.sub(r"^(指标\d+[:：]|★|\d+[.、])", "", r["name"].strip())
        name = re.sub(r"[（(][^）)]*[）)]$", "", name).strip()
        best = process.extractOne(name, names, scorer=fuzz.ratio) if name else None
        hit += bool(best and best[1] >= 85)
    return hit, len(rows)


def _real_recommendation(rec: Any, table: dict[str, Any]) -> dict[str, Any]:
    """The set recommended for a real project at its real amount: within the amount, and passing
    the checker (the issue's "4 of 8 sets exceed the amount" and "2 of 8 fail their own check")."""
    from review.checker import check_table
    amount = float(table["amount_wan"]) * 10000 if table.get("amount_wan") else None
    res = rec.recommend(table["project"], table.get("overall_goal") or "", amount=amount,
                        region=table.get("region"), period=str(table.get("year") or ""))
    rows = [{"level1": i["level1"], "level2": i["level2"], "name": i["name"], "value": i["suggested_value"] or "",
             "basis": i["basis"]} for g in res["groups"] for i in g["indicators"]]
    out = check_table({"project": {"name": table["project"], "amount": amount}, "rows": rows})
    return {"within_amount": bool(res["budget"].get("within_amount", True)),
            "passes_check": out["verdict"] == "pass", "check_score": out["score"]}


def evaluate_real_types(index: SearchIndex) -> dict[str, Any] | None:
    """Project type inferred from a real table's project name and annual goal, against the labels
    in real_types.yaml (any listed type counts). The unit's region is the table's own: a type that
    only applies elsewhere is not offered."""
    from .recommend import Recommender
    from .regions import resolve_region
    tables = load_real_tables()
    if tables is None:
        return None
    labels = {t["source_url"]: t for t in
              yaml.safe_load((LABELLED / "real_types.yaml").read_text(encoding="utf-8"))["tables"]}
    names = {c.name for c in index.ctx.values()}
    rec = Recommender(index)
    rows, stale = [], []
    for t in tables:
        lab = labels.get(t["source_url"])
        if lab is None:
            continue
        ok = set(lab["project_types"])
        if not ok <= names:
            stale.append(f"{t['project']}: {sorted(ok - names)}")
            continue
        cands = rec.infer_project_types(t["project"], t.get("overall_goal") or "", top=3,
                                        region=resolve_region(t.get("region")))
        got = [c["name"] for c in cands]
        rows.append({"project": t["project"], "inferred": got, "labelled": sorted(ok),
                     "top1": bool(got) and got[0] in ok, "top3": bool(ok & set(got)),
                     **_real_recommendation(rec, t)})
    n = len(rows) or 1
    covered, total = _name_coverage(index, tables)
    return {"summary": {"n": len(rows), "top1": sum(r["top1"] for r in rows) / n,
                        "name_coverage": covered / (total or 1), "rows": total,
                        "top3": sum(r["top3"] for r in rows) / n,
                        "recommend_within_amount": sum(r["within_amount"] for r in rows) / n,
                        "recommend_passes_check": sum(r["passes_check"] for r in rows) / n},
            "stale_labels": stale, "tables": rows}


def evaluate(index: SearchIndex) -> dict[str, Any]:
    s = evaluate_search(index)
    r = evaluate_recommend(index)
    real = evaluate_real_types(index)
    figures = {"search.recall@10": s["summary"]["all"]["recall@10"], "search.mrr": s["summary"]["all"]["mrr"],
               "search.ndcg@10": s["summary"]["all"]["ndcg@10"],
               "recommend.category_coverage": r["summary"]["category_coverage"],
               "recommend.project_type_accuracy": r["summary"]["project_type_accuracy"],
               "recommend.precision": r["summary"]["precision"],
               "recommend.indicator_recall": r["summary"]["indicator_recall"]}
    real_figures = {} if real is None else {
        "real.type_top1": real["summary"]["top1"], "real.type_top3": real["summary"]["top3"],
        "real.recommend_within_amount": real["summary"]["recommend_within_amount"],
        "real.recommend_passes_check": real["summary"]["recommend_passes_check"],
        "real.name_coverage": real["summary"]["name_coverage"]}
    failures = [f"{k} = {v:.3f} < {THRESHOLDS[k]}" for k, v in figures.items() if v + 1e-9 < THRESHOLDS[k]]
    failures += [f"{k} = {v:.3f} < {REAL_THRESHOLDS[k]}" for k, v in real_figures.items()
                 if v + 1e-9 < REAL_THRESHOLDS[k]]
    failures += [f"标注在库中找不到对应指标：{q}" for q in s["stale_labels"] + r["stale_labels"]]
    failures += [f"真实表标注的项目类型不在库中：{q}" for q in (real or {}).get("stale_labels", [])]
    return {"figures": figures, "thresholds": THRESHOLDS, "failures": failures, "search": s, "recommend": r,
            "real_tables": real, "real_figures": real_figures, "real_thresholds": REAL_THRESHOLDS,
            "library_version": index.version, "indicators": len(index.docs)}


def bundled_index() -> SearchIndex:
    """The bundled library without a store: library.json if generated, else the catalogue."""
    from graph.store import Node
    from ontology.build import LIBRARY_FILE, library_document
    if LIBRARY_FILE.exists():
        nodes = [Node.from_dict(d) for d in json.loads(LIBRARY_FILE.read_text(encoding="utf-8"))["nodes"]]
    else:
        from ontology.catalogue import load_catalogue
        nodes = [Node.from_dict(d) for d in library_document(load_catalogue())["nodes"]]
    return SearchIndex(1, nodes)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="检索与推荐质量评估（标注集见 search/labelled/）")
    ap.add_argument("--store", help="存储地址；不填则直接用内置指标库")
    ap.add_argument("--json", action="store_true", help="输出完整 JSON（含每条查询）")
    args = ap.parse_args(argv)
    if args.store:
        from graph import open_store
        from .engine import build_index
        with open_store(args.store) as store:
            index = build_index(store)
    else:
        index = bundled_index()
    res = evaluate(index)
    if args.json:
        print(json.dumps(res, ensure_ascii=False, indent=2))
    else:
        print(f"指标库版本 {res['library_version']}，{res['indicators']} 个指标")
        print("检索（按查询类型）：")
        for kind, m in sorted(res["search"]["summary"].items(), key=lambda t: (t[0] != "all", t[0])):
            print(f"  {kind:<11} n={m['n']:>3}  recall@10={m['recall@10']:.3f}  MRR={m['mrr']:.3f}  "
                  f"nDCG@10={m['ndcg@10']:.3f}")
        lat = res["search"]["latency_ms"]
        print(f"  单次检索延迟：中位数 {lat['median']:.2f} ms，p99 {lat['p99']:.2f} ms")
        rs = res["recommend"]["summary"]
        print(f"推荐：{rs['n']} 个项目，{rs['sectors']} 个行业；项目类型准确率 {rs['project_type_accuracy']:.3f}，"
              f"类别覆盖 {rs['category_coverage']:.3f}，精确率 {rs['precision']:.3f}，标注指标召回 "
              f"{rs['indicator_recall']:.3f}，平均每套 {rs['mean_set_size']:.1f} 条")
        real = res["real_tables"]
        if real is None:
            print(f"真实目标表：{REAL_TABLES} 不存在，未评估")
        else:
            rt = real["summary"]
            print(f"真实目标表（{rt['n']} 张，{REAL_TABLES}）：项目类型推断 前1准确率 {rt['top1']:.3f}，"
                  f"前3准确率 {rt['top3']:.3f}；按各表金额推荐的目标集 不超金额 {rt['recommend_within_amount']:.3f}，"
                  f"通过检查 {rt['recommend_passes_check']:.3f}；{rt['rows']} 行中与库内指标同名或近名 "
                  f"{rt['name_coverage']:.3f}")
            for row in real["tables"]:
                if not row["top1"]:
                    print(f"  真实表：{row['project']}  推断 {row['inferred']}  标注 {row['labelled']}")
        misses = [q for q in res["search"]["queries"] if q["recall@10"] < 1][:15]
        if misses:
            print("未完全命中的查询（前 15 条）：")
            for q in misses:
                print(f"  [{q['kind']}] {q['q']}  recall={q['recall@10']}  前三：{'、'.join(q['top'])}")
        for p in res["recommend"]["projects"]:
            if not p["project_type_ok"] or p["indicator_recall"] < 1:
                print(f"  推荐：{p['project']}  推断 {p['inferred']}  类型{'正确' if p['project_type_ok'] else '错误'}  "
                      f"标注指标召回 {p['indicator_recall']:.2f}")
    for f in res["failures"]:
        print(f"未达标：{f}", file=sys.stderr)
    return 1 if res["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
