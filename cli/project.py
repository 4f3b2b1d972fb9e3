"""``zhibiao project …``: the project workflow from the command line, the same engine and rules as
the HTTP API. Commands act as a real account: ``--user NAME`` with the password from
ZHIBIAO_PASSWORD or the first line of stdin (a hidden prompt on a terminal).

    zhibiao project list [--unit --status --year --sector]      zhibiao project show ID
    zhibiao project create --name … --unit … --year … --amount …
    zhibiao project put ID FILE --revision N     (FILE: .json {goals, rows} or the .xlsx 申报表)
    zhibiao project submit|approve ID [--revision N] [--comment …]
    zhibiao project return ID --comment … [--row-comment ROW:意见 …]
    zhibiao project history ID | diff ID A B | export ID --output FILE.xlsx

Exit codes: 0 done, 1 refused (with [code] and a Chinese message), 2 usage, 3 store unavailable."""
from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path
from typing import Any, Callable

from graph.settings import setting

from .user import store_args

EXIT_OK, EXIT_INVALID = 0, 1


def _password() -> str:
    env = setting("ZHIBIAO_PASSWORD")
    if env:
        return env
    return getpass.getpass("密码：") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\r\n")


def _run(args: argparse.Namespace, work: Callable[[Any, Any], Any]) -> int:
    """Open the store, sign in, run ``work(projects, principal)``, print its answer."""
    from engine.accounts import authenticate
    from engine.library import Library
    from engine.projects import Projects
    from engine.units import ensure_units
    from engine.work_errors import WorkError

    from .stores import open_for
    with open_for(args) as store:
        try:
            ensure_units(store)
            who = authenticate(store, args.user, _password())
            out = work(Projects(Library(store)), who)
        except WorkError as e:
            print(f"[{e.code}] {e.message}", file=sys.stderr)
            return EXIT_INVALID
    if out is not None:
        print(json.dumps(out, ensure_ascii=False, indent=2))
    return EXIT_OK


def _table_file(path: Path) -> dict[str, Any]:
    from .check import read_document
    return read_document(path)


def cmd(args: argparse.Namespace) -> int:
    c = args.project_command
    if c == "list":
        return _run(args, lambda s, w: s.list(w, args.unit, args.status, args.year, args.sector, args.offset, args.limit))
    if c == "show":
        return _run(args, lambda s, w: s.get(w, args.id))
    if c == "create":
        return _run(args, lambda s, w: s.create(w, args.name, args.unit, args.year, args.amount, args.sector,
                                                args.project_type, args.period, args.description))
    if c == "put":
        try:
            doc = _table_file(Path(args.file))
        except ValueError as e:
            print(str(e), file=sys.stderr)
            return EXIT_INVALID
        source = "xlsx" if Path(args.file).suffix.lower() in (".xlsx", ".xlsm") else "json"
        rows = doc.get("rows") if isinstance(doc, dict) else None
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            print("[no_rows] 文件中没有目标行（rows）", file=sys.stderr)
            return EXIT_INVALID
        return _run(args, lambda s, w: s.put_table(w, args.id, args.revision, doc.get("goals") or {}, rows,
                                                   args.project_type, source))
    if c == "submit":
        return _run(args, lambda s, w: s.submit(w, args.id, args.revision))
    if c == "approve":
        return _run(args, lambda s, w: s.approve(w, args.id, args.comment, args.revision))
    if c == "return":
        comments = []
        for rc in args.row_comment or []:
            row, _, text = rc.partition(":")
            if not row.strip().isdigit() or not text.strip():
                print(f"[bad_row_comment] 逐行意见应写作 行号:意见（行号从 0 起），收到「{rc}」", file=sys.stderr)
                return EXIT_INVALID
            comments.append({"row": int(row), "comment": text.strip()})
        return _run(args, lambda s, w: s.return_(w, args.id, args.comment, comments, args.revision))
    if c == "history":
        return _run(args, lambda s, w: s.history(w, args.id))
    if c == "diff":
        return _run(args, lambda s, w: s.diff(w, args.id, args.a, args.b))
    if c == "export":
        from engine.target_xlsx import write_workbook

        def export(s: Any, w: Any) -> None:
            project = s.get(w, args.id)
            table = s.table(w, args.id)
            Path(args.output).write_bytes(write_workbook(project, table, project.get("unit_name") or project["unit"]))
            print(f"已导出第 {table['revision']} 版目标表到 {args.output}", file=sys.stderr)
        return _run(args, export)
    print("用法：zhibiao project {list,show,create,put,submit,return,approve,history,diff,export} …", file=sys.stderr)
    return 2


def register(sub: Any, add: Callable[..., argparse.ArgumentParser]) -> None:
    text = "项目与绩效目标：新建、填报、提交、退回、批准、历史、比较、导出（以账号身份）"
    p = sub.add_parser("project", help=text, description=text)
    p.set_defaults(func=cmd, project_command=None)
    s = p.add_subparsers(dest="project_command", metavar="子命令")

    def leaf(name: str, text: str, with_id: bool = True) -> argparse.ArgumentParser:
        q = s.add_parser(name, help=text, description=text)
        if with_id:
            q.add_argument("id", help="项目编号，如 PRJ-3f9a2c1b7d")
        q.add_argument("--user", required=True, help="以哪个账号操作（密码取 ZHIBIAO_PASSWORD 或标准输入）")
        return store_args(q)

    q = leaf("list", "项目列表", with_id=False)
    q.add_argument("--unit")
    q.add_argument("--status", choices=["draft", "submitted", "returned", "resubmitted", "approved"])
    q.add_argument("--year", type=int)
    q.add_argument("--sector")
    q.add_argument("--offset", type=int, default=0)
    q.add_argument("--limit", type=int, default=50)
    leaf("show", "项目详情（含当前目标表）")
    q = leaf("create", "新建项目（草稿）", with_id=False)
    q.add_argument("--name", required=True)
    q.add_argument("--unit", required=True, help="预算单位编码")
    q.add_argument("--year", type=int, required=True)
    q.add_argument("--amount", type=float, required=True, help="项目金额（元）")
    q.add_argument("--sector")
    q.add_argument("--project-type")
    q.add_argument("--period")
    q.add_argument("--description")
    q = leaf("put", "填报目标表：写入新版本（JSON 或 .xlsx 申报表）")
    q.add_argument("file")
    q.add_argument("--revision", type=int, required=True, help="编辑所基于的版本号（首次为 0）")
    q.add_argument("--project-type")
    for name, text in (("submit", "提交审核"), ("approve", "审核通过"), ("return", "退回修改")):
        q = leaf(name, text)
        q.add_argument("--revision", type=int)
        q.add_argument("--comment", required=name == "return")
        if name == "return":
            q.add_argument("--row-comment", action="append", metavar="行号:意见", help="逐行意见，可多次给出（行号从 0 起）")
    leaf("history", "状态变更记录")
    q = leaf("diff", "逐行比较两个版本")
    q.add_argument("a", type=int)
    q.add_argument("b", type=int)
    q = leaf("export", "导出绩效目标申报表 .xlsx")
    q.add_argument("--output", required=True)
