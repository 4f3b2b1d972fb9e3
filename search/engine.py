"""SearchService: the current search index of a store, kept in step with the library version.

Why it is built this way:

* the index is immutable and replaced whole (one attribute assignment, atomic under the GIL), so
  readers never lock and never see a half-built index;
* the store's version is checked at most once per ``check_interval`` (default 1 s): the version is
  the only signal needed to notice a load made by another process or another API replica sharing
  the same Neo4j, and checking it on every request would cost a round trip each time;
* when the version moved, one background thread rebuilds while queries keep using the old index;
  only the very first build (no index yet) makes callers wait;
* a built index is also kept in a small process-wide cache keyed by (store URL, version, last
  load stamp, data files) and, unless ZHIBIAO_SEARCH_CACHE=0, saved under ZHIBIAO_SEARCH_CACHE_DIR
  (default ~/.cache/zhibiao) as a folder of .npy arrays and a JSON manifest (no pickle: a cache
  folder cannot run code). A fresh CLI process or another API replica maps those files instead of
  rebuilding: opening takes milliseconds and the pages are shared between processes. Each store
  keeps its current cache folder and the one before it (a replica still on the previous version);
  older ones are deleted when a new one is written."""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

from graph.settings import setting
from engine.library import BadQuery, Library, NotFound
from graph.store import GraphStore

from .index import FORMAT, RESULT_CACHE, SearchIndex
from .text import DATA_DIR

logger = logging.getLogger("zhibiao.search")
CACHE_FORMAT = 4  # 3 was a pickle; 4 is a folder of .npy arrays (index.FORMAT inside)
KEEP_PER_STORE = 2  # the current cache folder of a store and the previous one
_MEMO: "OrderedDict[tuple, SearchIndex]" = OrderedDict()
_MEMO_LOCK = threading.Lock()
_MEMO_SIZE = 4


def _data_hash() -> str:
    """The data files an index is built from (synonyms, stop words): editing them invalidates caches."""
    h = hashlib.sha1()
    for name in ("synonyms.yaml", "stopwords.txt"):
        try:
            h.update((DATA_DIR / name).read_bytes())
        except OSError:
            pass
    return h.hexdigest()[:12]


def _stamp(store: GraphStore, version: int) -> tuple:
    """What identifies the library content: URL, version and the last load record (a fresh store at
    the same URL with the same version number has a different load time), plus the index format
    and the data files."""
    try:
        hist = store.history()
        last = hist[-1] if hist else None
        tail = (last.at, last.file_hash, last.seq) if last else ("", "", 0)
    except Exception:  # a store without history still gets an in-process index
        tail = ("", "", 0)
    return (CACHE_FORMAT, store.url, version, *tail, FORMAT, _data_hash())


def _cache_base() -> Path | None:
    if not setting("ZHIBIAO_SEARCH_CACHE"):
        return None
    return setting("ZHIBIAO_SEARCH_CACHE_DIR")


def _cache_path(stamp: tuple) -> Path | None:
    base = _cache_base()
    if base is None or not stamp[1]:
        return None
    key = hashlib.sha1(repr(stamp).encode("utf-8")).hexdigest()[:20]
    return base / f"search-{CACHE_FORMAT}-{key}"


def _load(path: Path) -> SearchIndex | None:
    try:
        return SearchIndex.load(path)
    except Exception as e:  # a stale, foreign or damaged cache folder is rebuilt, never trusted blindly
        logger.info("检索索引缓存不可用，重建：%s", e)
        return None


def _save(index: SearchIndex, path: Path, stamp: tuple) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        index._meta["store"] = stamp[1]
        index.save(tmp)
        try:
            os.rename(tmp, path)  # atomic: concurrent processes never read a partial folder
        except OSError:  # another process saved the same index first
            shutil.rmtree(tmp, ignore_errors=True)
        prune(path.parent, stamp[1], keep=path)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        logger.info("检索索引缓存写入失败（不影响检索）：%s", e)


