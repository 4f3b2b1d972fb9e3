"""The one value grammar: reads a 指标值 the way budget units type it, and says how the library stores it.

Units write "≥95%", "不低于95%", "95%以上", "三十个", "1.2万人次", "90%-95%", "2025年12月31日前",
"2023.07-2024.01", "年底前", "优良", "达到国家二级标准" or "有效提升". The review rules need to know
what such a value *means* (comparator, number, unit and its dimension, date or period, grade or
named standard), so they can judge it. Whatever cannot be read is returned as ``kind="unparsed"``
with the raw text: a reviewer should see it rather than a guess.

All word lists (comparator words, Chinese numerals, unit aliases, grades, vague words, relative
dates) live in ``ontology/data/value_grammar.yaml`` so the bureau can extend them without a release.

Every reader of a value goes through this module: the loaders (``stored_value``: the comparator and
the number a row's 指标值 is stored as), the field rules (``plain_number``/``plain_range`` over the
stored form), the review rules and the performance loop (``parse_value``) and the recommender. One
grammar means a value that was exported is read back exactly as it was stored: "达到预期" or
"二级馆以上" are qualitative values, not a comparator in front of a number.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from ontology.vocab import units as vocab_units

DATA_DIR = Path(__file__).resolve().parent / "data"
GRAMMAR_FILE = DATA_DIR / "value_grammar.yaml"

#: kinds a parsed value can have
KINDS = ("quantity", "range", "date", "period", "grade", "standard", "vague", "empty", "placeholder", "unparsed")


@dataclass
class ParsedValue:
    """What a 指标值 says. ``kind`` is one of KINDS; the other fields are set as they apply."""
    raw: str
    kind: str
    comparator: str | None = None
    number: float | None = None
    upper: float | None = None          # upper bound of a range
    number_text: str | None = None      # the numbers as written when they are plain digits ("95", "0.5")
    upper_text: str | None = None
    comparator_written: bool = False    # a comparator word or symbol was written (not the default "=")
    unit: str | None = None             # normalised unit (units.tsv spelling) or the raw unit text
    unit_known: bool = True
    dimension: str | None = None        # rate, count, money, unit_cost, area, duration, date …
    unit_source: str | None = None      # "value" or "column"
    money_yuan: float | None = None     # money converted to 元 (for comparison with the project amount)
    date: str | None = None             # YYYY-MM-DD, or --MM-DD when the year is not written
    period: tuple[str, str] | None = None
    grade: str | None = None
    standard: str | None = None         # the named standard / criterion, when one is given
    extra: str = ""                     # text around the quantity that was not interpreted
    problems: list[str] = field(default_factory=list)

    @property
    def is_quantitative(self) -> bool:
        return self.kind in ("quantity", "range", "date", "period")

    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["period"] = list(self.period) if self.period else None
        d["problems"] = list(self.problems)
        return d


@lru_cache(maxsize=1)
def lexicon() -> dict[str, Any]:
    """The parser word lists, read once."""
    return yaml.safe_load(GRAMMAR_FILE.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _units() -> tuple[dict[str, str], list[str]]:
    """unit spelling → dimension, and all spellings (with aliases) longest first for matching.

    The measure words units write (组, 批次, 架次, 航时 …) are added from value_grammar.yaml, so that
    "6组" is a count and "3批次" is not read as 3 批 followed by stray text."""
    dims = {name: u.dimension for name, u in vocab_units().items()}
    for word, dim in (lexicon().get("measure_words") or {}).items():
        dims.setdefault(word, dim)
    spellings = sorted(set(dims) | set(lexicon()["unit_aliases"]), key=len, reverse=True)
    return dims, spellings


@lru_cache(maxsize=1)
def _per_base_re() -> re.Pattern[str]:
    return re.compile(lexicon()["per_base_unit_pattern"])


@lru_cache(maxsize=1)
def _aliases() -> dict[str, str]:
    return {k.lower(): v for k, v in lexicon()["unit_aliases"].items()}


@lru_cache(maxsize=1)
def _relative_map() -> dict[str, tuple[int, int]]:
    return {w: tuple(int(x) for x in md.split("-")) for w, md in lexicon()["relative_dates"].items()}


@lru_cache(maxsize=1)
def _noise() -> tuple[str, ...]:
    return tuple(sorted(lexicon()["trailing_noise"], key=len, reverse=True))


@lru_cache(maxsize=1)
def lx_named() -> frozenset[str]:
    return frozenset(lexicon().get("named_periods", []))


@lru_cache(maxsize=1)
def _before() -> list[str]:
    return sorted(lexicon()["date_suffix_before"], key=len, reverse=True)


def normalise_unit(text: str | None) -> tuple[str | None, str | None, bool]:
    """(unit, dimension, known) for a unit as written; unknown units are kept, not guessed."""
    if text is None:
        return None, None, True
    t = unicodedata.normalize("NFKC", str(text)).strip().strip("（）()")
    if not t or t in ("-", "—", "/", "无"):
        return None, None, True
    t = _unit_spelling(t)
    dims, _ = _units()
    u = _aliases().get(t.lower(), t)
    if _per_base_re().fullmatch(u) and not u.startswith(("元", "万元")) and \
            dims.get(u.split("/", 1)[1], "count") == "count":
        # 人/万车, 张/千人, 例/10万人: a count per base population is a rate, whatever units.tsv says;
        # 元/千瓦 or 吨/千米 are not (the base is a unit, not a population)
        return u, "per_base", True
    if u in dims:
        return u, dims[u], True
    if re.fullmatch(lexicon()["unit_cost_pattern"], u):
        return u, "unit_cost", True       # 元/亩·次, 万元/户: money per anything is a unit cost
    return t, None, False


def _unit_spelling(t: str) -> str:
    """元/人*月 → 元/人·月, 元/生/年 → 元/人/年: the ways units join and name the per-person base."""
    t = re.sub(r"(?<=[\u4e00-\u9fa5])[*×・•](?=[\u4e00-\u9fa5])", "·", t)
    for a, b in lexicon()["unit_spelling"].items():
        t = t.replace(a, b)
    return t


_WS = re.compile(r"\s+")


def _norm(text: str) -> str:
    t = unicodedata.normalize("NFKC", text).strip()
    if ">" in t or "<" in t or "≧" in t or "≦" in t:
        for a, b in ((">=", "≥"), ("<=", "≤"), ("=>", "≥"), ("=<", "≤"), ("≧", "≥"), ("≦", "≤")):
            t = t.replace(a, b)
    t = _WS.sub("", t)
    if "/" in t or "*" in t or "×" in t:
        t = _unit_spelling(t)
    if "余" in t or "多" in t:
        # "500余人", "10多次": more than the number
        t = re.sub(r"(?<![≥≤<>=\d.])(\d+(?:\.\d+)?[万千]?)(?:余|多)(?=[\u4e00-\u9fa5])", r"≥\1", t)
    return t


# --- numbers ---------------------------------------------------------------------------
def chinese_number(text: str) -> float | None:
    """三十 → 30, 一百二十 → 120, 两千五 → 2500, 三万五千 → 35000; None when not a numeral."""
    cn = lexicon()["chinese_numerals"]
    digits, small, mags = cn["digits"], cn["small_units"], cn["magnitudes"]
    if not text or any(ch not in digits and ch not in small and ch not in mags for ch in text):
        return None
    if all(ch in mags for ch in text):
        return None
    total, section, current = 0, 0, None
    last_unit, after_zero = 1, False
    for ch in text:
        if ch in digits:
            if digits[ch] == 0:
                after_zero = True
                continue
            current = digits[ch]
        elif ch in small:
            section += (current if current is not None else 1) * small[ch]
            current, last_unit, after_zero = None, small[ch], False
        else:
            section += current or 0
            total += (section or 1) * mags[ch]
            section, current, last_unit, after_zero = 0, None, mags[ch], False
    if current is not None:
        # 两千五 → 2500 and 三万五 → 35000: a lone digit right after a unit counts one order below
        tail_unit = len(text) >= 2 and (text[-2] in small or text[-2] in mags)
        section += current * (last_unit // 10 if tail_unit and not after_zero and last_unit >= 100 else 1)
    return float(total + section)


_DIGITS = re.compile(r"-?\d+(?:\.\d+)?")


def _fmt(x: float) -> str:
    """A number as the library writes it: 12000, not 12000.0."""
    return str(int(x)) if float(x).is_integer() else f"{x:.10g}"


def _to_number(token: str) -> float | None:
    try:
        return float(token)
    except ValueError:
        return chinese_number(token)


# --- the grammar of a quantity ------------------------------------------------------------
@lru_cache(maxsize=1)
def _quantity_re() -> re.Pattern[str]:
    lx = lexicon()
    cmp_pre = sorted(list(lx["comparators"]["prefix"]) + list(lx["comparators"]["symbols"]), key=len, reverse=True)
    cmp_suf = sorted(lx["comparators"]["suffix"], key=len, reverse=True)
    cn = lexicon()["chinese_numerals"]
    chars = "".join(cn["digits"]) + "".join(cn["small_units"]) + "".join(cn["magnitudes"])
    _, spellings = _units()
    # "5千克" is 5 in 千克, not 5000 in 克: a magnitude is not taken when it starts a unit
    mags = []
    for ch in "万亿千":
        rest = sorted({s[1:] for s in spellings if len(s) > 1 and s[0] == ch}, key=len, reverse=True)
        mags.append(ch + (f"(?!{'|'.join(re.escape(u) for u in rest)})" if rest else ""))
    num = rf"(?:-?\d+(?:\.\d+)?(?:{'|'.join(mags)})?|[{chars}]+)"
    unit = "|".join([lx["per_base_unit_regex"], lx["unit_cost_regex"]] + [re.escape(s) for s in spellings])
    seps = "|".join(re.escape(s) for s in lx["range_separators"])
    pat = (rf"(?P<cmp>{'|'.join(re.escape(c) for c in cmp_pre)})?"
           rf"(?P<n1>{num})(?P<u1>{unit})?"
           rf"(?:(?:{seps})(?P<n2>{num})(?P<u2>{unit})?)?"
           rf"(?P<suf>{'|'.join(re.escape(c) for c in cmp_suf)})?")
    return re.compile(pat, re.IGNORECASE)


def _split_magnitude(token: str) -> tuple[str, float]:
    mags = lexicon()["chinese_numerals"]["magnitudes"]
    if token and token[-1] in mags and re.match(r"-?\d", token):
        return token[:-1], float(mags[token[-1]])
    if token and token[-1] == "千" and re.match(r"-?\d", token):
        return token[:-1], 1000.0
    return token, 1.0


# --- dates and periods ----------------------------------------------------------------------
_FULL_DATE = re.compile(r"(?:(\d{4})[年./-])?(\d{1,2})[月./-](\d{1,2})[日号]?")
_MONTH = re.compile(r"(?:(\d{4})[年./-])(\d{1,2})月?(?:份)?")
_MONTH_ONLY = re.compile(r"(\d{1,2})月(?:份)?(底|末|中旬|上旬|下旬)?")
_PERIOD = re.compile(r"(\d{4})[年./-](\d{1,2})月?(?:[./-](\d{1,2})日?)?(?:至|到|-|~|—|–)(?:(\d{4})[年./-])?(\d{1,2})月?(?:[./-](\d{1,2})日?)?")
_YEAR_PERIOD = re.compile(r"(\d{4})年?(?:至|到|-|~|—|–)(\d{4})年")
_YEAR_ONLY = re.compile(r"(\d{4})年(?:度)?(底前|年底前|底|末|内|前|度内)?$")
_LAST_DAY = {1: 31, 2: 28, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}


def _date(y: str | None, m: int, d: int) -> str | None:
    if not (1 <= m <= 12 and 1 <= d <= 31):
        return None
    return f"{y}-{m:02d}-{d:02d}" if y else f"--{m:02d}-{d:02d}"


_DATE_HINT = re.compile(r"[年月日号期前内底末季./\-~至到]")


@lru_cache(maxsize=1)
def _named_re() -> re.Pattern[str] | None:
    pat = lexicon().get("named_period_pattern")
    return re.compile(pat) if pat else None


_DASHES = re.compile(r"-{2,}|—{1,2}|－|–|～|~|─")
_POINT = re.compile(r"(?:(?P<y>\d{4})(?:年度?|[./-])?)?(?:(?P<m>\d{1,2})(?:月份?|[./-])?)?(?:(?P<d>\d{1,2})[日号]?)?(?P<tail>底|末|初|中旬|上旬|下旬)?")
_SPLIT = re.compile(r"(?:至|到|-)")


def _point(text: str, end: bool) -> tuple[str | None, int | None, int | None] | None:
    """One side of a period: (year, month, day); a missing month or day is filled as the start
    or the end of the year or month."""
    m = _POINT.fullmatch(text)
    if not m or not (m["y"] or m["m"]):
        return None
    y, mm, dd = m["y"], int(m["m"]) if m["m"] else None, int(m["d"]) if m["d"] else None
    if mm is None and dd is not None:
        return None
    if mm is not None and not 1 <= mm <= 12:
        return None
    if mm is None:
        mm = 12 if end else 1
    if dd is None:
        dd = _LAST_DAY[mm] if end else 1
    return y, mm, dd


def _parse_span(t: str, raw: str) -> ParsedValue | None:
    """Periods in every common spelling: 2020年1月--2020年11月, 2021年1-12月, 2020.1-2020.11,
    2020年1月1日至2020年12月31日, 1-12月. A date range is never read as a negative number."""
    t = _DASHES.sub("-", t)
    parts = re.split(r"至|到", t) if ("至" in t or "到" in t) else t.split("-")
    if len(parts) != 2 or not parts[0] or not parts[1]:
        return None
    a, b = parts
    dated = re.match(r"\d{4}", a) or "月" in t or "年" in t
    if not dated:
        return None
    if re.fullmatch(r"\d{4}年?(度)?", a) and re.fullmatch(r"\d{1,2}月", b) is None and re.fullmatch(r"\d{1,2}", b):
        return None       # "2023-12" is a month, not a period
    # "2021年1-12月": the month written once for both sides
    if re.fullmatch(r"\d{4}年\d{1,2}", a) and re.fullmatch(r"\d{1,2}月", b):
        a += "月"
    if re.fullmatch(r"\d{1,2}", a) and re.fullmatch(r"\d{1,2}月", b):
        a += "月"
    p1, p2 = _point(a, end=False), _point(b, end=True)
    if not p1 or not p2:
        return None
    y1, y2 = p1[0], p2[0] or p1[0]
    if y1 and y2 and (not 1900 <= int(y1) <= 2100 or not 1900 <= int(y2) <= 2100 or y2 < y1):
        return None
    if not y1 and p2[0]:
        y1 = p2[0]
    start, end = _date(y1, p1[1], p1[2]), _date(y2, p2[1], p2[2])
    if not start or not end or (y1 and y2 and start > end):
        return None
    return ParsedValue(raw, "period", period=(start, end), dimension="date", comparator="区间")


@lru_cache(maxsize=1)
def _date_words() -> tuple[re.Pattern[str], re.Pattern[str]]:
    lx = lexicon()
    lead = "|".join(sorted(lx["date_lead_words"], key=len, reverse=True))
    trail = "|".join(sorted(lx["date_trailing_words"], key=len, reverse=True))
    return re.compile(rf"^(?:{lead})"), re.compile(rf"(?:{trail})$")


def _parse_date(t: str) -> ParsedValue | None:
    if not _DATE_HINT.search(t) and t not in _relative_map():
        return None   # "≥95%", "10辆": no date words at all
    lead, trail = _date_words()
    core = trail.sub("", lead.sub("", t))
    if core != t and core and (re.search(r"\d", core) or core in _relative_map() or core.removesuffix("前") in _relative_map()):
        # "在2023年12月31日前完成", "截至2023年12月31日", "2023年6月底前全部完成": the date is the target
        pv = _parse_date(core)
        if pv is not None and pv.kind == "date":
            pv.raw = t
            if pv.comparator == "=":
                pv.comparator = "≤"
            return pv
    m = re.fullmatch(lexicon()["periodic_deadline_pattern"], t)
    if m:
        # "每季度末", "每月10日前", "每年6月底前": a deadline that recurs; no single day is invented
        return ParsedValue(t, "date", comparator="≤", date=None, dimension="date", extra=t)
    m = re.fullmatch(r"(\d{4})[./](\d{1,2})", t)
    if m and 1900 <= int(m[1]) <= 2100 and 1 <= int(m[2]) <= 12:
        return ParsedValue(t, "date", comparator="≤", date=_date(m[1], int(m[2]), _LAST_DAY[int(m[2])]), dimension="date")
    m = re.fullmatch(r"(?:当年|本年|年内|今年)(\d{1,2})月(底|末)?(前)?", t)
    if m and 1 <= int(m[1]) <= 12:
        return ParsedValue(t, "date", comparator="≤", date=_date(None, int(m[1]), _LAST_DAY[int(m[1])]), dimension="date")
    before = _before()
    raw = t
    # an ISO date (2026-01-05) is one day, not a period from January to May
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", t)
    if m and _date(m[1], int(m[2]), int(m[3])):
        return ParsedValue(raw, "date", comparator="=", date=_date(m[1], int(m[2]), int(m[3])), dimension="date")
    span = _parse_span(t, raw)
    if span is not None:
        return span
    m = _PERIOD.fullmatch(t)
    if m and ("年" in t or "." in t or "/" in t or t.count("-") >= 1):
        y1, m1, d1, y2, m2, d2 = m.groups()
        y2 = y2 or y1
        if 1 <= int(m1) <= 12 and 1 <= int(m2) <= 12:
            start = _date(y1, int(m1), int(d1 or 1))
            end = _date(y2, int(m2), int(d2 or _LAST_DAY[int(m2)]))
            if start and end:
                return ParsedValue(raw, "period", period=(start, end), dimension="date", comparator="区间")
    m = _YEAR_PERIOD.fullmatch(t)
    if m:
        return ParsedValue(raw, "period", period=(f"{m[1]}-01-01", f"{m[2]}-12-31"), dimension="date", comparator="区间")
    # a deadline: strip "前/之前/以前/底前" and read the date
    core, cmp = t, "="
    for s in before:
        if core.endswith(s) and len(core) > len(s):
            core, cmp = core[: -len(s)], "≤"
            if s in ("底", "底前"):
                core += "底"
            break
    year = re.match(r"^(\d{4})年(?:度)?", t)
    rest = t[year.end():] if year else t
    named = _named_re()
    if rest in lx_named() or (named is not None and named.match(rest)):
        return ParsedValue(raw, "date", comparator="≤", date=None, dimension="date", extra=rest)
    rel = _relative_map()
    if year:
        for cand in (rest, rest.removesuffix("前"), rest.removesuffix("内")):
            if cand in rel:
                mm, dd = rel[cand]
                return ParsedValue(raw, "date", comparator="≤", date=_date(year[1], mm, dd), dimension="date")
    for cand in (t, core, t.removesuffix("前"), t.removesuffix("内"), t.removesuffix("之前")):
        if cand in rel:
            mm, dd = rel[cand]
            return ParsedValue(raw, "date", comparator="≤", date=_date(None, mm, dd), dimension="date")
    if not any(ch.isdigit() for ch in core):
        return None
    m = _FULL_DATE.fullmatch(core.rstrip("底"))
    if m and ("月" in core or m[1]):
        d = _date(m[1], int(m[2]), int(m[3]))
        if d:
            return ParsedValue(raw, "date", comparator=cmp, date=d, dimension="date")
    m = _MONTH.fullmatch(core.rstrip("底末"))
    if m and ("年" in core):
        mm = int(m[2])
        if 1 <= mm <= 12:
            return ParsedValue(raw, "date", comparator="≤" if cmp == "≤" or core.endswith(("底", "末")) else cmp,
                               date=_date(m[1], mm, _LAST_DAY[mm]), dimension="date")
    m = _MONTH_ONLY.fullmatch(core)
    if m and 1 <= int(m[1]) <= 12:
        mm = int(m[1])
        return ParsedValue(raw, "date", comparator="≤" if cmp == "≤" or m[2] else cmp,
                           date=_date(None, mm, _LAST_DAY[mm]), dimension="date")
    m = _YEAR_ONLY.fullmatch(t)
    if m:
        return ParsedValue(raw, "date", comparator="≤", date=f"{m[1]}-12-31", dimension="date")
    return None


# --- grades and standards -----------------------------------------------------------------
@lru_cache(maxsize=1)
def _standard_res() -> list[re.Pattern[str]]:
    return [re.compile(p, re.IGNORECASE) for p in lexicon()["standard_patterns"]]


def named_standard(t: str) -> str | None:
    """The standard or criterion a qualitative value names ("《…》", "国家二级标准", "GB 50300")."""
    for rx in _standard_res():
        m = rx.search(t)
        if m:
            return m.group(0)
    return None


@lru_cache(maxsize=1)
def _vague_words() -> tuple[str, ...]:
    lx = lexicon()
    return tuple(lx["vague_words"]) + tuple(lx["vague_verbs"])


def _placeholder(t: str) -> bool:
    """"≧ %", "公里", "≥**人": a comparator, template marks and at most a unit, but no number."""
    rest = re.sub(lexicon()["placeholder_chars"], "", t)
    if rest == t and not rest:
        return False
    if not rest:
        return True
    unit, dim, known = normalise_unit(rest)
    return known and dim is not None


def parse_value(value: Any, unit_column: Any = None, name_unit: str | None = None) -> ParsedValue:
    """Parse a 指标值 with the 计量单位 column (may be empty) and the unit the name carries
    ("总面积(亩)", "(≥**元/株)"; see ``clean_name``).

    The unit written in the value wins over the column, and the column over the name; a
    conflicting column unit is recorded in ``problems`` so the unit rule can report it."""
    raw = "" if value is None else str(value)
    if isinstance(value, float) and value.is_integer():
        raw = str(int(value))
    t = _norm(raw)
    if unit_column in (None, "") and name_unit:
        unit_column, from_name = name_unit, True
    else:
        from_name = False
    col_unit, col_dim, col_known = normalise_unit(None if unit_column is None else str(unit_column))
    if not t or t in ("-", "—", "/", "无", "待定", "暂无"):
        return ParsedValue(raw, "empty", unit=col_unit, dimension=col_dim, unit_known=col_known,
                           unit_source="column" if col_unit else None)
    if not re.search(r"\d|[一二三四五六七八九十百千两]", t) and _placeholder(t):
        return ParsedValue(raw, "placeholder", problems=[f"指标值「{raw.strip()}」只有比较符或单位，没有数值"])
    pv = _parse_date(t)
    if pv is None:
        pv = _parse_quantity(t, raw)
    if pv is None:
        pv = _parse_qualitative(t, raw)
    # merge the unit column
    if pv.kind in ("quantity", "range"):
        if pv.unit is None and col_unit and from_name and pv.extra.startswith("/") and col_unit.endswith(pv.extra):
            pv.extra = ""                 # "≤28.40/株" under a name that says (≤**元/株)
        if pv.unit is None and col_unit:
            pv.unit, pv.dimension, pv.unit_known = col_unit, col_dim, col_known
            pv.unit_source = "name" if from_name else "column"
        elif pv.unit and col_unit and col_unit != pv.unit:
            if col_dim != pv.dimension:
                pv.problems.append(f"指标值中的单位「{pv.unit}」与计量单位列「{col_unit}」不一致")
        _money(pv)
    elif pv.kind in ("date", "period"):
        pass
    elif col_unit and pv.unit is None:
        pv.unit, pv.dimension, pv.unit_known, pv.unit_source = col_unit, col_dim, col_known, "column"
    return pv


def _money(pv: ParsedValue) -> None:
    base = lexicon()["money_base"]
    if pv.dimension == "money" and pv.unit in base and pv.number is not None:
        pv.money_yuan = (pv.upper if pv.upper is not None else pv.number) * base[pv.unit]


def _parse_quantity(t: str, raw: str) -> ParsedValue | None:
    lx = lexicon()
    best = None
    for m in _quantity_re().finditer(t):
        if not m.group("n1"):
            continue
        tok = m.group("n1")
        if not re.match(r"-?\d", tok):
            # a Chinese numeral counts only with a unit or a comparator ("三十个", "不少于五"),
            # so that 进一步 or 一般 are not read as the number one
            whole = m.start() == 0 and m.end() == len(t)
            if t[m.end("n1"):m.end("n1") + 1] in ("级", "类", "等", "星"):
                continue   # 二级、Ⅲ类、一等: a grade, not a number
            if chinese_number(tok) is None or not (whole or m.group("u1") or m.group("cmp") or m.group("suf")):
                continue
        if best is None or (m.end() - m.start()) > (best.end() - best.start()):
            best = m
    if best is None:
        return None
    m = best
    u1 = m.group("u1")
    tok1, mult1 = _split_magnitude(m.group("n1"))
    if mult1 != 1 and u1 and normalise_unit(m.group("n1")[-1] + u1)[2]:
        # "120万元" is 120 in 万元, not 1,200,000 in 元: keep the unit as written
        tok1, mult1, u1 = m.group("n1")[:-1], 1.0, m.group("n1")[-1] + u1
    n1 = _to_number(tok1)
    if n1 is None:
        return None
    n1 *= mult1
    cmp_words = {**lx["comparators"]["symbols"], **lx["comparators"]["prefix"]}
    comparator = cmp_words.get(m.group("cmp") or "") or lx["comparators"]["suffix"].get(m.group("suf") or "")
    pv = ParsedValue(raw, "quantity", comparator=comparator or "=", number=n1,
                     comparator_written=bool(comparator),
                     number_text=tok1 if mult1 == 1 and _DIGITS.fullmatch(tok1) else _fmt(n1))
    if m.group("n2"):
        tok2, mult2 = _split_magnitude(m.group("n2"))
        u2 = m.group("u2")
        if mult2 != 1 and u2 and normalise_unit(m.group("n2")[-1] + u2)[2]:
            tok2, mult2 = m.group("n2")[:-1], 1.0
            u1 = u1 or m.group("n2")[-1] + u2
        n2 = _to_number(tok2)
        if n2 is not None:
            pv.kind, pv.upper, pv.comparator = "range", n2 * mult2, "区间"
            pv.upper_text = tok2 if mult2 == 1 and _DIGITS.fullmatch(tok2) else _fmt(n2 * mult2)
            u1 = u1 or u2
    if u1:
        pv.unit, pv.dimension, pv.unit_known = normalise_unit(u1)
        pv.unit_source = "value"
    before, after = t[: m.start()], t[m.end():]
    for w in _noise():
        after = after.rstrip(w)
    pv.extra = (before + ("…" if before and after else "") + after).strip()
    if pv.extra and not u1 and not m.group("cmp") and not m.group("suf"):
        # "提高10个百分点" is fine, but "第3季度完成" or "3年内见效" are not a plain quantity:
        if len(pv.extra) > 6 and not re.search(r"\d", pv.extra):
            pv.problems.append(f"数字之外还有未能识别的文字「{pv.extra}」")
    return pv


def _parse_qualitative(t: str, raw: str) -> ParsedValue:
    lx = lexicon()
    std = named_standard(t)
    grade = None
    for g in sorted(lx["grade_words"], key=len, reverse=True):
        if g in t:
            grade = g
            break
    if std:
        return ParsedValue(raw, "standard", grade=grade, standard=std, comparator="定性")
    if grade and len(t) <= len(grade) + 6 and not any(v in t for v in _vague_words() if v not in grade):
        return ParsedValue(raw, "grade", grade=grade, comparator="定性")
    if any(v in t for v in _vague_words()):
        return ParsedValue(raw, "vague", grade=grade)
    if grade:
        return ParsedValue(raw, "grade", grade=grade, comparator="定性")
    return ParsedValue(raw, "unparsed", problems=[f"无法识别的指标值「{raw.strip()}」"])


# --- names ----------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _name_res() -> tuple[list[re.Pattern[str]], list[re.Pattern[str]], re.Pattern[str]]:
    lx = lexicon()
    return ([re.compile(p) for p in lx["name_markers"]], [re.compile(p) for p in lx["name_placeholder_patterns"]],
            re.compile(lx["name_unit_pattern"]))


def clean_name(name: str) -> tuple[str, str | None, bool]:
    """(name without template marks, the unit the name carries, whether template marks were found).

    Real tables keep their template: "★★★受益人口数(≥**人)", "指标1:项目总成本(≤**万元)",
    "实施营造林总面积(亩)". The marks are not part of the indicator and are judged apart from it;
    the unit inside them is the row's unit when the value and the unit column give none."""
    markers, placeholders, unit_re = _name_res()
    t = unicodedata.normalize("NFKC", name or "").strip()
    found = False
    unit: str | None = None
    for rx in markers:
        t2 = rx.sub("", t)
        found, t = found or t2 != t, t2
    for rx in placeholders:
        m = rx.search(t)
        if m:
            found = True
            u = (m.group("unit") or "").strip()
            if u and normalise_unit(u)[1] is not None:
                unit = normalise_unit(u)[0]
            t = (t[:m.start()] + t[m.end():]).strip()
    for m in list(unit_re.finditer(t))[::-1]:
        u, dim, known = normalise_unit(m.group("unit"))
        if known and dim is not None:
            unit = unit or u
            t = (t[:m.start()] + t[m.end():]).strip()
    return t.strip(" :：;；,，。"), unit, found


