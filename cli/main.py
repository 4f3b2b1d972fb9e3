"""``zhibiao`` command line. Every command takes ``--store URL`` (default ZHIBIAO_STORE or
sqlite:///./zhibiao.db); an empty store is seeded with the bundled library on first use unless
``--no-seed`` or ZHIBIAO_SEED=0. Messages are Chinese; error codes are stable English keys."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Callable

from graph import GraphStore, open_store, store_url_from_env
from graph.settings import setting

from .stores import _progress, _where, open_for, seed_enabled, sqlite_file  # noqa: F401 (re-exported)

EXIT_OK, EXIT_INVALID, EXIT_STORE, EXIT_USAGE = 0, 1, 3, 2


def _print_json(obj: object) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=2))


def cmd_stats(args: argparse.Namespace) -> int:
    from engine.library import Library
    with open_for(args) as store:
        stats = Library(store).stats()
    if args.json:
        _print_json(stats)
    else:
        labels = {"general_categories": "通用指标类别", "level1_groups": "一级指标", "industry_indicators": "行业专用指标",
                  "general_indicators": "通用指标", "deprecated_indicators": "已停用指标", "sectors": "行业",
                  "fields": "领域", "project_types": "项目类型", "library_version": "指标库版本"}
        for k, v in stats.items():
            print(f"{labels.get(k, k)}：{v}")
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
    from engine.library import Library
    with open_for(args) as store:
        ind = Library(store).indicator(args.id)  # NotFound is reported by main (exit 1)
    if args.json:
        _print_json(ind)
        return EXIT_OK
    print(f"{ind['id']}  {ind['name']}")
    rows = [("一级/二级", f"{(ind['level1'] or {}).get('name', '')} / {(ind['category'] or {}).get('name', '')}"),
            ("行业/领域", f"{(ind['sector'] or {}).get('name') or '通用'} / {(ind['field'] or {}).get('name') or '-'}"),
            ("项目类型", "、".join(p["name"] for p in ind["project_types"]) or "-"),
            ("计量单位", ind["unit"] or "-"), ("值类型/方向", f"{ind['value_kind']} {ind['direction']}"),
            ("典型值", f"{ind['typical_value'] or '-'}（{ind['basis'] or '无依据'}）"),
            ("指标解释", ind["definition"]), ("计算公式", ind["formula"] or "-"), ("数据来源", ind["data_source"]),
            ("同义词", "、".join(ind["synonyms"]) or "-"), ("状态", ind["status"])]
    for k, v in rows:
        print(f"  {k}：{v}")
    return EXIT_OK


def cmd_load(args: argparse.Namespace) -> int:
    from loaders import LoadError, load_file
    with open_for(args, write=True) as store:
        where = _where(store) if not args.dry_run or sqlite_file(store.url) else "（空库，未写入）"
        check, close_check = _progress("SHACL 校验")
        update, close = _progress("写入")
        try:
            report = load_file(args.path, store, dry_run=args.dry_run, progress=update, check_progress=check)
        except LoadError as e:
            report = e.report
        finally:
            close_check()
            close()
    if args.json:
        _print_json(report.to_dict())
    else:
        for p in report.errors[:200]:
            print(p, file=sys.stderr)
        if len(report.errors) > 200:
            print(f"……另有 {len(report.errors) - 200} 个错误（用 --json 查看全部）", file=sys.stderr)
        shown = report.warnings if args.verbose else report.warnings[:20]
        for p in shown:
            print(p, file=sys.stderr)
        if len(report.warnings) > len(shown):
            print(f"……另有 {len(report.warnings) - len(shown)} 个警告（用 --verbose 查看全部）", file=sys.stderr)
        if report.errors:
            print(f"校验失败：{len(report.errors)} 个错误，未写入任何内容（库版本仍为 {report.version_before}）",
                  file=sys.stderr)
        else:
            c = report.counts
            verb = "校验通过（--dry-run，未写入）" if args.dry_run else "加载完成"
            print(f"{verb}：{report.file}（{report.format}{', ' + report.encoding if report.encoding else ''}），"
                  f"{c.get('rows', 0)} 行；新增 {c.get('created', 0)}，更新 {c.get('updated', 0)}，未变 "
                  f"{c.get('unchanged', 0)}，停用 {c.get('deprecated', 0)}；库版本 {report.version_before} → "
                  f"{report.version_after}；存储 {where}")
    return EXIT_INVALID if report.errors else EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from engine.export import BINARY_FORMATS, export_bytes
    if args.format in BINARY_FORMATS and args.output == "-":
        print(f"[usage] {args.format} 是二进制格式，请用 --output 指定文件", file=sys.stderr)
        return EXIT_USAGE
    with open_for(args) as store:
        data = export_bytes(store, args.format)
        where = _where(store)
    if args.output == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        Path(args.output).write_bytes(data)
        print(f"已导出 {where} 的 {args.format} 到 {args.output}（{len(data) / 1024:.0f} KB）", file=sys.stderr)
    return EXIT_OK


def cmd_history(args: argparse.Namespace) -> int:
    from engine.library import Library
    with open_for(args) as store:
        hist = Library(store).history()
    if args.json:
        _print_json(hist)
    else:
        for h in hist:
            c = h["counts"]
            print(f"#{h['seq']} {h['at']} {h['source']} sha256:{h['file_hash'][:12]} 版本 {h['version_before']}→"
                  f"{h['version_after']} 新增 {c.get('created', 0)} 更新 {c.get('updated', 0)} 未变 {c.get('unchanged', 0)}")
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app
    url = store_url_from_env(args.store)
    # seed before serving so the first request does not wait for it
    open_for(args).close()
    print(f"Zhibiao 指标库服务：http://{args.host}:{args.port}  （API 文档 /docs，存储 {url}）", file=sys.stderr)
    uvicorn.run(create_app(url, seed=seed_enabled(args)), host=args.host, port=args.port, log_level=args.log_level)
    return EXIT_OK


def _describe(summary: dict) -> str:
    labels = "、".join(f"{k} {v}" for k, v in summary["labels"].items()) or "无节点"
    return f"库版本 {summary['version']}，{summary['nodes']} 个节点（{labels}），{summary['loads']} 条加载记录"


def _confirm_replace(store: GraphStore, yes: bool) -> bool:
    """Say what a replace would lose; True only with --yes."""
    from engine.backup import is_blank, store_summary
    if is_blank(store):
        return True
    print(f"--replace 将清空 {_where(store)}：{_describe(store_summary(store))}", file=sys.stderr)
    if not yes:
        print("[confirm_required] 未改动任何内容；确认要清空请再加 --yes", file=sys.stderr)
        return False
    return True


def cmd_migrate(args: argparse.Namespace) -> int:
    """Refuses a missing or empty source (never creates it), and a non-empty target unless
    --replace --yes, after saying what would be lost."""
    from engine.backup import is_blank
    from engine.migrate import migrate
    src_path = sqlite_file(args.from_url)
    if src_path is not None and not src_path.exists():
        print(f"[source_missing] 源存储不存在：{src_path.resolve()}；未改动任何内容", file=sys.stderr)
        return EXIT_INVALID
    with open_store(args.from_url) as src:
        if is_blank(src):
            print(f"[source_empty] 源存储 {_where(src)} 是空的：没有可迁移的内容；未改动目标", file=sys.stderr)
            return EXIT_INVALID
        dst_path = sqlite_file(args.to_url)
        if dst_path is not None and not dst_path.exists():
            print(f"新建目标存储：{dst_path.resolve()}", file=sys.stderr)
        with open_store(args.to_url) as dst:
            if args.replace and not _confirm_replace(dst, args.yes):
                return EXIT_INVALID
            update, close = _progress("迁移")
            try:
                result = migrate(src, dst, replace=args.replace, progress=update)
            finally:
                close()
            where = _where(dst)
    print(f"已迁移 {result['nodes']} 个节点、{result['loads']} 条加载记录到 {where}，目标库版本 {result['version']}",
          file=sys.stderr)
    return EXIT_OK


def cmd_backup(args: argparse.Namespace) -> int:
    from engine.backup import backup
    args.no_seed = True   # a backup reads what is there; it never seeds
    with open_for(args) as store:
        result = backup(store, args.output)
        where = _where(store)
    labels = "、".join(f"{k} {v}" for k, v in result["counts"].items())
    print(f"已备份 {where} 到 {args.output}：库版本 {result['version']}，{result['nodes']} 个节点（{labels}），"
          f"{result['loads']} 条加载记录，{result['bytes'] / 1024:.0f} KB，内容校验 sha256:{result['content_sha256'][:16]}",
          file=sys.stderr)
    return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    from engine.backup import read_backup, restore
    read_backup(args.file)       # a damaged file is refused before the target is opened
    args.no_seed = True          # restoring into an empty store must not seed it first
    with open_for(args, write=True) as store:
        if args.replace and not _confirm_replace(store, args.yes):
            return EXIT_INVALID
        update, close = _progress("恢复")
        try:
            result = restore(store, args.file, replace=args.replace, progress=update)
        finally:
            close()
        where = _where(store)
    print(f"已从 {args.file} 恢复到 {where}：库版本 {result['version']}，{result['nodes']} 个节点，"
          f"{result['loads']} 条加载记录；内容校验一致 sha256:{result['content_sha256'][:16]}", file=sys.stderr)
    return EXIT_OK


def cmd_build_library(args: argparse.Namespace) -> int:
    from ontology.build import build
    return build(check_only=args.check)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("zhibiao")
    except PackageNotFoundError:
        return "未安装（源码目录运行）"


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="zhibiao", description="Zhibiao 预算绩效指标库：知识图谱、检索与目标审核服务",
                                 epilog="退出码：0 成功；1 输入被拒绝或冲突；2 用法错误（含无法识别的存储地址）；3 存储不可达")
    ap.add_argument("--version", action="version", version=f"zhibiao {_version()}")
    sub = ap.add_subparsers(dest="command", metavar="命令")

    def add(name: str, help_text: str, func: Callable, store: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=func)
        if store:
            p.add_argument("--store", metavar="URL", help="存储地址：sqlite:///路径 或 neo4j://主机:端口"
                           "（默认取环境变量 ZHIBIAO_STORE，否则 sqlite:///./zhibiao.db）")
            p.add_argument("--no-seed", action="store_true",
                           help="存储为空时不载入内置指标库（亦可设 ZHIBIAO_SEED=0）")
        return p

    p = add("serve", "启动 HTTP API 服务", cmd_serve)
    p.add_argument("--host", default=setting("ZHIBIAO_HOST"), help="监听地址（默认 127.0.0.1）")
    p.add_argument("--port", type=int, default=setting("ZHIBIAO_PORT"), help="端口（默认 8000）")
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    p = add("load", "校验并加载指标文件（CSV/XLSX/JSON/Turtle/JSON-LD），全部成功或全部不写", cmd_load)
    p.add_argument("path", help="要加载的文件")
    p.add_argument("--dry-run", action="store_true", help="只校验，不写入")
    p.add_argument("--json", action="store_true", help="以 JSON 输出加载报告")
    p.add_argument("--verbose", action="store_true", help="列出全部警告")
    p = add("stats", "指标库统计", cmd_stats)
    p.add_argument("--json", action="store_true", help="以 JSON 输出")
    p = add("show", "查看一个指标及其关联", cmd_show)
    p.add_argument("id", help="指标编码")
    p.add_argument("--json", action="store_true", help="以 JSON 输出")
    p = add("export", "导出整个指标库", cmd_export)
    p.add_argument("--format", required=True, choices=["ttl", "jsonld", "csv", "json", "xlsx"],
                   help="导出格式（csv 带 BOM，Excel 可直接打开；xlsx 为 Excel 工作簿，均可重新加载）")
    p.add_argument("--output", required=True, help="输出文件（- 为标准输出）")
    p = add("history", "加载历史与版本", cmd_history)
    p.add_argument("--json", action="store_true", help="以 JSON 输出")
    p = add("migrate", "把整个存储（含版本与加载历史）复制到另一个存储，如从嵌入式迁到 Neo4j", cmd_migrate, store=False)
    p.add_argument("--from", dest="from_url", required=True, metavar="URL", help="源存储地址")
    p.add_argument("--to", dest="to_url", required=True, metavar="URL", help="目标存储地址（须为空，除非 --replace）")
    p.add_argument("--replace", action="store_true", help="目标非空时先清空（先列出将丢失的内容，须同时加 --yes）")
    p.add_argument("--yes", action="store_true", help="确认 --replace 清空目标")
    p = add("backup", "把整个存储（指标库、工作数据、版本与加载历史）备份到一个文件", cmd_backup)
    p.add_argument("--output", required=True, metavar="FILE", help="备份文件（gzip 压缩的 JSON）")
    p = add("restore", "从备份文件恢复到空存储（覆盖非空存储须 --replace --yes），恢复后按内容校验值核对", cmd_restore)
    p.add_argument("file", help="zhibiao backup 生成的备份文件")
    p.add_argument("--replace", action="store_true", help="目标非空时先清空（先列出将丢失的内容，须同时加 --yes）")
    p.add_argument("--yes", action="store_true", help="确认 --replace 清空目标")
    p = add("build-library", "从 ontology/catalogue 源文件生成规范库文件", cmd_build_library, store=False)
    p.add_argument("--check", action="store_true", help="只检查库文件是否与源文件一致")
    from .check import register as register_check
    from .search import register as register_search
    register_search(sub, add)
    register_check(sub, add)
    from .loop import register as register_loop  # zhibiao loop …: appraisal, monitoring, evaluation, results
    register_loop(sub, add)
    from .project import register as register_project
    from .user import register as register_user
    register_user(sub, add)
    register_project(sub, add)
    return ap


def main(argv: list[str] | None = None) -> int:
    ap = build_parser()
    args = ap.parse_args(argv)
    if not getattr(args, "func", None):
        ap.print_help()
        return EXIT_USAGE
    from graph import StoreUnavailable, StoreURLError
    from graph.errors import ZhibiaoError
    try:
        return args.func(args)
    except StoreURLError as e:      # a --store the command cannot understand: a usage error
        print(f"[{e.code}] {e.message}", file=sys.stderr)
        return EXIT_USAGE
    except StoreUnavailable as e:   # the only case of "store unreachable"
        print(f"[{e.code}] {e.message}", file=sys.stderr)
        return EXIT_STORE
    except ZhibiaoError as e:       # any other error of the project (unknown names, limits, conflicts,
        print(f"[{e.code}] {e.message}", file=sys.stderr)   # missing stores …): refused, exit 1
        return EXIT_INVALID
    except BrokenPipeError:         # `zhibiao … | head`: the reader left; end quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        print("已中断", file=sys.stderr)
        return 130
