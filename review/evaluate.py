"""Precision and recall of the target review against the labelled set (review/labelled/).

    python -m review.evaluate [--verbose] [--store URL]

Every expected (table, row, code) — or (table, code) for table rules — is compared with what
check_table reports. ``info`` codes only say that data was missing; they are listed, not scored.

Thresholds (exit 1 below them), and why these numbers:
- overall micro precision ≥ 0.90: a reviewer who sees more than one wrong flag in ten stops
  trusting the tool, so precision matters more than recall;
- overall micro recall ≥ 0.85: the tool is a first pass before the human reviewer, missing one
  defect in seven is tolerable but not more;
- per code, precision and recall ≥ 0.60 for every code with at least 3 expected or predicted
  cases: no single rule may be mostly noise or mostly blind, while codes with one or two cases
  are too few to measure and are shown but not gated.
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import Any

LABELLED_DIR = Path(__file__).resolve().parent / "labelled"

THRESHOLDS = {"overall_precision": 0.90, "overall_recall": 0.85, "code_precision": 0.60,
              "code_recall": 0.60, "code_min_support": 3}


def parse_labelled(path: Path) -> list[dict[str, Any]]:
    """Tables of one labelled file as check_table documents with ``expected`` codes attached."""
    tables: list[dict[str, Any]] = []
    cur: dict[str, Any] | None = None
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("@table"):
            parts = [p.strip() for p in line[len("@table"):].split("|")]
            tid, name, sector = parts[0], parts[1], parts[2]
            amount = float(parts[3]) if len(parts) > 3 and parts[3] else None
            cur = {"id": tid, "file": path.name, "project": {"name": name, "sector": sector or None, "amount": amount},
                   "goals": {}, "rows": [], "expected_rows": [], "expected_table": set()}
            tables.append(cur)
        elif cur is None:
            raise ValueError(f"{path.name}:{lineno}: 在 @table 之前出现内容")
        elif line.startswith("@period"):
            cur["goals"]["period"] = line[len("@period"):].strip()
        elif line.startswith("@annual"):
            cur["goals"]["annual"] = line[len("@annual"):].strip()
        elif line.startswith("@expect"):
            cur["expected_table"] |= set(line[len("@expect"):].split())
        else:
            cells = [c.strip() for c in raw.split("|")]
            if len(cells) < 5:
                raise ValueError(f"{path.name}:{lineno}: 应有 6 列（一级|二级|三级|指标值|单位|代码）")
            cells += [""] * (6 - len(cells))
            cur["rows"].append({"level1": cells[0], "level2": cells[1], "name": cells[2], "value": cells[3],
                                "unit": cells[4] or None})
            cur["expected_rows"].append(set(cells[5].split()))
    return tables


def load_all(directory: Path = LABELLED_DIR) -> list[dict[str, Any]]:
    out = []
    for p in sorted(directory.glob("tables_*.txt")):
        out += parse_labelled(p)
    return out


def evaluate(library: Any | None = None, tables: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Run check_table on every labelled table and count hits per code."""
    from .checker import check_table
    from .rules import config
    severity = {code: r["severity"] for code, r in config()["rules"].items()}
    tables = tables if tables is not None else load_all()
    tp: Counter = Counter()
    fp: Counter = Counter()
    fn: Counter = Counter()
    info: Counter = Counter()
    mistakes: list[str] = []
    for t in tables:
        doc = {"project": t["project"], "goals": t["goals"], "rows": t["rows"]}
        res = check_table(doc, library)
        got_rows: list[set[str]] = [set() for _ in t["rows"]]
        got_table: set[str] = set()
        for f in res["flags"]:
            if severity.get(f["code"]) == "info":
                info[f["code"]] += 1
                continue
            (got_table if f["row"] is None else got_rows[f["row"]]).add(f["code"])
        pairs = [(f"{t['id']}#{i + 1} {r['name']}={r['value']}", exp, got)
                 for i, (r, exp, got) in enumerate(zip(t["rows"], t["expected_rows"], got_rows))]
        pairs.append((f"{t['id']}（整表）", t["expected_table"], got_table))
        for where, exp, got in pairs:
            for c in exp & got:
                tp[c] += 1
            for c in got - exp:
                fp[c] += 1
                mistakes.append(f"多报 {c:22s} {where}")
            for c in exp - got:
                fn[c] += 1
                mistakes.append(f"漏报 {c:22s} {where}")
    codes = sorted(set(tp) | set(fp) | set(fn))
    per_code = {}
    for c in codes:
        p = tp[c] / (tp[c] + fp[c]) if tp[c] + fp[c] else 1.0
        r = tp[c] / (tp[c] + fn[c]) if tp[c] + fn[c] else 1.0
        per_code[c] = {"tp": tp[c], "fp": fp[c], "fn": fn[c], "precision": p, "recall": r}
    T, F, N = sum(tp.values()), sum(fp.values()), sum(fn.values())
    overall = {"tp": T, "fp": F, "fn": N, "precision": T / (T + F) if T + F else 1.0,
               "recall": T / (T + N) if T + N else 1.0}
    n_rows = sum(len(t["rows"]) for t in tables)
    sectors = {t["project"]["sector"] for t in tables}
    return {"tables": len(tables), "rows": n_rows, "sectors": len(sectors), "per_code": per_code,
            "overall": overall, "info": dict(info), "mistakes": mistakes}


def failures(result: dict[str, Any]) -> list[str]:
    """Threshold violations, in words."""
    th = THRESHOLDS
    out = []
    o = result["overall"]
    if o["precision"] < th["overall_precision"]:
        out.append(f"总体查准率 {o['precision']:.3f} < {th['overall_precision']}")
    if o["recall"] < th["overall_recall"]:
        out.append(f"总体查全率 {o['recall']:.3f} < {th['overall_recall']}")
    for c, m in result["per_code"].items():
        if m["tp"] + m["fn"] >= th["code_min_support"] and m["recall"] < th["code_recall"]:
            out.append(f"{c} 查全率 {m['recall']:.2f} < {th['code_recall']}")
        if m["tp"] + m["fp"] >= th["code_min_support"] and m["precision"] < th["code_precision"]:
            out.append(f"{c} 查准率 {m['precision']:.2f} < {th['code_precision']}")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m review.evaluate", description="目标审核标注集评测")
    ap.add_argument("--verbose", action="store_true", help="列出每一处多报和漏报")
    ap.add_argument("--store", help="用该存储中的指标库（默认用内置指标源文件）")
    args = ap.parse_args(argv)
    library = None
    if args.store:
        from engine.library import Library
        from graph import open_store
        library = Library(open_store(args.store))
    res = evaluate(library)
    print(f"标注集：{res['tables']} 张表，{res['rows']} 行，{res['sectors']} 个行业")
    print(f"{'代码':24s}{'TP':>5s}{'FP':>5s}{'FN':>5s}{'查准率':>9s}{'查全率':>8s}")
    for c, m in res["per_code"].items():
        print(f"{c:24s}{m['tp']:5d}{m['fp']:5d}{m['fn']:5d}{m['precision']:9.3f}{m['recall']:8.3f}")
    o = res["overall"]
    print(f"{'总体（micro）':22s}{o['tp']:5d}{o['fp']:5d}{o['fn']:5d}{o['precision']:9.3f}{o['recall']:8.3f}")
    if res["info"]:
        print("info 提示（不计分）：" + "，".join(f"{k} {v}" for k, v in sorted(res["info"].items())))
    if args.verbose:
        for m in res["mistakes"]:
            print("  " + m)
    bad = failures(res)
    for b in bad:
        print(f"未达阈值：{b}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
