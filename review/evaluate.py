"""Precision and recall of the target review against the labelled set (review/labelled/), and
on the real published tables in ../shared/real-tables/ when they are present.

    python -m review.evaluate [--verbose] [--store URL]

The real tables (read at run time, never copied into the repo) are scored per row and per weakness
family, with category agreement on rows labelled ok and the fit of the suggested rewrites; their
thresholds (issue 11's acceptance lines) are in review/data/real_eval.yaml. Every library
indicator's typical value is also run through the row rules: the checker and the library must
agree (0 errors).

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
import json
import os
import re
import sys
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

LABELLED_DIR = Path(__file__).resolve().parent / "labelled"
ROOT = Path(__file__).resolve().parent.parent

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


# --- real published tables (../shared/real-tables) ---------------------------------------------
@lru_cache(maxsize=1)
def real_config() -> dict[str, Any]:
    """review/data/real_eval.yaml: where the real tables are, families → codes, thresholds."""
    return yaml.safe_load((Path(__file__).resolve().parent / "data" / "real_eval.yaml").read_text(encoding="utf-8"))


def real_tables_path() -> Path:
    """The real development tables, relative to the repo root unless ZHIBIAO_REAL_TABLES says otherwise."""
    p = Path(os.environ.get("ZHIBIAO_REAL_TABLES") or real_config()["path"])
    return p if p.is_absolute() else (ROOT / p).resolve()


def load_real(path: Path | None = None) -> list[dict[str, Any]]:
    """The real tables as check_table documents; rows keep their label and families."""
    path = path or real_tables_path()
    data = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for i, t in enumerate(data):
        amount = t.get("amount_wan")
        out.append({"id": f"R{i + 1:02d}", "project": {"name": t.get("project") or "", "sector": t.get("sector"),
                                                        "amount": None if amount is None else float(amount) * 10000},
                    "goals": {"annual": t.get("overall_goal")} if t.get("overall_goal") else {},
                    "rows": [{k: r.get(k) for k in ("level1", "level2", "name", "value", "unit")}
                             for r in t["indicators"]],
                    "labels": [(r.get("label"), list(r.get("families") or [])) for r in t["indicators"]]})
    return out


_REF_ID = re.compile(r"(?:IND|GEN)-[0-9A-Z]+-[0-9A-F]+")


def _rewrite_of(flag: dict[str, Any], idx: Any) -> dict[str, Any] | None:
    """The library rewrite a flag proposes (its ``rewrite`` field, else the id in its text)."""
    rw = flag.get("rewrite")
    if rw:
        return rw
    m = _REF_ID.search(flag.get("suggestion") or "")
    if not m:
        return None
    ref = next((r for r in idx.refs if r.id == m.group(0)), None)
    if ref is None:
        return None
    return {"id": ref.id, "name": ref.name, "category": ref.category, "sector": ref.sector,
            "text": ref.target_text(), "value": None, "source": None}


def evaluate_real(library: Any | None = None, tables: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Review P/R per family and overall (row level), category agreement on rows labelled ok, and
    the fit of the suggested rewrites, on the real published tables.

    A row counts as flagged when any error or warning row rule fires on it (info only says data
    is missing). Rows labelled ``unsure`` are not scored. Category agreement compares the 二级
    category predicted from name, value and unit with the one the unit published, on rows labelled
    ok whose published 二级 maps to a target category; an abstention counts as a disagreement."""
    from .checker import check_table
    from .classify import category_info, index_for
    from .rules import config, filed_category, sector_of
    cfg = real_config()
    severity = {code: r["severity"] for code, r in config()["rules"].items()}
    families: dict[str, set[str]] = {f: set(c) for f, c in cfg["families"].items()}
    tables = tables if tables is not None else load_real()
    idx = index_for(library)
    tp = fp = fn = tn = 0
    fam: dict[str, Counter] = {f: Counter() for f in families}
    cat_total = cat_ok = cat_abstain = 0
    sugg: list[dict[str, Any]] = []
    mistakes: list[str] = []
    for t in tables:
        doc = {"project": t["project"], "goals": t["goals"], "rows": t["rows"]}
        res = check_table(doc, library)
        got: list[set[str]] = [set() for _ in t["rows"]]
        for f in res["flags"]:
            if f["row"] is not None and severity.get(f["code"]) in ("error", "warning"):
                got[f["row"]].add(f["code"])
        sector, _ = sector_of(t["project"])
        for i, (row, (label, fams), codes, out) in enumerate(zip(t["rows"], t["labels"], got, res["rows"])):
            where = f"{t['id']}#{i + 1} {row['name']}={row['value']}"
            if label == "ok":
                filed = filed_category(row.get("level2"))
                if filed and category_info()[filed][1] is not None:
                    cat_total += 1
                    if out["category_code"] == filed:
                        cat_ok += 1
                    else:
                        cat_abstain += out["category_code"] is None
                        mistakes.append(f"类别 {where}：发布 {category_info()[filed][0]}，预测 {out['category_predicted']}")
            if label not in ("ok", "weak"):
                continue
            flagged = bool(codes)
            if label == "weak" and flagged:
                tp += 1
            elif label == "weak":
                fn += 1
                mistakes.append(f"漏报 {'/'.join(fams):18s} {where}")
            elif flagged:
                fp += 1
                mistakes.append(f"多报 {' '.join(sorted(codes)):18s} {where}")
            else:
                tn += 1
            for fname, fcodes in families.items():
                hit = bool(codes & fcodes)
                if fname in fams:
                    fam[fname]["tp" if hit else "fn"] += 1
                elif hit:
                    fam[fname]["fp"] += 1
        for f in res["flags"]:
            if f["row"] is None or severity.get(f["code"]) == "info":
                continue
            rw = _rewrite_of(f, idx)
            if rw is None:
                continue
            row = t["rows"][f["row"]]
            filed = filed_category(row.get("level2"))
            predicted = res["rows"][f["row"]]["category_code"]
            # the category a rewrite keeps: the one filed, unless the review itself says the filing
            # is wrong; an input row filed nowhere has none to keep
            if filed and category_info()[filed][1] is not None and "wrong_category" not in got[f["row"]]:
                want = filed
            elif predicted and category_info()[predicted][1] is not None:
                want = predicted
            else:
                want = None
            sugg.append({"where": f"{t['id']}#{f['row'] + 1}", "code": f["code"], "row": row["name"],
                         "rewrite": rw, "want": want,
                         "same_category": want is None or rw.get("category") == want,
                         "sector_or_general": rw.get("sector") in (None, sector) or rw.get("source") == "pattern",
                         "passes": _rewrite_passes(rw, t["project"], library)})
    rate = lambda a, b: a / b if b else 1.0  # noqa: E731
    per_family = {f: {"tp": c["tp"], "fp": c["fp"], "fn": c["fn"], "precision": rate(c["tp"], c["tp"] + c["fp"]),
                      "recall": rate(c["tp"], c["tp"] + c["fn"])} for f, c in fam.items() if sum(c.values())}
    n = len(sugg)
    return {"tables": len(tables), "rows": sum(len(t["rows"]) for t in tables),
            "scored_rows": tp + fp + fn + tn,
            "overall": {"tp": tp, "fp": fp, "fn": fn, "tn": tn, "precision": rate(tp, tp + fp), "recall": rate(tp, tp + fn)},
            "per_family": per_family,
            "category": {"rows": cat_total, "agree": cat_ok, "abstain": cat_abstain, "agreement": rate(cat_ok, cat_total)},
            "suggestions": {"count": n,
                            "same_category": rate(sum(s["same_category"] for s in sugg), n),
                            "sector_or_general": rate(sum(s["sector_or_general"] for s in sugg), n),
                            "passes_check": rate(sum(s["passes"] for s in sugg), n),
                            "patterns": sum(1 for s in sugg if s["rewrite"].get("source") == "pattern"),
                            "items": sugg},
            "mistakes": mistakes}


