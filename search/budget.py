"""Quantities and unit costs that fit the project's amount.

Why: a recommended set copied from the library's typical values proposes the same "≥5000人,
≤2500元/人" for a 100万元 and an 8000万元 project, which at 100万 costs 1,250万. With an amount,
this module pairs each unit-cost row (元/人, 万元/公里 …) with the quantity rows counted in the same
unit, takes the unit cost from the best source available (the unit's own approved history, a
spending standard, the library's typical value), and proposes the quantity the amount buys, so
that quantity × unit cost never exceeds it. Every assumption and every source is returned with the
set. Without an amount, the values are the library's typical values and are said to be placeholders.

The pairing rules (unit equivalences, time factors, rounding) live in search/data/recommend.yaml and
the spending standards in ontology/data/spending_standards.yaml."""
from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from ontology.values import plain_number
from ontology.vocab import units as unit_vocab

STANDARDS_FILE = Path(__file__).resolve().parent.parent / "ontology" / "data" / "spending_standards.yaml"

# A hook for the unit's own history: given an indicator id, the median unit cost (in the
# indicator's unit) of the unit's approved projects, with a description of where it comes from.
# The project store supplies it once projects are recorded (Recommender(unit_cost_history=...)).
UnitCostHistory = Callable[[str], "tuple[float, str] | None"]


@lru_cache(maxsize=1)
def spending_standards() -> list[dict[str, Any]]:
    data = yaml.safe_load(STANDARDS_FILE.read_text(encoding="utf-8")) or {}
    return [dict(s, rx=re.compile(s["pattern"])) for s in data.get("standards", []) if s.get("pattern")]


@dataclass
class Line:
    """One recommended row as the budget step sees it (the item dict is updated in place)."""
    item: dict[str, Any]
    category: str
    unit: str
    direction: str
    typical: float | None
    dimension: str | None
    value: float | None = None
    source: str | None = None
    paired: list[tuple[Line, float]] = field(default_factory=list)  # (quantity line, quantity → cost units)


def _number(text: Any) -> float | None:
    """A stored typical value as one number, read by the value grammar (ontology/values.py)."""
    return plain_number(text)


def _overlap(a: str, b: str) -> int:
    """Shared character bigrams of two names."""
    return len({a[i:i + 2] for i in range(len(a) - 1)} & {b[i:i + 2] for i in range(len(b) - 1)})


def _fmt(x: float) -> str:
    return f"{x:.6g}" if x < 1e6 else f"{x:.0f}"


def nice_floor(x: float, integer: bool) -> float:
    """Round down to two significant figures (4166 → 4100, 0.666 → 0.66): a quantity a unit would
    write, never above what the amount buys."""
    if x <= 0:
        return 0.0
    mag = 10 ** (math.floor(math.log10(x)) - 1)
    v = math.floor(x / mag + 1e-9) * mag
    if integer:
        v = math.floor(v)
    return float(f"{v:.6g}")


