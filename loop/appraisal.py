"""Appraisal before a project enters the pool (事前绩效评估, "评估+评审").

The appraisal (评估) scores four dimensions 0–100 — 立项必要性, 投入经济性, 绩效目标合理性 (the
target review score), 实施方案可行性 — weighted into one score with a conclusion; the review (评审)
checks each cost item's unit cost against the spending standards (支出标准, a reconstruction kept as
data) and the quantity × unit cost they imply against the requested amount, and sets the approved
amount with a reason for every cut. The yearly summary has the seed's shape: projects appraised,
requested, cut, cut rate. Weights, conclusions and standards: ``loop/data/weights.yaml`` and
``ontology/data/spending_standards.yaml``."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .config import rules
from .errors import LoopInputError
from .monitoring import pct

MAX_ITEMS = 200


def _money(v: Any, field: str) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0 or v != int(v) or v > 10 ** 13:
        raise LoopInputError("bad_amount", f"{field}：金额应为非负整数（元），收到「{v}」", field)
    return int(v)


def _number(v: Any, field: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0 or v > 10 ** 13:
        raise LoopInputError("bad_number", f"{field}：应为非负数，收到「{v}」", field)
    return float(v)


def standards_by_code(standards: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    s = standards if standards is not None else rules("spending_standards")
    return {x["code"]: x for x in s["standards"]}


def appraise(doc: dict[str, Any], weights: dict[str, Any] | None = None,
             standards: dict[str, Any] | None = None) -> dict[str, Any]:
    """Check and score one appraisal; raises LoopInputError (located) on bad input.

    ``doc``: {requested, scores: {necessity, economy, target_quality, feasibility}, cost_items:
    [{name, standard?, quantity, unit_cost}], approved, cuts: [{amount, reason, item?}], opinion?}."""
    w = (weights if weights is not None else rules("weights"))["appraisal"]
    std = standards_by_code(standards)
    if not isinstance(doc, dict):
        raise LoopInputError("bad_appraisal", "事前评估应为对象")
    requested = _money(doc.get("requested"), "requested")
    approved = _money(doc.get("approved"), "approved")
    if approved > requested:
        raise LoopInputError("approved_over_requested", f"approved：核定金额 {approved:,} 元超过申请金额 {requested:,} 元",
                             "approved")
    scores = doc.get("scores") or {}
    if not isinstance(scores, dict):
        raise LoopInputError("bad_scores", "scores：应为各维度得分的对象", "scores")
    dims = {}
    for key, d in w["dimensions"].items():
        v = scores.get(key)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 100:
            raise LoopInputError("bad_score", f"scores.{key}（{d['name']}）：应为 0–100 的数，收到「{v}」", f"scores.{key}")
        dims[key] = {"name": d["name"], "weight": d["weight"], "score": float(v)}
    total_w = sum(d["weight"] for d in dims.values())
    score = round(sum(d["score"] * d["weight"] for d in dims.values()) / total_w, 2)
    conclusion = next(c["conclusion"] for c in w["conclusions"] if score >= c["min"])
    items = doc.get("cost_items") or []
    if not isinstance(items, list) or len(items) > MAX_ITEMS:
        raise LoopInputError("bad_cost_items", f"cost_items：应为列表，至多 {MAX_ITEMS} 项", "cost_items")
    checked, flags, implied = [], [], 0.0
    for i, it in enumerate(items):
        if not isinstance(it, dict) or not str(it.get("name") or "").strip():
            raise LoopInputError("bad_cost_item", f"cost_items[{i}]：每项须有名称 name", f"cost_items[{i}].name")
        qty = _number(it.get("quantity"), f"cost_items[{i}].quantity")
        unit_cost = _number(it.get("unit_cost"), f"cost_items[{i}].unit_cost")
        line = {"name": str(it["name"]).strip()[:200], "quantity": qty, "unit_cost": unit_cost,
                "amount": round(qty * unit_cost, 2), "standard": None, "over_standard": False}
        code = it.get("standard")
        if code is not None:
            if code not in std:
                raise LoopInputError("unknown_standard", f"cost_items[{i}].standard：未知的支出标准「{code}」；"
                                     f"可选：{'、'.join(sorted(std))}", f"cost_items[{i}].standard")
            s = std[code]
            line["standard"] = {"code": code, "name": s["name"], "unit": s["unit"], "max_yuan": s["max_yuan"]}
            if unit_cost > s["max_yuan"]:
                line["over_standard"] = True
                excess = round((unit_cost - s["max_yuan"]) * qty, 2)
                flags.append({"code": "over_standard", "item": i, "excess_yuan": excess,
                              "message": f"「{line['name']}」单价 {unit_cost:g} 元超过支出标准「{s['name']}」"
                                         f"上限 {s['max_yuan']:g} {s['unit']}，超出 {excess:,.2f} 元"})
        implied += line["amount"]
        checked.append(line)
    tol = float(w.get("implied_amount_tolerance_pct", 0))
    if checked and requested > implied * (1 + tol / 100):
        flags.append({"code": "requested_above_implied", "item": None, "excess_yuan": round(requested - implied, 2),
                      "message": f"申请金额 {requested:,} 元高于按数量×单价测算的 {implied:,.2f} 元"
                                 f"（容差 {tol:g}%）"})
    cuts = doc.get("cuts") or []
    if not isinstance(cuts, list) or len(cuts) > MAX_ITEMS:
        raise LoopInputError("bad_cuts", f"cuts：应为列表，至多 {MAX_ITEMS} 项", "cuts")
    out_cuts = []
    for i, c in enumerate(cuts):
        if not isinstance(c, dict):
            raise LoopInputError("bad_cut", f"cuts[{i}]：应为 {{amount, reason}}", f"cuts[{i}]")
        amount = _money(c.get("amount"), f"cuts[{i}].amount")
        reason = c.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise LoopInputError("reason_required", f"cuts[{i}].reason：每一笔核减都必须说明理由", f"cuts[{i}].reason")
        out_cuts.append({"amount": amount, "reason": reason.strip()[:2000], "item": c.get("item")})
    cut = requested - approved
    if sum(c["amount"] for c in out_cuts) != cut:
        raise LoopInputError("cuts_do_not_add_up", f"cuts：各笔核减合计 {sum(c['amount'] for c in out_cuts):,} 元，"
                             f"应等于申请减核定 {cut:,} 元", "cuts")
    return {"requested": requested, "approved": approved, "cut": cut, "cut_rate_pct": pct(cut, requested),
            "dimensions": dims, "score": score, "conclusion": conclusion, "cost_items": checked,
            "implied_amount": round(implied, 2), "flags": flags, "cuts": out_cuts,
            "opinion": str(doc.get("opinion") or "")[:5000]}


def summary(appraisals: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The yearly shape: projects appraised, requested, approved, cut and the cut rate."""
    items = list(appraisals)
    requested = sum(a["requested"] for a in items)
    cut = sum(a["cut"] for a in items)
    return {"projects": len(items), "requested": requested, "approved": requested - cut, "cut": cut,
            "cut_rate_pct": pct(cut, requested),
            "by_conclusion": {c: sum(1 for a in items if a["conclusion"] == c)
                              for c in sorted({a["conclusion"] for a in items})}}
