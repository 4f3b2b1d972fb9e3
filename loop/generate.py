"""A realistic year of the loop, generated: units, projects with target tables, monthly plans,
progress reports, appraisals, self-evaluations, review scores and key evaluations.

The full scale has the shape of the bureau's 2025 (130 units, ~900 projects; 92 monitored projects
of 25 units worth 44.40 亿元; 36 key evaluations worth 37.64 亿元; 41 appraisals, 2.02 亿元 requested,
0.68 亿元 cut). The declared totals are met to the 元 (amounts are split with integer arithmetic),
so a yearly report computed from the stored year must reproduce them exactly. The test scale is a
small year that loads in seconds. Everything is synthetic (``loop/data/generator.yaml``) and
deterministic for a given seed."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import yaml

from .config import DATA_DIR
from .monitoring import planned_to

SCALES = ("full", "test")


@lru_cache(maxsize=1)
def material() -> dict[str, Any]:
    return yaml.safe_load((DATA_DIR / "generator.yaml").read_text(encoding="utf-8"))


@dataclass
class Year:
    """One generated year. ``totals`` are the declared inputs a yearly report must reproduce.
    Rows are numbered from 0, as the work graph numbers the rows of a target table."""
    year: int
    scale: str
    units: list[dict[str, Any]] = field(default_factory=list)
    projects: list[dict[str, Any]] = field(default_factory=list)
    plans: dict[str, list[int]] = field(default_factory=dict)
    reports: list[dict[str, Any]] = field(default_factory=list)
    appraisals: dict[str, dict[str, Any]] = field(default_factory=dict)
    self_evaluations: dict[str, dict[str, Any]] = field(default_factory=dict)
    reviews: dict[str, float] = field(default_factory=dict)
    key_evaluations: dict[str, dict[str, Any]] = field(default_factory=dict)
    totals: dict[str, Any] = field(default_factory=dict)


def split_total(total: int, weights: list[float]) -> list[int]:
    """Whole parts proportional to ``weights`` that add up to ``total`` exactly (largest remainder)."""
    s = sum(weights)
    raw = [total * w / s for w in weights]
    parts = [int(r) for r in raw]
    rest = total - sum(parts)
    for i in sorted(range(len(raw)), key=lambda i: raw[i] - parts[i], reverse=True)[:rest]:
        parts[i] += 1
    return parts


def _units(n: int) -> list[dict[str, Any]]:
    m = material()
    out = []
    for i in range(n):
        dept = m["departments"][i % len(m["departments"])]
        suffix = m["unit_suffixes"][(i // len(m["departments"])) % len(m["unit_suffixes"])]
        out.append({"code": f"G{i + 1:03d}", "name": f"市{dept}{suffix}", "department": f"市{dept}"})
    return out


def _rows(amount: int, year: int) -> list[dict[str, Any]]:
    n = max(2, amount // 2_000_000)
    rows = []
    for i, t in enumerate(material()["rows"]):
        value = t["value"].format(n=n, m=n * 40, year=year, cost=max(1, amount // 10_000))
        rows.append({"row": i, "level1": t["level1"], "level2": t["level2"], "name": t["name"], "value": value,
                     "unit": t.get("unit"), "kind": t["kind"]})
    return rows


def _actual(row: dict[str, Any], f: float, rng: random.Random, year: int) -> Any:
    """An actual value for a row at achievement factor ``f`` (1 = exactly the target)."""
    kind, value = row["kind"], row["value"]
    if kind == "count":
        return str(int(int(value.lstrip("≥")) * f))
    if kind == "rate":
        return f"{min(float(value.strip('≥%')) * f, 100):.1f}%"
    if kind == "date":
        return f"{year}-12-{rng.randint(1, 28):02d}" if f >= 0.9 else f"{year + 1}-01-{rng.randint(5, 28):02d}"
    if kind == "cost":
        cap = int(value.strip("≤万元"))
        return f"{cap * (2 - f) if f < 1 else cap * rng.uniform(0.85, 1.0):.2f}万元"
    if kind == "grade":
        return "优" if f >= 1.02 else ("良" if f >= 0.85 else "中")
    if kind == "years":
        return "5年" if f >= 0.8 else "3年"
    return None


def _factor(rng: random.Random, weak: bool) -> float:
    if weak:
        return rng.uniform(0.55, 0.85)
    return rng.choice([1.0, 1.0, rng.uniform(0.95, 1.1), rng.uniform(0.85, 1.0)])


def generate_year(scale: str = "test", year: int = 2025, seed: int = 2025) -> Year:
    """The year at ``scale`` ("full" or "test"), deterministic for ``seed``."""
    if scale not in SCALES:
        raise ValueError(f"未知的规模 {scale!r}；可选：{'、'.join(SCALES)}")
    m = material()
    sc = m["scales"][scale]
    rng = random.Random(seed)
    y = Year(year, scale, units=_units(sc["units"]))
    codes = [u["code"] for u in y.units]
    mon, ev, ap = sc["monitored"], sc["evaluated"], sc["appraised"]
    n_other = sc["projects"] - mon["projects"] - ev["projects"] - ap["projects"]
    mon_units = rng.sample(codes, mon["units"])
    groups: list[tuple[str, int, list[str]]] = [
        ("monitored", mon["amount"], [mon_units[i % len(mon_units)] for i in range(mon["projects"])]),
        ("evaluated", ev["amount"], [rng.choice(codes) for _ in range(ev["projects"])]),
        ("appraised", ap["requested"], [rng.choice(codes) for _ in range(ap["projects"])]),
        # every unit has at least one project
        ("other", sc["other_amount"], [codes[i] if i < len(codes) else rng.choice(codes) for i in range(n_other)]),
    ]
    seq = 0
    for role, total, owners in groups:
        amounts = split_total(total, [rng.lognormvariate(0, 0.8) + 0.2 for _ in owners])
        for owner, amount in zip(owners, amounts):
            seq += 1
            name = rng.choice(m["project_names"])
            y.projects.append({"id": f"PRJ-G{year}-{seq:04d}", "unit": owner,
                               "name": f"{year}年{name}项目（{seq}）", "year": year, "amount": amount,
                               "role": role, "rows": _rows(amount, year)})
    shapes = list(m["plan_shapes"].values())
    dates = [d.format(year=year) for d in m["report_dates"]]
    from datetime import date as _date
    for p in y.projects:
        pid, amount = p["id"], p["amount"]
        if p["role"] == "monitored":
            plan = split_total(amount, rng.choice(shapes))
            y.plans[pid] = plan
            lag = rng.choice([0, 0, 0, 1]) * rng.uniform(11, 30)   # a quarter of projects lag badly
            weak = rng.random() < 0.15
            for d in dates:
                planned = planned_to(plan, _date.fromisoformat(d), year)
                dev = -lag if lag else rng.uniform(-8, 8)
                spent = int(min(max(planned + amount * dev / 100, 0), amount))
                actuals = []
                for r in p["rows"]:
                    if r["kind"] == "date" or (r["kind"] == "years"):
                        actuals.append({"row": r["row"], "actual": None})   # not due yet: not reported
                    else:
                        actuals.append({"row": r["row"], "actual": _actual(r, _factor(rng, weak), rng, year)})
                y.reports.append({"project_id": pid, "as_of": d, "spent": spent, "actuals": actuals,
                                  "explanation": "按计划推进" if not lag else "项目招标延期，资金支付滞后"})
        if p["role"] == "appraised":
            continue   # a new project: appraised before the year, not yet evaluated
        weak = rng.random() < 0.2
        exec_rate = rng.uniform(0.55, 0.8) if weak else rng.uniform(0.9, 1.0)
        y.self_evaluations[pid] = {
            "spent": int(amount * exec_rate),
            "actuals": [{"row": r["row"], "actual": _actual(r, _factor(rng, weak), rng, year)} for r in p["rows"]]}
        if rng.random() < 0.3:
            y.reviews[pid] = round(rng.uniform(55, 98), 1)
        if p["role"] == "evaluated":
            third = rng.random() < 0.7
            y.key_evaluations[pid] = {
                "kind": "third_party" if third else "bureau",
                "scope": "spending_standard" if rng.random() < 0.25 else "project",
                "evaluator": "受托第三方评价机构" if third else "市财政局绩效管理科",
                "method": "资料审核、现场核查、满意度问卷与对比分析", "score": round(rng.uniform(52, 96), 1),
                "findings": "资金使用总体规范；部分产出指标完成滞后，绩效目标设定偏保守。",
                "recommendations": "细化绩效目标，按进度拨付资金，下一年度预算结合评价结果安排。"}
    _appraisals(y, rng, ap["cut"])
    y.totals = {"units": len(y.units), "projects": len(y.projects),
                "monitored": {"projects": mon["projects"], "units": mon["units"], "amount": mon["amount"]},
                "evaluated": {"projects": ev["projects"], "amount": ev["amount"]},
                "appraised": {"projects": ap["projects"], "requested": ap["requested"], "cut": ap["cut"]},
                "budget": sum(p["amount"] for p in y.projects)}
    return y


def _appraisals(y: Year, rng: random.Random, cut_total: int) -> None:
    projects = [p for p in y.projects if p["role"] == "appraised"]
    cuts = split_total(cut_total, [p["amount"] * rng.uniform(0.3, 1.7) for p in projects])
    for p, cut in zip(projects, cuts):
        requested = p["amount"]
        unit_cost = rng.choice([1100, 1200, 1350, 1500])     # above 1200 breaks the spending standard
        items = [{"name": "校舍维修改造（平方米）", "standard": "STD-SCHOOL-REPAIR",
                  "quantity": max(1, (requested - 100000) // unit_cost), "unit_cost": unit_cost},
                 {"name": "第三方绩效评价", "standard": "STD-EVAL", "quantity": 1, "unit_cost": 100000}]
        first = cut // 2
        cut_list = [{"amount": first, "reason": "单价超过支出标准的部分按标准核减"},
                    {"amount": cut - first, "reason": "部分建设内容不属于当年必需，移出本年度"}]
        y.appraisals[p["id"]] = {
            "requested": requested, "approved": requested - cut, "cuts": [c for c in cut_list if c["amount"]],
            "scores": {"necessity": rng.randint(60, 95), "economy": rng.randint(50, 90),
                       "target_quality": rng.randint(55, 95), "feasibility": rng.randint(60, 95)},
            "cost_items": items, "opinion": "立项依据充分，成本测算偏高，核减后予以支持。"}
