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

import gc
import hashlib
import logging
import multiprocessing
import os
import re
import threading
from contextlib import contextmanager
from functools import lru_cache
from math import log
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Protocol

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
    """``str_hash`` of every text as a uint64 array. The 8-byte digests are joined and read as
    little-endian integers in one step (the same numbers as ``str_hash``), which takes half the
    time of making a Python int per text: a million-indicator index hashes about 12 million keys."""
    blake, enc = hashlib.blake2b, str.encode
    digests = b"".join([blake(enc(t), digest_size=8).digest() for t in texts])
    return np.frombuffer(digests, dtype="<u8").astype(np.uint64)


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
        return cls.from_hashes(keys, vals)

    @classmethod
    def from_hashes(cls, keys: np.ndarray, vals: np.ndarray) -> "HashTable":
        """The table of keys already hashed with ``str_hash`` (by ``hash_all``, possibly in worker
        processes): a large index hashes its millions of terms in parallel. Keys are distinct
        (else the table is refused), so any sort gives the stable order."""
        order = np.argsort(keys)
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

    def __init__(self, freq: FreqMap, total: int, memo: int = 0):
        """``memo``: how many blocks' routes to remember for reuse as suffixes of later blocks
        (0: none, as at query time; an index build remembers the last tens of thousands)."""
        self.freq = freq
        self.total = total
        self.logtotal = log(total)
        self._memo: dict[str, tuple[list[float], list[int]]] | None = {} if memo else None
        self._memo_max = memo

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

    def _ends(self, s: str) -> list[int]:
        """For each position, the end (inclusive) of the word jieba's route takes from there: the
        same as ``_route(s, _dag(s))`` in one backward pass without the DAG dict, the tuples and
        the generator (twice as fast; a million-indicator build segments 1.4 million texts).

        Same arithmetic in the same order (``log(f) - logtotal + next``), same tie-break as
        ``max`` over (probability, end) tuples (the larger end wins), so the same words; a
        word frequency is found with one ``get`` (None: not even a prefix, 0: a prefix only).

        With a memo: the route from a position depends only on the text from there on (the
        dynamic programme runs backwards over suffixes), so when a remembered block is a suffix
        of this one (县域 + 学生满意度 after 学生满意度) its probabilities and ends are taken over
        and only the positions before it are computed: the same numbers, computed once."""
        memo = self._memo
        n = len(s)
        start = n  # positions from here on are known
        prob = [0.0] * (n + 1)
        ends = [0] * n
        if memo is not None:
            for j in range(n):
                known = memo.get(s[j:] if j else s)
                if known is not None:
                    if not j:
                        return known[1]
                    prob[j:] = known[0]
                    ends[j:] = [j + e for e in known[1]]
                    start = j
                    break
        get, logtotal = self.freq.get, self.logtotal
        for k in range(start - 1, -1, -1):
            best: float | None = None
            end = k
            i = k
            frag = s[k]
            while True:
                f = get(frag)
                if f is None:
                    break
                if f:
                    p = log(f) - logtotal + prob[i + 1]
                    if best is None or p >= best:
                        best, end = p, i
                i += 1
                if i >= n:
                    break
                frag = s[k:i + 1]
            if best is None:  # no word starts here: the single character (jieba's DAG fallback)
                best = log(get(s[k]) or 1) - logtotal + prob[k + 1]
            prob[k] = best
            ends[k] = end
        if memo is not None:
            if len(memo) >= self._memo_max:
                memo.clear()
            memo[s] = (prob, ends)
        return ends

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
        ends = self._ends(s)
        x, buf, n = 0, "", len(s)
        while x < n:
            y = ends[x] + 1
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
    """pypinyin's conversion of one of its own segments (what lazy_pinyin does per segment),
    lower-cased."""
    from pypinyin import Style
    from pypinyin.core import _default_pinyin
    out: list[str] = []
    for items in _default_pinyin._converter.convert(word, Style.NORMAL, False, _no_pinyin, strict=True):
        out += items
    return tuple(s.lower() for s in out)


# sha256 (first 16 hex digits) of the pypinyin functions _pinyin_syllables reproduces, as in
# pypinyin 0.55: another version's segmentation is called as it is, never assumed to be the same
_PYPINYIN_SEG_SOURCE = "dbac91a45c0a2de7"