def prune(base: Path, store_url: str, keep: Path) -> list[Path]:
    """Delete the cache folders of ``store_url`` except ``keep`` and the newest previous one, and
    caches of older formats (pickles of format 3). A process that still maps a deleted folder keeps
    reading it: the files live on until it unmaps them."""
    removed: list[Path] = []
    same_store: list[tuple[float, Path]] = []
    for p in base.glob("search-*"):
        if p == keep:
            continue
        if p.is_file() or not p.name.startswith(f"search-{CACHE_FORMAT}-"):
            target = p
        else:
            try:
                url = json.loads((p / "manifest.json").read_text(encoding="utf-8")).get("store")
            except (OSError, ValueError):
                url = None
            if url is not None and url != store_url:
                continue
            same_store.append((p.stat().st_mtime, p))
            continue
        removed.append(target)
    same_store.sort(reverse=True)
    removed += [p for _, p in same_store[KEEP_PER_STORE - 1:]]
    for p in removed:
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
    return removed


def build_index(store: GraphStore) -> SearchIndex:
    """An index for the store's current content, from memory, from disk, or built from a snapshot."""
    stamp = _stamp(store, store.version())
    with _MEMO_LOCK:
        if stamp in _MEMO:
            _MEMO.move_to_end(stamp)
            return _MEMO[stamp]
    path = _cache_path(stamp)
    index = _load(path) if path and path.exists() else None
    if index is None:
        t0 = time.perf_counter()
        version, nodes = store.snapshot()
        index = SearchIndex(version, nodes)
        logger.info("检索索引已建立：版本 %s，%d 个指标，%.1f 秒", version, len(index.docs),
                    time.perf_counter() - t0)
        stamp = _stamp(store, version)
        path = _cache_path(stamp)
        if path:
            _save(index, path, stamp)
    with _MEMO_LOCK:
        # one index per store: an older version of the same store is never needed again
        for old in [k for k in _MEMO if k[1] == stamp[1] and k != stamp]:
            del _MEMO[old]
        _MEMO[stamp] = index
        while len(_MEMO) > _MEMO_SIZE:  # evict the smallest (cheapest to rebuild), never the newest
            victim = min((k for k in _MEMO if k != stamp), key=lambda k: len(_MEMO[k].docs))
            del _MEMO[victim]
    return index