def _rewrite_passes(rw: dict[str, Any], project: dict[str, Any], library: Any | None) -> bool:
    """A pattern ("培训合格率 ≥ __%") is a blank to fill, not a value: it passes when the name does.
    A library rewrite passes when its own row (name, value, category) gets no error or warning."""
    from .checker import check_table
    from .classify import category_info
    from .rules import config
    value = rw.get("value")
    if rw.get("source") == "pattern" or value is None:
        text = rw.get("text") or ""
        m = re.match(r"^(.*?)\s*(≥|≤|=|：)\s*(.*)$", text)
        if rw.get("source") == "pattern" or not m:
            return bool(rw.get("name"))
        value = m.group(3) if m.group(2) == "：" else m.group(2) + m.group(3)
    level2 = category_info().get(rw.get("category") or "", (None,))[0]
    res = check_table({"project": project, "goals": {}, "rows": [{"level2": level2, "name": rw["name"], "value": value}]},
                      library)
    sev = {c: r["severity"] for c, r in config()["rules"].items()}
    return not [f for f in res["flags"] if f["row"] == 0 and sev.get(f["code"]) in ("error", "warning")]


def library_check(library: Any | None = None, severities: tuple[str, ...] = ("error",)) -> list[dict[str, Any]]:
    """Every library indicator's typical value, written as a unit would write it under its own
    二级 category, through the row rules: the checker and the library must agree (issue 11).
    Returns the flags of the given severities, one entry per (indicator, code)."""
    from .classify import category_info, index_for
    from .rules import build_row, check_row
    idx = index_for(library)
    out = []
    for r in idx.refs:
        if not r.typical or r.typical == "-" or category_info()[r.category][1] is None:
            continue
        value = r.typical if r.value_kind == "定性" else r.value_text()
        row = {"level2": category_info()[r.category][0], "name": r.name, "value": value}
        for f in check_row(build_row(0, row, idx), idx, {}, r.sector, examples=False):
            if f.severity in severities and f.code != "cost_amount_unknown":
                out.append({"id": r.id, "name": r.name, "value": value, "code": f.code, "message": f.message})
    return out