@lru_cache(maxsize=1)
def _fast_pinyin() -> tuple[Any, dict, set] | None:
    """pypinyin's Chinese-run pattern, phrase dictionary and phrase prefix set when the installed
    pypinyin's segmentation is the code ``_pinyin_syllables`` copies; None otherwise (then
    pypinyin's own ``Pinyin.seg`` is called)."""
    import inspect

    from pypinyin.constants import RE_HANS
    from pypinyin.core import Pinyin, _default_pinyin
    from pypinyin.seg import mmseg, simpleseg
    try:
        src = "".join(inspect.getsource(f) for f in (
            Pinyin.seg, Pinyin.pre_seg, Pinyin.post_seg, Pinyin.get_seg, simpleseg.seg, simpleseg.simple_seg,
            simpleseg._seg, mmseg.Seg.cut, mmseg.PrefixSet.__contains__))
        same = (hashlib.sha256(src.encode("utf-8")).hexdigest()[:16] == _PYPINYIN_SEG_SOURCE
                and type(_default_pinyin) is Pinyin and _default_pinyin.get_seg() is simpleseg.seg
                and type(mmseg.seg) is mmseg.Seg and type(mmseg.seg._prefix_set) is mmseg.PrefixSet
                and mmseg.seg._no_non_phrases is True and simpleseg.mmseg is mmseg
                and simpleseg.PHRASES_DICT is mmseg.PHRASES_DICT and simpleseg.RE_HANS is RE_HANS)
    except (OSError, TypeError, AttributeError):
        same = False
    return (RE_HANS, mmseg.PHRASES_DICT, mmseg.seg._prefix_set._set) if same else None


_HAN_CHAR: dict[str, bool] = {}


def _pinyin_syllables(text: str, memo: dict[str, tuple[str, ...]] | None = None, memo_max: int = 0) -> list[str]:
    """The syllables of pypinyin's segments of ``text``, its segmentation (``Pinyin.seg``:
    simpleseg.seg, i.e. runs of Chinese and other characters, then mmseg's forward maximum
    matching over phrases in strict mode) done step by step without its generator and the
    method call per prefix lookup. It reads pypinyin's own phrase dictionary and prefix set,
    so phrases added through pypinyin.load_phrases_dict count here too.

    With a ``memo`` (an index build): forward maximum matching carries nothing from one word to
    the next but the position, so the syllables of a run from a word boundary on are those of
    that remainder taken alone; a remainder that is a remembered run (学生满意度 in
    县域学生满意度, met just before when texts come sorted by their ends) is taken over."""
    fast = _fast_pinyin()
    if fast is None:
        from pypinyin.core import _default_pinyin
        out: list[str] = []
        for word in _default_pinyin.seg(text):
            out += _word_syllables(word)
        return out
    hans, phrases, prefixes = fast
    # simpleseg._seg: maximal runs of characters of one kind ([""] for an empty text)
    if hans.fullmatch(text):
        runs = [text]
    else:
        runs = []
        run, han_run = "", False
        for c in text:
            han = _HAN_CHAR.get(c)
            if han is None:
                han = _HAN_CHAR[c] = hans.match(c) is not None
            if run and han != han_run:
                runs.append(run)
                run = ""
            run += c
            han_run = han
        runs.append(run)
    syl: list[str] = []
    for x in runs:
        if not hans.match(x) or not phrases:  # simpleseg.seg: only Chinese runs are cut
            syl += _word_syllables(x)
            continue
        known = memo.get(x) if memo is not None else None
        if known is not None:
            syl += known
            continue
        got: list[str] = []
        # mmseg.Seg.cut with no_non_phrases=True; ``st`` is where its ``remain`` starts
        st, n = 0, len(x)
        while st < n:
            if st and memo is not None:
                known = memo.get(x[st:])
                if known is not None:
                    got += known
                    break
            valid = 0  # end of the longest phrase from st (its last_valid_index)
            for e in range(st + 1, n + 1):
                word = x[st:e]
                if word in prefixes:
                    if word in phrases:
                        valid = e
                else:
                    if valid:
                        got += _word_syllables(x[st:valid])
                        st = valid
                    else:
                        got += _word_syllables(x[st])
                        st += 1
                    break
            else:
                if valid:
                    got += _word_syllables(x[st:valid])
                    st = valid
                else:
                    rest = x[st:]
                    if rest not in phrases:
                        for c in rest:
                            got += _word_syllables(c)
                    else:
                        got += _word_syllables(rest)
                    break
        if memo is not None:
            if len(memo) >= memo_max:
                memo.clear()
            memo[x] = tuple(got)
        syl += got
    return syl


