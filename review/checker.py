"""check_table: one target table in, score, verdict, flags and parsed rows out.

This is the single entry point the API, the CLI, the bench and the labelled-set evaluation call,
so all of them give identical answers for the same document.
"""
from __future__ import annotations

from typing import Any

from graph.errors import ZhibiaoError

from .classify import category_info, index_for
from .rules import build_row, check_row, check_table as table_rules, config, duplicate_flags, sector_of


class BadDocument(ZhibiaoError, ValueError):
    """The document does not have the shape of a target table; ``code`` is stable."""
    status = 422

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def validate(doc: Any) -> dict[str, Any]:
    """Check the shape (dict with a rows list of dicts) and say what is wrong, in Chinese."""
    if not isinstance(doc, dict):
        raise BadDocument("bad_document", "目标表应为 JSON 对象：{project, goals, rows}")
    rows = doc.get("rows")
    if not isinstance(rows, list):
        raise BadDocument("no_rows", "目标表缺少 rows（三级指标行列表）")
    for i, r in enumerate(rows):
        if not isinstance(r, dict):
            raise BadDocument("bad_row", f"第 {i + 1} 行应为对象，含 level1、level2、name、value、unit、basis")
    for key in ("project", "goals"):
        if doc.get(key) is not None and not isinstance(doc[key], dict):
            raise BadDocument(f"bad_{key}", f"{key} 应为对象")
    amount = (doc.get("project") or {}).get("amount")
    if amount not in (None, ""):
        try:
            float(amount)
        except (TypeError, ValueError):
            raise BadDocument("bad_amount", f"project.amount 应为数字（元），收到「{amount}」") from None
    return doc


def check_table(doc: dict[str, Any], library: Any | None = None) -> dict[str, Any]:
    """Review a target table.

    ``library`` is an engine.library.Library (its indicators drive category prediction and the
    suggested rewrites); None uses the bundled catalogue. Returns
    ``{"score", "verdict", "reasons", "flags", "rows"}`` with one ``rows`` entry per input row."""
    validate(doc)
    idx = index_for(library)
    project = dict(doc.get("project") or {})
    sector, known = sector_of(project)
    rows = [build_row(i, r, idx) for i, r in enumerate(doc["rows"])]
    flags = []
    for r in rows:
        r.flags = check_row(r, idx, project, sector)
        flags += r.flags
    flags += duplicate_flags(rows)
    flags += table_rules(rows, doc, idx, sector, known)
    flags.sort(key=lambda f: (f.row is None, f.row if f.row is not None else 0))

    th = config()["thresholds"]
    per_code: dict[str, int] = {}
    for f in flags:
        per_code[f.code] = per_code.get(f.code, 0) + th["penalty"].get(f.severity, 0)
    penalty = sum(min(v, th["penalty_cap_per_code"]) for v in per_code.values())
    score = max(0, 100 - penalty)
    errors = [f for f in flags if f.severity == "error"]
    verdict = "pass" if not errors and score >= th["pass_score"] else "revise"
    reasons = []
    if errors:
        reasons.append(f"{len(errors)} 个必须修改的问题（error）")
    if score < th["pass_score"]:
        reasons.append(f"评分 {score} 低于通过线 {th['pass_score']}")
    warnings = sum(1 for f in flags if f.severity == "warning")
    if verdict == "pass":
        reasons.append("无必须修改的问题" + (f"；另有 {warnings} 条建议" if warnings else ""))
    for f in errors[:5]:
        reasons.append(f.message)

    out_rows = []
    for r in rows:
        d = r.parsed.to_dict()
        d.pop("raw")
        out_rows.append({"index": r.index, "name": r.name, "value": r.value, **d,
                         "category_predicted": r.predicted.name, "category_code": r.predicted.code,
                         "category_source": r.predicted.source,
                         "category_confidence": r.predicted.confidence,
                         "category_filed": category_info()[r.filed][0] if r.filed else None})
    return {"score": score, "verdict": verdict, "reasons": reasons,
            "flags": [f.to_dict() for f in flags], "rows": out_rows}
