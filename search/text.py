"""Text helpers shared by the index, autocomplete and recommendation: word segmentation with a library
dictionary, character n-grams, pinyin aligned to characters, stable string hashes for the on-disk
index, and the data files (synonyms, stop words) that maintainers edit.

Why segmentation is ported here instead of calling jieba at query time: jieba's dictionary takes
0.54 s and 85 MiB to load in every process. ``Segmenter`` is jieba's own search-mode algorithm
(prefix DAG, maximum-probability route, bigram/trigram sub-words, HMM for unknown runs) over any
``word -> frequency`` mapping: while an index is built it reads the jieba tokenizer's dictionary
(plus the library's own terms), and the index stores that dictionary as a hashed numpy table,
so a query segments exactly as at build time without loading jieba. Only an unknown run of
several single characters imports jieba's small HMM model (jieba.finalseg, no dictionary)."""
from __future__ import annotations

import hashlib
import logging
import re
import threading
from functools import lru_cache
from math import log
from pathlib import Path
from typing import Any, Iterable, Iterator, Protocol

import numpy as np
import yaml

DATA_DIR = Path(__file__).resolve().parent / "data"
_CJK = re.compile(r"[\u3400-\u9fff]+")
_ASCII_QUERY = re.compile(r"^[A-Za-z][A-Za-z'\s]*$")
# jieba's block splitting (jieba/__init__.py), kept identical so segmentation matches it
_RE_HAN = re.compile("([\u4E00-\u9FD5a-zA-Z0-9+#&\\._%\\-]+)", re.U)
_RE_SKIP = re.compile("(\r\n|\\s)", re.U)