@lru_cache(maxsize=500_000)
def syllables(text: str) -> tuple[str, ...]:
    """One lower-case pinyin syllable per character of ``text``; pypinyin's phrase dictionary
    resolves most polyphones (率 in 满意率 → lv), non-Chinese characters stay as themselves.

    Equal to ``lazy_pinyin(text)``, computed as pypinyin computes it (segment, then convert each
    segment) with each segment's conversion memoised: names share most of their words, so a large
    library's pinyin costs a segmentation per name instead of a full conversion."""
    return _aligned(text, _pinyin_syllables(text))


def _aligned(text: str, syl: list[str]) -> tuple[str, ...]:
    if len(syl) != len(text):  # defensive: keep the one-syllable-per-character alignment
        from pypinyin import lazy_pinyin
        return tuple((lazy_pinyin(c, errors=_no_pinyin) or [c])[0].lower() for c in text)
    return tuple(syl)


class PinyinMemo:
    """``syllables`` for an index build: many texts, each once, sharing their endings (name
    variants); remembers the last ``size`` runs for reuse as remainders of later ones (see
    ``_pinyin_syllables``) instead of memoising whole texts."""

    def __init__(self, size: int = 50_000):
        self._memo: dict[str, tuple[str, ...]] = {}
        self._size = size

    def __call__(self, text: str) -> tuple[str, ...]:
        return _aligned(text, _pinyin_syllables(text, self._memo, self._size))


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
_BASE_CLOSED = False  # every prefix of a word of jieba's dictionary is in it
_BASE_LOCK = threading.Lock()


def library_dictionary(words: Iterable[str]) -> tuple[dict[str, int], int]:
    """jieba's dictionary plus the library's own terms (``word -> frequency`` with jieba's prefix
    entries, and the frequency total), so that 培训人次 or 危房改造 stay one word instead of being
    cut the generic way. Used while an index is built; the index stores the result.

    jieba's main dictionary is loaded once per building process and copied (loading takes half a
    second, a dict copy milliseconds); the additions follow jieba's ``add_word``: the word with
    its frequency, then each of its prefixes with 0 unless already there. The prefixes are added
    longest first and stop at the first one already present: jieba's dictionary holds every prefix
    of its words, and so does every addition, so all shorter ones are there too (same entries as
    adding each prefix, and a million library names share most of their prefixes)."""
    global _BASE, _BASE_CLOSED
    import jieba
    jieba.setLogLevel(logging.WARNING)
    with _BASE_LOCK:
        if _BASE is None:
            base = jieba.Tokenizer()
            base.initialize()
            # the early stop below relies on it; checked once per process, not assumed
            _BASE_CLOSED = all(len(w) == 1 or w[:-1] in base.FREQ for w in base.FREQ)
            _BASE = base
    freq = dict(_BASE.FREQ)
    total = _BASE.total
    closed = _BASE_CLOSED
    for w in set(words):  # the result does not depend on the order (sorting a million names costs 1.5 s)
        if 2 <= len(w) <= 20 and " " not in w:
            f = max(1000, 50 * len(w))
            freq[w] = f
            total += f
            if closed:
                for ch in range(len(w) - 1, 0, -1):
                    p = w[:ch]
                    if p in freq:
                        break
                    freq[p] = 0
            else:
                for ch in range(len(w)):
                    freq.setdefault(w[:ch + 1], 0)
    return freq, total


# --- building with worker processes ----------------------------------------------------------------
# Below this many distinct texts an index is built in the calling process: forking workers and
# shipping results back costs a few tenths of a second, more than two cores save on the bundled
# library (about 14,000 texts, 3 s to build). Above it (a generated or merged library of 100,000
# or a million indicators) segmentation and pinyin of the texts and the hashing of millions of
# table keys are spread over os.cpu_count() workers.
PARALLEL_MIN_TEXTS = 40_000

_JOB: dict[str, Any] = {}       # what forked workers read (inherited at fork, never pickled)
_POOL_LOCK = threading.Lock()   # one build at a time sets _JOB and forks


def build_workers(n_texts: int) -> int:
    """Worker processes for a build over ``n_texts`` distinct texts: 0 (work in this process) for
    a small library, on a one-core machine or where fork is not available (the workers inherit the
    segmentation dictionary, millions of entries, instead of receiving it pickled)."""
    cpus = os.cpu_count() or 1
    if n_texts < PARALLEL_MIN_TEXTS or cpus < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return 0
    return cpus


