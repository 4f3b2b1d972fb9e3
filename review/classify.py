"""Predicts the 二级 category of an indicator from its *name*, and finds library indicators to
suggest as rewrites.

Units often leave 一级/二级 blank or fill them wrongly, so the category has to come from the name
itself. The evidence, strongest first: the library (a name or synonym that is exactly a library
indicator), a keyword lexicon of unambiguous words (满意度 → 满意度指标, 及时率 → 时效),
what the library's own names ending the same way are filed under, then weak keywords. The
lexicon is data (review/data/classify.yaml).

Retrieval goes through the search index (search/index.py), the library's one index: which
indicators of a category hold a bigram of the row's name, and how rare that bigram is, are read
from its postings and idf, not from a second index of the same names. What is the classifier's own
(the exact-name table, the suffix statistics, each category's general fallback) is built once per
library version as a part of the library snapshot; without a library, from the bundled library
loaded into an in-memory store, through the same path.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ontology.values import lexicon as value_lexicon
from ontology.vocab import categories
from search.text import name_key

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class Ref:
    """A library indicator as a suggestion needs it."""
    id: str
    name: str
    category: str
    unit: str | None
    direction: str
    typical: str | None
    value_kind: str
    sector: str | None
    synonyms: tuple[str, ...] = ()
    project_types: tuple[str, ...] = ()
    #: where the indicator's projection comes from (the library snapshot), asked only when shown
    source: Any = field(default=None, compare=False, hash=False, repr=False)

    @property
    def indicator(self) -> dict[str, Any] | None:
        """The indicator in the one projection (engine/projection.py) that /indicators/{id} serves."""
        return self.source.projection(self.id) if self.source is not None else None

    def value_text(self) -> str | None:
        """The typical value written as a unit writes it ("≥90%", "≤600元/平方米", "9月30日前");
        None when the library gives no quantified value to adopt."""
        if self.value_kind != "定量" or not self.typical or self.typical in ("-",):
            return None
        if self.unit == "年月日":
            return f"{self.typical}前"
        unit = "" if not self.unit or self.unit == "-" else self.unit
        if self.direction == "区间":
            return self.typical.replace("-", f"{unit}-", 1) + unit if unit == "%" else f"{self.typical}{unit}"
        comp = self.direction if self.direction in ("≥", "≤", "=") else ""
        return f"{comp}{self.typical}{unit}"

    def target_text(self) -> str:
        """"培训考核合格率 ≥ 90%"; "__" where the library has no typical value."""
        if self.value_kind == "定性" or self.direction == "定性":
            return f"{self.name}：{self.typical or '达到《…》规定的合格标准'}"
        unit = "" if not self.unit or self.unit in ("-", "年月日") else self.unit
        value = self.typical if self.typical and self.typical not in ("-",) else "__"
        if self.unit == "年月日":
            return f"{self.name} ≤ {value if value != '__' else '__月__日'}"
        direction = self.direction if self.direction in ("≥", "≤", "=") else "≥"
        return f"{self.name} {direction} {value}{unit}"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "unit": self.unit, "direction": self.direction,
                "typical_value": self.typical, "text": self.target_text(), "indicator": self.indicator}


@dataclass
class Prediction:
    code: str | None
    name: str | None
    source: str | None  # library | lexicon | value | library_suffix | lexicon_weak | unit_prior | None
    kind: str | None = None
    level1: str | None = None
    confidence: float = 0.0   # how sure, by source (classify.yaml ``confidence``); 0 when abstaining

    @property
    def confident(self) -> bool:
        """Exact library name or an unambiguous keyword: strong enough to contradict the filing."""
        return self.source in ("library", "lexicon")


#: the search index's term prefix for a character bigram of a name or synonym
_BIGRAM = "b"
_POSTING_MEMO = 100_000   # (category, bigram) postings kept per index


class Postings:
    """The classifier's view of the search index: the indicators (positions in ``refs``) of a
    category whose name or a synonym holds a bigram, in id order."""

    def __init__(self, search: Any, refs: list[Ref]):
        pos = {r.id: i for i, r in enumerate(refs)}
        self._search = search
        self._doc_ref = np.array([pos.get(search.doc_id(d), -1) for d in range(search.n_docs)], dtype=np.int64)
        self.categories = sorted({r.category for r in refs})
        self._code = {c: k for k, c in enumerate(self.categories)}
        self._ref_cat = np.array([self._code[r.category] for r in refs], dtype=np.int32)
        self._memo: dict[tuple[str, str], list[int]] = {}

    def get(self, category: str, gram: str) -> list[int]:
        key = (category, gram)
        got = self._memo.get(key)
        if got is None:
            code = self._code.get(category)
            refs = self._doc_ref[self._search.term_docs(_BIGRAM + gram)] if code is not None else self._doc_ref[:0]
            refs = refs[refs >= 0]
            got = np.sort(refs[self._ref_cat[refs] == code]).tolist()
            if len(self._memo) < _POSTING_MEMO:
                self._memo[key] = got
        return got


class Idf:
    """How rare a bigram is among the library's names and synonyms, as the search index weighs it."""

    def __init__(self, search: Any):
        self._idf = search.idf

    def get(self, gram: str, default: Any = None) -> Any:
        return self._idf.get(_BIGRAM + gram, default)

    def __contains__(self, gram: object) -> bool:
        return isinstance(gram, str) and (_BIGRAM + gram) in self._idf

    def __getitem__(self, gram: str) -> float:
        return self._idf[_BIGRAM + gram]


