"""Row and table checks of a performance target table.

Each check is a rule with a stable code; its severity, Chinese message, suggestion template and
source are data (review/data/rules.yaml), so a maintainer can retune wording, thresholds and word
lists without touching this file. The checks here decide *whether* a rule fires and fill the
template; they never invent a value: when the data to decide is missing (no project amount,
unknown sector) the matching ``info`` rule says so.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from ontology.vocab import category_index, find_sector

from .classify import (Index, Prediction, Ref, _bigrams, category_info, predict, project_type_of, rewrite_candidates,
                       suggest)
from ontology.rules import field_rules
from ontology.values import ParsedValue, clean_name, parse_value
from search.text import name_key
from ontology.values import lexicon as value_lexicon

DATA_DIR = Path(__file__).resolve().parent / "data"


@lru_cache(maxsize=1)
def config() -> dict[str, Any]:
    """rules.yaml, read once, with the vague word lists of the value grammar and the thresholds of
    the field rules (one copy of each)."""
    c = yaml.safe_load((DATA_DIR / "rules.yaml").read_text(encoding="utf-8"))
    lx = value_lexicon()
    c["vague_words"], c["vague_verbs"] = list(lx["vague_words"]), list(lx["vague_verbs"])
    # the thresholds the library's field rules also apply: one copy, in ontology/data/field_rules.yaml
    fr = field_rules()
    c["thresholds"]["rate_max"] = fr["rate_max"]
    c["thresholds"]["satisfaction_min"] = fr["satisfaction_range"][0]
    c["required_kinds"] = [k for k in fr["required_kinds_per_project_type"] if k != c["satisfaction_kind"]]
    return c


@lru_cache(maxsize=1)
def _compiled() -> dict[str, Any]:
    c = config()
    groups: dict[str, set[str]] = {}
    for g in c["compatible_categories"]:
        for code in g:
            groups.setdefault(code, set()).update(g)
    return {
        "goal_name": [re.compile(p) for p in c["goal_name_patterns"]],
        "name_dims": [(re.compile(x["pattern"]), x["dims"], x["expect"]) for x in c["name_dimensions"]],
        "vague": sorted(c["vague_words"] + c["vague_verbs"], key=len, reverse=True),
        "vague_words": sorted(c["vague_words"], key=len, reverse=True),
        "compatible": groups,
        "measurable": tuple(c["measurable_name_suffixes"]),
        "goal_words": sorted(c["goal_state_words"], key=len, reverse=True),
        "input": [re.compile(p) for p in c["input_patterns"]],
        "input_money": [re.compile(p) for p in c["input_money_patterns"]],
        "input_exempt": re.compile(c["input_time_exempt_pattern"]),
        "per_base_name": re.compile(c["per_base_name_pattern"]),
    }


def rule(code: str) -> dict[str, Any]:
    return config()["rules"][code]


@dataclass
class Flag:
    row: int | None
    code: str
    severity: str
    message: str
    suggestion: str
    rewrite: dict[str, Any] | None = None    # the rewrite the suggestion proposes, with its source

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "code": self.code, "severity": self.severity,
                "message": self.message, "suggestion": self.suggestion, "rewrite": self.rewrite}


class Example(str):
    """The example text of a suggestion, carrying the structured rewrite it came from."""
    rewrite: dict[str, Any] | None = None

    @classmethod
    def of(cls, text: str, rewrite: dict[str, Any] | None) -> "Example":
        e = cls(text)
        e.rewrite = rewrite
        return e


class _Safe(dict):
    def __missing__(self, key: str) -> str:
        return "—"


def make_flag(row: int | None, code: str, **kw: Any) -> Flag:
    r = rule(code)
    ctx = _Safe({k: ("—" if v is None else v) for k, v in kw.items()})
    rw = getattr(kw.get("example"), "rewrite", None)
    return Flag(row, code, r["severity"], r["message"].format_map(ctx), r["suggestion"].format_map(ctx), rw)


@dataclass
class RowContext:
    """One input row with what the checks derive from it. ``name`` is the name with template
    marks removed (★, 指标1:, (≥**%)); ``marked`` says whether there were any."""
    index: int
    raw: dict[str, Any]
    name: str
    value: str
    parsed: ParsedValue
    predicted: Prediction
    filed: str | None            # 二级 category code the unit filed the row under
    flags: list[Flag] = field(default_factory=list)
    marked: bool = False

    @property
    def kind(self) -> str | None:
        """The kind the row counts as for the table checks: the name decides, else the filing."""
        if self.predicted.code and self.predicted.confident:
            return self.predicted.kind
        if self.filed:
            return category_info()[self.filed][1]
        return self.predicted.kind

    @property
    def filed_kind(self) -> str | None:
        return category_info()[self.filed][1] if self.filed else None

    def is_kind(self, kind: str) -> bool:
        """Filed as this kind, or confidently named as it."""
        return (self.predicted.confident and self.predicted.kind == kind) or self.filed_kind == kind


def filed_category(level2: Any, level1: Any = None) -> str | None:
    """The category code of a 二级 cell as units write it ("数量指标", "数量", "产出数量指标")."""
    t = re.sub(r"\s", "", str(level2 or ""))
    if not t:
        return None
    idx = category_index()
    for cand in (t, t.removesuffix("指标"), t + "指标", re.sub(r"值$", "指标", t)):
        c = idx.get(cand)
        if c is not None:
            return c.code
    if re.search(config()["combined_level2_pattern"], t):
        return None    # "社会、经济、生态效益指标": several categories in one cell, none of them filed
    for key in sorted(idx, key=len, reverse=True):
        if len(key) >= 2 and not key.isascii() and key in t:
            return idx[key].code
    for pattern, code in config()["level2_aliases"].items():
        if re.search(pattern, t):
            return code
    return None


def _norm(text: str) -> str:
    """The name key the classifier's tables are filled with (search/text.py), so a name with 《》
    finds its library entry."""
    return name_key(text)


def _vague_word(text: str) -> str | None:
    for w in _compiled()["vague"]:
        if w in text:
            return w
    return None


def name_dimension(name: str) -> tuple[list[str], str] | None:
    """The dimensions a name implies (满意度 → %), or None when the name does not say."""
    n = _norm(name)
    for rx, dims, expect in _compiled()["name_dims"]:
        if rx.search(n):
            return dims, expect
    return None


def measurable_name(name: str) -> bool:
    return _norm(name).endswith(_compiled()["measurable"])


def is_input(n: str, pv: ParsedValue) -> bool:
    """Fund inputs and budget execution (资金到位率, 预算执行率, 每年财政补助1000万元, 资金拨付到位情况).

    One judgement is written down here: the *date* by which a subsidy is transferred
    (财政补助资金到位时间 ≤ 9月30日) is the timeliness of a transfer project's own output and is not
    flagged; a share of funds arrived (资金到位及时率 100%, 12月底前100%到位) is budget execution and is."""
    cp = _compiled()
    hit = any(t in n for t in config()["input_terms"]) or any(rx.search(n) for rx in cp["input"])
    if hit and cp["input_exempt"].search(n) and pv.kind in ("date", "period"):
        return False
    if not hit and pv.dimension == "money" and any(rx.search(n) for rx in cp["input_money"]):
        hit = True
    return hit


def goal_sentence(name: str) -> bool:
    """Several goals joined into one name (围绕农业生产、生态环境修复、改善空气质量等需求): a sentence
    of aims, not an indicator, whatever the value."""
    c = config()
    if measurable_name(name) or not re.search(c["goal_clause_joiners"], name):
        return False
    return any(w in _norm(name) for w in _compiled()["goal_words"])


def goal_with_number(n: str, pv: ParsedValue, name: str = "") -> bool:
    """A goal or a state used as the name, given a bare number (教学质量提高、办学条件改善 =100%,
    学生受益情况 =100%): the number measures nothing, the name has no measurable noun."""
    if pv.kind not in ("quantity", "range") or pv.unit not in (None, "%") or measurable_name(n):
        return False
    c = config()
    if n.endswith(tuple(c["state_name_suffixes"])):
        return True
    if not any(w in n for w in _compiled()["goal_words"]):
        return False
    full = pv.unit == "%" and pv.number == c["goal_full_value"] and pv.upper is None
    return full or bool(re.search(c["goal_clause_joiners"], name))


def name_is_value(n: str) -> bool:
    """The name is itself a value ("1年", "100%", "2025年12月"): nothing is measured."""
    if not n or re.search(r"[\u4e00-\u9fa5]{3,}", n):
        return False
    pv = parse_value(n)
    return pv.kind in ("quantity", "range", "date", "period") and not pv.extra


def per_base_name(n: str) -> bool:
    """万车死亡率, 每千人口床位数, 案件万人起诉率: a count per base population."""
    return bool(_compiled()["per_base_name"].search(n))


def row_category(ctx: RowContext) -> str | None:
    """The 二级 category a rewrite of the row keeps: the one the unit filed, when it is a target
    category, else the one predicted from the row."""
    info = category_info()
    if ctx.filed and info[ctx.filed][1] is not None:
        return ctx.filed
    if ctx.predicted.code and info[ctx.predicted.code][1] is not None:
        return ctx.predicted.code
    return None


def _topic(text: str) -> str:
    """The row's subject for a pattern: first clause, vague words and verbs removed."""
    t = re.split(r"[，,。；;：:、（）()]", text.strip())[0]
    for w in _compiled()["vague"]:
        t = t.replace(w, "")
    t = re.sub(r"^(对|使|让|为|将|把|和|与|及|的)+|(的|情况|状况|水平|程度|工作)+$", "", t)
    return t[: config()["rewrite"]["topic_max_chars"]]


