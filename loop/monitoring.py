"""Monitoring during execution (绩效运行监控, "双监控"): fund execution against the monthly plan and
the achievement of core targets, with the city's two warnings.

- ``execution_deviation``: |actual progress − planned progress| strictly above the threshold
  (10 percentage points), where progress = funds spent (or planned, cumulated through the month
  of the report) ÷ the year's budget;
- ``target_shortfall``: a core target's achievement strictly below the threshold (80%).
  A target whose actual was not reported raises nothing: it is listed as not reported.

Thresholds and which targets are core are data (``loop/data/thresholds.yaml``). Amounts are whole
元 (int) so that totals add up exactly; percentages are rounded to 4 decimals before comparing."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from .achievement import achievement
from .config import rules
from .errors import LoopInputError

WARNING_KINDS = ("execution_deviation", "target_shortfall")


def as_date(value: Any, field: str = "as_of") -> date:
    """A date from a ``date`` or an ISO string; anything else is a located error."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise LoopInputError("bad_date", f"{field}：日期应为 YYYY-MM-DD，收到「{value}」", field) from None


def check_plan(plan: Any, amount: int) -> list[int]:
    """A monthly plan is 12 non-negative whole-元 amounts whose sum does not exceed the budget."""
    if not isinstance(plan, list) or len(plan) != 12:
        raise LoopInputError("bad_plan", "月度用款计划应为 12 个月的金额（元）列表", "plan")
    out = []
    for i, v in enumerate(plan):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0 or v != int(v):
            raise LoopInputError("bad_plan", f"月度用款计划第 {i + 1} 月：金额应为非负整数（元），收到「{v}」",
                                 f"plan[{i}]")
        out.append(int(v))
    if sum(out) > amount:
        raise LoopInputError("plan_over_budget", f"月度用款计划合计 {sum(out):,} 元超过项目预算 {amount:,} 元", "plan")
    return out


def pct(part: float, whole: float) -> float:
    """part ÷ whole in percent, rounded to 4 decimals (0 when the whole is 0)."""
    return round(part / whole * 100, 4) if whole else 0.0


def planned_to(plan: list[int], as_of: date, year: int) -> int:
    """Planned spending cumulated through the month of ``as_of`` (all of it after the year)."""
    if as_of.year < year:
        return 0
    months = 12 if as_of.year > year else as_of.month
    return sum(plan[:months])


def execution(amount: int, plan: list[int], spent: int, as_of: date, year: int) -> dict[str, Any]:
    """Planned and actual execution progress as of a date, and their deviation in points."""
    planned = planned_to(plan, as_of, year)
    p, a = pct(planned, amount), pct(spent, amount)
    return {"amount": amount, "planned_spent": planned, "spent": spent, "planned_pct": p, "actual_pct": a,
            "deviation_pts": round(a - p, 4)}


def is_core(row: dict[str, Any], thresholds: dict[str, Any]) -> bool:
    """A row marked core (or not) says so itself; otherwise its 二级 category decides."""
    if isinstance(row.get("core"), bool):
        return row["core"]
    return row.get("level2") in thresholds.get("core", {}).get("level2", [])


def assess(project: dict[str, Any], plan: list[int], report: dict[str, Any],
           thresholds: dict[str, Any] | None = None) -> dict[str, Any]:
    """One progress report judged: execution, each target's achievement, and the warnings raised.

    ``project``: {id, unit, year, amount, rows: [{row, level1, level2, name, value, unit, core?}]};
    ``report``: {as_of, spent, actuals: [{row, actual}]}."""
    th = thresholds if thresholds is not None else rules("thresholds")
    as_of = as_date(report.get("as_of"))
    year = int(project["year"])
    ex = execution(int(project["amount"]), plan, int(report.get("spent", 0)), as_of, year)
    max_dev = float(th["execution_deviation"]["max_points"])
    min_ach = float(th["target_shortfall"]["min_achievement_pct"])
    warnings: list[dict[str, Any]] = []
    base = {"project_id": project["id"], "unit": project.get("unit"), "as_of": as_of.isoformat()}
    if abs(ex["deviation_pts"]) > max_dev:
        behind = ex["deviation_pts"] < 0
        warnings.append({**base, "kind": "execution_deviation", "row": None, "measure": ex["deviation_pts"],
                         "threshold": max_dev,
                         "message": f"资金执行进度 {ex['actual_pct']:g}%，计划 {ex['planned_pct']:g}%，"
                                    f"{'滞后' if behind else '超前'} {abs(ex['deviation_pts']):g} 个百分点"
                                    f"（超过 {max_dev:g} 个百分点）"})
    actuals = {a.get("row"): a.get("actual") for a in report.get("actuals", [])}
    targets = []
    for row in project.get("rows", []):
        core = is_core(row, th)
        ach = achievement(row.get("value"), actuals.get(row.get("row")), row.get("unit"), year, th)
        targets.append({"row": row.get("row"), "name": row.get("name"), "level2": row.get("level2"),
                        "value": row.get("value"), "actual": actuals.get(row.get("row")), "core": core,
                        **ach.to_dict()})
        if core and ach.rate is not None and ach.rate < min_ach:
            warnings.append({**base, "kind": "target_shortfall", "row": row.get("row"), "measure": ach.rate,
                             "threshold": min_ach,
                             "message": f"核心指标「{row.get('name')}」完成率 {ach.rate:g}%，低于 {min_ach:g}%"
                                        f"（目标 {row.get('value')}，实际 {actuals.get(row.get('row'))}）"})
    return {"project_id": project["id"], "as_of": as_of.isoformat(), "execution": ex, "targets": targets,
            "not_reported": [t["row"] for t in targets if t["status"] == "not_reported" and t["core"]],
            "warnings": warnings}


def all_warnings(items: Iterable[tuple[dict[str, Any], list[int], dict[str, Any]]],
                 thresholds: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Warnings of many (project, plan, latest report) triples, in input order."""
    th = thresholds if thresholds is not None else rules("thresholds")
    out: list[dict[str, Any]] = []
    for project, plan, report in items:
        out.extend(assess(project, plan, report, th)["warnings"])
    return out
