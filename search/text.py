"""Text helpers shared by the index, autocomplete and recommendation: segmentation with a library
dictionary, character n-grams, pinyin aligned to characters, and the data files (synonyms, stop
words) that maintainers edit.

Why a private jieba Tokenizer per index: the user dictionary is built from one library version's
names and synonyms; a global tokenizer would mix words from versions and from other users of jieba."""
from __future__ import annotations

import logging
import re
import threading
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import jieba
import yaml
from pypinyin import lazy_pinyin

jieba.setLogLevel(logging.WARNING)

DATA_DIR = Path(__file__).resolve().parent / "data"
_CJK = re.compile(r"[\u3400-\u9fff]+")
_ASCII_QUERY = re.compile(r"^[A-Za-z][A-Za-z'\s]*$")


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


@lru_cache(maxsize=500_000)
def syllables(text: str) -> tuple[str, ...]:
    """One lower-case pinyin syllable per character of ``text``; pypinyin's phrase dictionary
    resolves most polyphones (率 in 满意率 → lv), non-Chinese characters stay as themselves."""
    syl = lazy_pinyin(text, errors=lambda s: [c.lower() for c in s])
    if len(syl) != len(text):  # defensive: keep the one-syllable-per-character alignment
        syl = [(lazy_pinyin(c, errors=lambda s: [x.lower() for x in s]) or [c])[0] for c in text]
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


_BASE: "jieba.Tokenizer | None" = None
_BASE_LOCK = threading.Lock()


def new_tokenizer(words: Iterable[str]) -> "jieba.Tokenizer":
    """A jieba tokenizer whose dictionary also holds the library's own terms, so that 培训人次 or
    危房改造 stay one word instead of being cut the generic way.

    jieba's main dictionary is loaded once per process and copied (loading it takes seconds, a
    dict copy milliseconds), so rebuilding the index for a new library version stays cheap."""
    global _BASE
    with _BASE_LOCK:
        if _BASE is None:
            base = jieba.Tokenizer()
            base.initialize()
            _BASE = base
    tk = jieba.Tokenizer()
    tk.FREQ = dict(_BASE.FREQ)
    tk.total = _BASE.total
    tk.initialized = True
    for w in sorted(set(words)):
        if 2 <= len(w) <= 20 and " " not in w:
            tk.add_word(w, freq=max(1000, 50 * len(w)))
    return tk