class BudgetPlanner:
    def __init__(self, rules: dict[str, Any], history: UnitCostHistory | None = None):
        self.rules = rules
        self.history = history
        self.dims = {u: info.dimension for u, info in unit_vocab().items()}

    # --- unit arithmetic -------------------------------------------------------------------------
    def money_scale(self, unit: str) -> float | None:
        return self.rules["money_units"].get(unit)

    def split_cost_unit(self, unit: str) -> tuple[float, str, str | None] | None:
        """"万元/公里" → (10000, "公里", None); "元/人·年" → (1, "人", "年")."""
        if "/" not in unit:
            return None
        num, den = unit.split("/", 1)
        scale = self.money_scale(num)
        if scale is None:
            return None
        base, _, per = den.partition("·")
        return scale, base, per or None

    def quantity_factor(self, cost_unit: str, qty_unit: str) -> float | None:
        """How many cost-denominator units one quantity unit holds, or None when they do not pair.
        The time part of a per-time cost (·年, ·月) is the project year (factor in the rules);
        a per-day cost pairs only with person-days."""
        parts = self.split_cost_unit(cost_unit)
        if not parts:
            return None
        _, base, per = parts
        if per in self.rules["per_time_days"]:  # 元/人·天 pairs with 人日 only
            return 1.0 if qty_unit in self.rules["person_days"] and base == "人" else None
        time = self.rules["per_time_factor"].get(per, None) if per else 1.0
        if time is None:
            return None
        measures = self.rules["measures"]
        if qty_unit in measures and base in measures and measures[qty_unit][0] == measures[base][0]:
            f = float(measures[qty_unit][1]) / float(measures[base][1])  # 公里 against 元/米: ×1000
        elif qty_unit == base:
            f = 1.0
        elif qty_unit == "万" + base:
            f = 10000.0
        elif qty_unit in self.rules["unit_equivalents"].get(base, []):
            f = 1.0
        else:
            return None
        return f * time

    # --- the plan ---------------------------------------------------------------------------------
    def unit_cost(self, line: Line) -> tuple[float | None, str]:
        """The unit cost to plan with and where it comes from (history > standard > library)."""
        item = line.item
        if self.history is not None:
            got = self.history(item["id"])
            if got is not None:
                return got[0], f"历史项目：{got[1]}"
        for s in spending_standards():
            if line.unit == s["unit"] and s["rx"].search(item["name"]):
                v = float(s["max_yuan"])
                if line.typical is None or v <= line.typical:
                    return v, f"支出标准：{s['source']}"
        if line.typical is not None:
            return line.typical, "指标库典型值"
        return None, "指标库无典型值"

    def plan(self, lines: list[Line], amount: float | None) -> dict[str, Any]:
        quantitative = [ln for ln in lines if ln.typical is not None and ln.item.get("value_kind") != "定性"
                        and ln.unit and ln.unit != "年月日" and ln.dimension not in ("rate", "date")]
        if not amount:  # no amount (or 0): nothing to divide, the typical values stand in
            for ln in quantitative:
                ln.item["value_source"] = "指标库典型值（占位）"
            return {"amount": amount, "placeholders": [ln.item["name"] for ln in quantitative],
                    "assumption": self.rules["budget_notes"]["no_amount"]}
        costs = [ln for ln in lines if ln.category == "COST-ECO" and ln.unit and self.split_cost_unit(ln.unit)]
        totals = [ln for ln in lines if ln.category == "COST-ECO" and ln.unit and self.money_scale(ln.unit)]
        others = [ln for ln in lines if ln not in costs and ln not in totals and ln.unit
                  and ln.dimension not in ("rate", "date", "money", "unit_cost", "score", "ratio")
                  and ln.item.get("value_kind") != "定性"]
        for c in costs:
            c.value, c.source = self.unit_cost(c)
            if c.value is None:
                continue
            for q in others:
                f = self.quantity_factor(c.unit, q.unit)
                if f is not None:
                    c.paired.append((q, f))
        active = [c for c in costs if c.paired and c.value]
        # the amount is split between the outputs in the proportions of the library's typical project
        # (typical quantity × typical unit cost), evenly when a typical value is missing
        weights = [self._typical_money([c]) for c in active]
        if not all(weights):
            weights = [1.0] * len(active)
        shares = {id(c): amount * w / sum(weights) for c, w in zip(active, weights)}
        notes = []
        if len(active) > 1:
            notes.append(self.rules["budget_notes"]["split"].format(
                n=len(active), parts="、".join(f"{c.item['name']} {100 * shares[id(c)] / amount:.0f}%" for c in active)))
        elif active:
            notes.append(self.rules["budget_notes"]["single"])
        # what the library's typical project costs: scales the quantities the amount does not price
        typical_money = self._typical_money(active)
        pairs = []
        limit: dict[int, float] = {}
        for c in active:
            scale = self.split_cost_unit(c.unit)[0]
            for q, f in c.paired:
                qmax = shares[id(c)] / (c.value * scale * f)
                limit[id(q)] = min(limit.get(id(q), math.inf), qmax)
        for c in active:
            scale = self.split_cost_unit(c.unit)[0]
            for q, f in c.paired:
                integer = self.dims.get(q.unit) == "count"
                qv = nice_floor(limit[id(q)], integer)
                if qv <= 0:  # the amount does not buy one unit at this cost: one unit, cost capped
                    qv = 1.0
                    capped = math.floor(shares[id(c)] / (scale * f))
                    if c.value > capped:
                        c.value, c.source = float(capped), f"按预算封顶（{c.source}超出金额）"
                if q.direction == "≤" and q.typical is not None:  # a cap (≤8辆): the amount only lowers it
                    qv = min(qv, q.typical)
                q.value = qv if q.value is None else min(q.value, qv)
                q.source = "按金额测算：金额 ÷ 单位成本"
        for c in active:
            # the quantity the unit cost is about (most shared characters: 培训人均补贴 ↔ 培训人数);
            # the other rows in the same unit are capped too, so that any pairing stays within the amount
            scale = self.split_cost_unit(c.unit)[0]
            q, f = max(c.paired, key=lambda p: (_overlap(c.item["name"], p[0].item["name"]), -lines.index(p[0])))
            pairs.append({"quantity": q.item["name"], "quantity_value": f"{_fmt(q.value)}{q.unit}",
                          "unit_cost": c.item["name"], "unit_cost_value": f"{_fmt(c.value)}{c.unit}",
                          "unit_cost_source": c.source, "share_yuan": round(shares[id(c)], 2),
                          "subtotal_yuan": round(q.value * c.value * scale * f, 2),
                          "also_capped": [o.item["name"] for o, _ in c.paired if o is not q]})
        # unit costs that pair with nothing still may not exceed the amount
        for c in costs:
            if c in active or c.value is None:
                continue
            scale = self.split_cost_unit(c.unit)[0]
            if c.value * scale > amount:
                c.value, c.source = nice_floor(amount / scale, False), "按预算封顶（典型值超过项目金额）"
        # money totals: the amount split between them
        for t in totals:
            cap = amount / len(totals) / self.money_scale(t.unit)
            if t.typical is None or t.typical > cap:
                t.value, t.source = nice_floor(cap, False), "项目金额" + ("（按成本总额指标平均分摊）" if len(totals) > 1 else "")
            else:
                t.value, t.source = t.typical, "指标库典型值（不超过项目金额）"
        # quantities the amount does not price: scaled with the amount from the library's typical project
        k = amount / typical_money if typical_money else None
        scaled = []
        for q in others:
            if q.value is not None or q.typical is None or q.category != "OUT-QTY" or q.direction not in ("≥", "="):
                continue
            if k is None:
                q.source = "指标库典型值（与金额无直接换算关系，请按实际填写）"
                continue
            integer = self.dims.get(q.unit) == "count"
            q.value = max(nice_floor(q.typical * k, integer), 1.0 if integer else nice_floor(q.typical * k, False))
            q.source = "按金额比例折算：典型值 × 项目金额 ÷ 典型项目成本"
            scaled.append(q.item["name"])
        if scaled:
            notes.append(self.rules["budget_notes"]["scaled"].format(money=_fmt(typical_money / 10000)))
        for ln in quantitative:
            if ln.value is None and not ln.source and ln not in costs:
                ln.source = "指标库典型值（与金额无直接换算关系，请按实际填写）"
        for ln in lines:
            if ln.value is not None:
                comp = ln.direction if ln.direction in ("≥", "≤", "=") else ""
                if ln in costs or ln in totals:
                    comp = "≤"
                ln.item["suggested_value"] = f"{comp}{_fmt(ln.value)}{ln.unit}"
                ln.item["basis"] = "计划标准"
            if ln.source:
                ln.item["value_source"] = ln.source
        spent = sum(p["subtotal_yuan"] for p in pairs)
        return {"amount": amount, "amount_unit": "元", "assumption": "；".join(notes) or self.rules["budget_notes"]["none"],
                "pairs": pairs, "planned_yuan": round(spent, 2), "within_amount": spent <= amount + 1e-6,
                "scaled": scaled}

    def _typical_money(self, active: list[Line]) -> float:
        """Money of the library's typical project: typical quantity × typical unit cost over the pairs."""
        total = 0.0
        for c in active:
            if c.typical is None:
                continue
            scale = self.split_cost_unit(c.unit)[0]
            best = max((q.typical * f for q, f in c.paired if q.typical is not None), default=0.0)
            total += best * c.typical * scale
        return total


def lines_for(items: list[tuple[dict[str, Any], str, Any]], dims: dict[str, str]) -> list[Line]:
    """Budget lines from (item, category code, typical value) triples."""
    out = []
    for item, category, typical in items:
        unit = item.get("unit") or ""
        out.append(Line(item, category, unit, item.get("direction") or "", _number(typical), dims.get(unit)))
    return out