def str_hash(text: str) -> int:
    """A 64-bit hash that is the same in every process (Python's ``hash`` is salted per process),
    used as the key of the on-disk tables; 64 bits make a collision among a few million terms
    about a one-in-a-million-million event."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


def hash_all(texts: Iterable[str]) -> np.ndarray:
    return np.fromiter((str_hash(t) for t in texts), dtype=np.uint64)


class HashTable:
    """A read-only ``str -> int`` map as two sorted numpy arrays (hash keys, values): memory-mapped
    from disk, shared by every process that maps the same file, looked up by binary search."""

    __slots__ = ("keys", "values")

    def __init__(self, keys: np.ndarray, values: np.ndarray):
        self.keys = keys
        self.values = values

    @classmethod
    def build(cls, items: dict[str, int], dtype: Any = np.int64) -> "HashTable":
        keys = hash_all(items)
        vals = np.fromiter(items.values(), dtype=dtype, count=len(items))
        order = np.argsort(keys, kind="stable")
        keys, vals = keys[order], vals[order]
        if len(keys) > 1 and bool((keys[1:] == keys[:-1]).any()):
            raise ValueError("hash collision in an index table")  # rebuild with another key scheme
        return cls(keys, vals)

    def find(self, text: str) -> int:
        """Position of ``text`` in the table, or -1."""
        h = np.uint64(str_hash(text))
        keys = self.keys
        i = int(keys.searchsorted(h))
        return i if i < len(keys) and keys[i] == h else -1

    def get(self, text: str, default: Any = None) -> Any:
        i = self.find(text)
        return default if i < 0 else int(self.values[i])

    def __contains__(self, text: object) -> bool:
        return isinstance(text, str) and self.find(text) >= 0

    def __len__(self) -> int:
        return len(self.keys)


class FreqMap(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...
    def __contains__(self, key: object) -> bool: ...


class Segmenter:
    """jieba's ``Tokenizer.cut_for_search`` (HMM on) over a given dictionary; see the module doc.

    The code follows jieba 0.42 line by line (get_DAG, calc, __cut_DAG, cut, cut_for_search) so
    that an index built with the jieba tokenizer and queried with its stored dictionary segment
    alike (tests/test_search.py compares the two)."""

    def __init__(self, freq: FreqMap, total: int):
        self.freq = freq
        self.total = total
        self.logtotal = log(total)

    def _dag(self, s: str) -> dict[int, list[int]]:
        freq = self.freq
        dag: dict[int, list[int]] = {}
        n = len(s)
        for k in range(n):
            tmp = []
            i = k
            frag = s[k]
            while i < n and frag in freq:
                if freq.get(frag):
                    tmp.append(i)
                i += 1
                frag = s[k:i + 1]
            if not tmp:
                tmp.append(k)
            dag[k] = tmp
        return dag

    def _route(self, s: str, dag: dict[int, list[int]]) -> dict[int, tuple[float, int]]:
        get, logtotal = self.freq.get, self.logtotal
        n = len(s)
        route: dict[int, tuple[float, int]] = {n: (0, 0)}
        for idx in range(n - 1, -1, -1):
            route[idx] = max((log(get(s[idx:x + 1]) or 1) - logtotal + route[x + 1][0], x) for x in dag[idx])
        return route

    def _unknown(self, buf: str) -> Iterator[str]:
        if len(buf) == 1:
            yield buf
        elif not self.freq.get(buf):
            from jieba import (
                finalseg,  # the HMM model only (small); jieba's dictionary is not loaded
            )
            yield from finalseg.cut(buf)
        else:
            yield from buf

    def _cut_dag(self, s: str) -> Iterator[str]:
        route = self._route(s, self._dag(s))
        x, buf, n = 0, "", len(s)
        while x < n:
            y = route[x][1] + 1
            word = s[x:y]
            if y - x == 1:
                buf += word
            else:
                if buf:
                    yield from self._unknown(buf)
                    buf = ""
                yield word
            x = y
        if buf:
            yield from self._unknown(buf)

    def cut(self, sentence: str) -> Iterator[str]:
        for blk in _RE_HAN.split(sentence):
            if not blk:
                continue
            if _RE_HAN.match(blk):
                yield from self._cut_dag(blk)
            else:
                for x in _RE_SKIP.split(blk):
                    if _RE_SKIP.match(x):
                        yield x
                    else:
                        yield from x

    def cut_for_search(self, sentence: str) -> list[str]:
        get = self.freq.get
        out: list[str] = []
        for w in self.cut(sentence):
            if len(w) > 2:
                out += [g for i in range(len(w) - 1) if get(g := w[i:i + 2])]
            if len(w) > 3:
                out += [g for i in range(len(w) - 2) if get(g := w[i:i + 3])]
            out.append(w)
        return out


def is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff"


def cjk_runs(text: str) -> list[str]:
    return _CJK.findall(text)


def bigrams(text: str) -> list[str]:
    """Overlapping character pairs inside each CJK run (what Neo4j's cjk analyzer indexes)."""
    out: list[str] = []
    for run in cjk_runs(text):
        out += [run[i:i + 2] for i in range(len(run) - 1)]
    return out


def unigrams(text: str) -> list[str]:
    return [c for c in text if is_cjk(c)]


def looks_like_pinyin(text: str) -> bool:
    """ASCII letters only (with spaces or apostrophes): the user typed pinyin or initials."""
    return bool(_ASCII_QUERY.match(text.strip()))


def _no_pinyin(s: str) -> list[str]:
    return [c.lower() for c in s]


@lru_cache(maxsize=200_000)
def _word_syllables(word: str) -> tuple[str, ...]:
    """pypinyin's conversion of one of its own segments (what lazy_pinyin does per segment)."""
    from pypinyin import Style
    from pypinyin.core import _default_pinyin
    out: list[str] = []
    for items in _default_pinyin._converter.convert(word, Style.NORMAL, False, _no_pinyin, strict=True):
        out += items
    return tuple(out)


@lru_cache(maxsize=500_000)
def syllables(text: str) -> tuple[str, ...]:
    """One lower-case pinyin syllable per character of ``text``; pypinyin's phrase dictionary
    resolves most polyphones (率 in 满意率 → lv), non-Chinese characters stay as themselves.

    Equal to ``lazy_pinyin(text)``, computed as pypinyin computes it (segment, then convert each
    segment) with each segment's conversion memoised: names share most of their words, so a large
    library's pinyin costs a segmentation per name instead of a full conversion."""
    from pypinyin.core import _default_pinyin
    syl: list[str] = []
    for word in _default_pinyin.seg(text):
        syl += _word_syllables(word)
    if len(syl) != len(text):  # defensive: keep the one-syllable-per-character alignment
        from pypinyin import lazy_pinyin
        syl = [(lazy_pinyin(c, errors=_no_pinyin) or [c])[0] for c in text]
    return tuple(s.lower() for s in syl)


def initials_of(syl: Iterable[str]) -> str:
    return "".join(s[0] if s else "" for s in syl)


@lru_cache(maxsize=1)
def load_synonyms() -> tuple[list[list[str]], dict[str, list[str]]]:
    """(groups of mutual synonyms, colloquial phrase → library terms) from search/data/synonyms.yaml."""
    doc = yaml.safe_load((DATA_DIR / "synonyms.yaml").read_text(encoding="utf-8")) or {}
    groups = [[str(w) for w in g] for g in doc.get("groups") or []]
    colloquial = {str(k): [str(w) for w in v] for k, v in (doc.get("colloquial") or {}).items()}
    return groups, colloquial


@lru_cache(maxsize=1)
def load_stopwords() -> frozenset[str]:
    lines = (DATA_DIR / "stopwords.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(s.strip() for s in lines if s.strip() and not s.startswith("#"))


_BASE: Any = None
_BASE_LOCK = threading.Lock()


def library_dictionary(words: Iterable[str]) -> tuple[dict[str, int], int]:
    """jieba's dictionary plus the library's own terms (``word -> frequency`` with jieba's prefix
    entries, and the frequency total), so that 培训人次 or 危房改造 stay one word instead of being
    cut the generic way. Used while an index is built; the index stores the result.

    jieba's main dictionary is loaded once per building process and copied (loading takes half a
    second, a dict copy milliseconds); the additions follow jieba's ``add_word``."""
    global _BASE
    import jieba
    jieba.setLogLevel(logging.WARNING)
    with _BASE_LOCK:
        if _BASE is None:
            base = jieba.Tokenizer()
            base.initialize()
            _BASE = base
    freq = dict(_BASE.FREQ)
    total = _BASE.total
    for w in sorted(set(words)):
        if 2 <= len(w) <= 20 and " " not in w:
            f = max(1000, 50 * len(w))
            freq[w] = f
            total += f
            for ch in range(len(w)):
                freq.setdefault(w[:ch + 1], 0)
    return freq, total


_NAME_PUNCT = re.compile(r"[\s，,。.;；：:、（）()【】\[\]“”\"'《》]")


def name_key(text: str | None) -> str:
    """A name as lookup tables key it: spaces, punctuation and brackets (《》 included) dropped, so
    "库房建设符合《档案馆建筑设计规范》比例" written with or without its title marks finds the same
    entry. Review fills its tables and looks names up with this one function."""
    return _NAME_PUNCT.sub("", text or "")
