"""The search index: built once per library version from a store snapshot, immutable afterwards.

Matching, in the order a query goes through it:

1. **graph context** - project types, fields, sectors and categories named in the query (by full
   name, by one of a project type's keywords, or by pinyin) are recognised first. Their names are
   taken out of the text that is matched against indicator names, and indicators attached to them
   get a boost: the indicator of the project type the user named outranks a look-alike elsewhere.
2. **words** - jieba segmentation with a dictionary made of the library's own names, synonyms and
   keywords (培训人次, 危房改造 stay one term), expanded through search/data/synonyms.yaml.
3. **character n-grams** - bigrams and single characters, so partial and re-ordered wording still
   matches (this is all Neo4j's cjk analyzer does).
4. **pinyin** - full pinyin and initials of every name, synonym and project type, matched as
   substrings aligned to syllables ("xsmyd", "xueshengmanyidu", "manyidu").
5. **typos** - when the words leave the query poorly covered, rapidfuzz compares it with every
   name (characters) or every pinyin string.

Scores are normalised so that a name answering the whole query scores about 1; graph boosts and an
exact-name bonus are added on top. Every hit carries a highlight and the reasons it matched."""
from __future__ import annotations

import heapq
import math
import os
import re
from bisect import bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable

from rapidfuzz import fuzz, process

from engine.library import BadQuery
from graph.store import Node
from ontology.nodes import (APPLIES_TO, CATEGORY, FIELD, IN_CATEGORY, IN_FIELD, IN_SECTOR, INDICATOR,
                            LEVEL1, PART_OF, PROJECT_TYPE, SECTOR)

from .text import (bigrams, initials_of, is_cjk, load_stopwords, load_synonyms, looks_like_pinyin,
                   new_tokenizer, syllables, unigrams)

# field weights: a term in the name says more than the same term in a synonym or the definition
W_NAME_FULL, W_NAME_WORD, W_NAME_BI, W_NAME_UNI = 3.5, 3.0, 1.5, 0.4
W_SYN_WORD, W_SYN_BI, W_SYN_UNI = 2.2, 1.0, 0.25
# query-side weight per term kind and the best field weight a doc can offer for it (normaliser)
Q_WEIGHT = {"w": 1.0, "b": 0.5, "u": 0.15}
Q_MAX = {"w": W_NAME_WORD, "b": W_NAME_BI, "u": W_NAME_UNI}
EXPANSION = 0.75        # a synonym found instead of the query's own word
# graph boosts (added to a text score of about 1 for a full match)
B_PT_NAMED, B_PT_KEYWORD, B_FIELD, B_SECTOR, B_CATEGORY = 1.0, 0.25, 0.2, 0.2, 0.1
MAX_QUERY = 200
# memoised query results per index (ZHIBIAO_SEARCH_RESULT_CACHE=0 turns it off, e.g. to measure)
RESULT_CACHE = int(os.environ.get("ZHIBIAO_SEARCH_RESULT_CACHE", "4096"))
FACET_TOP = 20


@dataclass(slots=True)
class Doc:
    idx: int
    id: str
    name: str
    synonyms: tuple[str, ...]
    category: str | None
    category_name: str | None
    level1: str | None
    level1_name: str | None
    kind: str | None
    sector_id: str | None
    sector_name: str | None
    field_id: str | None
    field_name: str | None
    pts: tuple[str, ...]
    pt_names: tuple[str, ...]
    props: dict[str, Any]

    @property
    def sector_code(self) -> str | None:
        return self.sector_id.removeprefix("SEC-") if self.sector_id else None


@dataclass(slots=True)
class Ctx:
    """A vocabulary node a query can name: project type, field, sector or category."""
    id: str
    label: str
    name: str
    keywords: tuple[str, ...]
    docs: frozenset[int]
    sector_id: str | None = None
    parent: str | None = None


@dataclass(slots=True)
class PyEntry:
    """A string whose pinyin is searchable, with what it stands for."""
    text: str
    syl: list[str]
    full_starts: list[int]  # offset of each syllable in the joined full pinyin
    docs: list[tuple[int, str]] = field(default_factory=list)  # (doc, "name"|"synonym")
    ctx: list[str] = field(default_factory=list)


@dataclass
class Interpretation:
    text: str
    remaining: str
    pinyin: bool
    project_types: list[str]
    keyword_project_types: list[str]
    fields: list[str]
    sectors: list[str]
    categories: list[str]
    expansions: dict[str, list[str]]
    fuzzy: bool = False

    def to_dict(self, index: "SearchIndex") -> dict[str, Any]:
        name = lambda i: index.ctx[i].name  # noqa: E731
        return {"text": self.text, "pinyin": self.pinyin, "fuzzy": self.fuzzy,
                "project_types": [name(i) for i in self.project_types],
                "keyword_project_types": [name(i) for i in self.keyword_project_types][:10],
                "fields": [name(i) for i in self.fields], "sectors": [name(i) for i in self.sectors],
                "categories": [name(i) for i in self.categories], "expansions": self.expansions}


