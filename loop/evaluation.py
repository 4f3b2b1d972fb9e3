"""Evaluation after the year (绩效评价): the unit's self-evaluation (自评表), the bureau's review
score (复核) and key evaluations (重点评价), and which score counts.

Self-evaluation follows the national method: 100 points split over groups of 一级 indicators
(产出 50, 效益 30, 满意度 10) and the budget execution rate (10); within a group each row gets an
equal share, earned in proportion to its achievement (fully → all, partly → in proportion, not →
none, capped at 100%). A row whose achievement cannot be computed (a qualitative row judged by
hand) may carry the evaluator's own ``rate``. Weights and grades are data (``loop/data/weights.yaml``)."""
from __future__ import annotations

from typing import Any

from .achievement import achievement
from .config import rules
from .errors import LoopInputError
from .monitoring import pct

KEY_KINDS = ("bureau", "third_party")
KEY_SCOPES = ("project", "spending_standard")


def grade_of(score: float, weights: dict[str, Any] | None = None) -> str:
    """优/良/中/差 by the grade bands of the weights file."""
    w = weights if weights is not None else rules("weights")
    for band in w["grades"]:
        if score >= band["min"]:
            return band["grade"]
    return w["grades"][-1]["grade"]


def _group_of(level1: str | None, groups: dict[str, Any]) -> str | None:
    for key, g in groups.items():
        if level1 in g.get("level1", []):
            return key
    return None


def _manual_rate(value: Any, row: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
        raise LoopInputError("bad_rate", f"第 {row} 行：人工评定的完成率应为 0–100 的数，收到「{value}」", f"rows[{row}].rate")
    return float(value)


def self_evaluation(project: dict[str, Any], actuals: list[dict[str, Any]], spent: int,
                    weights: dict[str, Any] | None = None,
                    thresholds: dict[str, Any] | None = None) -> dict[str, Any]:
    """Score a self-evaluation: rows (planned vs actual, achievement, points) and the total.

    ``actuals``: [{row, actual, rate?}], ``rate`` being the evaluator's own judgement (0–100) used
    only when the achievement cannot be computed from the values."""
    w = weights if weights is not None else rules("weights")
    groups: dict[str, Any] = w["groups"]
    by_row = {a.get("row"): a for a in actuals}
    rows_by_group: dict[str, list[dict[str, Any]]] = {k: [] for k in groups}
    ungrouped = []
    for row in project.get("rows", []):
        key = _group_of(row.get("level1"), groups)
        (rows_by_group[key] if key else ungrouped).append(row)
    live = {k: g["points"] for k, g in groups.items() if g.get("execution") or rows_by_group[k]}
    full = sum(g["points"] for g in groups.values())
    scale = full / sum(live.values()) if w.get("redistribute_empty_groups", True) and live else 1.0
    out_rows = []
    group_scores: dict[str, dict[str, Any]] = {}
    year = int(project["year"])
    for key, g in groups.items():
        points = round(g["points"] * scale, 4) if key in live else 0.0
        if g.get("execution"):
            rate = min(pct(spent, int(project["amount"])), 100.0)
            got = round(points * rate / 100, 4)
            group_scores[key] = {"name": g["name"], "points": points, "score": got, "execution_pct": rate}
            continue
        rows = rows_by_group[key]
        share = points / len(rows) if rows else 0.0
        got_total = 0.0
        for row in rows:
            given = by_row.get(row.get("row"), {})
            ach = achievement(row.get("value"), given.get("actual"), row.get("unit"), year, thresholds)
            rate = ach.rate
            source = "computed"
            if rate is None:
                manual = _manual_rate(given.get("rate"), row.get("row"))
                if manual is not None:
                    rate, source = manual, "evaluator"
            earned = round(share * min(rate or 0.0, 100.0) / 100, 4)
            got_total += earned
            out_rows.append({"row": row.get("row"), "group": key, "level1": row.get("level1"),
                             "level2": row.get("level2"), "name": row.get("name"), "planned": row.get("value"),
                             "actual": given.get("actual"), "status": ach.status, "rate": rate,
                             "rate_source": source, "reason": ach.reason, "points": round(share, 4),
                             "score": earned})
        group_scores[key] = {"name": g["name"], "points": points, "score": round(got_total, 4)}
    total = round(sum(g["score"] for g in group_scores.values()), 2)
    return {"project_id": project["id"], "rows": out_rows, "groups": group_scores, "total": total,
            "grade": grade_of(total, w), "spent": spent, "amount": int(project["amount"]),
            "unscored_rows": [r.get("row") for r in ungrouped]}


def check_score(value: Any, field: str) -> float:
    """A score is a number from 0 to 100."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= float(value) <= 100:
        raise LoopInputError("bad_score", f"{field}：得分应为 0–100 的数，收到「{value}」", field)
    return round(float(value), 2)


def check_key_evaluation(doc: dict[str, Any]) -> dict[str, Any]:
    """A key evaluation: who (bureau or a commissioned third party), scope, method, score, findings,
    recommendations. Every field is required and bounded."""
    if not isinstance(doc, dict):
        raise LoopInputError("bad_key_evaluation", "重点评价应为对象", "key")
    kind = doc.get("kind")
    if kind not in KEY_KINDS:
        raise LoopInputError("bad_key_evaluation", f"kind：应为 {'、'.join(KEY_KINDS)}，收到「{kind}」", "key.kind")
    scope = doc.get("scope")
    if scope not in KEY_SCOPES:
        raise LoopInputError("bad_key_evaluation", f"scope：应为 {'、'.join(KEY_SCOPES)}，收到「{scope}」", "key.scope")
    out: dict[str, Any] = {"kind": kind, "scope": scope, "score": check_score(doc.get("score"), "key.score")}
    for f, limit in (("evaluator", 200), ("method", 500), ("findings", 5000), ("recommendations", 5000)):
        v = doc.get(f)
        if not isinstance(v, str) or not v.strip():
            raise LoopInputError("bad_key_evaluation", f"{f}：重点评价必须填写", f"key.{f}")
        if len(v) > limit:
            raise LoopInputError("too_long", f"{f}：不超过 {limit} 字", f"key.{f}")
        out[f] = v.strip()
    standard = doc.get("standard")
    if standard is not None:
        from .appraisal import standards_by_code
        known = standards_by_code()
        if standard not in known:
            raise LoopInputError("unknown_standard", f"standard：未知的支出标准「{standard}」；可选：{'、'.join(sorted(known))}",
                                 "key.standard")
        out["standard"] = {"code": standard, "name": known[standard]["name"]}
    elif scope == "spending_standard":
        out["standard"] = None   # the evaluated standard may also be named only in the scope text
    if kind == "third_party" and out["evaluator"] in ("财政局", "市财政局"):
        raise LoopInputError("bad_key_evaluation", "evaluator：第三方评价应写受托机构名称", "key.evaluator")
    return out


def final_score(self_total: float | None, review: float | None, key: float | None,
                weights: dict[str, Any] | None = None) -> tuple[float | None, str | None]:
    """The score that counts and where it came from, by the precedence of the weights file."""
    w = weights if weights is not None else rules("weights")
    have = {"self": self_total, "review": review, "key": key}
    for source in w.get("final_score_precedence", ["key", "review", "self"]):
        if have.get(source) is not None:
            return have[source], source
    return None, None
