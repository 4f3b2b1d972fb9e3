"""``zhibiao loop …``: the performance loop from the command line, the same services and rules as
the HTTP API (docs/loop_api.md). Commands act as a real account: ``--user NAME`` with the password
from ZHIBIAO_PASSWORD or the first line of stdin (a hidden prompt on a terminal).

    zhibiao loop appraise ID FILE.json | appraisal ID          (FILE: {requested, approved, scores, cost_items, cuts})
    zhibiao loop plan ID --months 12 amounts,comma-separated
    zhibiao loop report-progress ID FILE.json | progress ID    (FILE: {as_of, spent, actuals, explanation})
    zhibiao loop warnings [--year --unit --status --kind --project]
    zhibiao loop explain WARNING --text …  |  act WARNING --action urge|adjust|suspend|close --comment …
    zhibiao loop self-evaluate ID FILE.json | review ID --score N --comment … | key-evaluate ID FILE.json
    zhibiao loop evaluation ID
    zhibiao loop proposals YEAR [--unit]  |  adjust ID --amount N --reason …
    zhibiao loop report YEAR [--xlsx FILE]  |  chart {execution ID | achievement ID DATE | proposals YEAR} --output F.svg
    zhibiao loop generate --scale test|full [--year 2025] [--seed N]   (admin: load a generated demonstration year)

Exit codes: 0 done, 1 refused (with [code] and a Chinese message), 2 usage, 3 store unavailable."""
from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from graph.settings import setting

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
MAX_FILE = 5 * 1024 * 1024


def _password() -> str:
    env = setting("ZHIBIAO_PASSWORD")
    if env:
        return env
    return getpass.getpass("密码：") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\r\n")


