"""The search index: built once per library version from a store snapshot, immutable afterwards.

Matching, in the order a query goes through it:

1. **graph context** - project types, fields, sectors and categories named in the query (by full
   name, by one of a project type's keywords, or by pinyin) are recognised first. Their names are
   taken out of the text that is matched against indicator names, and indicators attached to them
   get a boost: the indicator of the project type the user named outranks a look-alike elsewhere.
2. **words** - jieba's search-mode segmentation with a dictionary that also holds the library's own
   names, synonyms and keywords (培训人次, 危房改造 stay one term), expanded through
   search/data/synonyms.yaml. The dictionary is stored with the index (search.text.Segmenter), so
   queries never load jieba.
3. **character n-grams** - bigrams and single characters, so partial and re-ordered wording still
   matches (this is all Neo4j's cjk analyzer does).
4. **pinyin** - full pinyin and initials of every name, synonym and project type, matched as
   substrings aligned to syllables ("xsmyd", "xueshengmanyidu", "manyidu").
5. **typos** - when the words leave the query poorly covered, rapidfuzz compares it with the names
   (characters) or every pinyin string.

Scores are normalised so that a name answering the whole query scores about 1; graph boosts and an
exact-name bonus are added on top. Every hit carries a highlight and the reasons it matched.

**Layout: contiguous numpy arrays.** Postings are one CSR structure (per term a slice of document
numbers and a one-byte field-weight code; the score is weight x idf, computed in float64 exactly as
before), terms are found through a sorted table of 64-bit string hashes, documents are columns
(fixed-width name array, category/sector/field codes, project types as CSR, the rest of each
indicator as one JSON record), and the pinyin strings are two byte blobs scanned by ``re``.
Why numpy: it is already a dependency, its arrays are flat memory that ``np.load(mmap_mode="r")``
maps straight from the cache files (no parsing, no per-object overhead, pages shared by every
process that maps the same file and paged in on use), and its vectorised operations (scatter-add
of postings, string comparison of candidate names, bincount facets) keep a query's inner loops
out of the interpreter. Python dict postings needed 6.3 KB per indicator and a pickle load per
process; this layout needs about 0.3 KB and opens in milliseconds. Nothing on disk is a pickle:
``allow_pickle=False`` everywhere, so a cache folder cannot execute code."""
from __future__ import annotations

import gc
import json
import math
import os
import re
import threading
import time
from array import array
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np

from engine.library import BadQuery
from engine.projection import project
from graph.settings import setting
from graph.store import Node
from ontology.nodes import (
    APPLIES_TO,
    CATEGORY,
    FIELD,
    IN_CATEGORY,
    IN_FIELD,
    IN_SECTOR,
    INDICATOR,
    LEVEL1,
    PART_OF,
    PROJECT_TYPE,
    SECTOR,
)

from .text import (
    HashTable,
    PinyinMemo,
    Segmenter,
    bigrams,
    build_workers,
    digests_to_hashes,
    forked_pool,
    hash_spread,
    initials_of,
    is_cjk,
    library_dictionary,
    load_stopwords,
    load_synonyms,
    looks_like_pinyin,
    run_jobs,
    syllables,
    unigrams,
)

# field weights: a term in the name says more than the same term in a synonym or the definition
W_NAME_FULL, W_NAME_WORD, W_NAME_BI, W_NAME_UNI = 3.5, 3.0, 1.5, 0.4
W_SYN_WORD, W_SYN_BI, W_SYN_UNI = 2.2, 1.0, 0.25
# one byte per posting: the code of its field weight (0 marks the exact-name/synonym lookups)
WEIGHTS = np.array([0.0, W_NAME_FULL, W_NAME_WORD, W_NAME_BI, W_NAME_UNI, W_SYN_WORD, W_SYN_BI, W_SYN_UNI])
_CODE = {w: i for i, w in enumerate(WEIGHTS.tolist()) if i}
# query-side weight per term kind and the best field weight a doc can offer for it (normaliser)
Q_WEIGHT = {"w": 1.0, "b": 0.5, "u": 0.15}
Q_MAX = {"w": W_NAME_WORD, "b": W_NAME_BI, "u": W_NAME_UNI}
EXPANSION = 0.75        # a synonym found instead of the query's own word
# graph boosts (added to a text score of about 1 for a full match)
B_PT_NAMED, B_PT_KEYWORD, B_FIELD, B_SECTOR, B_CATEGORY = 1.0, 0.25, 0.2, 0.2, 0.1
MAX_QUERY = 200
# memoised query results per index (ZHIBIAO_SEARCH_RESULT_CACHE=0 turns it off, e.g. to measure)
RESULT_CACHE = setting("ZHIBIAO_SEARCH_RESULT_CACHE")
FACET_TOP = 20
FORMAT = 1  # on-disk layout of save()/load(); a different number is rebuilt, never misread
_VOCAB_LABELS = (PROJECT_TYPE, FIELD, SECTOR, CATEGORY, LEVEL1)
_NO_ASCII = re.compile(r"[^\x00-\x7f]")


@dataclass(slots=True)
class Doc:
    """One active indicator as the index sees it; made on demand from the index columns."""
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


class Ctx:
    """A vocabulary node a query can name: project type, field, sector or category. ``docs`` (the
    numbers of its indicators) is read from the index arrays on first use."""
    __slots__ = ("id", "label", "name", "keywords", "sector_id", "parent", "code", "_index", "_docs")

    def __init__(self, id: str, label: str, name: str, keywords: tuple[str, ...], sector_id: str | None,
                 parent: str | None, code: int, index: "SearchIndex"):
        self.id, self.label, self.name, self.keywords = id, label, name, keywords
        self.sector_id, self.parent, self.code = sector_id, parent, code
        self._index = index
        self._docs: frozenset[int] | None = None

    @property
    def docs(self) -> frozenset[int]:
        if self._docs is None:
            self._docs = frozenset(self._index.ctx_doc_array(self.code).tolist())
        return self._docs


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


class DocTable:
    """``index.docs``: a read-only sequence of Doc, each made from the columns on first access
    and kept (a search page touches ten; a full scan, as the evaluation does, touches all)."""

    def __init__(self, index: "SearchIndex"):
        self._index = index
        self._made: list[Doc | None] = [None] * index.n_docs

    def __len__(self) -> int:
        return len(self._made)

    def __getitem__(self, i: int) -> Doc:
        d = self._made[i]
        if d is None:
            d = self._made[i] = self._index._make_doc(i if i >= 0 else len(self._made) + i)
        return d

    def __iter__(self) -> Iterator[Doc]:
        for i in range(len(self._made)):
            yield self[i]


class IdMap:
    """``index.by_id``: indicator id -> Doc through the hashed id table."""

    def __init__(self, index: "SearchIndex"):
        self._index = index

    def _find(self, key: object) -> int:
        if not isinstance(key, str):
            return -1
        i = self._index._ids.find(key)
        if i < 0:
            return -1
        d = int(self._index._ids.values[i])
        return d if self._index.doc_id(d) == key else -1

    def __contains__(self, key: object) -> bool:
        return self._find(key) >= 0

    def __getitem__(self, key: str) -> Doc:
        d = self._find(key)
        if d < 0:
            raise KeyError(key)
        return self._index.docs[d]

    def get(self, key: str, default: Any = None) -> Any:
        d = self._find(key)
        return default if d < 0 else self._index.docs[d]

    def __len__(self) -> int:
        return self._index.n_docs

    def __iter__(self) -> Iterator[str]:
        return (self._index.doc_id(d) for d in range(self._index.n_docs))


class IdfMap:
    """``index.idf``: term -> idf, for callers that weigh words (recommendation)."""

    def __init__(self, index: "SearchIndex"):
        self._index = index

    def get(self, term: str, default: Any = None) -> Any:
        t = self._index._term(term)
        return default if t < 0 else float(self._index._idf[t])

    def __contains__(self, term: object) -> bool:
        return isinstance(term, str) and self._index._term(term) >= 0

    def __getitem__(self, term: str) -> float:
        t = self._index._term(term)
        if t < 0:
            raise KeyError(term)
        return float(self._index._idf[t])