@dataclass
class Index:
    version: Any
    refs: list[Ref]
    postings: Postings
    idf: Idf
    exact: dict[str, Ref] = field(default_factory=dict)
    suffix: dict[str, str] = field(default_factory=dict)
    fallback: dict[str, Ref] = field(default_factory=dict)                   # category → general ref
    memo: dict[tuple, Ref | None] = field(default_factory=dict)              # suggestions already made
    types: list[tuple[str, str, tuple[str, ...], str | None]] = field(default_factory=list)  # id, name, keywords, sector


@lru_cache(maxsize=1)
def lexicon() -> dict[str, Any]:
    raw = yaml.safe_load((DATA_DIR / "classify.yaml").read_text(encoding="utf-8"))
    return {"strong": [(re.compile(x["pattern"]), x["category"]) for x in raw["strong"]],
            "weak": [(re.compile(x["pattern"]), x["category"]) for x in raw["weak"]],
            "by_value": raw["by_value"],
            "confidence": raw["confidence"],
            "unit_prior": raw["unit_prior"],
            "count_over_quality": raw["count_over_quality"],
            "measure_suffix": raw["measure_suffix"],
            "suffix_stats": raw["suffix_stats"],
            "topic_stop": sorted(raw.get("topic_stopwords", []), key=len, reverse=True)}


@lru_cache(maxsize=1)
def category_info() -> dict[str, tuple[str, str | None, str]]:
    """code → (name, kind, level1 name)"""
    return {c.code: (c.name, c.kind, c.level1_name) for c in categories()}


def _norm_name(name: str) -> str:
    """The text core's name key (search/text.py): the same function fills and reads every table."""
    return name_key(name)


def _bigrams(text: str) -> set[str]:
    t = _norm_name(text)
    return {t[i:i + 2] for i in range(len(t) - 1)}


def _build(version: Any, refs: list[Ref], search: Any) -> Index:
    idx = Index(version, refs, Postings(search, refs), Idf(search))
    # general indicators first so that an industry duplicate does not hide the general one
    for r in sorted(refs, key=lambda r: (r.sector is not None, r.id)):
        for n in (r.name, *r.synonyms):
            idx.exact.setdefault(_norm_name(n), r)
    st = lexicon()["suffix_stats"]
    counts: dict[str, dict[str, int]] = {}   # suffix → category → names (plain dicts: 24k of them)
    for r in refs:
        n = _norm_name(r.name)
        for k in range(st["min_len"], min(st["max_len"], len(n)) + 1):
            c = counts.setdefault(n[-k:], {})
            c[r.category] = c.get(r.category, 0) + 1
    for suf, c in counts.items():
        total = sum(c.values())
        if total < st["min_count"]:
            continue
        cat, top = max(c.items(), key=lambda kv: kv[1])   # the first most common, as Counter.most_common
        if top / total >= st["min_purity"]:
            idx.suffix[suf] = cat
    for r in refs:
        if r.sector is None and r.typical and r.typical != "-" and r.value_kind == "定量":
            idx.fallback.setdefault(r.category, r)
    return idx


