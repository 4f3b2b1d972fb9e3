"""Results (结果应用): next year's budget proposal from this year's scores by tiered rules (分档压减).

The bands and rates are data (``loop/data/budget_rules.yaml``, a reconstruction: the city's own
are not public); a changed file changes the proposal without code. A reviewer may adjust a
project's proposed amount with a reason; the effect is summed per unit and for the city.
Amounts are whole 元; a proposed amount is rounded half up to the 元."""
from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .config import rules
from .errors import LoopInputError


def band_for(score: float | None, budget_rules: dict[str, Any] | None = None) -> dict[str, Any]:
    """The band a score falls in (first band whose ``min`` the score reaches), or the unscored rule."""
    r = budget_rules if budget_rules is not None else rules("budget_rules")
    if score is None:
        return {"band": None, **r["unscored"]}
    for band in r["bands"]:
        if score >= band["min"]:
            return band
    return r["bands"][-1]


def apply_rate(amount: int, rate_pct: float) -> int:
    """amount × (100 + rate) ÷ 100, rounded half up to the 元; never below 0."""
    value = Decimal(amount) * (Decimal(100) + Decimal(str(rate_pct))) / Decimal(100)
    return max(int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP)), 0)


def propose_one(item: dict[str, Any], budget_rules: dict[str, Any] | None = None) -> dict[str, Any]:
    """{project_id, unit, amount, score, adjusted_amount?, adjust_reason?} → the proposal for next year."""
    band = band_for(item.get("score"), budget_rules)
    amount = int(item["amount"])
    proposed = apply_rate(amount, band["rate_pct"])
    out = {"project_id": item["project_id"], "unit": item.get("unit"), "name": item.get("name"),
           "score": item.get("score"), "score_source": item.get("score_source"), "band": band.get("band"),
           "action": band["action"], "rate_pct": band["rate_pct"], "rule": band.get("label"),
           "base_amount": amount, "proposed_amount": proposed, "adjusted_amount": None, "adjust_reason": None}
    adjusted = item.get("adjusted_amount")
    if adjusted is not None:
        out["adjusted_amount"], out["adjust_reason"] = int(adjusted), item.get("adjust_reason")
    out["final_amount"] = out["adjusted_amount"] if out["adjusted_amount"] is not None else proposed
    out["change"] = out["final_amount"] - amount
    return out


def check_adjustment(amount: Any, reason: Any) -> tuple[int, str]:
    """A reviewer's adjustment: a whole non-negative amount in 元 and a reason (required)."""
    if isinstance(amount, bool) or not isinstance(amount, (int, float)) or amount < 0 or amount != int(amount) \
            or amount > 10 ** 13:
        raise LoopInputError("bad_amount", f"amount：调整后金额应为非负整数（元），收到「{amount}」", "amount")
    if not isinstance(reason, str) or not reason.strip():
        raise LoopInputError("reason_required", "reason：调整建议金额必须说明理由", "reason")
    if len(reason) > 2000:
        raise LoopInputError("too_long", "reason：理由不超过 2000 字", "reason")
    return int(amount), reason.strip()


def propose(items: Iterable[dict[str, Any]], budget_rules: dict[str, Any] | None = None) -> dict[str, Any]:
    """Proposals per project, totals per unit and for the city (base, proposed, final, change)."""
    r = budget_rules if budget_rules is not None else rules("budget_rules")
    projects = [propose_one(i, r) for i in items]
    units: dict[str, dict[str, Any]] = {}
    for p in projects:
        u = units.setdefault(p["unit"], {"unit": p["unit"], "projects": 0, "base_amount": 0, "proposed_amount": 0,
                                         "final_amount": 0, "change": 0, "by_action": {}})
        u["projects"] += 1
        for k in ("base_amount", "proposed_amount", "final_amount", "change"):
            u[k] += p[k]
        u["by_action"][p["action"]] = u["by_action"].get(p["action"], 0) + 1
    city = {k: sum(u[k] for u in units.values()) for k in ("projects", "base_amount", "proposed_amount",
                                                           "final_amount", "change")}
    city["by_action"] = {}
    for p in projects:
        city["by_action"][p["action"]] = city["by_action"].get(p["action"], 0) + 1
    return {"projects": projects, "units": sorted(units.values(), key=lambda u: str(u["unit"])), "city": city}