def _blob(strings: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """UTF-8 bytes of all strings back to back, and the offset of each (plus the end)."""
    enc = [s.encode("utf-8") for s in strings]
    offsets = np.zeros(len(enc) + 1, dtype=np.int64)
    if enc:
        np.cumsum([len(e) for e in enc], out=offsets[1:])
    return np.frombuffer(b"".join(enc), dtype=np.uint8).copy(), offsets


def _prefix_keys(blob: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """The 8 bytes starting at each position as a big-endian integer (zero-padded at the end), so
    that sorting the keys sorts the positions by the text that follows them. Read through one
    view of the bytes as overlapping big-endian 8-byte words (a stride of one byte)."""
    padded = np.concatenate([np.asarray(blob, dtype=np.uint8), np.zeros(8, dtype=np.uint8)])
    words = np.ndarray(shape=(len(padded) - 7,), dtype=">u8", buffer=padded, strides=(1,))
    return words[pos].astype(np.uint64)


def _sorted_suffixes(blob: np.ndarray, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions sorted by their 8-byte prefix, with the keys: a substring index whose lookup is two
    binary searches (plus a check of the bytes past the eighth for longer tokens) instead of a scan
    of the whole blob."""
    key = _prefix_keys(blob, pos)
    order = np.argsort(key, kind="stable")
    return key[order], pos[order].astype(np.int64, copy=False)


def _occurrences(blob: np.ndarray, keys: np.ndarray, spos: np.ndarray, token: bytes) -> np.ndarray:
    """Ascending positions (among the indexed ones) where ``token`` occurs in ``blob``."""
    head = token[:8]
    lo_key = int.from_bytes(head.ljust(8, b"\x00"), "big")
    hi_key = int.from_bytes(head.ljust(8, b"\xff"), "big")
    lo = int(keys.searchsorted(np.uint64(lo_key), side="left"))
    hi = int(keys.searchsorted(np.uint64(hi_key), side="right"))
    pos = spos[lo:hi]
    n = len(blob)
    for j in range(8, len(token)):
        if not len(pos):
            break
        inside = pos + j < n
        pos = pos[inside]
        pos = pos[np.asarray(blob[pos + j]) == token[j]]
    return np.sort(pos)


# --- building: the work per distinct text, and the array steps ---------------------------------------
# A text's terms in the order the index meets them: the text itself, its words, its bigrams, its
# single characters (term kinds 0-3; a term's first kind is also its best, as the weights fall in
# that order). The field-weight code of a kind depends on where the text is used.
_NAME_CODES = np.array([_CODE[W_NAME_FULL], _CODE[W_NAME_WORD], _CODE[W_NAME_BI], _CODE[W_NAME_UNI]],
                       dtype=np.uint64)
_SYN_CODES = np.array([_CODE[W_SYN_WORD], _CODE[W_SYN_WORD], _CODE[W_SYN_BI], _CODE[W_SYN_UNI]], dtype=np.uint64)
_HAS_CJK = re.compile(r"[\u3400-\u9fff]").search
_CJK_RUNS = re.compile(r"[\u3400-\u9fff]+").findall  # search.text.cjk_runs
_SEG_MEMO = 50_000  # blocks whose routes a build remembers (name variants share suffixes)
_CHUNK = 4_000  # texts per job: results stream back (and are numbered) while later jobs run


def _text_terms(job: dict[str, Any], lo: int, hi: int) -> tuple[str | list[str], bytes, bytes, bytes]:
    """The terms of the texts ``job["texts"][job["order"][lo:hi]]`` (in a worker process for a
    large library). The texts come sorted by their ends, so a text's suffix that is itself a
    text (学生满意度 in 县域学生满意度) was segmented just before and its route is reused (see
    Segmenter._ends); the results do not depend on the order.

    Per text: its distinct terms in order of first appearance with their kinds (see _NAME_CODES).
    Packed for the trip back to the parent: the chunk's distinct terms joined by NUL into one
    string (a list if a text itself holds a NUL) and each term's number among them (texts sorted
    by their ends share most words, bigrams and characters: one term in fifteen of a chunk is
    distinct, so the parent numbers a fifteenth of them), the kinds as bytes, the number of terms
    per text as int32."""
    seg: Segmenter = job["seg"]
    texts, order = job["texts"], job["order"]
    cut = seg.cut_for_search
    has_cjk = _HAS_CJK
    terms: list[str] = []
    kinds = bytearray()
    counts = array("i")
    fromkeys, runs_of = dict.fromkeys, _CJK_RUNS
    for i in order[lo:hi]:
        text = texts[i]
        # the text itself and its words (a CJK character, as SearchIndex._words keeps), then its
        # bigrams and characters (search.text.bigrams/unigrams); prefixes keep the three groups
        # apart, so each dedups alone
        words = fromkeys(["w" + text] + ["w" + w for w in cut(text) if has_cjk(w)])
        runs = runs_of(text)
        bis = fromkeys(["b" + r[k:k + 2] for r in runs for k in range(len(r) - 1)])
        unis = fromkeys(["u" + c for r in runs for c in r])
        terms += words
        terms += bis
        terms += unis
        nw, nb, nu = len(words), len(bis), len(unis)
        kinds += b"\x00" + b"\x01" * (nw - 1) + b"\x02" * nb + b"\x03" * nu
        counts.append(nw + nb + nu)
    distinct = fromkeys(terms)
    number = {t: k for k, t in enumerate(distinct)}
    local = array("i", map(number.__getitem__, terms))
    joined = "\x00".join(distinct)
    packed: str | list[str] = joined if joined.count("\x00") == len(distinct) - 1 else list(distinct)
    return packed, local.tobytes(), bytes(kinds), counts.tobytes()


def _text_pinyin(job: dict[str, Any], lo: int, hi: int) -> tuple[str, str, bytes, bytes]:
    """The pinyin of the texts ``job["texts"][job["order"][lo:hi]]`` as the index lays it out (in a
    worker process for a large library, while the parent builds the segmentation dictionary):
    initials and full pinyin with non-ASCII characters as \x01, each text's followed by a NUL,
    and the syllable lengths and syllables per text as int32. Sorted by their ends, texts meet
    the remainders PinyinMemo remembers."""
    pinyin = job["pinyin"]
    texts, order = job["texts"], job["order"]
    ini_parts: list[str] = []
    full_parts: list[str] = []
    syl_len, syl_n = array("i"), array("i")
    for i in order[lo:hi]:
        syl = pinyin(texts[i])
        ini_parts.append("".join([x[:1] for x in syl]))  # initials_of
        full_parts.append("".join(syl))
        syl_len.extend(map(len, syl))
        syl_n.append(len(syl))
    ini_parts.append("")
    full_parts.append("")
    return (_NO_ASCII.sub("\x01", "\x00".join(ini_parts)), _NO_ASCII.sub("\x01", "\x00".join(full_parts)),
            syl_len.tobytes(), syl_n.tobytes())


def _records(job: dict[str, Any], lo: int, hi: int) -> tuple[bytes, bytes]:
    """The JSON records (UTF-8, back to back) of the documents ``job["inds"][lo:hi]`` and their
    lengths as int64 (in a worker process for a large library)."""
    enc = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode
    parts = [enc(n.props).encode("utf-8") for n in job["inds"][lo:hi]]
    return b"".join(parts), array("q", map(len, parts)).tobytes()


def _ranges(ptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the CSR rows ``rows`` back to back, and the length of each row."""
    starts = ptr[rows]
    lens = ptr[rows + 1] - starts
    total = int(lens.sum())
    shift = np.repeat(starts - (np.cumsum(lens) - lens), lens)
    return shift + np.arange(total, dtype=np.int64), lens


def _postings(uses: list[tuple], g_prof: np.ndarray, g_exact: np.ndarray, ex_t: np.ndarray, ex_doc: np.ndarray,
              n_docs: int, n_terms: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(term, doc, code) of every posting sorted by term then doc, one per (term, doc) with its
    best weight, as the per-document dicts kept it.

    ``uses``: per use of texts (names, synonyms) the texts' term rows (CSR of profile term
    numbers and kinds), which text each document uses and the codes of the kinds there. Each
    posting is one uint64 (term, doc, code): one sort orders them and puts the lowest code of a
    (term, doc) first, and for one term the lowest code is the highest weight (a name's code
    beats a synonym's, a word's a bigram's; exact-name terms never meet the others)."""
    dbits = max(1, (max(n_docs, 1) - 1).bit_length())
    tbits = max(1, (max(n_terms, 1) - 1).bit_length())
    if dbits + tbits + 3 > 64:
        raise ValueError("index too large for one posting key")
    shift = np.uint64(dbits + 3)
    parts = []
    for pid, kind, ptr, which, docs, codes in uses:
        pos, lens = _ranges(ptr, which.astype(np.int64))
        doc = np.repeat(docs.astype(np.uint64), lens)
        t = g_prof[pid[pos]].astype(np.uint64)
        parts.append((t << shift) | (doc << np.uint64(3)) | codes[kind[pos]])
        del pos, doc, t
    parts.append((g_exact[ex_t].astype(np.uint64) << shift) | (ex_doc.astype(np.uint64) << np.uint64(3)))
    keys = np.concatenate(parts)
    del parts
    keys.sort()
    pair = keys >> np.uint64(3)
    keep = np.ones(len(keys), dtype=bool)
    keep[1:] = pair[1:] != pair[:-1]
    del pair
    keys = keys[keep]
    pt = (keys >> shift).astype(np.int32)
    pd = ((keys >> np.uint64(3)) & np.uint64((1 << dbits) - 1)).astype(np.int32)
    pc = (keys & np.uint64(7)).astype(np.uint8)
    return pt, pd, pc


def _inverse(order: list[int]) -> np.ndarray:
    """Position of each text in ``order`` (the workers' sorted order)."""
    pos = np.empty(len(order), dtype=np.int64)
    pos[np.array(order, dtype=np.int64)] = np.arange(len(order), dtype=np.int64)
    return pos


def _term_numbers(row_pid: np.ndarray, row_ptr: np.ndarray, order: list[int], first_doc: np.ndarray,
                  e_first: np.ndarray, n_prof: int) -> tuple[np.ndarray, np.ndarray]:
    """The final number of each text term (by its number of arrival) and of each exact-name term:
    the order in which the per-document build met them.

    A text term is first met in the first text that has it (texts are numbered by first use), at
    its place in that text's row; the two kinds are merged by the document that first used each
    term, a document's own terms before its exact-name ones."""
    order_a = np.array(order, dtype=np.int64)
    counts = np.diff(row_ptr)
    first_use = np.full(n_prof, np.iinfo(np.int64).max, dtype=np.int64)
    use = (np.repeat(order_a << 32, counts) + np.arange(len(row_pid), dtype=np.int64)
           - np.repeat(row_ptr[:-1], counts))
    np.minimum.at(first_use, row_pid, use)
    del use
    by_use = np.argsort(first_use)
    pf = first_doc[first_use[by_use] >> 32]
    g_prof = np.empty(n_prof, dtype=np.int64)
    g_prof[by_use] = np.arange(n_prof, dtype=np.int64) + np.searchsorted(e_first, pf, side="left")
    g_exact = np.arange(len(e_first), dtype=np.int64) + np.searchsorted(pf, e_first, side="right")
    return g_prof, g_exact


def _pinyin_arrays(parts: list[tuple[str, str, bytes, bytes]], order: list[int],
                   extra_texts: list[str]) -> dict[str, np.ndarray]:
    """The pinyin arrays of the index from the workers' pinyin of the texts (``_text_pinyin``,
    rows in ``order``), put in text order, then the vocabulary-only entries ``extra_texts``:
    initials and full pinyin blobs (NUL-separated) with their offsets, syllable starts, and the
    two sorted-prefix tables."""
    n_texts = len(order)
    pos_of = _inverse(order)

    def ints(k: int) -> np.ndarray:
        return np.concatenate([np.frombuffer(p[k], dtype=np.int32) for p in parts]).astype(np.int64) \
            if parts else np.zeros(0, dtype=np.int64)

    syl_len_p, syl_n_p = ints(2), ints(3)
    syl_ptr_p = np.zeros(n_texts + 1, dtype=np.int64)
    np.cumsum(syl_n_p, out=syl_ptr_p[1:])
    full_len_p = np.diff(np.concatenate([[0], np.cumsum(syl_len_p)])[syl_ptr_p])
    ini_len_p = np.diff(np.concatenate([[0], np.cumsum(syl_len_p > 0)])[syl_ptr_p])  # initials_of
    # each text's strings cut out of its chunk by length (a text may hold a NUL) and put in text
    # order; the vocabulary-only entries after them
    strings: list[list[str]] = [[], []]
    for k, lens in ((0, ini_len_p), (1, full_len_p)):
        out: list[str] = [""] * n_texts
        lens_l, at = lens.tolist(), 0
        for part in parts:
            chunk, o = part[k], 0
            for i in order[at:at + len(part[3]) // 4]:
                n = lens_l[at]
                out[i] = chunk[o:o + n]
                o += n + 1
                at += 1
        strings[k] = out
    pos, _ = _ranges(syl_ptr_p, pos_of)
    syl_len = syl_len_p[pos]
    syl_n = syl_n_p[pos_of]
    del pos
    if extra_texts:
        extra = [syllables(t) for t in extra_texts]
        strings[0] += [_NO_ASCII.sub("\x01", initials_of(x)) for x in extra]
        strings[1] += [_NO_ASCII.sub("\x01", "".join(x)) for x in extra]
        syl_len = np.concatenate([syl_len, np.array([len(y) for x in extra for y in x], dtype=np.int64)])
        syl_n = np.concatenate([syl_n, np.array([len(x) for x in extra], dtype=np.int64)])
    ini_len = np.array([len(x) for x in strings[0]], dtype=np.int64)
    full_len = np.array([len(x) for x in strings[1]], dtype=np.int64)
    ini_blob = np.frombuffer("\x00".join(strings[0]).encode("ascii"), dtype=np.uint8)
    full_blob = np.frombuffer("\x00".join(strings[1]).encode("ascii"), dtype=np.uint8)
    del strings
    n_entries = len(syl_n)
    ini_off = np.zeros(n_entries, dtype=np.int64)
    full_off = np.zeros(n_entries, dtype=np.int64)
    np.cumsum(ini_len[:-1] + 1, out=ini_off[1:])
    np.cumsum(full_len[:-1] + 1, out=full_off[1:])
    syl_ptr = np.zeros(n_entries + 1, dtype=np.int64)
    np.cumsum(syl_n, out=syl_ptr[1:])
    # each syllable's start in the full blob: its entry's offset plus the syllables before it
    before_entry = np.zeros(n_entries, dtype=np.int64)
    np.cumsum(full_len[:-1], out=before_entry[1:])
    starts = np.repeat(full_off - before_entry, syl_n) + np.cumsum(syl_len) - syl_len
    ini_sa = _sorted_suffixes(ini_blob, np.flatnonzero(ini_blob > 1))
    full_sa = _sorted_suffixes(full_blob, starts)
    return {"py_ini": ini_blob, "py_ini_off": ini_off, "py_full": full_blob, "py_full_off": full_off,
            "py_starts": starts, "py_syl_ptr": syl_ptr, "py_ini_sa_key": ini_sa[0], "py_ini_sa_pos": ini_sa[1],
            "py_full_sa_key": full_sa[0], "py_full_sa_pos": full_sa[1]}


def _members(cols: dict[str, np.ndarray], pt_ptr: np.ndarray, pt_code: np.ndarray, n_docs: int,
             n_vocab: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR of the documents of each vocabulary node (category, level 1, sector, field, project
    types), each document once per node, ascending."""
    docs = np.arange(n_docs, dtype=np.int64)
    node = np.concatenate([cols["cat"], cols["l1"], cols["sec"], cols["fld"], pt_code]).astype(np.int64)
    doc = np.concatenate([docs, docs, docs, docs, np.repeat(docs, np.diff(pt_ptr))])
    ok = node >= 0
    key = np.sort(node[ok] * max(n_docs, 1) + doc[ok])
    if len(key):
        key = key[np.concatenate([[True], key[1:] != key[:-1]])]
    ptr = np.zeros(n_vocab + 1, dtype=np.int64)
    np.cumsum(np.bincount(key // max(n_docs, 1), minlength=n_vocab), out=ptr[1:])
    return ptr, (key % max(n_docs, 1)).astype(np.int32)


class _RecordFile:
    """The indicator records of a loaded index, read with ``os.pread`` from rec_blob.npy instead
    of through its memory map.

    Why: a query reads the records of its ten hits, but a mapped file's pages come in folios of
    up to 2 MB (large folios of the page cache), so a few hundred queries had nearly all of a
    million-indicator library's 380 MB of records resident in a replica. Read this way they stay
    in the shared page cache only. ``pread`` takes its own offset, so threads share the file."""

    __slots__ = ("_file", "_start")

    def __init__(self, file: Any, start: int):
        self._file = file
        self._start = start

    @classmethod
    def open(cls, path: Path) -> "_RecordFile | None":
        if not hasattr(os, "pread"):
            return None
        f = open(path, "rb", buffering=0)
        try:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                np.lib.format.read_array_header_1_0(f)
            else:
                np.lib.format.read_array_header_2_0(f)
            return cls(f, f.tell())
        except Exception:  # an unexpected layout: records are read through the map as before
            f.close()
            return None

    def read(self, lo: int, hi: int) -> bytes:
        return os.pread(self._file.fileno(), hi - lo, self._start + lo)


class SearchIndex:
    """Everything a query needs, precomputed from one snapshot; read-only once built, so any
    number of threads may query it while a newer one is being built. ``save`` writes it as .npy
    files plus a JSON manifest; ``load`` maps them back without copying."""

    def __init__(self, version: int, nodes: Iterable[Node] | None = None, *,
                 _arrays: dict[str, np.ndarray] | None = None, _meta: dict[str, Any] | None = None):
        if _arrays is not None and _meta is not None:  # load(): the parts are already computed
            self._arrays, self._meta = _arrays, _meta
        else:
            self._arrays, self._meta = self._build(version, list(nodes or ()))
        self.version = int(self._meta["version"]) if _meta else version
        self._setup()

    # --- building ----------------------------------------------------------------------------
    @staticmethod
    def _build(version: int, nodes: list[Node]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Arrays and manifest of the index of ``nodes`` (see _build_arrays). The objects that exist
        before the build (the snapshot's nodes among them, millions for a large library) are
        frozen out of the garbage collector meanwhile: the build frees what it makes by reference
        counting, and each full collection would walk all of them again (4.6 s in 15 collections
        for a million indicators)."""
        gc.freeze()
        try:
            return SearchIndex._build_arrays(version, nodes)
        finally:
            gc.unfreeze()

    @staticmethod
    def _build_arrays(version: int, nodes: list[Node]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Arrays and manifest of the index of ``nodes``.

        Why it is laid out this way: a million-indicator library has 1.4 million distinct names
        and synonyms, 3 million terms, 30 million postings and a segmentation dictionary of 8
        million entries, so nothing may cost a Python call per posting. Each distinct text is
        segmented and converted to pinyin once into its distinct terms; term numbers are handed
        out in the order the documents first use them (the numbering of the original
        one-dict-per-document build, so the arrays are identical); postings are gathered,
        deduplicated and sorted as numpy arrays.

        For a large library the Python work runs in worker processes (search.text.forked_pool),
        in two rounds so that both cores stay busy: the first workers convert texts to pinyin,
        encode the records and hash the ids while this process makes the segmentation
        dictionary; the second ones, which inherit that dictionary, segment the texts and hash
        the dictionary's and the terms' keys while this process lays out the pinyin, the
        document columns and the exact-name terms and numbers the terms as they arrive."""
        t0 = time.perf_counter()
        byid = {n.id: n for n in nodes}
        stopwords = load_stopwords()
        groups, colloquial = load_synonyms()

        # vocabulary nodes: their order gives the codes the document columns use
        vocab = [n for n in nodes if n.label in _VOCAB_LABELS]
        vcode = {n.id: i for i, n in enumerate(vocab)}
        extra_ids: list[str] = []  # ids an indicator points to that are not in the snapshot

        def code(i: str | None) -> int:
            if not i:
                return -1
            c = vcode.get(i)
            if c is None:
                c = vcode[i] = len(vocab) + len(extra_ids)
                extra_ids.append(i)
            return c

        inds = sorted((n for n in nodes if n.label == INDICATOR and n.props.get("status", "active") == "active"),
                      key=lambda n: n.id)
        n_docs = len(inds)
        ids = [n.id for n in inds]
        names = [n.props.get("name") or n.id for n in inds]
        syn_of = [tuple(n.props.get("synonyms") or ()) for n in inds]

        ctx = []
        for n in vocab:
            ed = dict(n.edges)
            sector_id = ed.get(IN_SECTOR) or (n.id if n.label == SECTOR else None)
            if n.label == FIELD:  # fields know their sector through PART_OF
                sector_id = ed.get(PART_OF)
            ctx.append({"id": n.id, "label": n.label, "name": n.props.get("name") or n.id,
                        "keywords": [k for k in n.props.get("keywords") or () if len(k) >= 2],
                        "sector_id": sector_id, "parent": ed.get(PART_OF),
                        "props": {k: n.props.get(k) for k in ("short", "code", "kind", "order", "use")
                                  if n.props.get(k) is not None}})

        def l1_order(n: Node) -> int:
            parent = byid.get(dict(n.edges).get(PART_OF, ""))
            return parent.props.get("order", 0) if parent else 99
        category_order = {n.id: (l1_order(n), n.props.get("order", 0)) for n in nodes if n.label == CATEGORY}

        # --- distinct texts (names and synonyms) in the order the documents use them -----------
        texts: list[str] = []
        text_no: dict[str, int] = {}
        first_doc = array("i")            # the document that uses each text first
        name_t = array("i")               # per document: its name's text
        syn_t, syn_doc = array("i"), array("i")
        occ_t, occ_doc, occ_where = array("i"), array("i"), array("B")  # every use, in order
        for d in range(n_docs):
            for where, s in enumerate((names[d], *syn_of[d])):
                i = text_no.get(s)
                if i is None:
                    i = text_no[s] = len(texts)
                    texts.append(s)
                    first_doc.append(d)
                if where:
                    syn_t.append(i)
                    syn_doc.append(d)
                else:
                    name_t.append(i)
                occ_t.append(i)
                occ_doc.append(d)
                occ_where.append(1 if where else 0)
        n_texts = len(texts)
        # vocabulary names that are no document's text are pinyin entries after the texts
        e_ctx_entry, e_ctx_code = array("i"), array("i")
        extra_texts: list[str] = []
        for i, c in enumerate(ctx):
            if c["label"] in (PROJECT_TYPE, FIELD, SECTOR):
                e = text_no.get(c["name"])
                if e is None:
                    e = text_no[c["name"]] = n_texts + len(extra_texts)
                    extra_texts.append(c["name"])
                e_ctx_entry.append(e)
                e_ctx_code.append(i)
        idmap = {i: k for k, i in enumerate(ids)}
        workers = build_workers(n_texts)
        # texts sorted by their reversed strings: texts sharing an end are segmented one after the
        # other, so a suffix route is still remembered when the next text needs it (see _ends)
        reverse = [t[::-1] for t in texts]
        order = sorted(range(n_texts), key=reverse.__getitem__)
        del reverse
        spans = [(lo, min(n_texts, lo + _CHUNK)) for lo in range(0, n_texts, _CHUNK)]
        early = {"texts": texts, "order": order, "inds": inds, "id_keys": list(idmap),
                 "pinyin": PinyinMemo() if workers else syllables}
        with forked_pool(workers, early) as first_pool:
            # the workers convert the texts to pinyin and the records to JSON, and hash the ids,
            # while this process makes the segmentation dictionary (which the next workers inherit)
            pinyin_parts = run_jobs(first_pool, early, _text_pinyin, spans)
            record_parts = run_jobs(first_pool, early, _records,
                                    [(lo, min(n_docs, lo + _CHUNK)) for lo in range(0, n_docs, _CHUNK)])
            id_digests = hash_spread(first_pool, early, early["id_keys"], "id_keys")
            lex: set[str] = set(names)
            for s in syn_of:
                lex.update(s)
            for c in ctx:
                if c["name"]:
                    lex.add(c["name"])
                lex.update(c["keywords"])
            for g in groups:
                lex.update(g)
            for k, v in colloquial.items():
                lex.add(k)
                lex.update(v)
            freq, total = library_dictionary(lex)
            del lex
            seg = Segmenter(freq, total, memo=_SEG_MEMO)
            job = {"seg": seg, "texts": texts, "order": order, "freq_keys": list(freq)}
            with forked_pool(workers, job) as pool:
                freq_digests = hash_spread(pool, job, job["freq_keys"], "freq_keys")
                analysed = run_jobs(pool, job, _text_terms, spans)

                # --- here, while the workers segment: pinyin, records, document columns ---------
                py_arrays = _pinyin_arrays(list(pinyin_parts), order, extra_texts)
                records = list(record_parts)
                rec_blob = np.frombuffer(b"".join(r[0] for r in records), dtype=np.uint8)
                rec_off = np.zeros(n_docs + 1, dtype=np.int64)
                if records:
                    np.cumsum(np.concatenate([np.frombuffer(r[1], dtype=np.int64) for r in records]),
                              out=rec_off[1:])
                del records
                id_keys = digests_to_hashes(id_digests)
                l1_of: dict[str, str | None] = {}
                cat_c, l1_c, sec_c, fld_c, pt_len, pt_code = (array("i") for _ in range(6))
                for n in inds:
                    cat = sec = fld = None  # the first edge of each kind, every project type
                    applies: list[str] = []
                    for typ, dst in n.edges:
                        if typ == IN_CATEGORY:
                            cat = dst if cat is None else cat
                        elif typ == IN_SECTOR:
                            sec = dst if sec is None else sec
                        elif typ == IN_FIELD:
                            fld = dst if fld is None else fld
                        elif typ == APPLIES_TO:
                            applies.append(dst)
                    l1 = None
                    if cat:
                        if cat not in l1_of:
                            catn = byid.get(cat)
                            l1_of[cat] = dict(catn.edges).get(PART_OF) if catn else None
                        l1 = l1_of[cat]
                    cat_c.append(code(cat))
                    l1_c.append(code(l1))
                    sec_c.append(code(sec))
                    fld_c.append(code(fld))
                    pts = [code(p) for p in sorted(applies)]
                    pt_code.extend(pts)
                    pt_len.append(len(pts))
                ctx += [{"id": i, "label": "", "name": None, "keywords": [], "sector_id": None, "parent": None,
                         "props": {}} for i in extra_ids]
                n_vocab = len(vocab) + len(extra_ids)
                # exact-name / exact-synonym lookup terms, numbered in order of first use
                etid: dict[str, int] = {}
                e_first = array("i")
                ex_t, ex_doc = array("i"), array("i")
                for d in range(n_docs):
                    syns = syn_of[d]
                    # the set is iterated as the per-document build iterated it (the numbering follows)
                    exact = {"n" + names[d]} | {"s" + s for s in syns} if syns else ("n" + names[d],)
                    for term in exact:
                        t = etid.get(term)
                        if t is None:
                            t = etid[term] = len(etid)
                            e_first.append(d)
                        ex_t.append(t)
                        ex_doc.append(d)

                # --- the texts' terms as the workers send them ---------------------------------
                # numbered first in the order they arrive; renumbered below by first use
                tid: dict[str, int] = {}
                got: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
                for packed, local, kinds, counts_b in analysed:
                    distinct = packed if isinstance(packed, list) else packed.split("\x00")
                    new = [x for x in distinct if x not in tid]
                    tid.update(zip(new, range(len(tid), len(tid) + len(new))))
                    number = np.fromiter(map(tid.__getitem__, distinct), dtype=np.int32, count=len(distinct))
                    got.append((number[np.frombuffer(local, dtype=np.int32)], np.frombuffer(kinds, dtype=np.uint8),
                                np.frombuffer(counts_b, dtype=np.int32)))
                    del distinct, new, number
                n_prof = len(tid)
                term_list = list(tid) + list(etid)
                term_digests = hash_spread(pool, job, term_list)
                del tid, etid
                row_pid, row_kind, counts = (
                    np.concatenate([g[k] for g in got]) if got else np.zeros(0, dtype=dt)
                    for k, dt in ((0, np.int32), (1, np.uint8), (2, np.int32)))
                del got
                row_ptr = np.zeros(n_texts + 1, dtype=np.int64)  # rows in the workers' (sorted) order
                np.cumsum(counts, out=row_ptr[1:])
                pos_of = _inverse(order)
                g_prof, g_exact = _term_numbers(row_pid, row_ptr, order, np.frombuffer(first_doc, dtype=np.int32),
                                                np.frombuffer(e_first, dtype=np.int32), n_prof)
                n_terms = len(g_prof) + len(g_exact)

                # --- postings: (term, doc, field-weight code), the best weight per (term, doc) -----
                pt, pd, pc = _postings(
                    [(row_pid, row_kind, row_ptr, pos_of[np.frombuffer(name_t, dtype=np.int32)],
                      np.arange(n_docs, dtype=np.int32), _NAME_CODES),
                     (row_pid, row_kind, row_ptr, pos_of[np.frombuffer(syn_t, dtype=np.int32)],
                      np.frombuffer(syn_doc, dtype=np.int32), _SYN_CODES)],
                    g_prof, g_exact, np.frombuffer(ex_t, dtype=np.int32), np.frombuffer(ex_doc, dtype=np.int32),
                    n_docs, n_terms)
                del row_pid, row_kind, row_ptr
                freq_keys = digests_to_hashes(freq_digests)
                term_keys = digests_to_hashes(term_digests)
        del job, early
        df = np.bincount(pt, minlength=n_terms)
        term_ptr = np.zeros(n_terms + 1, dtype=np.int64)
        np.cumsum(df, out=term_ptr[1:])
        # the same float64 value as math.log(1 + n / df) in the dict version, once per distinct df
        by_df = np.zeros(int(df.max()) + 1 if n_terms else 1)
        for x in np.flatnonzero(np.bincount(df)).tolist() if n_terms else ():
            by_df[x] = math.log(1 + max(1, n_docs) / x) if x else 0.0
        idf = by_df[df]
        terms = HashTable.from_hashes(term_keys, np.concatenate([g_prof, g_exact]).astype(np.int32))
        del term_list

        # --- pinyin entries: their documents and vocabulary nodes ----------------------------
        all_texts = texts + extra_texts
        n_entries = len(all_texts)
        occ = np.frombuffer(occ_t, dtype=np.int32)
        by_text = np.argsort(occ, kind="stable")
        ed_ptr = np.zeros(n_entries + 1, dtype=np.int64)
        np.cumsum(np.bincount(occ, minlength=n_entries), out=ed_ptr[1:])
        ed_doc = np.frombuffer(occ_doc, dtype=np.int32)[by_text]
        ed_where = np.frombuffer(occ_where, dtype=np.uint8)[by_text]
        del by_text, occ, occ_t, occ_doc, occ_where
        ece = np.frombuffer(e_ctx_entry, dtype=np.int32)
        ec_ptr = np.zeros(n_entries + 1, dtype=np.int64)
        np.cumsum(np.bincount(ece, minlength=n_entries), out=ec_ptr[1:])
        ec_code = np.frombuffer(e_ctx_code, dtype=np.int32)[np.argsort(ece, kind="stable")]
        et_blob, et_off = _blob(all_texts)

        # --- documents as columns -------------------------------------------------------------
        width = max((len(x) for x in names), default=1)
        name_arr = np.array(names, dtype=f"<U{max(1, width)}")
        name_code_map: dict[str, int] = {}
        name_code = np.array([name_code_map.setdefault(x, len(name_code_map)) for x in names], dtype=np.int32)
        id_blob, id_off = _blob(ids)
        pt_ptr = np.zeros(n_docs + 1, dtype=np.int64)
        np.cumsum(np.frombuffer(pt_len, dtype=np.int32), out=pt_ptr[1:])
        pt_codes = np.frombuffer(pt_code, dtype=np.int32).copy()
        cols = {k: np.frombuffer(a, dtype=np.int32).copy() for k, a in
                (("cat", cat_c), ("l1", l1_c), ("sec", sec_c), ("fld", fld_c))}
        ctx_ptr, ctx_docs = _members(cols, pt_ptr, pt_codes, n_docs, n_vocab)
        idtab = HashTable.from_hashes(id_keys, np.fromiter(idmap.values(), dtype=np.int32, count=len(idmap)))
        freqtab = HashTable.from_hashes(freq_keys, np.fromiter(freq.values(), dtype=np.int64, count=len(freq)))
        del freq, seg
        vks = [n.props.get("value_kind") for n in inds]
        value_kinds = sorted({k for k in vks if k})
        vk_code = {k: i for i, k in enumerate(value_kinds)}
        arrays = {
            "name": name_arr, "name_len": np.array([len(x) for x in names], dtype=np.int32),
            "name_code": name_code,
            "vk": np.array([vk_code[k] if k else -1 for k in vks], dtype=np.int32),
            "id_blob": id_blob, "id_off": id_off, "id_keys": idtab.keys, "id_vals": idtab.values,
            "rec_blob": rec_blob, "rec_off": rec_off,
            "cat": cols["cat"], "l1": cols["l1"], "sec": cols["sec"], "fld": cols["fld"],
            "pt_ptr": pt_ptr, "pt_code": pt_codes, "ctx_ptr": ctx_ptr, "ctx_docs": ctx_docs,
            "term_keys": terms.keys, "term_vals": terms.values, "term_ptr": term_ptr, "idf": idf,
            "post_doc": pd, "post_code": pc,
            "freq_keys": freqtab.keys, "freq_vals": freqtab.values,
            **py_arrays,
            "py_doc_ptr": ed_ptr, "py_doc": ed_doc, "py_where": ed_where, "py_ctx_ptr": ec_ptr, "py_ctx": ec_code,
            "py_text_blob": et_blob, "py_text_off": et_off,
        }
        meta = {"format": FORMAT, "version": version, "n_docs": n_docs, "freq_total": total, "ctx": ctx,
                "category_order": category_order, "stopwords": sorted(stopwords), "groups": groups,
                "colloquial": colloquial, "value_kinds": value_kinds, "build_seconds": time.perf_counter() - t0}
        return arrays, meta

    # --- the on-disk cache ---------------------------------------------------------------------
    def save(self, path: Path) -> None:
        """Write the index into the folder ``path`` (created; must not exist): one .npy per array and
        manifest.json. The caller renames a finished temporary folder into place, so readers never
        see a partial index."""
        path.mkdir(parents=True)
        for name, arr in self._arrays.items():
            np.save(path / f"{name}.npy", np.ascontiguousarray(arr), allow_pickle=False)
        meta = dict(self._meta, arrays=sorted(self._arrays))
        (path / "manifest.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> "SearchIndex":
        """Map a saved index (no copy: pages are read on use and shared between processes).
        Raises ValueError for a folder of another format or with missing parts."""
        meta = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT:
            raise ValueError(f"索引格式 {meta.get('format')} 与当前 {FORMAT} 不符")
        arrays = {name: np.load(path / f"{name}.npy", mmap_mode="r", allow_pickle=False).view(np.ndarray)
                  for name in meta["arrays"]}  # plain views of the maps: memmap slicing is slow Python
        index = cls(int(meta["version"]), _arrays=arrays, _meta=meta)
        index._records = _RecordFile.open(path / "rec_blob.npy")
        return index

    # --- after build or load: small Python tables --------------------------------------------------
    def _setup(self) -> None:
        a, m = self._arrays, self._meta
        self.n_docs = int(m["n_docs"])
        self.build_seconds = float(m.get("build_seconds", 0.0))
        self.stopwords = frozenset(m["stopwords"])
        self.colloquial: dict[str, list[str]] = m["colloquial"]
        self.synonyms: dict[str, list[str]] = defaultdict(list)
        for g in m["groups"]:
            for w in g:
                self.synonyms[w] += [x for x in g if x != w and x not in self.synonyms[w]]
        self.value_kinds: list[str] = m["value_kinds"]
        self.category_order = {k: tuple(v) for k, v in m["category_order"].items()}
        self._vocab = m["ctx"]
        self.ctx: dict[str, Ctx] = {}
        for i, c in enumerate(self._vocab):
            if c["label"]:
                self.ctx[c["id"]] = Ctx(c["id"], c["label"], c["name"], tuple(c["keywords"]), c["sector_id"],
                                        c["parent"], i, self)
        self.categories = {c["id"]: Node(c["id"], c["label"], c["props"]) for c in self._vocab
                           if c["label"] in (CATEGORY, LEVEL1)}
        self.ctx_by_name: dict[str, list[str]] = defaultdict(list)
        self.pts_by_keyword: dict[str, list[str]] = defaultdict(list)
        for c in self.ctx.values():
            if len(c.name) >= 2:
                self.ctx_by_name[c.name].append(c.id)
            if c.label == PROJECT_TYPE:
                for k in c.keywords:
                    self.pts_by_keyword[k].append(c.id)
        self._ctx_maxlen = max((len(k) for k in list(self.ctx_by_name) + list(self.pts_by_keyword)), default=2)
        self._terms = HashTable(a["term_keys"], a["term_vals"])
        self._ids = HashTable(a["id_keys"], a["id_vals"])
        self._seg = Segmenter(HashTable(a["freq_keys"], a["freq_vals"]), int(m["freq_total"]))
        self._idf = a["idf"]
        self.idf_max = math.log(1 + max(1, self.n_docs))
        self.idf = IdfMap(self)
        self.docs = DocTable(self)
        self.by_id = IdMap(self)
        self._name = a["name"]
        self._name_len = a["name_len"]
        self._vnames = [c["name"] for c in self._vocab]
        self._results: dict[tuple, dict[str, Any]] = {}
        self._word_memo: dict[str, list[str]] = {}
        self._scratch: list[tuple[np.ndarray, np.ndarray]] = []
        self._py_lists: tuple[list[str], list[str]] | None = None
        self._lock = threading.Lock()
        self._records: _RecordFile | None = None  # load() reads records from the file instead

    # --- column access --------------------------------------------------------------------------
    @staticmethod
    def _string(blob: np.ndarray, off: np.ndarray, i: int) -> str:
        return blob[int(off[i]):int(off[i + 1])].tobytes().decode("utf-8")

    def doc_id(self, d: int) -> str:
        return self._string(self._arrays["id_blob"], self._arrays["id_off"], d)

    def name_of(self, d: int) -> str:
        return str(self._name[d])

    @property
    def names(self) -> list[str]:
        return self._name.tolist()

    def ctx_doc_array(self, code: int) -> np.ndarray:
        a = self._arrays
        return a["ctx_docs"][int(a["ctx_ptr"][code]):int(a["ctx_ptr"][code + 1])]

    def _vid(self, code: int) -> str | None:
        return self._vocab[code]["id"] if code >= 0 else None

    def _vname(self, code: int) -> str | None:
        return self._vnames[code] if code >= 0 else None

    def _make_doc(self, d: int) -> Doc:
        a = self._arrays
        lo, hi = int(a["rec_off"][d]), int(a["rec_off"][d + 1])
        raw = self._records.read(lo, hi) if self._records else a["rec_blob"][lo:hi].tobytes()
        props = json.loads(raw.decode("utf-8"))
        cat, l1, sec, fld = (int(a[k][d]) for k in ("cat", "l1", "sec", "fld"))
        pcodes = a["pt_code"][int(a["pt_ptr"][d]):int(a["pt_ptr"][d + 1])].tolist()
        pts = tuple(self._vocab[p]["id"] for p in pcodes)
        kind = self._vocab[cat]["props"].get("kind") if cat >= 0 else None
        return Doc(d, self.doc_id(d), props.get("name") or self.doc_id(d), tuple(props.get("synonyms") or ()),
                   self._vid(cat), self._vname(cat), self._vid(l1), self._vname(l1), kind,
                   self._vid(sec), self._vname(sec), self._vid(fld), self._vname(fld),
                   pts, tuple(self._vnames[p] or self._vocab[p]["id"] for p in pcodes), props)

    def _term(self, term: str) -> int:
        i = self._terms.find(term)
        return -1 if i < 0 else int(self._terms.values[i])

    def _posting(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        """Documents of term ``t`` and their weights (field weight x idf, float64)."""
        a = self._arrays
        lo, hi = int(a["term_ptr"][t]), int(a["term_ptr"][t + 1])
        return a["post_doc"][lo:hi], WEIGHTS[a["post_code"][lo:hi]] * self._idf[t]

    def _posting_docs(self, term: str) -> np.ndarray:
        t = self._term(term)
        if t < 0:
            return np.zeros(0, dtype=np.int32)
        a = self._arrays
        return a["post_doc"][int(a["term_ptr"][t]):int(a["term_ptr"][t + 1])]

    def term_docs(self, term: str) -> np.ndarray:
        """The documents (positions, ascending) holding ``term`` — a prefixed index term such as
        "b" + a character bigram: how another reader (review's classifier) retrieves through this
        index instead of keeping a second one."""
        return self._posting_docs(term)

    # --- helpers -------------------------------------------------------------------------
    def _words(self, text: str) -> list[str]:
        memo = self._word_memo
        words = memo.get(text)
        if words is None:
            words = [w for w in self._seg.cut_for_search(text) if w.strip() and any(is_cjk(c) for c in w)]
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
            kinds = self.value_kinds
            if value_kind not in kinds:
                raise BadQuery("unknown_value_kind", f"未知的指标值类型「{value_kind}」；可选：{'、'.join(kinds)}", kinds)
            f["value_kind"] = value_kind
        return f

    def _passes(self, docs: np.ndarray, f: dict) -> np.ndarray:
        """Which of ``docs`` pass the resolved filters (a boolean mask)."""
        a = self._arrays
        code = lambda ids: np.array([self.ctx[i].code for i in ids if i in self.ctx], dtype=np.int32)  # noqa: E731
        keep = np.ones(len(docs), dtype=bool)
        if "sector" in f:
            keep &= np.isin(a["sec"][docs], code(f["sector"]))
        if "field" in f:
            keep &= np.isin(a["fld"][docs], code(f["field"]))
        if "project_type" in f:
            members = [self.ctx_doc_array(c) for c in code(f["project_type"]).tolist()]
            keep &= np.isin(docs, np.concatenate(members) if members else np.zeros(0, np.int32))
        if "category" in f:
            cats = code(f["category"])
            keep &= np.isin(a["cat"][docs], cats) | np.isin(a["l1"][docs], cats)
        if "value_kind" in f:
            want = self.value_kinds.index(f["value_kind"]) if f["value_kind"] in self.value_kinds else -2
            keep &= a["vk"][docs] == want
        return keep

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
        covered = {b for w in seen if self._term("w" + w) >= 0 for b in bigrams(w)}
        for b in dict.fromkeys(bigrams(text)):
            if b not in covered:
                slots.append(("b", [("b" + b, 1.0)]))
        if len(unigrams(text)) <= 2:  # single characters only matter for very short queries
            for u in dict.fromkeys(unigrams(text)):
                if u not in self.stopwords:
                    slots.append(("u", [("u" + u, 1.0)]))
        return slots

    def _take_scratch(self) -> tuple[np.ndarray, np.ndarray]:
        try:
            return self._scratch.pop()
        except IndexError:  # one pair per query in flight; list pop/append are atomic
            return np.zeros(self.n_docs), np.zeros(self.n_docs)

    def _text_scores(self, text: str, it: Interpretation,
                     ordered: bool = False) -> tuple[np.ndarray, np.ndarray, float]:
        """(documents, normalised word/n-gram scores, normaliser) of every doc sharing a term with
        ``text``. Postings are scattered into a dense float64 accumulator (a slot's alternatives
        merged by maximum), in the same order and arithmetic as the dict version, so scores are
        bit-identical. ``ordered`` returns documents in order of first appearance (as the dict
        version iterated them) instead of by number."""
        acc, slot = self._take_scratch()
        idf, idf_max = self._idf, self.idf_max
        norm = 0.0
        seen: list[np.ndarray] = []
        try:
            for kind, alts in self._slots(text, it):
                qw = Q_WEIGHT[kind]
                term0 = alts[0][0]
                t0 = self._term(term0)
                idf_q = float(idf[t0]) if t0 >= 0 else idf_max
                norm += qw * Q_MAX[kind] * idf_q
                touched: list[np.ndarray] = []
                for term, factor in alts:
                    t = t0 if term == term0 else self._term(term)
                    if t < 0:
                        continue
                    docs, w = self._posting(t)
                    # a synonym counts with the query word's own weight, not its rarity
                    f = qw * factor * (idf_q / float(idf[t]) if term != term0 else 1.0)
                    if not touched:
                        slot[docs] = f * w
                    else:
                        slot[docs] = np.maximum(slot[docs], f * w)
                    touched.append(docs)
                for docs in touched:  # a doc met twice adds its slot value once, then 0.0
                    acc[docs] += slot[docs]
                    slot[docs] = 0.0
                seen += touched
            docs = np.flatnonzero(acc)
            vals = acc[docs]
            acc[docs] = 0.0
        finally:
            self._scratch.append((acc, slot))
        if norm <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0), 0.0
        vals = vals * (1.0 / norm)
        if ordered and len(seen) > 1:
            _, first = np.unique(np.concatenate(seen), return_index=True)
            order = np.argsort(first, kind="stable")
            docs, vals = docs[order], vals[order]
        return docs, vals, norm

    # pinyin ---------------------------------------------------------------------------------
    def _pinyin_matches(self, token: str) -> dict[int, tuple[float, int, int, str]]:
        """Entry -> (score, first char, end char, 'initials'|'full') for one pinyin token: its
        occurrences come from the sorted-suffix tables (full pinyin: at syllable starts only), the
        per-match arithmetic is vectorised."""
        out: dict[int, tuple[float, int, int, str]] = {}
        if len(token) < 2:
            return out
        a = self._arrays
        tok = token.encode("ascii")
        pos = _occurrences(a["py_ini"], a["py_ini_sa_key"], a["py_ini_sa_pos"], tok)
        if len(pos):
            e = np.searchsorted(a["py_ini_off"], pos, side="right") - 1
            start = pos - a["py_ini_off"][e]
            nsyl = (a["py_syl_ptr"][e + 1] - a["py_syl_ptr"][e]).astype(np.float64)
            score = 0.55 + 0.45 * (len(token) / nsyl) + np.where(start == 0, 0.05, 0.0)
            # per entry the earliest match scores best (same cover, a start bonus only at 0)
            ue, first = np.unique(e, return_index=True)
            for k, i in zip(ue.tolist(), first.tolist()):
                s = int(start[i])
                out[k] = (float(score[i]), s, s + len(token), "initials")
        if len(token) >= 3:
            pos = _occurrences(a["py_full"], a["py_full_sa_key"], a["py_full_sa_pos"], tok)  # syllable starts
            if len(pos):
                gs = a["py_starts"]
                e = np.searchsorted(a["py_full_off"], pos, side="right") - 1
                ia = np.searchsorted(gs, pos, side="right") - 1
                ok = (ia >= a["py_syl_ptr"][e]) & (gs[np.maximum(ia, 0)] == pos)  # must begin on a syllable
                pos, e, ia = pos[ok], e[ok], ia[ok]
                end = pos + len(token)
                ja = np.searchsorted(gs, end - 1, side="right") - 1  # syllable holding the last letter
                lo, hi = a["py_syl_ptr"][e], a["py_syl_ptr"][e + 1]
                nxt = np.minimum(ja + 1, len(gs) - 1)
                ends = np.r_[a["py_full_off"][1:] - 1, len(a["py_full"])][e] if len(e) else e
                complete = (end == ends) | ((ja + 1 < hi) & (gs[nxt] == end))
                chars = ja - ia + 1
                cover = chars / (hi - lo)
                off = pos - a["py_full_off"][e]
                score = 0.6 + 0.45 * cover * np.where(complete, 1.0, 0.9) + np.where(off == 0, 0.05, 0.0)
                best: dict[int, tuple[float, int, int]] = {}
                for k, sc, i, j in zip(e.tolist(), score.tolist(), (ia - lo).tolist(), (ja - lo).tolist()):
                    if sc > best.get(k, (0.0,))[0]:
                        best[k] = (sc, i, j + 1)
                for k in sorted(best):
                    sc, i, j = best[k]
                    if sc > out.get(k, (0,))[0]:
                        out[k] = (sc, i, j, "full")
        return out

    def _entry(self, e: int) -> tuple[str, list[tuple[int, str]], list[str]]:
        """(text, [(doc, 'name'|'synonym')], [vocabulary ids]) of pinyin entry ``e``."""
        a = self._arrays
        lo, hi = int(a["py_doc_ptr"][e]), int(a["py_doc_ptr"][e + 1])
        docs = [(d, "synonym" if w else "name") for d, w in zip(a["py_doc"][lo:hi].tolist(), a["py_where"][lo:hi].tolist())]
        lo, hi = int(a["py_ctx_ptr"][e]), int(a["py_ctx_ptr"][e + 1])
        ctx = [self._vocab[c]["id"] for c in a["py_ctx"][lo:hi].tolist()]
        return self._string(a["py_text_blob"], a["py_text_off"], e), docs, ctx

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
                    text, edocs, ectx = self._entry(e)
                    s = score / len(toks)
                    for d, where in edocs:
                        v = s * (1.0 if where == "name" else 0.9)
                        if v > tok_best.get(d, 0.0):
                            tok_best[d] = v
                        label = "拼音首字母" if how == "initials" else "全拼"
                        reasons[d].append(f"{label}「{t}」→{'名称' if where == 'name' else '同义词'}「{text}」")
                        if where == "name":
                            spans[d].append((a, b))
                    for c in ectx:
                        ctx[c] = max(ctx[c], s)
                for d, v in tok_best.items():
                    docs[d] += v
            for d, v in docs.items():
                best_docs[d] = max(best_docs.get(d, 0.0), v)
            for c, v in ctx.items():
                best_ctx[c] = max(best_ctx.get(c, 0.0), v)
        return best_docs, best_ctx

    def _pinyin_lists(self) -> tuple[list[str], list[str]]:
        """Full pinyin and initials of every entry as Python strings, for rapidfuzz (made once,
        on the first pinyin typo)."""
        if self._py_lists is None:
            a = self._arrays
            self._py_lists = (a["py_full"].tobytes().decode("ascii").split("\x00"),
                              a["py_ini"].tobytes().decode("ascii").split("\x00"))
        return self._py_lists

    def _fuzzy(self, text: str, pinyin: bool, limit: int = 40) -> dict[int, tuple[float, str]]:
        """Typo tolerance: names (or their pinyin) within edit distance of the query."""
        from rapidfuzz import fuzz, process
        out: dict[int, tuple[float, str]] = {}
        if pinyin:
            q = re.sub(r"[\s']+", "", text.lower())
            if len(q) < 4:
                return out
            for choices in self._pinyin_lists():
                for _, sc, e in process.extract(q, choices, scorer=fuzz.ratio, score_cutoff=78, limit=limit):
                    etext, edocs, _ = self._entry(e)
                    for d, where in edocs:
                        v = sc / 100 * (0.9 if where == "name" else 0.8)
                        if v > out.get(d, (0,))[0]:
                            out[d] = (v, etext)
            return out
        if len(text) < 3:
            return out
        # candidates share most characters with the query (a typo changes one or two): counting
        # shared characters through the unigram postings avoids comparing with every name
        chars = sorted(set(unigrams(text)))
        need = max(2, math.ceil(0.5 * len(chars)))
        parts = []
        for c in chars:
            p = self._posting_docs("u" + c)
            if len(p) and len(p) < self.n_docs * 0.2:  # very common characters add nothing but work
                parts.append(p)
            elif len(p):
                need = max(2, need - 1)
        if not parts:
            return out
        cand, shared = np.unique(np.concatenate(parts), return_counts=True)
        names: dict[str, list[int]] = defaultdict(list)
        sel = cand[shared >= need]
        for d, nm in zip(sel.tolist(), self._name[sel].tolist()):
            names[nm].append(d)
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
    def _boost(self, docs: np.ndarray, named: list[tuple[int, float]]) -> np.ndarray:
        """Graph boost of each doc: the strongest applicable one, +0.05 for each further one (in the
        order the named nodes are listed, as the scalar version added them)."""
        out = np.zeros(len(docs))
        for code, w in named:
            m = np.isin(docs, self.ctx_doc_array(code))
            if m.any():
                om = out[m]
                out[m] = np.maximum(om, w) + np.where(om != 0, 0.05, 0.0)
        return out

    def score(self, text: str) -> tuple[dict[int, float], Interpretation, dict[int, list[str]],
                                        dict[int, list[tuple[int, int]]]]:
        """Scores of every matching doc (no filters, no cut-off), with reasons and pinyin spans."""
        docs, vals, it, reasons, spans = self._score(text, ordered=True)
        return dict(zip(docs.tolist(), vals.tolist())), it, reasons, spans

    def _score(self, text: str, ordered: bool = False) -> tuple[np.ndarray, np.ndarray, Interpretation,
                                                                 dict[int, list[str]], dict[int, list[tuple[int, int]]]]:
        it = self.interpret(text)
        reasons: dict[int, list[str]] = defaultdict(list)
        spans: dict[int, list[tuple[int, int]]] = defaultdict(list)
        pscores: dict[int, float] = {}
        if it.pinyin:
            pscores, ctx = self._pinyin_scores(it.text, reasons, spans)
            for cid, v in ctx.items():
                c = self.ctx[cid]
                if c.label == PROJECT_TYPE and v >= 0.9:
                    it.project_types.append(cid)
                elif c.label == SECTOR and v >= 0.9:
                    it.sectors.append(cid)
                elif c.label == FIELD and v >= 0.9:
                    it.fields.append(cid)
            if not pscores or max(pscores.values()) < 0.75:
                it.fuzzy = True
                for d, (v, name) in self._fuzzy(it.text, True).items():
                    if v > pscores.get(d, 0.0):
                        pscores[d] = v
                        reasons[d].append(f"拼音容错：「{it.text}」≈「{name}」")
        named = [(self.ctx[cid].code, b) for ids, b in (
            (it.project_types, B_PT_NAMED), (it.keyword_project_types, B_PT_KEYWORD), (it.fields, B_FIELD),
            (it.sectors, B_SECTOR), (it.categories, B_CATEGORY)) for cid in ids]
        if not it.pinyin:
            rem = it.remaining
            r = rem.replace(" ", "")
            tdocs, tvals, _ = self._text_scores(rem, it, ordered)
            top_text = float(tvals.max()) if len(tvals) else 0.0
            # bonuses add at most ~0.6: far weaker docs cannot reach the first pages anyway
            floor = max(0.2 * top_text, top_text - 0.7)
            if named:
                bst = self._boost(tdocs, named)
                keep = tvals + bst >= floor
                bst = bst[keep]
            else:
                keep = tvals >= floor
            docs, v = tdocs[keep], tvals[keep]
            names = self._name[docs]
            contains = np.strings.find(names, r) >= 0
            exact_syn = np.isin(docs, self._posting_docs("s" + r))
            bonus = np.where(contains, np.where(names == r, 0.5, np.where(np.strings.startswith(names, r), 0.15, 0.1)),
                             np.where(exact_syn, 0.5, 0.0))
            # shorter names that the query covers are the closer answers
            extra = (self._name_len[docs] - len(r)).astype(np.float64)
            bonus = bonus + np.where(extra > 0, 0.1 / (1 + 0.15 * np.maximum(extra, 0)), 0.1)
            vals = v + bonus + bst if named else v + bonus
            best = float(vals.max()) if len(vals) else 0.0
            if best < 0.8 + (B_PT_NAMED if it.project_types else 0.0) and len(rem) >= 3:
                it.fuzzy = True
                fz = self._fuzzy(r, False)
                if fz:
                    pos = {d: i for i, d in enumerate(docs.tolist())}
                    fd = np.fromiter(fz, dtype=np.int64, count=len(fz))
                    fb = self._boost(fd, named) if named else np.zeros(len(fd))
                    add_d, add_v = [], []
                    vals = vals.copy()
                    for k, (d, (fv, name)) in enumerate(fz.items()):
                        fv = fv + float(fb[k]) if named else fv
                        i = pos.get(d)
                        if i is None:
                            add_d.append(d)
                            add_v.append(fv)
                        elif fv > vals[i]:
                            vals[i] = fv
                        else:
                            continue
                        reasons[d].append(f"容错匹配：「{rem}」≈「{name}」")
                    if add_d:
                        docs = np.concatenate([docs, np.array(add_d, dtype=docs.dtype)])
                        vals = np.concatenate([vals, np.array(add_v)])
        else:
            docs = np.fromiter(pscores, dtype=np.int64, count=len(pscores))
            vals = np.fromiter(pscores.values(), dtype=np.float64, count=len(pscores))
            if named:
                vals = vals + self._boost(docs, named)
        # a query made only of names of project types, fields or sectors (or a pinyin query
        # naming one) lists their indicators
        if it.pinyin or self._only_names(it):
            listed = it.project_types + it.fields + it.sectors
            for cid in listed or it.categories:
                c = self.ctx[cid]
                base = {PROJECT_TYPE: 0.3, FIELD: 0.15, SECTOR: 0.15}.get(c.label, 0.1)
                members = self.ctx_doc_array(c.code)
                new = members[~np.isin(members, docs)]
                if len(new):
                    b = self._boost(new, named) if named else np.zeros(len(new))
                    docs = np.concatenate([docs.astype(np.int64), new.astype(np.int64)])
                    vals = np.concatenate([vals, base + b])
        return docs.astype(np.int64, copy=False), vals, it, reasons, spans

    def _only_names(self, it: Interpretation) -> bool:
        rest = it.text
        for cid in it.project_types + it.fields + it.sectors + it.categories:
            rest = rest.replace(self.ctx[cid].name, "")
        return not [c for c in rest if is_cjk(c) and c not in self.stopwords]

    def search(self, text: str, filters: dict | None = None, limit: int = 10, offset: int = 0,
               facets: bool = True, cache: bool = True, group: bool = False) -> dict[str, Any]:
        """Ranked, filtered, paginated hits with facet counts over all filtered matches.

        ``group``: indicators sharing one name (the same indicator curated under several project
        types) become one hit listing its ``variants`` and the union of their ``project_types``;
        ``total`` and paging then count names. Results are memoised per index (the index never
        changes, so a cached answer is exact); callers get a fresh top-level dict and hit dicts."""
        key = (text, repr(sorted((filters or {}).items())), limit, offset, facets, group)
        cache = cache and RESULT_CACHE > 0
        if cache:
            hit = self._results.get(key)
            if hit is not None:
                return {**hit, "hits": [dict(h) for h in hit["hits"]]}
        res = self._search(text, filters, limit, offset, facets, group)
        if cache:
            if len(self._results) >= RESULT_CACHE:
                try:  # FIFO eviction; another thread may be evicting at the same moment
                    self._results.pop(next(iter(self._results)))
                except (KeyError, RuntimeError, StopIteration):
                    pass
            self._results[key] = res
            return {**res, "hits": [dict(h) for h in res["hits"]]}
        return res

    def _rank(self, docs: np.ndarray, vals: np.ndarray, n: int | None) -> np.ndarray:
        """Positions of the best ``n`` (all when None) by (score desc, shorter name, id); document
        numbers follow id order, so the number breaks ties as the id did."""
        if n is not None and len(docs) > 4 * n + 64:
            thr = np.partition(vals, len(vals) - n)[len(vals) - n]
            sel = np.flatnonzero(vals >= thr)  # ties at the threshold are all kept, then ordered
        else:
            sel = np.arange(len(docs))
        order = sel[np.lexsort((docs[sel], self._name_len[docs[sel]], -vals[sel]))]
        return order if n is None else order[:n]

    def _search(self, text: str, filters: dict | None, limit: int, offset: int, facets: bool,
                group: bool = False) -> dict[str, Any]:
        q = (text or "").strip()
        if not q:
            raise BadQuery("empty_query", "查询词不能为空：请输入指标名称、关键词、拼音或拼音首字母，如 学生满意度、xsmyd")
        if len(q) > MAX_QUERY:
            raise BadQuery("query_too_long", f"查询词过长（{len(q)} 字），请不超过 {MAX_QUERY} 字")
        filters = filters or {}
        docs, vals, it, reasons, spans = self._score(q)
        if filters and len(docs):
            m = self._passes(docs, filters)
            docs, vals = docs[m], vals[m]
        # weak partial matches are dropped relative to the best hit the user can see
        cut = max(0.12, 0.3 * (float(vals.max()) if len(vals) else 0.0))
        keep = vals >= cut
        docs, vals = docs[keep], vals[keep]
        out: dict[str, Any] = {"total": len(docs), "total_indicators": len(docs), "offset": offset, "limit": limit, "library_version": self.version,
                               "query": it.to_dict(self), "hits": []}
        words = None if it.pinyin else sorted(set(self.segment(it.remaining) or self._words(it.remaining)),
                                              key=len, reverse=True)
        if not group:
            page = self._rank(docs, vals, offset + limit)[offset:offset + limit]
            out["hits"] = [self._hit(int(docs[i]), float(vals[i]), it, reasons.get(int(docs[i]), []),
                                     spans.get(int(docs[i]), []), words) for i in page]
        else:
            order = self._rank(docs, vals, None)
            codes = self._arrays["name_code"][docs[order]]
            _, first = np.unique(codes, return_index=True)
            reps = np.sort(first)  # one representative per name, in rank order
            out["total"] = len(reps)
            hits = []
            for r in reps[offset:offset + limit].tolist():
                i = int(order[r])
                d = int(docs[i])
                h = self._hit(d, float(vals[i]), it, reasons.get(d, []), spans.get(d, []), words)
                members = order[codes == codes[r]]
                variants = [self._variant(int(docs[k]), float(vals[k])) for k in members.tolist()]
                h["project_types"] = list(dict.fromkeys(p for v in variants for p in v["project_types"]))
                h["variants"] = variants
                h["variant_count"] = len(variants)
                hits.append(h)
            out["hits"] = hits
        if facets:
            out["facets"] = self._facets(docs)
        return out

    def _variant(self, d: int, score: float) -> dict[str, Any]:
        """One indicator of a grouped hit: where it is used and its own value."""
        doc = self.docs[d]
        p = doc.props
        return {"id": doc.id, "sector": doc.sector_name or "通用", "field": doc.field_name,
                "project_types": list(doc.pt_names), "category": doc.category_name, "unit": p.get("unit"),
                "typical_value": p.get("typical_value"), "score": round(score, 4)}

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
                "highlight": _highlight(doc.name, mask), "why": why or ["字符近似"],
                "indicator": doc_projection(doc)}

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

    def _facets(self, docs: np.ndarray) -> dict[str, list[dict[str, Any]]]:
        """Counts over all kept matches: bincounts of the code columns (project types through
        their CSR rows), so a 100,000-match query costs a few array passes."""
        a = self._arrays
        nv = len(self._vocab)
        docs = np.asarray(docs, dtype=np.int64)

        def by_code(col: str, none: str) -> Counter:
            counts = np.bincount(a[col][docs] + 1, minlength=nv + 1)
            c: Counter = Counter()
            for k in np.flatnonzero(counts).tolist():
                c[(self._vnames[k - 1] if k else None) or none] += int(counts[k])
            return c
        lo, hi = a["pt_ptr"][docs], a["pt_ptr"][docs + 1]
        n = hi - lo
        if int(n.sum()):
            rows = np.repeat(lo - np.r_[0, np.cumsum(n)[:-1]], n) + np.arange(int(n.sum()))
            ptc = np.bincount(a["pt_code"][rows], minlength=nv)
        else:
            ptc = np.zeros(nv, dtype=np.int64)
        pt: Counter = Counter()
        for k in np.flatnonzero(ptc).tolist():
            pt[self._vnames[k] or self._vocab[k]["id"]] += int(ptc[k])
        vk = np.bincount(a["vk"][docs] + 1, minlength=len(self.value_kinds) + 1)
        kind: Counter = Counter({(self.value_kinds[k - 1] if k else "-"): int(vk[k]) for k in np.flatnonzero(vk).tolist()})
        top = lambda c: [{"value": k, "count": v} for k, v in sorted(c.items(), key=lambda t: (-t[1], t[0]))[:FACET_TOP]]  # noqa: E731
        return {"sector": top(by_code("sec", "通用")), "level1": top(by_code("l1", "-")),
                "category": top(by_code("cat", "-")), "project_type": top(pt), "value_kind": top(kind)}


def doc_projection(doc: Doc) -> dict[str, Any]:
    """The indicator of a hit in the one projection /indicators/{id} serves (engine/projection.py)."""
    return project(doc.id, doc.props,
                   category=(doc.category, doc.category_name) if doc.category else None,
                   level1=(doc.level1, doc.level1_name) if doc.level1 else None,
                   sector=(doc.sector_code, doc.sector_name) if doc.sector_id else None,
                   field=(doc.field_id, doc.field_name) if doc.field_id else None,
                   project_types=zip(doc.pts, doc.pt_names))


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