def real_failures(result: dict[str, Any]) -> list[str]:
    """Acceptance lines of issue 11 not met on the real tables, in words."""
    th = real_config()["thresholds"]
    o, c, s = result["overall"], result["category"], result["suggestions"]
    out = []
    for key, val, name in (("precision", o["precision"], "审核查准率"), ("recall", o["recall"], "审核查全率"),
                           ("category_agreement", c["agreement"], "类别一致率"),
                           ("suggestion_same_category", s["same_category"], "建议同类别比例"),
                           ("suggestion_sector_or_general", s["sector_or_general"], "建议同行业或通用比例"),
                           ("suggestion_passes_check", s["passes_check"], "建议通过检查比例")):
        if val < th[key]:
            out.append(f"真实表{name} {val:.3f} < {th[key]}")
    return out


def print_real(res: dict[str, Any], verbose: bool = False) -> None:
    o = res["overall"]
    print(f"\n真实表（{real_tables_path()}）：{res['tables']} 张表，{res['rows']} 行，计分 {res['scored_rows']} 行（unsure 不计）")
    print(f"审核（行级）：TP {o['tp']}  FP {o['fp']}  FN {o['fn']}  TN {o['tn']}  "
          f"查准率 {o['precision']:.3f}  查全率 {o['recall']:.3f}")
    print(f"{'弱点族':14s}{'TP':>5s}{'FP':>5s}{'FN':>5s}{'查准率':>9s}{'查全率':>8s}")
    for f, m in res["per_family"].items():
        print(f"{f:16s}{m['tp']:5d}{m['fp']:5d}{m['fn']:5d}{m['precision']:9.3f}{m['recall']:8.3f}")
    c = res["category"]
    print(f"二级类别（标为 ok 的行）：一致 {c['agree']}/{c['rows']} = {c['agreement']:.3f}，未预测 {c['abstain']}")
    s = res["suggestions"]
    print(f"改写建议：{s['count']} 条，同二级类别 {s['same_category']:.3f}，同行业或通用 {s['sector_or_general']:.3f}，"
          f"通过检查 {s['passes_check']:.3f}，写法模板 {s['patterns']} 条")
    if verbose:
        for m in res["mistakes"]:
            print("  " + m)
        for it in s["items"]:
            rw = it["rewrite"]
            print(f"  建议 {it['where']} {it['code']:18s} {it['row'][:24]} → {rw.get('text')} "
                  f"[{rw.get('source')}/{rw.get('sector') or '通用'}/{rw.get('category')}]"
                  f"{'' if it['same_category'] else ' ✗类别'}{'' if it['passes'] else ' ✗检查'}")


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
    lib = library_check(library)
    print(f"\n指标库典型值过审核规则：error {len(lib)} 条")
    for e in lib[:20]:
        print(f"  {e['id']} {e['name']} = {e['value']}：{e['code']}")
    if lib:
        bad.append(f"指标库典型值有 {len(lib)} 条 error")
    if real_tables_path().exists():
        real = evaluate_real(library)
        print_real(real, args.verbose)
        bad += real_failures(real)
    else:
        print(f"\n真实表不存在（{real_tables_path()}），跳过真实表评测")
    for b in bad:
        print(f"未达阈值：{b}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