def pattern_for(name: str, category: str) -> str | None:
    """"培训合格率 ≥ __%": the row's own subject written as a measurable indicator of its category,
    with a blank for the value (rules.yaml ``rewrite.patterns``)."""
    rw = config()["rewrite"]
    topic = _topic(name)
    for old, new in rw["suffix_rewrites"].items():
        if topic.endswith(old):
            topic = topic[: -len(old)] + new
            break
    if len(topic) < 2:
        return None
    dims = name_dimension(topic) if measurable_name(topic) else None
    if dims is None:
        dims = next(([d], "") for pat, d in rw["measurable_dimension"].items() if re.search(pat, topic)) \
            if any(re.search(pat, topic) for pat in rw["measurable_dimension"]) else None
    if dims:
        blank = rw["blank_by_dimension"].get(dims[0][0])
        if blank:
            return f"{topic} {blank}"
    tpl = rw["patterns"].get(category)
    return tpl.format(topic=topic) if tpl else None


def fill_pattern(text: str) -> tuple[str, str] | None:
    """(name, a sample value) of a pattern, so the checker can judge its shape."""
    m = re.match(r"^(.*?)\s*(≥|≤|=)\s*(.*)$", text)
    if not m:
        return None
    value = m.group(2) + m.group(3)
    for blank, sample in config()["rewrite"]["samples"].items():
        value = value.replace(blank, sample)
    return m.group(1), value