def _json_file(path: str) -> Any:
    """A JSON body from a file: bounded, and a located error if it is not JSON."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"[file_not_found] 找不到文件 {p}")
    if p.stat().st_size > MAX_FILE:
        raise ValueError(f"[too_large] 文件 {p} 超过 {MAX_FILE // 1024 // 1024} MB")
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"[bad_json] {p}：不是有效的 UTF-8 JSON（{e}）") from None


def _run(args: argparse.Namespace, work: Callable[[Any, Any], Any]) -> int:
    """Open the store, sign in, run ``work(store, principal)``, print its answer (JSON) if any."""
    from engine.accounts import authenticate
    from engine.work_errors import WorkError

    from .stores import open_for
    with open_for(args) as store:
        try:
            who = authenticate(store, args.user, _password())
            out = work(store, who)
        except WorkError as e:
            print(f"[{e.code}] {e.message}", file=sys.stderr)
            return EXIT_INVALID
    if out is not None:
        print(json.dumps(out, ensure_ascii=False, indent=2))
    return EXIT_OK


def _write(path: str, data: bytes | str, what: str) -> None:
    Path(path).write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    print(f"已写出{what}：{path}", file=sys.stderr)


def _generate(args: argparse.Namespace, store: Any, who: Any) -> dict[str, Any]:
    from engine.work_errors import WorkError
    from graph import WriteConflict
    from loop.access import require
    from loop.generate import generate_year
    from loop.load import load_year

    from .stores import _progress
    require(who, "loop.generate")
    year = generate_year(args.scale, args.year, args.seed)
    update, close = _progress("载入生成的年度")
    try:
        counts = load_year(store, year, progress=update, actor=who.username)
    except WriteConflict:
        raise WorkError("conflict", "year_exists", f"{args.year} 年的生成数据（或同编号的单位、项目）已在存储中，未重复载入") from None
    finally:
        close()
    return {"year": args.year, "scale": args.scale, "written": counts, "declared_totals": year.totals}


def cmd(args: argparse.Namespace) -> int:
    from loop import service as S
    c = args.loop_command
    try:
        if c == "appraise":
            doc = _json_file(args.file)
            return _run(args, lambda st, w: S.put_appraisal(st, w, args.id, doc))
        if c == "report-progress":
            doc = _json_file(args.file)
            return _run(args, lambda st, w: S.report_progress(st, w, args.id, doc))
        if c == "self-evaluate":
            doc = _json_file(args.file)
            return _run(args, lambda st, w: S.put_self_evaluation(st, w, args.id, doc))
        if c == "key-evaluate":
            doc = _json_file(args.file)
            return _run(args, lambda st, w: S.put_key_evaluation(st, w, args.id, doc))
    except ValueError as e:
        print(str(e), file=sys.stderr)
        return EXIT_INVALID
    if c == "plan":
        try:
            months = [int(x) for x in args.months.split(",")]
        except ValueError:
            print("[bad_plan] --months 应为 12 个以逗号分隔的整数金额（元）", file=sys.stderr)
            return EXIT_INVALID
        return _run(args, lambda st, w: S.set_plan(st, w, args.id, months))
    simple: dict[str, Callable[[Any, Any], Any]] = {
        "appraisal": lambda st, w: S.get_appraisal(st, w, args.id),
        "progress": lambda st, w: S.progress(st, w, args.id),
        "warnings": lambda st, w: S.list_warnings(st, w, args.year, args.unit, args.status, args.kind, args.project,
                                                  args.offset, args.limit),
        "explain": lambda st, w: S.explain_warning(st, w, args.warning, args.text),
        "act": lambda st, w: S.act_on_warning(st, w, args.warning, args.action, args.comment),
        "review": lambda st, w: S.put_review(st, w, args.id, {"score": args.score, "comment": args.comment}),
        "evaluation": lambda st, w: S.get_evaluation(st, w, args.id),
        "proposals": lambda st, w: S.proposals(st, w, args.year, args.unit),
        "adjust": lambda st, w: S.adjust_proposal(st, w, args.id, {"amount": args.amount, "reason": args.reason}),
        "generate": lambda st, w: _generate(args, st, w),
    }
    if c in simple:
        return _run(args, simple[c])
    if c == "report":
        if args.xlsx:
            return _run(args, lambda st, w: _write(args.xlsx, S.yearly_workbook(st, w, args.year), "年度报告 .xlsx"))
        return _run(args, lambda st, w: S.yearly_report(st, w, args.year))
    if c == "chart":
        def chart(st: Any, w: Any) -> None:
            if args.kind == "execution":
                _, svg = S.execution_chart(st, w, args.target)
            elif args.kind == "achievement":
                _, svg = S.achievement_chart(st, w, args.target, args.date or "")
            else:
                _, svg = S.proposal_chart(st, w, int(args.target))
            _write(args.output, svg, "图表 SVG")
        if args.kind == "proposals" and not args.target.isdigit():
            print("[bad_year] proposals 图表的参数应为年度，如 2025", file=sys.stderr)
            return EXIT_INVALID
        return _run(args, chart)
    print("用法：zhibiao loop {appraise,appraisal,plan,report-progress,progress,warnings,explain,act,self-evaluate,"
          "review,key-evaluate,evaluation,proposals,adjust,report,chart,generate} …", file=sys.stderr)
    return EXIT_USAGE


def _store_args(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument("--store", metavar="URL", help="存储地址：sqlite:///路径 或 neo4j://主机:端口（默认 ZHIBIAO_STORE）")
    p.add_argument("--no-seed", action="store_true", help="存储为空时不载入内置指标库（亦可设 ZHIBIAO_SEED=0）")
    p.add_argument("--user", required=True, help="以哪个账号操作（密码取 ZHIBIAO_PASSWORD 或标准输入）")
    return p


def register(sub: Any, add: Callable[..., argparse.ArgumentParser]) -> None:
    text = "绩效闭环：事前评估、运行监控与预警、绩效评价、预算调整建议、年度报告（以账号身份）"
    p = sub.add_parser("loop", help=text, description=text)
    p.set_defaults(func=cmd, loop_command=None)
    s = p.add_subparsers(dest="loop_command", metavar="子命令")

    def leaf(name: str, text: str, *positionals: tuple[str, str]) -> argparse.ArgumentParser:
        q = s.add_parser(name, help=text, description=text)
        for arg, help_text in positionals:
            q.add_argument(arg, help=help_text, **({"type": int} if arg == "year" else {}))
        return _store_args(q)

    pid = ("id", "项目编号，如 PRJ-3f9a2c1b7d")
    body = ("file", "JSON 文件（格式见 docs/loop_api.md）")
    leaf("appraise", "录入事前评估（审核人员）", pid, body)
    leaf("appraisal", "查看事前评估", pid)
    q = leaf("plan", "填报月度用款计划（单位）", pid)
    q.add_argument("--months", required=True, help="1–12 月金额（元），逗号分隔，共 12 个")
    leaf("report-progress", "报告运行监控情况（单位）", pid, body)
    leaf("progress", "查看用款计划与监控报告", pid)
    q = leaf("warnings", "预警列表（单位只见本单位）")
    q.add_argument("--year", type=int)
    q.add_argument("--unit")
    q.add_argument("--status", choices=["open", "explained", "acted", "closed"])
    q.add_argument("--kind", choices=["execution_deviation", "target_shortfall"])
    q.add_argument("--project")
    q.add_argument("--offset", type=int, default=0)
    q.add_argument("--limit", type=int, default=100)
    q = leaf("explain", "说明预警原因（单位）", ("warning", "预警编号"))
    q.add_argument("--text", required=True, help="情况说明")
    q = leaf("act", "处理预警（审核人员）", ("warning", "预警编号"))
    q.add_argument("--action", required=True, choices=["urge", "adjust", "suspend", "close"])
    q.add_argument("--comment", required=True)
    leaf("self-evaluate", "填报绩效自评（单位）", pid, body)
    q = leaf("review", "财政复核得分（审核人员）", pid)
    q.add_argument("--score", type=float, required=True)
    q.add_argument("--comment", required=True)
    leaf("key-evaluate", "录入重点评价（审核人员）", pid, body)
    leaf("evaluation", "查看绩效评价", pid)
    q = leaf("proposals", "下一年度预算调整建议", ("year", "评价年度"))
    q.add_argument("--unit")
    q = leaf("adjust", "调整建议金额（审核人员，须说明理由）", pid)
    q.add_argument("--amount", type=int, required=True, help="调整后金额（元）")
    q.add_argument("--reason", required=True)
    q = leaf("report", "年度绩效闭环报告（JSON，或 --xlsx 写出工作簿）", ("year", "年度"))
    q.add_argument("--xlsx", metavar="FILE", help="写出 .xlsx 文件")
    q = leaf("chart", "写出图表 SVG：execution 项目编号 | achievement 项目编号 --date 日期 | proposals 年度",
             ("kind", "execution、achievement 或 proposals"), ("target", "项目编号或年度"))
    q.add_argument("--date", help="achievement 图：监控报告日期 YYYY-MM-DD")
    q.add_argument("--output", required=True, help="输出 .svg 文件")
    q = leaf("generate", "载入一个生成的演示年度（管理员；130 个单位约 900 个项目，或 CI 用的小样）")
    q.add_argument("--scale", choices=["test", "full"], default="test")
    q.add_argument("--year", type=int, default=2025)
    q.add_argument("--seed", type=int, default=2025)