#: suggestion search limits: bigrams used per query, and the posting length beyond which a
#: bigram is too common to be worth scanning (unless it is the query's rarest)
MAX_GRAMS = 6
MAX_POSTING = 400

def _refs_from_snapshot(snap: Any) -> list[Ref]:
    """The active indicators of a library snapshot (engine/snapshot.py), each with its projection."""
    from ontology.nodes import node_indicator
    from ontology.vocab import sectors
    sector_names = {s.code: s.name for s in sectors()}
    out = []
    for node in snap.indicators.values():
        ind = node_indicator(node)
        if ind.status != "active" or not ind.category:
            continue
        out.append(Ref(ind.id, ind.name, ind.category, ind.unit, ind.direction, ind.typical_value,
                       ind.value_kind, sector_names.get(ind.sector or "", ind.sector), tuple(ind.synonyms),
                       tuple(ind.project_types), snap))
    return out


def _types_from_snapshot(snap: Any) -> list[tuple[str, str, tuple[str, ...], str | None]]:
    from ontology.nodes import IN_SECTOR, PROJECT_TYPE
    from ontology.vocab import sectors
    names = {f"SEC-{s.code}": s.name for s in sectors()}
    out = []
    for node in snap.vocab.by_label(PROJECT_TYPE):
        sec = next((names.get(dst) for typ, dst in node.edges if typ == IN_SECTOR), None)
        out.append((node.id, node.props.get("name") or "", tuple(node.props.get("keywords") or ()), sec))
    return out


def index_from_snapshot(snap: Any) -> Index:
    """The classifier over a library snapshot: built by engine/snapshot.py once per library version,
    from the nodes the snapshot already read and the snapshot's search index."""
    from search.engine import INDEX_KEY, index_of
    idx = _build(snap.version, _refs_from_snapshot(snap), snap.derived(INDEX_KEY, index_of))
    idx.types = _types_from_snapshot(snap)
    return idx


@lru_cache(maxsize=1)
def _catalogue_index() -> Index:
    """Without a library: the bundled library, loaded into an in-memory store and read through the
    same snapshot path (the store lives as long as the index needs it)."""
    from engine.snapshot import LibrarySnapshot
    from graph.sqlite_store import SQLiteStore
    from loaders import seed_bundled_library
    store = SQLiteStore(":memory:")
    seed_bundled_library(store)
    version, nodes = store.snapshot()
    snap = LibrarySnapshot(version, store, nodes)
    idx = index_from_snapshot(snap)
    idx.store = store  # type: ignore[attr-defined]  # keeps the in-memory store (and its snapshot) alive
    return idx


def index_for(library: Any | None) -> Index:
    """The index of a Library at its current version (held by the library snapshot,
    engine/snapshot.py), or of the bundled library when there is no library."""
    if library is None:
        return _catalogue_index()
    from engine.snapshot import snapshot_of
    return snapshot_of(library.store).derived("review_index", index_from_snapshot)


def _pred(code: str, source: str) -> Prediction:
    name, kind, level1 = category_info().get(code, (code, None, None))
    return Prediction(code, name, source, kind, level1, float(lexicon()["confidence"].get(source, 0.5)))


def _by_value(n: str, pv: Any) -> str | None:
    """What the value and unit make plain: a date or period is 时效, a unit cost is 经济成本, a
    count, area or length with nothing else said is 数量 (classify.yaml ``by_value``)."""
    if pv is None:
        return None
    rules = lexicon()["by_value"]
    if pv.kind in ("date", "period"):
        return rules["date"]
    if pv.kind not in ("quantity", "range") or not pv.dimension:
        return None
    entry = rules["dimensions"].get(pv.dimension)
    if entry is None:
        return None
    if isinstance(entry, str):
        return entry
    for pattern, code in entry.items():
        if pattern == "else" or re.search(pattern, n):
            return code
    return None