def passes(name: str, value: str, category: str | None, idx: Index, project: dict[str, Any],
           sector: str | None) -> bool:
    """Whether a row (a proposed rewrite) gets no error or warning from the row rules."""
    level2 = category_info()[category][0] if category else ""
    ctx = build_row(0, {"level2": level2, "name": name, "value": value}, idx)
    flags = check_row(ctx, idx, project, sector, examples=False)
    return not [f for f in flags if f.severity in ("error", "warning")]


def rewrite_for(text: str, category: str, idx: Index, project: dict[str, Any], sector: str | None,
                pattern_name: str | None = None) -> Example | None:
    """The rewrite of a row a unit can adopt: a library indicator of the same 二级 category that
    keeps the row's concept, from the project's own type, else its sector, else the general set,
    whose value passes the checker for this project; else the pattern of the row's own subject."""
    rw = config()["rewrite"]
    pt = project_type_of(str(project.get("name") or ""), idx, sector)
    tried = 0
    for tier, ref, share in rewrite_candidates(text, idx, category, sector, pt[0] if pt else None,
                                                 rw["min_share"], rw["min_kept"]):
        if tried >= rw["max_tries"]:
            break
        tried += 1
        value = ref.value_text()
        if value is None or not passes(ref.name, value, ref.category, idx, project, sector):
            continue
        where = {"project_type": f"同项目类型「{pt[1]}」" if pt else "同项目类型",
                 "sector": f"同行业「{sector}」", "general": "通用指标"}[tier]
        d = {"id": ref.id, "name": ref.name, "value": value, "text": ref.target_text(),
             "category": ref.category, "sector": ref.sector, "project_type": pt[1] if tier == "project_type" and pt else None,
             "source": tier, "indicator": ref.indicator}
        return Example.of(f"「{ref.target_text()}」（指标库 {ref.id}，{where}）", d)
    pat = pattern_for(pattern_name or text, category)
    if pat:
        d = {"id": None, "name": pat.split(" ")[0], "value": None, "text": pat, "category": category,
             "sector": None, "project_type": None, "source": "pattern", "indicator": None}
        return Example.of(f"「{pat}」（写法模板：指标库中没有同类可直接采用的指标，请按实际填写）", d)
    return None