class SearchService:
    """Search, autocomplete, recommendation and similar indicators over the current index."""

    def __init__(self, library: Library | GraphStore, check_interval: float = 1.0):
        self.library = library if isinstance(library, Library) else Library(library)
        self.store = self.library.store
        self.check_interval = check_interval
        self._index: SearchIndex | None = None
        self._checked = 0.0
        self._seen_version: int | None = None
        self._build_lock = threading.Lock()
        self._rebuilding: threading.Thread | None = None
        self._suggester: Any = None
        self._recommender: Any = None
        self._helper_lock = threading.Lock()

    # --- index lifecycle --------------------------------------------------------------------
    def index(self) -> SearchIndex:
        """The current index; never blocks once one exists."""
        idx = self._index
        if idx is None:
            with self._build_lock:
                if self._index is None:
                    self._swap(build_index(self.store))
                return self._index  # type: ignore[return-value]
        now = time.monotonic()
        if now - self._checked >= self.check_interval:
            self._checked = now
            try:
                version = self.store.version()
            except Exception:  # store briefly unreachable: keep serving what we have
                return idx
            if version != idx.version and (self._rebuilding is None or not self._rebuilding.is_alive()):
                self._rebuilding = threading.Thread(target=self._rebuild, name="search-index-rebuild",
                                                    daemon=True)
                self._rebuilding.start()
        return idx

    def _swap(self, idx: SearchIndex) -> None:
        self._index = idx
        self._checked = time.monotonic()

    def prepare(self) -> None:
        """Build the index and its helpers now (a server warms up in the background)."""
        idx = self.index()
        self._suggester_for(idx)
        self._recommender_for(idx)

    def _suggester_for(self, idx: SearchIndex) -> Any:
        """Autocomplete tables are built on first use for each index (their pinyin of every name
        takes seconds), so a plain search never pays for them."""
        from .suggest import Suggester
        helper = self._suggester
        if helper is None or helper.index is not idx:
            with self._helper_lock:
                helper = self._suggester
                if helper is None or helper.index is not idx:
                    helper = self._suggester = Suggester(idx)
        return helper

    def _recommender_for(self, idx: SearchIndex) -> Any:
        from .recommend import Recommender
        helper = self._recommender
        if helper is None or helper.index is not idx:
            with self._helper_lock:
                helper = self._recommender
                if helper is None or helper.index is not idx:
                    helper = self._recommender = Recommender(idx, self.library)
        return helper

    def _rebuild(self) -> None:
        try:
            idx = build_index(self.store)
            with self._build_lock:
                if self._index is None or idx.version != self._index.version:
                    self._swap(idx)
        except Exception:
            logger.exception("检索索引重建失败，继续使用旧索引")

    def refresh(self, wait: bool = True) -> SearchIndex:
        """Check the version now (tests, after a load in this process); optionally wait for it."""
        self._checked = 0.0
        idx = self.index()
        t = self._rebuilding
        if wait and t is not None:
            t.join()
        return self._index or idx

    # --- queries ------------------------------------------------------------------------------
    def search(self, q: str, sector: str | None = None, field: str | None = None,
               project_type: str | None = None, category: str | None = None,
               value_kind: str | None = None, limit: int = 10, offset: int = 0,
               group: bool = True) -> dict[str, Any]:
        """One page of hits; by default indicators sharing a name are one hit with ``variants``
        (see SearchIndex.search)."""
        if not 1 <= limit <= 100:
            raise BadQuery("bad_limit", f"limit 须在 1 到 100 之间（收到 {limit}）")
        if not 0 <= offset <= 10000:
            raise BadQuery("bad_offset", f"offset 须在 0 到 10000 之间（收到 {offset}）")
        idx = self.index()
        filters = idx.filter_ids(sector, field, project_type, category, value_kind)
        return idx.search(q, filters, limit=limit, offset=offset, group=group)

    def search_json(self, q: str, **kw: Any) -> bytes:
        """``search`` as the UTF-8 JSON body the API sends, memoised per index like the results
        themselves: a repeated query costs a dict lookup, not a re-encoding of hits and facets."""
        idx = self.index()
        key = (q, tuple(sorted(kw.items())))
        memo = idx.__dict__.setdefault("_json", {})
        body = memo.get(key) if RESULT_CACHE > 0 else None
        if body is None:
            body = json.dumps(self.search(q, **kw), ensure_ascii=False, allow_nan=False,
                              separators=(",", ":")).encode("utf-8")
            if RESULT_CACHE > 0:
                if len(memo) >= RESULT_CACHE:
                    try:  # FIFO eviction; another thread may be evicting at the same moment
                        memo.pop(next(iter(memo)))
                    except (KeyError, RuntimeError, StopIteration):
                        pass
                memo[key] = body
        return body

    def suggest(self, q: str, limit: int = 10) -> dict[str, Any]:
        return self._suggester_for(self.index()).suggest(q, limit)

    def recommend(self, project: str, description: str = "", sector: str | None = None,
                  project_type: str | None = None, amount: float | None = None,
                  period: str | None = None, region: str | None = None,
                  unit: str | None = None) -> dict[str, Any]:
        """``region`` keeps place-bound project types (边境小康村建设 for border counties) where they apply;
        ``unit`` lets the unit's own approved tables price its unit costs."""
        return self._recommender_for(self.index()).recommend(project, description, sector, project_type, amount,
                                                             period, region=region, unit=unit)

    def similar(self, indicator_id: str, limit: int = 10) -> dict[str, Any]:
        idx = self.index()
        if indicator_id not in idx.by_id:
            raise NotFound(f"指标 {indicator_id} 不存在（或已停用）")
        return self._recommender_for(idx).similar(indicator_id, limit)


_SERVICE_LOCK = threading.Lock()


def service_for(state: Any, library: Library) -> "SearchService":
    """The one SearchService kept on an app's ``state``, bound to ``library`` (re-created when the
    library object changes). The API routes, the web pages and the start-up warm-up share it, under
    one lock, so the index is built once per app."""
    svc = getattr(state, "search_service", None)
    if svc is None or svc.library is not library:
        with _SERVICE_LOCK:
            svc = getattr(state, "search_service", None)
            if svc is None or svc.library is not library:
                svc = SearchService(library)
                state.search_service = svc
    return svc
