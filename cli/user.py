"""``zhibiao user add NAME --role admin|maintainer|reviewer|unit [--unit CODE]`` (password read from
stdin, so it never shows in the shell history or the process list), ``zhibiao user list``, and
``zhibiao units list|load FILE [--dry-run]``.

Whoever runs the CLI has the store itself in hand, so these commands are the operator's: the first
admin is created here, and the audit log records the actor as ``cli:<login name>``."""
from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import Any, Callable

EXIT_OK, EXIT_INVALID = 0, 1


def actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no login name in some containers
        return "cli"


def read_password() -> str:
    """The first line of stdin (or a hidden prompt on a terminal)."""
    if sys.stdin.isatty():
        first = getpass.getpass("密码：")
        if getpass.getpass("再输入一次：") != first:
            raise ValueError("两次输入的密码不一致")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def cmd_user_add(args: argparse.Namespace) -> int:
    from engine.accounts import add_user
    from engine.units import ensure_units
    from engine.work_errors import WorkError

    from .stores import open_for
    try:
        password = read_password()
    except ValueError as e:
        print(f"[bad_password] {e}", file=sys.stderr)
        return EXIT_INVALID
    with open_for(args) as store:
        ensure_units(store)
        try:
            user = add_user(store, args.name, password, args.role, args.unit, actor())
        except WorkError as e:
            print(f"[{e.code}] {e.message}", file=sys.stderr)
            return EXIT_INVALID
    print(f"已创建账号 {user['username']}（{user['role']}{'，单位 ' + user['unit'] if user['unit'] else ''}）", file=sys.stderr)
    return EXIT_OK


def cmd_user_list(args: argparse.Namespace) -> int:
    from engine.accounts import list_users

    from .stores import open_for
    with open_for(args) as store:
        users = list_users(store)
    if args.json:
        print(json.dumps(users, ensure_ascii=False, indent=2))
    for u in users if not args.json else []:
        print(f"{u['username']}\t{u['role']}\t{u['unit'] or '-'}\t{'启用' if u['active'] else '停用'}\t{u['created_at']}")
    return EXIT_OK


def cmd_units_load(args: argparse.Namespace) -> int:
    from engine.units import load_units

    from .stores import open_for
    with open_for(args) as store:
        report = load_units(store, args.file, actor(), dry_run=args.dry_run)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    for p in report["errors"]:
        loc = " ".join(str(x) for x in (p["file"], f"第{p['row']}行" if p["row"] else "", p["column"] or "") if x)
        print(f"[错误 {p['code']}] {loc}：{p['message']}", file=sys.stderr)
    if report["errors"]:
        print(f"校验失败：{len(report['errors'])} 个错误，未写入任何内容", file=sys.stderr)
        return EXIT_INVALID
    c = report["counts"]
    verb = "校验通过（--dry-run，未写入）" if args.dry_run else "加载完成"
    print(f"{verb}：{report['file']}，{c['rows']} 个单位；新增 {c['created']}，更新 {c['updated']}，未变 {c['unchanged']}，"
          f"停用 {c['deactivated']}", file=sys.stderr)
    return EXIT_OK


def cmd_units_list(args: argparse.Namespace) -> int:
    from engine.units import ensure_units, list_units

    from .stores import open_for
    with open_for(args) as store:
        ensure_units(store)
        units = list_units(store, 0, 100000)["items"]
    if args.json:
        print(json.dumps(units, ensure_ascii=False, indent=2))
    else:
        for u in units:
            print(f"{u['code']}\t{u['name']}\t{u['department']}\t{','.join(u['sectors'])}")
    return EXIT_OK


def store_args(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """--store and --no-seed on a leaf command (as cli/main.py's ``add`` gives top-level ones)."""
    p.add_argument("--store", metavar="URL", help="存储地址：sqlite:///路径 或 neo4j://主机:端口（默认 ZHIBIAO_STORE）")
    p.add_argument("--no-seed", action="store_true", help="存储为空时不载入内置指标库")
    return p


def register(sub: Any, add: Callable[..., argparse.ArgumentParser]) -> None:
    text = "账号管理：新建账号（密码从标准输入读取）、列出账号"
    p = sub.add_parser("user", help=text, description=text)
    p.set_defaults(func=lambda a: (p.print_help(), 2)[1])
    s = p.add_subparsers(dest="user_command", metavar="子命令")
    a = s.add_parser("add", help="新建账号；密码从标准输入第一行读取", description="新建账号；密码从标准输入第一行读取")
    a.add_argument("name", help="用户名（2–40 个字母、数字、汉字或 _ . -）")
    a.add_argument("--role", required=True, choices=["admin", "maintainer", "reviewer", "unit"], help="角色")
    a.add_argument("--unit", help="单位账号所属预算单位编码（role=unit 时必填）")
    a.set_defaults(func=cmd_user_add)
    ls = s.add_parser("list", help="列出账号")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_user_list)
    for q in (a, ls):
        store_args(q)
    units_text = "预算单位名录：列出、从 CSV/XLSX 加载真实名录（全部成功或全部不写）"
    p2 = sub.add_parser("units", help=units_text, description=units_text)
    p2.set_defaults(func=lambda a: (p2.print_help(), 2)[1])
    s2 = p2.add_subparsers(dest="units_command", metavar="子命令")
    ld = s2.add_parser("load", help="加载预算单位名录（列：单位编码、单位名称、主管部门、行业）")
    ld.add_argument("file", help="CSV/TSV/XLSX 文件")
    ld.add_argument("--dry-run", action="store_true", help="只校验，不写入")
    ld.add_argument("--json", action="store_true", help="以 JSON 输出报告")
    ld.set_defaults(func=cmd_units_load)
    ul = s2.add_parser("list", help="列出预算单位")
    ul.add_argument("--json", action="store_true")
    ul.set_defaults(func=cmd_units_list)
    for q in (ld, ul):
        store_args(q)