def example(ctx: RowContext | None, idx: Index, sector: str | None, text: str | None = None,
            category: str | None = None, kind: str | None = None, project: dict[str, Any] | None = None) -> str:
    """A rewrite from the library ("培训考核合格率 ≥ 90%（指标库 G-…）") or the kind's default."""
    if ctx is not None:
        category = category or row_category(ctx)
        if category:
            # a name that is only a value ("1年") has no subject of its own: the project's is used
            subject = ctx.name if not name_is_value(_norm(ctx.name)) else str((project or {}).get("name") or ctx.name)
            found = rewrite_for(subject, category, idx, project or {}, sector)
            if found is not None:
                return found
    if ctx is not None:
        category = category or ctx.predicted.code or ctx.filed
        text = text or (ctx.name + ctx.value)
    ref: Ref | None = None
    if category in category_info() and category_info()[category][1] is not None:
        ref = suggest(text or "", idx, category=category, sector=sector)
    elif kind:
        ref = suggest(text or "", idx, kind=kind, sector=sector)
    if ref is not None:
        if _bigrams(ref.name) & _bigrams(text or ""):
            return f"「{ref.target_text()}」（指标库 {ref.id}）"
        # nothing in the library shares a word with the row: say the example is only of the kind
        return f"「{ref.target_text()}」（指标库同类指标 {ref.id}，仅作写法参考）"
    k = kind or (category_info().get(category or "", (None, None))[1])
    return f"「{config()['default_examples'].get(k) or config()['default_examples'][None]}」"


def _value_text(pv: ParsedValue) -> str:
    return pv.raw.strip() or "（空）"