class SearchIndex:
    """Everything a query needs, precomputed from one snapshot; read-only once built, so any
    number of threads may query it while a newer one is being built."""

    def __init__(self, version: int, nodes: Iterable[Node]):
        import time
        t0 = time.perf_counter()
        self.version = version
        nodes = list(nodes)
        byid = {n.id: n for n in nodes}
        self.stopwords = load_stopwords()
        groups, self.colloquial = load_synonyms()
        self.synonyms: dict[str, list[str]] = defaultdict(list)
        for g in groups:
            for w in g:
                self.synonyms[w] += [x for x in g if x != w and x not in self.synonyms[w]]

        # --- documents: active indicators with their graph neighbourhood -----------------
        self.docs: list[Doc] = []
        for n in sorted((n for n in nodes if n.label == INDICATOR), key=lambda n: n.id):
            if n.props.get("status", "active") != "active":
                continue
            e: dict[str, list[str]] = defaultdict(list)
            for typ, dst in n.edges:
                e[typ].append(dst)
            cat = (e.get(IN_CATEGORY) or [None])[0]
            catn = byid.get(cat) if cat else None
            l1 = dict(catn.edges).get(PART_OF) if catn else None
            sec = (e.get(IN_SECTOR) or [None])[0]
            fld = (e.get(IN_FIELD) or [None])[0]
            pts = tuple(sorted(e.get(APPLIES_TO, [])))
            nm = lambda i: byid[i].props.get("name") if i in byid else None  # noqa: E731
            self.docs.append(Doc(len(self.docs), n.id, n.props.get("name") or n.id,
                                 tuple(n.props.get("synonyms") or ()), cat, nm(cat) if cat else None,
                                 l1, nm(l1) if l1 else None, catn.props.get("kind") if catn else None,
                                 sec, nm(sec) if sec else None, fld, nm(fld) if fld else None,
                                 pts, tuple(nm(p) or p for p in pts), n.props))
        self.by_id = {d.id: d for d in self.docs}

        # --- vocabulary nodes the query can name -------------------------------------------
        members: dict[str, set[int]] = defaultdict(set)
        for d in self.docs:
            for key in (d.category, d.level1, d.sector_id, d.field_id, *d.pts):
                if key:
                    members[key].add(d.idx)
        self.ctx: dict[str, Ctx] = {}
        for n in nodes:
            if n.label in (PROJECT_TYPE, FIELD, SECTOR, CATEGORY, LEVEL1):
                ed = dict(n.edges)
                self.ctx[n.id] = Ctx(n.id, n.label, n.props.get("name") or n.id,
                                     tuple(k for k in n.props.get("keywords") or () if len(k) >= 2),
                                     frozenset(members.get(n.id, ())),
                                     ed.get(IN_SECTOR) or (n.id if n.label == SECTOR else None),
                                     ed.get(PART_OF))
        self.ctx_by_name: dict[str, list[str]] = defaultdict(list)
        self.pts_by_keyword: dict[str, list[str]] = defaultdict(list)
        for c in self.ctx.values():
            if c.label == FIELD:  # fields know their sector through PART_OF
                c.sector_id = c.parent
            if len(c.name) >= 2:
                self.ctx_by_name[c.name].append(c.id)
            if c.label == PROJECT_TYPE:
                for k in c.keywords:
                    self.pts_by_keyword[k].append(c.id)
        self._ctx_maxlen = max((len(k) for k in list(self.ctx_by_name) + list(self.pts_by_keyword)), default=2)
        self.category_order = {n.id: (self._l1_order(byid, n), n.props.get("order", 0))
                               for n in nodes if n.label == CATEGORY}
        self.categories = {n.id: n for n in nodes if n.label in (CATEGORY, LEVEL1)}

        # --- segmentation dictionary from the library's own terms ---------------------------
        lex: set[str] = set()
        for d in self.docs:
            lex.add(d.name)
            lex.update(d.synonyms)
        for c in self.ctx.values():
            lex.add(c.name)
            lex.update(c.keywords)
        for g in groups:
            lex.update(g)
        for k, v in self.colloquial.items():
            lex.add(k)
            lex.update(v)
        self.lexicon = lex
        self._tokenizer = new_tokenizer(lex)

        # --- inverted index: term -> {doc: weight} ------------------------------------------
        raw: dict[str, dict[int, float]] = defaultdict(dict)

        def put(term: str, doc: int, w: float) -> None:
            p = raw[term]
            if w > p.get(doc, 0.0):
                p[doc] = w
        for d in self.docs:
            put("w" + d.name, d.idx, W_NAME_FULL)
            for w in self._words(d.name):
                put("w" + w, d.idx, W_NAME_WORD)
            for b in bigrams(d.name):
                put("b" + b, d.idx, W_NAME_BI)
            for u in unigrams(d.name):
                put("u" + u, d.idx, W_NAME_UNI)
            for s in d.synonyms:
                put("w" + s, d.idx, W_SYN_WORD)
                for w in self._words(s):
                    put("w" + w, d.idx, W_SYN_WORD)
                for b in bigrams(s):
                    put("b" + b, d.idx, W_SYN_BI)
                for u in unigrams(s):
                    put("u" + u, d.idx, W_SYN_UNI)
        n_docs = max(1, len(self.docs))
        self.idf_max = math.log(1 + n_docs)
        self.idf: dict[str, float] = {}
        self.postings: dict[str, dict[int, float]] = {}
        for term, p in raw.items():
            idf = math.log(1 + n_docs / len(p))
            self.idf[term] = idf
            self.postings[term] = {d: w * idf for d, w in p.items()}
        self.names = [d.name for d in self.docs]

        # --- pinyin of names, synonyms and vocabulary nodes ---------------------------------
        entries: dict[str, PyEntry] = {}

        def entry(text: str) -> PyEntry:
            e = entries.get(text)
            if e is None:
                syl = list(syllables(text))
                starts, pos = [], 0
                for s in syl:
                    starts.append(pos)
                    pos += len(s)
                e = entries[text] = PyEntry(text, syl, starts)
            return e
        for d in self.docs:
            entry(d.name).docs.append((d.idx, "name"))
            for s in d.synonyms:
                entry(s).docs.append((d.idx, "synonym"))
        for c in self.ctx.values():
            if c.label in (PROJECT_TYPE, FIELD, SECTOR):
                entry(c.name).ctx.append(c.id)
        self.py_entries = list(entries.values())
        self.py_initials = [initials_of(e.syl) for e in self.py_entries]
        self.py_full = ["".join(e.syl) for e in self.py_entries]
        # all strings concatenated: one C-speed regex scan finds every occurrence
        self._ini_blob, self._ini_offsets = self._blob(self.py_initials)
        self._full_blob, self._full_offsets = self._blob(self.py_full)
        self._results: dict[tuple, dict[str, Any]] = {}
        self.build_seconds = time.perf_counter() - t0

    # --- pickling: the jieba tokenizer holds a lock; it is rebuilt from the lexicon on load --
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_tokenizer"] = None
        state["_results"] = {}
        state["_word_memo"] = {}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    @property
    def tokenizer(self):
        tk = self._tokenizer
        if tk is None:
            tk = self._tokenizer = new_tokenizer(self.lexicon)
        return tk

    # --- helpers -------------------------------------------------------------------------
    @staticmethod
    def _l1_order(byid: dict[str, Node], n: Node) -> int:
        parent = byid.get(dict(n.edges).get(PART_OF, ""))
        return parent.props.get("order", 0) if parent else 99

    @staticmethod
    def _blob(strings: list[str]) -> tuple[str, list[int]]:
        offsets, pos = [], 0
        for s in strings:
            offsets.append(pos)
            pos += len(s) + 1
        return "\x00".join(strings), offsets

    def _words(self, text: str) -> list[str]:
        memo = self.__dict__.setdefault("_word_memo", {})
        words = memo.get(text)
        if words is None:
            words = [w for w in self.tokenizer.lcut_for_search(text) if w.strip() and any(is_cjk(c) for c in w)]
            if len(memo) < 20_000:  # queries repeat their segmentation several times per search
                memo[text] = words
        return list(words)

    def segment(self, text: str) -> list[str]:
        """Words of ``text`` with the library dictionary, stop words removed."""
        return [w for w in self._words(text) if w not in self.stopwords]

    # --- filters ---------------------------------------------------------------------------
    def resolve(self, label: str, text: str, sector: str | None = None) -> set[str]:
        """Ids of the vocabulary nodes a filter value names (id, code, name or short name).

        A project type or field name can exist in several sectors; all of them are meant."""
        t = text.strip()
        labels = (CATEGORY, LEVEL1) if label == CATEGORY else (label,)
        cands = [c for c in self.ctx.values() if c.label in labels]
        if sector:
            cands = [c for c in cands if c.sector_id == sector]
        out = set()
        for c in cands:
            node = self.categories.get(c.id)
            extra = (node.props.get("short"), node.props.get("code")) if node else ()
            if t in (c.id, c.name, *extra) or (c.label == SECTOR and t == c.id.removeprefix("SEC-")):
                out.add(c.id)
        if out:
            return out
        what = {SECTOR: "行业", FIELD: "领域", PROJECT_TYPE: "项目类型", CATEGORY: "指标类别"}.get(label, label)
        choices = sorted({c.name for c in cands})
        shown = "、".join(choices[:40]) + ("等" if len(choices) > 40 else "")
        raise BadQuery(f"unknown_{label.lower()}", f"未知的{what}「{t}」；可选：{shown}", choices)

    def filter_ids(self, sector: str | None = None, field: str | None = None,
                   project_type: str | None = None, category: str | None = None,
                   value_kind: str | None = None) -> dict[str, set[str] | str]:
        """Resolve user filter values once; BadQuery (400) names the valid choices."""
        f: dict[str, set[str] | str] = {}
        sec = None
        if sector:
            f["sector"] = self.resolve(SECTOR, sector)
            sec = next(iter(f["sector"])) if len(f["sector"]) == 1 else None
        if field:
            f["field"] = self.resolve(FIELD, field, sec)
        if project_type:
            f["project_type"] = self.resolve(PROJECT_TYPE, project_type, sec)
        if category:
            f["category"] = self.resolve(CATEGORY, category)
        if value_kind:
            kinds = sorted({d.props.get("value_kind") for d in self.docs if d.props.get("value_kind")})
            if value_kind not in kinds:
                raise BadQuery("unknown_value_kind", f"未知的指标值类型「{value_kind}」；可选：{'、'.join(kinds)}", kinds)
            f["value_kind"] = value_kind
        return f

    def _passes(self, d: Doc, f: dict) -> bool:
        if "sector" in f and d.sector_id not in f["sector"]:
            return False
        if "field" in f and d.field_id not in f["field"]:
            return False
        if "project_type" in f and not f["project_type"].intersection(d.pts):
            return False
        if "category" in f and d.category not in f["category"] and d.level1 not in f["category"]:
            return False
        if "value_kind" in f and d.props.get("value_kind") != f["value_kind"]:
            return False
        return True

    # --- query understanding -----------------------------------------------------------------
    def interpret(self, text: str) -> Interpretation:
        """Find the graph nodes the query names and the text left to match against names."""
        q = text.strip()
        pinyin = looks_like_pinyin(q)
        it = Interpretation(q, q, pinyin, [], [], [], [], [], {})
        if pinyin:
            return it
        rem = q
        named: list[tuple[int, str, Ctx]] = []
        kw_pts: list[str] = []
        for i in range(len(q)):
            for j in range(i + 2, min(len(q), i + self._ctx_maxlen) + 1):
                sub = q[i:j]
                for cid in self.ctx_by_name.get(sub, ()):
                    named.append((len(sub), cid, self.ctx[cid]))
                kw_pts += self.pts_by_keyword.get(sub, ())
        # longest names first, and a name inside a longer named one is not a separate mention
        named = sorted({cid: (n, cid, c) for n, cid, c in named}.values(), key=lambda t: (-t[0], t[1]))
        spans: list[str] = []
        for _, _, c in named:
            if any(c.name in s for s in spans if s != c.name):
                continue
            spans.append(c.name)
            {PROJECT_TYPE: it.project_types, FIELD: it.fields, SECTOR: it.sectors,
             CATEGORY: it.categories, LEVEL1: it.categories}[c.label].append(c.id)
        it.keyword_project_types = [p for p in dict.fromkeys(kw_pts) if p not in it.project_types]
        for s in sorted(set(spans), key=len, reverse=True):
            cand = rem.replace(s, " ")
            if len([ch for ch in cand if is_cjk(ch)]) >= 2:
                rem = cand
        it.remaining = re.sub(r"\s+", " ", rem).strip() or q
        return it

    def _slots(self, text: str, it: Interpretation) -> list[tuple[str, list[tuple[str, float]]]]:
        """Query terms, each with its alternatives (itself, synonyms, colloquial equivalents)."""
        slots: list[tuple[str, list[tuple[str, float]]]] = []
        for phrase in sorted(self.colloquial, key=len, reverse=True):
            if phrase in text:
                targets = self.colloquial[phrase]
                it.expansions.setdefault(phrase, list(targets))
                # the colloquial phrase itself is not library wording: match its equivalents instead
                text = text.replace(phrase, " " + " ".join(targets) + " ")
        words = self.segment(text) or self._words(text)
        if len(unigrams(text)) == 1:
            words = []  # one character: match it anywhere, not only where jieba made it a word
        seen = set()
        for w in words:
            if w in seen:
                continue
            seen.add(w)
            alts = [("w" + w, 1.0)] + [("w" + s, EXPANSION) for s in self.synonyms.get(w, [])]
            if len(alts) > 1:
                it.expansions.setdefault(w, self.synonyms[w])
            slots.append(("w", alts))
        # bigrams inside a known query word add nothing the word does not (and cost the most);
        # bigrams across word boundaries and inside unknown words keep order and typos matching
        covered = {b for w in seen if "w" + w in self.postings for b in bigrams(w)}
        for b in dict.fromkeys(bigrams(text)):
            if b not in covered:
                slots.append(("b", [("b" + b, 1.0)]))
        if len(unigrams(text)) <= 2:  # single characters only matter for very short queries
            for u in dict.fromkeys(unigrams(text)):
                if u not in self.stopwords:
                    slots.append(("u", [("u" + u, 1.0)]))
        return slots

    def _text_scores(self, text: str, it: Interpretation) -> tuple[dict[int, float], float]:
        """Normalised word/n-gram scores of every doc that shares a term with ``text``.

        The hot loop of a query: plain dicts with bound ``get`` methods, the first posting of a
        slot copied by a comprehension (C speed), synonyms merged by maximum."""
        acc: dict[int, float] = {}
        acc_get = acc.get
        postings, idf, idf_max = self.postings, self.idf, self.idf_max
        norm = 0.0
        for kind, alts in self._slots(text, it):
            qw = Q_WEIGHT[kind]
            term0 = alts[0][0]
            idf_q = idf.get(term0, idf_max)
            norm += qw * Q_MAX[kind] * idf_q
            best: dict[int, float] | None = None
            for term, factor in alts:
                p = postings.get(term)
                if not p:
                    continue
                # a synonym counts with the query word's own weight, not its rarity
                f = qw * factor * (idf_q / idf[term] if term != term0 else 1.0)
                if best is None:
                    best = {d: f * w for d, w in p.items()}
                    continue
                best_get = best.get
                for d, w in p.items():
                    v = f * w
                    if v > best_get(d, 0.0):
                        best[d] = v
            if best:
                for d, v in best.items():
                    acc[d] = acc_get(d, 0.0) + v
        if norm <= 0:
            return {}, 0.0
        inv = 1.0 / norm
        return {d: v * inv for d, v in acc.items()}, norm

    # pinyin ---------------------------------------------------------------------------------
    def _pinyin_matches(self, token: str) -> dict[int, tuple[float, int, int, str]]:
        """Entry -> (score, first char, end char, 'initials'|'full') for one pinyin token."""
        out: dict[int, tuple[float, int, int, str]] = {}
        if len(token) < 2:
            return out
        for m in re.finditer(re.escape(token), self._ini_blob):
            e = bisect_right(self._ini_offsets, m.start()) - 1
            start = m.start() - self._ini_offsets[e]
            n = len(self.py_entries[e].syl)
            cover = len(token) / n
            score = 0.55 + 0.45 * cover + (0.05 if start == 0 else 0.0)
            if score > out.get(e, (0,))[0]:
                out[e] = (score, start, start + len(token), "initials")
        if len(token) >= 3:
            for m in re.finditer(re.escape(token), self._full_blob):
                e = bisect_right(self._full_offsets, m.start()) - 1
                ent = self.py_entries[e]
                off = m.start() - self._full_offsets[e]
                starts = ent.full_starts
                i = bisect_right(starts, off) - 1
                if i < 0 or starts[i] != off:
                    continue  # must begin on a syllable
                end_off = off + len(token)
                j = bisect_right(starts, end_off - 1) - 1  # syllable holding the last letter
                full_len = len(self.py_full[e])
                complete = end_off == full_len or (j + 1 < len(starts) and starts[j + 1] == end_off)
                chars = j - i + 1
                cover = chars / len(ent.syl)
                score = 0.6 + 0.45 * cover * (1.0 if complete else 0.9) + (0.05 if off == 0 else 0.0)
                if score > out.get(e, (0,))[0]:
                    out[e] = (score, i, j + 1, "full")
        return out

    def _pinyin_scores(self, q: str, reasons: dict[int, list[str]],
                       spans: dict[int, list[tuple[int, int]]]) -> tuple[dict[int, float], dict[str, float]]:
        """Doc scores and named vocabulary nodes for a query typed in pinyin or initials."""
        tokens = [t for t in re.split(r"[\s']+", q.lower()) if t]
        joined = "".join(tokens)
        token_sets = [[joined]] if len(tokens) == 1 else [[joined], tokens]
        best_docs: dict[int, float] = {}
        best_ctx: dict[str, float] = {}
        for toks in token_sets:
            docs: dict[int, float] = defaultdict(float)
            ctx: dict[str, float] = defaultdict(float)
            for t in toks:
                tok_best: dict[int, float] = {}  # a doc counts once per token (name or synonym)
                for e, (score, a, b, how) in self._pinyin_matches(t).items():
                    ent = self.py_entries[e]
                    s = score / len(toks)
                    for d, where in ent.docs:
                        v = s * (1.0 if where == "name" else 0.9)
                        if v > tok_best.get(d, 0.0):
                            tok_best[d] = v
                        label = "拼音首字母" if how == "initials" else "全拼"
                        reasons[d].append(f"{label}「{t}」→{'名称' if where == 'name' else '同义词'}「{ent.text}」")
                        if where == "name":
                            spans[d].append((a, b))
                    for c in ent.ctx:
                        ctx[c] = max(ctx[c], s)
                for d, v in tok_best.items():
                    docs[d] += v
            for d, v in docs.items():
                best_docs[d] = max(best_docs.get(d, 0.0), v)
            for c, v in ctx.items():
                best_ctx[c] = max(best_ctx.get(c, 0.0), v)
        return best_docs, best_ctx

    def _fuzzy(self, text: str, pinyin: bool, limit: int = 40) -> dict[int, tuple[float, str]]:
        """Typo tolerance: names (or their pinyin) within edit distance of the query."""
        out: dict[int, tuple[float, str]] = {}
        if pinyin:
            q = re.sub(r"[\s']+", "", text.lower())
            if len(q) < 4:
                return out
            for choices in (self.py_full, self.py_initials):
                for _, sc, e in process.extract(q, choices, scorer=fuzz.ratio, score_cutoff=78, limit=limit):
                    ent = self.py_entries[e]
                    for d, where in ent.docs:
                        v = sc / 100 * (0.9 if where == "name" else 0.8)
                        if v > out.get(d, (0,))[0]:
                            out[d] = (v, ent.text)
            return out
        if len(text) < 3:
            return out
        # candidates share most characters with the query (a typo changes one or two): counting
        # shared characters through the unigram postings avoids comparing with every name
        chars = set(unigrams(text))
        need = max(2, math.ceil(0.5 * len(chars)))
        shared: dict[int, int] = defaultdict(int)
        for c in chars:
            p = self.postings.get("u" + c)
            if p and len(p) < len(self.docs) * 0.2:  # very common characters add nothing but work
                for d in p:
                    shared[d] += 1
            elif p:
                need = max(2, need - 1)
        names: dict[str, list[int]] = defaultdict(list)
        for d, n in shared.items():
            if n >= need:
                names[self.docs[d].name].append(d)
        if not names:
            return out
        choices = list(names)
        for scorer, cutoff, factor in ((fuzz.ratio, 66, 1.0), (fuzz.partial_ratio, 75, 0.92)):
            for name, sc, _ in process.extract(text, choices, scorer=scorer, score_cutoff=cutoff, limit=limit):
                v = sc / 100 * factor
                for d in names[name]:
                    if v > out.get(d, (0,))[0]:
                        out[d] = (v, name)
        return out

    # --- the query ------------------------------------------------------------------------------
    def score(self, text: str) -> tuple[dict[int, float], Interpretation, dict[int, list[str]],
                                        dict[int, list[tuple[int, int]]]]:
        """Scores of every matching doc (no filters, no cut-off), with reasons and pinyin spans."""
        it = self.interpret(text)
        reasons: dict[int, list[str]] = defaultdict(list)
        spans: dict[int, list[tuple[int, int]]] = defaultdict(list)
        scores: dict[int, float] = {}
        if it.pinyin:
            scores, ctx = self._pinyin_scores(it.text, reasons, spans)
            for cid, v in ctx.items():
                c = self.ctx[cid]
                if c.label == PROJECT_TYPE and v >= 0.9:
                    it.project_types.append(cid)
                elif c.label == SECTOR and v >= 0.9:
                    it.sectors.append(cid)
                elif c.label == FIELD and v >= 0.9:
                    it.fields.append(cid)
            if not scores or max(scores.values()) < 0.75:
                it.fuzzy = True
                for d, (v, name) in self._fuzzy(it.text, True).items():
                    if v > scores.get(d, 0.0):
                        scores[d] = v
                        reasons[d].append(f"拼音容错：「{it.text}」≈「{name}」")
        # graph context: docs under named nodes get the strongest applicable boost (+0.05 for
        # each further one); membership tests on small frozensets, not loops over the named nodes'
        # (possibly thousands of) docs
        named = [(self.ctx[cid].docs, b) for ids, b in (
            (it.project_types, B_PT_NAMED), (it.keyword_project_types, B_PT_KEYWORD), (it.fields, B_FIELD),
            (it.sectors, B_SECTOR), (it.categories, B_CATEGORY)) for cid in ids]

        def boost(d: int) -> float:
            out = 0.0
            for docs, w in named:
                if d in docs:
                    out = max(out, w) + (0.05 if out else 0.0)
            return out
        if not it.pinyin:
            rem = it.remaining
            r = rem.replace(" ", "")
            text_scores, norm = self._text_scores(rem, it)
            top_text = max(text_scores.values(), default=0.0)
            # bonuses add at most ~0.6: far weaker docs cannot reach the first pages anyway
            floor = max(0.2 * top_text, top_text - 0.7)
            lr = len(r)
            names, docs = self.names, self.docs
            if named:
                cands = [(d, v, b) for d, v in text_scores.items() for b in (boost(d),) if v + b >= floor]
            else:
                cands = [(d, v, 0.0) for d, v in text_scores.items() if v >= floor]
            for d, v, bst in cands:
                name = names[d]
                if r in name:
                    bonus = 0.5 if name == r else 0.15 if name.startswith(r) else 0.1
                elif r in docs[d].synonyms:
                    bonus = 0.5
                else:
                    bonus = 0.0
                # shorter names that the query covers are the closer answers
                extra = len(name) - lr
                bonus += 0.1 / (1 + 0.15 * extra) if extra > 0 else 0.1
                scores[d] = v + bonus + bst
            best = max(scores.values(), default=0.0)
            if best < 0.8 + (B_PT_NAMED if it.project_types else 0.0) and len(rem) >= 3:
                it.fuzzy = True
                for d, (v, name) in self._fuzzy(r, False).items():
                    v += boost(d) if named else 0.0
                    if v > scores.get(d, 0.0):
                        scores[d] = v
                        reasons[d].append(f"容错匹配：「{rem}」≈「{name}」")
        else:
            for d in scores:
                scores[d] += boost(d) if named else 0.0
        # a query made only of names of project types, fields or sectors (or a pinyin query
        # naming one) lists their indicators
        if it.pinyin or self._only_names(it):
            listed = it.project_types + it.fields + it.sectors
            for cid in listed or it.categories:
                base = {PROJECT_TYPE: 0.3, FIELD: 0.15, SECTOR: 0.15}.get(self.ctx[cid].label, 0.1)
                for d in self.ctx[cid].docs:
                    if d not in scores:
                        scores[d] = base + boost(d)
        return scores, it, reasons, spans

    def _only_names(self, it: Interpretation) -> bool:
        rest = it.text
        for cid in it.project_types + it.fields + it.sectors + it.categories:
            rest = rest.replace(self.ctx[cid].name, "")
        return not [c for c in rest if is_cjk(c) and c not in self.stopwords]

    def search(self, text: str, filters: dict | None = None, limit: int = 10, offset: int = 0,
               facets: bool = True, cache: bool = True) -> dict[str, Any]:
        """Ranked, filtered, paginated hits with facet counts over all filtered matches.

        Results are memoised per index (the index never changes, so a cached answer is exact);
        callers get a fresh top-level dict and hit dicts, so mutating them does not corrupt it."""
        key = (text, repr(sorted((filters or {}).items())), limit, offset, facets)
        cache = cache and RESULT_CACHE > 0
        if cache:
            hit = self._results.get(key)
            if hit is not None:
                return {**hit, "hits": [dict(h) for h in hit["hits"]]}
        res = self._search(text, filters, limit, offset, facets)
        if cache:
            if len(self._results) >= RESULT_CACHE:
                try:  # FIFO eviction; another thread may be evicting at the same moment
                    self._results.pop(next(iter(self._results)))
                except (KeyError, RuntimeError, StopIteration):
                    pass
            self._results[key] = res
            return {**res, "hits": [dict(h) for h in res["hits"]]}
        return res

    def _search(self, text: str, filters: dict | None, limit: int, offset: int, facets: bool) -> dict[str, Any]:
        q = (text or "").strip()
        if not q:
            raise BadQuery("empty_query", "查询词不能为空：请输入指标名称、关键词、拼音或拼音首字母，如 学生满意度、xsmyd")
        if len(q) > MAX_QUERY:
            raise BadQuery("query_too_long", f"查询词过长（{len(q)} 字），请不超过 {MAX_QUERY} 字")
        filters = filters or {}
        scores, it, reasons, spans = self.score(q)
        if filters:
            scores = {d: s for d, s in scores.items() if self._passes(self.docs[d], filters)}
        # weak partial matches are dropped relative to the best hit the user can see
        cut = max(0.12, 0.3 * max(scores.values(), default=0.0))
        kept = [(s, d) for d, s in scores.items() if s >= cut]
        total = len(kept)
        top = heapq.nsmallest(offset + limit, kept, key=lambda t: (-t[0], len(self.docs[t[1]].name), self.docs[t[1]].id))
        page = top[offset:offset + limit]
        out: dict[str, Any] = {"total": total, "offset": offset, "limit": limit, "library_version": self.version,
                               "query": it.to_dict(self),
                               "hits": []}
        words = None if it.pinyin else sorted(set(self.segment(it.remaining) or self._words(it.remaining)),
                                              key=len, reverse=True)
        out["hits"] = [self._hit(d, s, it, reasons.get(d, []), spans.get(d, []), words) for s, d in page]
        if facets:
            out["facets"] = self._facets(d for _, d in kept)
        return out

    # --- hits -------------------------------------------------------------------------------------
    def _hit(self, d: int, score: float, it: Interpretation, reasons: list[str],
             spans: list[tuple[int, int]], words: list[str] | None = None) -> dict[str, Any]:
        doc = self.docs[d]
        p = doc.props
        why = list(dict.fromkeys(reasons))[:3]
        mask = [False] * len(doc.name)
        for a, b in spans:
            for i in range(a, min(b, len(doc.name))):
                mask[i] = True
        if not it.pinyin:
            terms = self._match_terms(it, doc, words)
            for t in terms["name"]:
                start = doc.name.find(t)
                while start >= 0:
                    for i in range(start, start + len(t)):
                        mask[i] = True
                    start = doc.name.find(t, start + 1)
            if terms["name"]:
                why.insert(0, "名称含「" + "」「".join(terms["name"][:4]) + "」")
            if terms["synonym"]:
                why.append("同义词「" + "」「".join(terms["synonym"][:3]) + "」")
            if terms["expansion"]:
                why.append("同义扩展「" + "」「".join(terms["expansion"][:3]) + "」")
            if terms["definition"] and not terms["name"]:
                why.append("指标解释含「" + "」「".join(terms["definition"][:3]) + "」")
        for cid in it.project_types:
            if cid in doc.pts:
                why.append(f"查询提到项目类型「{self.ctx[cid].name}」，本指标属于该项目类型")
        for cid in it.keyword_project_types:
            if cid in doc.pts:
                why.append(f"查询含项目类型「{self.ctx[cid].name}」的关键词")
                break
        for cid in it.fields:
            if cid == doc.field_id:
                why.append(f"查询提到领域「{self.ctx[cid].name}」")
        for cid in it.sectors:
            if cid == doc.sector_id:
                why.append(f"查询提到行业「{self.ctx[cid].name}」")
        for cid in it.categories:
            if cid in (doc.category, doc.level1):
                why.append(f"查询提到类别「{self.ctx[cid].name}」")
        return {"id": doc.id, "name": doc.name, "category": doc.category_name, "category_code": doc.category,
                "level1": doc.level1_name, "sector": doc.sector_name or "通用", "sector_code": doc.sector_code,
                "field": doc.field_name, "project_types": list(doc.pt_names), "unit": p.get("unit"),
                "value_kind": p.get("value_kind"), "direction": p.get("direction"),
                "typical_value": p.get("typical_value"), "score": round(score, 4),
                "highlight": _highlight(doc.name, mask), "why": why or ["字符近似"]}

    def _match_terms(self, it: Interpretation, doc: Doc, words: list[str] | None = None) -> dict[str, list[str]]:
        if words is None:
            words = sorted(set(self.segment(it.remaining) or self._words(it.remaining)), key=len, reverse=True)
        out: dict[str, list[str]] = {"name": [], "synonym": [], "expansion": [], "definition": []}
        covered = ""
        for w in words:
            if w in doc.name:
                if w not in covered:
                    out["name"].append(w)
                    covered += "|" + w
            elif any(w in s for s in doc.synonyms):
                out["synonym"].append(w)
            else:
                alts = self.synonyms.get(w, []) + it.expansions.get(w, [])
                hit = next((a for a in alts if a in doc.name or any(a in s for s in doc.synonyms)), None)
                if hit:
                    out["expansion"].append(f"{w}→{hit}")
                    if hit in doc.name:
                        out["name"].append(hit)
                elif w in (doc.props.get("definition") or ""):
                    out["definition"].append(w)
        for phrase, targets in it.expansions.items():
            if phrase in self.colloquial:
                for t in targets:
                    if t in doc.name:
                        out["expansion"].append(f"{phrase}→{t}")
                        out["name"].append(t)
        # bigrams not inside a matched word still explain partial matches (and get highlighted)
        for b in bigrams(it.remaining):
            if b in doc.name and not any(b in w for w in out["name"]):
                out["name"].append(b)
        return out

    def _facets(self, docs: Iterable[int]) -> dict[str, list[dict[str, Any]]]:
        sec, cat, pt, kind, l1 = Counter(), Counter(), Counter(), Counter(), Counter()
        for d in docs:
            doc = self.docs[d]
            sec[doc.sector_name or "通用"] += 1
            cat[doc.category_name or "-"] += 1
            l1[doc.level1_name or "-"] += 1
            kind[doc.props.get("value_kind") or "-"] += 1
            for n in doc.pt_names:
                pt[n] += 1
        top = lambda c: [{"value": k, "count": v} for k, v in sorted(c.items(), key=lambda t: (-t[1], t[0]))[:FACET_TOP]]  # noqa: E731
        return {"sector": top(sec), "level1": top(l1), "category": top(cat), "project_type": top(pt),
                "value_kind": top(kind)}


def _highlight(name: str, mask: list[bool]) -> str:
    out, on = [], False
    for ch, m in zip(name, mask):
        if m and not on:
            out.append("<em>")
            on = True
        elif not m and on:
            out.append("</em>")
            on = False
        out.append(ch)
    if on:
        out.append("</em>")
    return "".join(out)