def worker_job() -> dict[str, Any]:
    """In a worker: the inputs of the build that forked it (texts, segmenter, key lists)."""
    return _JOB


@contextmanager
def forked_pool(workers: int, job: dict[str, Any]) -> Iterator[Any]:
    """A pool of ``workers`` forked processes that see ``job`` through ``worker_job()``, or None
    when ``workers`` is 0 (the caller then runs the same functions in process).

    Why fork: the inputs (a segmentation dictionary of millions of entries, a million texts) are
    inherited copy-on-write instead of pickled. Everything a worker runs is pure Python over those
    inputs; modules it needs are imported here first, so no worker imports while another thread
    of the parent (a server rebuilding in the background) might hold the import lock. The
    parent's objects are frozen out of the garbage collector while the pool lives (the workers'
    collections would otherwise touch, and copy, every page of the parent's heap, and the
    parent's would walk millions of objects the build never frees), and the workers do not
    collect at all (they make no cycles; their memos of routes would otherwise be traversed again
    and again, which costs as much as the memos save)."""
    if not workers:
        yield None
        return
    global _JOB
    from jieba import finalseg  # noqa: F401  (segmentation of unknown runs)
    from pypinyin.core import _default_pinyin  # noqa: F401
    with _POOL_LOCK:
        _JOB = job
        gc.freeze()
        try:
            pool = multiprocessing.get_context("fork").Pool(workers, initializer=gc.disable)
        except BaseException:
            gc.unfreeze()
            raise
        finally:
            _JOB = {}
    try:
        yield pool
    finally:
        pool.terminate()
        pool.join()
        gc.unfreeze()


def run_jobs(pool: Any, job: dict[str, Any], fn: Callable[..., Any], args: list[tuple]) -> Iterator[Any]:
    """``fn(job, *a)`` for each ``a`` of ``args``, in order: in the pool's workers when there is a
    pool (each reads the ``job`` it inherited; results stream back as they are ready), else in
    this process with ``job`` itself."""
    if pool is None:
        return (fn(job, *a) for a in args)
    return pool.imap(_star, [(fn, a) for a in args])


def _star(call: tuple[Callable[..., Any], tuple]) -> Any:
    fn, a = call
    return fn(worker_job(), *a)


def hash_job(job: dict[str, Any], key: str | list[str], lo: int, hi: int) -> bytes:
    """The ``str_hash`` digests (8 bytes each) of ``job[key][lo:hi]``, or of ``key[lo:hi]`` when
    ``key`` is the list itself (sent pickled: made after the fork)."""
    texts = (job[key] if isinstance(key, str) else key)[lo:hi]
    blake, enc = hashlib.blake2b, str.encode
    return b"".join([blake(enc(t), digest_size=8).digest() for t in texts])


def hash_spread(pool: Any, job: dict[str, Any], texts: list[str], key: str | None = None,
                step: int = 250_000) -> Iterator[bytes]:
    """``hash_all`` of ``texts`` as digests, in slices over the pool's workers: each reads its
    slice of the inherited ``job[key]`` when the list existed at the fork, else receives it
    pickled. Read the joined result with ``digests_to_hashes``."""
    if pool is None:
        return iter([hash_job(job, texts, 0, len(texts))])
    n = len(texts)
    if key is None:
        args = [(texts[lo:lo + step], 0, step) for lo in range(0, n, step)]
    else:
        args = [(key, lo, min(n, lo + step)) for lo in range(0, n, step)]
    return run_jobs(pool, job, hash_job, args)


def digests_to_hashes(parts: Iterable[bytes]) -> np.ndarray:
    """The uint64 keys of joined 8-byte digests (what ``hash_all`` returns)."""
    return np.frombuffer(b"".join(parts), dtype="<u8").astype(np.uint64)


_NAME_PUNCT = re.compile(r"[\s，,。.;；：:、（）()【】\[\]“”\"'《》]")


def name_key(text: str | None) -> str:
    """A name as lookup tables key it: spaces, punctuation and brackets (《》 included) dropped, so
    "库房建设符合《档案馆建筑设计规范》比例" written with or without its title marks finds the same
    entry. Review fills its tables and looks names up with this one function."""
    return _NAME_PUNCT.sub("", text or "")