# --- row checks ----------------------------------------------------------------------------
def check_row(ctx: RowContext, idx: Index, project: dict[str, Any], sector: str | None,
              examples: bool = True) -> list[Flag]:
    """All row rules for one row, in catalogue order; value-shape rules exclude each other so a
    row gets the one reason that matters. ``examples=False`` skips the rewrites (used when a
    rewrite itself is being checked)."""
    c = config()
    th = c["thresholds"]
    pv, name, i = ctx.parsed, ctx.name, ctx.index
    out: list[Flag] = []
    n = _norm(name)
    value_norm = _norm(ctx.value)
    if examples:
        ex = lambda **kw: example(ctx, idx, sector, project=project, **kw)  # noqa: E731
    else:
        ex = lambda **kw: ""  # noqa: E731

    if is_input(n, pv):
        # the row is a fund input: the rewrite is an output of the project in the row's category
        cat = row_category(ctx) or c["rewrite"]["input_default_category"]
        found = rewrite_for(str(project.get("name") or name), cat, idx, project, sector, pattern_name=None) \
            if examples and cat else None
        out.append(make_flag(i, "input_as_target", name=name,
                             example=found or (example(None, idx, sector, text=project.get("name") or name, kind="数量")
                                               if examples else "")))
        return out

    goal_like = (any(rx.search(n) for rx in _compiled()["goal_name"]) and not measurable_name(name)) or \
        goal_with_number(n, pv, name) or goal_sentence(name) or name_is_value(n)
    if goal_like:
        out.append(make_flag(i, "name_is_goal", name=name, example=ex()))
        if pv.kind == "vague":
            # a goal for a name and a vague value: both are said, the rewrite is the same
            out.append(make_flag(i, "vague_value", name=name, value=_value_text(pv),
                                 word=_vague_word(_norm(pv.raw)) or "", example=ex()))

    value_done = False
    if pv.kind == "empty":
        out.append(make_flag(i, "empty_value", name=name, example=ex()))
        value_done = True
    elif pv.kind == "placeholder":
        out.append(make_flag(i, "placeholder_value", name=name, value=_value_text(pv), example=ex()))
        value_done = True
    elif goal_like:
        value_done = True   # the row is rewritten as a whole; the name_is_goal suggestion says how
    elif len(value_norm) >= 4 and pv.kind not in ("quantity", "range", "date", "period", "standard") and \
            (value_norm == n or (len(n) >= 4 and value_norm in n) or
             (len(n) >= 4 and n in value_norm and not _vague_word(value_norm))):
        out.append(make_flag(i, "value_repeats_name", name=name, value=_value_text(pv), example=ex()))
        value_done = True

    timely = ctx.is_kind("时效")
    cost = (ctx.predicted.confident and ctx.predicted.code == "COST-ECO") or ctx.filed == "COST-ECO"
    if not value_done and timely and pv.kind not in ("date", "period") and not (
            pv.kind in ("quantity", "range") and pv.dimension in ("rate", "duration", "date", "count", None)):
        out.append(make_flag(i, "timeliness_no_date", name=name, value=_value_text(pv),
                             example=ex(category="OUT-TIME")))
        if pv.kind == "vague":
            out.append(make_flag(i, "vague_value", name=name, value=_value_text(pv),
                                 word=_vague_word(_norm(pv.raw)) or "", example=ex(category="OUT-TIME")))
        value_done = True
    if not value_done and cost and not (pv.kind in ("quantity", "range")
                                        and pv.dimension in ("money", "unit_cost", "rate", None)):
        out.append(make_flag(i, "cost_not_money", name=name, value=_value_text(pv), example=ex(category="COST-ECO")))
        value_done = True

    always_q = set(c.get("always_quantitative_categories", []))
    if not value_done:
        if pv.kind == "vague":
            out.append(make_flag(i, "vague_value", name=name, value=_value_text(pv),
                                 word=_vague_word(_norm(pv.raw)) or "", example=ex()))
        elif pv.kind == "unparsed":
            out.append(make_flag(i, "unparsed_value", name=name, value=_value_text(pv), example=ex()))
        elif pv.kind in ("grade", "standard") and (measurable_name(name) or ctx.predicted.code in always_q or (
                pv.kind == "grade" and ctx.filed in always_q) or (
                ctx.predicted.source == "library" and idx.exact.get(n) and idx.exact[n].value_kind == "定量")):
            out.append(make_flag(i, "not_quantified", name=name, value=_value_text(pv), example=ex()))
        elif pv.kind == "grade":
            out.append(make_flag(i, "grade_no_criteria", name=name, value=_value_text(pv), example=ex()))

    if pv.kind in ("quantity", "range"):
        dims = name_dimension(name)
        unitless = _norm(name).endswith(tuple(c.get("unitless_name_suffixes", [])))
        mismatch = False
        if pv.unit is None and pv.dimension is None and unitless:
            pass
        elif pv.unit is None and pv.dimension is None:
            out.append(make_flag(i, "unit_missing", name=name, value=_value_text(pv),
                                 example=_unit_example(pv, dims, ex)))
        elif not value_done:
            conflict = next((p for p in pv.problems if "不一致" in p), None)
            if dims and pv.dimension and not _dimension_fits(name, pv, dims[0], cost):
                out.append(make_flag(i, "unit_mismatch", name=name, unit=pv.unit, expect=dims[1], example=ex()))
                mismatch = True
            elif conflict:
                out.append(make_flag(i, "unit_mismatch", name=name, unit=pv.unit, expect=conflict, example=ex()))
                mismatch = True
        if not mismatch:   # a range judged in the wrong unit says nothing
            out += _range_checks(ctx, th)
        if cost and pv.dimension == "money" and not value_done:
            amount = project.get("amount")
            if amount in (None, "", 0):
                out.append(make_flag(i, "cost_amount_unknown", name=name))
            elif pv.money_yuan is not None and float(pv.money_yuan) > float(amount):
                out.append(make_flag(i, "cost_over_amount", name=name, money=f"{pv.money_yuan:,.0f}",
                                     amount=f"{float(amount):,.0f}"))

    if not goal_like:
        out += _category_check(ctx, n)
    return out


def _dimension_fits(name: str, pv: ParsedValue, dims: list[str], cost: bool) -> bool:
    """Whether the value's dimension is one the name allows. A per-base unit (人/万车) fits a rate
    or a count name; a count fits a rate whose name states its base (万人起诉率 ≤120件)."""
    if pv.dimension in dims or (cost and pv.dimension == "rate"):
        return True
    ok = config()["dimension_also_fits"].get(pv.dimension) or []
    if any(d in dims for d in ok):
        return True
    if pv.dimension in ("count", "per_base") and "rate" in dims and per_base_name(name):
        return True
    if pv.unit and pv.unit in (config()["unit_also_fits"].get(dims[0]) or []):
        return True
    return False


def _unit_example(pv: ParsedValue, dims: tuple[list[str], str] | None, ex: Any) -> str:
    if dims:
        return f"{pv.raw.strip()}（{dims[1]}）"
    return ex()


