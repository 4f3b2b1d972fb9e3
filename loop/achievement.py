"""Achievement of one target (指标完成率), direction-aware.

The promised value and the reported actual are both read by the project's one value parser
(``ontology.values.parse_value``); this module only judges one against the other:

- "≥ 95%" (also =, ≈, >): actual ÷ target (over-achievement shows above 100%);
- "≤ 500万元" (also <): target ÷ actual, capped at 100%: spending less than a cap is achieved;
- a range "90%-95%": reaching its lower bound is achieved, below it actual ÷ lower bound;
- a date or period: done on or before the (end) date is 100%, later is 0%;
- a grade (优/良/中/差 …): the grade reached against the grade promised, on the scales of
  the parser's grammar file; a named standard: met or not;
- a missing actual is *not reported*, never a shortfall; a vague target is *not measurable*.

Word lists (not-achieved words, grade aliases) are in ``loop/data/thresholds.yaml``."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from ontology.values import ParsedValue, lexicon, parse_value

from .config import rules

#: statuses an achievement can have
STATUSES = ("achieved", "partial", "not_achieved", "not_reported", "not_measurable", "not_comparable")
_DIGITS = 4  # percent rounded to 4 decimals: 79.9 stays below 80, 76/95 is exactly 80


@dataclass
class Achievement:
    """How far one target was reached. ``rate`` is a percentage (None unless measured)."""
    status: str
    rate: float | None = None
    reason: str = ""

    @property
    def measured(self) -> bool:
        return self.rate is not None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _measured(rate: float, reason: str) -> Achievement:
    rate = round(max(rate, 0.0), _DIGITS)
    status = "achieved" if rate >= 100 else ("not_achieved" if rate == 0 else "partial")
    return Achievement(status, rate, reason)


def _fmt(x: float) -> str:
    return f"{x:,.4f}".rstrip("0").rstrip(".")


def _blank(actual: Any) -> bool:
    return actual is None or (isinstance(actual, str) and actual.strip() in ("", "-", "—", "/", "无", "待定", "暂无"))


def _negative(text: str, thresholds: dict[str, Any]) -> bool:
    t = re.sub(r"\s+", "", text)
    return any(w in t for w in thresholds.get("not_achieved_words", []))


def _iso_date(actual: Any) -> str | None:
    """A completion date given as a date or an ISO string (YYYY-MM-DD), as the API and CLI take it."""
    if isinstance(actual, date):
        return actual.isoformat()
    if isinstance(actual, str):
        try:
            return date.fromisoformat(actual.strip()).isoformat()
        except ValueError:
            return None
    return None


def _full_date(d: str | None, year: int | None) -> str | None:
    if d and d.startswith("--"):
        return f"{year}{d[1:]}" if year else None
    return d


def _grade_scale(grade: str, thresholds: dict[str, Any]) -> str:
    return thresholds.get("grade_aliases", {}).get(grade, grade)


def _grade(target: ParsedValue, actual: ParsedValue, raw: str, thresholds: dict[str, Any]) -> Achievement:
    promised = _grade_scale(target.grade or "", thresholds)
    reached = _grade_scale(actual.grade or "", thresholds) if actual.grade else None
    if reached is None:
        return Achievement("not_comparable", None, f"实际值「{raw}」不是等级，无法与承诺等级「{target.grade}」比对")
    for scale in lexicon().get("grades", []):
        if promised in scale and reached in scale:
            n, ip, ia = len(scale), scale.index(promised), scale.index(reached)
            if ia <= ip:
                return _measured(100.0, f"达到等级「{reached}」，不低于承诺的「{promised}」")
            return _measured((n - ia) / (n - ip) * 100, f"达到等级「{reached}」，低于承诺的「{promised}」")
    return Achievement("not_comparable", None, f"等级「{reached}」与承诺等级「{promised}」不在同一等级序列中")


def _quantity(target: ParsedValue, actual: ParsedValue) -> Achievement:
    if actual.kind not in ("quantity", "range") or actual.number is None:
        return Achievement("not_comparable", None, f"实际值「{actual.raw}」不是数值，无法与目标「{target.raw}」比较")
    t, a = target.number, actual.number
    if target.money_yuan is not None and actual.money_yuan is not None:
        # both in money: compare in 元 (a 万元 target against an 元 actual)
        top = target.upper if target.upper is not None else target.number
        t = target.number * (target.money_yuan / top) if top else target.money_yuan
        a = actual.money_yuan
    elif actual.dimension and target.dimension and actual.dimension != target.dimension:
        return Achievement("not_comparable", None,
                           f"实际值单位「{actual.unit}」与目标单位「{target.unit}」不是同一量纲")
    assert t is not None and a is not None
    cmp = target.comparator
    if cmp in ("≤", "<"):
        if a <= t:
            return _measured(100.0, f"实际 {_fmt(a)} 不高于上限 {_fmt(t)}")
        return _measured(t / a * 100 if a > 0 else 0.0, f"实际 {_fmt(a)} 超过上限 {_fmt(t)}")
    # ≥ > = ≈, and a range by its lower bound (within or above the range is 100%)
    if target.kind == "range" and a >= t:
        return _measured(100.0, f"实际 {_fmt(a)} 达到区间下限 {_fmt(t)}")
    if t <= 0:
        return _measured(100.0 if a >= t else 0.0, f"目标 {_fmt(t)}，实际 {_fmt(a)}")
    return _measured(a / t * 100, f"实际 {_fmt(a)} ÷ 目标 {_fmt(t)}")


def _deadline(target: ParsedValue, actual: ParsedValue, raw: str, year: int | None,
              thresholds: dict[str, Any]) -> Achievement:
    due = _full_date(target.period[1] if target.kind == "period" and target.period else target.date, year)
    if actual.kind in ("date", "period"):
        done = _full_date(actual.period[1] if actual.kind == "period" and actual.period else actual.date, year)
        if due is None or done is None:
            return Achievement("not_comparable", None, f"期限「{target.raw}」或完成日期「{raw}」缺少年份，无法比较")
        if done <= due:
            return _measured(100.0, f"{done} 完成，未超过期限 {due}")
        return _measured(0.0, f"{done} 完成，晚于期限 {due}")
    text = re.sub(r"\s+", "", raw)
    if any(w in text for w in thresholds.get("standard_met_words", [])) and any(w in text for w in ("按期", "按时", "如期")):
        return _measured(100.0, f"报告「{raw}」：按期完成")
    return Achievement("not_comparable", None, f"时效目标「{target.raw}」需要报告完成日期，收到「{raw}」")


def achievement(target_value: Any, actual: Any, unit: str | None = None, year: int | None = None,
                thresholds: dict[str, Any] | None = None) -> Achievement:
    """How far ``actual`` reaches the target written as ``target_value`` (with its 计量单位 ``unit``).

    ``year`` completes dates written without one ("12月31日前"). A bare number as actual takes the
    target's unit. Never raises on odd input: an unreadable pair is ``not_comparable``."""
    th = thresholds if thresholds is not None else rules("thresholds")
    target = parse_value(target_value, unit)
    if target.kind in ("vague", "empty", "unparsed"):
        return Achievement("not_measurable", None, f"目标「{target.raw}」没有可衡量的值，无法计算完成率")
    if _blank(actual):
        return Achievement("not_reported", None, "未报告实际值（不计为未完成）")
    raw = str(actual).strip()
    iso = _iso_date(actual)
    if iso is not None and target.kind in ("date", "period"):
        act = ParsedValue(raw, "date", comparator="=", date=iso, dimension="date")
    else:
        act = parse_value(actual, target.unit if unit is None else unit)
    if act.kind not in ("quantity", "range", "date", "period") and _negative(raw, th):
        return _measured(0.0, f"报告「{raw}」：未完成")
    if target.kind in ("quantity", "range"):
        return _quantity(target, act)
    if target.kind in ("date", "period"):
        return _deadline(target, act, raw, year, th)
    if target.kind == "standard":
        if any(w in raw for w in th.get("standard_met_words", [])):
            return _measured(100.0, f"报告「{raw}」：达到「{target.standard}」")
        return Achievement("not_comparable", None, f"标准类目标「{target.raw}」需要报告是否达到，收到「{raw}」")
    return _grade(target, act, raw, th)