# --- the stored form ----------------------------------------------------------------------
@lru_cache(maxsize=1)
def _stored_res() -> tuple[re.Pattern[str], re.Pattern[str]]:
    lx = lexicon()
    return re.compile(lx["stored_number_pattern"]), re.compile(lx["stored_range_pattern"])


def plain_number(text: Any) -> float | None:
    """The number of a stored 指标值 ("95", "95%", "0.5"); None when it is not one plain number."""
    if text is None:
        return None
    t = str(text).strip()
    return float(t.rstrip("%").strip()) if _stored_res()[0].match(t) else None


def plain_range(text: Any) -> tuple[float, float] | None:
    """(lower, upper) of a stored range ("90-95", "90%-95%"); None otherwise."""
    if not text:
        return None
    m = _stored_res()[1].match(str(text).strip())
    return (float(m.group(1)), float(m.group(2))) if m else None


def stored_value(value: str, unit: str = "") -> tuple[str | None, str]:
    """How a row's 指标值 is stored: (the direction its comparator gives, or None; the value).

    "≥95%" → ("≥", "95"), "90%-95%" → ("区间", "90-95"), "不少于1.2万人次" under 人次 → ("≥", "12000"),
    "95" → (None, "95"). Anything the grammar does not read as one number or one range in the row's
    unit — a grade, a named standard, "达到预期", "二级馆以上", a date — is stored exactly as written,
    so an exported library loads back unchanged."""
    v = (value or "").strip()
    if not v or plain_number(v) is not None and not v.endswith("%"):
        return None, v
    if normalise_unit(unit)[1] == "date":
        return _stored_date(v)
    pv = parse_value(v, unit or None)
    if pv.kind not in ("quantity", "range") or pv.extra or pv.problems or pv.number_text is None:
        return None, v
    if pv.unit_source == "value" and pv.unit not in (unit, "%") and normalise_unit(unit)[0] != pv.unit:
        return None, v                     # "95%" under 个: left for the field rules to report
    if pv.kind == "range":
        return "区间", f"{pv.number_text}-{pv.upper_text}"
    direction = lexicon()["comparator_directions"].get(pv.comparator or "") if pv.comparator_written else None
    return direction, pv.number_text


def _stored_date(v: str) -> tuple[str | None, str]:
    """A deadline under 年月日: "≤10月31日", "10月31日前" → ("≤", "10月31日"); anything else as written."""
    lx = lexicon()["comparators"]
    words = {**lx["symbols"], **lx["prefix"]}
    cmp = next((w for w in sorted(words, key=len, reverse=True) if v.startswith(w)), "")
    pv = parse_value(v[len(cmp):])
    if pv.kind != "date" or not pv.date or pv.extra:
        return None, v
    if pv.date.startswith("--"):
        y, (m, d) = "", pv.date[2:].split("-")
    else:
        y, m, d = pv.date.split("-")
    direction = lexicon()["comparator_directions"].get(words.get(cmp) or pv.comparator or "")
    return (direction if cmp or pv.comparator == "≤" else None), f"{y + '年' if y else ''}{int(m)}月{int(d)}日"