def _range_checks(ctx: RowContext, th: dict[str, Any]) -> list[Flag]:
    pv, i, name = ctx.parsed, ctx.index, ctx.name
    hi = pv.upper if pv.upper is not None else pv.number
    lo = pv.number
    if hi is None or lo is None:
        return []
    if lo < 0 or hi < 0:
        return [make_flag(i, "out_of_range", name=name, value=_value_text(pv), why="数值为负数",
                          fix="数量、金额、比率都不能为负；如要表示下降，写成“下降率 ≥ __%”。")]
    if pv.dimension == "rate" and pv.unit == "%" and hi > th["rate_max"]:
        return [make_flag(i, "out_of_range", name=name, value=_value_text(pv), why=f"比率超过 {th['rate_max']}%",
                          fix=f"比率最高为 {th['rate_max']}%；如是增长幅度，请改写为“增长率”或“个百分点”。")]
    if (ctx.predicted.code == "SAT-SVC") and pv.unit == "%" and lo < th["satisfaction_min"]:
        a, b = th["satisfaction_typical"]
        return [make_flag(i, "out_of_range", name=name, value=_value_text(pv),
                          why=f"满意度目标低于 {th['satisfaction_min']}%",
                          fix=f"满意度目标通常设在 {a}%–{b}%，如「{name} ≥ {b - 5}%」。")]
    return []


def _category_check(ctx: RowContext, n: str) -> list[Flag]:
    p = ctx.predicted
    if not ctx.filed or not p.code or not p.confident:
        return []
    if p.code == ctx.filed or ctx.filed in _compiled()["compatible"].get(p.code, ()):
        return []
    for entry in config().get("compatible_by_name", []):
        if re.search(entry["pattern"], n) and {p.code, ctx.filed} <= set(entry["categories"]):
            return []
    decisive = config()["wrong_category_decisive"]
    if p.code not in decisive and ctx.filed not in decisive:
        return []
    if category_info()[p.code][1] is None:   # evaluation-only categories are not a place to move to
        return []
    filed_name = category_info()[ctx.filed][0]
    return [make_flag(ctx.index, "wrong_category", name=ctx.name, filed=filed_name, predicted=p.name,
                      level1=p.level1)]


def duplicate_flags(rows: list[RowContext]) -> list[Flag]:
    seen: dict[str, int] = {}
    out = []
    for r in rows:
        key = _norm(r.name)
        if not key:
            continue
        if key in seen:
            out.append(make_flag(r.index, "duplicate_row", name=r.name, other=seen[key] + 1))
        else:
            seen[key] = r.index
    return out


# --- table checks --------------------------------------------------------------------------
def _similar(a: str, b: str) -> float:
    from rapidfuzz import fuzz
    return fuzz.ratio(_norm(a), _norm(b)) / 100.0


def _goal_terms(goal: str) -> list[str]:
    """Content chunks of a goal: clauses with numbers, vague words and stopwords removed."""
    c = config()
    terms = []
    for clause in re.split(r"[，,。；;、：:\n（）()]", goal):
        t = re.sub(r"[\d.%％]+", " ", clause)
        for w in sorted(c["goal_stopwords"] + c["vague_words"] + c["vague_verbs"], key=len, reverse=True):
            t = t.replace(w, " ")
        for chunk in t.split():
            chunk = re.sub(r"^[的和与及在对了使将把等个万亿元人次户辆台套所座处]+|[的和与及在对了等]+$", "", chunk)
            if len(chunk) >= 2:
                terms.append(chunk)
    return terms


