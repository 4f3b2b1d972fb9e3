"""``zhibiao search`` and ``zhibiao recommend``: the same JSON as GET /search and POST /recommend,
or a readable table. Registered into cli/main.py's parser by ``register(sub, add)``."""
from __future__ import annotations

import argparse
import json
import re
from typing import Callable

EXIT_OK = 0


def _service(args: argparse.Namespace):
    from cli.stores import open_for
    from search.engine import SearchService
    store = open_for(args)
    return store, SearchService(store)


def _print_json(obj: object) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=2))


def _plain(highlight: str) -> str:
    return re.sub(r"</?em>", "", highlight)


def cmd_search(args: argparse.Namespace) -> int:
    store, svc = _service(args)
    try:  # a BadQuery is reported by cli.main (exit 1)
        res = svc.search(args.query, sector=args.sector, project_type=args.project_type, category=args.category,
                         limit=args.limit, group=args.group)
    finally:
        store.close()
    if args.json:
        _print_json(res)
        return EXIT_OK
    q = res["query"]
    notes = []
    if q["project_types"]:
        notes.append("项目类型：" + "、".join(q["project_types"]))
    if q["pinyin"]:
        notes.append("按拼音检索")
    if q["fuzzy"]:
        notes.append("含容错匹配")
    print(f"共 {res['total']} 条" + (f"（{'；'.join(notes)}）" if notes else ""))
    for i, h in enumerate(res["hits"], 1):
        pts = "、".join(h["project_types"][:2]) or "-"
        if len(h["project_types"]) > 2:  # a grouped hit: the name is used by more project types
            pts += f" 等 {len(h['project_types'])} 个项目类型"
        print(f"{i:>2}. {_plain(h['highlight'])}  [{h['category']}｜{h['sector']}｜{pts}]  {h['unit'] or ''}  "
              f"{h['score']:.3f}  {h['id']}")
        print(f"    {'；'.join(h['why'][:3])}")
    return EXIT_OK


def cmd_recommend(args: argparse.Namespace) -> int:
    store, svc = _service(args)
    try:
        res = svc.recommend(args.project, args.description or "", sector=args.sector,
                            project_type=args.project_type, amount=args.amount, period=args.period,
                            region=args.region, unit=args.unit)
    finally:
        store.close()
    if args.json:
        _print_json(res)
        return EXIT_OK
    chosen = [p for p in res["project_types"] if p.get("selected")]
    print(f"项目：{res['project']}　行业：{res['sector']['name']}{'（推断）' if res['sector']['inferred'] else ''}　"
          f"项目类型：{'、'.join(p['name'] for p in chosen)}")
    others = [p["name"] for p in res["project_types"] if not p.get("selected")][:3]
    if others:
        print(f"其他可能的项目类型：{'、'.join(others)}")
    for g in res["groups"]:
        print(f"\n{g['level1']} / {g['level2']}")
        for ind in g["indicators"]:
            s = ind["score"]
            print(f"  - {ind['name']}  {ind['suggested_value'] or '（待定）'}  依据：{ind['basis'] or '-'}  "
                  f"得分 {s['total']:.2f}（覆盖 {s['coverage']:.2f} 适配 {s['fit']:.2f} 完整 {s['detail']:.2f} "
                  f"采用 {s['acceptance']:.2f}）")
            print(f"    {ind['reason']}")
    cov = res["coverage"]
    print(f"\n覆盖种类：{'、'.join(cov['covered'])}" + (f"；缺少：{'、'.join(cov['missing'])}" if cov["missing"] else ""))
    return EXIT_OK


def register(sub: argparse._SubParsersAction, add: Callable[..., argparse.ArgumentParser]) -> None:
    """Add the search and recommend commands through cli/main.py's ``add`` helper (which adds
    --store and --no-seed)."""
    p = add("search", "检索指标（汉字、拼音、首字母、错别字均可）", cmd_search)
    p.add_argument("query", help="查询词，如 学生满意度、xsmyd、校舍维修改造 验收")
    p.add_argument("--sector", help="行业编码或名称")
    p.add_argument("--project-type", dest="project_type", help="项目类型名称")
    p.add_argument("--category", help="指标类别，如 满意度、数量指标")
    p.add_argument("--limit", type=int, default=10, help="返回条数（1–100，默认 10）")
    p.add_argument("--json", action="store_true", help="以 JSON 输出（与 GET /search 相同）")
    p.add_argument("--no-group", dest="group", action="store_false",
                   help="同名指标逐条列出（默认合并为一条并列出其全部项目类型）")
    p = add("recommend", "为项目推荐绩效目标集（与 POST /recommend 相同）", cmd_recommend)
    p.add_argument("--project", required=True, help="项目名称")
    p.add_argument("--description", help="项目说明")
    p.add_argument("--sector", help="行业编码或名称（不填则推断）")
    p.add_argument("--project-type", dest="project_type", help="项目类型（不填则推断）")
    p.add_argument("--amount", type=float, help="项目金额（元）")
    p.add_argument("--period", help="实施年度，如 2026")
    p.add_argument("--region", help="单位所在县（区）或市，如 亚东县；限定地区的项目类型只在适用地区推荐")
    p.add_argument("--unit", help="预算单位编码：单位成本优先取本单位已批准目标表中的值")
    p.add_argument("--json", action="store_true", help="以 JSON 输出")