def predict(name: str, idx: Index, pv: Any = None) -> Prediction:
    """The 二级 category of a row from its name, value and unit (never the level columns);
    ``code=None`` only when neither says.

    Evidence, strongest first: the exact library name; an unambiguous keyword of the name; what
    the value makes plain (a date → 时效, 元/人 → 成本, 20亩 → 数量); the library's names ending
    the same way; weak keywords; the category most library indicators with this unit fall in,
    when that is a clear majority."""
    n = _norm_name(name)
    if not n:
        return Prediction(None, None, None)
    ref = idx.exact.get(n)
    if ref is not None:
        return _pred(ref.category, "library")
    lx = lexicon()
    for rx, code in lx["strong"]:
        if rx.search(n):
            co = lx["count_over_quality"]
            if pv is not None and pv.dimension == "count" and code in co["categories"] and re.search(co["name_suffix"], n):
                return _pred("OUT-QTY", "value")
            return _pred(code, "lexicon")
    code = _by_value(n, pv)
    if code:
        return _pred(code, "value")
    st = lx["suffix_stats"]
    for k in range(min(st["max_len"], len(n) - 1), st["min_len"] - 1, -1):
        code = idx.suffix.get(n[-k:])
        if code:
            return _pred(code, "library_suffix")
    for rx, code in lx["weak"]:
        if rx.search(n):
            return _pred(code, "lexicon_weak")
    if pv is not None and pv.unit in lx["unit_prior"]:
        return _pred(lx["unit_prior"][pv.unit], "unit_prior")
    return Prediction(None, None, None)


@lru_cache(maxsize=1)
def _strip_words() -> tuple[str, ...]:
    lx = value_lexicon()     # the value grammar's vague words (one list; no import of .rules)
    return tuple(sorted(lx["vague_words"] + lx["vague_verbs"] + lexicon()["topic_stop"], key=len, reverse=True))


def suggest(text: str, idx: Index, category: str | None = None, kind: str | None = None,
            sector: str | None = None, exclude: set[str] | None = None) -> Ref | None:
    """The library indicator closest to ``text`` (a vague target or a name), within a category
    or kind when given: the rewrite a unit can adopt. Shared bigrams are weighted by rarity, so
    "培训" outweighs "质量"; quantified indicators with a typical value are preferred."""
    topic = _norm_name(text)
    for w in _strip_words():
        topic = topic.replace(w, "")
    grams = _bigrams(topic)
    if not grams:
        # nothing but category words ("群众满意度" → 满意): the category's general indicator fits best
        for cat in ([category] if category else []):
            if cat in idx.fallback:
                return idx.fallback[cat]
        grams = _bigrams(text)
    key = (frozenset(grams), category, kind, sector, frozenset(exclude or ()))
    if key in idx.memo:
        return idx.memo[key]
    ref = _suggest(grams, idx, category, kind, sector, exclude)
    if len(idx.memo) < 50000:
        idx.memo[key] = ref
    return ref


def _suggest(grams: set[str], idx: Index, category: str | None, kind: str | None, sector: str | None,
             exclude: set[str] | None) -> Ref | None:
    info = category_info()
    if category:
        cats = [category]
    elif kind:
        cats = [code for code, (_, k, _) in info.items() if k == kind]
    else:
        cats = idx.postings.categories
    score: dict[int, float] = defaultdict(float)
    # the rarest bigrams carry the topic; very common ones ("合格", "满意") only add noise and time
    ranked = sorted((g for g in grams if g in idx.idf), key=lambda g: -idx.idf[g])[:MAX_GRAMS]
    for cat in cats:
        for g in ranked:
            posting = idx.postings.get(cat, g)
            if len(posting) > MAX_POSTING and g is not ranked[0]:
                continue
            w = idx.idf[g]
            for i in posting[:MAX_POSTING * 4]:
                score[i] += w
    best: tuple | None = None
    for i, s in score.items():
        r = idx.refs[i]
        if exclude and r.name in exclude:
            continue
        bonus = (0.5 if r.value_kind == "定量" else 0) + (0.3 if r.typical and r.typical != "-" else 0) + \
            (0.3 if sector and r.sector == sector else 0) + (0.2 if r.sector is None else 0)
        rank = (s + bonus, -len(r.name), r.id)
        if best is None or rank > best[0]:
            best = (rank, r)
    if best is None:
        for cat in cats:
            if cat in idx.fallback:
                return idx.fallback[cat]
        return None
    return best[1]