def check_table(rows: list[RowContext], doc: dict[str, Any], idx: Index, sector: str | None,
                sector_known: bool) -> list[Flag]:
    """Table rules: required kinds, satisfaction, goals, all-qualitative, too few rows, sector."""
    c = config()
    th = c["thresholds"]
    project = doc.get("project") or {}
    goals = doc.get("goals") or {}
    out: list[Flag] = []
    counted = [r for r in rows if not any(f.code == "input_as_target" for f in r.flags)]
    kinds = {r.kind for r in counted} | {r.filed_kind for r in counted if r.filed_kind}
    text = project.get("name") or ""
    for k in c["required_kinds"]:
        if k not in kinds:
            out.append(make_flag(None, "missing_kind", kind=k,
                                 example=example(None, idx, sector, text=text, kind=k)))
    if c["satisfaction_kind"] not in kinds:
        blob = " ".join(str(x or "") for x in (project.get("name"), goals.get("period"), goals.get("annual")))
        public = (sector in c["public_sectors"]) or any(w in blob for w in c["public_keywords"])
        if public:
            out.append(make_flag(None, "missing_satisfaction",
                                 example=example(None, idx, sector, text=text + "满意度", kind="满意度")))
        elif not sector_known:
            out.append(make_flag(None, "public_unknown"))
    out += _goal_checks(rows, goals, th)
    out += budget_flags(rows, project)
    if rows and not any(r.parsed.is_quantitative for r in rows):
        out.append(make_flag(None, "all_qualitative",
                             example=example(None, idx, sector, text=text, kind="数量")))
    if len(rows) < th["min_rows"]:
        out.append(make_flag(None, "too_few_rows", count=len(rows), min=th["min_rows"]))
    if not sector_known:
        out.append(make_flag(None, "sector_unknown", sector=project.get("sector") or "未填写"))
    return out


# --- budget: quantity × unit cost and the cost rows against the project amount -------------------
def _is_cost_row(r: RowContext) -> bool:
    return (r.predicted.confident and r.predicted.code == "COST-ECO") or r.filed == "COST-ECO"


def _upper(pv: ParsedValue) -> float | None:
    return pv.upper if pv.upper is not None else pv.number


def _unit_cost_yuan(pv: ParsedValue) -> tuple[float, str, float] | None:
    """(元 per one base unit, the base unit, how many bases a year holds) of a unit cost value:
    780 元/人·年 → (780, 人, 1); 530 元/人·月 → (530, 人, 12); 20 万元/个 → (200000, 个, 1)."""
    b = config()["budget"]
    n = _upper(pv)
    if pv.dimension != "unit_cost" or n is None or not pv.unit or "/" not in pv.unit:
        return None
    money, _, base = pv.unit.partition("/")
    scale = lexicon_money().get(money)
    if scale is None:
        return None
    base, _, per = base.partition("·")
    per = per or base.partition("/")[2]
    base = base.partition("/")[0]
    times = b["per_period"].get(per, None) if per else 1
    if times is None:
        return None          # 元/人·天: the number of days is not in the table, nothing to check
    return n * scale, base, float(times)


def lexicon_money() -> dict[str, float]:
    return {k: float(v) for k, v in value_lexicon()["money_base"].items()}


def _quantity_in(pv: ParsedValue, base: str) -> float | None:
    """The quantity of a row in ``base`` units (1.2 万人 in 人 is 12000), or None."""
    n = _upper(pv)
    if pv.kind not in ("quantity", "range") or n is None or not pv.unit or pv.dimension in ("unit_cost", "money", "rate"):
        return None
    if pv.unit == base:
        return n
    scaled = config()["budget"]["unit_scale"].get(pv.unit)
    if scaled and scaled[0] == base:
        return n * float(scaled[1])
    return None


def budget_flags(rows: list[RowContext], project: dict[str, Any]) -> list[Flag]:
    """Flag a table whose quantity × unit cost, or whose cost rows together, exceed the project
    amount by more than the tolerance (rules.yaml ``budget``). Nothing is guessed: without an
    amount, or when no quantity row is in the unit cost's base unit, there is nothing to compare."""
    amount = project.get("amount")
    if amount in (None, "", 0):
        return []
    amount = float(amount)
    b = config()["budget"]
    limit = amount * (1 + b["tolerance"])
    out: list[Flag] = []
    tol = f"{b['tolerance'] * 100:g}%"
    counted = [r for r in rows if not any(f.code in ("input_as_target", "name_is_goal") for f in r.flags)]
    generic = set(b["generic_bigrams"])
    for r in counted:
        if not _is_cost_row(r) or re.search(b["not_unit_cost_pattern"], _norm(r.name)):
            continue
        uc = _unit_cost_yuan(r.parsed)
        if uc is None:
            continue
        yuan, base, times = uc
        best: tuple[float, float, RowContext] | None = None
        for q in counted:
            if q is r or _is_cost_row(q):
                continue
            qty = _quantity_in(q.parsed, base)
            if qty is None:
                continue
            share = len((_bigrams(q.name) & _bigrams(r.name)) - generic)
            if share == 0:
                continue       # 就业人数 × 岗位补贴标准: a quantity of something else
            key = (share, -qty)
            if best is None or key > (best[0], -best[1]):
                best = (share, qty, q)
        if best is None:
            continue
        _, qty, q = best
        product = qty * yuan * times
        if product > limit:
            why = (f"「{q.name}」{_fmt(qty)}{base} × 「{r.name}」{r.parsed.raw.strip()}"
                   + (f" × {times:g}（按一年计）" if times != 1 else "") + f" = {_fmt(product)} 元")
            out.append(make_flag(None, "budget_exceeded", why=why, amount=_fmt(amount), tolerance=tol))
    money_rows = [r for r in counted if _is_cost_row(r) and r.parsed.dimension == "money"
                  and r.parsed.money_yuan is not None]
    if len(money_rows) >= 2 and not any(re.search(b["total_name_pattern"], _norm(r.name)) for r in money_rows):
        total = sum(r.parsed.money_yuan for r in money_rows)
        if total > limit:
            why = f"成本指标 {len(money_rows)} 行合计 {_fmt(total)} 元"
            out.append(make_flag(None, "budget_exceeded", why=why, amount=_fmt(amount), tolerance=tol))
    return out


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:g}"


def _goal_vague(goal: str) -> str | None:
    """The vague word when *every* clause of the goal is vague and none has a number: a goal
    with one concrete clause ("落实补助，植被盖度稳中有升") is not empty."""
    if re.search(r"\d|[一二三四五六七八九十百千万]+(个|人|户|所|座|处|项|台|套|辆|公里|亩|平方米)", goal):
        return None
    clauses = [c for c in re.split(r"[，,。；;！!\n]", goal) if len(c.strip()) >= 2]
    words = [_vague_word(c) for c in clauses]
    if clauses and all(words):
        return words[0]
    return None


def _goal_checks(rows: list[RowContext], goals: dict[str, Any], th: dict[str, Any]) -> list[Flag]:
    out: list[Flag] = []
    period = str(goals.get("period") or "").strip()
    annual = str(goals.get("annual") or "").strip()
    if not period and not annual:
        return [make_flag(None, "goal_missing", which="年度目标", which_short="本年度")]
    names = "".join(_norm(r.name) + _norm(r.value) for r in rows)
    for which, goal in (("实施期目标", period), ("年度目标", annual)):
        if not goal:
            continue
        word = _goal_vague(goal)
        if word:
            out.append(make_flag(None, "goal_vague", which=which, goal=goal[:40], word=word))
            continue
        terms = _goal_terms(goal)
        if not terms:
            continue
        missing = [t for t in terms if not any(t[j:j + 2] in names for j in range(len(t) - 1))]
        if len(missing) * 2 > len(terms):
            out.append(make_flag(None, "goal_not_reflected", which=which, term=missing[0]))
    if period and annual and _similar(period, annual) >= th["copy_similarity"]:
        out.append(make_flag(None, "annual_copies_period"))
    return out


def infer_rate_unit(pv: ParsedValue, name: str) -> None:
    """"成活率 ≥85", "覆盖率 ═100": a rate written without %. The name says it is a rate and the
    number is one, so the unit is % (recorded as coming from the name)."""
    if pv.kind not in ("quantity", "range") or pv.unit is not None or pv.number is None:
        return
    dims = name_dimension(name)
    hi = pv.upper if pv.upper is not None else pv.number
    if dims and dims[0][0] == "rate" and 0 <= pv.number and hi <= config()["thresholds"]["rate_max"] \
            and not per_base_name(name):
        pv.unit, pv.dimension, pv.unit_known, pv.unit_source = "%", "rate", True, "name"


def build_row(i: int, raw: dict[str, Any], idx: Index) -> RowContext:
    name, name_unit, marked = clean_name(str(raw.get("name") or "").strip())
    value = "" if raw.get("value") is None else str(raw.get("value"))
    pv = parse_value(raw.get("value"), raw.get("unit"), name_unit)
    infer_rate_unit(pv, name)
    return RowContext(i, raw, name, value, pv, predict(name, idx, pv),
                      filed_category(raw.get("level2"), raw.get("level1")), marked=marked)


def sector_of(project: dict[str, Any]) -> tuple[str | None, bool]:
    """The sector (支出功能分类 类级 name) of a project: its code or name, or a common way units
    name it (农业农村 → 农林水, 生态环境 → 节能环保; rules.yaml ``sector_aliases``)."""
    s = project.get("sector")
    if not s:
        return None, False
    text = str(s).strip()
    info = find_sector(text) or find_sector(config()["sector_aliases"].get(text, ""))
    return (info.name, True) if info else (text, False)