# --- rewrites a unit can adopt ---------------------------------------------------------------
def project_type_of(project_name: str, idx: Index, sector: str | None) -> tuple[str, str] | None:
    """(id, name) of the project type whose name or a keyword is written in the project name,
    within the project's sector when it is known; the longest such term wins, and a tie between
    types says nothing. This only decides where a rewrite comes from; the recommender has its
    own, fuller inference."""
    text = _norm_name(project_name)
    if not text:
        return None
    best: list[tuple[int, str, str]] = []
    for pid, name, keywords, sec in idx.types:
        if sector and sec and sec != sector:
            continue
        hit = max((len(k) for k in (name, *keywords) if len(k) >= 2 and _norm_name(k) in text), default=0)
        if hit:
            best.append((hit, pid, name))
    if not best:
        return None
    best.sort(reverse=True)
    if len(best) > 1 and best[1][0] == best[0][0] and best[1][1] != best[0][1]:
        return None
    return best[0][1], best[0][2]


def topic_grams(text: str) -> set[str]:
    """The bigrams that carry what a row is about: the measure ("合格率", "人数"), vague words,
    verbs and category words removed, so 培训合格率 and 培训考核合格率 are both about 培训(考核)."""
    topic = re.sub(lexicon()["measure_suffix"], "", _norm_name(text))
    for w in _strip_words():
        topic = topic.replace(w, " ")
    return {b for part in topic.split() for b in _bigrams(part)}


def concept_share(grams: set[str], ref: Ref, idx: Index) -> float:
    """Share of the row's topic (weighted by rarity) that the library indicator's name keeps."""
    if not grams:
        return 0.0
    total = sum(idx.idf.get(g, 1.0) for g in grams)
    mine = _bigrams(ref.name) | {b for s in ref.synonyms for b in _bigrams(s)}
    return sum(idx.idf.get(g, 1.0) for g in grams & mine) / total


def concept_kept(grams: set[str], ref: Ref, idx: Index) -> float:
    """Share of the library indicator's own topic that is the row's: low when the indicator is
    mostly about something else (学生受益情况 → 学生营养健康监测覆盖率 shares only 学生)."""
    theirs = topic_grams(ref.name)
    if not theirs:
        return 0.0
    total = sum(idx.idf.get(g, 1.0) for g in theirs)
    return sum(idx.idf.get(g, 1.0) for g in theirs & grams) / total


def rewrite_candidates(text: str, idx: Index, category: str, sector: str | None, ptype: str | None,
                       min_share: float, min_kept: float = 0.0) -> list[tuple[str, Ref, float]]:
    """Library indicators of ``category`` that keep the row's concept and carry a quantified
    value, grouped by where they come from: the project type, else the sector, else the general
    set; best first within each group."""
    grams = topic_grams(text)
    if not grams:
        return []
    seen: set[int] = set()
    for g in grams:
        seen.update(idx.postings.get(category, g)[:MAX_POSTING * 4])
    tiers: dict[str, list[tuple[float, Ref]]] = {"project_type": [], "sector": [], "general": []}
    for i in seen:
        r = idx.refs[i]
        if r.value_text() is None:
            continue
        share = concept_share(grams, r, idx)
        if share < min_share or concept_kept(grams, r, idx) < min_kept:
            continue
        if ptype and ptype in r.project_types:
            tier = "project_type"
        elif r.sector is None:
            tier = "general"
        elif sector and r.sector == sector:
            tier = "sector"
        else:
            continue
        tiers[tier].append((share, r))
    out = []
    for tier in ("project_type", "sector", "general"):
        for share, r in sorted(tiers[tier], key=lambda t: (-t[0], len(t[1].name), t[1].id)):
            out.append((tier, r, share))
    return out
